// An independent JavaScript reading of docs/HISTORY.md (the dashboard's in-browser
// pipeline), used to predict, from what the page emitted, exactly what dozor
// must return. Plus a splitter that cuts a JSON array into its elements' text
// without re-serialising them, for byte-for-byte comparisons.
'use strict';

// Cuts the text of a JSON array into the exact text of each element.
function splitJsonArray(text) {
  const out = [];
  let i = 0;
  const n = text.length;
  const ws = (c) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  while (i < n && ws(text.charCodeAt(i))) i++;
  if (text[i] !== '[') throw new Error('not a JSON array');
  i++;
  let depth = 0;
  let start = -1;
  let inString = false;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;                       // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
      continue;
    }
    if (ws(c)) continue;
    if (start < 0 && c !== 0x5d) start = i;
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) {                          // the array's own ]
        if (start >= 0) out.push(text.slice(start, i).trimEnd());
        return out;
      }
      depth--;
    } else if (c === 0x2c && depth === 0) {
      out.push(text.slice(start, i).trimEnd());
      start = -1;
    }
  }
  throw new Error('unterminated JSON array');
}

// Stable sort by timestamp of { text, ev } items (the session stream, docs/SPEC.md §5.1).
function sessionStream(items) {
  return items.map((x, k) => [x, k])
    .sort((a, b) => (a[0].ev.timestamp - b[0].ev.timestamp) || (a[1] - b[1]))
    .map((p) => p[0]);
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Classifies one event (docs/HISTORY.md §1); strings come back as text can hold them.
function classify(ev) {
  if (ev.type === 5 && isObj(ev.data)) {
    const p = ev.data.payload;
    if (ev.data.tag === 'dozor:url') {
      const ok = isObj(p) && typeof p.url === 'string' && p.url !== '' &&
        typeof p.pathname === 'string' && p.pathname !== '';
      return ok ? { kind: 'url', url: pgText(p.url), pathname: pgText(p.pathname) } : { kind: 'bad-url' };
    }
    if (ev.data.tag === 'dozor:identity') {
      const ok = isObj(p) && typeof p.userId === 'string' && p.userId !== '';
      if (!ok) return { kind: 'bad-identity' };
      const t = p.traits;
      return { kind: 'identity', userId: pgText(p.userId), traits: t !== null && typeof t === 'object' ? deepPgText(t) : null };
    }
  }
  if (ev.type === 6 && isObj(ev.data) && ev.data.plugin === 'rrweb/console@1' && ev.data.payload) {
    return { kind: 'console' };
  }
  return { kind: 'ordinary' };
}

function pathnameOf(url) {
  if (url == null) return null;
  try { return new URL(url).pathname; } catch { return null; }
}

// docs/HISTORY.md §3: the compressed ranges and the to_compressed mapping.
function timeline(stamps, gapMs = 30000, capMs = 5000) {
  const ranges = [];
  let shift = 0;
  const compressed = stamps.length ? [stamps[0]] : [];
  for (let i = 1; i < stamps.length; i++) {
    const g = stamps[i] - stamps[i - 1];
    if (g > gapMs) {
      ranges.push({ origStart: stamps[i - 1], origEnd: stamps[i], compStart: stamps[i - 1] - shift });
      shift += g - capMs;
    }
    compressed.push(stamps[i] - shift);
  }
  function toCompressed(t) {
    let s = 0;
    for (const r of ranges) {
      if (t > r.origEnd) { s += r.origEnd - r.origStart - capMs; continue; }
      if (t >= r.origStart) {
        const frac = (t - r.origStart) / Math.max(1, r.origEnd - r.origStart);
        const scaled = frac * capMs;
        return r.compStart + scaled;
      }
      break;
    }
    return t - s;
  }
  return { ranges, compressed, toCompressed };
}

// docs/HISTORY.md §2 (+ §3 when compressIdle): rows as dozor_history returns them.
function historyFeed(evs, { idleGapMs = 30000, initialUrl = null, sessionEndedAt = null,
  compressIdle = true, capMs = 5000 } = {}) {
  const n = evs.length;
  if (n === 0) return [];
  const ts = (i) => evs[i].timestamp;
  const close = sessionEndedAt != null ? sessionEndedAt : ts(n - 1);
  const row = (id, kind, s, e, extra = {}) => Object.assign(
    { id, kind, started_at: s, ended_at: e, pathname: null, url: null, user_id: null, traits: null }, extra);
  const rows = [row(`init-${ts(0)}`, 'init', ts(0), close,
    { url: initialUrl, pathname: pathnameOf(initialUrl) })];
  let current = rows[0];
  let nav = 0, ident = 0, idle = 0;
  for (let i = 0; i < n; i++) {
    const c = classify(evs[i]);
    if (c.kind === 'url') {
      current.ended_at = ts(i);
      current = row(`nav-${nav++}-${ts(i)}`, 'navigation', ts(i), close, { url: c.url, pathname: c.pathname });
      rows.push(current);
    } else if (c.kind === 'identity') {
      rows.push(row(`identify-${ident++}-${ts(i)}`, 'identify', ts(i), ts(i), { user_id: c.userId, traits: c.traits }));
    } else if (c.kind === 'bad-url' || c.kind === 'bad-identity') {
      // skipped entirely (kept for compatibility)
    } else if (idleGapMs != null && i > 0 && ts(i) - ts(i - 1) > idleGapMs) {
      rows.push(row(`idle-${idle++}-${ts(i - 1)}`, 'idle', ts(i - 1), ts(i)));
    }
  }
  const tl = compressIdle && idleGapMs != null ? timeline(evs.map((e) => e.timestamp), idleGapMs, capMs) : null;
  for (const r of rows) {
    r.real_duration_ms = r.ended_at - r.started_at;
    if (tl) { r.started_at = tl.toCompressed(r.started_at); r.ended_at = tl.toCompressed(r.ended_at); }
  }
  return rows;
}

// What PostgreSQL text can hold: U+0000 and lone surrogates become U+FFFD.
function pgText(s) {
  return s.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function deepPgText(v) {
  if (typeof v === 'string') return pgText(v);
  if (Array.isArray(v)) return v.map(deepPgText);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [pgText(k), deepPgText(x)]));
  return v;
}

// docs/HISTORY.md §4: rows as dozor_console returns them.
function consoleFeed(evs, { compressIdle = true, gapMs = 30000, capMs = 5000 } = {}) {
  if (evs.length === 0) return [];
  const stamps = evs.map((e) => e.timestamp);
  const t = compressIdle ? timeline(stamps, gapMs, capMs).compressed : stamps;
  const asText = (v) => pgText(typeof v === 'string' ? v : JSON.stringify(v));
  const out = [];
  evs.forEach((ev, i) => {
    if (classify(ev).kind !== 'console') return;
    const p = ev.data.payload;
    const level = typeof p.level === 'string' ? pgText(p.level) : p.level == null ? 'log' : JSON.stringify(p.level);
    out.push({
      time_offset: t[i] - t[0], timestamp: t[i], level,
      payload: Array.isArray(p.payload) ? p.payload.map(asText) : [],
      trace: Array.isArray(p.trace) ? p.trace.map(asText) : [],
    });
  });
  return out;
}

// Markers a session must have: the initial url marker from metadata.url at
// started_at, then every dozor:* custom event, ordered by timestamp.
function markers(evs, initialUrl) {
  const out = [];
  if (initialUrl != null && evs.length) {
    const start = Math.min(...evs.map((e) => e.timestamp));
    out.push({ timestamp: start, kind: 'url', data: { url: initialUrl, pathname: pathnameOf(initialUrl) || '/' } });
  }
  for (const ev of evs) {
    if (ev.type === 5 && isObj(ev.data) && typeof ev.data.tag === 'string' && ev.data.tag.startsWith('dozor:')) {
      out.push({ timestamp: ev.timestamp, kind: ev.data.tag.slice(6),
        data: ev.data.payload === undefined ? null : deepPgText(ev.data.payload) });
    }
  }
  return out.map((m, k) => [m, k]).sort((a, b) => (a[0].timestamp - b[0].timestamp) || (a[1] - b[1])).map((p) => p[0]);
}

module.exports = { splitJsonArray, sessionStream, classify, pathnameOf, timeline, historyFeed, consoleFeed,
  markers, pgText, deepPgText };
