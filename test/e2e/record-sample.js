// Records the SPA checkout once in Chromium and saves every SDK request body
// exactly as the page sent it, to test/data/sample-session/ (see README.txt
// there). No database is needed: Playwright serves the shop at
// https://shop.example/ and takes the SDK's POSTs to https://ingest.example/
// in the browser, answering 204, so the saved bytes are the wire bytes.
//
//   node test/e2e/record-sample.js [output-dir]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { startSite } = require('./lib/site');
const { launch, recordCheckout } = require('./lib/browser');

const versionOf = (pkg) =>
  JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;

const outDir = path.resolve(process.argv[2] || path.join(__dirname, '../data/sample-session'));
const SHOP = 'https://shop.example';
const INGEST = 'https://ingest.example/api/ingest';
// A placeholder key: replay sends the bodies with a key of your own project.
const KEY = 'dp_00000000000000000000000000000000';

async function main() {
  const site = await startSite();
  const browser = await launch();
  const posted = [];
  const onContext = async (context) => {
    await context.route(`${SHOP}/**`, async (route) => {
      const u = new URL(route.request().url());
      const r = await fetch(site.origin + u.pathname);
      await route.fulfill({ status: r.status, contentType: r.headers.get('content-type') || 'text/plain',
        body: Buffer.from(await r.arrayBuffer()) });
    });
    await context.route(INGEST, async (route) => {
      const req = route.request();
      const cors = { 'access-control-allow-origin': '*',
        'access-control-allow-headers': 'Content-Type, X-Dozor-Public-Key, Content-Encoding',
        'access-control-allow-methods': 'POST, OPTIONS' };
      if (req.method() === 'POST') posted.push({ headers: await req.allHeaders(), body: req.postDataBuffer() });
      await route.fulfill({ status: 204, headers: cors });
    });
  };
  let rec;
  const browserVersion = 'Chromium ' + browser.version();
  try {
    rec = await recordCheckout(browser, { origin: SHOP, endpoint: INGEST, apiKey: KEY, retryOnce: false, onContext });
  } finally {
    await browser.close();
    await site.close();
  }
  if (rec.errors.length) throw new Error('harness: ' + rec.errors.join('; '));
  if (posted.length !== rec.requests.length) throw new Error(`captured ${posted.length} of ${rec.requests.length} requests`);

  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) if (/^batch-\d+\.json\.gz$/.test(f)) fs.unlinkSync(path.join(outDir, f));
  const batches = posted.map((p, i) => {
    const sentEncoding = p.headers['content-encoding'] || null;
    const file = `batch-${String(i + 1).padStart(3, '0')}.json.gz`;
    // gzip bodies are kept byte for byte; the small ones sent plain are gzipped for storage.
    const stored = sentEncoding === 'gzip' ? p.body : zlib.gzipSync(p.body, { level: 9 });
    fs.writeFileSync(path.join(outDir, file), stored);
    const json = JSON.parse((sentEncoding === 'gzip' ? zlib.gunzipSync(p.body) : p.body).toString('utf8'));
    const stamps = json.events.map((e) => e.timestamp);
    return { file, sentEncoding, sentBytes: p.body.length, events: json.events.length,
      firstTimestamp: Math.min(...stamps), lastTimestamp: Math.max(...stamps), metadata: json.metadata != null };
  });
  const count = (pred) => rec.emitted.map((t) => JSON.parse(t)).filter(pred).length;
  const manifest = {
    sessionId: rec.sessionId,
    firstUrl: rec.firstUrl,
    recordedWith: {
      rrweb: versionOf('rrweb'),
      consolePlugin: versionOf('@rrweb/rrweb-plugin-console-record'),
      browser: `Debian ${browserVersion}, headless, via playwright-core ${versionOf('playwright-core')}`,
    },
    events: rec.emitted.length,
    navigations: rec.routes,
    idleGapsMs: rec.jumps.map((j) => j.ms),
    identify: rec.identity,
    consoleEntries: count((e) => e.type === 6),
    batches,
  };
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  console.log(`saved ${batches.length} bodies, ${rec.emitted.length} events, session ${rec.sessionId}, to ${outDir}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
