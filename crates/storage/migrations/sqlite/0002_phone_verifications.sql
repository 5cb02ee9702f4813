-- One-time codes sent by SMS to prove a phone number before an account is
-- registered on it. Only the phone's keyed blind index and a keyed hash of
-- the code are stored; rows are deleted by the sweeper once expired.
CREATE TABLE phone_verifications (
    id          INTEGER PRIMARY KEY,
    phone_index BLOB NOT NULL,
    code_hash   BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    used        INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX phone_verifications_phone ON phone_verifications (phone_index, id);
CREATE INDEX phone_verifications_expires ON phone_verifications (expires_at);
