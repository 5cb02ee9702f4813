-- Flags are integers 0/1 on both engines, so one query binds the same type to each.
-- Foundation schema, SQLite. Times are Unix milliseconds. Columns ending in
-- _enc are sealed under the customer's own key; _index columns are keyed
-- blind indexes. Every column is classified in the data catalog.

CREATE TABLE customer_keys (
    customer_id INTEGER PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    name_enc      BLOB,
    phone_enc     BLOB,
    phone_index   BLOB UNIQUE,
    email_enc     BLOB,
    email_index   BLOB,
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    erased_at     INTEGER
);
CREATE INDEX customers_email_index ON customers (email_index);

CREATE TABLE products (
    id      INTEGER PRIMARY KEY,
    sku     TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_bn TEXT NOT NULL,
    price   INTEGER NOT NULL CHECK (price >= 0),
    active  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'support', 'packer', 'courier')),
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers (id),
    status           TEXT NOT NULL,
    payment_method   TEXT NOT NULL,
    payment_status   TEXT NOT NULL,
    source           TEXT NOT NULL,
    total            INTEGER NOT NULL CHECK (total >= 0),
    address_enc      BLOB,
    instructions_enc BLOB,
    created_by       INTEGER REFERENCES staff (id),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_created ON orders (created_at);

CREATE TABLE order_items (
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    line_no    INTEGER NOT NULL,
    sku        TEXT,
    name       TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;

CREATE TABLE order_events (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    staff_id    INTEGER REFERENCES staff (id),
    at          INTEGER NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

CREATE TABLE consents (
    id             INTEGER PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers (id),
    purpose        TEXT NOT NULL,
    granted        INTEGER NOT NULL CHECK (granted IN (0, 1)),
    channel        TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    wording        TEXT NOT NULL,
    at             INTEGER NOT NULL
);
CREATE INDEX consents_customer ON consents (customer_id, id);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('visitor', 'customer', 'staff')),
    staff_id     INTEGER REFERENCES staff (id),
    customer_id  INTEGER REFERENCES customers (id),
    csrf_token   TEXT NOT NULL,
    lang         TEXT NOT NULL,
    cart         TEXT NOT NULL DEFAULT '[]',
    ip_address   TEXT,
    user_agent   TEXT,
    device_kind  TEXT,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_created ON sessions (created_at);
CREATE INDEX sessions_customer ON sessions (customer_id);

CREATE TABLE sign_in_attempts (
    id        INTEGER PRIMARY KEY,
    key_hash  TEXT NOT NULL,
    at        INTEGER NOT NULL,
    succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1))
);
CREATE INDEX sign_in_attempts_key ON sign_in_attempts (key_hash, at);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_target ON audit_log (target, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
