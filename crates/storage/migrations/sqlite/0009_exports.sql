-- Access exports: a person's copy of everything kept about them, as a ZIP
-- built in the background. The ZIP is stored as an age file under its own
-- key (file_key_enc), sealed under the person's key, so erasing the person
-- makes every export unreadable too. The download token is never stored,
-- only a keyed hash of it; after expires_at the link is refused and the
-- sweeper deletes the file. request_id names the privacy request an export
-- answers, when there is one (no foreign key: requests live elsewhere).
CREATE TABLE exports (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id),
    request_id   INTEGER,
    status       TEXT NOT NULL CHECK (status IN ('building', 'ready', 'failed', 'expired')),
    progress     INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    stage        TEXT NOT NULL,
    blob_key     TEXT,
    file_key_enc BLOB,
    token_hash   TEXT UNIQUE,
    size         INTEGER,
    stored_size  INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    ready_at     INTEGER,
    expires_at   INTEGER,
    error        TEXT
);
CREATE INDEX exports_customer ON exports (customer_id, id);
CREATE INDEX exports_status ON exports (status, expires_at);
