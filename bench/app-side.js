#!/usr/bin/env node
// The app-side baseline: what the dashboard does today, in Node 20.
//
//   node bench/app-side.js --session ID [--runs N] [--json]   # batches from the database (PG* env)
//   node bench/app-side.js --dir DIR    [--runs N] [--json]   # gen-session.js body files
//   node bench/app-side.js --session ID --serve   # one run per "run" line on stdin,
//                                                 # one JSON line of timings per run
//
// Per run:
//   fetch    SELECT data FROM dozor.event_batches WHERE session_id=$1
//            ORDER BY first_timestamp, id  (+ the session's url and ended_at)
//   history  gunzip every batch (zlib.gunzipSync), JSON.parse, concatenate,
//            stable sort by timestamp, history feed (docs/HISTORY.md §2/§3,
//            idle compression on, as dozor_history's defaults)
//   events   separately, from the same fetched bytes: gunzip + parse + concat
//            + sort + JSON.stringify of the whole stream (what dozor_events
//            returns as one JSON array)
// Reported: median/min/max of each phase, of history and events without the
// fetch, and of fetch + history (the full dashboard pipeline).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const feeds = require('./feeds');

const now = () => Number(process.hrtime.bigint()) / 1e6;

function stats(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: m, min: s[0], max: s[s.length - 1], runs: xs.length };
}

// -------- sources: each returns { buffers: [Buffer gzip of an events array | body], isBody, session }
async function fetchDb(client, sessionId) {
  const q = await client.query({ text: 'SELECT data FROM dozor.event_batches WHERE session_id = $1 ORDER BY first_timestamp, id', values: [sessionId], name: 'appside_fetch' });
  const s = await client.query({ text: 'SELECT url, (extract(epoch FROM ended_at) * 1000)::float8 AS ended_ms FROM dozor.sessions WHERE id = $1', values: [sessionId], name: 'appside_session' });
  const row = s.rows[0] || {};
  return { buffers: q.rows.map((r) => r.data), isBody: false, session: { url: row.url == null ? null : row.url, endedAt: row.ended_ms == null ? null : Math.round(row.ended_ms) } };
}
function fetchDir(dir) {
  const files = fs.readdirSync(dir).filter((f) => /^batch-\d+\.json\.gz$/.test(f)).sort();
  const buffers = files.map((f) => fs.readFileSync(path.join(dir, f)));
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return { buffers, isBody: true, session: { url: m.metadata_url, endedAt: null } };
}

// gunzip + JSON.parse every batch, concatenate in storage order
function decode(src) {
  let arrays = src.buffers.map((b) => {
    const v = JSON.parse(zlib.gunzipSync(b).toString('utf8'));
    return src.isBody ? v.events : v;
  });
  if (src.isBody) {
    // files are in arrival order; the database orders by first timestamp
    const firstTs = (a) => a.reduce((m, e) => Math.min(m, e.timestamp), Infinity);
    arrays = arrays.map((a, i) => ({ a, k: firstTs(a), i })).sort((x, y) => x.k - y.k || x.i - y.i).map((x) => x.a);
  }
  const out = [];
  for (const a of arrays) for (const e of a) out.push(e);
  return out;
}

function historyPipeline(src, t) {
  const t0 = now();
  const events = decode(src);
  const t1 = now();
  feeds.sortStream(events);
  const t2 = now();
  const rows = feeds.historyFeed(events, { initialUrl: src.session.url, sessionEndedAt: src.session.endedAt });
  const t3 = now();
  t.decode.push(t1 - t0); t.sort.push(t2 - t1); t.feed.push(t3 - t2); t.history.push(t3 - t0);
  return rows;
}
function eventsPipeline(src, t) {
  const t0 = now();
  const events = decode(src);
  feeds.sortStream(events);
  const t1 = now();
  const text = JSON.stringify(events);
  const t2 = now();
  t.stringify.push(t2 - t1); t.events.push(t2 - t0);
  return text.length;
}

async function main() {
  const args = process.argv.slice(2);
  const opt = { runs: 5, json: false };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--session') opt.session = args[++i];
    else if (args[i] === '--dir') opt.dir = args[++i];
    else if (args[i] === '--runs') opt.runs = parseInt(args[++i], 10);
    else if (args[i] === '--json') opt.json = true;
    else if (args[i] === '--serve') opt.serve = true;
    else { console.error('unknown argument ' + args[i]); process.exit(2); }
  }
  if (!opt.session && !opt.dir) { console.error('usage: app-side.js (--session ID | --dir DIR) [--runs N] [--json]'); process.exit(2); }
  let client = null;
  if (opt.session) {
    const { Client, types } = require('pg');
    client = new Client();
    await client.connect();
  }
  const t = { fetch: [], decode: [], sort: [], feed: [], history: [], stringify: [], events: [], fetch_history: [] };
  let rows = null, len = 0, nBatches = 0;
  async function once() {
    if (global.gc) global.gc();
    const tf = now();
    const src = opt.session ? await fetchDb(client, opt.session) : fetchDir(opt.dir);
    const fetchMs = now() - tf;
    nBatches = src.buffers.length;
    const th = { decode: [], sort: [], feed: [], history: [] };
    rows = historyPipeline(src, th);
    if (global.gc) global.gc();
    const te = { stringify: [], events: [] };
    len = eventsPipeline(src, te);
    const one = { fetch: fetchMs, fetch_history: fetchMs + th.history[0], batches: nBatches, history_rows: rows.length, stream_chars: len };
    for (const k of Object.keys(th)) one[k] = th[k][0];
    for (const k of Object.keys(te)) one[k] = te[k][0];
    return one;
  }
  if (opt.serve) {
    const rl = require('readline').createInterface({ input: process.stdin });
    process.stdout.write(JSON.stringify({ ready: true }) + '\n');
    for await (const line of rl) {
      if (line.trim() === 'quit') break;
      process.stdout.write(JSON.stringify(line.trim() === 'run' ? await once() : { error: 'unknown command' }) + '\n');
    }
    if (client) await client.end();
    return;
  }
  for (let r = 0; r <= opt.runs; r++) {          // run 0 warms up and is not counted
    const one = await once();
    if (r === 0) continue;
    for (const k of Object.keys(t)) t[k].push(one[k]);
  }
  if (client) await client.end();
  const out = { batches: nBatches, history_rows: rows.length, stream_chars: len };
  for (const k of Object.keys(t)) out[k] = stats(t[k]);
  if (opt.json) process.stdout.write(JSON.stringify(out) + '\n');
  else {
    console.log(`${nBatches} batches, ${rows.length} history rows, merged stream ${(len / 1e6).toFixed(1)} M chars`);
    for (const k of Object.keys(t)) console.log(`${k.padEnd(14)} median ${out[k].median.toFixed(1).padStart(8)} ms  min ${out[k].min.toFixed(1).padStart(8)}  max ${out[k].max.toFixed(1).padStart(8)}`);
  }
}

module.exports = { decode, fetchDb, stats };
if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
