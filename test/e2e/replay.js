// End to end: the replay page (examples/http/replay.html) in Chromium.
//
// Needs DOZOR_API (the running HTTP layer) and the PG* variables of its
// database, as test/e2e/run.sh sets them. Ingests the committed sample session
// and a seeded generated one, then checks what issue 14 asks of the page.
// Exits non-zero on any failed check; screenshots land in test/e2e/out/.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client, types } = require('pg');
const { launch } = require('./lib/browser');
const { generate } = require('../../bench/gen-session');

types.setTypeParser(20, Number);
const API = (process.env.DOZOR_API || '').replace(/\/$/, '');
const OUT = path.join(__dirname, 'out');
let failed = 0;
function check(label, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} replay: ${label}`);
  if (!ok) { failed++; if (detail !== undefined) console.log('     ', JSON.stringify(detail).slice(0, 600)); }
}

async function ingestDir(db, label, dir) {
  const [{ api_key: key }] = (await db.query('SELECT api_key FROM dozor_create_project($1)', [label])).rows;
  const files = fs.readdirSync(dir).filter((f) => /^batch-\d+\.json\.gz$/.test(f)).sort();
  for (const f of files) {
    const r = await fetch(`${API}/api/ingest`, {
      method: 'POST', body: fs.readFileSync(path.join(dir, f)),
      headers: { 'X-Dozor-Public-Key': key, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
    });
    if (r.status !== 204) throw new Error(`${label} ${f}: ${r.status} ${await r.text()}`);
  }
  const { sessionId } = JSON.parse(require('node:zlib').gunzipSync(fs.readFileSync(path.join(dir, files[0]))));
  const [{ id }] = (await db.query('SELECT id FROM dozor.sessions WHERE external_id = $1', [sessionId])).rows;
  return id;
}

async function openPlayer(browser, id, query = 'paused=1') {
  const context = await browser.newContext({ viewport: { width: 1440, height: 860 }, locale: 'en-US' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let bytes = 0;
  page.on('response', async (r) => {
    if (!r.url().includes('/api/')) return;
    try { bytes += (await r.body()).length; } catch { /* navigated away */ }
  });
  await page.goto(`${API}/replay/${id}?${query}`);
  await page.waitForFunction(() => window.__replay && window.__replay.firstFrameAt !== null, null, { timeout: 30000 });
  // what the first frame showed, before anything else could change the iframe
  const firstText = await frameText(page);
  // the seek bar, keyframes, history and console come after the first frame
  await page.waitForFunction(() => window.__replay.readyAt !== null, null, { timeout: 30000 });
  return { context, page, errors, bytes: () => bytes, firstText };
}

const frameText = (page) => page.evaluate(() => {
  const d = window.__replay.iframeDoc();
  return d && d.body ? d.body.innerText : '';
});

// GET /api/sessions/{id}/events pages with ?limit= and ?cursor=: the pages
// cover the unpaged list once, in order, and the last says nextCursor null.
async function checkPages(id) {
  const get = async (q) => (await fetch(`${API}/api/sessions/${id}/events${q}`)).json();
  const whole = await get('');
  const ids = [];
  let cursor = null, pages = 0;
  do {
    const page = await get(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    ids.push(...page.batches.map((b) => b.id));
    cursor = page.nextCursor;
  } while (cursor && ++pages < 100);
  check(`events pages of 2 cover the ${whole.batches.length} batches once, in order, then nextCursor null`,
    whole.nextCursor === null && JSON.stringify(ids) === JSON.stringify(whole.batches.map((b) => b.id)) && !cursor,
    { ids, whole: whole.batches.map((b) => b.id) });
  const bad = await fetch(`${API}/api/sessions/${id}/events?cursor=garbage`);
  check('a malformed cursor is 400', bad.status === 400, bad.status);
}

async function checkSample(browser, db, id) {
  await checkPages(id);
  const [{ total }] = (await db.query(`SELECT ((e -> -1 ->> 'timestamp')::float8 - (e -> 0 ->> 'timestamp')::float8) AS total
      FROM dozor_events($1::bigint, true) e`, [id])).rows;
  const history = (await db.query('SELECT * FROM dozor_history($1::bigint, true)', [id])).rows;
  const consoleRows = (await db.query('SELECT * FROM dozor_console($1::bigint, true)', [id])).rows;
  const { page, context, errors, firstText } = await openPlayer(browser, id);

  // The first frame (from the session's first window alone, before the
  // index) is what a seek to the start shows.
  await page.evaluate(() => window.__replay.seek(window.__replay.start));
  const startText = await frameText(page);
  check('the first frame shows the session\'s first page, as a seek to the start does',
    firstText.length > 0 && firstText === startText, { firstText: firstText.slice(0, 200), startText: startText.slice(0, 200) });

  const got = await page.evaluate(() => window.__replay.total);
  check(`total time ${got} ms equals the compressed duration from SQL (${total} ms)`, got === total, { got, total });
  const shown = await page.textContent('#time');
  const fmt = (ms) => { const s = Math.floor(ms / 1000); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`; };
  check(`the control bar shows the total ${fmt(total)}`, shown.endsWith(`/ ${fmt(total)}`), shown);

  // It plays: press play, the playhead moves.
  const t0 = await page.evaluate(() => window.__replay.t);
  await page.click('#play');
  // (waits for the movement, not for a time: a loaded machine plays late)
  await page.waitForFunction((start) => window.__replay.t - start > 500, t0, { timeout: 20000 }).catch(() => {});
  const t1 = await page.evaluate(() => window.__replay.t);
  await page.click('#play');
  check(`it plays: the playhead moved ${Math.round(t1 - t0)} ms`, t1 - t0 > 500, { t0, t1 });

  // Each navigation row: the playhead moves to its start and the iframe shows the route.
  const routeText = { '/shop/cart': 'Your cart', '/shop/checkout': 'Checkout', '/shop/confirm': 'Thank you!' };
  const rows = await page.$$('#history li');
  check(`the History tab has dozor_history's ${history.length} rows`, rows.length === history.length,
    { rows: rows.length, history: history.length });
  for (let i = 0; i < history.length; i++) {
    const h = history[i];
    if (h.kind !== 'navigation') continue;
    await rows[i].click();
    await page.waitForFunction((s) => Math.abs(window.__replay.t - s) < 1, h.started_at, { timeout: 10000 }).catch(() => {});
    const t = await page.evaluate(() => window.__replay.t);
    // the row is highlighted, unless an idle/identify marker covering t wins
    const active = await page.evaluate((n) => {
      const li = document.querySelector('#history li.active');
      return li === document.querySelectorAll('#history li')[n] ||
        (li && /idle|identify/.test(li.dataset.kind) && Number(li.dataset.start) <= window.__replay.t);
    }, i);
    const text = await page.evaluate(() => {
      const h1 = window.__replay.iframeDoc().querySelector('h1');
      return h1 ? h1.textContent : '';
    });
    const want = routeText[h.pathname];
    check(`navigation row ${i} (${h.pathname}): the playhead at its start, highlighted, the iframe shows "${want}"`,
      Math.abs(t - h.started_at) < 1 && active && want && text === want,
      { t, start: h.started_at, active, text: text.slice(0, 200) });
  }

  // Masked inputs stay masked: the replayed checkout form holds no typed text.
  const checkoutRow = history.findIndex((h) => h.pathname === '/shop/checkout');
  const payRow = history.findIndex((h, i) => i > checkoutRow && h.kind === 'navigation');
  await page.evaluate((t) => window.__replay.seek(t), history[payRow].started_at - 1);
  const values = await page.evaluate(() => {
    const d = window.__replay.iframeDoc();
    return [...d.querySelectorAll('input')].map((x) => x.value);
  });
  check('masked inputs are masked in the replay (no typed text, only *)',
    values.length > 0 && values.some((v) => v.length > 0) &&
    values.every((v) => !/Ada|ada@|4000/.test(v) && /^\**$/.test(v)), values);
  fs.writeFileSync(path.join(OUT, 'replay-inputs.json'), JSON.stringify(values));

  // The Console tab: its rows are dozor_console's.
  await page.click('#tab-console');
  const shownConsole = await page.$$eval('#console li', (lis) => lis.map((li) => ({
    level: li.querySelector('.lv').textContent, args: li.querySelector('.a').textContent,
    offset: Number(li.dataset.offset) })));
  const want = consoleRows.map((c) => ({ level: c.level, args: c.payload.join(' '), offset: c.time_offset }));
  check(`the Console tab's ${shownConsole.length} rows equal dozor_console's ${want.length}`,
    JSON.stringify(shownConsole) === JSON.stringify(want), { shownConsole, want });

  // Mid-replay screenshot (docs/replay.png is copied from it).
  await page.click('#tab-history');
  await page.evaluate((t) => window.__replay.seek(t), history[checkoutRow].started_at + 1200);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(OUT, 'replay-sample.png') });
  // compress idle off: the seek bar and total switch to the real timeline,
  // the playhead stays on the same moment
  const [{ real }] = (await db.query(`SELECT ((e -> -1 ->> 'timestamp')::float8 - (e -> 0 ->> 'timestamp')::float8) AS real
      FROM dozor_events($1::bigint, false) e`, [id])).rows;
  const before = await page.evaluate(() => window.__replay.t);
  const [{ mapped }] = (await db.query('SELECT dozor_to_real($1::bigint, $2::float8) AS mapped', [id, before])).rows;
  await page.click('#compress');
  // (the index switches before the Replayer is rebuilt: wait for both)
  await page.waitForFunction(([r, m]) => window.__replay.total === r && Math.abs(window.__replay.t - m) < 1,
    [real, mapped], { timeout: 10000 }).catch(() => {});
  const after = await page.evaluate(() => ({ total: window.__replay.total, t: window.__replay.t }));
  check(`compress idle off: total ${after.total} ms is the real duration ${real} ms, the playhead at the same moment`,
    after.total === real && Math.abs(after.t - mapped) < 1, { after, real, mapped });
  check('no page errors', errors.length === 0, errors);
  await context.close();
}

// A long generated session: a seek to the middle loads fewer bytes than the stream.
async function checkLong(browser, db) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dozor-replay-'));
  try {
    generate({ events: Number(process.env.REPLAY_LONG_EVENTS || 20000), seed: 'replay-e2e', out: dir });
    const id = await ingestDir(db, 'e2e replay long', dir);
    // (the generated stream holds lone surrogate escapes: no json operators on it)
    // (each read a call of its own, the id a value: on Citus a query over
    // dozor.sessions may not call them per row)
    const one = async (sql, args) => (await db.query(sql, args)).rows[0].v;
    const [{ a, b }] = (await db.query(`SELECT extract(epoch FROM s.started_at)::float8 * 1000 AS a,
        extract(epoch FROM s.ended_at)::float8 * 1000 AS b FROM dozor.sessions s WHERE s.id = $1`, [id])).rows;
    const whole = Number(await one('SELECT octet_length(dozor_events($1)::text) AS v', [id]));
    const mid = ((await one('SELECT dozor_to_compressed($1, $2::float8) AS v', [id, a]))
      + (await one('SELECT dozor_to_compressed($1, $2::float8) AS v', [id, b]))) / 2;
    const { page, context, errors, bytes } = await openPlayer(browser, id);
    await page.evaluate((t) => window.__replay.seek(t), mid);
    const t = await page.evaluate(() => window.__replay.t);
    await page.waitForTimeout(500);
    const loaded = bytes();
    check(`long session: seek to the middle renders it (playhead ${Math.round(t - mid)} ms off)`, Math.abs(t - mid) < 1, { t, mid });
    check(`long session: the page loaded ${loaded} bytes, fewer than the whole stream's ${whole}`,
      loaded > 0 && loaded < whole, { loaded, whole });
    const text = await frameText(page);
    check('long session: the iframe shows a page at the middle', text.length > 0, text.slice(0, 100));
    check('long session: no page errors', errors.length === 0, errors);
    await context.close();
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

async function main() {
  if (!API) throw new Error('DOZOR_API is not set');
  fs.mkdirSync(OUT, { recursive: true });
  const db = new Client();
  await db.connect();
  const browser = await launch();
  try {
    const id = await ingestDir(db, 'e2e replay sample', path.join(__dirname, '../data/sample-session'));
    await checkSample(browser, db, id);
    await checkLong(browser, db);
  } finally {
    await browser.close();
    await db.end();
  }
  console.log(failed ? `replay: ${failed} check(s) failed` : 'replay: all checks passed');
  process.exit(failed ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
