'use strict';
// seeds.js — writes the seed corpus of every fuzz target:
//   node test/fuzz/seeds.js <dir>     -> <dir>/<target>/<name>
// Seeds come from the recorded session in test/data/ (when present) and
// from the generator in rrweb.js; the binary formats (batch index, gzip
// framing, mode bytes) are built here the way the C code writes them.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const g = require('./rrweb');

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node seeds.js <dir>');
  process.exit(2);
}
const dataDir = path.join(__dirname, '..', 'data');

function put(target, name, bytes) {
  const dir = path.join(outDir, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
}

// --- recorded sessions (test/data/*/batch-*.json.gz) -----------------------
const recorded = []; // {name, dir, body (Buffer, JSON), gz (Buffer)}
if (fs.existsSync(dataDir)) {
  for (const d of fs.readdirSync(dataDir)) {
    const dir = path.join(dataDir, d);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir).sort()) {
      if (!/\.json\.gz$/.test(f)) continue;
      const gz = fs.readFileSync(path.join(dir, f));
      let body;
      try { body = zlib.gunzipSync(gz); } catch { continue; }
      recorded.push({ name: `${d}-${f.replace(/\.json\.gz$/, '')}`, dir: d, body, gz });
    }
  }
}

// --- generated sessions ------------------------------------------------------
const r = g.rng(20250601);
const generated = [];
for (let s = 0; s < 6; s++) {
  const bodies = g.session(r, { batches: 3, eventsPerBatch: 12 + r.int(40), nodes: 4 + r.int(20), hostile: s % 2 === 1 });
  bodies.forEach((b, i) => generated.push({ name: `gen${s}-${i}`, body: Buffer.from(JSON.stringify(b)) }));
}
// small single-purpose bodies, so mutations stay near interesting shapes
const sid = g.uuid(r);
const few = (events, extra = {}) => Buffer.from(JSON.stringify({ sessionId: sid, events, ...extra }));
const ts = 1741942800000;
generated.push(
  { name: 'markers', body: few([g.marker('dozor:url', { url: 'https://a.example/x', pathname: '/x' }, ts), g.marker('dozor:identity', { userId: 'u1', traits: { a: 1 } }, ts + 1), g.marker('dozor:url', { url: 1 }, ts + 2), g.marker('dozor:identity', null, ts + 3), g.marker('dozor:other', undefined, ts + 4)]) },
  { name: 'console', body: few([g.consoleEntry(r, ts, true), { type: 6, data: { plugin: 'rrweb/console@1', payload: { level: 'error', payload: ['"\\u0000"'], trace: [] } }, timestamp: ts + 1 }, { type: 6, data: { plugin: 'rrweb/console@1', payload: '' }, timestamp: ts + 2 }]) },
  { name: 'surrogates', body: Buffer.from(`{"sessionId":"${sid}","events":[{"type":5,"data":{"tag":"dozor:note","payload":{"s":"\\ud83d\\u0000\\udc00 \\ud83d\\ude00"}},"timestamp":1741942800000.75}]}`) },
  { name: 'empty', body: few([]) },
  { name: 'metadata', body: few([g.incremental(r, ts, false)], { metadata: { url: 'https://shop.example/a/b?c#d', referrer: '', userAgent: 'x', screenWidth: 1280.5, screenHeight: 800, language: 'en', userIdentity: { userId: 'ü-user', traits: { k: [1, 2] } } } }) },
  { name: 'legacy', body: few([g.incremental(r, ts, false)], { sliceMarkers: [1], pageViews: [{ a: 1 }] }) },
);

const bodies = [...recorded, ...generated];

// --- json / json_swar: documents of every shape -----------------------------
const jsonDocs = [
  ['deep', '['.repeat(600) + ']'.repeat(600)],
  ['deepobj', '{"a":'.repeat(520) + '1' + '}'.repeat(520)],
  ['escapes', '["\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\\ud83d\\u0000x"]'],
  ['numbers', '[0,-0,1.5e10,-2E-3,12345678901234567890,1e400,0.0000001]'],
  ['literals', '{"t":true,"f":false,"n":null,"e":"","o":{},"a":[]}'],
  ['dups', '{"a":1,"a":2,"\\u0061":3}'],
  ['ws', ' \t\n\r{ "k" : [ 1 , 2 ] } \n'],
  ['long', JSON.stringify({ s: 'x'.repeat(300) + '"' + 'y'.repeat(40), b: '\\'.repeat(33) })],
];
for (const [n, d] of jsonDocs) { put('json', n, d); put('json_swar', n, d); }
for (const b of bodies) {
  put('json', b.name, b.body);
  put('json_swar', b.name, b.body);
}

// --- event: events arrays -----------------------------------------------------
for (const b of bodies) {
  let parsed;
  try { parsed = JSON.parse(b.body.toString('utf8')); } catch { continue; }
  if (!Array.isArray(parsed.events)) continue;
  put('event', b.name, JSON.stringify(parsed.events));
}
put('event', 'raw-escapes', '[{"type":5,"data":{"tag":"dozor:u\\u0072l","payload":{"url":"\\ud83d","pathname":"/\\u0000"}},"timestamp":1.5},{"timestamp":2,"type":3,"data":{"source":2,"type":2,"source":2.0}},{"type":6,"timestamp":3,"data":{"plugin":"rrweb\\/console@1","payload":{"level":"assert"}}}]');
put('event', 'bad', '[{"type":"3","timestamp":-1,"data":null}, 5, {"type":3}]');

// --- ingest: bodies, plain and gzip (as sent) --------------------------------
for (const b of recorded) {
  put('ingest', b.name + '-plain', b.body);
  put('ingest', b.name + '-gzip', b.gz);
}
for (const b of generated) {
  put('ingest', b.name, b.body);
  if (b.body.length > 200) put('ingest', b.name + '-gz', zlib.gzipSync(b.body, { level: 1 }));
}

// --- url -----------------------------------------------------------------------
const urls = [
  'https://shop.example/shop/cart?x=1#top', 'http://EXAMPLE.com:80/a/./b/../c/', 'HTTPS://user:pw@host:8443/%7Efoo/%2e%2E/bar',
  'https://[::1]:3000/ipv6', 'http://[2001:db8::ff00:42:8329]/', 'http://192.168.0.1/a', 'http://0x7f.1/', 'http://1.2.3.4.5/',
  'https://xn--nxasmq6b.example/über', 'https://ÉXAMPLE.com/ä ö', 'https://example.com\\path\\to', 'file:///C:/Windows/../x',
  'file://host/share/x', 'mailto:ada@example.com', 'javascript:alert(1)', 'data:text/html,<b>x</b>', 'blob:https://a.example/uuid',
  'ws://socket.example/live', 'wss://s.example:99999/', 'ftp://ftp.example/pub/', '  \t https://trim.example/x \n', '/relative/only',
  'http://', 'https://a.example/%zz/%', 'https://a.example' + '/seg'.repeat(50), 'non-special://host/p/../q', 'sc:/a/..//b',
  'https://ａｂｃ.example/', 'http://a.b.c.d.e.f.g/?', 'https://exa mple.com/', 'http://[::ffff:1.2.3.4]/', 'http://[1:2:3:4:5:6:7:8:9]/',
];
urls.forEach((u, i) => put('url', 'u' + i, u));

// --- batch_index: mode byte + index bytes as src/batch_index.c writes them ---
function varint(v) {
  const out = [];
  let x = BigInt(v);
  while (x >= 0x80n) { out.push(Number((x & 0x7fn) | 0x80n)); x >>= 7n; }
  out.push(Number(x));
  return out;
}
const zigzag = (v) => { const x = BigInt(v); return x >= 0n ? x << 1n : ((-x) << 1n) - 1n; };
// CRC-32C (Castagnoli), reflected, as PostgreSQL's pg_crc32c computes it.
const crc32cTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});
function crc32c(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crc32cTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
// The content_hash fuzz_batch_index.c seals its indexes with (FUZZ_DIGEST).
const FUZZ_DIGEST = Buffer.from('dozor-fuzz-d');
function sealIndex(bytes) {
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32c(Buffer.concat([FUZZ_DIGEST, bytes])), 0);
  return Buffer.concat([bytes, crc]);
}
function encodeIndex(entries, first) {
  const out = [0x44, 2, ...varint(entries.length)];
  let prev = BigInt(first);
  for (const e of entries) {
    out.push(...varint(zigzag(BigInt(e.ts) - prev)), ...varint(e.len), e.cls);
    prev = BigInt(e.ts);
  }
  return sealIndex(Buffer.from(out));
}
function classOf(ev) {
  if (ev.type === 2) return 6;
  if (ev.type === 4) return 7;
  if (ev.type === 6 && ev.data && ev.data.plugin === 'rrweb/console@1' && ev.data.payload) return 1;
  if (ev.type === 5 && ev.data && typeof ev.data.tag === 'string') {
    const p = ev.data.payload;
    if (ev.data.tag === 'dozor:url') return p && typeof p.url === 'string' && p.url && typeof p.pathname === 'string' && p.pathname ? 2 : 3;
    if (ev.data.tag === 'dozor:identity') return p && typeof p.userId === 'string' && p.userId ? 4 : 5;
    if (ev.data.tag.startsWith('dozor:')) return 8;
  }
  return 0;
}
for (const b of bodies) {
  let parsed;
  try { parsed = JSON.parse(b.body.toString('utf8')); } catch { continue; }
  const evs = parsed.events || [];
  if (evs.length === 0) continue;
  const tsOf = (e) => Math.floor(e.timestamp);
  const first = Math.min(...evs.map(tsOf));
  // the derived-row mode of the target uses 1700000000000 as first_timestamp
  const shift = 1700000000000 - first;
  const entries = evs.map((e) => ({ ts: tsOf(e) + shift, len: Buffer.byteLength(JSON.stringify(e)), cls: classOf(e) }));
  put('batch_index', b.name, Buffer.concat([Buffer.from([0]), encodeIndex(entries, 1700000000000)]));
}
put('batch_index', 'one', Buffer.concat([Buffer.from([0]), encodeIndex([{ ts: 1700000000000, len: 2, cls: 0 }], 1700000000000)]));
put('batch_index', 'roundtrip', Buffer.from([0x80, 5, 0, 40, 0, 1, 0xfb, 0xff, 10, 0, 2, 0, 0, 3, 0, 4]));
{
  // explicit row: first/last/count/raw, little-endian
  const idx = encodeIndex([{ ts: 10, len: 4, cls: 0 }, { ts: 5, len: 3, cls: 1 }], 5);
  const row = Buffer.alloc(24);
  row.writeBigInt64LE(5n, 0); row.writeBigInt64LE(10n, 8); row.writeInt32LE(2, 16); row.writeInt32LE(10, 20);
  put('batch_index', 'explicit', Buffer.concat([Buffer.from([1]), row, idx]));
}

// --- gzip: mode byte + payload ---------------------------------------------------
function gzipWithHeader(body, { name, comment, extra, hcrc } = {}) {
  // build the member by hand so every header field gets exercised
  const deflated = zlib.deflateRawSync(body);
  let flags = 0;
  const parts = [];
  if (extra) { flags |= 4; const x = Buffer.from(extra); parts.push(Buffer.from([x.length & 0xff, x.length >> 8]), x); }
  if (name) { flags |= 8; parts.push(Buffer.from(name + '\0', 'latin1')); }
  if (comment) { flags |= 16; parts.push(Buffer.from(comment + '\0', 'latin1')); }
  if (hcrc) flags |= 2;
  let header = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3]), ...parts]);
  if (hcrc) {
    const crc = zlib.crc32 ? zlib.crc32(header) : crc32(header);
    header = Buffer.concat([header, Buffer.from([crc & 0xff, (crc >>> 8) & 0xff])]);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE((zlib.crc32 ? zlib.crc32(body) : crc32(body)) >>> 0, 0);
  trailer.writeUInt32LE(body.length >>> 0, 4);
  return Buffer.concat([header, deflated, trailer]);
}
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
const small = bodies.filter((b) => b.body.length < 20000).slice(0, 6);
small.forEach((b, i) => {
  const gz = zlib.gzipSync(b.body);
  put('gzip', `client${i}`, Buffer.concat([Buffer.from([3]), gz]));
  put('gzip', `client-small-cap${i}`, Buffer.concat([Buffer.from([1]), gz]));
  const len = Buffer.alloc(3); len.writeUIntLE(b.body.length, 0, 3);
  put('gzip', `stored${i}`, Buffer.concat([Buffer.from([4]), len, gz]));
  put('gzip', `roundtrip${i}`, Buffer.concat([Buffer.from([8 | 3, 3, i * 37, i]), b.body.subarray(0, 3000)]));
});
const hdrBody = Buffer.from('{"sessionId":"x","events":[]}');
put('gzip', 'headers', Buffer.concat([Buffer.from([3]), gzipWithHeader(hdrBody, { name: 'batch.json', comment: 'sdk', extra: 'AB\x02\x00xy', hcrc: true })]));
put('gzip', 'multi', Buffer.concat([Buffer.from([3]), zlib.gzipSync(hdrBody), zlib.gzipSync(hdrBody)]));
put('gzip', 'bomb', Buffer.concat([Buffer.from([1]), zlib.gzipSync(Buffer.alloc(200000, 0x20))]));
put('gzip', 'roundtrip-two', Buffer.concat([Buffer.from([8 | 16 | 2, 1, 9, 0]), hdrBody]));

// --- timeline: gap, cap, steps --------------------------------------------------------
put('timeline', 'default', Buffer.from([0xb8, 0x0b, 0xf4, 0x01, 10, 0, 20, 0, 0x30, 0x75, 0x10, 0x80, 5, 0, 0, 0, 1, 0]));
put('timeline', 'zero-cap', Buffer.from([1, 0, 0, 0, 5, 0, 50, 0, 0, 0, 7, 0x81]));

// --- history: options, then events (class, timestamp, marker strings) -----------
// The layout is fuzz_history.c's: flags, gap/10 and cap/10 (2 bytes each),
// [ended_at mode + 8 bytes], [initial url], then per event the class byte,
// a timestamp mode byte (+ step bytes) and a url marker's url and pathname
// or an identity marker's user id and traits byte.
const H = { idle: 1, compress: 2, ended: 4, url: 8, sort: 16, range: 32 };
function u16(v) { return [v & 0xff, (v >> 8) & 0xff]; }
function i64(v) { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); return [...b]; }
function hstr(v) {
  if (v === null || v === undefined) return [0xff];
  const b = Buffer.from(String(v)).subarray(0, 23);
  return [b.length, ...b];
}
// events: [{ts, cls, url, pathname, userId, traits}]; opt: {flags, gap, cap, ended, initialUrl}
function historyInput(events, opt) {
  const out = [opt.flags, ...u16(Math.floor((opt.gap || 0) / 10)), ...u16(Math.floor((opt.cap || 0) / 10))];
  if (opt.flags & H.ended) out.push(0, ...i64(opt.ended));
  if (opt.flags & H.url) out.push(...hstr(opt.initialUrl));
  let prev = 1700000000000;
  for (const e of events) {
    out.push(e.cls);
    const d = e.ts - prev;
    if (d >= 0 && d < 64) out.push(d << 2);
    else if (d >= 0 && d < 1 << 24) out.push(1, d & 0xff, (d >> 8) & 0xff, d >> 16);
    else out.push(3, ...i64(e.ts));
    prev = e.ts;
    if (e.cls === 2) out.push(...hstr(e.url), ...hstr(e.pathname));
    if (e.cls === 4) out.push(...hstr(e.userId), e.traits ? 1 : 0);
  }
  return Buffer.from(out);
}
const contract = H.sort | H.range;
const historyEvents = (events) => events.map((e) => {
  const p = (e.data && e.data.payload) || {};
  return { ts: Math.floor(e.timestamp), cls: classOf(e), url: p.url, pathname: p.pathname, userId: p.userId, traits: p.traits && typeof p.traits === 'object' };
});
const sessions = {}; // dir -> {events of every batch, the first metadata.url}
for (const b of recorded) {
  let parsed;
  try { parsed = JSON.parse(b.body.toString('utf8')); } catch { continue; }
  const evs = historyEvents(parsed.events || []);
  const url = parsed.metadata && parsed.metadata.url;
  put('history', b.name, historyInput(evs, { flags: contract | H.idle | H.compress | (url ? H.url : 0), gap: 30000, cap: 5000, initialUrl: url }));
  const session = sessions[b.dir] = sessions[b.dir] || { evs: [], url: undefined };
  session.evs.push(...evs);
  session.url = session.url || url;
}
for (const [dir, { evs, url }] of Object.entries(sessions)) {
  // the whole session as the stream gives it: every batch, sorted
  evs.sort((x, y) => x.ts - y.ts);
  const last = evs[evs.length - 1].ts;
  put('history', dir + '-compressed', historyInput(evs, { flags: contract | H.idle | H.compress | H.url, gap: 30000, cap: 5000, initialUrl: url }));
  put('history', dir + '-idle', historyInput(evs, { flags: contract | H.idle | H.ended, gap: 60000, ended: last + 1000 }));
  put('history', dir + '-plain', historyInput(evs, { flags: H.range }));
}
// docs/HISTORY.md §6: A (navigations), B/C (idle at and over the gap), D (identify), G (B compressed)
const o = (ts) => ({ ts, cls: 0 });
put('history', 'example-a', historyInput([o(0), { ts: 100, cls: 2, url: 'https://a.example/home', pathname: '/home' }, o(200), { ts: 300, cls: 2, url: 'https://a.example/checkout', pathname: '/checkout' }, o(400)], { flags: contract }));
put('history', 'example-b', historyInput([o(0), o(1000), o(70000), o(70500)], { flags: contract | H.idle, gap: 60000 }));
put('history', 'example-c', historyInput([o(0), o(60000)], { flags: contract | H.idle, gap: 60000 }));
put('history', 'example-d', historyInput([o(0), { ts: 500, cls: 4, userId: 'u1', traits: true }, o(1000)], { flags: contract }));
put('history', 'example-g', historyInput([o(0), o(1000), o(70000), o(70500)], { flags: contract | H.idle | H.compress, gap: 60000, cap: 5000 }));
// out of order, malformed markers and a class outside EventClass, hostile times
put('history', 'hostile', historyInput([o(5000), { ts: 10, cls: 3 }, { ts: 90000, cls: 5 }, { ts: 2, cls: 0xf3 }, { ts: -1, cls: 1 }, o(9e15)], { flags: H.idle | H.compress | H.ended | H.url, gap: 100, cap: 50, ended: -5, initialUrl: '/relative' }));

const counts = {};
for (const t of fs.readdirSync(outDir)) counts[t] = fs.readdirSync(path.join(outDir, t)).length;
console.log('seeds: ' + Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ') +
  (recorded.length ? ` (recorded batches: ${recorded.length})` : ''));
