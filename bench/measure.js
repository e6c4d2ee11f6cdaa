#!/usr/bin/env node
// The benchmark driver (run by bench/inner.sh inside a throwaway cluster).
//
//   node bench/measure.js --sizes 10k,100k[,1m] [--data bench/data] [--out bench/results]
//
// For every size: ingest the generated session through dozor_ingest, check
// dozor's feeds against the independent JavaScript implementation
// (feeds.js), then time every method several times (median/min/max):
// dozor_history, dozor_markers, dozor_to_compressed, dozor_console,
// dozor_events (server side, and fetched by the client), the app-side
// pipelines (app-side.js --serve, a helper process), raw inflate with zlib
// and libdeflate (build/inflate --serve) over the same stored bytes. The
// runs are interleaved in rounds (every method once per round, the slow ones
// in evenly spread rounds), so a change in the machine's load during the run
// hits both sides of every ratio alike. Then the peak memory of a fresh
// backend that runs just one function. Then the ingest figures: one
// 500-event batch (server-side time per call, in chunks of 10 calls
// alternating with 10 passes of the compressors over the same bytes), and a
// pgbench throughput run. Prints one
// table per size and the ratios, computed pair by pair from this run,
// with PASS/MISS; writes the same to OUT/latest.txt and OUT/latest.json.
//
// Environment: PG* (connection), BENCH_RUNS (SQL/inflate runs, default 21),
// BENCH_APP_RUNS (app-side runs, default 5; 3 at 1M), BENCH_INGEST_CALLS
// (default 200), BENCH_PGBENCH_CLIENTS (4), BENCH_PGBENCH_JOBS (2),
// BENCH_PGBENCH_BODIES (3200), BENCH_SKIP_PGBENCH=1.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { spawnSync } = require('child_process');
const { Client, types: pgTypes } = require('pg');
const feeds = require('./feeds');
const { ingestDir, createProject } = require('./ingest');

const HERE = __dirname;
const env = process.env;
const RUNS = parseInt(env.BENCH_RUNS || '21', 10);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const out = [];                    // report lines
const result = { started: new Date().toISOString(), machine: machineInfo(), sizes: {}, ingest: {}, goals: [] };

function log(s = '') { out.push(s); console.log(s); }
function note(s) { console.error('· ' + s); }
function stats(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: m, min: s[0], max: s[s.length - 1], runs: xs.length };
}
function machineInfo() {
  const cpus = os.cpus();
  return { cpus: cpus.length, model: cpus[0] && cpus[0].model, mem_gb: +(os.totalmem() / 2 ** 30).toFixed(1), load: os.loadavg().map((x) => +x.toFixed(2)), node: process.version };
}
function sizeLabel(n) { return n >= 1e6 && n % 1e6 === 0 ? n / 1e6 + 'M' : n >= 1e3 && n % 1e3 === 0 ? n / 1e3 + 'k' : String(n); }
function parseSize(v) {
  const m = /^(\d+)([kKmM]?)$/.exec(v);
  if (!m) throw new Error('bad size ' + v);
  return parseInt(m[1], 10) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1e3 : 1e6);
}
// keep json/jsonb as text (node-pg would JSON.parse them), everything else as usual
const rawText = { getTypeParser: (oid, fmt) => (oid === 114 || oid === 3802 ? (v) => v : pgTypes.getTypeParser(oid, fmt)) };

async function connect() {
  const c = new Client();
  await c.connect();
  return c;
}

// a helper process that answers each command line with one JSON line
class LineProc {
  constructor(cmd, args) {
    const { spawn } = require('child_process');
    this.p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.buf = '';
    this.err = '';
    this.waiting = [];
    this.lines = [];
    this.p.stdout.setEncoding('utf8');
    this.p.stdout.on('data', (d) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (this.waiting.length) this.waiting.shift().resolve(line); else this.lines.push(line);
      }
    });
    this.p.stderr.on('data', (d) => { this.err = (this.err + d).slice(-4000); });
    this.p.on('exit', (code) => {
      this.dead = `${cmd} exited with ${code}: ${this.err.trim()}`;
      for (const w of this.waiting.splice(0)) w.reject(new Error(this.dead));
    });
  }
  async next() {
    const line = this.lines.length ? this.lines.shift()
      : await new Promise((resolve, reject) => (this.dead ? reject(new Error(this.dead)) : this.waiting.push({ resolve, reject })));
    const v = JSON.parse(line);
    if (v.error) throw new Error(v.error);
    return v;
  }
  cmd(s) { this.p.stdin.write(s + '\n'); return this.next(); }
  end() { try { this.p.stdin.write('quit\n'); this.p.stdin.end(); } catch (e) { /* gone */ } }
}

// ------------------------------------------------------------ peak memory
function procStatus(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => { const m = new RegExp('^' + k + ':\\s+(\\d+) kB', 'm').exec(s); return m ? parseInt(m[1], 10) / 1024 : null; };
  return { hwm: kb('VmHWM'), rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}
// a fresh backend runs just `sql`; VmHWM after it, and the part of it that
// is not shared buffers (VmHWM - RssShmem: shared buffers the query touched
// count in RSS but are not the backend's own memory)
async function peakMemory(sql, values) {
  const c = await connect();
  let r;
  try {
    const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    const before = procStatus(pid);
    const t0 = now();
    await c.query({ text: sql, values, types: rawText });
    const firstMs = now() - t0;
    const after = procStatus(pid);
    r = { hwm: after.hwm, private: after.hwm - after.shmem, before_hwm: before.hwm, shmem: after.shmem, first_call_ms: firstMs };
    r.buffers_warm_mb = await sharedBuffersTouched(c, sql, values);       // a second call
  } finally { await c.end(); }
  const c2 = await connect();                                              // a first call
  try { r.buffers_first_mb = await sharedBuffersTouched(c2, sql, values); } finally { await c2.end(); }
  return r;
}
// shared buffers one call touches (hit + read), in MB, from EXPLAIN ANALYZE
async function sharedBuffersTouched(c, sql, values) {
  try {
    const plan = (await c.query({ text: 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' + sql, values, types: rawText })).rows[0]['QUERY PLAN'];
    const top = JSON.parse(plan)[0].Plan;
    return ((top['Shared Hit Blocks'] || 0) + (top['Shared Read Blocks'] || 0)) * 8192 / 1048576;
  } catch (e) { return null; }
}

// ------------------------------------------------------------ validation
// JSON text with object keys sorted (jsonb reorders keys)
function canon(v) {
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (v !== null && typeof v === 'object') return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  return JSON.stringify(v === undefined ? null : v);
}
function sameNum(a, b) { return a === b || (a != null && b != null && Math.abs(Number(a) - Number(b)) < 1e-6); }
function cmpRows(name, got, want, keys) {
  if (got.length !== want.length) return `${name}: ${got.length} rows, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    for (const k of keys) {
      const g = got[i][k], w = want[i][k];
      const eq = (typeof w === 'number' || typeof g === 'number') ? sameNum(g, w)
        : canon(g) === canon(w);
      if (!eq) return `${name}: row ${i} ${k} = ${JSON.stringify(g)}, expected ${JSON.stringify(w)}`;
    }
  }
  return null;
}
async function validate(c, sid, manifest, opts) {
  const problems = [];
  const batches = (await c.query('SELECT id, data FROM dozor.event_batches WHERE session_id = $1 ORDER BY first_timestamp, id', [sid])).rows;
  const sess = (await c.query('SELECT url, (extract(epoch FROM ended_at) * 1000)::float8 AS ended_ms, event_count FROM dozor.sessions WHERE id = $1', [sid])).rows[0];
  const consoleIds = [];
  const arrays = batches.map((b) => {
    const a = JSON.parse(zlib.gunzipSync(b.data).toString('utf8'));
    if (a.some(feeds.isConsole)) consoleIds.push(b.id);
    return a;
  });
  const E = [];
  for (const a of arrays) for (const e of a) E.push(e);
  if (E.length !== manifest.generated_events) problems.push(`stored ${E.length} events, generated ${manifest.generated_events}`);
  if (Number(sess.event_count) !== manifest.generated_events) problems.push(`sessions.event_count ${sess.event_count}, generated ${manifest.generated_events}`);
  feeds.sortStream(E);
  const endedAt = Math.round(sess.ended_ms);
  const wantH = feeds.historyFeed(E, { initialUrl: sess.url, sessionEndedAt: endedAt });
  const lastTs = E.length ? E[E.length - 1].timestamp : 0;
  const info = { consoleIds, batches: batches.length, lastTs, historyRows: wantH.length, E: null };
  const tryq = async (label, f) => { try { await f(); } catch (e) { problems.push(`${label}: ${e.message}`); } };
  await tryq('dozor_history', async () => {
    const got = (await c.query({ text: 'SELECT * FROM dozor_history($1)', values: [sid], types: rawText })).rows
      .map((r) => Object.assign({}, r, { traits: r.traits == null ? null : JSON.parse(r.traits), real_duration_ms: Number(r.real_duration_ms) }));
    const d = cmpRows('dozor_history', got, wantH, ['id', 'kind', 'started_at', 'ended_at', 'real_duration_ms', 'pathname', 'url', 'user_id', 'traits']);
    if (d) problems.push(d);
  });
  await tryq('dozor_console', async () => {
    const want = feeds.consoleFeed(E, {});
    const got = (await c.query('SELECT * FROM dozor_console($1)', [sid])).rows
      .map((r) => Object.assign({}, r, { time_offset: Number(r.time_offset), timestamp: Number(r.timestamp) }));
    const d = cmpRows('dozor_console', got, want, ['time_offset', 'timestamp', 'level', 'payload', 'trace']);
    if (d) problems.push(d);
  });
  await tryq('dozor_markers', async () => {
    const want = E.filter((e) => e.type === 5 && e.data && typeof e.data.tag === 'string' && e.data.tag.startsWith('dozor:')).length + (sess.url ? 1 : 0);
    const got = Number((await c.query('SELECT count(*) AS n FROM dozor_markers($1)', [sid])).rows[0].n);
    if (got !== want) problems.push(`dozor_markers: ${got} rows, expected ${want} (event markers + the metadata url marker)`);
  });
  await tryq('dozor_to_compressed', async () => {
    const ranges = feeds.compressedRanges(E, 30000, 5000);
    const probes = [E[0].timestamp, lastTs, lastTs + 12345];
    for (const r of ranges.slice(0, 5)) probes.push(r.os, r.oe, (r.os + r.oe) / 2, r.os + 1);
    for (const t of probes) {
      const got = (await c.query('SELECT dozor_to_compressed($1, $2) AS v', [sid, t])).rows[0].v;
      const want = feeds.toCompressed(ranges, 5000, t);
      if (got !== want) { problems.push(`dozor_to_compressed(${t}) = ${got}, expected ${want}`); break; }
    }
  });
  if (opts.events) {
    await tryq('dozor_events', async () => {
      const text = (await c.query({ text: 'SELECT dozor_events($1) AS j', values: [sid], types: rawText })).rows[0].j;
      const want = JSON.stringify(E);
      if (text !== want) {
        let parsed;
        try { parsed = JSON.stringify(JSON.parse(text)); } catch (e) { problems.push('dozor_events: not valid JSON: ' + e.message); return; }
        if (parsed !== want) {
          let i = 0; while (i < parsed.length && parsed[i] === want[i]) i++;
          problems.push(`dozor_events: differs from the sorted stream at char ${i}: …${parsed.slice(Math.max(0, i - 60), i + 60)}…`);
        } else info.eventsNote = 'same events, different separators';
      }
    });
  }
  return { problems, info };
}

// ------------------------------------------------------------ one size
async function benchSize(c, key, N, dataDir, dirName) {
  const label = sizeLabel(N);
  const dir = path.join(dataDir, dirName);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const R = { label, events: manifest.generated_events, json_mb: manifest.event_bytes / 1e6, gz_mb: manifest.gz_bytes / 1e6, methods: {}, memory: {}, errors: [] };
  result.sizes[label] = R;

  note(`${label}: ingesting ${manifest.batches} bodies`);
  const ing = await ingestDir(c, dir, key);
  const sid = ing.session_id;
  R.session_id = sid; R.batches = ing.calls;
  R.ingest_session = { ms: ing.ms, events_per_s: manifest.generated_events / (ing.ms / 1000) };
  await c.query('VACUUM ANALYZE dozor.event_batches');
  await c.query('VACUUM ANALYZE dozor.markers');

  note(`${label}: checking dozor's feeds against feeds.js`);
  const v = await validate(c, sid, manifest, { events: N <= 200000 });
  R.validation = v.problems.length ? v.problems : ['ok'];
  if (v.info.eventsNote) R.validation.push(v.info.eventsNote);
  const lastTs = v.info.lastTs;
  R.console_batches = v.info.consoleIds.length;

  const big = N >= 1e6;
  const rounds = big ? Math.max(3, Math.floor(RUNS / 3)) : RUNS;
  const evRuns = Math.min(rounds, big ? 3 : Math.max(5, Math.ceil(rounds / 2)));
  const appRuns = Math.min(rounds, parseInt(env.BENCH_APP_RUNS || (big ? '3' : '5'), 10));
  // n runs spread evenly over the rounds
  const spread = (n) => (r) => Math.floor(((r + 1) * n) / rounds) !== Math.floor((r * n) / rounds);

  const sql = (name, text, values, every, types) => ({ name, every, kind: 'sql', q: Object.assign({ name: 'm_' + name.replace(/\W/g, '_'), text, values }, types ? { types } : {}) });
  const all = () => true;
  const methods = [
    sql('dozor_history', 'SELECT count(*) FROM dozor_history($1)', [sid], all),
    sql('dozor_markers', 'SELECT count(*) FROM dozor_markers($1)', [sid], all),
    sql('dozor_to_compressed', 'SELECT dozor_to_compressed($1, $2)', [sid, lastTs - 1], all),
    sql('dozor_console', 'SELECT count(*) FROM dozor_console($1)', [sid], all),
    sql('dozor_events', 'SELECT pg_column_size(dozor_events($1))', [sid], spread(evRuns)),
  ];
  // info only, and timed after the rounds: shipping 46 MB to this process
  // leaves the machine busy (freeing, GC) for a while, which showed as 2-3x
  // outliers in whatever was measured next
  const fetched = big ? null : sql('dozor_events fetched', 'SELECT dozor_events($1)', [sid], all, rawText);

  // the baselines run in helper processes that answer one timed run per command
  const procs = [];
  let inflateP = null, appP = null;
  try {
    const args = ['--serve', '--db', '--session', String(sid)];
    if (v.info.consoleIds.length) args.push('--ids', v.info.consoleIds.join(','));
    inflateP = new LineProc(path.join(HERE, 'build', 'inflate'), args);
    procs.push(inflateP);
    await inflateP.next();
    const det = await inflateP.cmd('detect');
    R.storage = det.storage;
    const inf = (name, command, every) => ({ name, every, kind: 'proc', run: async () => (await inflateP.cmd(command)).ms, meta: command });
    methods.push(inf('raw inflate, zlib', 'zlib', all), inf('raw inflate, libdeflate', 'libdeflate', all));
    if (v.info.consoleIds.length) methods.push(inf('raw inflate, libdeflate, console batches only', 'libdeflate-ids', all));
  } catch (e) { R.errors.push('inflate: ' + e.message); }
  const appKeys = {
    'app-side history (fetch + pipeline)': 'fetch_history', 'app-side history, no fetch': 'history',
    '  of which gunzip + JSON.parse': 'decode', '  of which sort': 'sort', '  of which feed': 'feed',
    'app-side fetch only': 'fetch', 'app-side gunzip+parse+sort+stringify': 'events',
  };
  try {
    appP = new LineProc('node', ['--expose-gc', '--max-old-space-size=16000', path.join(HERE, 'app-side.js'), '--session', String(sid), '--serve']);
    procs.push(appP);
    await appP.next();
    methods.push({ name: 'app-side', every: spread(appRuns), kind: 'app', run: () => appP.cmd('run') });
  } catch (e) { R.errors.push('app-side: ' + e.message); }

  // warm-up, then rounds: every method once per round (the slow ones in
  // evenly spread rounds), so that a change in the machine's load hits both
  // sides of every ratio alike
  const samples = {};
  const failed = {};
  const once = async (m) => {
    if (failed[m.name]) return null;
    try {
      const t0 = now();
      const res = m.kind === 'sql' ? await c.query(m.q) : await m.run();
      return m.kind === 'sql' ? now() - t0 : res;
    } catch (e) { failed[m.name] = e.message; R.errors.push(`${m.name}: ${e.message}`); return null; }
  };
  note(`${label}: warm-up`);
  for (const m of methods) await once(m);
  note(`${label}: ${rounds} rounds (${evRuns} with dozor_events, ${appRuns} with the app-side pipelines)`);
  for (let r = 0; r < rounds; r++) {
    for (const m of methods) {
      if (!m.every(r)) continue;
      const x = await once(m);
      if (x === null) continue;
      if (m.kind === 'app') for (const [k, f] of Object.entries(appKeys)) (samples[k] = samples[k] || []).push(x[f]);
      else (samples[m.name] = samples[m.name] || []).push(x);
    }
  }
  if (fetched) {
    methods.splice(methods.findIndex((m) => m.name === 'dozor_events') + 1, 0, fetched);
    await once(fetched);
    for (let r = 0; r < evRuns; r++) {
      if (global.gc) global.gc();   // the previous 46 MB, outside the timing
      const x = await once(fetched);
      if (x !== null) (samples[fetched.name] = samples[fetched.name] || []).push(x);
    }
  }
  for (const p of procs) p.end();
  const order = methods.flatMap((m) => (m.kind === 'app' ? Object.keys(appKeys) : [m.name]));
  for (const k of order) {
    const mname = k in appKeys ? 'app-side' : k;
    if (samples[k] && samples[k].length) R.methods[k] = stats(samples[k]);
    else R.methods[k] = { error: failed[mname] || 'no sample' };
  }
  const con = R.methods['raw inflate, libdeflate, console batches only'];
  if (con && !con.error) con.batches = v.info.consoleIds.length;

  note(`${label}: peak memory of a fresh backend per function`);
  const memFns = [
    ['dozor_history', 'SELECT count(*) FROM dozor_history($1)', [sid]],
    ['dozor_markers', 'SELECT count(*) FROM dozor_markers($1)', [sid]],
    ['dozor_to_compressed', 'SELECT dozor_to_compressed($1, $2)', [sid, lastTs - 1]],
    ['dozor_console', 'SELECT count(*) FROM dozor_console($1)', [sid]],
    ['dozor_events', 'SELECT pg_column_size(dozor_events($1))', [sid]],
    ['(baseline: SELECT 1)', 'SELECT 1', []],
  ];
  for (const [name, sql, vals] of memFns) {
    try { R.memory[name] = await peakMemory(sql, vals); } catch (e) { R.memory[name] = { error: e.message }; }
  }
  return R;
}

// ------------------------------------------------------------ ingest figures
function withSessionId(body, uuid) {
  const s = body.toString('utf8');
  const m = /"sessionId"\s*:\s*"[^"]*"/.exec(s);
  return Buffer.from(s.slice(0, m.index) + `"sessionId":"${uuid}"` + s.slice(m.index + m[0].length), 'utf8');
}
function uuidFor(prefix, i) {
  const h = (prefix + i.toString(16).padStart(8, '0')).padEnd(32, '0').slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function benchIngest(c, dataDir, label, dirName) {
  const dir = path.join(dataDir, dirName);
  const I = result.ingest;
  I.source = label;
  await c.query('CREATE SCHEMA IF NOT EXISTS bench');

  // ---- one 500-event batch: server-side time per call
  const calls = parseInt(env.BENCH_INGEST_CALLS || '200', 10);
  const body500 = fs.readFileSync(path.join(dir, 'batch500.body.json'));
  const parsed500 = JSON.parse(body500.toString('utf8')).events;
  const events500 = parsed500.length;
  const start500 = Math.min(...parsed500.map((e) => e.timestamp));
  const firstEvent = { type: 4, data: { href: 'https://app.example.com/', width: 1280, height: 800 }, timestamp: start500 - 1000 };
  const md = { url: 'https://app.example.com/', referrer: '', userAgent: 'bench', screenWidth: 1280, screenHeight: 800, language: 'en' };
  note(`ingest: ${calls} calls with one ${events500}-event batch (${(fs.statSync(path.join(dir, 'batch500.events.json')).size / 1024).toFixed(0)} KB)`);
  try {
    const { api_key: key } = await createProject(c, 'bench-ingest-latency');
    await c.query('DROP TABLE IF EXISTS bench.ingest_bodies; CREATE TABLE bench.ingest_bodies (i int PRIMARY KEY, body bytea)');
    for (let i = 0; i < calls; i++) {
      const uuid = uuidFor('a1', i);
      // the session exists already (a first batch with metadata and one Meta
      // event a second before the timed batch): the timed call is the steady
      // state, a later batch of a live session that extends it
      await c.query({ name: 'ing_create', text: "SELECT dozor_ingest($1, $2, 'gzip')", values: [key, zlib.gzipSync(JSON.stringify({ sessionId: uuid, events: [firstEvent], metadata: md }))] });
      await c.query({ name: 'ing_body', text: 'INSERT INTO bench.ingest_bodies VALUES ($1, $2)', values: [i, zlib.gzipSync(withSessionId(body500, uuid), { level: 6 })] });
    }
    await c.query(`CREATE OR REPLACE FUNCTION bench.time_ingest(key text, lo int, hi int) RETURNS float8[] LANGUAGE plpgsql AS $f$
      DECLARE r record; t0 timestamptz; res float8[] := '{}';
      BEGIN
        FOR r IN SELECT body FROM bench.ingest_bodies WHERE i >= lo AND i < hi ORDER BY i LOOP
          t0 := clock_timestamp();
          PERFORM dozor_ingest(key, r.body, 'gzip');
          res := res || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
        END LOOP;
        RETURN res;
      END $f$`);
    // chunks of 10 calls, each followed by 10 passes of the compressors over
    // the same events array, so both sides see the same machine load
    const comp = new LineProc(path.join(HERE, 'build', 'inflate'), ['--serve', '--compress', path.join(dir, 'batch500.events.json')]);
    let compTimes = {};
    try {
      await comp.next();
      await comp.cmd('compress');                      // warm-up
      let times = [];
      for (let lo = 0; lo < calls; lo += 10) {
        const t = (await c.query('SELECT bench.time_ingest($1, $2, $3) AS t', [key, lo, Math.min(calls, lo + 10)])).rows[0].t.map(Number);
        times = times.concat(lo === 0 ? t.slice(Math.min(5, t.length - 1)) : t);   // the very first calls warm caches
        for (let k = 0; k < 10; k++) {
          const r = await comp.cmd('compress');
          for (const [name, ms] of Object.entries(r)) if (/_compress_\d+$/.test(name)) (compTimes[name] = compTimes[name] || []).push(ms);
          I.compress_bytes = r;
        }
      }
      I.batch = stats(times);
      I.batch.events = events500;
    } finally { comp.end(); }
    I.compress = {};
    for (const [name, xs] of Object.entries(compTimes))
      I.compress[name] = Object.assign(stats(xs), { in_bytes: I.compress_bytes.in_bytes, out_bytes: I.compress_bytes[name + '_bytes'] });
    delete I.compress_bytes;
    const stored = (await c.query("SELECT count(*) AS n, sum(b.event_count) AS ev FROM dozor.event_batches b JOIN dozor.sessions s ON s.id = b.session_id JOIN dozor.projects p ON p.id = s.project_id WHERE p.name = 'bench-ingest-latency'")).rows[0];
    // each session: its one-event first batch and the timed batch
    if (Number(stored.n) !== 2 * calls || Number(stored.ev) !== calls * (events500 + 1)) I.errors = [`stored ${stored.n} batches / ${stored.ev} events, expected ${2 * calls} / ${calls * (events500 + 1)}`];
  } catch (e) { I.batch = { error: e.message }; I.compress = { error: 'not run' }; }


  // ---- pgbench: several clients, distinct sessions, zero errors
  if (env.BENCH_SKIP_PGBENCH === '1') return;
  try {
    const clients = parseInt(env.BENCH_PGBENCH_CLIENTS || '4', 10);
    const jobs = parseInt(env.BENCH_PGBENCH_JOBS || '2', 10);
    const total = Math.ceil(parseInt(env.BENCH_PGBENCH_BODIES || '3200', 10) / clients) * clients;
    const files = fs.readdirSync(dir).filter((f) => /^batch-\d+\.json\.gz$/.test(f)).sort();
    const nSessions = Math.max(16, clients * 4, Math.ceil(total / files.length));
    const perSession = Math.ceil(total / nSessions);
    note(`pgbench: preparing ${total} bodies (${nSessions} sessions × ${perSession} batches)`);
    const { api_key: key } = await createProject(c, 'bench-pgbench');
    await c.query('DROP TABLE IF EXISTS bench.pgb_bodies; CREATE TABLE bench.pgb_bodies (id int PRIMARY KEY, key text, body bytea, events int); DROP SEQUENCE IF EXISTS bench.pgb_seq; CREATE SEQUENCE bench.pgb_seq');
    const raw = files.slice(0, perSession).map((f) => zlib.gunzipSync(fs.readFileSync(path.join(dir, f))));
    const evCount = raw.map((b) => JSON.parse(b.toString('utf8')).events.length);
    // id = batch × nSessions + session + 1: consecutive ids (what concurrent
    // clients take from the sequence) belong to different sessions
    let id = 0, events = 0;
    const eventsUpTo = [0];
    await c.query('BEGIN');
    for (let j = 0; j < perSession; j++) {
      for (let s = 0; s < nSessions && id < total; s++) {
        id++;
        events += evCount[j];
        eventsUpTo.push(events);
        await c.query({ name: 'pgb_ins', text: 'INSERT INTO bench.pgb_bodies VALUES ($1, $2, $3, $4)', values: [id, key, zlib.gzipSync(withSessionId(raw[j], uuidFor('b2', s)), { level: 6 }), evCount[j]] });
      }
    }
    await c.query('COMMIT');
    await c.query('VACUUM ANALYZE bench.pgb_bodies');
    const script = path.join(os.tmpdir(), `dozor-pgbench-${process.pid}.sql`);
    fs.writeFileSync(script, "SELECT dozor_ingest(b.key, b.body, 'gzip') FROM bench.pgb_bodies b WHERE b.id = (SELECT nextval('bench.pgb_seq'));\n");
    await c.query('CHECKPOINT');
    note(`pgbench: -c ${clients} -j ${jobs} -t ${total / clients}`);
    const r = spawnSync('pgbench', ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(jobs), '-t', String(total / clients), '-f', script], { encoding: 'utf8' });
    fs.unlinkSync(script);
    const o = (r.stdout || '') + (r.stderr || '');
    const num = (re) => { const m = re.exec(o); return m ? parseFloat(m[1]) : null; };
    const processed = num(/number of transactions actually processed: (\d+)/);
    const failed = num(/number of failed transactions: (\d+)/) || 0;
    const tps = num(/tps = ([\d.]+) \(without initial connection time\)/);
    const lat = num(/latency average = ([\d.]+) ms/);
    const consumed = Number((await c.query('SELECT last_value FROM bench.pgb_seq')).rows[0].last_value);
    const stored = (await c.query("SELECT count(*) AS n, coalesce(sum(b.event_count), 0) AS ev FROM dozor.event_batches b JOIN dozor.sessions s ON s.id = b.session_id JOIN dozor.projects p ON p.id = s.project_id WHERE p.name = 'bench-pgbench'")).rows[0];
    const errors = (r.status !== 0 ? 1 : 0) + failed + (processed === total ? 0 : 1);
    const seconds = processed && tps ? processed / tps : null;
    I.pgbench = {
      clients, jobs, transactions: processed, expected: total, failed, exit: r.status, tps, latency_ms: lat,
      events: eventsUpTo[Math.min(consumed, total)], stored_batches: Number(stored.n), stored_events: Number(stored.ev),
      seconds, events_per_s: seconds ? eventsUpTo[Math.min(consumed, total)] / seconds : null, errors,
    };
    if (Number(stored.ev) !== I.pgbench.events) I.pgbench.errors++;
    if (errors) I.pgbench.output = o.trim().split('\n').slice(-15).join('\n');
  } catch (e) { I.pgbench = { error: e.message }; }
}

// ------------------------------------------------------------ report
const f2 = (x) => (x == null || Number.isNaN(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pad = (s, n) => String(s).padStart(n);
function table(R) {
  log(`### ${R.label} events — ${R.json_mb.toFixed(1)} MB JSON, ${R.gz_mb.toFixed(1)} MB gzip in ${R.batches} batches (session ${R.session_id}, stored as ${R.storage || '?'})`);
  log('');
  log(`ingest of the whole session, one client: ${(R.ingest_session.ms / 1000).toFixed(2)} s = ${Math.round(R.ingest_session.events_per_s).toLocaleString('en-US')} events/s`);
  log(`check against feeds.js: ${R.validation.join('; ')}`);
  log('');
  log('| method | median ms | min ms | max ms | runs |');
  log('|---|---:|---:|---:|---:|');
  for (const [k, m] of Object.entries(R.methods)) {
    if (m.error) { log(`| ${k} | ERROR: ${m.error.slice(0, 80)} | | | |`); continue; }
    let name = k;
    if (k.includes('console batches only')) name = `${k} (${m.batches} of ${R.batches})`;
    log(`| ${name} | ${f2(m.median)} | ${f2(m.min)} | ${f2(m.max)} | ${m.runs} |`);
  }
  log('');
  log(`| a fresh backend runs one call | peak VmHWM MB | VmHWM − shared buffers MB | shared buffers touched, first / next call MB (stored gzip: ${R.gz_mb.toFixed(1)} MB) | first call ms |`);
  log('|---|---:|---:|---:|---:|');
  const mb = (x) => (x == null ? '—' : x.toFixed(2));
  for (const [k, m] of Object.entries(R.memory)) {
    if (m.error) { log(`| ${k} | ERROR: ${m.error.slice(0, 80)} | | | |`); continue; }
    log(`| ${k} | ${m.hwm.toFixed(1)} | ${m.private.toFixed(1)} | ${mb(m.buffers_first_mb)} / ${mb(m.buffers_warm_mb)} | ${f2(m.first_call_ms)} |`);
  }
  if (R.errors.length) { log(''); for (const e of R.errors) log('error: ' + e); }
  log('');
}

function goal(label, desc, value, target, better, judged, unit = '×', valueMin = null) {
  const ok = value == null ? null : better === 'higher' ? value >= target : value <= target;
  const mark = value == null ? 'n/a ' : !judged ? 'info' : ok ? 'PASS' : 'MISS';
  const vs = value == null ? '—' : unit === '×' ? f2(value) + '×' : f2(value) + ' ' + unit;
  const tgt = (better === 'higher' ? '≥ ' : '≤ ') + (unit === '×' ? target + '×' : target + ' ' + unit);
  const vm = valueMin == null ? '' : unit === '×' ? f2(valueMin) + '×' : f2(valueMin);
  result.goals.push({ size: label, goal: desc, value, value_by_min: valueMin, target, better, status: mark });
  log(`| ${mark} | ${label} | ${desc} | ${vs} | ${vm} | ${tgt} |`);
}
function ratios() {
  log('### Goals, computed pair by pair from the medians of this run');
  log('');
  log('| | size | ratio | by medians | by mins | goal |');
  log('|---|---|---|---:|---:|---:|');
  const labels = Object.keys(result.sizes);
  for (const label of labels) {
    const R = result.sizes[label];
    const M = (k) => (R.methods[k] && !R.methods[k].error ? R.methods[k].median : null);
    const Mn = (k) => (R.methods[k] && !R.methods[k].error ? R.methods[k].min : null);
    const q = (a, b) => (a != null && b != null && b > 0 ? a / b : null);
    const judged = R.events >= 100000;
    const app = M('app-side history (fetch + pipeline)');
    const appNoFetch = M('app-side history, no fetch');
    const ld = M('raw inflate, libdeflate');
    for (const fn of ['dozor_history', 'dozor_markers', 'dozor_to_compressed']) {
      const t = M(fn);
      goal(label, `app-side history pipeline (fetch + gunzip + parse + sort + feed) / ${fn}`, q(app, t), 200, 'higher', judged, '×', q(Mn('app-side history (fetch + pipeline)'), Mn(fn)));
      if (t && appNoFetch) goal(label, `  same without the fetch / ${fn}`, q(appNoFetch, t), 200, 'higher', false, '×', q(Mn('app-side history, no fetch'), Mn(fn)));
      goal(label, `raw libdeflate inflate of all batches / ${fn}`, q(ld, t), 8, 'higher', judged, '×', q(Mn('raw inflate, libdeflate'), Mn(fn)));
    }
    const ev = M('dozor_events');
    const appEv = M('app-side gunzip+parse+sort+stringify');
    goal(label, 'app-side gunzip + parse + sort + stringify / dozor_events', q(appEv, ev), 15, 'higher', judged, '×', q(Mn('app-side gunzip+parse+sort+stringify'), Mn('dozor_events')));
    goal(label, 'dozor_events / raw libdeflate inflate', q(ev, ld), 1.5, 'lower', judged, '×', q(Mn('dozor_events'), Mn('raw inflate, libdeflate')));
    const evf = M('dozor_events fetched');
    if (evf && ld) goal(label, '  dozor_events fetched by the client / raw libdeflate inflate', q(evf, ld), 1.5, 'lower', false, '×', q(Mn('dozor_events fetched'), Mn('raw inflate, libdeflate')));
    const con = M('dozor_console');
    goal(label, `dozor_console / raw libdeflate inflate of all batches (inflates only the ${R.console_batches} console batches: < 0.5)`, q(con, ld), 0.5, 'lower', judged, '×', q(Mn('dozor_console'), Mn('raw inflate, libdeflate')));
    // judged on the backend's own memory: VmHWM less the shared buffers it
    // touched (those pages are the server's cache, not the backend's)
    const mem = (fn) => (R.memory[fn] && !R.memory[fn].error ? R.memory[fn] : null);
    for (const fn of ['dozor_history', 'dozor_markers', 'dozor_to_compressed']) {
      const m = mem(fn);
      goal(label, `peak backend memory of ${fn} (VmHWM − shared buffers; VmHWM ${m ? m.hwm.toFixed(1) : '—'} MB)`, m ? m.private : null, 32, 'lower', R.events >= 1000000 || (judged && !labels.some((l) => result.sizes[l].events >= 1e6)), 'MB');
    }
  }
  const I = result.ingest;
  if (I.batch && !I.batch.error && I.compress && !I.compress.error) {
    const st = labels.map((l) => result.sizes[l].storage).find((s) => s && s !== 'unknown');
    let refName = 'libdeflate_compress_6';
    if (st) { const m = /^(libdeflate|zlib)-(\d+)$/.exec(st); if (m && I.compress[`${m[1]}_compress_${m[2]}`]) refName = `${m[1]}_compress_${m[2]}`; }
    I.compress_ref = refName;
    const ref = I.compress[refName].median;
    goal(I.source, `ingest of one ${I.batch.events}-event batch / gzip-compressing it alone at the storage codec and level (${refName.replace('_compress_', ' level ')}${st ? '' : ', storage level not detected'})`, I.batch.median / ref, 1.5, 'lower', true, '×', I.batch.min / I.compress[refName].min);
    for (const k of Object.keys(I.compress)) if (k !== refName) goal(I.source, `  ingest / ${k.replace('_compress_', ' level ')} compress`, I.batch.median / I.compress[k].median, 1.5, 'lower', false, '×', I.batch.min / I.compress[k].min);
  } else goal(I.source || '—', 'ingest of one 500-event batch / compressing it alone', null, 1.5, 'lower', true);
  if (I.pgbench && !I.pgbench.error) {
    goal('pgbench', `ingest throughput, ${I.pgbench.clients} clients, ${I.pgbench.errors} errors`, I.pgbench.errors ? 0 : I.pgbench.events_per_s, 50000, 'higher', true, 'events/s');
  } else if (env.BENCH_SKIP_PGBENCH !== '1') goal('pgbench', 'ingest throughput', null, 50000, 'higher', true, 'events/s');
  log('');
}
function ingestReport() {
  const I = result.ingest;
  log(`### Ingest (${I.source} session's data)`);
  log('');
  log('| method | median ms | min ms | max ms | runs |');
  log('|---|---:|---:|---:|---:|');
  if (I.batch) {
    if (I.batch.error) log(`| dozor_ingest, one 500-event batch | ERROR: ${I.batch.error.slice(0, 100)} | | | |`);
    else log(`| dozor_ingest of one ${I.batch.events}-event batch (server side, per call) | ${f2(I.batch.median)} | ${f2(I.batch.min)} | ${f2(I.batch.max)} | ${I.batch.runs} |`);
  }
  if (I.compress && !I.compress.error) {
    for (const [k, r] of Object.entries(I.compress))
      log(`| ${k.replace(/_/g, ' ')} (${(r.in_bytes / 1024).toFixed(0)} KB → ${(r.out_bytes / 1024).toFixed(0)} KB) | ${f2(r.median)} | ${f2(r.min)} | ${f2(r.max)} | ${r.runs} |`);
  } else if (I.compress) log(`| compress | ERROR: ${I.compress.error} | | | |`);
  if (I.errors) for (const e of I.errors) log('error: ' + e);
  log('');
  const P = I.pgbench;
  if (P && P.error) log(`pgbench: ERROR: ${P.error}`);
  else if (P) {
    log(`pgbench: ${P.clients} clients, ${P.jobs} threads, ${P.transactions}/${P.expected} batches in ${f2(P.seconds)} s, ${P.failed} failed, exit ${P.exit}; ` +
      `${f2(P.tps)} batches/s, latency ${f2(P.latency_ms)} ms; ${P.events.toLocaleString('en-US')} events = ${Math.round(P.events_per_s || 0).toLocaleString('en-US')} events/s ` +
      `(stored: ${P.stored_batches} batches, ${P.stored_events.toLocaleString('en-US')} events)`);
    if (P.output) log('```\n' + P.output + '\n```');
  }
  log('');
}

async function main() {
  const args = process.argv.slice(2);
  let sizes = ['10k', '100k'], dataDir = path.join(HERE, 'data'), outDir = path.join(HERE, 'results');
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--sizes') sizes = args[++i].split(',');
    else if (args[i] === '--data') dataDir = args[++i];
    else if (args[i] === '--out') outDir = args[++i];
    else { console.error('unknown argument ' + args[i]); process.exit(2); }
  }
  const Ns = sizes.map(parseSize);
  const c = await connect();
  const ver = (await c.query("SELECT extversion FROM pg_extension WHERE extname = 'dozor'")).rows[0];
  if (!ver) throw new Error('extension dozor is not installed in this database');
  const pgv = (await c.query('SHOW server_version')).rows[0].server_version;
  const sb = (await c.query('SHOW shared_buffers')).rows[0].shared_buffers;
  const { api_key: key } = await createProject(c, 'bench');
  const t0 = now();
  // data directories as run.sh names them: s10k, s100k, s1M
  const dirOf = (s) => 's' + s.replace(/m$/, 'M');
  for (let i = 0; i < Ns.length; i++) await benchSize(c, key, Ns[i], dataDir, dirOf(sizes[i]));
  const src = Ns.includes(100000) ? Ns.indexOf(100000) : Ns.length - 1;
  await benchIngest(c, dataDir, sizeLabel(Ns[src]), dirOf(sizes[src]));
  await c.end();

  const m = result.machine;
  log(`## dozor benchmark — ${result.started}`);
  log('');
  log(`${m.cpus} × ${m.model}, ${m.mem_gb} GB, load ${m.load.join(' ')}; PostgreSQL ${pgv} (shared_buffers ${sb}), dozor ${ver.extversion}, Node ${m.node}; ` +
    `times are client-side wall clock per call (Node pg, one warm connection) except where noted; ${((now() - t0) / 1000).toFixed(0)} s in all`);
  log('');
  for (const N of Ns) table(result.sizes[sizeLabel(N)]);
  ingestReport();
  ratios();
  const misses = result.goals.filter((g) => g.status === 'MISS' || g.status === 'n/a ').length;
  const passes = result.goals.filter((g) => g.status === 'PASS').length;
  log(`${passes} goals PASS, ${misses} MISS or not measured.`);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.txt'), out.join('\n') + '\n');
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(result, null, 1) + '\n');
  console.error(`· written ${path.join(outDir, 'latest.txt')} and latest.json`);
}

main().catch((e) => { console.error('measure.js: ' + (e.stack || e)); process.exit(1); });
