-- Read models for the campaign detail screen, audiences, recommendations and history.
-- Every table is keyed by tenant first: no query reads it without a tenant.

-- The structure the campaign holds now (generated, edited or tuned), per platform in one document.
ALTER TABLE campaigns ADD COLUMN structure jsonb;
ALTER TABLE campaigns ADD COLUMN structure_warnings jsonb NOT NULL DEFAULT '[]';

-- Deployment status per platform.
CREATE TABLE campaign_deployments (
    tenant_id      uuid NOT NULL,
    campaign_id    uuid NOT NULL,
    platform       text NOT NULL,
    status         text NOT NULL,          -- REQUESTED, DEPLOYED, FAILED
    external_id    text,
    failure_reason text,
    retryable      boolean,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, campaign_id, platform)
);

-- Optimisation proposals and their outcomes.
CREATE TABLE proposals (
    tenant_id               uuid NOT NULL,
    proposal_id             uuid NOT NULL,
    campaign_id             uuid NOT NULL,
    action                  jsonb NOT NULL,
    reason                  text NOT NULL,
    confidence_basis_points integer NOT NULL,
    model_version           text NOT NULL,
    status                  text NOT NULL,  -- PENDING, APPLIED, DECLINED
    automatic               boolean,
    decline_reason          text,
    proposed_at             timestamptz NOT NULL,
    decided_at              timestamptz,
    PRIMARY KEY (tenant_id, proposal_id)
);
CREATE INDEX proposals_awaiting ON proposals (tenant_id, status, proposed_at);
CREATE INDEX proposals_by_campaign ON proposals (tenant_id, campaign_id, proposed_at);

CREATE TABLE audiences (
    tenant_id   uuid NOT NULL,
    audience_id uuid NOT NULL,
    name        text NOT NULL,
    criteria    jsonb NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, audience_id)
);

CREATE TABLE audience_segments (
    tenant_id      uuid NOT NULL,
    segment_id     uuid NOT NULL,
    audience_id    uuid NOT NULL,
    name           text NOT NULL,
    criteria       jsonb NOT NULL,
    estimated_size bigint,
    personas       jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, segment_id)
);
CREATE INDEX audience_segments_by_audience ON audience_segments (tenant_id, audience_id);

-- CRM lists: names, lawful basis and counts only; the hashes stay in the event store.
CREATE TABLE account_lists (
    tenant_id    uuid NOT NULL,
    list_id      uuid NOT NULL,
    audience_id  uuid NOT NULL,
    name         text NOT NULL,
    lawful_basis text NOT NULL,
    identifiers  bigint NOT NULL,
    PRIMARY KEY (tenant_id, list_id)
);

-- Who did what, when and why, per aggregate: one row per event.
CREATE TABLE activity (
    tenant_id      uuid NOT NULL,
    aggregate_id   uuid NOT NULL,
    stream_version bigint NOT NULL,
    category       text NOT NULL,
    event_type     text NOT NULL,
    schema_version integer NOT NULL,
    actor          text NOT NULL,
    correlation_id uuid NOT NULL,
    causation_id   uuid NOT NULL,
    recorded_at    timestamptz NOT NULL,
    data           jsonb NOT NULL,
    PRIMARY KEY (tenant_id, aggregate_id, stream_version)
);
CREATE INDEX activity_by_correlation ON activity (tenant_id, correlation_id);
