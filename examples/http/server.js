// A thin HTTP layer over the dozor extension: every endpoint is one SQL call
// to one dozor function, and errors map to HTTP statuses by SQLSTATE alone.
//
//   PORT=8787 PGHOST=... PGDATABASE=... node server.js
//
// Connection settings come from the standard PG* environment variables. The
// dozor functions are called unqualified: the extension's schema must be on
// the search_path (PGOPTIONS='-c search_path=myschema,public' if not public).
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { Pool, types } = require('pg');

types.setTypeParser(20, Number);   // bigint ids and ms timestamps are < 2^53
const pool = new Pool({ max: Number(process.env.PGPOOL_MAX || 10) });
pool.on('error', (e) => console.error('pg pool:', e.message));

// Transport guard only: bodies up to this size reach dozor, which enforces its
// own 10 MiB cap (54000 → 413); anything bigger is refused before the database.
const MAX_BODY = 32 * 1024 * 1024;
const FEED_PAGE = fs.readFileSync(path.join(__dirname, 'feed.html'));
const REPLAY_PAGE = fs.readFileSync(path.join(__dirname, 'replay.html'));
// The player's rrweb comes from this package's own npm dependency.
const RRWEB_DIST = path.dirname(require.resolve('rrweb'));
const ASSETS = {
  '/assets/rrweb.umd.min.cjs': ['rrweb.umd.min.cjs', 'text/javascript; charset=utf-8'],
  '/assets/rrweb.min.css': ['style.min.css', 'text/css; charset=utf-8'],
};

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Content-Type, X-Dozor-Public-Key, Content-Encoding',
  'Access-Control-Allow-Methods': 'POST, OPTIONS',
  'Access-Control-Max-Age': '600',
};

// docs/SPEC.md error contract: the SQLSTATE alone decides the status.
function statusFor(code) {
  if (code === '28000') return 401;
  if (code === '42501') return 403;
  if (code === '54000') return 413;
  if (typeof code === 'string' && code.startsWith('22')) return 400;
  return 500;
}

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function send(res, status, body, headers = {}) {
  const json = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, Object.assign({ 'Access-Control-Allow-Origin': '*' },
    json ? { 'Content-Type': 'application/json' } : {}, headers));
  res.end(json);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {         // past the guard: keep draining, keep nothing
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
      else if (size - chunk.length <= MAX_BODY) { chunks.length = 0; reject(new HttpError(413, 'request body too large')); }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const query = (sql, params) => pool.query(sql, params).then((r) => r.rows);
const noStore = { 'Cache-Control': 'no-store' };
const bool = (v, dflt) => (v == null ? dflt : v === 'true' || v === '1');

// GET routes under /api/sessions/{id}: one dozor function each.
const reads = {
  async ''(id) {
    const [row] = await query('SELECT dozor_session($1::bigint) AS s', [id]);
    if (row.s === null) throw new HttpError(404, 'session not found');
    return row.s;
  },
  async events(id, q) {
    // Without ?cursor= or ?limit= the whole list, as before; with either, one
    // page and the cursor of the next (null on the last page).
    const cursor = q.get('cursor'), limit = q.get('limit');
    const rows = await query(`SELECT id, first_timestamp AS "firstTimestamp", last_timestamp AS "lastTimestamp",
        event_count AS "eventCount", data, next_cursor FROM dozor_session_batches($1::bigint, $2, $3::integer)`,
    [id, cursor, limit]);
    const nextCursor = rows.length ? rows[rows.length - 1].next_cursor : null;
    for (const r of rows) delete r.next_cursor;
    return { batches: rows, nextCursor };
  },
  // The player's index: where it can start rendering, and the session's span
  // on the same timeline (the seek bar).
  async keyframes(id, q) {
    const c = bool(q.get('compressIdle'), true);
    // Each call alone, with the session id as a plain argument: on Citus
    // each then runs on the session's worker (and Citus 13.2 crashes planning
    // a per-session function over a subquery).
    const [row] = await query(`SELECT (extract(epoch FROM (s ->> 'startedAt')::timestamptz) * 1000)::float8 AS a,
        (extract(epoch FROM (s ->> 'endedAt')::timestamptz) * 1000)::float8 AS b
      FROM (SELECT dozor_session($1::bigint) AS s) x WHERE s IS NOT NULL`, [id]);
    if (!row) throw new HttpError(404, 'session not found');
    const at = async (t) => (c ? (await query('SELECT dozor_to_compressed($1::bigint, $2::float8) AS t', [id, t]))[0].t : t);
    const span = { start: await at(row.a), end: await at(row.b) };
    const keyframes = await query('SELECT "timestamp", type FROM dozor_keyframes($1::bigint, $2)', [id, c]);
    return { start: span.start, end: span.end, keyframes };
  },
  // A time mapped between the real and the compressed timeline (the
  // compress-idle switch keeps the playhead where it was).
  async map(id, q) {
    const fn = q.get('to') === 'real' ? 'dozor_to_real' : 'dozor_to_compressed';
    const [row] = await query(`SELECT ${fn}($1::bigint, $2::float8) AS t`, [id, q.get('t')]);
    return { t: row.t };
  },
  async markers(id, q) {
    return query('SELECT * FROM dozor_markers($1::bigint, $2)', [id, q.get('kind')]);
  },
  async history(id, q) {
    return query('SELECT * FROM dozor_history($1::bigint, $2)', [id, bool(q.get('compressIdle'), true)]);
  },
  async console(id, q) {
    return query('SELECT * FROM dozor_console($1::bigint, $2)', [id, bool(q.get('compressIdle'), true)]);
  },
};

// GET /api/sessions/{id}/window?from=&to=&compressIdle=: the events in
// [from, to) as dozor_events returns them; the text goes out untouched.
// ?head=MS instead: the first MS of the session, [start, start + MS), with
// the bounds in X-Window-From / X-Window-To, so that a player's first frame
// needs this one request (on both timelines the session starts at its real
// start: idle compression only shortens gaps after it).
async function sendWindow(res, id, q) {
  const num = (k) => (q.get(k) == null || q.get(k) === '' ? null : q.get(k));
  const head = num('head');
  const compress = bool(q.get('compressIdle'), true);
  let row, bounds = {};
  if (head === null) {
    [row] = await query(`SELECT dozor_events($1::bigint, $2, 30000, 5000, $3::float8, $4::float8)::text AS e`,
      [id, compress, num('from'), num('to')]);
  } else {
    // Two plain calls, not one query with the session in a subquery: on a
    // Citus coordinator each is delegated to the session's worker (Citus
    // 13.2 crashes planning a delegated call over a subquery).
    const [start] = await query(`SELECT (extract(epoch FROM (dozor_session($1::bigint) ->> 'startedAt')::timestamptz) * 1000)::float8 AS a`, [id]);
    if (start.a === null) throw new HttpError(404, 'session not found');
    [row] = await query(`SELECT $3::float8 AS "from", $3::float8 + $4::float8 AS "to",
         dozor_events($1::bigint, $2, 30000, 5000, $3::float8, $3::float8 + $4::float8)::text AS e`,
      [id, compress, start.a, head]);
    bounds = { 'X-Window-From': String(row.from), 'X-Window-To': String(row.to) };
  }
  if (!row || row.e === null) throw new HttpError(404, 'session not found');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*', ...noStore, ...bounds });
  res.end(row.e);
}

async function route(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const p = url.pathname;
  if (req.method === 'OPTIONS' && (p === '/api/ingest' || p === '/api/sessions/cancel')) {
    res.writeHead(204, CORS);
    return res.end();
  }
  if (req.method === 'POST' && p === '/api/ingest') {
    const body = await readBody(req);
    // NULL: the session was cancelled or erased and the batch discarded.
    // Still 204: the batch is acknowledged, so the SDK must not retry it.
    await query('SELECT dozor_ingest($1, $2, $3)',
      [req.headers['x-dozor-public-key'] ?? null, body, req.headers['content-encoding'] ?? null]);
    return send(res, 204, undefined, CORS);
  }
  if (req.method === 'POST' && p === '/api/sessions/cancel') {
    // PostgreSQL reads the JSON body: bad JSON, a missing or bad uuid is 22P02 → 400.
    const body = (await readBody(req)).toString('utf8');
    await query(`SELECT dozor_cancel_session($1, coalesce($2::jsonb ->> 'sessionId', '')::uuid)`,
      [req.headers['x-dozor-public-key'] ?? null, body]);
    return send(res, 204, undefined, CORS);
  }
  // Erasure of a person (dashboard side, as the connected role: dozor_admin
  // with an admin grant on the project, else 403): every session of the
  // project's tracked user, and the user.
  const erase = req.method === 'DELETE' && /^\/api\/projects\/([^/]+)\/users\/([^/]+)$/.exec(p);
  if (erase) {
    let userId;
    try { userId = decodeURIComponent(erase[2]); } catch { throw new HttpError(400, 'bad user id in path'); }
    const [row] = await query('SELECT dozor_erase_user($1::bigint, $2) AS n', [erase[1], userId]);
    return send(res, 200, { sessionsRemoved: row.n }, noStore);
  }
  const w = req.method === 'GET' && /^\/api\/sessions\/([^/]+)\/window$/.exec(p);
  if (w) return sendWindow(res, w[1], url.searchParams);
  const m = req.method === 'GET' && /^\/api\/sessions\/([^/]+)(?:\/(events|markers|history|console|keyframes|map))?$/.exec(p);
  if (m) return send(res, 200, await reads[m[2] || ''](m[1], url.searchParams), noStore);
  if (req.method === 'GET' && /^\/sessions\/\d+$/.test(p)) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...noStore });
    return res.end(FEED_PAGE);
  }
  if (req.method === 'GET' && /^\/replay\/\d+$/.test(p)) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...noStore });
    return res.end(REPLAY_PAGE);
  }
  if (req.method === 'GET' && ASSETS[p]) {
    const [file, type] = ASSETS[p];
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'max-age=3600' });
    return fs.createReadStream(path.join(RRWEB_DIST, file)).pipe(res);
  }
  if (req.method === 'GET' && p === '/healthz') {
    await query('SELECT 1');
    return send(res, 200, { ok: true }, noStore);
  }
  throw new HttpError(404, 'not found');
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    const status = err instanceof HttpError ? err.status : statusFor(err.code);
    if (status === 500) console.error(`${req.method} ${req.url}:`, err.code || '', err.message);
    // The 4xx messages are dozor's own ("events[17].timestamp must be a number").
    const body = { error: status === 500 ? 'internal error' : err.message };
    if (/^[0-9A-Z]{5}$/.test(err.code || '')) body.sqlstate = err.code;
    const headers = req.url.startsWith('/api/ingest') ? { ...CORS } : { ...noStore };
    if (status === 413) headers.Connection = 'close';
    if (!res.headersSent) send(res, status, body, headers);
    else res.destroy();
  });
});

const port = Number(process.env.PORT ?? 8787);
server.listen(port, process.env.HOST || '127.0.0.1', () => {
  const a = server.address();
  console.log(`dozor http listening on http://${a.address}:${a.port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => pool.end().then(() => process.exit(0))));
}
