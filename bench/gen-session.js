#!/usr/bin/env node
// Seeded generator of realistic rrweb sessions, written as the SDK sends them.
//
//   node bench/gen-session.js --events 100000 [--seed dozor] [--checkout-ms MS] --out DIR
//
// DIR/batch-NNNNNN.json.gz  one SDK request body per file, gzip'd, in arrival
//                           order: {"sessionId", "events": [<= 500], "metadata"?}
// DIR/manifest.json         what was generated (counts, bytes, markers, ...)
// DIR/batch500.body.json    one typical 500-event body, uncompressed (ingest bench)
// DIR/batch500.events.json  its events array exactly as dozor stores it
//
// The same --seed and --events always give byte-identical files (a private
// PRNG drives every choice; zlib output is deterministic; gzip mtime is 0).
// Events are produced and written batch by batch, so 1M events need no more
// memory than a few batches.
//
// Shape of a session (see RRWEB-FACTS.md): Meta + FullSnapshot (50-400 KB of
// nested nodes, inlined CSS) at start and after every SPA navigation, which
// the SDK announces with a `dozor:url` Custom event just before; then
// IncrementalSnapshot events: MouseMove (buffered positions), Mutation
// (adds/removes/texts/attributes), MouseInteraction, Scroll, Input, a few
// rarer sources; `dozor:identity` markers (the next batch carries metadata
// with userIdentity, as the SDK does after identify()); a few dozen console
// plugin events in bursts; short pauses and occasional idle gaps > 30 s.
// About 500 bytes per event on average. Timestamps mostly increase: ~1% of
// events are stamped a little earlier than their predecessor, and ~4% of
// batches arrive after the batch that followed them.
//
// Mutations are consistent, as rrweb's recorder emits them: an added subtree
// is one add per node (the Replayer builds each without children); a remove names
// the node's real parent, and no later event names a removed node or one
// inside a removed subtree; an add's nextId is a child of its parentId in the
// document; a StyleSheetRule names one of the page's stylesheets (rrweb's
// Replayer fails on a rule for another element). (Version 3 named removed
// nodes as next siblings; rrweb's Replayer
// then spins in its missing-node loop for 500 ms per such add, which made a
// seek cost seconds.)
//
// --checkout-ms MS is rrweb's `checkoutEveryNms`: the first IncrementalSnapshot
// more than MS after the last FullSnapshot is followed by a checkout, Meta +
// FullSnapshot of the same page, which the SDK sends as the first events of
// a new batch (rrweb's emit(event, isCheckout) starts a new segment). Off by
// default; a player seeks from the keyframe before the target, so the
// checkout interval bounds what a seek must replay.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const GENERATOR_VERSION = 4;
const MAX_BATCH = 500;          // SDK: at most 500 events per request
const FLUSH_MS = 15000;         // SDK: flush timer
const GZIP_LEVEL = 6;           // what CompressionStream / zlib default produce

// ---------------------------------------------------------------- PRNG
function hashSeed(s) {
  let h = 1779033703 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  const out = [];
  for (let k = 0; k < 4; k++) {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    out.push(h >>> 0);
  }
  return out;
}
// sfc32: small, fast, good enough for synthetic data, fully deterministic
function makeRng(seed) {
  let [a, b, c, d] = hashSeed(String(seed));
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  const r = {
    f: next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),   // inclusive
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    logUniform: (lo, hi) => Math.exp(Math.log(lo) + next() * (Math.log(hi) - Math.log(lo))),
    hex: (n) => { let s = ''; for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(next() * 16)]; return s; },
  };
  return r;
}

// ---------------------------------------------------------------- vocabulary
const WORDS = ('the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part order account billing invoice dashboard settings profile team project deploy release session replay report export filter search results page next previous loading error retry cancel save submit update delete confirm welcome back total revenue active users conversion rate week month year today yesterday notifications messages inbox archive draft sent share copy link open close menu help support docs pricing features customers login logout sign register password email address phone company country city street zip amount price quantity discount shipping tax checkout cart product catalog category brand review rating stars comment reply like follow subscribe plan upgrade trial free pro enterprise monthly annual').split(' ');
const CLASS_TOKENS = ('flex inline-flex grid block hidden items-center justify-between justify-center gap-2 gap-4 px-2 px-4 py-1 py-2 p-4 m-0 mt-2 mb-4 ml-auto w-full h-full max-w-7xl mx-auto rounded rounded-lg rounded-full border border-gray-200 shadow shadow-sm bg-white bg-gray-50 bg-blue-600 text-sm text-xs text-lg font-medium font-semibold text-gray-500 text-gray-900 text-white hover:bg-gray-100 focus:ring-2 transition duration-150 truncate overflow-hidden relative absolute sticky top-0 z-10 space-y-2 divide-y sm:px-6 lg:px-8 md:grid-cols-3 col-span-2 css-1x2y3z4 MuiButton-root MuiTypography-body1 sc-bdVaJa jsx-2837461 ant-btn ant-table-row chakra-stack').split(' ');
const TAGS_BLOCK = ['div', 'div', 'div', 'section', 'article', 'ul', 'li', 'nav', 'aside', 'form', 'table', 'tr', 'td', 'header', 'footer'];
const TAGS_LEAF = ['span', 'span', 'a', 'p', 'button', 'h2', 'h3', 'label', 'img', 'input', 'svg', 'i', 'strong', 'em', 'small'];
const PATHS = ['/', '/dashboard', '/projects', '/projects/42', '/projects/42/sessions', '/sessions/9f3a', '/settings', '/settings/billing', '/settings/team', '/checkout', '/cart', '/products', '/products/widget-pro', '/search', '/docs/getting-started', '/account', '/reports/weekly', '/inbox', '/inbox/thread/1187', '/help'];
const CONSOLE_LEVELS = ['log', 'log', 'log', 'info', 'warn', 'warn', 'error', 'error', 'debug', 'table', 'group', 'groupEnd', 'count', 'assert', 'trace'];
const ORIGIN = 'https://app.example.com';

function sentence(rng, lo, hi) {
  const n = rng.int(lo, hi);
  const w = [];
  for (let i = 0; i < n; i++) w.push(rng.pick(WORDS));
  let s = w.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
function classes(rng) {
  const n = rng.int(1, 7);
  const c = [];
  for (let i = 0; i < n; i++) c.push(rng.pick(CLASS_TOKENS));
  return c.join(' ');
}
function cssText(rng, bytes) {
  let out = '';
  while (out.length < bytes) {
    const sel = '.' + rng.pick(CLASS_TOKENS).replace(':', '\\:') + (rng.chance(0.3) ? ' > ' + rng.pick(TAGS_LEAF) : '') +
      (rng.chance(0.2) ? ':hover' : '');
    const props = [];
    const k = rng.int(1, 6);
    for (let i = 0; i < k; i++) {
      props.push(rng.pick(['margin', 'padding', 'color', 'background-color', 'border-radius', 'font-size', 'line-height', 'display', 'width', 'height', 'transition', 'box-shadow', 'z-index']) + ': ' +
        rng.pick([rng.int(0, 64) + 'px', '#' + rng.hex(6), 'rgba(' + rng.int(0, 255) + ', ' + rng.int(0, 255) + ', ' + rng.int(0, 255) + ', 0.' + rng.int(1, 9) + ')', 'flex', 'none', 'all 150ms ease-in-out', rng.int(1, 3) + 'rem', 'auto', '0 1px 3px rgba(0,0,0,0.1)']));
    }
    out += sel + ' { ' + props.join('; ') + '; }';
  }
  return out;
}

// ---------------------------------------------------------------- DOM nodes
class Page {
  constructor(rng, pathname) {
    this.rng = rng;
    this.pathname = pathname;
    this.url = ORIGIN + pathname + (rng.chance(0.3) ? '?tab=' + rng.pick(WORDS) : '');
    this.reset();
  }
  // the DOM as the recorder's mirror knows it: ids, each node's parent and
  // children, and the roots of removed subtrees (a Mutation only ever names
  // nodes that are in the document, as rrweb's recorder emits them)
  reset() {
    this.nextId = 1;
    this.elementIds = [];   // element ids (mutation targets, clicks); removed ones are skipped
    this.textIds = [];
    this.inputIds = [];
    this.parent = new Map();
    this.children = new Map();
    this.removed = new Set();
  }
  id() { return this.nextId++; }
  // records n's children as its own (call once n.childNodes is complete)
  adopt(n) {
    if (n.childNodes && n.childNodes.length) {
      this.children.set(n.id, n.childNodes.map((c) => c.id));
      for (const c of n.childNodes) this.parent.set(c.id, n.id);
    }
    return n;
  }
  // in the document: neither the node nor an ancestor was removed
  live(id) {
    for (let x = id; x !== undefined; x = this.parent.get(x)) if (this.removed.has(x)) return false;
    return true;
  }
  // a live id from list, by a few draws; fallback when none is found
  pickLive(list, fallback) {
    for (let i = 0; i < 8 && list.length; i++) {
      const id = this.rng.pick(list);
      if (this.live(id)) return id;
    }
    return fallback;
  }
  // a Mutation add: node goes under parentId, before nextId (null: last)
  attach(parentId, node, nextId) {
    const kids = this.children.get(parentId) || [];
    const at = nextId === null ? -1 : kids.indexOf(nextId);
    if (at < 0) kids.push(node.id); else kids.splice(at, 0, node.id);
    this.children.set(parentId, kids);
    this.parent.set(node.id, parentId);
  }
  // a Mutation remove: the node leaves its parent, with its subtree
  detach(id) {
    const parentId = this.parent.get(id);
    const kids = this.children.get(parentId);
    if (kids) kids.splice(kids.indexOf(id), 1);
    this.removed.add(id);
    return parentId;
  }
  text(lo, hi) {
    const id = this.id();
    this.textIds.push(id);
    return { type: 3, textContent: sentence(this.rng, lo, hi), id };
  }
  attrs(tag) {
    const rng = this.rng;
    const a = {};
    if (rng.chance(0.8)) a.class = classes(rng);
    if (tag === 'a') a.href = rng.pick(PATHS) + (rng.chance(0.3) ? '#' + rng.pick(WORDS) : '');
    if (tag === 'img') { a.src = ORIGIN + '/static/img/' + rng.hex(12) + '.webp'; a.alt = sentence(rng, 1, 4); a.width = String(rng.int(16, 640)); a.height = String(rng.int(16, 480)); }
    if (tag === 'input') { a.type = rng.pick(['text', 'email', 'search', 'password', 'checkbox', 'number']); a.name = rng.pick(WORDS); a.placeholder = sentence(rng, 1, 3); a.value = ''; }
    if (tag === 'button') a.type = 'button';
    if (rng.chance(0.25)) a['data-testid'] = rng.pick(WORDS) + '-' + rng.pick(WORDS);
    if (rng.chance(0.15)) a['aria-label'] = sentence(rng, 1, 4);
    if (rng.chance(0.1)) a.style = 'transform: translate(' + rng.int(0, 300) + 'px, ' + rng.int(0, 300) + 'px); opacity: 0.' + rng.int(1, 9);
    if (rng.chance(0.05)) a.id = rng.pick(WORDS) + '-' + rng.int(1, 999);
    return a;
  }
  leaf() {
    const rng = this.rng;
    const tag = rng.pick(TAGS_LEAF);
    const id = this.id();
    this.elementIds.push(id);
    const n = { type: 2, tagName: tag, attributes: this.attrs(tag), childNodes: [], id };
    if (tag === 'input') this.inputIds.push(id);
    else if (tag === 'svg') {
      n.isSVG = true;
      const pid = this.id();
      n.childNodes.push({ type: 2, tagName: 'path', attributes: { d: 'M' + rng.int(0, 24) + ' ' + rng.int(0, 24) + 'l' + rng.int(-9, 9) + ' ' + rng.int(-9, 9) + 'h' + rng.int(1, 12) + 'v' + rng.int(1, 12) + 'z', fill: 'currentColor' }, childNodes: [], isSVG: true, id: pid });
    } else if (tag !== 'img') n.childNodes.push(this.text(1, 8));
    return this.adopt(n);
  }
  // a subtree of roughly `budget` leaves, nested up to `depth`
  subtree(depth, budget) {
    const rng = this.rng;
    if (depth <= 0 || budget <= 1) return this.leaf();
    const tag = rng.pick(TAGS_BLOCK);
    const id = this.id();
    this.elementIds.push(id);
    const n = { type: 2, tagName: tag, attributes: this.attrs(tag), childNodes: [], id };
    let left = budget;
    while (left > 0) {
      const take = Math.max(1, Math.min(left, rng.int(1, Math.ceil(budget / 2))));
      n.childNodes.push(rng.chance(0.15) ? this.text(2, 14) : this.subtree(depth - 1, take));
      left -= take;
      if (rng.chance(0.1)) n.childNodes.push({ type: 5, textContent: ' ' + rng.pick(WORDS) + ' ', id: this.id() });
    }
    return this.adopt(n);
  }
  // the FullSnapshot `data` of about `target` bytes of JSON
  snapshot(target) {
    const rng = this.rng;
    this.reset();
    const docId = this.id();
    const doctype = { type: 1, name: 'html', publicId: '', systemId: '', id: this.id() };
    const htmlId = this.id();
    const headId = this.id();
    const head = { type: 2, tagName: 'head', attributes: {}, childNodes: [], id: headId };
    head.childNodes.push({ type: 2, tagName: 'meta', attributes: { charset: 'utf-8' }, childNodes: [], id: this.id() });
    head.childNodes.push({ type: 2, tagName: 'title', attributes: {}, childNodes: [this.text(2, 6)], id: this.id() });
    head.childNodes.push({ type: 2, tagName: 'link', attributes: { rel: 'stylesheet', href: ORIGIN + '/static/css/main.' + rng.hex(8) + '.css', _cssText: cssText(rng, Math.floor(target * rng.int(15, 35) / 100)) }, childNodes: [], id: this.id() });
    const styleId = this.id();
    head.childNodes.push({ type: 2, tagName: 'style', attributes: {}, childNodes: [{ type: 3, textContent: cssText(rng, rng.int(500, 6000)), isStyle: true, id: this.id() }], id: styleId });
    for (let i = rng.int(1, 4); i > 0; i--)
      head.childNodes.push({ type: 2, tagName: 'script', attributes: { src: ORIGIN + '/static/js/' + rng.pick(WORDS) + '.' + rng.hex(8) + '.js', defer: '' }, childNodes: [], id: this.id() });
    const bodyId = this.id();
    const root = { type: 2, tagName: 'div', attributes: { id: 'root', class: classes(rng) }, childNodes: [], id: this.id() };
    const body = { type: 2, tagName: 'body', attributes: { class: classes(rng) }, childNodes: [root], id: bodyId };
    let size = JSON.stringify(head).length + 400;
    while (size < target) {
      const sec = this.subtree(rng.int(3, 8), rng.int(8, 60));
      size += JSON.stringify(sec).length + 1;
      root.childNodes.push(sec);
    }
    const html = { type: 2, tagName: 'html', attributes: { lang: 'en' }, childNodes: [head, body], id: htmlId };
    this.rootId = root.id;
    this.sheetIds = [head.childNodes[2].id, styleId];   // the link (its _cssText) and the style element
    for (const n of [head, head.childNodes[1], head.childNodes[3], root, body, html]) this.adopt(n);
    const doc = this.adopt({ type: 0, childNodes: [doctype, html], compatMode: 'CSS1Compat', id: docId });
    return { node: doc, initialOffset: { left: 0, top: 0 } };
  }
  someElement() { return this.pickLive(this.elementIds, this.rootId); }
  someText() { return this.pickLive(this.textIds, this.textIds.length ? this.textIds[0] : 1); }
  someInput() {
    const id = this.pickLive(this.inputIds, null);
    if (id !== null) return id;
    const el = this.someElement();
    this.inputIds.push(el);
    return el;
  }
  // a live child of parentId to insert before, or null (append)
  someChild(parentId) {
    const kids = this.children.get(parentId);
    return kids && kids.length ? this.rng.pick(kids) : null;
  }
}

// ---------------------------------------------------------------- session
function parseArgs(argv) {
  const a = { events: 10000, seed: 'dozor', out: null, checkoutMs: 0 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    if (k === '--events') { a.events = parseEventCount(v); i++; }
    else if (k === '--seed') { a.seed = v; i++; }
    else if (k === '--out') { a.out = v; i++; }
    else if (k === '--checkout-ms') { a.checkoutMs = Number(v); i++; }
    else if (k === '--force') a.force = true;
    else { console.error('unknown argument ' + k); process.exit(2); }
  }
  if (!a.out) { console.error('usage: gen-session.js --events N[k|m] [--seed S] [--checkout-ms MS] --out DIR [--force]'); process.exit(2); }
  return a;
}
function parseEventCount(v) {
  const m = /^(\d+)([kKmM]?)$/.exec(v || '');
  if (!m) throw new Error('bad --events ' + v);
  return parseInt(m[1], 10) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1000 : 1000000);
}

function generate(opts) {
  const rng = makeRng(opts.seed + ':' + opts.events);
  const N = opts.events;
  const checkoutMs = opts.checkoutMs || 0;   // rrweb's checkoutEveryNms; 0: none
  const dir = opts.out;
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (/^batch/.test(f)) fs.unlinkSync(path.join(dir, f));

  const sessionId = rng.hex(8) + '-' + rng.hex(4) + '-4' + rng.hex(3) + '-' + rng.pick(['8', '9', 'a', 'b']) + rng.hex(3) + '-' + rng.hex(12);
  const startTs = 1700000000000 + rng.int(0, 86400000);
  const width = rng.pick([1280, 1366, 1440, 1536, 1920]), height = rng.pick([720, 768, 800, 864, 1080]);
  const firstPath = rng.pick(PATHS);
  let page = new Page(rng, firstPath);
  const metadata = {
    url: page.url, referrer: rng.pick(['', 'https://www.google.com/', 'https://news.ycombinator.com/']),
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    screenWidth: width, screenHeight: height, language: 'en-US',
  };

  // plan: where console bursts, identify() calls and navigations happen
  const consoleBursts = 4 + Math.floor(N / 25000);
  const burstAt = []; for (let i = 0; i < consoleBursts; i++) burstAt.push(rng.int(50, N - 10));
  burstAt.sort((x, y) => x - y);
  const identities = 1 + Math.floor(Math.log10(Math.max(10, N)) - 1);
  const identAt = [rng.int(20, Math.min(N - 5, 400))];
  for (let i = 1; i < identities; i++) identAt.push(rng.int(400, N - 5));
  identAt.sort((x, y) => x - y);
  const idleGaps = 2 + Math.floor(N / 10000);
  const idleAt = []; for (let i = 0; i < idleGaps; i++) idleAt.push(rng.int(100, N - 10));
  idleAt.sort((x, y) => x - y);
  const eventsPerPage = 4000;

  let ts = startTs;
  let count = 0;                      // events emitted
  const stats = {
    generator_version: GENERATOR_VERSION, seed: opts.seed, events: N, sessionId, started_ts: startTs,
    checkout_ms: checkoutMs, checkouts: 0, batches: 0, event_bytes: 0, body_bytes: 0, gz_bytes: 0, full_snapshots: 0, full_snapshot_bytes: 0,
    url_markers: 0, identity_markers: 0, console_events: 0, console_batches: 0, idle_gaps: 0,
    out_of_order_events: 0, out_of_order_batches: 0, by_kind: {}, metadata_url: metadata.url,
  };

  // ---- batching (SDK) and writing (arrival order, with a little reordering)
  let buf = [];                       // event texts
  let bufFirstTs = null, bufHasSnapshot = false, bufConsole = 0;
  let pendingMetadata = metadata;     // first batch carries metadata
  let fileNo = 0;
  const held = [];                    // [{body, countdown}]
  const candidates500 = [];
  function writeBody(b) {
    const name = 'batch-' + String(fileNo++).padStart(6, '0') + '.json.gz';
    const gz = zlib.gzipSync(b.body, { level: GZIP_LEVEL });
    fs.writeFileSync(path.join(dir, name), gz);
    stats.gz_bytes += gz.length;
    stats.body_bytes += b.body.length;
    if (b.count === MAX_BATCH && !b.snapshot) candidates500.push({ name, raw: b.eventsLen, body: b.body });
  }
  function flush() {
    if (!buf.length) return;
    const eventsText = '[' + buf.join(',') + ']';
    let body = '{"sessionId":"' + sessionId + '","events":' + eventsText;
    if (pendingMetadata) { body += ',"metadata":' + JSON.stringify(pendingMetadata); pendingMetadata = null; }
    body += '}';
    const b = { body: Buffer.from(body, 'utf8'), count: buf.length, snapshot: bufHasSnapshot, eventsLen: Buffer.byteLength(eventsText) };
    stats.batches++;
    if (bufConsole) stats.console_batches++;
    buf = []; bufFirstTs = null; bufHasSnapshot = false; bufConsole = 0;
    // release held batches whose delay ran out (they arrive after this one)
    for (let i = 0; i < held.length;) {
      if (--held[i].countdown < 0) { writeBody(held[i]); held.splice(i, 1); } else i++;
    }
    if (stats.batches > 1 && rng.chance(0.04)) { b.countdown = rng.int(1, 2); held.push(b); stats.out_of_order_batches++; }
    else writeBody(b);
  }
  function finish() {
    flush();
    for (const h of held) writeBody(h);
    held.length = 0;
  }

  let lastTs = startTs;
  let lastFullTs = startTs;
  function emit(type, data, kind) {
    if (count >= N) return;
    // SDK flush timer fires while the page is quiet; full buffer flushes at once
    if (buf.length && (ts - bufFirstTs >= FLUSH_MS)) flush();
    let t = ts;
    if (type === 3 && rng.chance(0.01) && count > 0) { t = ts - rng.int(1, 400); stats.out_of_order_events++; }
    const text = '{"type":' + type + ',"data":' + JSON.stringify(data) + ',"timestamp":' + t + '}';
    if (bufFirstTs === null) bufFirstTs = ts;
    buf.push(text);
    const len = Buffer.byteLength(text);
    stats.event_bytes += len;
    stats.by_kind[kind] = stats.by_kind[kind] || { n: 0, bytes: 0 };
    stats.by_kind[kind].n++; stats.by_kind[kind].bytes += len;
    if (type === 2) { bufHasSnapshot = true; stats.full_snapshots++; stats.full_snapshot_bytes += len; lastFullTs = ts; }
    if (kind === 'console') bufConsole++;
    lastTs = Math.max(lastTs, t);
    count++;
    if (buf.length >= MAX_BATCH) flush();
    // rrweb's recorder with checkoutEveryNms: the first IncrementalSnapshot
    // more than that after the last FullSnapshot triggers a checkout
    if (type === 3 && checkoutMs > 0 && ts - lastFullTs > checkoutMs && N - count > 50) checkout();
  }
  const adv = (lo, hi) => { ts += rng.int(lo, hi); };

  // ---- event kinds
  function snapshotPair(nav) {
    if (nav) {
      const pathname = rng.pick(PATHS.filter((p) => p !== page.pathname));
      page = new Page(rng, pathname);
      emit(5, { tag: 'dozor:url', payload: { url: page.url, pathname } }, 'url');
      stats.url_markers++;
      adv(5, 60);
    }
    emit(4, { href: page.url, width, height }, 'meta');
    adv(1, 20);
    page.target = Math.round(rng.logUniform(50000, 400000));
    emit(2, page.snapshot(page.target), 'full_snapshot');
    adv(20, 300);
  }
  // takeFullSnapshot(true): Meta and a FullSnapshot of the same page (as
  // large as its first), which emit's isCheckout makes the SDK start a new
  // batch with (a fresh segment); no url marker, the page did not change
  function checkout() {
    flush();
    stats.checkouts++;
    emit(4, { href: page.url, width, height }, 'meta');
    adv(1, 20);
    emit(2, page.snapshot(page.target), 'full_snapshot');
  }
  function mouseMove() {
    const positions = [];
    const k = rng.int(4, 16);
    let x = rng.int(0, width), y = rng.int(0, height);
    for (let i = 0; i < k; i++) {
      x = Math.max(0, Math.min(width, x + rng.int(-80, 80)));
      y = Math.max(0, Math.min(height, y + rng.int(-60, 60)));
      positions.push({ x, y, id: page.someElement(), timeOffset: -Math.round((k - i) * 500 / k) });
    }
    emit(3, { source: 1, positions }, 'mousemove');
  }
  // rrweb's recorder sends an added subtree as one add per node, each
  // serialized without children (the Replayer builds an add with skipChild):
  // the node, then its children last to first, so that every parentId and
  // nextId is in the document when its add is applied
  function flatAdds(adds, parentId, nextId, node) {
    const { childNodes, ...own } = node;
    if (childNodes) own.childNodes = [];
    adds.push({ parentId, nextId, node: own });
    if (!childNodes) return;
    for (let i = childNodes.length - 1; i >= 0; i--)
      flatAdds(adds, node.id, i + 1 < childNodes.length ? childNodes[i + 1].id : null, childNodes[i]);
  }
  // removes a live element (never the page's skeleton: html, head, body, #root)
  function removeSome(d) {
    const id = page.someElement();
    if (id === page.rootId) return;
    d.removes.push({ parentId: page.detach(id), id });
  }
  function mutationSmall() {
    const d = { source: 0, texts: [], attributes: [], removes: [], adds: [] };
    const r = rng.f();
    if (r < 0.45) {
      for (let i = rng.int(1, 3); i > 0; i--) {
        let value = sentence(rng, 2, 13);
        if (rng.chance(0.002)) value += rng.pick(['\u0000', '\ud83d', ' \udc4d ', '\u2028']);
        d.texts.push({ id: page.someText(), value });
      }
    } else if (r < 0.9) {
      for (let i = rng.int(1, 4); i > 0; i--) {
        const at = {};
        if (rng.chance(0.7)) at.class = classes(rng);
        else at.style = rng.chance(0.5) ? { transform: 'translateX(' + rng.int(-200, 200) + 'px)', opacity: '0.' + rng.int(1, 9) } : 'width: ' + rng.int(0, 100) + '%';
        if (rng.chance(0.2)) at['aria-expanded'] = rng.pick(['true', 'false']);
        d.attributes.push({ id: page.someElement(), attributes: at });
      }
    } else {
      removeSome(d);
      d.texts.push({ id: page.someText(), value: sentence(rng, 1, 6) });
    }
    emit(3, d, 'mutation');
  }
  function mutationAdds() {
    const d = { source: 0, texts: [], attributes: [], removes: [], adds: [] };
    for (let i = rng.int(0, 2); i > 0; i--) removeSome(d);
    for (let i = rng.int(1, 3); i > 0; i--) {
      const parentId = page.someElement();
      const nextId = rng.chance(0.5) ? page.someChild(parentId) : null;
      const node = page.subtree(rng.int(1, 4), rng.int(1, 12));
      page.attach(parentId, node, nextId);
      flatAdds(d.adds, parentId, nextId, node);
    }
    emit(3, d, 'mutation_adds');
  }
  function click() {
    const id = page.someElement(), x = rng.int(0, width), y = rng.int(0, height);
    emit(3, { source: 2, type: 1, id, x, y, pointerType: 0 }, 'click'); adv(40, 140);
    emit(3, { source: 2, type: 0, id, x, y, pointerType: 0 }, 'click'); adv(0, 5);
    emit(3, { source: 2, type: 2, id, x, y, pointerType: 0 }, 'click'); adv(10, 80);
    for (let i = rng.int(1, 14); i > 0; i--) {
      if (rng.chance(0.3)) mutationAdds(); else mutationSmall();
      adv(2, 60);
    }
  }
  function scroll() {
    const id = rng.chance(0.7) ? 1 : page.someElement();
    let y = rng.int(0, 3000);
    for (let i = rng.int(5, 40); i > 0; i--) {
      y = Math.max(0, y + rng.int(-100, 300));
      emit(3, { source: 3, id, x: 0, y }, 'scroll');
      adv(30, 120);
      if (rng.chance(0.08)) { mutationAdds(); adv(5, 40); }
      else if (rng.chance(0.2)) { mutationSmall(); adv(5, 40); }
    }
  }
  function typing() {
    const id = page.someInput();
    emit(3, { source: 2, type: 5, id }, 'focus'); adv(200, 900);
    const target = sentence(rng, 1, 6);
    for (let i = 1; i <= target.length; i++) {
      emit(3, { source: 5, text: target.slice(0, i), isChecked: false, id }, 'input');
      adv(40, 200);
      if (rng.chance(0.25)) { mutationSmall(); adv(1, 20); }
    }
    emit(3, { source: 2, type: 6, id }, 'blur'); adv(50, 300);
  }
  function wander() {
    for (let i = rng.int(2, 30); i > 0; i--) {
      mouseMove();
      adv(100, 520);
      for (let j = rng.int(0, 12); j > 0; j--) { if (rng.chance(0.06)) mutationAdds(); else mutationSmall(); adv(3, 30); }
    }
  }
  function liveUpdates() {
    for (let i = rng.int(10, 60); i > 0; i--) {
      if (rng.chance(0.12)) mutationAdds(); else mutationSmall();
      adv(5, 80);
    }
  }
  // a burst of DOM work (a data grid rendering, a drag, an animation):
  // hundreds of events within seconds; fills whole 500-event batches
  function storm() {
    for (let i = rng.int(300, 1500); i > 0; i--) {
      const r = rng.f();
      if (r < 0.05) mutationAdds();
      else if (r < 0.88) mutationSmall();
      else mouseMove();
      adv(2, 15);
    }
  }
  function rare() {
    const r = rng.f();
    if (r < 0.3) emit(3, { source: 4, width: rng.int(800, 1920), height: rng.int(600, 1080) }, 'resize');
    else if (r < 0.5) emit(3, { source: 7, type: rng.int(0, 4), id: page.someElement(), currentTime: rng.f() * 100, volume: 1, muted: false, playbackRate: 1 }, 'media');
    else if (r < 0.7) emit(3, { source: 8, id: rng.pick(page.sheetIds), adds: [{ rule: cssText(rng, 80), index: rng.int(0, 400) }] }, 'stylesheet');
    else if (r < 0.85) emit(3, { source: 14, ranges: [{ start: page.someText(), startOffset: rng.int(0, 20), end: page.someText(), endOffset: rng.int(0, 20) }] }, 'selection');
    else emit(5, { tag: rng.pick(['analytics', 'feature-flag', 'dozor:checkout-step']), payload: { step: rng.int(1, 5), name: rng.pick(WORDS) } }, 'custom');
  }
  function consoleEntry() {
    const level = rng.pick(CONSOLE_LEVELS);
    const payload = [];
    const k = level === 'groupEnd' ? 0 : rng.int(1, 3);
    for (let i = 0; i < k; i++) {
      payload.push(rng.pick([
        JSON.stringify(sentence(rng, 2, 8)),
        JSON.stringify({ status: rng.pick([200, 401, 404, 500]), url: '/api/' + rng.pick(WORDS), ms: rng.int(3, 2000) }),
        '"[object Object]"', 'null', String(rng.int(0, 1e6)),
        JSON.stringify('TypeError: Cannot read properties of undefined (reading \'' + rng.pick(WORDS) + '\')'),
      ]));
    }
    const trace = [];
    for (let i = rng.int(1, 5); i > 0; i--) trace.push(rng.pick(WORDS) + '@' + ORIGIN + '/static/js/main.' + rng.hex(8) + '.js:' + rng.int(1, 9000) + ':' + rng.int(1, 200));
    emit(6, { plugin: 'rrweb/console@1', payload: { level, trace, payload } }, 'console');
    stats.console_events++;
  }
  function identify(i) {
    const userId = 'user_' + rng.int(1000, 99999);
    const traits = { email: userId + '@example.com', plan: rng.pick(['free', 'pro', 'team']), n: i };
    emit(5, { tag: 'dozor:identity', payload: { userId, traits } }, 'identity');
    stats.identity_markers++;
    pendingMetadata = Object.assign({}, metadata, { userIdentity: { userId, traits } });
  }

  // ---- the session
  snapshotPair(false);
  let pageLeft = rng.int(eventsPerPage / 2, eventsPerPage * 3 / 2);
  let bi = 0, ii = 0, gi = 0;
  let pageStartCount = count;
  while (count < N) {
    if (bi < burstAt.length && count >= burstAt[bi]) {
      for (let k = rng.int(2, 8); k > 0 && count < N; k--) { consoleEntry(); adv(1, 300); }
      bi++; continue;
    }
    if (ii < identAt.length && count >= identAt[ii]) { identify(ii); ii++; adv(10, 200); continue; }
    if (gi < idleAt.length && count >= idleAt[gi]) { ts += rng.int(31000, 240000); stats.idle_gaps++; gi++; continue; }
    if (count - pageStartCount >= pageLeft && N - count > 50) {
      adv(200, 2500);
      snapshotPair(true);
      pageLeft = rng.int(eventsPerPage / 2, eventsPerPage * 3 / 2);
      pageStartCount = count;
      continue;
    }
    const r = rng.f();
    if (r < 0.34) wander();
    else if (r < 0.50) click();
    else if (r < 0.64) scroll();
    else if (r < 0.72) typing();
    else if (r < 0.89) liveUpdates();
    else if (r < 0.91) storm();
    else if (r < 0.95) rare();
    else adv(300, 4000);  // a pause (idle gaps > 30 s are planned above)
    adv(20, 200);
  }
  finish();

  // a typical 500-event batch (no FullSnapshot): the one nearest the median size
  if (candidates500.length) {
    const sorted = candidates500.slice().sort((x, y) => x.raw - y.raw || (x.name < y.name ? -1 : 1));
    const med = sorted[Math.floor(sorted.length / 2)];
    const body = JSON.parse(med.body.toString('utf8'));
    fs.writeFileSync(path.join(dir, 'batch500.body.json'), med.body);
    // the stored form: the events array with each event's text unchanged
    const start = med.body.indexOf('"events":') + 9;
    fs.writeFileSync(path.join(dir, 'batch500.events.json'), med.body.subarray(start, start + med.raw));
    stats.batch500 = { file: med.name, events: body.events.length, events_bytes: med.raw };
  }
  stats.generated_events = count;
  stats.last_ts = lastTs;
  stats.bytes_per_event = +(stats.event_bytes / count).toFixed(1);
  stats.gzip_ratio = +(stats.body_bytes / stats.gz_bytes).toFixed(2);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(stats, null, 1) + '\n');
  return stats;
}

function main() {
  const opts = parseArgs(process.argv);
  const mf = path.join(opts.out, 'manifest.json');
  if (!opts.force && fs.existsSync(mf)) {
    try {
      const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
      if (m.generator_version === GENERATOR_VERSION && m.seed === opts.seed && m.events === opts.events &&
          (m.checkout_ms || 0) === opts.checkoutMs) {
        console.error(`gen-session: ${opts.out} is up to date (${m.generated_events} events, ${m.batches} batches)`);
        return;
      }
    } catch (e) { /* regenerate */ }
  }
  const t0 = process.hrtime.bigint();
  const s = generate(opts);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.error(`gen-session: ${s.generated_events} events in ${s.batches} batches, ${(s.event_bytes / 1e6).toFixed(1)} MB JSON ` +
    `(${s.bytes_per_event} B/event), ${(s.gz_bytes / 1e6).toFixed(1)} MB gzip, ${s.full_snapshots} snapshots, ` +
    `${s.checkouts} checkouts, ${s.url_markers} url, ${s.identity_markers} identity, ${s.console_events} console in ${s.console_batches} batches, ` +
    `${s.idle_gaps} idle gaps; ${(ms / 1000).toFixed(1)} s`);
}

module.exports = { makeRng, generate };
if (require.main === module) main();
