// Chromium (Debian's /usr/bin/chromium, driven by playwright-core) and the two
// recorded scenarios. Each scenario returns what the page emitted and sent:
//   { sessionId, emitted: [event JSON text, ...], requests: [...], ...facts }
'use strict';
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// A page whose harness ships to `endpoint` with `apiKey`.
// `onContext(context)` may add routes before the first navigation.
async function sdkPage(browser, config, onContext) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  if (onContext) await onContext(context);
  await context.addInitScript((c) => { window.__DOZOR_CONFIG = c; }, config);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('  [page error]', e.message));
  return { context, page };
}

async function finish(page) {
  const summary = await page.evaluate(() => window.dozor.stop());
  const state = await page.evaluate(() => ({
    sessionId: window.__dozor.sessionId,
    emitted: window.__dozor.emitted,
    requests: window.__dozor.requests,
    errors: window.__dozor.errors,
  }));
  return Object.assign(state, { summary });
}

async function wander(page, n, x0, y0) {
  for (let i = 0; i < n; i++) {
    await page.mouse.move(x0 + ((i * 37) % 500), y0 + ((i * 53) % 300), { steps: 2 });
  }
}

// The SPA checkout, with three idle gaps made by jumping Playwright's clock.
// Route changes: /shop/ (start) → /shop/cart → /shop/checkout → back to
// /shop/cart → /shop/checkout → /shop/confirm; plus a query-only
// replaceState and a hash-only link that must not count as navigation.
async function recordCheckout(browser, { origin, endpoint, apiKey, flushMs = 2000, retryOnce = true,
  idleMs = [45000, 120000, 35000], onContext }) {
  const { context, page } = await sdkPage(browser, { endpoint, apiKey, flushMs, retryOnce }, onContext);
  await page.clock.install({ time: new Date('2025-03-14T09:00:00Z') });
  const url = `${origin}/shop/`;
  await page.goto(url);
  await page.waitForFunction(() => window.__dozor && window.dozor);
  const jumps = [];
  // rrweb emits MouseMove up to ~500 ms after the move: let it out first.
  const idle = async (ms) => {
    await page.waitForTimeout(700);
    const at = await page.evaluate(() => Date.now());
    await page.clock.fastForward(ms);
    jumps.push({ at, ms });
  };

  await wander(page, 15, 100, 100);
  await page.mouse.wheel(0, 200);
  await page.click('#add-A-1');                          // → /shop/cart
  await wander(page, 10, 200, 150);
  await idle(idleMs[0]);
  await page.click('#to-checkout');                      // → /shop/checkout
  await page.click('#name');
  await page.keyboard.type('Ada Lovelace', { delay: 15 });
  await page.click('#email');
  await page.keyboard.type('ada@example.com', { delay: 15 });
  await page.click('#card');
  await page.keyboard.type('4000 0000 0000 0002', { delay: 15 });
  await page.click('#pay');                              // declined: console.error ×2
  await page.waitForSelector('#message:not(:empty)');
  await page.goBack();                                   // popstate → /shop/cart
  await page.waitForSelector('#to-checkout');
  await wander(page, 10, 300, 200);
  await idle(idleMs[1]);
  await page.click('#to-checkout');                      // → /shop/checkout
  await page.fill('#name', 'Ada Lovelace');
  await page.fill('#email', 'ada@example.com');
  await page.click('#card');
  await page.keyboard.type('4242 4242 4242 4242', { delay: 15 });
  await page.click('#pay');                              // identify + → /shop/confirm
  await page.waitForSelector('#order');
  await page.click('#receipt-link');                     // hash only: no navigation
  await wander(page, 5, 400, 300);
  await idle(idleMs[2]);
  await page.mouse.move(50, 50);
  await page.click('h1');
  await page.waitForTimeout(700);
  const result = await finish(page);
  await context.close();
  return Object.assign(result, {
    firstUrl: url,
    typed: ['Ada Lovelace', '4000 0000 0000 0002', '4242 4242 4242 4242'],
    jumps,
    routes: ['/shop/cart', '/shop/checkout', '/shop/cart', '/shop/checkout', '/shop/confirm'],
    identity: { userId: 'user-42', traits: { email: 'ada@example.com', plan: 'pro', seats: 3, tags: ['beta', 'eu'] } },
    // The console calls the page makes, in order: level and the first argument.
    consoleCalls: [
      ['log', 'catalog loaded'], ['info', 'added to cart'], ['warn', 'low stock'],
      ['error', 'card declined'], ['error', 'payment failed'], ['warn', 'low stock'],
      ['debug', 'order placed'],
    ],
  });
}

// A long, busy page: a big DOM, mouse, typing, scrolling and `rounds`
// DOM updates, each its own Mutation event.
async function recordBusy(browser, { origin, endpoint, apiKey, rounds = 40000 }) {
  const { context, page } = await sdkPage(browser, { endpoint, apiKey, flushMs: 1000 });
  await page.goto(`${origin}/busy`);
  await page.waitForFunction(() => window.__dozor && window.dozor);
  // Traits that text/jsonb cannot hold as sent: dozor must store U+FFFD.
  // (Built in the page: a lone surrogate would not survive the trip there.)
  const identity = { userId: 'busy-user', traits: { note: 'nul:\u0000 half:\ud83d pair:\ud83d\ude00', n: 1 } };
  await page.evaluate(() => window.dozor.identify('busy-user', {
    note: `nul:${String.fromCharCode(0)} half:${String.fromCharCode(0xd83d)} pair:\u{1f600}`, n: 1 }));
  await wander(page, 100, 20, 20);
  await page.click('#notes');
  await page.keyboard.type('secret note that must be masked', { delay: 5 });
  await page.mouse.wheel(0, 400);
  await page.evaluate((n) => window.runBusy(n), rounds);
  await wander(page, 50, 30, 30);
  await page.waitForTimeout(700);
  const result = await finish(page);
  await context.close();
  return Object.assign(result, { firstUrl: `${origin}/busy`, routes: ['/busy/live'], identity,
    typed: ['secret note that must be masked'] });
}

module.exports = { launch, recordCheckout, recordBusy };
