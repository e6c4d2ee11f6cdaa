-- dozor install script: scaling out with Citus. Appended after
-- src/partitions.sql by the Makefile (before src/access.sql, which gives
-- these functions their grants: dozor_distribute is the owner's).
/*
 * dozor_distribute() turns an installed dozor on a Citus coordinator (with
 * workers added) into a distributed one. Citus is never required: without
 * it this function raises 0A000 and nothing else in dozor notices.
 *
 * Layout (README "Distributing with Citus" says why):
 *   distributed by session id, colocated    dozor.sessions (id),
 *                                            dozor.event_batches (session_id),
 *                                            dozor.markers (session_id),
 *                                            each day partition with its parent
 *   distributed by the client's uuid,        dozor.session_keys (external_id),
 *   colocated                                dozor.session_tombstones (external_id)
 *   reference tables (a copy on every node)  dozor.projects,
 *                                            dozor.project_grants,
 *                                            dozor.tracked_users
 * Everything of one session is on one worker, and every per-session
 * function runs there, delegated by its session_id argument. Ingest and
 * cancel run on the coordinator (their session is a uuid, not an id), each
 * of their statements on one shard.
 *
 * What Citus cannot keep, dropped here (a single node keeps them):
 *   sessions UNIQUE (project_id, external_id)   a unique key of a table
 *       distributed by id must include id; dozor.session_keys' primary key
 *       gives ingest the same exactly-once creation. A plain index on the
 *       two columns stays, for cancels of sessions stored without a key.
 *   sessions.tracked_user_id REFERENCES tracked_users ON DELETE SET NULL
 *       Citus refuses SET NULL from a distributed into a reference table;
 *       a session may then point at a deleted person, which every read
 *       treats as no person (the joins are on id). dozor_erase_user
 *       deletes the person's sessions first.
 */

-- Per-session functions, delegated by their session_id argument.
CREATE FUNCTION @extschema@.dozor_distributed_functions()
RETURNS SETOF regprocedure
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.oid::regprocedure
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_depend d ON d.objid = p.oid AND d.classid = 'pg_catalog.pg_proc'::regclass
         AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
    JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'dozor'
    WHERE p.proname IN ('dozor_history', 'dozor_events', 'dozor_console', 'dozor_markers',
                        'dozor_session_batches', 'dozor_to_compressed', 'dozor_to_real',
                        'dozor_session', 'dozor_delete_session', 'dozor_keyframes')
      AND 'session_id' = ANY (p.proargnames)
    ORDER BY p.proname
$$;

-- Whether dozor's tables are distributed (false without Citus).
CREATE FUNCTION @extschema@.dozor_is_distributed()
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                   WHERE p.logicalrelid = 'dozor.sessions'::regclass);
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_is_distributed() IS
    'Whether dozor''s tables are distributed over a Citus cluster (dozor_distribute); false without Citus.';

-- Runs a DDL statement here and on every worker. The workers made dozor's
-- tables themselves (Citus runs CREATE EXTENSION dozor on each) and Citus
-- takes those as the workers' copies of the distributed tables rather
-- than making its own: what changes before distributing must change there
-- too, or later DDL that Citus propagates meets the old definition.
CREATE FUNCTION @extschema@.dozor_on_every_node(command text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    failed text;
BEGIN
    EXECUTE command;
    EXECUTE 'SELECT pg_catalog.string_agg(r.nodename || '':'' || r.nodeport || '': '' || r.result, ''; '')
             FROM pg_catalog.run_command_on_workers($1) r WHERE NOT r.success'
        INTO failed USING command;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'dozor_distribute: % failed on %', command, failed USING ERRCODE = '55000';
    END IF;
END
$$;

-- Distributes dozor over the Citus cluster this runs on (the coordinator).
-- shard_count: shards of the session tables (NULL: citus.shard_count, 32
-- by default). Idempotent: a second call does nothing. Existing rows move
-- to the workers. Returns a line per step taken.
CREATE FUNCTION @extschema@.dozor_distribute(shard_count integer DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    workers integer;
    f regprocedure;
    fk record;
    fks text[] := '{}';
    t text;
    shards integer;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION 'dozor_distribute needs the Citus extension'
            USING ERRCODE = '0A000',
                  HINT = 'Install Citus, add citus to shared_preload_libraries, CREATE EXTENSION citus and add workers; dozor works without it on a single node.';
    END IF;
    IF @extschema@.dozor_is_distributed() THEN
        RETURN NEXT 'already distributed';
        RETURN;
    END IF;
    EXECUTE 'SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_node n
             WHERE n.noderole = ''primary'' AND n.groupid <> 0 AND n.isactive'
        INTO workers;
    IF workers = 0 THEN
        RAISE EXCEPTION 'dozor_distribute needs a Citus coordinator with workers'
            USING ERRCODE = '55000',
                  HINT = 'Add workers with citus_add_node(host, port) on the coordinator first.';
    END IF;
    shards := COALESCE(shard_count, pg_catalog.current_setting('citus.shard_count')::integer);
    IF shards NOT BETWEEN 1 AND 64000 THEN
        RAISE EXCEPTION 'shard_count must be between 1 and 64000, not %', shards USING ERRCODE = '22023';
    END IF;
    -- keys to reference tables are made over one connection per node
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);

    -- what Citus cannot keep (see the top of this file)
    PERFORM @extschema@.dozor_on_every_node(
        'ALTER TABLE dozor.sessions DROP CONSTRAINT IF EXISTS sessions_project_id_external_id_key');
    PERFORM @extschema@.dozor_on_every_node(
        'ALTER TABLE dozor.sessions DROP CONSTRAINT IF EXISTS sessions_tracked_user_id_fkey');
    PERFORM @extschema@.dozor_on_every_node(
        'CREATE INDEX IF NOT EXISTS sessions_project_id_external_id_idx ON dozor.sessions (project_id, external_id)');
    RETURN NEXT 'dropped the sessions'' unique key on (project_id, external_id) and their foreign key to tracked users';

    -- Foreign keys go while the tables are distributed, and come back after:
    -- with a key to a new reference table, Citus would first turn the local
    -- tables that refer to it into Citus local tables and make them again
    -- on the workers, where the extension has made them already.
    FOR fk IN
        SELECT c.conrelid::regclass::text AS tbl, c.conname, pg_catalog.pg_get_constraintdef(c.oid) AS def
        FROM pg_catalog.pg_constraint c
        WHERE c.contype = 'f' AND c.conparentid = 0
          AND c.connamespace = 'dozor'::regnamespace
        ORDER BY 1, 2
    LOOP
        PERFORM @extschema@.dozor_on_every_node(
            pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.tbl, fk.conname));
        fks := fks || pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.conname, fk.def);
    END LOOP;

    -- small, read on every node, written rarely (projects, grants, people)
    FOREACH t IN ARRAY ARRAY['dozor.projects', 'dozor.project_grants', 'dozor.tracked_users'] LOOP
        EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING t;
        RETURN NEXT 'reference table ' || t;
    END LOOP;

    EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => ''none'', shard_count => $3)'
        USING 'dozor.sessions', 'id', shards;
    RETURN NEXT pg_catalog.format('distributed dozor.sessions by id in %s shards', shards);
    FOREACH t IN ARRAY ARRAY['dozor.event_batches', 'dozor.markers'] LOOP
        EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''session_id'', colocate_with => ''dozor.sessions'')'
            USING t;
        RETURN NEXT 'distributed ' || t || ' by session_id, colocated with dozor.sessions';
    END LOOP;
    EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''external_id'', colocate_with => ''none'', shard_count => $2)'
        USING 'dozor.session_keys', shards;
    RETURN NEXT 'distributed dozor.session_keys by external_id';
    EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''external_id'', colocate_with => ''dozor.session_keys'')'
        USING 'dozor.session_tombstones';
    RETURN NEXT 'distributed dozor.session_tombstones by external_id, colocated with dozor.session_keys';

    FOREACH t IN ARRAY fks LOOP
        EXECUTE t;
    END LOOP;
    RETURN NEXT pg_catalog.format('foreign keys restored: %s', COALESCE(pg_catalog.array_length(fks, 1), 0));

    -- the next days' partitions now, so that ingest does not make them
    PERFORM @extschema@.dozor_maintain();

    FOR f IN SELECT * FROM @extschema@.dozor_distributed_functions() LOOP
        EXECUTE 'SELECT pg_catalog.create_distributed_function($1::regprocedure, ''session_id'', colocate_with => ''dozor.sessions'')'
            USING f::text;
        RETURN NEXT 'delegated ' || f::text || ' by session_id';
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_distribute(integer) IS
    'On a Citus coordinator with workers: distributes dozor (session tables by session, colocated; projects, grants and people as reference tables; per-session functions by session_id). Idempotent.';
