-- Command rate limits, shared by every instance of the command API: one row per bucket (a caller,
-- or a whole tenant) holding its theoretical arrival time (GCRA). UNLOGGED: after a crash the
-- buckets start full again, which is harmless and keeps the hot path off the WAL.
CREATE UNLOGGED TABLE rate_limits (
    bucket text PRIMARY KEY,
    tat    timestamptz NOT NULL
);
