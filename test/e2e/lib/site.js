// Loopback web server for the test pages: the SPA checkout (/shop/...), the
// busy page (/busy/...), the SDK harness and the rrweb bundles from
// node_modules. The SDK's requests go elsewhere (the HTTP layer), so every
// ingest is a cross-origin request with a real CORS preflight.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const here = path.join(__dirname, '..');
const files = {
  '/harness.js': path.join(here, 'pages/harness.js'),
  '/vendor/rrweb.js': path.join(here, 'node_modules/rrweb/dist/rrweb.umd.min.cjs'),
  '/vendor/console-record.js': path.join(here,
    'node_modules/@rrweb/rrweb-plugin-console-record/dist/rrweb-plugin-console-record.umd.min.cjs'),
};

// Starts the server on 127.0.0.1 with a free port; resolves to { origin, close() }.
function startSite() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = files[url.pathname];
    // Single-page apps: every route of one serves its page.
    for (const app of ['shop', 'busy']) {
      if (!file && (url.pathname === `/${app}` || url.pathname.startsWith(`/${app}/`))) {
        file = path.join(here, `pages/${app}.html`);
      }
    }
    if (!file || req.method !== 'GET') { res.writeHead(404); return res.end('not found'); }
    const type = file.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8';
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
      });
    });
  });
}

module.exports = { startSite };
