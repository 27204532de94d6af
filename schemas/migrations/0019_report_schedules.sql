-- Scheduled performance reports (src/report_schedules.rs): each schedule is due at
-- `next_run_at`; a run covers the last whole day (DAILY) or the last seven days (WEEKLY), is
-- delivered by e-mail to its creator's notification address or to a webhook, and is logged in
-- report_runs (a run that could not be summed is tried again, and logged again).
CREATE TABLE report_schedules (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    name            text NOT NULL,
    cadence         text NOT NULL CHECK (cadence IN ('DAILY', 'WEEKLY')),
    group_by        text NOT NULL,
    format          text NOT NULL,
    compare         boolean NOT NULL,
    -- Whether the report has money columns (its creator's role may see money).
    money           boolean NOT NULL,
    -- `user:<sub>` or `key:<id>`: e-mail goes to this inbox's notification address.
    created_by      text NOT NULL,
    webhook_url     text,
    webhook_secret  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_run_at     timestamptz NOT NULL DEFAULT now(),
    -- A run asked for by hand (`POST /v1/report-schedules/{id}/run`): the last day of its
    -- period. It does not move the regular schedule.
    manual_period_end date
);

CREATE INDEX report_schedules_due ON report_schedules (next_run_at);

CREATE TABLE report_runs (
    id          bigserial PRIMARY KEY,
    schedule_id uuid NOT NULL REFERENCES report_schedules (id) ON DELETE CASCADE,
    period_from date NOT NULL,
    period_to   date NOT NULL,
    delivered   boolean NOT NULL,
    error       text,
    bytes       integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX report_runs_schedule ON report_runs (schedule_id, id DESC);
