-- Security review (issue 10): an order placed without signing in must not
-- reveal or change the customer record its phone number leads to, and only
-- contact details the person proved they control identify them in a
-- privacy request.

-- When the person proved they control the phone (a one-time code: account
-- registration or the public privacy form) or the email (a code sent to
-- it). NULL: typed at a checkout or by staff, never proven; such contact
-- data can deliver an order but never identifies someone.
ALTER TABLE customers ADD COLUMN phone_verified_at BIGINT;
ALTER TABLE customers ADD COLUMN email_verified_at BIGINT;

-- A guest order (placed without signing in) is linked to the customer
-- record of its phone, but joins that customer's history only once a code
-- sent to the phone confirms it (registration). Until then it is
-- `unconfirmed`, and a marketing opt-in ticked at its checkout waits here
-- instead of entering the customer's consent ledger.
ALTER TABLE orders ADD COLUMN unconfirmed BIGINT NOT NULL DEFAULT 0 CHECK (unconfirmed IN (0, 1));
ALTER TABLE orders ADD COLUMN marketing_opt_in BIGINT NOT NULL DEFAULT 0 CHECK (marketing_opt_in IN (0, 1));
CREATE INDEX orders_unconfirmed ON orders (customer_id) WHERE unconfirmed = 1;

-- Status links are stored as a SHA-256 hash, like session tokens, and stop
-- working 30 days after the request ends. Links made before this change
-- were stored in clear: they are revoked (the requester can still follow
-- the request from their account, or ask support).
ALTER TABLE privacy_requests RENAME COLUMN status_token TO status_token_hash;
UPDATE privacy_requests SET status_token_hash = 'revoked-' || CAST(id AS TEXT);
ALTER TABLE privacy_requests ADD COLUMN status_expires_at BIGINT;

-- Who asked for an access export (`customer:9`, `staff:3`): downloads by
-- its link are attributed to them.
ALTER TABLE exports ADD COLUMN requested_by TEXT NOT NULL DEFAULT 'system';
