-- The disclosure log: every time personal data leaves the shop (to a
-- courier, a payment gateway or a service provider), who got which fields,
-- when and why. It appears in the person's access export.
CREATE TABLE disclosures (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    order_id    INTEGER REFERENCES orders (id),
    recipient   TEXT NOT NULL CHECK (recipient IN ('courier', 'payment_gateway', 'service_provider')),
    fields      TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX disclosures_customer ON disclosures (customer_id, id);

CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
BEGIN SELECT RAISE(ABORT, 'disclosures is append-only'); END;
