-- pgbench: the url markers of a random stored session
\set n random(1, :nsess)
SELECT count(*) FROM dozor_markers((SELECT sid FROM load.read_ids WHERE n = :n), 'url');
