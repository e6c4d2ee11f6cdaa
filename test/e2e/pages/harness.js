// In-page stand-in for the Dozor browser SDK, as it behaves on the wire.
//
// It records with rrweb (console plugin on, inputs masked) and ships the
// events to POST {endpoint} in batches of at most 500, flushed on a timer, when
// a batch is full, and at stop(). Bodies over 1 KB are gzipped with
// CompressionStream and sent with Content-Encoding: gzip. The first batch and
// the first batch after identify() carry the metadata object. A pathname
// change through pushState/replaceState/popstate emits a `dozor:url` custom
// event followed by a fresh snapshot; identify() emits `dozor:identity`.
//
// For the test it also keeps, in the page, the JSON text of every event exactly
// as it was put on the wire (`emitted`), and a log of every request. Bodies are
// assembled from those very texts, so what the test compares is what was sent.
//
// Config comes from window.__DOZOR_CONFIG (set by the test before page scripts):
//   { endpoint, apiKey, flushMs = 2000, maxBatch = 500, gzipOver = 1024,
//     retryOnce = true, sessionId? }
(function () {
  'use strict';
  const cfg = Object.assign(
    { flushMs: 2000, maxBatch: 500, gzipOver: 1024, retryOnce: true },
    window.__DOZOR_CONFIG || {});
  if (!cfg.endpoint || !cfg.apiKey) return;

  const state = {
    sessionId: cfg.sessionId || crypto.randomUUID(),
    emitted: [],        // JSON text of every event, in emit order
    requests: [],       // one entry per HTTP request sent
    errors: [],
    identity: null,
    stopped: false,
  };
  window.__dozor = state;

  let queue = [];            // texts not yet put in a body
  let needMetadata = true;   // first batch, and after identify()
  let sending = Promise.resolve();
  let batchSeq = 0;
  let retried = !cfg.retryOnce;

  // Session-level metadata: the URL is where the session started, not where
  // the page happens to be when a batch leaves.
  const startUrl = location.href;
  function metadata() {
    const m = {
      url: startUrl,
      referrer: document.referrer,
      userAgent: navigator.userAgent,
      screenWidth: screen.width,
      screenHeight: screen.height,
      language: navigator.language,
    };
    if (state.identity) m.userIdentity = state.identity;
    return m;
  }

  async function encode(text) {
    const raw = new TextEncoder().encode(text);
    if (raw.length <= cfg.gzipOver) return { bytes: raw, encoding: null };
    const stream = new Blob([raw]).stream().pipeThrough(new CompressionStream('gzip'));
    return { bytes: new Uint8Array(await new Response(stream).arrayBuffer()), encoding: 'gzip' };
  }

  async function post(batch, isRetry) {
    const headers = { 'Content-Type': 'application/json', 'X-Dozor-Public-Key': cfg.apiKey };
    if (batch.encoding) headers['Content-Encoding'] = batch.encoding;
    // The SDK retries on 5xx and network errors; a 4xx is final.
    for (let attempt = 1; ; attempt++) {
      const entry = { seq: batch.seq, retry: isRetry, attempt, eventCount: batch.eventCount,
        firstTimestamp: batch.firstTimestamp, lastTimestamp: batch.lastTimestamp,
        encoding: batch.encoding, size: batch.bytes.length, hasMetadata: batch.hasMetadata,
        status: 0, error: null };
      state.requests.push(entry);
      try {
        const res = await fetch(cfg.endpoint, { method: 'POST', headers, body: batch.bytes });
        entry.status = res.status;
        if (res.status >= 300) entry.error = (await res.text()).slice(0, 500);
        if (res.status < 500) return res.status;
      } catch (e) {
        entry.error = String(e);
      }
      if (attempt >= 3) { state.errors.push(`batch ${batch.seq} failed`); return entry.status; }
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }

  // Takes up to maxBatch queued events into one body and queues its send.
  function flush() {
    if (queue.length === 0 && !needMetadata) return sending;
    const texts = queue.splice(0, cfg.maxBatch);
    const withMeta = needMetadata;
    needMetadata = false;
    const seq = ++batchSeq;
    let body = '{"sessionId":' + JSON.stringify(state.sessionId) + ',"events":[' + texts.join(',') + ']';
    if (withMeta) body += ',"metadata":' + JSON.stringify(metadata());
    body += '}';
    const stamps = texts.map((t) => JSON.parse(t).timestamp);
    sending = sending.then(async () => {
      const enc = await encode(body);
      const batch = { seq, bytes: enc.bytes, encoding: enc.encoding, eventCount: texts.length,
        firstTimestamp: stamps.length ? Math.min(...stamps) : null,
        lastTimestamp: stamps.length ? Math.max(...stamps) : null, hasMetadata: withMeta };
      const status = await post(batch, false);
      // One forced re-send of an accepted batch, byte for byte, as a client
      // that timed out waiting for the 204 would do. Picked: the first
      // accepted batch, other than batch 1, that carries a dozor marker, so
      // the exactly-once check covers markers too.
      if (!retried && status === 204 && seq > 1 && body.includes('"tag":"dozor:')) {
        retried = true;
        await post(batch, true);
      }
    });
    if (queue.length >= cfg.maxBatch) return flush();
    return sending;
  }

  function emit(event) {
    const text = JSON.stringify(event);
    state.emitted.push(text);
    queue.push(text);
    if (queue.length >= cfg.maxBatch) flush();
  }

  const rrweb = window.rrweb;
  const stopRecording = rrweb.record({
    emit,
    maskAllInputs: true,
    plugins: [window.rrwebPluginConsoleRecord.getRecordConsolePlugin()],
  });

  let lastPath = location.pathname;
  function onLocation() {
    if (location.pathname === lastPath) return;   // hash/query-only: no marker
    lastPath = location.pathname;
    rrweb.record.addCustomEvent('dozor:url', { url: location.href, pathname: location.pathname });
    rrweb.record.takeFullSnapshot();
  }
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name];
    history[name] = function (...args) {
      const r = original.apply(this, args);
      onLocation();
      return r;
    };
  }
  window.addEventListener('popstate', onLocation);

  const timer = setInterval(flush, cfg.flushMs);

  window.dozor = {
    identify(userId, traits) {
      state.identity = traits === undefined ? { userId } : { userId, traits };
      rrweb.record.addCustomEvent('dozor:identity', state.identity);
      needMetadata = true;
    },
    // Stops recording and resolves once every batch has been answered.
    async stop() {
      if (state.stopped) return sending;
      state.stopped = true;
      clearInterval(timer);
      if (stopRecording) stopRecording();
      while (queue.length || needMetadata) await flush();
      await sending;
      return { sessionId: state.sessionId, events: state.emitted.length, requests: state.requests.length };
    },
    flush,
  };
})();
