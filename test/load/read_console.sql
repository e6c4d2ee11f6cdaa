-- pgbench: the console feed of a random stored session
\set n random(1, :nsess)
SELECT count(*) FROM dozor_console((SELECT sid FROM load.read_ids WHERE n = :n));
