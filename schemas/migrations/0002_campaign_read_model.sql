-- Projector checkpoints: written in the same transaction as the rows a projector changes.
CREATE TABLE projection_checkpoints (
    projection text PRIMARY KEY,
    commit_id  bigint NOT NULL DEFAULT 0,
    position   bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Campaign list and detail. Keyed by tenant first: no query reads it without a tenant.
-- campaign_id is a UUIDv7, so its order is creation order: the list paginates on the primary key.
CREATE TABLE campaigns (
    tenant_id           uuid NOT NULL,
    campaign_id         uuid NOT NULL,
    name                text NOT NULL,
    status              text NOT NULL,
    objective           text NOT NULL,
    platforms           text[] NOT NULL,
    total_budget_micros bigint NOT NULL,
    start_date          date NOT NULL,
    end_date            date NOT NULL,
    version             bigint NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, campaign_id)
);
