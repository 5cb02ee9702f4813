-- Refunds: of decided claims (one per claim), through the gateway the order
-- was paid with (bKash, SSLCommerz), or by hand for cash on delivery,
-- recorded by staff with the wallet's transaction id (never the wallet's
-- number); and of held payments staff send back (one per payment, no
-- claim). `state` moves by compare-and-set, so a refund is asked of its
-- gateway once however many servers run the job.
CREATE TABLE refunds (
    id              INTEGER PRIMARY KEY,
    claim_id        INTEGER UNIQUE REFERENCES claims (id),
    order_id        INTEGER NOT NULL REFERENCES orders (id),
    -- The online payment refunded (none for a manual refund).
    payment_id      INTEGER REFERENCES payments (id),
    method          TEXT NOT NULL CHECK (method IN ('sslcommerz', 'bkash', 'manual')),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'processing', 'refunded', 'refused', 'awaiting_manual')),
    -- The gateway's reference (bKash refundTrxID, SSLCommerz refund_ref_id).
    gateway_ref     TEXT,
    -- The gateway's own word for the state, and its reason for a refusal.
    gateway_status  TEXT,
    message         TEXT,
    -- A refund paid by hand: through which wallet, its transaction id, who.
    wallet          TEXT CHECK (wallet IN ('bkash', 'nagad', 'rocket', 'upay', 'bank')),
    wallet_trx_id   TEXT,
    recorded_by     INTEGER REFERENCES staff (id),
    requested_at    INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    -- A claim's refund, or a held payment sent back.
    CHECK (claim_id IS NOT NULL OR payment_id IS NOT NULL)
);
CREATE INDEX refunds_state ON refunds (state, updated_at);
-- A held payment is sent back once.
CREATE UNIQUE INDEX refunds_held_payment ON refunds (payment_id) WHERE claim_id IS NULL;
CREATE INDEX refunds_payment ON refunds (payment_id);
CREATE INDEX refunds_order ON refunds (order_id);
-- When staff chose to send a held payment back: it is then neither held
-- for a decision nor acceptable.
ALTER TABLE payments ADD COLUMN refund_opened_at INTEGER;
