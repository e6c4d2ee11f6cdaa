-- pgbench: the history feed of a random stored session
\set n random(1, :nsess)
SELECT count(*) FROM dozor_history((SELECT sid FROM load.read_ids WHERE n = :n));
