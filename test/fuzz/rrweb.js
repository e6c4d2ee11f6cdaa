'use strict';
// rrweb.js — deterministic generator of realistic rrweb sessions and SDK
// request bodies, shaped like rrweb 2.x output (see RRWEB-FACTS.md and
// test/data/sample-session). Shared by the fuzz seeds (test/fuzz/seeds.js),
// the hostile-input harness (test/hostile/) and the load test (test/load/).
//
//   const g = require('./rrweb');
//   const rng = g.rng(42);
//   const bodies = g.session(rng, { batches: 5 });   // [{sessionId, events, metadata?}, ...]

// Small, fast, seedable PRNG (mulberry32).
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  next.chance = (p) => next() < p;
  return next;
}

function uuid(r) {
  const h = () => r.int(16).toString(16);
  let s = '';
  for (let i = 0; i < 32; i++) s += h();
  // version 4, RFC variant
  s = s.slice(0, 12) + '4' + s.slice(13, 16) + r.pick(['8', '9', 'a', 'b']) + s.slice(17);
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const WORDS = ['cart', 'checkout', 'shop', 'confirm', 'account', 'search', 'item', 'blog',
  'settings', 'help', 'docs', 'pricing', 'login', 'signup', 'profile', 'orders'];

// Text a page can hold, including what PostgreSQL text cannot (RRWEB-FACTS).
function text(r, hostile) {
  const base = [];
  const n = 1 + r.int(6);
  for (let i = 0; i < n; i++) base.push(r.pick(WORDS));
  let s = base.join(' ');
  if (hostile && r.chance(0.3)) {
    s += r.pick(['\u0000', '\ud83d', '\udc00x', '😀', 'ü', '"quoted"', '\\back\\slash',
      '\n\t', '\u2028', '</script>', '\ufffd', '\u0001']);
  }
  return s;
}

function pathname(r) {
  const depth = 1 + r.int(3);
  let p = '';
  for (let i = 0; i < depth; i++) p += '/' + r.pick(WORDS);
  return p;
}

// A DOM-ish FullSnapshot of roughly `nodes` nodes.
function fullSnapshot(r, ts, nodes, hostile) {
  let id = 1;
  const el = (tag, kids) => ({ type: 2, tagName: tag, attributes: r.chance(0.5) ? { class: r.pick(WORDS) } : {}, childNodes: kids, id: id++ });
  const body = [];
  for (let i = 0; i < nodes; i++) {
    body.push(el(r.pick(['div', 'span', 'p', 'a', 'li', 'button']), [{ type: 3, textContent: text(r, hostile), id: id++ }]));
  }
  const html = el('html', [el('head', [el('title', [{ type: 3, textContent: 'Shop', id: id++ }])]), el('body', body)]);
  return {
    type: 2,
    data: { node: { type: 0, childNodes: [{ type: 1, name: 'html', publicId: '', systemId: '', id: id++ }, html], id: id++ }, initialOffset: { left: 0, top: 0 } },
    timestamp: ts,
  };
}

function incremental(r, ts, hostile) {
  const source = r.pick([0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 12, 9, 13]);
  let data;
  switch (source) {
    case 0:
      data = {
        source, texts: [{ id: r.int(500), value: text(r, hostile) }],
        attributes: r.chance(0.5) ? [{ id: r.int(500), attributes: { class: r.pick(WORDS) } }] : [],
        removes: r.chance(0.3) ? [{ parentId: r.int(500), id: r.int(500) }] : [],
        adds: r.chance(0.4) ? [{ parentId: r.int(500), nextId: null, node: { type: 3, textContent: text(r, hostile), id: r.int(500) } }] : [],
      };
      break;
    case 1:
    case 6: {
      const positions = [];
      const k = 1 + r.int(6);
      for (let i = 0; i < k; i++) positions.push({ x: r.int(1280), y: r.int(800), id: r.int(200), timeOffset: -50 * (k - i) });
      data = { source, positions };
      break;
    }
    case 2:
      data = { source, type: r.pick([0, 1, 2, 2, 4, 5, 6]), id: r.int(200), x: r.int(1280) + 0.25, y: r.int(800) + 0.5, pointerType: 0 };
      break;
    case 3:
      data = { source, id: 1, x: 0, y: r.int(5000) };
      break;
    case 4:
      data = { source, width: 1280, height: 800 };
      break;
    case 5:
      data = { source, text: text(r, hostile), isChecked: false, id: r.int(200) };
      break;
    default:
      data = { source, id: r.int(200), type: r.int(4) };
  }
  return { type: 3, data, timestamp: ts };
}

function consoleEntry(r, ts, hostile) {
  const level = r.pick(['log', 'log', 'info', 'warn', 'error', 'debug', 'table', 'group', 'assert', 'count']);
  const payload = level === 'group' ? [] : [JSON.stringify(text(r, hostile))];
  if (r.chance(0.2)) payload.push('[object Object]');
  if (r.chance(0.05)) payload.push(null);
  return {
    type: 6,
    data: { plugin: 'rrweb/console@1', payload: { level, trace: [`at ${r.pick(WORDS)} (https://shop.example/app.js:${r.int(900)}:${r.int(80)})`], payload } },
    timestamp: ts,
  };
}

function marker(tag, payload, ts) {
  return { type: 5, data: payload === undefined ? { tag } : { tag, payload }, timestamp: ts };
}

// An SPA navigation as the SDK records it: marker, then Meta + FullSnapshot.
function navigation(r, ts, origin, nodes, hostile) {
  const p = pathname(r);
  return [
    marker('dozor:url', { url: origin + p, pathname: p }, ts),
    { type: 4, data: { href: origin + p, width: 1280, height: 800 }, timestamp: ts },
    fullSnapshot(r, ts + 1, nodes, hostile),
  ];
}

// A whole session as SDK bodies. Options:
//   batches (5), eventsPerBatch (~60), nodes (snapshot size, 40),
//   hostile (strings PostgreSQL cannot hold), idle (insert idle gaps),
//   start (ms), sessionId, identity (an identify() call somewhere)
function session(r, opt = {}) {
  const batches = opt.batches ?? 5;
  const per = opt.eventsPerBatch ?? 60;
  const nodes = opt.nodes ?? 40;
  const hostile = opt.hostile ?? false;
  const origin = 'https://shop.example';
  const sessionId = opt.sessionId ?? uuid(r);
  let ts = opt.start ?? 1741942800000 + r.int(1e9);
  const firstPath = pathname(r);
  const bodies = [];
  for (let b = 0; b < batches; b++) {
    const events = [];
    if (b === 0) {
      events.push({ type: 0, data: {}, timestamp: ts }, { type: 1, data: {}, timestamp: ts + 1 },
        { type: 4, data: { href: origin + firstPath, width: 1280, height: 800 }, timestamp: ts + 1 },
        fullSnapshot(r, ts + 2, nodes, hostile));
      ts += 3;
    }
    while (events.length < per) {
      ts += r.chance(0.9) ? r.int(120) : r.int(2000);
      if ((opt.idle ?? true) && r.chance(0.004)) ts += 31000 + r.int(120000);
      const roll = r();
      if (roll < 0.02) events.push(...navigation(r, ts, origin, nodes >> 2, hostile));
      else if (roll < 0.03 && (opt.identity ?? true)) {
        events.push(marker('dozor:identity', { userId: `user-${r.int(1000)}`, traits: { plan: r.pick(['free', 'pro']), seats: r.int(9) } }, ts));
      } else if (roll < 0.035) events.push(marker(`dozor:${r.pick(['step', 'checkout', 'error'])}`, { n: r.int(100), note: text(r, hostile) }, ts));
      else if (roll < 0.04) events.push(marker('custom-' + r.pick(WORDS), { x: 1 }, ts));
      else if (roll < 0.08) events.push(consoleEntry(r, ts, hostile));
      else events.push(incremental(r, ts, hostile));
    }
    const body = { sessionId, events: events.slice(0, 500) };
    if (b === 0 || (opt.identity ?? true) && r.chance(0.1)) {
      body.metadata = {
        url: origin + firstPath, referrer: r.chance(0.5) ? 'https://search.example/?q=shop' : '',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
        screenWidth: 1280, screenHeight: 800, language: 'en-US',
      };
      if (b > 0) body.metadata.userIdentity = { userId: `user-${r.int(1000)}`, traits: { email: 'ada@example.com', plan: 'pro' } };
    }
    bodies.push(body);
  }
  return bodies;
}

module.exports = { rng, uuid, text, pathname, fullSnapshot, incremental, consoleEntry, marker, navigation, session };
