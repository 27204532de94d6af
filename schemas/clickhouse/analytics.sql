-- ClickHouse analytics tables (server 18.16). `{database}` and `{suffix}` are filled in by the
-- analytics projector: the suffix is empty for the live tables and `_rebuild` for a rebuild's
-- shadow tables. Every statement is idempotent; the projector runs them all at start-up.
--
-- Exactly-once without transactions (ARCHITECTURE.md, "Analytics"):
--   * facts and domain events are ReplacingMergeTree tables keyed by log position, so a batch
--     written twice holds each row once after a merge, and queries read them with FINAL;
--   * the daily rollup is a SummingMergeTree, which would double a batch written twice, so it also
--     holds the projector's checkpoint: every batch's rollup rows and the step of the checkpoint
--     travel in ONE insert of one block into this unpartitioned table, which ClickHouse writes as
--     one part, atomically. The checkpoint is the sum of those steps.

CREATE DATABASE IF NOT EXISTS {database};

-- One row per hour and ad / creative / keyword of a PerformanceReported event.
CREATE TABLE IF NOT EXISTS {database}.performance_hourly{suffix} (
    tenant_id UUID,
    campaign_id UUID,
    platform String,
    hour DateTime('UTC'),
    ad_group String,
    ad String,
    keyword String,
    segment_id UUID,
    impressions UInt64,
    clicks UInt64,
    conversions UInt64,
    cost_micros UInt64,
    revenue_micros UInt64,
    report_id UUID,
    log_commit UInt64,
    log_prepare UInt64,
    row_index UInt32
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant_id, campaign_id, hour, log_commit, log_prepare, row_index);

-- Per day x campaign x platform x segment (nil segment: not attributed to one). The row whose
-- tenant, campaign and segment are nil and whose platform is empty holds the checkpoint.
CREATE TABLE IF NOT EXISTS {database}.performance_daily{suffix} (
    tenant_id UUID,
    campaign_id UUID,
    day Date,
    platform String,
    segment_id UUID,
    ad_group String,
    impressions UInt64,
    clicks UInt64,
    conversions UInt64,
    cost_micros UInt64,
    revenue_micros UInt64,
    fact_rows UInt64,
    checkpoint_commit_step Int64,
    checkpoint_prepare_step Int64
) ENGINE = SummingMergeTree((impressions, clicks, conversions, cost_micros, revenue_micros,
                             fact_rows, checkpoint_commit_step, checkpoint_prepare_step))
ORDER BY (tenant_id, campaign_id, day, platform, segment_id, ad_group);

-- One row per domain event of the log: what happened, to what, by whom, when.
CREATE TABLE IF NOT EXISTS {database}.domain_events{suffix} (
    tenant_id UUID,
    recorded_at DateTime('UTC'),
    event_type String,
    schema_version UInt32,
    category String,
    aggregate_id UUID,
    stream_version UInt64,
    event_id UUID,
    actor String,
    correlation_id UUID,
    causation_id UUID,
    payload_bytes UInt32,
    log_commit UInt64,
    log_prepare UInt64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(recorded_at)
ORDER BY (tenant_id, recorded_at, log_commit, log_prepare);
