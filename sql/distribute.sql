-- dozor_distribute without Citus: a clear error, nothing changed; the
-- single-node layout keeps the keys Citus would drop. (The cluster itself:
-- test/citus/run.sh.)
SELECT expect_error('SELECT * FROM dozor_distribute()');
SELECT dozor_is_distributed();
SELECT conname FROM pg_constraint
WHERE conname IN ('sessions_project_id_external_id_key', 'sessions_tracked_user_id_fkey') ORDER BY 1;
-- the functions it would delegate: every per-session read, and delete
SELECT f FROM dozor_distributed_functions() f ORDER BY 1::text;
