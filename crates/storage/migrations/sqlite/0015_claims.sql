-- Claims: something was wrong, missing or damaged, and the shop settles it
-- with the proof it recorded. One claim per order may be open at a time.
-- The customer's own words are sealed under their key; the decision's
-- reason is the shop's words to them, emptied on erasure with the
-- marketplace's reference, while the rest stays as the legal record of a
-- refund, under the erased person's stand-in.
CREATE TABLE claims (
    id                    INTEGER PRIMARY KEY,
    order_id              INTEGER NOT NULL REFERENCES orders (id),
    customer_id           INTEGER NOT NULL REFERENCES customers (id),
    kind                  TEXT NOT NULL CHECK (kind IN ('damaged', 'wrong_item', 'missing_item', 'not_received', 'other')),
    raised_by             TEXT NOT NULL CHECK (raised_by IN ('customer', 'support', 'marketplace', 'courier')),
    reference             TEXT,
    description_enc       BLOB,
    lang                  TEXT NOT NULL CHECK (lang IN ('en', 'bn')),
    status                TEXT NOT NULL CHECK (status IN ('open', 'in_review', 'decided')),
    filed_by              TEXT NOT NULL,
    filed_at              INTEGER NOT NULL,
    first_response_due_at INTEGER NOT NULL,
    decision_due_at       INTEGER NOT NULL,
    first_response_at     INTEGER,
    decision              TEXT CHECK (decision IN ('full_refund', 'partial_refund', 'replacement', 'return_pickup', 'rejected')),
    refund_amount         INTEGER,
    reason                TEXT,
    replacement_order_id  INTEGER REFERENCES orders (id),
    decided_by            INTEGER REFERENCES staff (id),
    decided_at            INTEGER,
    hold_id               INTEGER NOT NULL REFERENCES legal_holds (id)
);
CREATE UNIQUE INDEX claims_one_open ON claims (order_id) WHERE status <> 'decided';
CREATE INDEX claims_queue ON claims (status, decision_due_at);
CREATE INDEX claims_customer ON claims (customer_id, id);

-- Which of the order's lines the claim is about, and how many of each.
CREATE TABLE claim_items (
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    line_no  INTEGER NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (claim_id, line_no)
);

-- Evidence is a proof of kind `claim`, tied to its claim.
ALTER TABLE uploads ADD COLUMN claim_id INTEGER REFERENCES claims (id);
ALTER TABLE proofs ADD COLUMN claim_id INTEGER REFERENCES claims (id);
CREATE INDEX proofs_claim ON proofs (claim_id);
