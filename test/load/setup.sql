-- setup.sql — helpers of the load test, in schema "load" of the test
-- database (psql -v key=<api key> -v run=<run tag> -f setup.sql).
CREATE SCHEMA load;

CREATE TABLE load.config (key text NOT NULL, run text NOT NULL, batches int NOT NULL);

-- Realistic batch bodies (test/load/gen-templates.js): set_no is a session,
-- batch_no its batches in order; the numbers the verification expects.
CREATE TABLE load.templates (
    set_no   int NOT NULL,
    batch_no int NOT NULL,
    body     text NOT NULL,
    gzip     boolean NOT NULL,
    events   int NOT NULL,
    markers  int NOT NULL,
    has_url  boolean NOT NULL,
    first_ts bigint NOT NULL UNIQUE,
    PRIMARY KEY (set_no, batch_no)
);

-- Batches whose dozor_ingest call returned success to pgbench (from its
-- per-transaction log); sid is filled in by verify.sql.
CREATE TABLE load.acked (client int NOT NULL, sess int NOT NULL, batch int NOT NULL, sid uuid,
                         PRIMARY KEY (client, sess, batch));
CREATE INDEX ON load.acked (sid, batch);

-- Sessions the readers pick from (dense numbering: session ids have gaps).
CREATE TABLE load.read_ids (n serial PRIMARY KEY, sid bigint NOT NULL);

-- The session a (client, session number) pair ingests into: a v4 UUID.
CREATE FUNCTION load.session_uuid(c int, s int) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT (substr(h, 1, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18, 15))::uuid
    FROM (SELECT md5((SELECT run FROM load.config) || ':' || c || ':' || s) AS h) x
$$;

-- The template set of a (client, session number) pair.
CREATE FUNCTION load.set_of(c int, s int) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT ((c::bigint * 7919 + s::bigint * 104729) % (SELECT count(DISTINCT set_no) FROM load.templates))::int
$$;

-- One SDK request: batch b of session s of client c, plain or gzip like the SDK.
CREATE FUNCTION load.ingest(c int, s int, b int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    t load.templates;
    body bytea;
BEGIN
    SELECT * INTO STRICT t FROM load.templates WHERE set_no = load.set_of(c, s) AND batch_no = b;
    body := convert_to(replace(t.body, '00000000-0000-4000-8000-000000000000', load.session_uuid(c, s)::text), 'UTF8');
    IF t.gzip THEN
        RETURN dozor_ingest((SELECT key FROM load.config), dozor_gzip(body, 1), 'gzip');
    END IF;
    RETURN dozor_ingest((SELECT key FROM load.config), body);
END
$$;

INSERT INTO load.config VALUES (:'key', :'run', :batches);
