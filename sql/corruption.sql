-- Stored bytes are hostile too: corrupt blobs and indexes give XX001
-- naming the batch, never a crash or a wrong answer.
SELECT ingest_events('cb6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  evs(o(1000), c(2000, 'warn'), u(3000, '/x'), o(100000))) AS cor \gset
SELECT id AS bid FROM dozor.event_batches WHERE session_id = :cor \gset
CREATE TEMP TABLE pristine AS SELECT data, event_index FROM dozor.event_batches WHERE id = :bid;

-- Replaces the stored bytes of the batch and shows what each feed says,
-- with the batch id replaced by "N" so the output is stable.
CREATE FUNCTION corrupt(new_data bytea, new_event_index bytea) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    b bigint := (SELECT id FROM dozor.event_batches WHERE session_id = (SELECT id FROM dozor.sessions WHERE external_id = 'cb6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d'));
    s bigint := (SELECT id FROM dozor.sessions WHERE external_id = 'cb6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d');
    q text;
BEGIN
    UPDATE dozor.event_batches SET data = new_data, event_index = new_event_index WHERE id = b;
    FOREACH q IN ARRAY ARRAY['SELECT count(*) FROM dozor_history(%s)', 'SELECT length(dozor_events(%s)::text)',
                             'SELECT count(*) FROM dozor_console(%s)', 'SELECT dozor_to_compressed(%s, 5000)'] LOOP
        RETURN NEXT regexp_replace(expect_error(format(q, s)), 'batch [0-9]+', 'batch N');
    END LOOP;
END
$$;

-- Flipped gzip payload byte, truncated gzip, a gzip of other bytes.
SELECT corrupt(set_byte(p.data, 20, get_byte(p.data, 20) # 255), p.event_index) FROM pristine p;
SELECT corrupt(substring(p.data FROM 1 FOR 30), p.event_index) FROM pristine p;
SELECT corrupt(dozor_gzip(convert_to('[{"type":3}]', 'UTF8')), p.event_index) FROM pristine p;
-- Same length, different content: the index no longer points at events.
SELECT corrupt(dozor_gzip(convert_to(translate(convert_from(dozor_gunzip(p.data), 'UTF8'), '{}', '()'), 'UTF8')), p.event_index) FROM pristine p;
-- Index: bad magic, truncated, wrong event count, flipped timestamp, trailing byte.
SELECT corrupt(p.data, set_byte(p.event_index, 0, 0)) FROM pristine p;
SELECT corrupt(p.data, substring(p.event_index FROM 1 FOR 5)) FROM pristine p;
SELECT corrupt(p.data, set_byte(p.event_index, 2, 9)) FROM pristine p;
SELECT corrupt(p.data, set_byte(p.event_index, 3, get_byte(p.event_index, 3) # 64)) FROM pristine p;
SELECT corrupt(p.data, p.event_index || '\x00'::bytea) FROM pristine p;
SELECT corrupt(p.data, ''::bytea) FROM pristine p;
-- Restored, everything reads again.
SELECT corrupt(p.data, p.event_index) FROM pristine p;

-- Every single-bit flip anywhere in the index is caught by its checksum
-- (a flipped class bit would otherwise silently drop a console row).
CREATE FUNCTION flip_every_index_bit() RETURNS TABLE (flips bigint, caught bigint)
LANGUAGE plpgsql AS $$
DECLARE
    s bigint := (SELECT id FROM dozor.sessions WHERE external_id = 'cb6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d');
    good bytea := (SELECT event_index FROM pristine);
    r text;
BEGIN
    flips := 0;
    caught := 0;
    FOR i IN 0 .. length(good) - 1 LOOP
        FOR bit IN 0 .. 7 LOOP
            UPDATE dozor.event_batches SET event_index = set_byte(good, i, get_byte(good, i) # (1 << bit))
            WHERE session_id = s;
            r := expect_error(format('SELECT count(*) FROM dozor_console(%s)', s));
            flips := flips + 1;
            caught := caught + (r LIKE 'XX001: stored batch % is corrupt: event index %')::int;
        END LOOP;
    END LOOP;
    UPDATE dozor.event_batches SET event_index = good WHERE session_id = s;
    RETURN NEXT;
END
$$;
SELECT flips = caught AS all_caught, flips > 0 AS flipped FROM flip_every_index_bit();

-- A lying raw_bytes on the row is XX001 too, before any allocation.
UPDATE dozor.event_batches SET raw_bytes = -1000000000 WHERE session_id = :cor;
SELECT regexp_replace(expect_error(format('SELECT dozor_events(%s)', :cor)), 'batch [0-9]+', 'batch N');
UPDATE dozor.event_batches SET raw_bytes = 2147483647 WHERE session_id = :cor;
SELECT regexp_replace(expect_error(format('SELECT dozor_events(%s)', :cor)), 'batch [0-9]+', 'batch N');
UPDATE dozor.event_batches b SET raw_bytes = length(dozor_gunzip(b.data)) WHERE session_id = :cor;
SELECT count(*) AS console_rows FROM dozor_console(:cor);

-- Stored bytes are bound to their row: a valid blob or index of another
-- batch (same event lengths, other content) is XX001, not the other
-- batch's events. Two one-batch sessions of 30 events each.
SELECT ingest_events('5a1e0000-0000-4000-8000-000000000001',
  (SELECT json_agg(json_build_object('type', 3, 'timestamp', 1000 + i, 'data', json_build_object('source', 1, 'v', repeat('1', 20))))
   FROM generate_series(1, 30) i)) AS ones \gset
SELECT ingest_events('5a1e0000-0000-4000-8000-000000000002',
  (SELECT json_agg(json_build_object('type', 3, 'timestamp', 1000 + i, 'data', json_build_object('source', 1, 'v', repeat('2', 20))))
   FROM generate_series(1, 30) i)) AS twos \gset
SELECT id AS b1 FROM dozor.event_batches WHERE session_id = :ones \gset
SELECT id AS b2 FROM dozor.event_batches WHERE session_id = :twos \gset
CREATE TEMP TABLE ones_row AS SELECT data, event_index FROM dozor.event_batches WHERE id = :b1;
-- the other's blob
UPDATE dozor.event_batches SET data = (SELECT data FROM dozor.event_batches WHERE id = :b2) WHERE id = :b1;
SELECT expect_error(format('SELECT dozor_events(%s)', :ones)) = format('XX001: stored batch %s is corrupt: data is not this batch''s (its gzip trailer disagrees with content_hash or raw_bytes)', :b1) AS blob_swap_caught;
SELECT expect_error(format('SELECT dozor_events(%s, true)', :ones)) LIKE format('XX001: stored batch %s is corrupt: data %%', :b1) AS blob_swap_caught_compressed;
-- the other's index (same timestamps and lengths: only the seal differs)
UPDATE dozor.event_batches b SET data = o.data, event_index = (SELECT event_index FROM dozor.event_batches WHERE id = :b2)
FROM ones_row o WHERE b.id = :b1;
SELECT expect_error(format('SELECT count(*) FROM dozor_history(%s)', :ones)) = format('XX001: stored batch %s is corrupt: event index fails its checksum', :b1) AS index_swap_caught;
SELECT expect_error(format('SELECT dozor_to_real(%s, 10)', :ones)) LIKE format('XX001: stored batch %s %%', :b1) AS index_swap_caught_mapping;
UPDATE dozor.event_batches b SET event_index = o.event_index FROM ones_row o WHERE b.id = :b1;
SELECT length(dozor_events(:ones)::text) > 0 AS restored;

-- The upgrade's rebuild gives exactly the digest and index ingest stored,
-- also from a digest of another hash (0.1.0's: only its CRC-32 part, bytes
-- 8..11, must be the blob's), and refuses a blob that is not the row's.
SELECT bool_and((r.content_hash, r.event_index) = (b.content_hash, b.event_index)) AS rebuild_is_identical
FROM dozor.event_batches b, dozor_rebuild_batch(b.id, b.data, b.raw_bytes, b.content_hash) r;
SELECT bool_and((r.content_hash, r.event_index) = (b.content_hash, b.event_index)) AS rebuild_of_old_digest_is_identical
FROM dozor.event_batches b,
     dozor_rebuild_batch(b.id, b.data, b.raw_bytes,
                         overlay(b.content_hash PLACING '\x0123456789abcdef'::bytea FROM 1)) r;
SELECT regexp_replace(expect_error(format(
  'SELECT dozor_rebuild_batch(%s, (SELECT data FROM dozor.event_batches WHERE id = %s), raw_bytes, content_hash) FROM dozor.event_batches WHERE id = %s',
  :b1, :b2, :b1)), 'batch [0-9]+', 'batch N');

-- A corrupt window on the row never hides the batch: the whole stream
-- still reads it and its index check refuses it.
UPDATE dozor.event_batches SET first_timestamp = 9223372036854775807 WHERE id = :b1;
SELECT regexp_replace(expect_error(format('SELECT count(*) FROM dozor_history(%s)', :ones)), 'batch [0-9]+', 'batch N') AS max_first_timestamp;
