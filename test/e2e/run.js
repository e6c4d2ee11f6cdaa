// End-to-end: real rrweb in real Chromium → examples/http → dozor → feeds.
//
// Expects DOZOR_API (base URL of a running examples/http server) and the PG*
// variables of the same database, with the dozor extension created in it.
// run.sh sets all of that up; see README.txt beside this file.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawn } = require('node:child_process');
const { isDeepStrictEqual, inspect } = require('node:util');
const { Client, types } = require('pg');
const { startSite } = require('./lib/site');
const { launch, recordCheckout, recordBusy } = require('./lib/browser');
const ref = require('./lib/reference');

types.setTypeParser(20, Number);
const API = (process.env.DOZOR_API || '').replace(/\/$/, '');
const OUT = path.join(__dirname, 'out');
const BUSY_ROUNDS = Number(process.env.BUSY_ROUNDS || 40000);

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - ${name}`); return true; }
  failed++;
  console.log(`FAIL - ${name}${detail ? `\n    ${String(detail).split('\n').join('\n    ')}` : ''}`);
  return false;
}
const show = (v) => inspect(v, { depth: 6, breakLength: 140, maxStringLength: 300 });
// Deep equality of two row lists; on failure names the first differing row.
function same(name, actual, expected) {
  if (isDeepStrictEqual(actual, expected)) return check(name, true);
  const n = Math.max(actual.length ?? 0, expected.length ?? 0);
  for (let i = 0; i < n; i++) {
    if (!isDeepStrictEqual(actual[i], expected[i])) {
      return check(name, false, `${actual.length} rows vs ${expected.length} expected; first difference at [${i}]:\n` +
        `got      ${show(actual[i])}\nexpected ${show(expected[i])}`);
    }
  }
  return check(name, false, `got ${show(actual)}\nexpected ${show(expected)}`);
}
// Byte-for-byte equality of two lists of event texts.
function sameTexts(name, actual, expected) {
  if (actual.length === expected.length && actual.every((t, i) => t === expected[i])) return check(name, true);
  const i = actual.findIndex((t, k) => t !== expected[k]);
  const k = i < 0 ? Math.min(actual.length, expected.length) : i;
  return check(name, false, `${actual.length} events vs ${expected.length} expected; first difference at [${k}]:\n` +
    `got      ${String(actual[k]).slice(0, 400)}\nexpected ${String(expected[k]).slice(0, 400)}`);
}

async function http(method, p, { key, body, encoding, type = 'application/json', base = API } = {}) {
  const headers = {};
  if (key !== undefined) headers['X-Dozor-Public-Key'] = key;
  if (encoding) headers['Content-Encoding'] = encoding;
  if (body !== undefined) headers['Content-Type'] = type;
  const res = await fetch(base + p, { method, headers, body });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

// Every check for one recorded session; returns its internal id.
async function checkSession(db, label, rec, apiKey) {
  const P = `${label}: `;
  const answered = rec.requests.filter((r) => !r.retry);
  if (!check(P + `every batch was answered 204 (${rec.requests.length} requests)`,
    rec.requests.every((r) => r.status === 204),
    rec.requests.filter((r) => r.status !== 204).slice(0, 5)
      .map((r) => `batch ${r.seq} try ${r.attempt}: ${r.status} ${r.error}`).join('\n'))) return null;
  const items = rec.emitted.map((text) => ({ text, ev: JSON.parse(text) }));
  const stream = ref.sessionStream(items);
  const evs = stream.map((x) => x.ev);
  const stamps = evs.map((e) => e.timestamp);
  const minTs = Math.min(...stamps);
  const maxTs = Math.max(...stamps);

  const { rows: sess } = await db.query(`SELECT id, url, user_agent, screen_width, screen_height, language,
      (extract(epoch FROM started_at) * 1000)::bigint AS started_ms,
      (extract(epoch FROM ended_at) * 1000)::bigint AS ended_ms, duration, event_count, tracked_user_id
    FROM dozor.sessions WHERE external_id = $1`, [rec.sessionId]);
  if (!check(P + 'one session row for the recorded session id', sess.length === 1, `${sess.length} rows`)) return null;
  const s = sess[0];
  same(P + 'session row: url, window, counts, metadata', {
    url: s.url, started: s.started_ms, ended: s.ended_ms, duration: s.duration, events: s.event_count,
    headless: /HeadlessChrome/.test(s.user_agent), screen: [s.screen_width > 0, s.screen_height > 0], language: s.language,
  }, {
    url: rec.firstUrl, started: minTs, ended: maxTs, duration: Math.round((maxTs - minTs) / 1000), events: items.length,
    headless: true, screen: [true, true], language: 'en-US',
  });

  // The merged stream: every emitted event, byte-identical, in stream order.
  const merged = (await db.query('SELECT dozor_events($1)::text AS j', [s.id])).rows[0].j;
  sameTexts(P + `dozor_events has all ${items.length} emitted events byte-identical, in order`,
    ref.splitJsonArray(merged), stream.map((x) => x.text));
  if (rec.typed) {
    check(P + 'nothing typed into inputs is stored (maskAllInputs)', rec.typed.every((t) => !merged.includes(t)),
      rec.typed.filter((t) => merged.includes(t)).join(', '));
  }
  // The same on the idle-compressed timeline: only the top-level timestamp moves.
  const tl = ref.timeline(stamps);
  const expectCompressed = stream.map((x, i) => {
    const m = /"timestamp":(\d+)}$/.exec(x.text);
    return m ? x.text.slice(0, m.index) + `"timestamp":${tl.compressed[i]}}` : x.text;
  });
  const mergedC = (await db.query('SELECT dozor_events($1, true)::text AS j', [s.id])).rows[0].j;
  sameTexts(P + 'dozor_events(compress_idle) moves only the timestamps, as docs/HISTORY.md §3 says',
    ref.splitJsonArray(mergedC), expectCompressed);

  // Batches: one per accepted request with events (the retry added none),
  // each holding exactly the texts that request carried.
  const sent = [];
  let offset = 0;
  for (const r of answered) {
    if (r.eventCount === 0) continue;
    sent.push({ texts: rec.emitted.slice(offset, offset + r.eventCount), first: r.firstTimestamp, last: r.lastTimestamp });
    offset += r.eventCount;
  }
  const { rows: batches } = await db.query('SELECT * FROM dozor_session_batches($1)', [s.id]);
  const retries = rec.requests.filter((r) => r.retry).length;
  check(P + `${sent.length} batches stored for ${answered.length} requests + ${retries} forced retry`,
    batches.length === sent.length, `${batches.length} batches`);
  const stored = batches.map((b) => ({
    texts: ref.splitJsonArray(zlib.gunzipSync(Buffer.from(b.data, 'base64')).toString('utf8')),
    first: b.first_timestamp, last: b.last_timestamp, count: b.event_count,
  }));
  const expectBatches = sent.map((b) => ({ ...b, count: b.texts.length }))
    .map((b, k) => [b, k]).sort((a, b) => (a[0].first - b[0].first) || (a[1] - b[1])).map((p) => p[0]);
  sameTexts(P + 'each stored batch gunzips to exactly the events its request carried',
    stored.flatMap((b) => b.texts), expectBatches.flatMap((b) => b.texts));
  same(P + 'batch first/last timestamp and event count', stored.map(({ first, last, count }) => ({ first, last, count })),
    expectBatches.map(({ first, last, count }) => ({ first, last, count })));

  // Markers, history and console against the reference reading of docs/HISTORY.md.
  const mk = (await db.query('SELECT * FROM dozor_markers($1)', [s.id])).rows;
  same(P + 'dozor_markers: the metadata url marker plus every dozor:* event', mk, ref.markers(evs, rec.firstUrl));
  const hist = (await db.query('SELECT * FROM dozor_history($1)', [s.id])).rows;
  same(P + 'dozor_history (idle-compressed) equals the dashboard rules', hist,
    ref.historyFeed(evs, { initialUrl: rec.firstUrl, sessionEndedAt: maxTs }));
  const histRaw = (await db.query('SELECT * FROM dozor_history($1, false)', [s.id])).rows;
  same(P + 'dozor_history (real timeline) equals the dashboard rules', histRaw,
    ref.historyFeed(evs, { initialUrl: rec.firstUrl, sessionEndedAt: maxTs, compressIdle: false }));
  const cons = (await db.query('SELECT * FROM dozor_console($1)', [s.id])).rows;
  same(P + 'dozor_console (idle-compressed) equals the dashboard rules', cons, ref.consoleFeed(evs));
  const consRaw = (await db.query('SELECT * FROM dozor_console($1, false)', [s.id])).rows;
  same(P + 'dozor_console (real timeline) equals the dashboard rules', consRaw, ref.consoleFeed(evs, { compressIdle: false }));

  // The pure counterparts over the merged stream agree with the session functions.
  const pure = (await db.query(`WITH e AS (SELECT dozor_events($1) AS j)
    SELECT (SELECT json_agg(h) FROM dozor_build_history((SELECT j FROM e), $2, $3, true) h)::text AS hist,
           (SELECT json_agg(c) FROM dozor_console_logs((SELECT j FROM e), true) c)::text AS cons,
           (SELECT json_agg(m) FROM dozor_extract_markers((SELECT j FROM e)) m)::text AS markers,
           dozor_compress_events((SELECT j FROM e))::text = dozor_events($1, true)::text AS compressed_same`,
  [s.id, rec.firstUrl, maxTs])).rows[0];
  const jsonRows = (rows) => (rows.length ? JSON.parse(JSON.stringify(rows)) : null);
  same(P + 'pure counterparts (dozor_build_history, dozor_console_logs, dozor_extract_markers, dozor_compress_events) agree',
    [JSON.parse(pure.hist), JSON.parse(pure.cons), JSON.parse(pure.markers), pure.compressed_same],
    [jsonRows(hist), jsonRows(cons), jsonRows(mk.slice(1)), true]);
  // Timeline mapping, both ways, at every event timestamp and mid-gap.
  const probes = [...new Set([...stamps, ...tl.ranges.map((r) => (r.origStart + r.origEnd) / 2)])];
  const mapped = (await db.query(`SELECT t, dozor_to_compressed($1, t) AS c, dozor_to_real($1, dozor_to_compressed($1, t)) AS r
    FROM unnest($2::float8[]) t`, [s.id, probes])).rows;
  same(P + `dozor_to_compressed / dozor_to_real at ${probes.length} points`,
    mapped.map((m) => [m.t, m.c, m.r]), probes.map((t) => [t, tl.toCompressed(t), t]));

  // The same feeds through the HTTP layer.
  for (const [p, rows] of [['history', hist], ['console', cons], ['markers', mk]]) {
    const r = await http('GET', `/api/sessions/${s.id}/${p}`);
    check(P + `GET /api/sessions/{id}/${p}: 200, no-store, same rows as SQL`,
      r.status === 200 && r.headers.get('cache-control') === 'no-store' && isDeepStrictEqual(r.json, rows),
      `${r.status} ${r.headers.get('cache-control')} ${r.text.slice(0, 300)}`);
  }
  const ev = await http('GET', `/api/sessions/${s.id}/events`);
  check(P + 'GET /api/sessions/{id}/events: {batches, nextCursor: null} with the stored batches',
    ev.status === 200 && ev.json && ev.json.nextCursor === null && Array.isArray(ev.json.batches) &&
    isDeepStrictEqual(ev.json.batches.map((b) => [b.id, b.data]), batches.map((b) => [b.id, b.data])),
    `${ev.status} ${ev.text.slice(0, 300)}`);
  const det = await http('GET', `/api/sessions/${s.id}`);
  const d = det.json || {};
  check(P + 'GET /api/sessions/{id}: 200, no-store, the session with its markers inline',
    det.status === 200 && det.headers.get('cache-control') === 'no-store' && d.sessionId === rec.sessionId &&
    d.eventCount === items.length && d.url === rec.firstUrl && isDeepStrictEqual(d.markers, mk),
    `${det.status} ${det.text.slice(0, 400)}`);
  return { id: s.id, evs, hist, cons, mk, batches: batches.length, apiKey };
}

// Scenario-specific expectations, stated plainly (not via the reference).
function checkCheckoutMeaning(co, got) {
  const P = 'checkout: ';
  const { hist, cons, mk } = got;
  const init = hist[0] || {};
  check(P + 'history starts with the init section at the first URL',
    init.kind === 'init' && init.url === co.firstUrl && init.pathname === '/shop/', show(init));
  same(P + 'one navigation per route change, in order (query/hash-only changes excluded)',
    hist.filter((r) => r.kind === 'navigation').map((r) => r.pathname), co.routes);
  const idles = hist.filter((r) => r.kind === 'idle');
  check(P + `${co.jumps.length} idle items, one per clock jump, each spanning its jump`,
    idles.length === co.jumps.length && co.jumps.every((j, k) => {
      const real = idles[k] && idles[k].real_duration_ms;
      const start = Number(idles[k] && idles[k].id.split('-')[2]);
      return real >= j.ms && start <= j.at && start + real >= j.at + j.ms;
    }), show({ idles, jumps: co.jumps }));
  check(P + 'idle items last cap_ms (5 s) on the compressed timeline',
    idles.every((r) => r.ended_at - r.started_at === 5000), show(idles));
  const ids = hist.filter((r) => r.kind === 'identify');
  same(P + 'the identify item with its traits', ids.map((r) => ({ userId: r.user_id, traits: r.traits })), [co.identity]);
  same(P + 'every console call with the right level, in order',
    cons.map((r) => [r.level, (r.payload[0] || '').replace(/^"(Error: )?|"$|\\n[^]*$/g, '')]), co.consoleCalls);
  same(P + 'markers: initial url, 5 navigations, 1 identity',
    mk.map((m) => m.kind + (m.kind === 'url' ? ' ' + m.data.pathname : ' ' + m.data.userId)),
    ['url /shop/', ...co.routes.slice(0, 4).map((p) => 'url ' + p), 'identity user-42', 'url /shop/confirm']);
}

async function checkTrackedUser(db, label, identity, id) {
  const { rows } = await db.query(`SELECT u.external_id, u.traits FROM dozor.sessions s
    JOIN dozor.tracked_users u ON u.id = s.tracked_user_id WHERE s.id = $1`, [id]);
  same(`${label}: the session is linked to the tracked user with its traits`,
    rows, [{ external_id: identity.userId, traits: ref.deepPgText(identity.traits) }]);
}

// Misbehaving clients through HTTP; the server must answer each and stay healthy.
async function checkBadClients(db, apiKey) {
  const uuid = () => crypto.randomUUID();
  const body = (events, extra = {}) => JSON.stringify({ sessionId: uuid(), events, ...extra });
  const ev = (i) => ({ type: 3, data: { source: 1, positions: [{ x: i, y: i, id: 1, timeOffset: 0 }] }, timestamp: 1700000000000 + i });
  const pre = await http('OPTIONS', '/api/ingest');
  check('CORS preflight: 204 with the SDK headers allowed',
    pre.status === 204 && pre.headers.get('access-control-allow-origin') === '*' &&
    /X-Dozor-Public-Key/i.test(pre.headers.get('access-control-allow-headers') || '') &&
    /Content-Encoding/i.test(pre.headers.get('access-control-allow-headers') || '') &&
    /POST/.test(pre.headers.get('access-control-allow-methods') || ''), show([...pre.headers]));
  const cases = [
    ['wrong key', 401, { key: 'dp_' + '0'.repeat(32), body: body([ev(1)]) }],
    ['missing key', 401, { body: body([ev(1)]) }],
    ['garbage body', 400, { key: apiKey, body: 'this is not json {' }],
    ['gzip header on a plain body', 400, { key: apiKey, body: body([ev(1)]), encoding: 'gzip' }],
    ['truncated gzip', 400, { key: apiKey, body: zlib.gzipSync(body([ev(1)])).subarray(0, 30), encoding: 'gzip' }],
    ['unknown content encoding', 400, { key: apiKey, body: body([ev(1)]), encoding: 'br' }],
    ['bad session id', 400, { key: apiKey, body: JSON.stringify({ sessionId: 'not-a-uuid', events: [] }) }],
    ['event without timestamp', 400, { key: apiKey, body: body([{ type: 3, data: {} }]) }],
    ['501 events', 413, { key: apiKey, body: body(Array.from({ length: 501 }, (_, i) => ev(i))) }],
    ['11 MiB body', 413, { key: apiKey, body: body([{ type: 5, data: { tag: 'x', payload: 'x'.repeat(11 << 20) }, timestamp: 1 }]) }],
    ['gzip bomb (40 KB → 40 MiB)', 413, { key: apiKey, encoding: 'gzip',
      body: zlib.gzipSync(Buffer.concat([Buffer.from('{"sessionId":"' + uuid() + '","events":[],"pad":"'),
        Buffer.alloc(40 << 20, 0x61), Buffer.from('"}')]), { level: 9 }) }],
  ];
  for (const [name, want, opt] of cases) {
    const r = await http('POST', '/api/ingest', opt);
    check(`bad client, ${name}: HTTP ${want}`, r.status === want, `${r.status} ${r.text.slice(0, 200)}`);
  }
  const gone = await http('GET', '/api/sessions/999999999');
  check('unknown session id: 404', gone.status === 404, `${gone.status} ${gone.text}`);
  const junk = await http('GET', '/api/sessions/abc/history');
  check('non-numeric session id: 400', junk.status === 400, `${junk.status} ${junk.text}`);
  const kind = await http('GET', '/api/sessions/1/markers?kind=bogus');
  check('unknown marker kind filter: 400', kind.status === 400, `${kind.status} ${kind.text}`);
  const health = await http('GET', '/healthz');
  const sid = uuid();
  const ok = await http('POST', '/api/ingest', { key: apiKey, body: JSON.stringify({ sessionId: sid, events: [ev(1), ev(2)] }) });
  const { rows } = await db.query('SELECT event_count FROM dozor.sessions WHERE external_id = $1', [sid]);
  check('after all that the server is healthy and ingests', health.status === 200 && ok.status === 204 &&
    rows.length === 1 && rows[0].event_count === 2, `${health.status} ${ok.status} ${show(rows)}`);
}

async function checkCancel(db, apiKey, otherKey) {
  const sid = crypto.randomUUID();
  const events = [{ type: 5, data: { tag: 'dozor:url', payload: { url: 'https://a.test/x', pathname: '/x' } }, timestamp: 1700000000000 }];
  await http('POST', '/api/ingest', { key: apiKey, body: JSON.stringify({ sessionId: sid, events }) });
  const count = async () => (await db.query(`SELECT (SELECT count(*) FROM dozor.sessions WHERE external_id = $1)::int AS s,
      (SELECT count(*) FROM dozor.event_batches b JOIN dozor.sessions s ON s.id = b.session_id WHERE s.external_id = $1)::int AS b`,
  [sid])).rows[0];
  const before = await count();
  const cancel = (key, b) => http('POST', '/api/sessions/cancel', { key, body: b ?? JSON.stringify({ sessionId: sid }) });
  const a = await cancel(otherKey);
  const mid = await count();
  const w = await cancel('dp_' + 'f'.repeat(32));
  const bad = await cancel(apiKey, '{"sessionId": "nope"}');
  const none = await cancel(apiKey, '{}');
  const c = await cancel(apiKey);
  const after = await count();
  const again = await cancel(apiKey);
  same('cancel: other project no-op, wrong key 401, bad or no id 400, own key deletes, repeat is a no-op',
    [before, a.status, mid, w.status, bad.status, none.status, c.status, after, again.status],
    [{ s: 1, b: 1 }, 204, { s: 1, b: 1 }, 401, 400, 400, 204, { s: 0, b: 0 }, 204]);
  // A batch that was in flight when the SDK cancelled: acknowledged (204,
  // no retry) and discarded, plain or gzip.
  const late = JSON.stringify({ sessionId: sid, events: [{ ...events[0], timestamp: 1700000005000 }] });
  const plain = await http('POST', '/api/ingest', { key: apiKey, body: late });
  const gz = await http('POST', '/api/ingest', { key: apiKey, body: zlib.gzipSync(late), encoding: 'gzip' });
  same('cancel: late batches after the cancel answer 204 and store nothing (plain, gzip)',
    [plain.status, gz.status, await count()], [204, 204, { s: 0, b: 0 }]);
}

// Erasure of a person through the dashboard endpoint: the user's sessions in
// the project go (and stay gone), the namesake in another project stays.
async function checkErase(db, apiKey, otherKey) {
  const user = 'erase me/é';
  const sids = [crypto.randomUUID(), crypto.randomUUID()];
  const body = (sid, ts) => JSON.stringify({ sessionId: sid,
    events: [{ type: 3, data: { source: 2, type: 2 }, timestamp: ts }],
    metadata: { url: 'https://a.test/', referrer: '', userAgent: 'e2e', screenWidth: 1, screenHeight: 1,
      language: 'en', userIdentity: { userId: user } } });
  for (const sid of sids) await http('POST', '/api/ingest', { key: apiKey, body: body(sid, 1700000000000) });
  await http('POST', '/api/ingest', { key: otherKey, body: body(sids[0], 1700000000000) });
  const project = async (key) => (await db.query('SELECT dozor_project_of_key($1) AS p', [key])).rows[0].p;
  const [pa, pb] = [await project(apiKey), await project(otherKey)];
  const rows = async (p) => (await db.query(`SELECT count(*)::int AS n FROM dozor.sessions s
      JOIN dozor.tracked_users u ON u.id = s.tracked_user_id WHERE s.project_id = $1 AND u.external_id = $2`,
  [p, user])).rows[0].n;
  const url = (p) => `/api/projects/${p}/users/${encodeURIComponent(user)}`;
  const before = [await rows(pa), await rows(pb)];
  const erased = await http('DELETE', url(pa));
  const late = await http('POST', '/api/ingest', { key: apiKey, body: body(sids[1], 1700000009000) });
  const left = (await db.query('SELECT count(*)::int AS n FROM dozor.sessions WHERE project_id = $1 AND external_id = ANY($2::uuid[])',
    [pa, sids])).rows[0].n;
  const again = await http('DELETE', url(pa));
  const junk = await http('DELETE', '/api/projects/abc/users/x');
  same('erase: 200 with the count, a late batch 204 and discarded, the other project untouched, again 0, bad id 400',
    [before, erased.status, erased.json, late.status, left, await rows(pb), again.json, junk.status],
    [[2, 1], 200, { sessionsRemoved: 2 }, 204, 0, 1, { sessionsRemoved: 0 }, 400]);
}

// The committed sample session (test/data/sample-session): replayed through
// HTTP as its SDK sent it, then again into a second project with every body
// sent twice, all at once, last first: concurrent, out-of-order and duplicate
// deliveries must end in exactly the same session.
async function checkSample(db) {
  const project = async (name) => (await db.query('SELECT * FROM dozor_create_project($1)', [name])).rows[0];
  const { project_id: projectId, api_key: apiKey } = await project('e2e sample');
  const { project_id: stormProject, api_key: stormKey } = await project('e2e sample storm');
  const dir = path.join(__dirname, '../data/sample-session');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const bodies = manifest.batches.map((b) => fs.readFileSync(path.join(dir, b.file)));
  const post = (key, body) => http('POST', '/api/ingest', { key, body, encoding: 'gzip' });
  const rec = { sessionId: manifest.sessionId, firstUrl: manifest.firstUrl, emitted: [], requests: [] };
  for (const [k, body] of bodies.entries()) {
    const text = zlib.gunzipSync(body).toString('utf8');
    const texts = ref.splitJsonArray(text.slice(text.indexOf('"events":') + 9));
    rec.emitted.push(...texts);
    const r = await post(apiKey, body);
    rec.requests.push({ seq: k + 1, retry: false, attempt: 1, status: r.status, error: r.status === 204 ? null : r.text,
      eventCount: texts.length, firstTimestamp: manifest.batches[k].firstTimestamp, lastTimestamp: manifest.batches[k].lastTimestamp });
  }
  check(`sample: manifest says ${manifest.events} events, the bodies hold ${rec.emitted.length}`,
    manifest.events === rec.emitted.length);
  const got = await checkSession(db, 'sample', rec, apiKey);
  if (!got) return null;
  same('sample: navigations, idle gaps and identify as the manifest says', {
    navigations: got.hist.filter((r) => r.kind === 'navigation').map((r) => r.pathname),
    idle: got.hist.filter((r) => r.kind === 'idle').length,
    identify: got.hist.filter((r) => r.kind === 'identify').map((r) => ({ userId: r.user_id, traits: r.traits })),
    console: got.cons.length,
  }, { navigations: manifest.navigations, idle: manifest.idleGapsMs.length, identify: [manifest.identify],
    console: manifest.consoleEntries });

  const storm = [...bodies, ...bodies].reverse();
  const statuses = await Promise.all(storm.map((b) => post(stormKey, b).then((r) => r.status)));
  // The session first, then each read by its id: a call per session, as an
  // HTTP layer makes them (on Citus each is delegated to the session's worker).
  const snapshot = async (projectId) => {
    const rows = (await db.query(`SELECT s.id, s.event_count, s.started_at, s.ended_at, s.duration,
        s.url, u.external_id AS user_id
      FROM dozor.sessions s LEFT JOIN dozor.tracked_users u ON u.id = s.tracked_user_id
      WHERE s.external_id = $1 AND s.project_id = $2`, [manifest.sessionId, projectId])).rows;
    for (const r of rows) {
      r.events = (await db.query('SELECT dozor_events($1)::text AS v', [r.id])).rows[0].v;
      r.markers = (await db.query('SELECT json_agg(m)::text AS v FROM dozor_markers($1) m', [r.id])).rows[0].v;
      r.batches = (await db.query('SELECT count(*)::int AS v FROM dozor.event_batches b WHERE b.session_id = $1',
        [r.id])).rows[0].v;
      delete r.id;
    }
    return rows;
  };
  const [inOrder] = await snapshot(projectId);
  const stormed = await snapshot(stormProject);
  check(`sample: ${storm.length} concurrent deliveries, duplicated and last-first, all 204`,
    statuses.every((x) => x === 204), statuses.join(' '));
  // Exactly-once and window arithmetic under concurrency and disorder.
  const core = ['event_count', 'started_at', 'ended_at', 'duration', 'user_id', 'events', 'batches'];
  const diff = (keys) => (stormed.length !== 1 ? `${stormed.length} sessions` : keys
    .filter((k) => !isDeepStrictEqual(inOrder[k], stormed[0][k]))
    .map((k) => `${k}: ${String(stormed[0][k]).slice(0, 200)}\n  vs in order: ${String(inOrder[k]).slice(0, 200)}`).join('\n'));
  check('sample: …and they end in the same events, batches, window, counts and user as the in-order replay',
    stormed.length === 1 && core.every((k) => isDeepStrictEqual(stormed[0][k], inOrder[k])), diff(core));
  // The metadata rides on the first batch sent; when a later batch arrives
  // first (a retried first batch), the session should still get its url and
  // the initial url marker once the metadata arrives.
  check('sample: …and the same url and markers, though the metadata batch arrived late',
    stormed.length === 1 && ['url', 'markers'].every((k) => isDeepStrictEqual(stormed[0][k], inOrder[k])),
    diff(['url', 'markers']));
  return got;
}

// 42501 → 403: a second instance of the HTTP layer, connected as a role with
// no grant on dozor's tables.
async function checkForbidden(db, apiKey) {
  const role = `dozor_e2e_nobody_${process.pid}`;
  try {
    await db.query(`CREATE ROLE ${role} LOGIN PASSWORD 'nobody'`);
  } catch (e) {
    console.log(`skip - 42501 → 403 (cannot create a role here: ${e.message})`);
    return;
  }
  const child = spawn(process.execPath, [path.join(__dirname, '../../examples/http/server.js')], {
    env: { ...process.env, PGUSER: role, PGPASSWORD: 'nobody', PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const base = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error('second HTTP layer exited: ' + out)));
    });
    const body = JSON.stringify({ sessionId: crypto.randomUUID(), events: [] });
    const a = await http('POST', '/api/ingest', { key: apiKey, body, base });
    const b = await http('GET', '/api/sessions/1/history', { base });
    const e = await http('DELETE', '/api/projects/1/users/x', { base });
    check('a role without grants: ingest, reads and erasure answer 403 (SQLSTATE 42501)',
      a.status === 403 && b.status === 403 && e.status === 403,
      `${a.status} ${a.text} / ${b.status} ${b.text} / ${e.status} ${e.text}`);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    await db.query(`DROP ROLE ${role}`);
  }
}

async function screenshot(browser, id, file) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 }, deviceScaleFactor: 1 });
  await page.goto(`${API}/sessions/${id}`);
  await page.waitForSelector('body[data-ready]');
  const ready = await page.evaluate(() => document.body.dataset.ready);
  const n = await page.locator('#history li').count();
  await page.screenshot({ path: file, fullPage: true });
  await page.close();
  check(`feed page renders (${n} history items) and is saved to ${path.relative(process.cwd(), file)}`,
    ready === 'true' && n > 0, `ready=${ready}`);
}

async function main() {
  if (!API) throw new Error('DOZOR_API is not set (run.sh sets it)');
  fs.mkdirSync(OUT, { recursive: true });
  const db = new Client();
  await db.connect();
  const [{ api_key: apiKey }] = (await db.query("SELECT * FROM dozor_create_project('e2e shop')")).rows;
  const [{ api_key: otherKey }] = (await db.query("SELECT * FROM dozor_create_project('e2e other')")).rows;
  const site = await startSite();
  const browser = await launch();
  const sizes = {};
  try {
    const endpoint = `${API}/api/ingest`;
    let t = Date.now();
    const co = await recordCheckout(browser, { origin: site.origin, endpoint, apiKey });
    sizes.checkout = { events: co.emitted.length, requests: co.requests.length, seconds: (Date.now() - t) / 1000 };
    const c = await checkSession(db, 'checkout', co, apiKey);
    if (c) {
      sizes.checkout.batches = c.batches;
      checkCheckoutMeaning(co, c);
      await checkTrackedUser(db, 'checkout', co.identity, c.id);
      await screenshot(browser, c.id, path.join(OUT, 'feed-checkout.png'));
    }
    t = Date.now();
    const busy = await recordBusy(browser, { origin: site.origin, endpoint, apiKey, rounds: BUSY_ROUNDS });
    sizes.busy = { events: busy.emitted.length, requests: busy.requests.length, seconds: (Date.now() - t) / 1000,
      megabytes: +(busy.emitted.reduce((n, x) => n + x.length, 0) / 1048576).toFixed(1) };
    const b = await checkSession(db, 'busy', busy, apiKey);
    if (b) {
      sizes.busy.batches = b.batches;
      check('busy: tens of thousands of events', busy.emitted.length >= 20000, busy.emitted.length);
      same('busy: the pushState navigation and the identify item, traits with U+FFFD where text cannot hold them',
        b.hist.filter((r) => r.kind !== 'init' && r.kind !== 'idle').map((r) => [r.kind, r.pathname, r.user_id, r.traits]),
        [['identify', null, 'busy-user', ref.deepPgText(busy.identity.traits)], ['navigation', '/busy/live', null, null]]);
      await checkTrackedUser(db, 'busy', busy.identity, b.id);
      const big = Math.max(...busy.emitted.filter((x) => x.startsWith('{"type":2,')).map((x) => x.length));
      check(`busy: FullSnapshots of about 1 MB went through (largest ${(big / 1048576).toFixed(2)} MB)`, big > 700000);
      check('busy: U+0000 and lone surrogates in the stream came through as sent',
        busy.emitted.some((x) => x.includes('\\u0000')) && busy.emitted.some((x) => /\\ud83d[^\\]/.test(x)));
      check('busy: console traces with U+0000 / a lone surrogate come out with U+FFFD',
        b.cons.some((r) => r.trace[0] && r.trace[0].startsWith('nul\ufffdfn')) &&
        b.cons.some((r) => r.trace[0] && r.trace[0].startsWith('half\ufffdfn')), show(b.cons.slice(-4)));
    }
    const sample = await checkSample(db);
    if (sample) await screenshot(browser, sample.id, path.join(OUT, 'feed-sample.png'));
    sizes.sample = { events: sample ? sample.evs.length : 0, batches: sample ? sample.batches : 0 };
    await checkCancel(db, apiKey, otherKey);
    await checkErase(db, apiKey, otherKey);
    await checkBadClients(db, apiKey);
    await checkForbidden(db, apiKey);
  } finally {
    await browser.close();
    await site.close();
    await db.end();
  }
  fs.writeFileSync(path.join(OUT, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  console.log('scenario sizes:', JSON.stringify(sizes));
}

main().catch((e) => { failed++; console.error(e); }).finally(() => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
});
