'use strict';
// oracle.js — what dozor_ingest must answer for a request body, written
// independently of the C code from docs/SPEC.md §3 (and, where the spec is silent,
// from the documented behaviour: metadata null = absent, later duplicate
// keys win). predict() returns the set of acceptable SQLSTATEs ('ok' for
// success) and, for an accepted body, the parsed body so the harness can
// check what was stored.
const zlib = require('zlib');
const { inflateRaw } = require('./inflate');

const CAP = 10 * 1024 * 1024;
const MAX_DEPTH = 10000;
const MAX_EVENTS = 500;
const TWO53 = 9007199254740992;

class Reject extends Error {
  constructor(codes, why) {
    super(why);
    this.codes = codes;
  }
}
const reject = (codes, why) => { throw new Reject(codes, why); };

// gzip as RFC 1952 reads it: members back to back, nothing else; at most
// CAP bytes of output over all members (dozor inflates into a CAP buffer).
function gunzip(buf) {
  if (buf.length === 0) reject(['22P02'], 'empty gzip');
  const out = [];
  let produced = 0;
  let pos = 0;
  while (pos < buf.length) {
    const first = pos === 0;
    const avail = buf.length - pos;
    if (buf[pos] !== 0x1f || (avail >= 2 && buf[pos + 1] !== 0x8b)) reject(['22P02'], first ? 'no gzip magic' : 'trailing garbage');
    if (avail < 10) reject(['22P02'], 'truncated header');
    if (buf[pos + 2] !== 8) reject(['22P02'], 'method');
    const flags = buf[pos + 3];
    if (flags & 0xe0) reject(['22P02'], 'reserved flags');
    let p = pos + 10;
    if (flags & 4) {
      if (buf.length - p < 2) reject(['22P02'], 'truncated extra');
      const xlen = buf[p] | (buf[p + 1] << 8);
      p += 2;
      if (buf.length - p < xlen) reject(['22P02'], 'truncated extra');
      p += xlen;
    }
    for (const f of [8, 16]) {
      if (flags & f) {
        const nul = buf.indexOf(0, p);
        if (nul < 0) reject(['22P02'], 'truncated name/comment');
        p = nul + 1;
      }
    }
    if (flags & 2) {
      if (buf.length - p < 2) reject(['22P02'], 'truncated hcrc');
      if ((zlib.crc32(buf.subarray(pos, p)) & 0xffff) !== (buf[p] | (buf[p + 1] << 8))) reject(['22P02'], 'header crc');
      p += 2;
    }
    if (p === buf.length) reject(['22P02'], 'no deflate data');
    // libdeflate's order of events, so exactly one answer: the cap passed
    // first (54000) or the damage met first (22P02)
    const r = inflateRaw(buf, p, CAP - produced);
    if (r.status === 'space') reject(['54000'], `over the cap (${r.why})`);
    if (r.status === 'bad') reject(['22P02'], `bad deflate data (${r.why})`);
    const tail = p + r.used;
    if (buf.length - tail < 8) reject(['22P02'], 'truncated trailer');
    if (zlib.crc32(r.out) !== buf.readUInt32LE(tail)) reject(['22P02'], 'crc');
    if ((r.out.length >>> 0) !== buf.readUInt32LE(tail + 4)) reject(['22P02'], 'isize');
    out.push(r.out);
    produced += r.out.length;
    pos = tail + 8;
  }
  return Buffer.concat(out);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Deepest nesting of brackets outside strings (approximate on broken JSON).
function depth(buf) {
  let d = 0;
  let max = 0;
  let inStr = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inStr) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b || c === 0x5b) { d++; if (d > max) max = d; }
    else if (c === 0x7d || c === 0x5d) d--;
  }
  return max;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
// code points: a surrogate pair is one, a lone surrogate one too (as in C)
const codePoints = (s) => [...s].length;

function checkSessionId(o) {
  if (!has(o, 'sessionId')) reject(['22023'], 'sessionId missing');
  const s = o.sessionId;
  if (typeof s !== 'string') reject(['22023'], 'sessionId type');
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)) reject(['22023'], 'sessionId form');
  const hex = s.replace(/-/g, '');
  if (/^0+$/.test(hex) || /^[fF]+$/.test(hex)) return;
  if (!/[1-8]/.test(s[14])) reject(['22023'], 'uuid version');
  if (!/[89abAB]/.test(s[19])) reject(['22023'], 'uuid variant');
}

function checkMetadata(o) {
  if (!has(o, 'metadata') || o.metadata === null) return;
  const m = o.metadata;
  if (!isObject(m)) reject(['22023'], 'metadata type');
  for (const [k, t] of [['url', 's'], ['referrer', 's'], ['userAgent', 's'], ['screenWidth', 'n'], ['screenHeight', 'n'], ['language', 's']]) {
    if (!has(m, k)) reject(['22023'], `metadata.${k} missing`);
    if (t === 's' && typeof m[k] !== 'string') reject(['22023'], `metadata.${k} type`);
    if (t === 'n') {
      if (typeof m[k] !== 'number') reject(['22023'], `metadata.${k} type`);
      const f = Math.floor(m[k]);
      if (!(f >= -2147483648 && f <= 2147483647)) reject(['22023'], `metadata.${k} range`);
    }
  }
  if (!has(m, 'userIdentity') || m.userIdentity === null) return;
  const u = m.userIdentity;
  if (!isObject(u)) reject(['22023'], 'userIdentity type');
  if (!has(u, 'userId')) reject(['22023'], 'userId missing');
  if (typeof u.userId !== 'string') reject(['22023'], 'userId type');
  const n = codePoints(u.userId);
  if (n < 1 || n > 255) reject(['22023'], 'userId length');
  if (has(u, 'traits') && u.traits !== null && !isObject(u.traits)) reject(['22023'], 'traits type');
}

function checkEvents(o) {
  if (!has(o, 'events')) reject(['22023'], 'events missing');
  if (!Array.isArray(o.events)) reject(['22023'], 'events type');
  o.events.forEach((e, i) => {
    if (i >= MAX_EVENTS) reject(['54000'], 'too many events');
    if (!isObject(e)) reject(['22023'], `events[${i}] type`);
    if (!has(e, 'type')) reject(['22023'], `events[${i}].type missing`);
    if (typeof e.type !== 'number') reject(['22023'], `events[${i}].type type`);
    if (!has(e, 'timestamp')) reject(['22023'], `events[${i}].timestamp missing`);
    if (typeof e.timestamp !== 'number') reject(['22023'], `events[${i}].timestamp type`);
    if (!has(e, 'data')) reject(['22023'], `events[${i}].data missing`);
    const t = e.timestamp;
    if (!Number.isFinite(t) || !(t >= 0) || t >= TWO53) reject(['22023'], `events[${i}].timestamp range`);
  });
}

// JSON values turned into jsonb: \u0000 and lone surrogates become U+FFFD.
function pgString(s) {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u0000/g, '\ufffd').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
// Values nested deeper than this are compared by the harness only down to it.
const DEEP = 1000;
function pgValue(v, depth = 0) {
  if (depth > DEEP) return v;
  if (typeof v === 'string') return pgString(v);
  if (Array.isArray(v)) return v.map((x) => pgValue(x, depth + 1));
  if (isObject(v)) {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[pgString(k)] = pgValue(x, depth + 1);
    return o;
  }
  return v;
}

// Numbers jsonb's numeric cannot hold (PostgreSQL: 22003). dozor converts
// marker payloads and traits to jsonb, so such a number there is a 22003.
function hugeNumberText(buf) {
  const t = buf.toString('latin1');
  return /[0-9][eE][+-]?0*[0-9]{5,}/.test(t) || /[0-9]{131073,}/.test(t);
}

// Markers a body must produce (docs/SPEC.md §3 step 6), in event order.
function markersOf(body) {
  const out = [];
  for (const e of body.events) {
    if (e.type !== 5 || !isObject(e.data)) continue;
    const tag = e.data.tag;
    if (typeof tag !== 'string' || !tag.startsWith('dozor:')) continue;
    out.push({ kind: pgString(tag.slice(6)), data: has(e.data, 'payload') ? pgValue(e.data.payload) : null, timestamp: Math.floor(e.timestamp) });
  }
  return out;
}

// Length of JSON.stringify(v) without recursion (payloads nest 10 000 deep).
function jsonLength(v) {
  let n = 0;
  const todo = [v];
  while (todo.length) {
    const x = todo.pop();
    if (Array.isArray(x)) { n += 1 + Math.max(1, x.length); todo.push(...x); } // [ , , ]
    else if (isObject(x)) {
      const keys = Object.keys(x);
      n += 1 + Math.max(1, keys.length);
      for (const k of keys) { n += JSON.stringify(k).length + 1; todo.push(x[k]); }
    } else n += JSON.stringify(x).length;
  }
  return n;
}

// predict(body: Buffer|null, encoding: string|null, keyOk: boolean)
//   -> { codes: [...], why, body?: parsed object, text?: Buffer }
function predict(body, encoding, keyOk = true) {
  try {
    if (!keyOk) reject(['28000'], 'key');
    if (body === null) reject(['22023'], 'null body');
    if (body.length > CAP) reject(['54000'], 'body over the cap');
    const enc = encoding === null ? '' : encoding.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
    let text = body;
    if (enc === 'gzip' || enc === 'x-gzip') text = gunzip(body);
    else if (enc !== '' && enc !== 'identity') reject(['22023'], 'encoding');
    let str;
    try { str = utf8.decode(text); } catch { reject(['22P02'], 'utf8'); }
    if (str.includes('\u0000')) reject(['22P02'], 'NUL byte');
    const deep = depth(text) > MAX_DEPTH;
    let o;
    try { o = JSON.parse(str); } catch { reject(deep ? ['22P02', '54000'] : ['22P02'], 'json'); }
    if (deep) reject(['54000'], 'too deep');
    if (!isObject(o)) reject(['22023'], 'root type');
    checkSessionId(o);
    checkMetadata(o);
    checkEvents(o);
    const codes = ['ok'];
    // jsonb (marker payloads, traits) cannot hold numbers past numeric's range
    if (hugeNumberText(text)) codes.push('22003');
    // A marker payload or traits value over 1 MiB of JSON text is refused
    // (54000): it bounds the memory of jsonb parsing. Re-serialized length is
    // close to, not equal to, the sent text, so allow both near the cap.
    const jsonLen = (v) => (v === undefined ? 0 : jsonLength(v));
    const big = (n) => n > 0.9 * 1048576;
    const traits = o.metadata && o.metadata.userIdentity && o.metadata.userIdentity.traits;
    if (big(jsonLen(traits)) ||
        o.events.some((e) => e.type === 5 && isObject(e.data) && typeof e.data.tag === 'string' &&
                             e.data.tag.startsWith('dozor:') && big(jsonLen(e.data.payload)))) codes.push('54000');
    return { codes, known: {}, why: 'valid', body: o, text };
  } catch (e) {
    if (e instanceof Reject) return { codes: e.codes, why: e.message };
    throw e;
  }
}

module.exports = { predict, gunzip, markersOf, pgValue, pgString, CAP, MAX_DEPTH, isObject };
