'use strict';
// mutate.js — hostile variants of SDK request bodies: structural edits of
// the JSON (every docs/SPEC.md §3 rule broken in turn, and the edge cases just
// inside each rule), byte-level damage (truncation, bit flips, splices,
// invalid UTF-8), and gzip framing attacks (corrupt members, bombs, lying
// trailers, header flags, unsupported encodings).
const zlib = require('zlib');
const g = require('../../fuzz/rrweb');

const clone = (o) => JSON.parse(JSON.stringify(o));

function nested(depth, leaf = 1) {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = (i & 1) ? { k: v } : [v];
  return v;
}
// deep nesting as text (JSON.stringify of a 10000-deep object recurses)
const deepText = (d) => '['.repeat(d) + ']'.repeat(d);

const BAD_UUIDS = ['', 'not-a-uuid', '9E0C6F3A-1B2C-4D5E-8F90-A1B2C3D4E5F6', '{9e0c6f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6}',
  '9e0c6f3a1b2c4d5e8f90a1b2c3d4e5f6', '9e0c6f3a-1b2c-0d5e-8f90-a1b2c3d4e5f6', '9e0c6f3a-1b2c-9d5e-8f90-a1b2c3d4e5f6',
  '9e0c6f3a-1b2c-4d5e-cf90-a1b2c3d4e5f6', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '9e0c6f3a-1b2c-4d5e-8f90-a1b2c3d4e5f', '9e0c6f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6a',
  '9e0c6f3a-1b2c-4d5e-8f90-a1b2c3d4e5g6', '9e0c6f3a_1b2c_4d5e_8f90_a1b2c3d4e5f6', '９e0c6f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6',
  '9e0c6f3a-1b2c-8d5e-bf90-a1b2c3d4e5f6', '9e0c6f3a-1b2c-1d5e-Af90-a1b2c3d4e5f6'];
const ODD_NUMBERS = [-1, -0, 0.5, 1e-400, 9007199254740991, 9007199254740992, 9007199254740993, 1.7e12 + 0.999, 1e308, -1e-9];
const ODD_VALUES = [null, true, false, '', '1700000000000', [], {}, [1], { a: 1 }, 'x'.repeat(1000)];
const HOSTILE_STRINGS = ['\u0000', '\ud83d', '\udc00', '\ud83d\ude00', 'a\u0000b\ud800c', '\ufffd', '\u2028\u2029', '"\\', 'ü'.repeat(300), '😀'.repeat(255), '😀'.repeat(256), 'x'.repeat(255), 'x'.repeat(256), '\ud83d'.repeat(255), '\ud83d'.repeat(256)];

// Structural mutations: (r, body) -> { body, tag } with body a JS value,
// or { text, tag } when the result needs raw JSON text (duplicate keys,
// depth past what JSON.stringify can recurse, NaN-like literals).
const structural = {
  valid: (r, b) => ({ body: b }),
  dropSessionId: (r, b) => { delete b.sessionId; return { body: b }; },
  sessionIdType: (r, b) => { b.sessionId = r.pick([null, 42, {}, [], true]); return { body: b }; },
  sessionIdBad: (r, b) => { b.sessionId = r.pick(BAD_UUIDS); return { body: b }; },
  dropEvents: (r, b) => { delete b.events; return { body: b }; },
  eventsType: (r, b) => { b.events = r.pick([null, {}, 'events', 1, { 0: {} }]); return { body: b }; },
  emptyEvents: (r, b) => { b.events = []; return { body: b }; },
  manyEvents: (r, b) => {
    const n = r.pick([499, 500, 501, 502, 600, 2000]);
    const ts = 1741942800000;
    b.events = Array.from({ length: n }, (_, i) => ({ type: 3, data: { source: 1 }, timestamp: ts + i }));
    return { body: b };
  },
  eventNotObject: (r, b) => { if (b.events.length) b.events[r.int(b.events.length)] = r.pick([1, 'e', null, [], true]); return { body: b }; },
  eventDropField: (r, b) => { if (b.events.length) delete b.events[r.int(b.events.length)][r.pick(['type', 'timestamp', 'data'])]; return { body: b }; },
  eventFieldType: (r, b) => {
    if (b.events.length) b.events[r.int(b.events.length)][r.pick(['type', 'timestamp', 'data'])] = r.pick(ODD_VALUES);
    return { body: b };
  },
  eventTimestamp: (r, b) => { if (b.events.length) b.events[r.int(b.events.length)].timestamp = r.pick(ODD_NUMBERS); return { body: b }; },
  eventTimestampText: (r, b) => {
    // numbers JSON.stringify cannot write: overflow to infinity, negative zero, exponent forms
    const lit = r.pick(['1e400', '-1e400', '-0', '1.7e12', '17E11', '0.0', '9007199254740992.0', '1e-400', '-0.0e0']);
    const t = JSON.stringify(b).replace(/"timestamp":[0-9.eE+-]+/, `"timestamp":${lit}`);
    return { text: t };
  },
  eventType: (r, b) => { if (b.events.length) b.events[r.int(b.events.length)].type = r.pick([-1, 3.5, 99, 1e300, 5, 6, 2, 0]); return { body: b }; },
  duplicateKeys: (r, b) => {
    const t = JSON.stringify(b);
    const dup = r.pick(['"timestamp":"x",', '"type":"x",', '"data":1,', '"timestamp":-5,', '"timestamp":1e400,']);
    // an earlier duplicate: the later (original) value must win
    return { text: t.replace(/\{"type"/, '{' + dup + '"type"') };
  },
  duplicateTopKeys: (r, b) => {
    const t = JSON.stringify(b);
    return { text: r.pick(['{"events":7,', '{"sessionId":1,', '{"metadata":"x",']) + t.slice(1) };
  },
  unknownKeys: (r, b) => { b.sliceMarkers = r.pick([[], null, 'x', { a: [1] }]); b.pageViews = r.pick([[{}], 7]); b['ünknown'] = '\u0000'; return { body: b }; },
  metadataDrop: (r, b) => { b.metadata = metadataOf(r, b); delete b.metadata[r.pick(['url', 'referrer', 'userAgent', 'screenWidth', 'screenHeight', 'language'])]; return { body: b }; },
  metadataType: (r, b) => { b.metadata = metadataOf(r, b); b.metadata[r.pick(['url', 'referrer', 'userAgent', 'screenWidth', 'screenHeight', 'language'])] = r.pick(ODD_VALUES.concat([1])); return { body: b }; },
  metadataWhole: (r, b) => { b.metadata = r.pick([null, [], 'm', 1, {}]); return { body: b }; },
  metadataScreen: (r, b) => { b.metadata = metadataOf(r, b); b.metadata[r.pick(['screenWidth', 'screenHeight'])] = r.pick([2147483647, 2147483647.9, 2147483648, -2147483648, -2147483648.5, -2147483649, 1e10, -1e10, 3.7, -0.5]); return { body: b }; },
  metadataStrings: (r, b) => { b.metadata = metadataOf(r, b); b.metadata[r.pick(['url', 'referrer', 'userAgent', 'language'])] = r.pick(HOSTILE_STRINGS.concat(['http://[::1', 'https://a.example/%', 'javascript:x', ' '])); return { body: b }; },
  identity: (r, b) => {
    b.metadata = metadataOf(r, b);
    b.metadata.userIdentity = r.pick([null, 'u', 1, [], {}, { userId: null }, { userId: 7 }, { userId: '' },
      { userId: r.pick(HOSTILE_STRINGS) }, { userId: 'u', traits: r.pick([null, [], 'x', 1, {}, { '\u0000k': '\ud83d', n: [1, { d: null }] }]) }]);
    return { body: b };
  },
  identityDeepTraits: (r, b) => {
    b.metadata = metadataOf(r, b);
    b.metadata.userIdentity = { userId: 'deep', traits: { t: 'PLACEHOLDER' } };
    const d = r.pick([100, 5000, 9990, 9998, 10000, 10001]);
    return { text: JSON.stringify(b).replace('"PLACEHOLDER"', deepText(d)) };
  },
  markerTag: (r, b) => {
    const tag = r.pick(['dozor:', 'dozor:url', 'dozor:identity', 'DOZOR:url', 'dozor', 'dozor:\u0000', 'dozor:\ud83d', 'dozor:' + 'k'.repeat(5000), 'x-dozor:url', 7, null]);
    b.events.push({ type: 5, data: { tag, payload: r.pick([undefined, null, 1, 'p', {}, { url: 1 }, { url: '', pathname: '' }, { url: 'https://a.example/p', pathname: '/p' }, { userId: '' }, { userId: 'u', traits: 1 }]) }, timestamp: 1741942800000 });
    return { body: b };
  },
  markerPayload: (r, b) => {
    b.events.push({ type: 5, data: { tag: 'dozor:note', payload: { s: r.pick(HOSTILE_STRINGS), [r.pick(HOSTILE_STRINGS)]: r.pick(HOSTILE_STRINGS), n: r.pick([1e300, -0, 1.5, 12345678901234567890]) } }, timestamp: 1741942800001 });
    return { body: b };
  },
  markerDeep: (r, b) => {
    b.events.push({ type: 5, data: { tag: 'dozor:deep', payload: 'PLACEHOLDER' }, timestamp: 1741942800002 });
    return { text: JSON.stringify(b).replace('"PLACEHOLDER"', deepText(r.pick([1000, 9000, 9996, 9997, 9998, 10001]))) };
  },
  markerHugeNumber: (r, b) => {
    b.events.push({ type: 5, data: { tag: 'dozor:num', payload: 'PLACEHOLDER' }, timestamp: 1741942800003 });
    return { text: JSON.stringify(b).replace('"PLACEHOLDER"', r.pick(['1e1000000', '-1e-1000000', '1e131071', '1' + '0'.repeat(2000), '1e400'])) };
  },
  dataDeep: (r, b) => {
    b.events.push({ type: 3, data: 'PLACEHOLDER', timestamp: 1741942800004 });
    return { text: JSON.stringify(b).replace('"PLACEHOLDER"', deepText(r.pick([9997, 9999, 10000, 10001, 20000]))) };
  },
  consoleOdd: (r, b) => {
    b.events.push({ type: 6, data: { plugin: 'rrweb/console@1', payload: r.pick([null, '', 0, 'str', [], { level: 7 }, { level: null, payload: 'x', trace: {} }, { payload: [null, 1, {}, '\u0000'], trace: ['\ud83d'] }]) }, timestamp: 1741942800005 });
    return { body: b };
  },
  hostileText: (r, b) => {
    const s = g.session(r, { batches: 1, eventsPerBatch: 30, nodes: 5, hostile: true })[0];
    b.events = s.events;
    return { body: b };
  },
  bigString: (r, b) => {
    // just under and just over the 10 MiB body cap, once in a while
    const target = r.pick([10 * 1024 * 1024 - 200, 10 * 1024 * 1024 + 10, 3 * 1024 * 1024]);
    const t = JSON.stringify(b);
    const pad = Math.max(0, target - t.length - 80);
    b.events.push({ type: 3, data: { source: 0, texts: [{ id: 1, value: 'x'.repeat(pad) }] }, timestamp: 1741942800006 });
    return { body: b };
  },
};
// weights: rare expensive ones
const structuralWeights = { bigString: 0.1, manyEvents: 0.5, dataDeep: 0.5, markerDeep: 0.5, identityDeepTraits: 0.5 };

function metadataOf(r, b) {
  return b.metadata && typeof b.metadata === 'object' && !Array.isArray(b.metadata) ? b.metadata
    : { url: 'https://shop.example/' + r.pick(['a', 'b/c']), referrer: '', userAgent: 'ua', screenWidth: 1280, screenHeight: 800, language: 'en' };
}

function pickWeighted(r, table, weights) {
  const names = Object.keys(table);
  const total = names.reduce((s, n) => s + (weights[n] ?? 1), 0);
  let x = r() * total;
  for (const n of names) {
    x -= weights[n] ?? 1;
    if (x <= 0) return n;
  }
  return names[names.length - 1];
}

// Byte-level damage to a serialized body.
const INVALID_UTF8 = [[0xc3, 0x28], [0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xfe, 0xff], [0x00]];
const raw = {
  none: (r, buf) => buf,
  truncate: (r, buf) => buf.subarray(0, r.int(buf.length)),
  bitflips: (r, buf) => {
    const b = Buffer.from(buf);
    const n = 1 + r.int(8);
    for (let i = 0; i < n && b.length; i++) b[r.int(b.length)] ^= 1 << r.int(8);
    return b;
  },
  byteSet: (r, buf) => {
    const b = Buffer.from(buf);
    if (b.length) b[r.int(b.length)] = r.pick([0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x00, 0x0a, 0x7f, 0x31, 0x2d, 0x2e, 0x65]);
    return b;
  },
  insert: (r, buf) => {
    const at = r.int(buf.length + 1);
    const ins = Buffer.from(r.pick(['"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\\u', '\\ud83d', 'null', '1e400', '-', '\t', '\u2028', '\ufeff']));
    return Buffer.concat([buf.subarray(0, at), ins, buf.subarray(at)]);
  },
  deleteRange: (r, buf) => {
    const a = r.int(buf.length + 1);
    const n = r.int(Math.min(64, buf.length - a + 1));
    return Buffer.concat([buf.subarray(0, a), buf.subarray(a + n)]);
  },
  duplicateRange: (r, buf) => {
    const a = r.int(buf.length + 1);
    const n = r.int(Math.min(256, buf.length - a + 1));
    const at = r.int(buf.length + 1);
    return Buffer.concat([buf.subarray(0, at), buf.subarray(a, a + n), buf.subarray(at)]);
  },
  invalidUtf8: (r, buf) => {
    // inside a string value when possible, so only the encoding is wrong
    const s = buf.indexOf('"value":"');
    const at = s >= 0 ? s + 9 : r.int(buf.length + 1);
    return Buffer.concat([buf.subarray(0, at), Buffer.from(r.pick(INVALID_UTF8)), buf.subarray(at)]);
  },
  bom: (r, buf) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf]),
  whitespace: (r, buf) => Buffer.concat([Buffer.from(r.pick([' ', '\n\t\r ', ''])), buf, Buffer.from(r.pick([' ', '\r\n', '\u000b', 'x', '{}', '']))]),
  controlInString: (r, buf) => {
    const s = buf.indexOf('":"');
    if (s < 0) return buf;
    const b = Buffer.from(buf);
    b[s + 3] = r.pick([0x01, 0x09, 0x0a, 0x1f]);
    return b;
  },
};
const rawWeights = { none: 24 };

// Content encodings, and gzip framing attacks. -> { bytes, encoding }
const ENCODINGS_PLAIN = [null, '', 'identity', ' Identity '];
const ENCODINGS_GZIP = ['gzip', 'GZIP', ' x-gzip\t', 'x-gzip', '\tgzip '];
const ENCODINGS_BAD = ['deflate', 'br', 'gzip, deflate', 'compress', 'zstd', 'gzip;q=1', 'ｇzip', '*'];

function gzipMember(buf, r) {
  return zlib.gzipSync(buf, { level: r.pick([0, 1, 6, 9]) });
}
function withHeader(buf, flags, r) {
  const d = zlib.deflateRawSync(buf);
  const parts = [];
  if (flags & 4) parts.push(Buffer.from([3, 0, 1, 2, 3]));
  if (flags & 8) parts.push(Buffer.from('name.json\0'));
  if (flags & 16) parts.push(Buffer.from('comment\0'));
  let head = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 255]), ...parts]);
  if (flags & 2) {
    const c = zlib.crc32(head);
    const good = r.chance(0.7);
    head = Buffer.concat([head, Buffer.from([(c ^ (good ? 0 : 1)) & 0xff, (c >>> 8) & 0xff])]);
  }
  const tr = Buffer.alloc(8);
  tr.writeUInt32LE(zlib.crc32(buf), 0);
  tr.writeUInt32LE(buf.length >>> 0, 4);
  return Buffer.concat([head, d, tr]);
}

const framing = {
  plain: (r, buf) => ({ bytes: buf, encoding: r.pick(ENCODINGS_PLAIN) }),
  gzip: (r, buf) => ({ bytes: gzipMember(buf, r), encoding: r.pick(ENCODINGS_GZIP) }),
  gzipTwoMembers: (r, buf) => {
    const cut = r.int(buf.length + 1);
    return { bytes: Buffer.concat([gzipMember(buf.subarray(0, cut), r), gzipMember(buf.subarray(cut), r)]), encoding: 'gzip' };
  },
  gzipHeaderFlags: (r, buf) => ({ bytes: withHeader(buf, r.pick([2, 4, 8, 16, 30, 32, 64, 128, 1]), r), encoding: 'gzip' }),
  gzipDamaged: (r, buf) => {
    const gz = Buffer.from(gzipMember(buf, r));
    const how = r.int(6);
    if (how === 0) return { bytes: gz.subarray(0, r.int(gz.length)), encoding: 'gzip' };
    if (how === 1) { for (let i = 0; i < 1 + r.int(4); i++) gz[r.int(gz.length)] ^= 1 << r.int(8); return { bytes: gz, encoding: 'gzip' }; }
    if (how === 2) return { bytes: Buffer.concat([gz, Buffer.from(r.pick(['\0\0\0\0', 'garbage', '\x1f', '\x1f\x8b']))]), encoding: 'gzip' };
    if (how === 3) { gz.writeUInt32LE((gz.readUInt32LE(gz.length - 4) + 1 + r.int(1000)) >>> 0, gz.length - 4); return { bytes: gz, encoding: 'gzip' }; }
    if (how === 4) { gz.writeUInt32LE(0xffffffff, gz.length - 4); return { bytes: gz, encoding: 'gzip' }; }
    gz[r.int(Math.min(10, gz.length))] ^= 0xff; // header byte
    return { bytes: gz, encoding: 'gzip' };
  },
  gzipSentPlain: (r, buf) => ({ bytes: gzipMember(buf, r), encoding: null }),
  plainSentGzip: (r, buf) => ({ bytes: buf, encoding: 'gzip' }),
  badEncoding: (r, buf) => ({ bytes: buf, encoding: r.pick(ENCODINGS_BAD) }),
  gzipEmpty: (r, buf) => ({ bytes: r.pick([Buffer.alloc(0), gzipMember(Buffer.alloc(0), r), Buffer.from([0x1f, 0x8b, 8, 0])]), encoding: 'gzip' }),
};
const framingWeights = { plain: 6, gzip: 3 };

// Gzip bombs: small compressed, huge inflated (built once, reused).
let bombs = null;
function gzipBombs() {
  if (bombs) return bombs;
  const cap = 10 * 1024 * 1024;
  const spaces = (n) => zlib.gzipSync(Buffer.alloc(n, 0x20), { level: 9 });
  const body = (n) => {
    // a valid body padded with whitespace to n bytes
    const head = Buffer.from('{"sessionId":"9e0c6f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6","events":[]}');
    return zlib.gzipSync(Buffer.concat([head, Buffer.alloc(n - head.length, 0x20)]), { level: 9 });
  };
  const big = spaces(64 * 1024 * 1024);
  bombs = [
    { tag: 'bomb-1GiB', bytes: Buffer.concat(Array(16).fill(big)) }, // 16 members of 64 MiB
    { tag: 'bomb-cap+1', bytes: body(cap + 1) },
    { tag: 'bomb-cap', bytes: body(cap) },
    { tag: 'bomb-isize-lie', bytes: (() => { const b = Buffer.from(body(cap + 4096)); b.writeUInt32LE(100, b.length - 4); return b; })() },
  ];
  return bombs;
}

module.exports = { structural, structuralWeights, raw, rawWeights, framing, framingWeights, pickWeighted, clone, gzipBombs, nested, deepText, HOSTILE_STRINGS };
