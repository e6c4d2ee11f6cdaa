'use strict';
// hostile.js — randomized hostile input against a running server with dozor.
//
//   node test/hostile/hostile.js [--seed S] [--count N | --seconds N] [--phases a,b,...]
//
// Deterministic by default: one seed (default 1) and a fixed number of random
// cases (--count, default 1500: half ingest, 15% pure, 35% corrupt), so a
// seed gives the same inputs and the same verdict on any machine. Each phase
// draws from its own stream of the seed, so `--phases corrupt` replays the
// corrupt phase of a full run. --seconds N (without --count) runs for a time
// instead: exploration only, since how far it gets depends on the machine.
//
// Connects with the PG* environment (scripts/with-temp-pg.sh sets it), works
// in a database of its own, and runs these phases (all by default):
//
//   ingest   mutated, truncated, bit-flipped, re-framed SDK bodies (plain and
//            gzip) through dozor_ingest. Every call must succeed or fail with
//            a docs/SPEC.md §3 SQLSTATE (class 22, 54000, 28000), and the outcome
//            must match an independent oracle (lib/oracle.js). An accepted
//            body must be stored exactly: event count, stored events, stream
//            order, markers (with U+FFFD for what jsonb cannot hold), user.
//   pure     mutated events arrays through the pure functions
//            (dozor_build_history, dozor_console_logs, dozor_extract_markers,
//            dozor_compress_events, dozor_map_to_*), plus dozor_gunzip,
//            dozor_gzip and dozor_url_pathname on hostile bytes.
//   corrupt  stored-data corruption: bytes of event_batches.data and
//            .event_index flipped, truncated, replaced, and the row's counters
//            skewed (UPDATE as superuser). dozor_history, dozor_events,
//            dozor_console, dozor_to_compressed and dozor_to_real must give
//            the pristine answer or SQLSTATE XX001 naming the batch.
//   limits   statement_timeout and pg_cancel_backend stop long dozor_events,
//            dozor_history, dozor_console, pure-function and ingest calls
//            within a bounded delay (CHECK_FOR_INTERRUPTS inside the C loops),
//            and the peak backend memory of worst-case ingests is measured.
//
// After every few calls the server must still accept a new connection
// (SELECT 1); at the end its log must not show a backend killed by a signal.
// Exits non-zero on any failure; inputs that failed are saved under
// test/hostile/out/ with a note of how to replay them.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { connect, call, serverUp, logCrashes, logSize } = require('./lib/db');
const { predict, gunzip, markersOf, pgString } = require('./lib/oracle');
const m = require('./lib/mutate');
const g = require('../fuzz/rrweb');

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf('--' + name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SECONDS = opt('seconds', null) === null ? null : Number(opt('seconds')); // split across phases
const COUNT = opt('count', null) === null ? (SECONDS === null ? 1500 : null) : Number(opt('count'));
// How long past a cancel a call may run before it counts as not stopping.
const LAG_MS = Number(process.env.HOSTILE_LAG_MS || 1000);
const SEED = Number(opt('seed', 1));
const PHASES = opt('phases', 'ingest,pure,corrupt,limits').split(',');
const DB = opt('db', 'dozor_hostile');
const OUT = path.join(__dirname, 'out');
if (!Number.isInteger(SEED) || SEED < 0 || (COUNT !== null && !(COUNT >= 0))) throw new Error('--seed and --count take whole numbers');
// Every draw goes through r, reseeded per phase (the ingest phase keeps the
// seed itself, so seeds found before the split still replay their ingest).
const PHASE_SALT = { ingest: 0, pure: 0x9e3779b9, corrupt: 0x7f4a7c15, limits: 0x85ebca6b };
let r = g.rng(SEED);
const seedPhase = (p) => { r = g.rng((SEED ^ (PHASE_SALT[p] ?? 0)) >>> 0); };

const failures = [];
const notes = [];
const noteCounts = new Map();
notes.push = (n) => { noteCounts.set(n, (noteCounts.get(n) || 0) + 1); return noteCounts.size; };
const stats = {};
function count(phase, tag, outcome) {
  const k = `${phase}:${tag}`;
  stats[k] = stats[k] || { calls: 0, outcomes: {} };
  stats[k].calls++;
  stats[k].outcomes[outcome] = (stats[k].outcomes[outcome] || 0) + 1;
}
function fail(phase, tag, what, input) {
  const n = failures.length + 1;
  let file = null;
  if (input) {
    fs.mkdirSync(OUT, { recursive: true });
    file = path.join(OUT, `failure-${SEED}-${n}`);
    fs.writeFileSync(file + '.bin', input.bytes ?? Buffer.alloc(0));
    fs.writeFileSync(file + '.json', JSON.stringify({ phase, tag, what, encoding: input.encoding ?? null, note: input.note ?? null }, null, 2));
  }
  failures.push({ phase, tag, what, file });
  if (failures.length <= 30) console.log(`  FAIL ${phase}/${tag}: ${what}${file ? ` (input: ${path.relative(process.cwd(), file)}.bin)` : ''}`);
}
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
// The random part of a phase: `share` of --count cases, or of --seconds.
function budget(share) {
  if (COUNT !== null) {
    const n = Math.round(COUNT * share);
    let i = 0;
    return () => i++ < n;
  }
  const deadline = Date.now() + SECONDS * 1000 * share;
  return () => Date.now() < deadline;
}

// Deep equality where -0 equals 0 (jsonb has no negative zero).
function same(a, b, depth = 0) {
  if (depth > 900) return true; // (oracle.pgValue stops at 1000)
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !same(a[k], b[k], depth + 1)) return false;
  return true;
}
const stableSortByTs = (events) => events.map((e, i) => [e, i])
  .sort((x, y) => Math.floor(x[0].timestamp) - Math.floor(y[0].timestamp) || x[1] - y[1]).map((x) => x[0]);

// ---------------------------------------------------------------- setup
let admin; // superuser connection in the test database
let key; // API key of the test project
let liveCheckEvery = 25;
let callsSinceCheck = 0;
async function liveCheck(phase) {
  if (++callsSinceCheck < liveCheckEvery) return;
  callsSinceCheck = 0;
  if (!(await serverUp(DB))) {
    fail(phase, 'server', 'server does not accept connections (SELECT 1 failed)');
    throw new Error('server down');
  }
}
async function reconnectIfLost(res) {
  if (res.ok || !res.lost) return;
  try { await admin.end(); } catch { /* already gone */ }
  for (let i = 0; i < 20; i++) {
    try { admin = await connect(DB); return; } catch { await sleep(500); }
  }
  throw new Error('cannot reconnect');
}

async function setup() {
  const c = await connect(process.env.PGDATABASE || 'postgres');
  await c.query(`SET client_min_messages = warning`);
  await c.query(`DROP DATABASE IF EXISTS ${DB}`);
  await c.query(`CREATE DATABASE ${DB}`);
  await c.end();
  admin = await connect(DB);
  await admin.query('CREATE EXTENSION dozor');
  key = (await admin.query(`SELECT api_key FROM dozor_create_project('hostile')`)).rows[0].api_key;
}

// Base bodies: the recorded session (test/data) and generated ones.
function basePool() {
  const pool = [];
  const dataDir = path.join(__dirname, '..', 'data');
  if (fs.existsSync(dataDir)) {
    for (const d of fs.readdirSync(dataDir)) {
      const dir = path.join(dataDir, d);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const f of fs.readdirSync(dir)) {
        if (!f.endsWith('.json.gz')) continue;
        try { pool.push(JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(dir, f))).toString('utf8'))); } catch { /* not a body */ }
      }
    }
  }
  for (let s = 0; s < 12; s++) {
    pool.push(...g.session(r, { batches: 2, eventsPerBatch: 10 + r.int(80), nodes: 3 + r.int(30), hostile: s % 3 === 0 }));
  }
  return pool;
}

// ---------------------------------------------------------------- ingest
const seenSessions = new Set();

async function checkStored(sid, p, input) {
  const body = p.body;
  const res = await call(admin, `
    SELECT s.event_count,
           (SELECT count(*) FROM dozor.event_batches b WHERE b.session_id = s.id)::int AS batches,
           (SELECT convert_from(dozor_gunzip(b.data), 'UTF8') FROM dozor.event_batches b WHERE b.session_id = s.id LIMIT 1) AS stored,
           dozor_events(s.id)::text AS stream,
           tu.external_id AS user_id,
           (SELECT count(*) FROM dozor.markers mk WHERE mk.session_id = s.id AND mk.batch_id IS NULL)::int AS url_markers
    FROM dozor.sessions s LEFT JOIN dozor.tracked_users tu ON tu.id = s.tracked_user_id
    WHERE s.id = $1`, [sid]);
  if (!res.ok) return fail('ingest', input.tag, `reading back session ${sid}: ${res.code} ${res.message}`, input);
  const row = res.rows[0];
  const n = body.events.length;
  if (row.event_count !== n) return fail('ingest', input.tag, `event_count ${row.event_count}, sent ${n}`, input);
  if (row.batches !== (n > 0 ? 1 : 0)) return fail('ingest', input.tag, `${row.batches} batch rows for ${n} events`, input);
  if (n > 0) {
    let stored;
    let stream;
    try { stored = JSON.parse(row.stored); stream = JSON.parse(row.stream); } catch (e) {
      return fail('ingest', input.tag, `stored array or dozor_events is not JSON: ${e.message}`, input);
    }
    if (!same(stored, body.events)) return fail('ingest', input.tag, 'stored events differ from the events sent', input);
    if (!same(stream, stableSortByTs(body.events))) return fail('ingest', input.tag, 'dozor_events is not the stably sorted batch', input);
  }
  const md = body.metadata;
  const wantUrl = md && typeof md === 'object' && typeof md.url === 'string' ? 1 : 0;
  if (row.url_markers !== wantUrl) return fail('ingest', input.tag, `${row.url_markers} initial url markers, expected ${wantUrl}`, input);
  const uid = md && md.userIdentity && typeof md.userIdentity === 'object' ? md.userIdentity.userId : undefined;
  if (uid !== undefined && row.user_id !== pgString(uid)) return fail('ingest', input.tag, `tracked user ${JSON.stringify(row.user_id)}, sent ${JSON.stringify(uid)}`, input);
  const want = markersOf(body);
  const mk = await call(admin, `SELECT kind, data, timestamp FROM dozor.markers WHERE session_id = $1 AND batch_id IS NOT NULL ORDER BY event_index`, [sid]);
  if (!mk.ok) return fail('ingest', input.tag, `reading markers: ${mk.code} ${mk.message}`, input);
  if (mk.rows.length !== want.length) return fail('ingest', input.tag, `${mk.rows.length} markers stored, ${want.length} expected`, input);
  for (let i = 0; i < want.length; i++) {
    const got = mk.rows[i];
    if (got.kind !== want[i].kind || Number(got.timestamp) !== want[i].timestamp || !same(got.data, want[i].data)) {
      return fail('ingest', input.tag, `marker ${i}: stored ${JSON.stringify(got).slice(0, 200)}, expected ${JSON.stringify(want[i]).slice(0, 200)}`, input);
    }
  }
  return null;
}

async function ingestOne(input, keyOverride) {
  const k = keyOverride === undefined ? key : keyOverride;
  const keyOk = k === key;
  let p;
  try { p = predict(input.bytes, input.encoding, keyOk); } catch (e) {
    notes.push(`oracle error on ${input.tag}: ${e.message}`);
    p = { codes: ['ok', '22P02', '22023', '54000'], why: 'oracle failed' };
  }
  const res = await call(admin, 'SELECT dozor_ingest($1, $2::bytea, $3) AS sid', [k, input.bytes, input.encoding]);
  const outcome = res.ok ? 'ok' : res.code;
  count('ingest', input.tag, outcome);
  await reconnectIfLost(res);
  if (!res.ok && (res.lost || !/^(22...|54000|28000)$/.test(res.code))) {
    fail('ingest', input.tag, `SQLSTATE ${res.code}: ${res.message}`, input);
    return;
  }
  if (!p.codes.includes(outcome) && p.known && p.known[outcome]) {
    count('known', p.known[outcome], outcome);
    return;
  }
  if (!p.codes.includes(outcome)) {
    fail('ingest', input.tag, `got ${outcome}${res.ok ? '' : ` (${res.message})`}, oracle expected ${p.codes.join('|')} (${p.why})`, input);
    return;
  }
  if (!res.ok || !p.body) return;
  const sid = res.rows[0].sid;
  const ext = p.body.sessionId.toLowerCase();
  if (seenSessions.has(ext)) return; // a shared session (nil/max UUID): counts add up elsewhere
  seenSessions.add(ext);
  await checkStored(sid, p, input);
  if (r.chance(0.15)) {
    // the SDK retries: the same bytes again change nothing
    const again = await call(admin, 'SELECT dozor_ingest($1, $2::bytea, $3) AS sid', [k, input.bytes, input.encoding]);
    count('ingest', 'retry', again.ok ? 'ok' : again.code);
    if (!again.ok || String(again.rows[0].sid) !== String(sid)) {
      fail('ingest', input.tag + '+retry', `retry gave ${again.ok ? 'session ' + again.rows[0].sid : again.code + ' ' + again.message}`, input);
    } else await checkStored(sid, p, { ...input, tag: input.tag + '+retry' });
  }
}

async function phaseIngest(share) {
  const more = budget(share);
  const pool = basePool();
  console.log(`== ingest (${pool.length} base bodies, seed ${SEED})`);
  // fixed cases first: bombs, keys, null body
  for (const b of m.gzipBombs()) await ingestOne({ tag: b.tag, bytes: b.bytes, encoding: 'gzip' });
  const good = Buffer.from(JSON.stringify({ ...pool[0], sessionId: g.uuid(r) }));
  for (const k of [null, '', 'dp_' + '0'.repeat(32), key.toUpperCase(), ' ' + key, key + ' ']) {
    if (k === key) continue;
    await ingestOne({ tag: 'badKey', bytes: good, encoding: null }, k);
  }
  await ingestOne({ tag: 'nullBody', bytes: null, encoding: null });
  await ingestOne({ tag: 'overCapPlain', bytes: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20), encoding: null });
  await ingestOne({ tag: 'overCapGzip', bytes: Buffer.alloc(10 * 1024 * 1024 + 1, 0x1f), encoding: 'gzip' });

  let n = 0;
  while (more()) {
    const base = m.clone(r.pick(pool));
    base.sessionId = g.uuid(r);
    const sName = m.pickWeighted(r, m.structural, m.structuralWeights);
    const s = m.structural[sName](r, base);
    let bytes = Buffer.from(s.text ?? JSON.stringify(s.body));
    const rName = m.pickWeighted(r, m.raw, m.rawWeights);
    bytes = m.raw[rName](r, bytes);
    const fName = m.pickWeighted(r, m.framing, m.framingWeights);
    const f = m.framing[fName](r, bytes);
    const tag = [sName, rName, fName].filter((x) => x !== 'valid' && x !== 'none' && x !== 'plain').join('+') || 'valid';
    await ingestOne({ tag, bytes: f.bytes, encoding: f.encoding, note: { structural: sName, raw: rName, framing: fName } });
    await liveCheck('ingest');
    n++;
  }
  console.log(`   ${n} random bodies`);
}

// ---------------------------------------------------------------- pure functions
async function phasePure(share) {
  const more = budget(share);
  console.log('== pure functions and helpers');
  const ints = [null, -1, 0, 1, 30000, 2147483647];
  const fns = [
    ['dozor_build_history', (j) => [`SELECT count(*) FROM dozor_build_history($1::json, $2, $3, $4, $5, $6)`, [j, r.pick([null, 'https://a.example/x', 'not a url', '\ufffd']), r.pick([null, 0, 1741942900000, -1]), r.pick([null, true, false]), r.pick(ints), r.pick(ints)]]],
    ['dozor_console_logs', (j) => [`SELECT count(*) FROM dozor_console_logs($1::json, $2, $3, $4)`, [j, r.pick([null, true, false]), r.pick(ints), r.pick(ints)]]],
    ['dozor_extract_markers', (j) => [`SELECT count(*) AS n FROM dozor_extract_markers($1::json)`, [j]]],
    ['dozor_compress_events', (j) => [`SELECT json_array_length(dozor_compress_events($1::json, $2, $3)) AS n`, [j, r.pick(ints), r.pick(ints)]]],
    ['dozor_map_to_compressed', (j) => [`SELECT dozor_map_to_compressed($1::json, $2, $3, $4)`, [j, r.pick([null, 0, 1741942800000, 1e300, -1e300, 'NaN', 'Infinity']), r.pick(ints), r.pick(ints)]]],
    ['dozor_map_to_real', (j) => [`SELECT dozor_map_to_real($1::json, $2, $3, $4)`, [j, r.pick([null, 0, 1741942800000, 1e300, 'NaN', '-Infinity']), r.pick(ints), r.pick(ints)]]],
  ];
  const sessions = [];
  for (let s = 0; s < 6; s++) sessions.push(g.session(r, { batches: 2, eventsPerBatch: 20 + r.int(60), nodes: 5, hostile: true }).flatMap((b) => b.events));
  let n = 0;
  while (more()) {
    const events = m.clone(r.pick(sessions));
    const body = { sessionId: 'x', events };
    const sName = r.pick(['valid', 'eventNotObject', 'eventDropField', 'eventFieldType', 'eventTimestamp', 'eventType', 'markerTag', 'markerPayload', 'consoleOdd', 'hostileText', 'duplicateKeys', 'eventTimestampText', 'markerDeep', 'dataDeep']);
    const s = m.structural[sName](r, body);
    // raw mutations return the whole body's text: cut the array back out
    const text = s.text ? s.text.slice(s.text.indexOf('"events":') + 9, -1) : JSON.stringify(s.body.events);
    let bytes = Buffer.from(text);
    const rName = r.chance(0.3) ? r.pick(['truncate', 'bitflips', 'insert', 'deleteRange', 'byteSet']) : 'none';
    bytes = m.raw[rName](r, bytes);
    const [fname, build] = r.pick(fns);
    // json parameters must be valid UTF-8 text; invalid bytes are the encoding layer's business
    const json = bytes.toString('utf8');
    const [sql, params] = build(json);
    const res = await call(admin, sql, params);
    const tag = `${fname}:${sName}${rName === 'none' ? '' : '+' + rName}`;
    count('pure', fname, res.ok ? 'ok' : res.code);
    if (!res.ok && !/^(22023|22P02|54000|54001)$/.test(res.code)) notes.push(`${fname}: ${res.code} ${res.message.slice(0, 100)}`);
    await reconnectIfLost(res);
    let pgOwn = false;
    if (!res.ok && res.code === '54001') {
      // PostgreSQL's json input (recursive) may give up before dozor sees the value
      const own = await call(admin, 'SELECT length($1::json::text)', [json]);
      pgOwn = !own.ok && own.code === '54001';
      if (pgOwn) notes.push(`54001 from PostgreSQL's own json input (its parser recurses), not from dozor: ${fname}`);
    }
    if (!res.ok && !pgOwn && (res.lost || !/^(22...|54000)$/.test(res.code))) {
      fail('pure', tag, `SQLSTATE ${res.code}: ${res.message}`, { bytes, note: { sql, params: params.slice(1) } });
    } else if (res.ok && rName === 'none' && !s.text) {
      // exact oracles where the input is known
      const sent = s.body.events;
      if (fname === 'dozor_extract_markers' && Number(res.rows[0].n) !== markersOf({ events: sent }).length) {
        fail('pure', tag, `dozor_extract_markers gave ${res.rows[0].n} markers, expected ${markersOf({ events: sent }).length}`, { bytes });
      }
      if (fname === 'dozor_compress_events' && res.rows[0].n !== sent.length) {
        fail('pure', tag, `dozor_compress_events kept ${res.rows[0].n} of ${sent.length} events`, { bytes });
      }
    }
    await liveCheck('pure');
    n++;
  }
  // helpers on hostile bytes
  const gz = zlib.gzipSync(Buffer.from('hello world '.repeat(100)));
  const gunzipInputs = [Buffer.alloc(0), gz.subarray(0, 20), Buffer.concat([gz, gz]), Buffer.concat([gz, Buffer.from('x')]), m.gzipBombs()[0].bytes, Buffer.from('not gzip')];
  for (let i = 0; i < 200; i++) {
    const b = Buffer.from(r.pick(gunzipInputs));
    if (r.chance(0.5) && b.length) b[r.int(b.length)] ^= 1 << r.int(8);
    const res = await call(admin, 'SELECT length(dozor_gunzip($1::bytea)) AS n', [b]);
    count('pure', 'dozor_gunzip', res.ok ? 'ok' : res.code);
    // the same bounded gunzip as ingest: exactly one answer
    let want = 'ok';
    let why = '';
    try { gunzip(b); } catch (e) { if (!e.codes) throw e; [want] = e.codes; why = e.message; }
    if ((res.ok ? 'ok' : res.code) !== want) fail('pure', 'dozor_gunzip', `got ${res.ok ? 'ok' : `${res.code} (${res.message})`}, oracle expected ${want}${why ? ` (${why})` : ''}`, { bytes: b });
  }
  for (const level of [-1, 0, 6, 12, 13, null]) {
    const res = await call(admin, 'SELECT length(dozor_gzip($1::bytea, $2)) AS n', [Buffer.from('x'.repeat(1000)), level]);
    count('pure', 'dozor_gzip', res.ok ? 'ok' : res.code);
    const want = level === null || (level >= 0 && level <= 12) ? 'ok' : '22023';
    if ((res.ok ? 'ok' : res.code) !== want) fail('pure', 'dozor_gzip', `level ${level}: ${res.ok ? 'ok' : res.code}, expected ${want}`);
  }
  const urlBits = ['http://', 'https://', 'file:', '//', '/', '\\', '..', '.', '%2e', '%', '[', ']', ':', '@', '?', '#', 'xn--', 'a', 'ü', '\u3002', '\ufffd', ' ', '\t', '0x7f', '1.2.3.4', '::1', '%00', 'ab', '%zz'];
  for (let i = 0; i < 500; i++) {
    let u = '';
    const k = 1 + r.int(12);
    for (let j = 0; j < k; j++) u += r.pick(urlBits);
    const res = await call(admin, 'SELECT dozor_url_pathname($1) AS p', [u]);
    count('pure', 'dozor_url_pathname', res.ok ? 'ok' : res.code);
    if (!res.ok) fail('pure', 'dozor_url_pathname', `${JSON.stringify(u)}: SQLSTATE ${res.code}: ${res.message}`);
  }
  const mk = await call(admin, `SELECT * FROM dozor_markers(1, 'bogus')`);
  count('pure', 'dozor_markers', mk.ok ? 'ok' : mk.code);
  if (mk.ok || mk.code !== '22023') fail('pure', 'dozor_markers', `unknown kind filter gave ${mk.ok ? 'rows' : mk.code}, expected 22023`);
  console.log(`   ${n} random arrays`);
}

// ---------------------------------------------------------------- stored-data corruption
const READS = [
  ['dozor_history', (sid) => [`SELECT coalesce(json_agg(h)::text, '[]') AS v FROM dozor_history($1) h`, [sid]]],
  ['dozor_history(raw)', (sid) => [`SELECT coalesce(json_agg(h)::text, '[]') AS v FROM dozor_history($1, false, 30000, 5000) h`, [sid]]],
  ['dozor_events', (sid) => [`SELECT dozor_events($1)::text AS v`, [sid]]],
  ['dozor_events(compressed)', (sid) => [`SELECT dozor_events($1, true)::text AS v`, [sid]]],
  ['dozor_console', (sid) => [`SELECT coalesce(json_agg(c)::text, '[]') AS v FROM dozor_console($1) c`, [sid]]],
  ['dozor_to_compressed', (sid, t) => [`SELECT dozor_to_compressed($1, $2)::text AS v`, [sid, t]]],
  ['dozor_to_real', (sid, t) => [`SELECT dozor_to_real($1, $2)::text AS v`, [sid, t - 100000]]],
];

function corruptBytes(kind, b, other) {
  const x = Buffer.from(b);
  switch (kind) {
    case 'flip1': { const bit = r.int(x.length * 8); x[bit >> 3] ^= 1 << (bit & 7); return x; }
    case 'flipByte': { x[r.int(x.length)] ^= 1 + r.int(255); return x; }
    case 'flipMany': { for (let i = 0; i < 2 + r.int(6); i++) x[r.int(x.length)] ^= 1 << r.int(8); return x; }
    case 'truncate': return x.subarray(0, r.int(x.length));
    case 'append': return Buffer.concat([x, Buffer.from(r.pick(['\0', 'x', '\x1f\x8b', '\x01\x02\x03\x04']))]);
    case 'zero': return Buffer.alloc(x.length);
    case 'random': { const y = Buffer.alloc(r.int(x.length * 2 + 1)); for (let i = 0; i < y.length; i++) y[i] = r.int(256); return y; }
    case 'empty': return Buffer.alloc(0);
    case 'other': return Buffer.from(other);
    default: throw new Error(kind);
  }
}

// Two one-batch sessions alike in every number the row keeps (event count,
// window, stored length, each event's length and class) but not in content
// or inner timestamps: a blob or index swapped between them is caught only
// if it is bound to its row.
function twins(sidA, sidB) {
  const t0 = 1741942800000;
  const at = (i, k) => t0 + i * 100 + (k === 1 && i > 0 && i < 29 ? 7 : 0);
  const pad = (e, n) => { const t = JSON.stringify(e); return JSON.parse(t.replace('"PAD"', JSON.stringify('p'.repeat(n - t.length + 5)))); };
  const logAt = (i, k) => pad({ type: 6, data: { plugin: 'rrweb/console@1', payload: { level: 'log', trace: [], payload: [`"twin ${k}"`], pad: 'PAD' } }, timestamp: at(i, k) }, 200);
  const moveAt = (i, k) => pad({ type: 3, data: { source: 1, v: String(k).repeat(20), pad: 'PAD' }, timestamp: at(i, k) }, 200);
  const events = (k) => Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? logAt(i, k) : moveAt(i, k)));
  return [{ sessionId: sidA, events: events(0) }, { sessionId: sidB, events: events(1) }];
}

async function phaseCorrupt(share) {
  const more = budget(share);
  console.log('== stored-data corruption');
  // sessions to corrupt: the recorded one when present, and generated ones
  const bodies = [];
  const rec = path.join(__dirname, '..', 'data', 'sample-session');
  if (fs.existsSync(rec)) {
    for (const f of fs.readdirSync(rec).filter((x) => x.endsWith('.json.gz')).sort()) bodies.push([zlib.gunzipSync(fs.readFileSync(path.join(rec, f)))]);
  }
  const recordedCount = bodies.length;
  for (let s = 0; s < 4; s++) {
    bodies.push(g.session(r, { batches: 3, eventsPerBatch: 40 + r.int(60), nodes: 10, hostile: s === 0 }).map((b) => Buffer.from(JSON.stringify(b))));
  }
  for (const t of twins(g.uuid(r), g.uuid(r))) bodies.push(Object.assign([Buffer.from(JSON.stringify(t))], { twin: true }));
  const sids = new Set();
  const twinSids = new Set();
  for (const group of bodies) {
    for (const b of group) {
      const res = await call(admin, 'SELECT dozor_ingest($1, $2::bytea) AS sid', [key, b]);
      if (!res.ok) { fail('corrupt', 'setup', `ingest failed: ${res.code} ${res.message}`); continue; }
      sids.add(String(res.rows[0].sid));
      if (group.twin) twinSids.add(String(res.rows[0].sid));
    }
  }
  if (recordedCount) console.log(`   corrupting ${sids.size} sessions (one recorded)`);
  const batches = (await admin.query(`SELECT b.id, b.session_id, b.data, b.event_index, b.raw_bytes, b.event_count, b.first_timestamp, b.last_timestamp,
                                      (SELECT min(first_timestamp) FROM dozor.event_batches x WHERE x.session_id = b.session_id) AS t0
                                      FROM dozor.event_batches b WHERE b.session_id = ANY($1::bigint[]) ORDER BY id`, [[...sids]])).rows;
  // pristine answers
  const baseline = new Map();
  for (const b of batches) {
    if (baseline.has(b.session_id)) continue;
    const t = Number(b.t0) + 60000;
    const answers = {};
    for (const [name, q] of READS) {
      const [sql, params] = q(b.session_id, t);
      const res = await call(admin, sql, params);
      if (!res.ok) fail('corrupt', 'baseline', `${name} on a pristine session: ${res.code} ${res.message}`);
      answers[name] = res.ok ? res.rows[0].v : null;
    }
    baseline.set(b.session_id, { t, answers });
  }
  const kinds = {
    data: ['flip1', 'flip1', 'flipByte', 'flipMany', 'truncate', 'append', 'zero', 'random', 'empty', 'other'],
    event_index: ['flip1', 'flip1', 'flip1', 'flipByte', 'flipMany', 'truncate', 'append', 'zero', 'random', 'empty', 'other'],
    row: ['raw_bytes', 'event_count', 'first_timestamp', 'last_timestamp'],
  };
  const silent = {};
  // First, every run: each twin's blob and index swapped for the other's.
  const twinBatches = batches.filter((x) => twinSids.has(String(x.session_id)));
  const forced = [];
  if (twinBatches.length === 2) {
    for (const where of ['data', 'event_index']) {
      forced.push({ b: twinBatches[0], other: twinBatches[1], where }, { b: twinBatches[1], other: twinBatches[0], where });
    }
  } else fail('corrupt', 'setup', `${twinBatches.length} twin batches stored, expected 2`);
  let n = 0;
  while (more()) {
    const f = forced.shift();
    const b = f ? f.b : r.pick(batches);
    const other = f ? f.other : r.pick(batches.filter((x) => x.id !== b.id));
    const where = f ? f.where : r.pick(['data', 'data', 'event_index', 'event_index', 'row']);
    const kind = f ? 'other' : r.pick(kinds[where]);
    let sql;
    let params;
    if (where === 'row') {
      const isTs = kind.endsWith('timestamp');
      let v;
      if (r.chance(0.7)) {
        v = BigInt(b[kind]) + BigInt(r.pick([1, -1, 1000, -1000, 1000000000, -1000000000]));
        if (!isTs && (v > 2147483647n || v < -2147483648n)) v = -1n;
      } else {
        v = BigInt(r.pick(isTs ? ['0', '-1', '9007199254740992', '9223372036854775807', '-9223372036854775808']
          : ['0', '-1', '2147483647', '-2147483648']));
      }
      v = String(v);
      sql = `UPDATE dozor.event_batches SET ${kind} = $2 WHERE id = $1`;
      params = [b.id, v];
    } else {
      sql = `UPDATE dozor.event_batches SET ${where} = $2 WHERE id = $1`;
      params = [b.id, corruptBytes(kind, b[where], other[where])];
    }
    const tag = `${where}:${kind}`;
    const upd = await call(admin, sql, params);
    if (!upd.ok) { notes.push(`corruption ${tag} not applied: ${upd.message}`); continue; }
    const base = baseline.get(b.session_id);
    for (const [name, q] of READS) {
      const [qs, qp] = q(b.session_id, base.t);
      const res = await call(admin, qs, qp);
      await reconnectIfLost(res);
      let outcome;
      if (res.ok) outcome = res.rows[0].v === base.answers[name] ? 'same' : 'DIFFERENT';
      else if (res.code === 'XX001') outcome = new RegExp(`batch ${b.id}\\b`).test(res.message) ? 'XX001' : 'XX001-no-id';
      else outcome = res.code;
      count('corrupt', `${tag}`, outcome);
      if (outcome === 'same' || outcome === 'XX001') continue;
      if (outcome === 'DIFFERENT') {
        const k = `${tag} -> ${name}`;
        silent[k] = (silent[k] || 0) + 1;
        if (silent[k] === 1) {
          fail('corrupt', tag, `${name} of session ${b.session_id} changed without an error after corrupting batch ${b.id} (${where} ${kind})`,
            { bytes: Buffer.from(JSON.stringify({ batch: b.id, where, kind, value: where === 'row' ? params[1] : params[1].toString('base64') })), note: { replay: 'UPDATE dozor.event_batches SET <where> = <value> WHERE id = <batch>' } });
        }
      } else {
        fail('corrupt', tag, `${name} after corrupting batch ${b.id} (${where} ${kind}): ${res.code || ''} ${res.message || outcome}`);
      }
    }
    // restore, and the pristine answer must come back
    await admin.query(`UPDATE dozor.event_batches SET data = $2, event_index = $3, raw_bytes = $4, event_count = $5, first_timestamp = $6, last_timestamp = $7 WHERE id = $1`,
      [b.id, b.data, b.event_index, b.raw_bytes, b.event_count, b.first_timestamp, b.last_timestamp]);
    await liveCheck('corrupt');
    n++;
  }
  for (const s of new Set(batches.map((b) => b.session_id))) {
    const base = baseline.get(s);
    for (const [name, q] of READS) {
      const [qs, qp] = q(s, base.t);
      const res = await call(admin, qs, qp);
      if (!res.ok || res.rows[0].v !== base.answers[name]) fail('corrupt', 'restore', `${name} of session ${s} differs after restoring`);
    }
  }
  console.log(`   ${n} corruptions of ${batches.length} batches`);
  return silent;
}

// ---------------------------------------------------------------- limits
async function backendPid(c) {
  return (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
}
// Peak resident memory of a backend, in kB (needs /proc access: same host, root or the server's user).
function vmHwm(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1]);
    return { hwm: get('VmHWM'), rss: get('VmRSS'), shmem: get('RssShmem') };
  } catch { return null; }
}
function resetHwm(pid) {
  try { fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch { return false; }
}

// Runs sql on a fresh connection, cancels it after `after` ms; returns how the call ended.
async function cancelAfter(sql, params, after, how) {
  const c = await connect(DB);
  const pid = await backendPid(c);
  if (how === 'timeout') await c.query(`SET statement_timeout = ${Math.max(1, Math.round(after))}`);
  const t0 = Date.now();
  let cancelledAt = null;
  let timer = null;
  if (how === 'cancel') {
    timer = setTimeout(async () => {
      cancelledAt = Date.now();
      try { await admin.query('SELECT pg_cancel_backend($1)', [pid]); } catch { /* raced with the end */ }
    }, after);
  }
  const res = await call(c, sql, params);
  clearTimeout(timer);
  const end = Date.now();
  await c.end().catch(() => {});
  const stopAt = how === 'timeout' ? t0 + after : cancelledAt;
  return { res, total: end - t0, lag: stopAt === null ? null : end - stopAt };
}

async function phaseLimits() {
  console.log('== resource limits');
  // A large session: many batches of many small events (history/console walk them all),
  // and a large pure-function input.
  const sid0 = g.uuid(r);
  const batchesWanted = Number(process.env.HOSTILE_BIG_BATCHES || 120);
  let sid = null;
  let ts = 1741942800000;
  for (let b = 0; b < batchesWanted; b++) {
    const events = [];
    for (let i = 0; i < 500; i++) {
      ts += 1 + (i % 7 === 0 ? 31000 : 20);
      events.push(i % 50 === 0 ? g.consoleEntry(r, ts, false) : { type: 3, data: { source: 1, positions: [{ x: i, y: b, id: 1, timeOffset: 0 }] }, timestamp: ts });
    }
    const res = await call(admin, 'SELECT dozor_ingest($1, $2::bytea) AS sid', [key, Buffer.from(JSON.stringify({ sessionId: sid0, events }))]);
    if (!res.ok) { fail('limits', 'setup', `${res.code} ${res.message}`); return; }
    sid = res.rows[0].sid;
  }
  // Inputs live in a table, so that the measured statements are server-side
  // work only (sending 10 MB from here would blur when a cancel lands).
  await admin.query('CREATE TABLE IF NOT EXISTS hostile_inputs (id int PRIMARY KEY, body bytea, doc json)');
  await admin.query('TRUNCATE hostile_inputs');
  await admin.query('INSERT INTO hostile_inputs (id, doc) SELECT 0, dozor_events($1)', [sid]);
  const bigLen = (await admin.query('SELECT length(doc::text) AS n FROM hostile_inputs WHERE id = 0')).rows[0].n;
  // ingest of a body near the cap: 500 events of ~20 KB; a fresh session per run (no retry)
  const fat = { sessionId: g.uuid(r), events: [] };
  for (let i = 0; i < 500; i++) fat.events.push({ type: 3, data: { source: 0, texts: [{ id: i, value: g.text(r, true).repeat(20) + 'z'.repeat(19000) }] }, timestamp: ts + i });
  for (let i = 1; i <= 6; i++) {
    const b = Buffer.from(JSON.stringify({ ...fat, sessionId: g.uuid(r) }));
    await admin.query('INSERT INTO hostile_inputs (id, body) VALUES ($1, $2)', [i, i <= 3 ? b : zlib.gzipSync(b, { level: 1 })]);
  }
  let run = 0;
  const cases = [
    ['dozor_events', () => ['SELECT length(dozor_events($1)::text)', [sid]]],
    ['dozor_events(compressed)', () => ['SELECT length(dozor_events($1, true)::text)', [sid]]],
    ['dozor_history', () => ['SELECT count(*) FROM dozor_history($1)', [sid]]],
    ['dozor_console', () => ['SELECT count(*) FROM dozor_console($1)', [sid]]],
    ['dozor_to_compressed', () => ['SELECT dozor_to_compressed($1, 0)', [sid]]],
    ['dozor_build_history(json)', () => ['SELECT count(*) FROM dozor_build_history((SELECT doc FROM hostile_inputs WHERE id = 0))', []]],
    ['dozor_compress_events(json)', () => ['SELECT length(dozor_compress_events((SELECT doc FROM hostile_inputs WHERE id = 0))::text)', []]],
    ['dozor_ingest(10MB)', () => ['SELECT dozor_ingest($1, (SELECT body FROM hostile_inputs WHERE id = $2))', [key, 1 + (run++ % 3)]]],
    ['dozor_ingest(10MB gzip)', () => ['SELECT dozor_ingest($1, (SELECT body FROM hostile_inputs WHERE id = $2), \'gzip\')', [key, 4 + (run++ % 3)]]],
  ];
  console.log(`   big session: ${batchesWanted} batches, ${batchesWanted * 500} events; ${(bigLen / 1e6).toFixed(1)} MB as one array`);
  console.log('   call                           full ms  cancel@  lag ms   timeout@  lag ms');
  for (const [name, build] of cases) {
    // the faster of two uncancelled runs: a cold first call would put the
    // cancel point past the end of a warm one
    const runs = [await cancelAfter(...build(), 1e9, 'none'), await cancelAfter(...build(), 1e9, 'none')];
    const failedRun = runs.find((x) => !x.res.ok);
    if (failedRun) { fail('limits', name, `uncancelled call failed: ${failedRun.res.code} ${failedRun.res.message}`); continue; }
    const full = runs[0].total <= runs[1].total ? runs[0] : runs[1];
    const slack = Math.max(LAG_MS, full.total / 2);
    const at = Math.max(2, Math.floor(full.total / 3));
    const c1 = await cancelAfter(...build(), at, 'cancel');
    const c2 = await cancelAfter(...build(), at, 'timeout');
    const show = (x) => (x.res.ok ? 'done' : x.res.code === '57014' ? `${x.lag}` : x.res.code);
    console.log(`   ${name.padEnd(30)} ${String(Math.round(full.total)).padStart(7)}  ${String(at).padStart(7)}  ${show(c1).padStart(6)}   ${String(at).padStart(8)}  ${show(c2).padStart(6)}`);
    for (const [how, x] of [['cancel', c1], ['statement_timeout', c2]]) {
      count('limits', `${name}:${how}`, x.res.ok ? 'completed' : x.res.code);
      if (x.res.ok) {
        // finishing before the cancel could land is fine; running on well
        // past it is not
        if (x.total > at + slack) fail('limits', name, `${how} after ${at} ms did not stop a call that ran ${x.total} ms (${Math.round(full.total)} ms uncancelled)`);
      } else if (x.res.code !== '57014') fail('limits', name, `${how}: ${x.res.code} ${x.res.message}`);
      // The longest step without a CHECK_FOR_INTERRUPTS is libdeflate's one-shot
      // compression of a 10 MiB batch (~150-200 ms on an idle machine); the
      // slack (LAG_MS, 1000 by default) keeps a loaded machine from deciding.
      else if (x.lag > slack) fail('limits', name, `${how}: stopped ${x.lag} ms after the cancel (call takes ${Math.round(full.total)} ms): a loop without CHECK_FOR_INTERRUPTS?`);
    }
  }

  // Sorting an events array: timestamps in reverse order must not cost much
  // more than sorted ones (the stream is a stable sort by timestamp).
  const N = 20000;
  for (const [id, dir] of [[10, 'g'], [11, `${N} - g`]]) {
    await admin.query(`INSERT INTO hostile_inputs (id, doc) SELECT $1, json_agg(json_build_object('type', 3, 'data', '{}'::json, 'timestamp', 1700000000000 + (${dir}) * 10) ORDER BY g) FROM generate_series(1, ${N}) g`, [id]);
  }
  const sortTime = async (id) => {
    const t0 = Date.now();
    const res = await call(admin, 'SELECT count(*) FROM dozor_build_history((SELECT doc FROM hostile_inputs WHERE id = $1))', [id]);
    if (!res.ok) fail('limits', 'sort', `${res.code} ${res.message}`);
    return Date.now() - t0;
  };
  const asc = await sortTime(10);
  const desc = await sortTime(11);
  console.log(`   dozor_build_history of ${N} events: ${asc} ms in order, ${desc} ms in reverse order`);
  // (was a known issue: insertion sort, quadratic in reverse order; fixed)
  if (desc > 10 * asc + 100) fail('limits', 'sort', `${N} events in reverse order took ${desc} ms, in order ${asc} ms: quadratic sort?`);

  // Peak backend memory of worst-case requests, each on a fresh backend
  // (freed memory is not always returned to the OS, so one backend's peaks
  // would hide each other). A tiny ingest first loads what every backend
  // loads anyway (library, compressors, the plpgsql function's plans).
  const probeFirst = await connect(DB);
  const pidFirst = await backendPid(probeFirst);
  const canMeasure = resetHwm(pidFirst) && vmHwm(pidFirst);
  await probeFirst.end();
  if (!canMeasure) {
    notes.push('memory: /proc of the backend not accessible (not root, or the server is remote); skipped');
    return;
  }
  const tenMiB = 10 * 1024 * 1024;
  const bodyOf = (events) => Buffer.from(JSON.stringify({ sessionId: g.uuid(r), events }));
  const oneString = bodyOf([{ type: 3, data: { source: 0, texts: [{ id: 1, value: 'q'.repeat(tenMiB - 200) }] }, timestamp: ts }]);
  const noise = (n) => { let s = ''; while (s.length < n) s += r().toString(36).slice(2); return s.slice(0, n); };
  const randomish = bodyOf(Array.from({ length: 500 }, (_, i) => ({ type: 3, data: { source: 0, texts: [{ id: i, value: noise(20500) }] }, timestamp: ts + i })));
  const markers = bodyOf(Array.from({ length: 500 }, (_, i) => ({ type: 5, data: { tag: 'dozor:m', payload: { i, s: noise(20500) } }, timestamp: ts + i })));
  const traits = { sessionId: g.uuid(r), events: [], metadata: { url: 'https://a.example/', referrer: '', userAgent: 'x', screenWidth: 1, screenHeight: 1, language: 'en', userIdentity: { userId: 'mem', traits: {} } } };
  for (let i = 0; i < 100000; i++) traits.metadata.userIdentity.traits['k' + i] = noise(80);
  let traitsBytes = Buffer.from(JSON.stringify(traits));
  if (traitsBytes.length > tenMiB) traitsBytes = traitsBytes.subarray(0, 0); // keep under the cap
  const zeros = (n) => '[' + '0,'.repeat(n - 1) + '0]';
  const tinyMarkers = Buffer.from(JSON.stringify({ sessionId: g.uuid(r), events: Array.from({ length: 500 }, (_, i) => ({ type: 5, data: { tag: 'dozor:z', payload: 'P' }, timestamp: ts + i })) })
    .replace(/"P"/g, zeros(10400)));
  const tinyTraits = Buffer.from(JSON.stringify(traits).replace(/"traits":\{.*\}\}\}$/, `"traits":{"z":${zeros(5200000)}}}}}`));
  const worst = [
    // jsonb_in keeps every marker's parse tree until the call ends (reported)
    // each payload is parsed in a scratch context, and capped at 1 MiB
    ['500 markers of 10400 zeros each', tinyMarkers, null],
    ['traits: one array of 5.2M zeros', tinyTraits, null],
    ['10 MiB body, one string', oneString, null],
    ['10 MiB body, one string, gzip', zlib.gzipSync(oneString), 'gzip'],
    ['500 incompressible 20 KB events', randomish, null],
    ['500 markers with 20 KB payloads', markers, null],
    ['traits object near 10 MiB', traitsBytes, null],
    ['gzip bomb (1 GiB of spaces)', m.gzipBombs()[0].bytes, 'gzip'],
  ];
  const boundMB = Number(process.env.HOSTILE_MEM_BOUND_MB || 200);
  console.log(`   backend peak memory of one ingest (VmHWM over a warmed-up fresh backend; bound ${boundMB} MB):`);
  for (const [name, bytes, enc] of worst) {
    if (bytes.length === 0) continue;
    const probe = await connect(DB);
    const pid = await backendPid(probe);
    await call(probe, 'SELECT dozor_ingest($1, $2::bytea)', [key, Buffer.from(JSON.stringify({ sessionId: g.uuid(r), events: [{ type: 5, data: { tag: 'dozor:warm', payload: { a: [1] } }, timestamp: ts }], metadata: { url: 'https://a.example/', referrer: '', userAgent: 'x', screenWidth: 1, screenHeight: 1, language: 'en', userIdentity: { userId: 'w', traits: { a: 1 } } } }))]);
    resetHwm(pid);
    const before = vmHwm(pid);
    const res = await call(probe, 'SELECT dozor_ingest($1, $2::bytea, $3)', [key, bytes, enc]);
    const after = vmHwm(pid);
    await probe.end();
    const grew = (after.hwm - before.rss) / 1024;
    count('limits', `memory:${name}`, res.ok ? 'ok' : res.code);
    console.log(`     ${name.padEnd(34)} body ${(bytes.length / 1048576).toFixed(1).padStart(5)} MiB  ${res.ok ? 'stored ' : res.code + '  '}  peak +${grew.toFixed(0)} MB`);
    notes.push(`memory: ${name}: peak +${grew.toFixed(0)} MB (${res.ok ? 'stored' : res.code})`);
    if (grew > boundMB) fail('limits', `memory:${name}`, `one ingest grew the backend by ${grew.toFixed(0)} MB (bound: ${boundMB} MB)`);
  }
}

// ---------------------------------------------------------------- main
async function main() {
  const logFrom = logSize();
  await setup();
  const shares = { ingest: 0.5, pure: 0.15, corrupt: 0.35, limits: 0 };
  const total = PHASES.reduce((s, p) => s + (shares[p] ?? 0), 0) || 1;
  let silent = {};
  try {
    for (const p of PHASES) {
      // a count is split by fixed shares (a phase replays alone); a time by the phases run
      const share = (shares[p] ?? 0) / (COUNT !== null ? 1 : total);
      seedPhase(p);
      if (p === 'ingest') await phaseIngest(share);
      else if (p === 'pure') await phasePure(share);
      else if (p === 'corrupt') silent = await phaseCorrupt(share);
      else if (p === 'limits') await phaseLimits();
      else throw new Error(`unknown phase ${p}`);
    }
  } catch (e) {
    fail('harness', 'exception', e.stack || String(e));
  }
  const up = await serverUp(DB);
  if (!up) fail('end', 'server', 'server does not accept connections at the end');
  const crashes = logCrashes(logFrom);
  if (crashes.lines.length) fail('end', 'server-log', `server log shows dead backends:\n    ${crashes.lines.slice(0, 5).join('\n    ')}`);

  // summary: per phase and tag family, outcome counts
  console.log('== summary (calls: outcomes)');
  const byPhase = {};
  for (const [k, v] of Object.entries(stats)) {
    const [phase, tag] = k.split(/:(.*)/s);
    const family = phase === 'ingest' ? tag.split('+')[0] : phase === 'corrupt' ? tag : tag.replace(/:.*/, '');
    const key2 = `${phase}:${family}`;
    byPhase[key2] = byPhase[key2] || { calls: 0, outcomes: {} };
    byPhase[key2].calls += v.calls;
    for (const [o, c] of Object.entries(v.outcomes)) byPhase[key2].outcomes[o] = (byPhase[key2].outcomes[o] || 0) + c;
  }
  let calls = 0;
  for (const [k, v] of Object.entries(byPhase).filter(([k]) => !k.startsWith('known:')).sort()) {
    calls += v.calls;
    console.log(`   ${k.padEnd(40)} ${String(v.calls).padStart(6)}: ${Object.entries(v.outcomes).sort((a, b) => b[1] - a[1]).map(([o, c]) => `${o} ${c}`).join(', ')}`);
  }
  const knownIssues = Object.entries(stats).filter(([k]) => k.startsWith('known:'));
  if (knownIssues.length) {
    console.log('   KNOWN ISSUES (reported in src, not fixed yet; HOSTILE_STRICT=1 makes them fail):');
    for (const [k, v] of knownIssues) console.log(`     ${k.slice(6)}: ${v.calls} (${Object.entries(v.outcomes).map(([o, c]) => `${o} ${c}`).join(', ')})`);
  }
  if (Object.keys(silent).length) {
    console.log('   silent wrong answers after corruption (no error, different result):');
    for (const [k, v] of Object.entries(silent)) console.log(`     ${k}: ${v}`);
  }
  for (const [n, c] of [...noteCounts].slice(0, 40)) console.log(`   note: ${n}${c > 1 ? ` (x${c})` : ''}`);
  console.log(`hostile: ${calls} calls, ${failures.length} failures, server ${up ? 'up' : 'DOWN'}, log ${crashes.checked ? (crashes.lines.length ? 'shows crashes' : 'clean') : 'not checked (DOZOR_PG_LOG unset)'}; seed ${SEED}`);
  const budgetArg = COUNT !== null ? `--count ${COUNT}` : `--seconds ${SECONDS} (time-based: may not replay exactly)`;
  console.log(`replay: scripts/with-temp-pg.sh node test/hostile/hostile.js --seed ${SEED} ${budgetArg} --phases ${PHASES.join(',')}`);
  await admin.end().catch(() => {});
  if (!process.env.HOSTILE_KEEP_DB) {
    const c = await connect(process.env.PGDATABASE || 'postgres');
    await c.query(`DROP DATABASE IF EXISTS ${DB}`).catch(() => {});
    await c.end();
  }
  process.exit(failures.length || (process.env.HOSTILE_STRICT && knownIssues.length) ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
