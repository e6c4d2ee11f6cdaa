-- pgbench: one SDK batch per transaction. Client :client_id sends its
-- sessions one after the other, each as :batches batches in order; :seq
-- counts this client's transactions (pgbench -D seq=0), so transaction N of
-- the client's per-transaction log is batch (N % batches) of session
-- :sess0 + N / batches (test/load/load.sh turns the log into load.acked).
\set seq :seq + 1
\set sess :sess0 + (:seq - 1) / :batches
\set b (:seq - 1) % :batches
SELECT load.ingest(:client_id, :sess, :b);
