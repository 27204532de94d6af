-- Inbound webhooks (command-api/src/inbound.rs): an endpoint per tenant and source, verified by
-- its Standard Webhooks secret; every accepted message id is kept, so a replayed message is
-- answered as a duplicate and records nothing (the inbound ledger records each external id once
-- besides).
CREATE TABLE inbound_endpoints (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL,
    source     text NOT NULL,
    secret     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inbound_messages (
    endpoint_id uuid NOT NULL REFERENCES inbound_endpoints (id) ON DELETE CASCADE,
    message_id  text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint_id, message_id)
);
