-- The PostgreSQL event store.
--
-- Log order is (commit_id, position): commit_id is the id of the transaction that wrote the event,
-- position a sequence number. Readers only return events whose transaction id lies below the
-- xmin of their snapshot: every transaction below it has finished, so nothing can still commit
-- "behind" a checkpoint. This closes the sequence-gap bug (a reader sees position 7 before the
-- transaction holding 6 commits, moves past 6 and never sees it) without serialising writers.
--
-- Optimistic concurrency rests on the unique (stream_name, stream_version): of two writers that
-- read the same version, the second to insert fails. Three indexes in all, each one needed:
-- the log order (primary key), the stream order, and event ids for idempotent appends.

CREATE TABLE events (
    commit_id      bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    position       bigint GENERATED ALWAYS AS IDENTITY,
    stream_name    text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version >= 1),
    event_id       uuid NOT NULL,
    event_type     text NOT NULL,
    schema_version integer NOT NULL CHECK (schema_version >= 1),
    tenant_id      uuid NOT NULL,
    data           jsonb NOT NULL,
    -- Audit metadata, typed so that auditors can query it (and writers need not parse it).
    actor          text NOT NULL,
    correlation_id uuid NOT NULL,
    causation_id   uuid NOT NULL,
    extra_metadata jsonb,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_log_order PRIMARY KEY (commit_id, position),
    CONSTRAINT events_event_id_unique UNIQUE (event_id),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_name, stream_version)
);

-- Appends a batch to one stream atomically, in one round trip.
--   p_expected: NULL = any, -1 = no stream, -2 = stream exists, n >= 0 = exactly n events.
-- Raises SQLSTATE AF001 (DETAIL = the stream's version) on a wrong expected version and AF002
-- when some event ids are already stored, but not as exactly this append to this stream. A
-- concurrent writer that took the same version makes the insert fail with unique_violation on
-- events_stream_version_unique: the caller reports a conflict, or retries when it expected Any.
-- Returns the stream's version and the log position (commit_id, position) of the last event.
-- The common case costs two statements; the idempotency lookup runs only when an event id
-- already exists or the expected version does not match (a retry looks like either).
CREATE FUNCTION append_events(
    p_stream text,
    p_expected bigint,
    p_tenant uuid,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data jsonb[],
    p_actors text[],
    p_correlation_ids uuid[],
    p_causation_ids uuid[],
    p_extra_metadata jsonb[]
) RETURNS TABLE (stream_version bigint, commit_id bigint, log_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_count    integer := cardinality(p_event_ids);
    v_previous bigint;
    v_inserted integer;
    v_last     record;
BEGIN
    SELECT coalesce(max(e.stream_version), 0) INTO v_previous FROM events e WHERE e.stream_name = p_stream;

    IF p_expected IS NULL
       OR (p_expected = -1 AND v_previous = 0)
       OR (p_expected = -2 AND v_previous > 0)
       OR (p_expected >= 0 AND v_previous = p_expected) THEN
        WITH inserted AS (
            INSERT INTO events AS e (stream_name, stream_version, event_id, event_type, schema_version,
                                     tenant_id, data, actor, correlation_id, causation_id, extra_metadata)
            SELECT p_stream, v_previous + u.ord, u.id, u.t, u.sv, p_tenant, u.d, u.a, u.co, u.ca, u.x
              FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_actors, p_correlation_ids,
                          p_causation_ids, p_extra_metadata)
                   WITH ORDINALITY AS u(id, t, sv, d, a, co, ca, x, ord)
             ORDER BY u.ord
            ON CONFLICT (event_id) DO NOTHING
            RETURNING e.stream_version, e.commit_id, e.position
        )
        SELECT count(*)::integer, max(i.stream_version), max(i.commit_id), max(i.position)
          INTO v_inserted, stream_version, commit_id, log_position
          FROM inserted i;
        IF v_inserted = v_count THEN
            RETURN NEXT;
            RETURN;
        END IF;
        IF v_inserted > 0 THEN
            RAISE EXCEPTION 'some event ids of this append to % are already stored', p_stream
                USING ERRCODE = 'AF002';
        END IF;
    END IF;

    -- A retry of an append that already landed: every id stored in this stream, in order. (A
    -- concurrent twin is not missed: ON CONFLICT above waited for it to commit or roll back.)
    SELECT min(e.stream_version) AS first_version, max(e.stream_version) AS last_version,
           count(*) AS known,
           count(*) FILTER (WHERE e.stream_name <> p_stream) AS elsewhere,
           bool_and(e.stream_version - k.ord = (SELECT f.stream_version - 1 FROM events f
                                                  WHERE f.event_id = p_event_ids[1])) AS in_order
      INTO v_last
      FROM unnest(p_event_ids) WITH ORDINALITY AS k(id, ord)
      JOIN events e ON e.event_id = k.id;
    IF v_last.known = v_count AND v_last.elsewhere = 0 AND v_last.in_order THEN
        RETURN QUERY
            SELECT e.stream_version, e.commit_id, e.position FROM events e
             WHERE e.event_id = p_event_ids[v_count];
        RETURN;
    END IF;
    IF v_last.known > 0 THEN
        RAISE EXCEPTION 'event ids already stored by a different append to %', p_stream
            USING ERRCODE = 'AF002';
    END IF;
    RAISE EXCEPTION 'wrong expected version for %', p_stream
        USING ERRCODE = 'AF001', DETAIL = v_previous::text;
END;
$$;
