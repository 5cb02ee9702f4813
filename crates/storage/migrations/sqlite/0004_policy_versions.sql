-- Published privacy policy versions (each in Bangla and English, never
-- changed once published) and what each customer accepted, and when.
CREATE TABLE policy_versions (
    version      INTEGER PRIMARY KEY,
    text_bn      TEXT NOT NULL,
    text_en      TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    published_by INTEGER REFERENCES staff (id)
);

CREATE TRIGGER policy_versions_no_update BEFORE UPDATE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'policy_versions is append-only'); END;
CREATE TRIGGER policy_versions_no_delete BEFORE DELETE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'policy_versions is append-only'); END;

CREATE TABLE policy_acceptances (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    version     INTEGER NOT NULL REFERENCES policy_versions (version),
    channel     TEXT NOT NULL CHECK (channel IN ('registration', 'notice', 'checkout')),
    at          INTEGER NOT NULL
);
CREATE INDEX policy_acceptances_customer ON policy_acceptances (customer_id, version);
