-- Notifications (domain/src/notifications.rs): the `notifications` projection writes the feed,
-- the users' preferences and read marks. `notification_deliveries` is the outbox of e-mail and
-- Slack messages; a rebuild does not empty it (and its key stops a rebuild from sending twice).
CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    kind        text NOT NULL,
    severity    text NOT NULL,
    campaign_id uuid,
    title       text NOT NULL,
    body        text NOT NULL,
    -- The event that raised it, and its log position (NULL for operational notices).
    event_id    uuid,
    position    text,
    created_at  timestamptz NOT NULL
);

CREATE INDEX notifications_feed ON notifications (tenant_id, created_at DESC, id DESC);

CREATE TABLE notification_preferences (
    tenant_id         uuid NOT NULL,
    inbox_id          uuid NOT NULL,
    subject           text NOT NULL,
    -- Sealed personal values of the user, opened only to send.
    email             jsonb,
    slack_webhook_url jsonb,
    channels          jsonb NOT NULL,
    PRIMARY KEY (tenant_id, inbox_id)
);

CREATE TABLE notification_reads (
    tenant_id       uuid NOT NULL,
    inbox_id        uuid NOT NULL,
    notification_id uuid NOT NULL,
    read_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, inbox_id, notification_id)
);

CREATE TABLE notification_deliveries (
    notification_id uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('EMAIL', 'SLACK')),
    inbox_id        uuid NOT NULL,
    tenant_id       uuid NOT NULL,
    status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    PRIMARY KEY (notification_id, channel, inbox_id)
);

CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at)
    WHERE status = 'PENDING';
