-- Crypto-shredding: every data subject's personal values in events are sealed (AES-256-GCM) under
-- a key of its own, kept here and never in the log. Erasing the subject sets `key` to NULL (and
-- vacuums the table, so the old row version does not linger on disk); the ciphertext in the log
-- then reads as erased. A subject imported again after an erasure gets a new key: at most one
-- live key per (tenant, subject).
CREATE TABLE data_subject_keys (
    key_id     uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL,
    subject_id uuid NOT NULL,
    key        bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at  timestamptz,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);

CREATE UNIQUE INDEX data_subject_keys_live ON data_subject_keys (tenant_id, subject_id)
    WHERE key IS NOT NULL;
CREATE INDEX data_subject_keys_subject ON data_subject_keys (tenant_id, subject_id);
