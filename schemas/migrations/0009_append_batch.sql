-- Group commit: several appends, each to its own stream with its own expected version, in one
-- transaction and one round trip, so that they share one commit (one WAL flush) instead of paying
-- one each. Each append runs `append_events` in its own subtransaction (a plpgsql block with an
-- EXCEPTION clause): a wrong expected version or a lost race undoes that append alone and is
-- returned as its outcome; the others go on.
--
--   p_streams, p_expected, p_tenants, p_counts: one entry per append (p_expected as in
--   append_events; p_counts = how many of the event arrays' entries belong to it, in order).
--   The event arrays: every append's events, one after the other.
--
-- Returns one row per append, in order: its stream version and log position, or the SQLSTATE,
-- message, detail and constraint of the error that undid it.
CREATE FUNCTION append_batch(
    p_streams text[],
    p_expected bigint[],
    p_tenants uuid[],
    p_counts integer[],
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data jsonb[],
    p_actors text[],
    p_correlation_ids uuid[],
    p_causation_ids uuid[],
    p_extra_metadata jsonb[]
) RETURNS TABLE (
    append_index integer,
    stream_version bigint,
    commit_id bigint,
    log_position bigint,
    error_code text,
    error_message text,
    error_detail text,
    error_constraint text
)
LANGUAGE plpgsql AS $$
DECLARE
    v_from integer := 1;
    v_to   integer;
    v_row  record;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_streams), 0) LOOP
        v_to := v_from + p_counts[i] - 1;
        append_index := i;
        stream_version := NULL;
        commit_id := NULL;
        log_position := NULL;
        error_code := NULL;
        error_message := NULL;
        error_detail := NULL;
        error_constraint := NULL;
        BEGIN
            SELECT a.stream_version, a.commit_id, a.log_position INTO STRICT v_row
              FROM append_events(p_streams[i], p_expected[i], p_tenants[i],
                                 p_event_ids[v_from:v_to], p_types[v_from:v_to],
                                 p_schema_versions[v_from:v_to], p_data[v_from:v_to],
                                 p_actors[v_from:v_to], p_correlation_ids[v_from:v_to],
                                 p_causation_ids[v_from:v_to], p_extra_metadata[v_from:v_to]) a;
            stream_version := v_row.stream_version;
            commit_id := v_row.commit_id;
            log_position := v_row.log_position;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS error_code = RETURNED_SQLSTATE,
                                    error_message = MESSAGE_TEXT,
                                    error_detail = PG_EXCEPTION_DETAIL,
                                    error_constraint = CONSTRAINT_NAME;
        END;
        RETURN NEXT;
        v_from := v_to + 1;
    END LOOP;
END;
$$;
