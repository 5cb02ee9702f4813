-- Online payment attempts (SSLCommerz, bKash). One row per attempt: an
-- order may be tried again after a failed or cancelled one. Only what the
-- policy allows is kept: the gateway, our transaction id, the gateway's
-- ids, amount, currency, status, risk level and times; never card or
-- wallet data (see chotomoni_gateway::Kept). `status` leaves `started`
-- once, by a compare-and-set, so a payment completes once whether the
-- IPN, the customer's return or the background query comes first.
CREATE TABLE payments (
    id                     INTEGER PRIMARY KEY,
    -- Ours, sent to the gateway (SSLCommerz tran_id, bKash merchantInvoiceNumber).
    tran_id                TEXT NOT NULL UNIQUE,
    order_id               INTEGER NOT NULL REFERENCES orders (id),
    gateway                TEXT NOT NULL CHECK (gateway IN ('sslcommerz', 'bkash')),
    -- The gateway's id for the session: SSLCommerz sessionkey, bKash paymentID.
    session_ref            TEXT,
    -- SSLCommerz val_id; bKash paymentID.
    gateway_payment_id     TEXT,
    -- SSLCommerz bank_tran_id (refunds need it); bKash trxID.
    gateway_transaction_id TEXT,
    -- Poisha: what we asked for, and what the gateway said was paid.
    amount                 INTEGER NOT NULL CHECK (amount > 0),
    paid_amount            INTEGER,
    currency               TEXT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('started', 'paid', 'failed', 'cancelled', 'held')),
    hold_reason            TEXT,
    risk_level             INTEGER,
    -- The gateway's own word for the status, for staff.
    gateway_status         TEXT,
    started_at             INTEGER NOT NULL,
    -- Last time the gateway (or the customer's return) said anything.
    news_at                INTEGER NOT NULL,
    finished_at            INTEGER,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX payments_order ON payments (order_id, id);
CREATE INDEX payments_news ON payments (status, news_at);
