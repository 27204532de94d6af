-- The model registry of the performance predictor: every trained model of a tenant, by target
-- (click-through, conversion rate), with its training window, the SHA-256 of the rows it learned
-- from, its validation metrics and its weights (safetensors). The newest of a target serves.
CREATE TABLE IF NOT EXISTS prediction_models (
    tenant_id uuid NOT NULL,
    target text NOT NULL,
    version integer NOT NULL,
    architecture text NOT NULL,
    trained_at timestamptz NOT NULL DEFAULT now(),
    window_from timestamptz NOT NULL,
    window_to timestamptz NOT NULL,
    data_sha256 text NOT NULL,
    metrics jsonb NOT NULL,
    artifact bytea NOT NULL,
    PRIMARY KEY (tenant_id, target, version)
);
