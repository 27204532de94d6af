-- Outbound webhooks (src/webhooks/): each subscription is a cursor on the log, moved only after a
-- 2xx; `secrets` holds the signing secrets, newest first (two while one is rotated out); every
-- attempt is logged in webhook_deliveries.
CREATE TABLE webhook_subscriptions (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    url             text NOT NULL,
    event_types     text[] NOT NULL DEFAULT '{}',
    secrets         text[] NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    cursor_commit   bigint NOT NULL DEFAULT 0,
    cursor_prepare  bigint NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0,
    failing_since   timestamptz,
    next_attempt_at timestamptz,
    disabled_at     timestamptz,
    disabled_reason text
);

CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id);

CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
    message_id      uuid NOT NULL,
    event_type      text NOT NULL,
    attempt         integer NOT NULL,
    delivered       boolean NOT NULL,
    response_code   integer,
    latency_ms      integer NOT NULL,
    error           text,
    at              timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id DESC);
