-- People who opted out of marketing, kept so no later import or form can
-- message them again: only a keyed hash of the phone number or email
-- address, never the value.
CREATE TABLE marketing_suppressions (
    address_hash BLOB PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    at           INTEGER NOT NULL
);

-- The consent ledger is only ever added to (erasure deletes a person's rows).
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN SELECT RAISE(ABORT, 'consents is append-only'); END;
