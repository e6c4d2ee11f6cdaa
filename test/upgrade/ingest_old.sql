-- The store the upgrade starts from: generated sessions that exercise every
-- feed, ingested with the old version (run.sh adds the recorded sample and
-- a larger generated session). Fixed content, fixed order: the same store
-- every run, except for API keys and server times (created_at).
\set ON_ERROR_STOP on
\i test/upgrade/gen.sql

-- Three projects (one never gets a session); the keys are kept for the
-- ingest after the upgrade.
CREATE TABLE upg_keys (project text PRIMARY KEY, api_key text NOT NULL);
INSERT INTO upg_keys SELECT p, (SELECT api_key FROM dozor_create_project(p))
FROM unnest(ARRAY['shop', 'blog', 'empty']) p;

-- A viewer of the shop only: the feeds are captured through its row-level
-- security too.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upg_viewer') THEN
        CREATE ROLE upg_viewer NOLOGIN;
    END IF;
END $$;
GRANT dozor_viewer TO upg_viewer;
SELECT dozor_grant((SELECT id FROM dozor.projects WHERE name = 'shop'), 'upg_viewer', 'viewer');

\set t0 1741942800000

-- 1: user u-1's first session. Metadata with identity and traits; every
-- console level; a navigation; a custom marker; an idle gap of 45 s between
-- batches; batch 3 arrives before batch 2, and batch 2 is sent twice.
SELECT pg_temp.send('shop', 1, concat_ws(',', pg_temp.meta(:t0, 'https://shop.example/'), pg_temp.full(:t0 + 5, 's1'),
           pg_temp.activity(:t0 + 100, 40, 250), pg_temp.every_level(:t0 + 10200)),
       pg_temp.metadata('https://shop.example/', 'u-1', '{"plan":"free","seats":1}'));
SELECT pg_temp.send('shop', 1, concat_ws(',', pg_temp.url(:t0 + 120000, '/checkout'), pg_temp.meta(:t0 + 120001, 'https://shop.example/checkout'),
           pg_temp.full(:t0 + 120002, 's1-checkout'), pg_temp.activity(:t0 + 120100, 30, 300),
           pg_temp.custom(:t0 + 125000, 'dozor:feature', '{"flag":"new-cart","on":true}')));
SELECT pg_temp.send('shop', 1, concat_ws(',', pg_temp.activity(:t0 + 60000, 20, 400),
           pg_temp.con(:t0 + 61000, 'error', '["TypeError: x is undefined","{\"at\":1}"]')));
SELECT pg_temp.send('shop', 1, concat_ws(',', pg_temp.activity(:t0 + 60000, 20, 400),
           pg_temp.con(:t0 + 61000, 'error', '["TypeError: x is undefined","{\"at\":1}"]')));

-- 2: u-1 again: identify() in the stream, then metadata with new traits
-- on the next batch (replacing them); a 120 s idle gap inside a batch.
SELECT pg_temp.send('shop', 2, concat_ws(',', pg_temp.meta(:t0 + 3600000, 'https://shop.example/cart'),
           pg_temp.full(:t0 + 3600005, 's2'), pg_temp.activity(:t0 + 3600100, 25, 200),
           pg_temp.ident(:t0 + 3606000, 'u-1', '{"plan":"pro","seats":3,"tags":["a","b"]}'),
           pg_temp.activity(:t0 + 3726000, 25, 200)),
       pg_temp.metadata('https://shop.example/cart?ref=mail'));
SELECT pg_temp.send('shop', 2, concat_ws(',', pg_temp.activity(:t0 + 3732000, 10, 500),
           pg_temp.con(:t0 + 3733000, 'warn', '["slow request",  "1200ms"]'),
           pg_temp.url(:t0 + 3736000, '/cart/pay'), pg_temp.meta(:t0 + 3736001, 'https://shop.example/cart/pay'),
           pg_temp.full(:t0 + 3736002, 's2-pay')),
       pg_temp.metadata('https://shop.example/cart?ref=mail', 'u-1', '{"plan":"pro","seats":4}'));

-- 3: anonymous, plain bodies (no gzip); strings PostgreSQL text cannot
-- hold (\u0000, a lone surrogate); events a little out of order inside a
-- batch; a gap of 31 s, just over the idle threshold.
SELECT pg_temp.send('shop', 3, concat_ws(',', pg_temp.meta(:t0 + 7200000, 'https://shop.example/search?q=a'),
           pg_temp.full(:t0 + 7200005, 's3'), pg_temp.inc(:t0 + 7200300, 1), pg_temp.inc(:t0 + 7200200, 2),
           pg_temp.inc(:t0 + 7200250, 3), pg_temp.con(:t0 + 7200400, 'log', '["nul \\u0000 here","lone \\ud83d"]'),
           pg_temp.activity(:t0 + 7231500, 12, 100)),
       pg_temp.metadata('https://shop.example/search?q=a'), false);
SELECT pg_temp.send('shop', 3, concat_ws(',', pg_temp.url(:t0 + 7233000, '/search/results'),
           pg_temp.con(:t0 + 7233100, 'info', '["\\ud800\\u0000"]'), pg_temp.activity(:t0 + 7233200, 8, 150)),
       NULL, false);

-- 4: cancelled by the SDK after two batches: nothing of it may remain.
SELECT pg_temp.send('shop', 4, concat_ws(',', pg_temp.meta(:t0 + 9000000, 'https://shop.example/'),
           pg_temp.full(:t0 + 9000005, 's4'), pg_temp.activity(:t0 + 9000100, 10, 100)),
       pg_temp.metadata('https://shop.example/'));
SELECT pg_temp.send('shop', 4, pg_temp.activity(:t0 + 9002000, 10, 100));
SELECT dozor_cancel_session((SELECT api_key FROM upg_keys WHERE project = 'shop'), pg_temp.sid(4)::uuid);

-- 5: an empty ping first; the metadata comes with the first events.
SELECT pg_temp.send('shop', 5, NULL);
SELECT pg_temp.send('shop', 5, concat_ws(',', pg_temp.meta(:t0 + 10800000, 'https://shop.example/help'),
           pg_temp.full(:t0 + 10800005, 's5'), pg_temp.activity(:t0 + 10800100, 15, 700)),
       pg_temp.metadata('https://shop.example/help'));

-- 6: a single event (under the list's "real session" floor).
SELECT pg_temp.send('shop', 6, pg_temp.meta(:t0 + 12000000, 'https://shop.example/'),
       pg_temp.metadata('https://shop.example/'));

-- 7: the blog knows a u-1 of its own, and u-2.
SELECT pg_temp.send('blog', 7, concat_ws(',', pg_temp.meta(:t0 + 500, 'https://blog.example/post/1'),
           pg_temp.full(:t0 + 505, 's7'), pg_temp.activity(:t0 + 600, 30, 1000), pg_temp.every_level(:t0 + 31000)),
       pg_temp.metadata('https://blog.example/post/1', 'u-1'));
SELECT pg_temp.send('blog', 8, concat_ws(',', pg_temp.meta(:t0 + 900, 'https://blog.example/'),
           pg_temp.full(:t0 + 905, 's8'), pg_temp.activity(:t0 + 1000, 20, 1500),
           pg_temp.url(:t0 + 40000, '/about'), pg_temp.activity(:t0 + 90000, 5, 100)),
       pg_temp.metadata('https://blog.example/', 'u-2', '{"seats":3,"beta":true}'));

-- 9..20: short blog sessions of varied length and activity, for the pages
-- of the lists (three share a duration, to exercise the tie-break by id).
SELECT pg_temp.send('blog', n, concat_ws(',', pg_temp.meta(:t0 + n * 100000, 'https://blog.example/p/' || n),
           pg_temp.full(:t0 + n * 100000 + 5, 's' || n),
           pg_temp.activity(:t0 + n * 100000 + 100, 2 + n % 5, CASE WHEN n % 4 = 0 THEN 1000 ELSE 900 * n END),
           CASE WHEN n % 3 = 0 THEN pg_temp.con(:t0 + n * 100000 + 50, 'error', '["boom"]') END),
       pg_temp.metadata('https://blog.example/p/' || n, CASE WHEN n % 5 = 0 THEN 'u-2' END))
FROM generate_series(9, 20) n ORDER BY n;

-- A dashboard delete: the session and its rows go.
SELECT dozor_delete_session((SELECT id FROM dozor.sessions WHERE external_id = pg_temp.sid(20)::uuid));
