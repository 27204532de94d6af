-- Refused commands (issue "Auditors"): who tried what, and why the command API refused it — every
-- 4xx answer to an authenticated caller, written by the command API's access-log layer and read by
-- the Auditor role over GraphQL (`accessLog`). Only the route template, the problem's code and the
-- violated fields' pointers and codes are kept: never a body, so no personal data lands here.
CREATE TABLE access_log (
    id             bigserial PRIMARY KEY,
    tenant_id      uuid NOT NULL,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    method         text NOT NULL,
    route          text NOT NULL,
    status         smallint NOT NULL,
    code           text NOT NULL,
    reasons        text[] NOT NULL DEFAULT '{}',
    correlation_id uuid
);

CREATE INDEX access_log_tenant ON access_log (tenant_id, id DESC);
