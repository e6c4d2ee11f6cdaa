// The dashboard's feeds in plain JavaScript, written from docs/SPEC.md §5 and
// docs/HISTORY.md §1-§5: what the app-side baseline builds after it has gunzipped,
// parsed and sorted every batch. Also used by measure.js to check dozor's
// output against an independent implementation.
'use strict';

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// HISTORY §1
function classify(e) {
  if (e.type === 5 && isObj(e.data)) {
    const tag = e.data.tag;
    if (tag === 'dozor:url') {
      const p = e.data.payload;
      const ok = isObj(p) && typeof p.url === 'string' && p.url !== '' && typeof p.pathname === 'string' && p.pathname !== '';
      return ok ? 'url' : 'bad-url';
    }
    if (tag === 'dozor:identity') {
      const p = e.data.payload;
      const ok = isObj(p) && typeof p.userId === 'string' && p.userId !== '';
      return ok ? 'identity' : 'bad-identity';
    }
  }
  return 'ordinary';
}
function isConsole(e) {
  if (e.type !== 6 || !isObj(e.data) || e.data.plugin !== 'rrweb/console@1') return false;
  const p = e.data.payload;
  return !(p === undefined || p === null || p === false || p === 0 || p === '');
}

// HISTORY §5 (WHATWG URL, which Node's URL implements); null when unparsable
function pathnameOf(url) {
  if (typeof url !== 'string') return null;
  try { return new URL(url).pathname; } catch (e) { return null; }
}

// HISTORY §3: compressed ranges over all events of the sorted stream
function compressedRanges(E, gapMs, capMs) {
  const ranges = [];
  let shift = 0;
  for (let i = 1; i < E.length; i++) {
    const a = E[i - 1].timestamp, b = E[i].timestamp;
    const g = b - a;
    if (g > gapMs) { ranges.push({ os: a, oe: b, cs: a - shift }); shift += g - capMs; }
  }
  return ranges;
}
function toCompressed(ranges, capMs, t) {
  let s = 0;
  for (const r of ranges) {
    if (t > r.oe) { s += r.oe - r.os - capMs; continue; }
    if (t >= r.os) return r.cs + ((t - r.os) / Math.max(1, r.oe - r.os)) * capMs;
    break;
  }
  return t - s;
}

// HISTORY §2 (+ §3 mapping when compress): E sorted; returns rows
function historyFeed(E, opts) {
  const idleGap = opts.idleGapMs === undefined ? 30000 : opts.idleGapMs;   // null disables
  const capMs = opts.capMs === undefined ? 5000 : opts.capMs;
  const compress = opts.compress !== false && idleGap !== null;
  const n = E.length;
  if (n === 0) return [];
  const first = E[0].timestamp, last = E[n - 1].timestamp;
  const close = opts.sessionEndedAt != null ? opts.sessionEndedAt : last;
  const rows = [];
  const initialUrl = opts.initialUrl == null ? null : opts.initialUrl;
  let current = {
    id: 'init-' + first, kind: 'init', started_at: first, ended_at: close,
    pathname: initialUrl === null ? null : pathnameOf(initialUrl), url: initialUrl, user_id: null, traits: null,
  };
  rows.push(current);
  let kNav = 0, kIdent = 0, kIdle = 0;
  for (let i = 0; i < n; i++) {
    const e = E[i], ts = e.timestamp;
    const c = classify(e);
    if (c === 'url') {
      current.ended_at = ts;
      const p = e.data.payload;
      current = { id: 'nav-' + (kNav++) + '-' + ts, kind: 'navigation', started_at: ts, ended_at: close, pathname: p.pathname, url: p.url, user_id: null, traits: null };
      rows.push(current);
    } else if (c === 'identity') {
      const p = e.data.payload;
      const tr = p.traits !== null && typeof p.traits === 'object' ? p.traits : null;
      rows.push({ id: 'identify-' + (kIdent++) + '-' + ts, kind: 'identify', started_at: ts, ended_at: ts, pathname: null, url: null, user_id: p.userId, traits: tr });
    } else if (c === 'bad-url' || c === 'bad-identity') {
      // skipped entirely (kept for compatibility)
    } else if (idleGap !== null && i > 0 && ts - E[i - 1].timestamp > idleGap) {
      const prev = E[i - 1].timestamp;
      rows.push({ id: 'idle-' + (kIdle++) + '-' + prev, kind: 'idle', started_at: prev, ended_at: ts, pathname: null, url: null, user_id: null, traits: null });
    }
  }
  for (const r of rows) r.real_duration_ms = r.ended_at - r.started_at;
  if (compress) {
    const ranges = compressedRanges(E, idleGap, capMs);
    for (const r of rows) {
      r.started_at = toCompressed(ranges, capMs, r.started_at);
      r.ended_at = toCompressed(ranges, capMs, r.ended_at);
    }
  }
  return rows;
}

// HISTORY §4
function consoleFeed(E, opts) {
  const gapMs = opts.gapMs === undefined ? 30000 : opts.gapMs;
  const capMs = opts.capMs === undefined ? 5000 : opts.capMs;
  const compress = opts.compress !== false;
  const n = E.length;
  if (!n) return [];
  const ranges = compress ? compressedRanges(E, gapMs, capMs) : [];
  const map = (t) => (compress ? toCompressed(ranges, capMs, t) : t);
  const base = map(E[0].timestamp);
  const str = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
  const out = [];
  for (const e of E) {
    if (!isConsole(e)) continue;
    const p = e.data.payload;
    const t = map(e.timestamp);
    const lvl = isObj(p) ? p.level : undefined;
    out.push({
      time_offset: t - base, timestamp: t,
      level: typeof lvl === 'string' ? lvl : (lvl === undefined || lvl === null ? 'log' : JSON.stringify(lvl)),
      payload: isObj(p) && Array.isArray(p.payload) ? p.payload.map(str) : [],
      trace: isObj(p) && Array.isArray(p.trace) ? p.trace.map(str) : [],
    });
  }
  return out;
}

// docs/SPEC.md §5.1: concatenated batches (already in (first_timestamp, id) order),
// stably sorted by timestamp (Array.prototype.sort is stable in V8)
function sortStream(events) {
  return events.sort((a, b) => a.timestamp - b.timestamp);
}

module.exports = { classify, isConsole, pathnameOf, compressedRanges, toCompressed, historyFeed, consoleFeed, sortStream };
