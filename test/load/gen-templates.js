'use strict';
// gen-templates.js — realistic SDK batch bodies for the load test, as SQL:
//   node test/load/gen-templates.js [sets] [batches-per-set] > templates.sql
// Each set is one recorded-looking session cut into batches (first batch:
// metadata, Meta + FullSnapshot; later ones: mutations, mouse, scrolls,
// console entries, dozor:url navigations, identify). The sessionId is a
// placeholder that test/load/setup.sql replaces per (client, session), so
// every pgbench transaction ingests a distinct batch of a distinct session.
// Per template the expected event count, marker count and first timestamp
// are stored beside it, so the verification can check exact numbers.
const g = require('../fuzz/rrweb');

const SETS = Number(process.argv[2] || 8);
const BATCHES = Number(process.argv[3] || 6);
const PLACEHOLDER = '00000000-0000-4000-8000-000000000000';
const TAG = '$dozorload$';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const markerCount = (events) => events.filter((e) => e.type === 5 && isObject(e.data) &&
  typeof e.data.tag === 'string' && e.data.tag.startsWith('dozor:')).length;

const r = g.rng(4242);
const out = [];
out.push('BEGIN;');
let bytes = 0;
let events = 0;
for (let s = 0; s < SETS; s++) {
  // sets far apart in time: a batch's first timestamp identifies its template
  const bodies = g.session(r, {
    sessionId: PLACEHOLDER, batches: BATCHES, eventsPerBatch: 60 + r.int(200),
    nodes: 150 + r.int(450), hostile: s % 4 === 3, start: 1741000000000 + s * 100000000,
  });
  bodies.forEach((b, i) => {
    const text = JSON.stringify(b);
    if (text.includes(TAG)) throw new Error('template holds the quoting tag');
    const first = Math.min(...b.events.map((e) => Math.floor(e.timestamp)));
    const gzip = (s + i) % 3 === 0; // a third of the batches go gzip, as SDKs send big ones
    out.push(`INSERT INTO load.templates (set_no, batch_no, body, gzip, events, markers, has_url, first_ts) VALUES (${s}, ${i}, ${TAG}${text}${TAG}, ${gzip}, ${b.events.length}, ${markerCount(b.events)}, ${Boolean(b.metadata && typeof b.metadata.url === 'string')}, ${first});`);
    bytes += Buffer.byteLength(text);
    events += b.events.length;
  });
}
out.push('COMMIT;');
process.stdout.write(out.join('\n') + '\n');
process.stderr.write(`templates: ${SETS} sets x ${BATCHES} batches, ${events} events, ${(bytes / 1048576).toFixed(1)} MiB of JSON\n`);
