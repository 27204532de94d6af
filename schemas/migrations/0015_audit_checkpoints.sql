-- Signed checkpoints of the chain heads (`adflow audit checkpoint`, and hourly in the projections
-- process when ADFLOW_AUDIT_SIGNING_KEY is set): each records the heads that changed since the
-- previous one, its digest chains to the previous digest, and an Ed25519 signature over it is
-- made with a key that never enters the database. See event-store/src/checkpoints.rs.
CREATE TABLE audit_checkpoints (
    id              bigint PRIMARY KEY,
    taken_at        timestamptz NOT NULL DEFAULT now(),
    streams         bigint NOT NULL,
    changed         bigint NOT NULL,
    previous_digest bytea NOT NULL,
    digest          bytea NOT NULL,
    public_key      bytea NOT NULL,
    signature       bytea NOT NULL
);

CREATE TABLE audit_checkpoint_heads (
    checkpoint_id  bigint NOT NULL REFERENCES audit_checkpoints (id),
    stream_name    text NOT NULL,
    stream_version bigint NOT NULL,
    hash           bytea NOT NULL,
    PRIMARY KEY (checkpoint_id, stream_name)
);

CREATE INDEX audit_checkpoint_heads_stream ON audit_checkpoint_heads (stream_name, checkpoint_id DESC);
