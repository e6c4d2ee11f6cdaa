#!/usr/bin/env node
// Ingest a generated session through dozor_ingest exactly as the SDK sends it:
// each body file's gzip bytes as a binary bytea parameter, content encoding
// 'gzip', one call per request body, in arrival order.
//
//   node bench/ingest.js --dir DIR (--key dp_... | --project NAME) [--json]
//
// Connects with the PG* environment. Prints the session's internal id, the
// number of calls and the wall time (client side, one connection).
'use strict';
const fs = require('fs');
const path = require('path');
const { Client } = require('pg');

async function createProject(client, name) {
  const r = await client.query('SELECT project_id, api_key FROM dozor_create_project($1)', [name]);
  return r.rows[0];
}

// Ingest every body file of `dir` with `key` on `client`; returns a summary.
async function ingestDir(client, dir, key) {
  const files = fs.readdirSync(dir).filter((f) => /^batch-\d+\.json\.gz$/.test(f)).sort();
  let sessionId = null, bytes = 0;
  const t0 = process.hrtime.bigint();
  for (const f of files) {
    const body = fs.readFileSync(path.join(dir, f));
    bytes += body.length;
    // node-postgres sends a Buffer as a binary-format parameter
    const r = await client.query({ name: 'bench_ingest', text: 'SELECT dozor_ingest($1, $2, $3) AS id', values: [key, body, 'gzip'] });
    const id = r.rows[0].id;
    if (sessionId !== null && id !== sessionId) throw new Error(`${f}: session id changed from ${sessionId} to ${id}`);
    sessionId = id;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { session_id: sessionId, calls: files.length, gz_bytes: bytes, ms };
}

async function main() {
  const args = process.argv.slice(2);
  const opt = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--dir') opt.dir = args[++i];
    else if (args[i] === '--key') opt.key = args[++i];
    else if (args[i] === '--project') opt.project = args[++i];
    else if (args[i] === '--json') opt.json = true;
    else { console.error('unknown argument ' + args[i]); process.exit(2); }
  }
  if (!opt.dir || (!opt.key && !opt.project)) { console.error('usage: ingest.js --dir DIR (--key KEY | --project NAME) [--json]'); process.exit(2); }
  const client = new Client();
  await client.connect();
  if (!opt.key) opt.key = (await createProject(client, opt.project)).api_key;
  const r = await ingestDir(client, opt.dir, opt.key);
  await client.end();
  if (opt.json) console.log(JSON.stringify(r));
  else console.log(`session ${r.session_id}: ${r.calls} calls, ${(r.gz_bytes / 1e6).toFixed(1)} MB gzip in ${(r.ms / 1000).toFixed(2)} s`);
}

module.exports = { createProject, ingestDir };
if (require.main === module) main().catch((e) => { console.error(e.message || e); process.exit(1); });
