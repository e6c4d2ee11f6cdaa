/*
 * dozor 0.1.0 -> 0.2.0 (ALTER EXTENSION dozor UPDATE TO '0.2.0').
 *
 * 0.2.0 is in development: this script grows with it until the release, and
 * test/upgrade checks after every change that a 0.1.0 store upgraded by it
 * gives byte-identical feeds and takes new batches.
 *
 * Sections, in the order they must run:
 *   1. stored batches: event indexes bound to their rows
 *   2. cancelled sessions: tombstones
 *   3. functions that changed
 */
\echo Use "ALTER EXTENSION dozor UPDATE TO '0.2.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- 1. Stored batches: event indexes bound to their rows
--
-- 0.2.0 seals each batch's event index with the batch's digest (a valid
-- index of another batch no longer passes) and adds the classes full
-- snapshot, meta and other dozor:* marker. Every 0.1.0 index is made again
-- from its blob, exactly as ingest makes it: this reads and inflates every
-- stored batch once (README, "Upgrading", gives the cost per GB).
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.dozor_rebuild_event_index(batch_id bigint, data bytea,
                                                     raw_bytes integer, content_hash bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'dozor_rebuild_event_index'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.dozor_rebuild_event_index(bigint, bytea, integer, bytea) FROM PUBLIC;

UPDATE dozor.event_batches b
SET timeline = @extschema@.dozor_rebuild_event_index(b.id, b.data, b.raw_bytes, b.content_hash);
