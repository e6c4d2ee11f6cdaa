'use strict';
// db.js — connections and calls for the hostile harness. Every call comes
// back as an outcome instead of throwing: {ok, rows, ms} or {ok: false,
// code, message, ms, lost} where `lost` means the connection died (a
// crashed backend takes every connection with it).
const { Client } = require('pg');
const fs = require('fs');

async function connect(database, extra = {}) {
  const c = new Client({ database, ...extra });
  // a dead backend must not throw from an event handler
  c.on('error', () => {});
  await c.connect();
  return c;
}

async function call(client, text, values = [], opts = {}) {
  const t0 = process.hrtime.bigint();
  try {
    const r = await client.query({ text, values, rowMode: opts.rowMode });
    return { ok: true, rows: r.rows, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  } catch (e) {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const lost = e.code === undefined;
    return { ok: false, code: e.code || 'LOST', message: e.message, ms, lost };
  }
}

// Is the server up and accepting new connections? (a fresh connection each time)
async function serverUp(database) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const c = await connect(database);
      const r = await c.query('SELECT 1 AS one');
      await c.end();
      if (r.rows[0].one === 1) return true;
    } catch {
      await new Promise((res) => setTimeout(res, 500));
    }
  }
  return false;
}

// Lines of the server log that mean a backend died, from byte `from` on.
function logCrashes(from = 0) {
  const path = process.env.DOZOR_PG_LOG;
  if (!path || !fs.existsSync(path)) return { checked: false, lines: [], size: 0 };
  const buf = fs.readFileSync(path);
  const text = buf.subarray(Math.min(from, buf.length)).toString('utf8');
  const bad = /terminated by signal|was terminated|PANIC|TRAP:|exited with exit code|server closed the connection unexpectedly|all server processes terminated/;
  return { checked: true, lines: text.split('\n').filter((l) => bad.test(l)), size: buf.length };
}

function logSize() {
  const path = process.env.DOZOR_PG_LOG;
  try { return fs.statSync(path).size; } catch { return 0; }
}

module.exports = { connect, call, serverUp, logCrashes, logSize };
