// Replay benchmark (issue 14): the replay page's windowed loading against the
// original dashboard's download-everything, in the same Chromium and run.
//
//   DOZOR_API=http://... PG*=... node bench/replay.js ID[:label[:all]] ...
//
// Per session and approach, BENCH_REPLAY_RUNS (default 3) fresh pages:
//   first frame  navigation start → the first frame rendered (performance.now())
//   seek middle  a seek to the middle of the (compressed) timeline → rendered
//   open middle  navigation start to a page opened at the middle (a link to
//                that moment, ?t=) → the middle rendered
// windowed: /replay/{id}?paused=1, window.__replay.firstFrameAt; then, once
// the page is ready (seek bar, history, console: __replay.readyAt), the time
// __replay.seek(middle) takes until the moment is in the iframe.
// download-everything (skipped when all is 0): on the same page's origin,
// every batch through /api/sessions/{id}/events (pages of 1000 via
// nextCursor), gunzip (DecompressionStream), JSON.parse, concatenate, sort by
// timestamp, then a Replayer over all of it, paused on its first
// FullSnapshot as the page is; the seek is Replayer.pause(middle) on it.
'use strict';
const { chromium } = require('../test/e2e/node_modules/playwright-core');

const API = (process.env.DOZOR_API || '').replace(/\/$/, '');
const RUNS = Number(process.env.BENCH_REPLAY_RUNS || 3);

function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

async function windowed(browser, id) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 860 } });
  const page = await context.newPage();
  page.on('console', (m) => console.error(`  [page] ${m.text()}`));
  await page.goto(`${API}/replay/${id}?paused=1`);
  await page.waitForFunction(() => window.__replay && window.__replay.firstFrameAt !== null, null, { timeout: 600000 });
  // performance.now() counts from the navigation's start
  const ff = await page.evaluate(() => window.__replay.firstFrameAt);
  await page.waitForFunction(() => window.__replay.readyAt !== null, null, { timeout: 600000 });
  const ready = await page.evaluate(() => window.__replay.readyAt);
  const r = await page.evaluate(async () => {
    const mid = (window.__replay.start + window.__replay.end) / 2;
    const t0 = performance.now(), f0 = window.__replay.fetchMs;
    await window.__replay.seek(mid);
    const ms = performance.now() - t0;
    const d = window.__replay.iframeDoc();
    return { ms, fetch: window.__replay.fetchMs - f0, off: window.__replay.t - mid,
      shown: !!(d && d.body && d.body.innerText.length), bytes: window.__replay.bytes };
  });
  if (Math.abs(r.off) >= 1 || !r.shown) throw new Error(`seek did not render the middle: ${JSON.stringify(r)}`);
  console.error(`  windowed: ready (seek bar, history, console) at ${f(ready)}; seek ${r.ms.toFixed(0)} ms, of which fetching ${r.fetch.toFixed(0)} ms; ${(r.bytes / 1e6).toFixed(1)} MB of JSON loaded in all`);
  const at = await page.evaluate(() => (window.__replay.end - window.__replay.start) / 2);
  await context.close();
  // a fresh page opened at the middle
  const c2 = await browser.newContext({ viewport: { width: 1440, height: 860 } });
  const p2 = await c2.newPage();
  await p2.goto(`${API}/replay/${id}?paused=1&t=${at}`);
  await p2.waitForFunction(() => window.__replay && window.__replay.firstFrameAt !== null, null, { timeout: 600000 });
  const open = await p2.evaluate((want) => ({ at: window.__replay.firstFrameAt, off: window.__replay.t - window.__replay.start - want }), at);
  if (Math.abs(open.off) >= 1) throw new Error(`opening at the middle did not show it: ${JSON.stringify(open)}`);
  await c2.close();
  return { first: ff, seek: r.ms, open: open.at };
}

async function downloadAll(browser, id) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 860 } });
  const page = await context.newPage();
  // an empty same-origin page with rrweb and a mount point, nothing fetched yet
  await page.route(`${API}/bench-blank`, (r) => r.fulfill({ contentType: 'text/html',
    body: '<!doctype html><div id="mount"></div><script src="/assets/rrweb.umd.min.cjs"></script>' }));
  await page.goto(`${API}/bench-blank`);
  const r = await page.evaluate(async (id) => {
    let events = [];
    let cursor = null;
    do {
      const q = new URLSearchParams({ limit: '1000' });
      if (cursor) q.set('cursor', cursor);
      const page = await (await fetch(`/api/sessions/${id}/events?${q}`)).json();
      for (const b of page.batches) {
        const bin = Uint8Array.from(atob(b.data), (c) => c.charCodeAt(0));
        const text = await new Response(new Blob([bin]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
        const body = JSON.parse(text);
        events = events.concat(Array.isArray(body) ? body : body.events);
      }
      cursor = page.nextCursor;
    } while (cursor);
    events.sort((a, b) => a.timestamp - b.timestamp);
    const rp = new rrweb.Replayer(events, { root: document.getElementById('mount'), mouseTail: false, showWarning: false });
    const snap = events.find((e) => e.type === 2);   // the first frame, as the page shows it
    rp.pause(snap ? snap.timestamp + 1 - events[0].timestamp : 0);
    const first = performance.now();      // from the navigation's start, as windowed
    const meta = rp.getMetaData();
    const t1 = performance.now();
    rp.pause(meta.totalTime / 2);
    const seek = performance.now() - t1;
    return { first, seek, events: events.length };
  }, id);
  await context.close();
  return r;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const f = (x) => `${(x / 1000).toFixed(3)} s`;
const line = (xs) => { const s = stats(xs); return `${f(s.min)} / ${f(s.median)} / ${f(s.max)}`; };

// Each measurement in a browser of its own: a download-everything run
// leaves a tab's worth of garbage (the whole session parsed) that the next
// page in the same browser would pay for.
async function fresh(measure, id) {
  const browser = await launch();
  try { return await measure(browser, id); } finally { await browser.close(); }
}

async function main() {
  const report = [];
  for (const arg of process.argv.slice(2)) {
    const [id, label = id, all = '1'] = arg.split(':');
    const withAll = all !== '0';
    const res = { windowed: { first: [], seek: [], open: [] }, all: { first: [], seek: [], open: [] } };
    for (let i = 0; i < RUNS; i++) {
      const w = await fresh(windowed, id);
      res.windowed.first.push(w.first); res.windowed.seek.push(w.seek); res.windowed.open.push(w.open);
      let msg = `bench replay ${label} run ${i + 1}: windowed ${f(w.first)} + seek ${f(w.seek)}, open at the middle ${f(w.open)}`;
      if (withAll) {
        const a = await fresh(downloadAll, id);
        // opened at the middle it shows nothing before all is in: its first
        // frame (the start, ~0.1 s of rendering) and the seek
        res.all.first.push(a.first); res.all.seek.push(a.seek); res.all.open.push(a.first + a.seek);
        msg += `; download-everything ${f(a.first)} + seek ${f(a.seek)} (${a.events} events)`;
      }
      console.error(msg);
    }
    const cmp = (k) => (withAll ? `   download-everything ${line(res.all[k])}` +
      `   ×${(stats(res.all[k]).median / stats(res.windowed[k]).median).toFixed(1)}` : '   download-everything not run');
    report.push(`${label} (${RUNS} runs, min / median / max)`,
      `  first frame   windowed ${line(res.windowed.first)}${cmp('first')}`,
      `  seek middle   windowed ${line(res.windowed.seek)}${cmp('seek')}`,
      `  open middle   windowed ${line(res.windowed.open)}${cmp('open')}`);
  }
  console.log(report.join('\n'));
}
main().catch((e) => { console.error(e); process.exit(1); });
