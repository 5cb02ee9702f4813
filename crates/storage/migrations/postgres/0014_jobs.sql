-- One durable queue for every piece of background work. A job is claimed by
-- one server at a time under a lease it renews while it runs; a server that
-- dies leaves the lease to run out, and another server picks the job up.
-- `dedupe_key` keeps one queued-or-running job per piece of work (one build
-- per export, one run per privacy request, one row per recurring job).
CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    -- Contact details a message job needs after the person's own key is
    -- gone (the erasure notice), sealed under the installation's key and
    -- cleared once sent.
    sealed       BYTEA,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE UNIQUE INDEX jobs_active_key ON jobs (dedupe_key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_due ON jobs (state, run_at);
