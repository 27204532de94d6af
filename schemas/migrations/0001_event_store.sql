-- The PostgreSQL event store.
--
-- Log order is (commit_id, position): commit_id is the id of the transaction that wrote the event,
-- position a sequence number. Readers only return events whose transaction id lies below the
-- xmin of their snapshot: every transaction below it has finished, so nothing can still commit
-- "behind" a checkpoint. This closes the sequence-gap bug (a reader sees position 7 before the
-- transaction holding 6 commits, moves past 6 and never sees it) without serialising writers.

CREATE TABLE event_streams (
    stream_name text PRIMARY KEY,
    version     bigint NOT NULL CHECK (version >= 0)
);

CREATE TABLE events (
    position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commit_id      bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    stream_name    text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version >= 1),
    event_id       uuid NOT NULL,
    event_type     text NOT NULL,
    schema_version integer NOT NULL CHECK (schema_version >= 1),
    tenant_id      uuid NOT NULL,
    data           jsonb NOT NULL,
    metadata       jsonb NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_unique UNIQUE (event_id),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_name, stream_version)
);

CREATE INDEX events_log_order ON events (commit_id, position);
CREATE INDEX events_by_tenant ON events (tenant_id, commit_id, position);

-- Appends a batch to one stream atomically, in one round trip.
--   p_expected: NULL = any, -1 = no stream, -2 = stream exists, n >= 0 = exactly n events.
-- Raises SQLSTATE AF001 (DETAIL = the stream's version) on a wrong expected version and AF002
-- when some event ids are already stored as a different append (or unique_violation on
-- events_event_id_unique when only later ids of the batch are).
-- Returns the stream's version and the log position (commit_id, position) of the last event.
CREATE FUNCTION append_events(
    p_stream text,
    p_expected bigint,
    p_tenant uuid,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data jsonb[],
    p_metadata jsonb[]
) RETURNS TABLE (stream_version bigint, commit_id bigint, log_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_count    integer := cardinality(p_event_ids);
    v_previous bigint;
    v_known    integer;
    v_elsewhere integer;
BEGIN
    -- Creates or locks the stream row: concurrent writers to one stream queue here, so exactly
    -- one of them wins each version. Writers to other streams never wait for each other.
    INSERT INTO event_streams AS s (stream_name, version) VALUES (p_stream, v_count)
    ON CONFLICT (stream_name) DO UPDATE SET version = s.version + v_count
    RETURNING s.version - v_count INTO v_previous;

    -- Idempotency: checked under the stream lock, so a concurrent twin of this append has
    -- committed (and is visible) before we look.
    SELECT count(*),
           count(*) FILTER (WHERE e.stream_name <> p_stream
                               OR e.stream_version - k.ord <> first_known.stream_version - 1)
      INTO v_known, v_elsewhere
      FROM unnest(p_event_ids) WITH ORDINALITY AS k(id, ord)
      JOIN events e ON e.event_id = k.id
      CROSS JOIN (SELECT f.stream_version FROM events f WHERE f.event_id = p_event_ids[1]) AS first_known;
    IF v_known > 0 THEN
        IF v_known = v_count AND v_elsewhere = 0 THEN
            UPDATE event_streams SET version = v_previous WHERE stream_name = p_stream;
            RETURN QUERY
                SELECT e.stream_version, e.commit_id, e.position
                  FROM events e
                 WHERE e.event_id = p_event_ids[v_count];
            RETURN;
        END IF;
        RAISE EXCEPTION 'event ids already stored by a different append to %', p_stream
            USING ERRCODE = 'AF002';
    END IF;

    IF NOT (p_expected IS NULL
            OR (p_expected = -1 AND v_previous = 0)
            OR (p_expected = -2 AND v_previous > 0)
            OR (p_expected >= 0 AND v_previous = p_expected)) THEN
        RAISE EXCEPTION 'wrong expected version for %', p_stream
            USING ERRCODE = 'AF001', DETAIL = v_previous::text;
    END IF;

    RETURN QUERY
    WITH inserted AS (
        INSERT INTO events AS e (stream_name, stream_version, event_id, event_type, schema_version,
                                 tenant_id, data, metadata)
        SELECT p_stream, v_previous + u.ord, u.id, u.t, u.sv, p_tenant, u.d, u.m
          FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata)
               WITH ORDINALITY AS u(id, t, sv, d, m, ord)
         ORDER BY u.ord
        RETURNING e.stream_version, e.commit_id, e.position
    )
    SELECT i.stream_version, i.commit_id, i.position FROM inserted i ORDER BY i.position DESC LIMIT 1;
END;
$$;
