-- Proof of packing and delivery: resumable uploads in progress, finished
-- proofs, the transparency log they are appended to, and share links.
-- Times are Unix milliseconds. Proof files are age-encrypted under a per-proof
-- key (proof_key_enc), which is sealed under the order's customer's key: when
-- that key is destroyed, every copy of the file is unreadable.

CREATE TABLE uploads (
    id              TEXT PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders (id),
    customer_id     INTEGER NOT NULL REFERENCES customers (id),
    kind            TEXT NOT NULL CHECK (kind IN ('packing', 'delivery', 'return', 'claim')),
    uploader        TEXT NOT NULL,
    length          INTEGER NOT NULL CHECK (length > 0),
    upload_offset   INTEGER NOT NULL DEFAULT 0,
    media_type      TEXT,
    file_name_enc   BLOB,
    captured_at     INTEGER,
    header          BLOB NOT NULL,
    proof_key_enc   BLOB NOT NULL,
    payload_key_enc BLOB NOT NULL,
    tail_enc        BLOB,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX uploads_expires ON uploads (expires_at);

CREATE TABLE proofs (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES orders (id),
    customer_id   INTEGER NOT NULL REFERENCES customers (id),
    kind          TEXT NOT NULL CHECK (kind IN ('packing', 'delivery', 'return', 'claim')),
    media_type    TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    blob_key      TEXT NOT NULL,
    stored_size   INTEGER NOT NULL,
    poster_key    TEXT,
    proof_key_enc BLOB,
    file_name_enc BLOB,
    uploader      TEXT NOT NULL,
    captured_at   INTEGER,
    received_at   INTEGER NOT NULL,
    duration_ms   INTEGER,
    width         INTEGER,
    height        INTEGER,
    has_audio     INTEGER CHECK (has_audio IN (0, 1)),
    probed_at     INTEGER,
    probe_error   TEXT,
    log_index     INTEGER NOT NULL UNIQUE,
    leaf          TEXT NOT NULL
);
CREATE INDEX proofs_order ON proofs (order_id, id);
CREATE INDEX proofs_customer ON proofs (customer_id);
CREATE INDEX proofs_unprobed ON proofs (probed_at) WHERE probed_at IS NULL;

-- Perfect subtrees of the RFC 6962 Merkle tree over proofs.leaf, in log order.
CREATE TABLE translog_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Every signed tree head, so consistency between any two can be shown.
CREATE TABLE translog_heads (
    size        INTEGER PRIMARY KEY,
    root        BLOB NOT NULL,
    signed_note TEXT NOT NULL,
    at          INTEGER NOT NULL
);

CREATE TRIGGER translog_nodes_no_update BEFORE UPDATE ON translog_nodes
BEGIN SELECT RAISE(ABORT, 'translog_nodes is append-only'); END;
CREATE TRIGGER translog_nodes_no_delete BEFORE DELETE ON translog_nodes
BEGIN SELECT RAISE(ABORT, 'translog_nodes is append-only'); END;
CREATE TRIGGER translog_heads_no_update BEFORE UPDATE ON translog_heads
BEGIN SELECT RAISE(ABORT, 'translog_heads is append-only'); END;
CREATE TRIGGER translog_heads_no_delete BEFORE DELETE ON translog_heads
BEGIN SELECT RAISE(ABORT, 'translog_heads is append-only'); END;

CREATE TABLE share_links (
    id         INTEGER PRIMARY KEY,
    proof_id   INTEGER NOT NULL REFERENCES proofs (id),
    created_by INTEGER NOT NULL REFERENCES staff (id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('courier_claim', 'marketplace_claim')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by INTEGER REFERENCES staff (id)
);
CREATE INDEX share_links_proof ON share_links (proof_id, id);
