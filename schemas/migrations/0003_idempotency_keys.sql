-- Idempotency-Key records of the command API: the first response to a key is stored and replayed.
-- A row without a response is a request in flight; rows older than 24 hours are expired.
CREATE TABLE idempotency_keys (
    tenant_id       uuid NOT NULL,
    idempotency_key text NOT NULL,
    request_hash    bytea NOT NULL,
    response_status smallint,
    response_body   jsonb,
    response_etag   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (created_at);
