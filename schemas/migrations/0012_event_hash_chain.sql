-- Tamper evidence: every event carries a SHA-256 chained to its predecessor in its stream,
-- computed at append inside `append_events` (so every writer, single or group commit, chains):
--
--   hash(v) = sha256(hash(v − 1) || event_content(the event's fields))   hash(0) = ''
--
-- The content covers everything an event says: stream, version, id, type, schema version,
-- tenant, data (jsonb's canonical text), actor, correlation, causation and extra metadata, joined
-- by the unit separator. `adflow audit verify` recomputes the chain from the rows themselves: an
-- UPDATE breaks the changed event's hash, a DELETE breaks its successor's link (and leaves a
-- version gap), a swap breaks both. Events stored before this migration are chained by the
-- backfill below, in stream order.
ALTER TABLE events ADD COLUMN hash bytea;

CREATE FUNCTION event_content(
    p_stream text, p_version bigint, p_id uuid, p_type text, p_schema_version integer,
    p_tenant uuid, p_data jsonb, p_actor text, p_correlation uuid, p_causation uuid,
    p_extra jsonb
) RETURNS bytea IMMUTABLE LANGUAGE sql AS $$
    SELECT convert_to(concat_ws(E'\x1f', p_stream, p_version::text, p_id::text, p_type,
                                p_schema_version::text, p_tenant::text, p_data::text,
                                p_actor, p_correlation::text, p_causation::text,
                                coalesce(p_extra::text, '')), 'UTF8')
$$;

DO $$
DECLARE
    v_row    record;
    v_stream text := NULL;
    v_hash   bytea;
BEGIN
    FOR v_row IN SELECT * FROM events ORDER BY stream_name, stream_version LOOP
        IF v_stream IS DISTINCT FROM v_row.stream_name THEN
            v_stream := v_row.stream_name;
            v_hash := ''::bytea;
        END IF;
        v_hash := sha256(v_hash || event_content(
            v_row.stream_name, v_row.stream_version, v_row.event_id, v_row.event_type,
            v_row.schema_version, v_row.tenant_id, v_row.data, v_row.actor, v_row.correlation_id,
            v_row.causation_id, v_row.extra_metadata));
        UPDATE events SET hash = v_hash
         WHERE commit_id = v_row.commit_id AND position = v_row.position;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION append_events(
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
    v_hash     bytea;
    v_hashes   bytea[] := '{}';
BEGIN
    -- The stream's version and its newest hash in one index probe: the chain links to it.
    SELECT e.stream_version, e.hash INTO v_previous, v_hash FROM events e
     WHERE e.stream_name = p_stream ORDER BY e.stream_version DESC LIMIT 1;
    v_previous := coalesce(v_previous, 0);
    v_hash := coalesce(v_hash, ''::bytea);
    FOR k IN 1 .. coalesce(v_count, 0) LOOP
        v_hash := sha256(v_hash || event_content(
            p_stream, v_previous + k, p_event_ids[k], p_types[k], p_schema_versions[k], p_tenant,
            p_data[k], p_actors[k], p_correlation_ids[k], p_causation_ids[k], p_extra_metadata[k]));
        v_hashes[k] := v_hash;
    END LOOP;

    IF p_expected IS NULL
       OR (p_expected = -1 AND v_previous = 0)
       OR (p_expected = -2 AND v_previous > 0)
       OR (p_expected >= 0 AND v_previous = p_expected) THEN
        WITH inserted AS (
            INSERT INTO events AS e (stream_name, stream_version, event_id, event_type, schema_version,
                                     tenant_id, data, actor, correlation_id, causation_id, extra_metadata,
                                     hash)
            SELECT p_stream, v_previous + u.ord, u.id, u.t, u.sv, p_tenant, u.d, u.a, u.co, u.ca, u.x, u.h
              FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_actors, p_correlation_ids,
                          p_causation_ids, p_extra_metadata, v_hashes)
                   WITH ORDINALITY AS u(id, t, sv, d, a, co, ca, x, h, ord)
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
