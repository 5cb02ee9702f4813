-- Fraud signals from the shop's own history. An order placed through the
-- shop or the API records keyed fingerprints (HMAC, never in clear) of the
-- client's IP address and browser, to count orders per device and address
-- in a recent window; staff who call a customer about a flagged order
-- record what they learnt. Both are kept for the technical-data period
-- and then swept; an erasure deletes them with the customer's orders.
CREATE TABLE order_signals (
    order_id     INTEGER PRIMARY KEY REFERENCES orders (id),
    ip_index     TEXT,
    device_index TEXT,
    at           INTEGER NOT NULL
);
CREATE INDEX order_signals_ip ON order_signals (ip_index, at);
CREATE INDEX order_signals_device ON order_signals (device_index, at);
CREATE INDEX order_signals_at ON order_signals (at);

CREATE TABLE order_phone_checks (
    id       INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    outcome  TEXT NOT NULL CHECK (outcome IN ('genuine', 'not_genuine', 'no_answer')),
    note     TEXT NOT NULL DEFAULT '',
    at       INTEGER NOT NULL
);
CREATE INDEX order_phone_checks_order ON order_phone_checks (order_id, id);
CREATE INDEX order_phone_checks_at ON order_phone_checks (at);
