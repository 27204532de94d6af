-- Platform credentials (OAuth2 refresh tokens), encrypted with AES-256-GCM outside the event
-- log: the log records who connected which account, never a secret. The additional data of each
-- ciphertext is `<tenant>/<platform>`, so a row copied to another tenant does not decrypt.
CREATE TABLE IF NOT EXISTS platform_credentials (
    tenant_id uuid NOT NULL,
    platform text NOT NULL,
    -- Which key encrypted it (the first 8 hex digits of the key's SHA-256): keys can rotate.
    key_id text NOT NULL,
    nonce bytea NOT NULL,
    ciphertext bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, platform)
);

-- What the report sync pulled last, per deployed campaign and platform: the next pull starts a
-- look-back window before it.
CREATE TABLE IF NOT EXISTS report_sync_state (
    tenant_id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    platform text NOT NULL,
    synced_through date,
    last_pulled_at timestamptz,
    last_error text,
    PRIMARY KEY (tenant_id, campaign_id, platform)
);
