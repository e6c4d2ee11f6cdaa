-- Helpers for the regression tests (the extension itself is created by
-- pg_regress --load-extension=dozor).

-- Runs a statement and shows the SQLSTATE and message it fails with, and
-- the detail in brackets when there is one.
CREATE FUNCTION expect_error(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN detail <> '' THEN ' [' || detail || ']' ELSE '' END;
END
$$;

-- Rows in every dozor table, to show that a failed call wrote nothing.
CREATE FUNCTION dozor_row_counts() RETURNS text
LANGUAGE sql AS $$
    SELECT format('sessions=%s batches=%s markers=%s users=%s',
        (SELECT count(*) FROM dozor.sessions), (SELECT count(*) FROM dozor.event_batches),
        (SELECT count(*) FROM dozor.markers), (SELECT count(*) FROM dozor.tracked_users))
$$;

-- An SDK body from its parts, as bytes.
CREATE FUNCTION sdk_body(session_id text, events text, metadata text DEFAULT NULL) RETURNS bytea
LANGUAGE sql AS $$
    SELECT convert_to('{"sessionId":"' || session_id || '","events":' || events ||
        CASE WHEN metadata IS NULL THEN '' ELSE ',"metadata":' || metadata END || '}', 'UTF8')
$$;

SELECT extname, extversion FROM pg_extension WHERE extname = 'dozor';

-- Event builders for docs/HISTORY.md's notation: o ordinary, u url marker,
-- i identity marker, c console entry; evs() makes the json array.
CREATE FUNCTION o(ts bigint) RETURNS text LANGUAGE sql AS
$$ SELECT format('{"type":3,"data":{"source":1,"positions":[]},"timestamp":%s}', ts) $$;
CREATE FUNCTION u(ts bigint, path text) RETURNS text LANGUAGE sql AS
$$ SELECT format('{"type":5,"data":{"tag":"dozor:url","payload":{"url":"https://shop.example%s","pathname":"%s"}},"timestamp":%s}', path, path, ts) $$;
CREATE FUNCTION i(ts bigint, user_id text, traits text DEFAULT NULL) RETURNS text LANGUAGE sql AS
$$ SELECT format('{"type":5,"data":{"tag":"dozor:identity","payload":{"userId":"%s"%s}},"timestamp":%s}',
                 user_id, CASE WHEN traits IS NULL THEN '' ELSE ',"traits":' || traits END, ts) $$;
CREATE FUNCTION c(ts bigint, level text DEFAULT 'log', args text DEFAULT '["hi"]') RETURNS text LANGUAGE sql AS
$$ SELECT format('{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"%s","trace":["at f (app.js:1:2)"],"payload":%s}},"timestamp":%s}',
                 level, args, ts) $$;
CREATE FUNCTION evs(VARIADIC events text[]) RETURNS json LANGUAGE sql AS
$$ SELECT ('[' || array_to_string(events, ',') || ']')::json $$;

-- Ingests events as one batch of a session (creating the project once).
CREATE FUNCTION ingest_events(session_uuid text, events json, url text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    SELECT current_setting('dozor_test.key', true) INTO k;
    IF k IS NULL OR k = '' THEN
        SELECT api_key INTO k FROM dozor_create_project('feeds');
        PERFORM set_config('dozor_test.key', k, false);
    END IF;
    RETURN dozor_ingest(k, sdk_body(session_uuid, events::text,
        CASE WHEN url IS NULL THEN NULL ELSE
        '{"url":' || to_json(url)::text || ',"referrer":"","userAgent":"t","screenWidth":1,"screenHeight":1,"language":"en"}' END));
END
$$;
