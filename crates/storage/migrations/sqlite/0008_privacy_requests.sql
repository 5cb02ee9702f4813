-- Privacy requests (access, erasure, marketing opt-out), their status
-- history, the one-time codes of the public request form, legal holds on
-- proof media, and the erasure journal. None of these rows holds personal
-- data in clear: people are referred to by id, phone numbers and emails by
-- keyed hashes.
CREATE TABLE privacy_requests (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES customers (id),
    kind            TEXT NOT NULL CHECK (kind IN ('access', 'erasure', 'marketing_opt_out')),
    channel         TEXT NOT NULL CHECK (channel IN ('account', 'public_form', 'support_email', 'api')),
    status          TEXT NOT NULL CHECK (status IN ('unverified', 'open', 'in_progress', 'held', 'completed', 'rejected')),
    verified_by     TEXT,
    received_at     INTEGER NOT NULL,
    deadline_at     INTEGER NOT NULL,
    status_token    TEXT NOT NULL UNIQUE,
    hold_reason     TEXT,
    outcome         TEXT,
    export_id       INTEGER,
    logged_by       INTEGER REFERENCES staff (id),
    completed_at    INTEGER
);
CREATE INDEX privacy_requests_deadline ON privacy_requests (status, deadline_at);
CREATE INDEX privacy_requests_customer ON privacy_requests (customer_id, id);

CREATE TABLE privacy_request_events (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES privacy_requests (id),
    at         INTEGER NOT NULL,
    status     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX privacy_request_events_request ON privacy_request_events (request_id, id);
CREATE TRIGGER privacy_request_events_no_change BEFORE UPDATE ON privacy_request_events
BEGIN SELECT RAISE(ABORT, 'privacy_request_events is append-only'); END;

-- Codes sent by the public request form. The row exists whether or not the
-- number or address belongs to a customer, so the form's answers cannot tell.
CREATE TABLE request_codes (
    id            INTEGER PRIMARY KEY,
    address_index BLOB NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('access', 'erasure', 'marketing_opt_out')),
    code_hash     BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    used          INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX request_codes_address ON request_codes (address_index, id);
CREATE INDEX request_codes_expires ON request_codes (expires_at);

-- Holds keep an order's proof media past an erasure: an open claim or a
-- legal obligation. `note` is staff's reason, without personal data.
CREATE TABLE legal_holds (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    reason      TEXT NOT NULL CHECK (reason IN ('open_claim', 'legal')),
    note        TEXT NOT NULL DEFAULT '',
    placed_by   INTEGER REFERENCES staff (id),
    placed_at   INTEGER NOT NULL,
    until_at    INTEGER,
    released_at INTEGER,
    released_by INTEGER REFERENCES staff (id)
);
CREATE INDEX legal_holds_order ON legal_holds (order_id);

-- The erasure journal: which customer ids were erased and when. A restore
-- re-applies every entry before the server serves anything.
CREATE TABLE erasures (
    customer_id INTEGER PRIMARY KEY,
    request_id  INTEGER,
    erased_at   INTEGER NOT NULL,
    held_proofs INTEGER NOT NULL DEFAULT 0
);
