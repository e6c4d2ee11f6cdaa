-- pgbench: the whole merged stream of a random stored session (what the player loads)
\set n random(1, :nsess)
SELECT length(dozor_events((SELECT sid FROM load.read_ids WHERE n = :n))::text);
