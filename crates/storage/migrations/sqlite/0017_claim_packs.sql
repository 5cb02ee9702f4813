-- Claim packs: one ZIP per claim for a marketplace or a courier, with the
-- decrypted original proofs, short excerpts, receipts and an offline
-- verifier. The file is an age file under its own key, sealed under the
-- customer's key (an erasure makes every pack unreadable, then deletes it).
-- A pack is shared like a proof: a link that expires and can be revoked.
CREATE TABLE claim_packs (
    id              INTEGER PRIMARY KEY,
    claim_id        INTEGER NOT NULL REFERENCES claims (id),
    customer_id     INTEGER NOT NULL REFERENCES customers (id),
    purpose         TEXT NOT NULL CHECK (purpose IN ('courier_claim', 'marketplace_claim')),
    include_contact INTEGER NOT NULL CHECK (include_contact IN (0, 1)),
    -- Which videos get an excerpt and from where: [{"proof":1,"start_ms":0}].
    excerpts        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('building', 'ready', 'failed')),
    blob_key        TEXT,
    file_key_enc    BLOB,
    size            INTEGER,
    stored_size     INTEGER,
    error           TEXT,
    created_by      INTEGER NOT NULL REFERENCES staff (id),
    created_at      INTEGER NOT NULL,
    ready_at        INTEGER,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    revoked_by      INTEGER REFERENCES staff (id)
);
CREATE INDEX claim_packs_claim ON claim_packs (claim_id, id);
CREATE INDEX claim_packs_customer ON claim_packs (customer_id);
CREATE INDEX claim_packs_expiry ON claim_packs (expires_at);
