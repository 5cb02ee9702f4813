-- What couriers paid the shop of the cash they collected on delivery, as
-- staff record it from the courier's statement: the cash still owed is
-- what was collected, less delivery charges, less these.
CREATE TABLE courier_payouts (
    id          INTEGER PRIMARY KEY,
    courier     TEXT NOT NULL CHECK (courier IN ('steadfast', 'pathao', 'redx')),
    -- Poisha.
    amount      INTEGER NOT NULL CHECK (amount > 0),
    -- The courier's reference for the payment (its invoice or transfer id).
    reference   TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES staff (id),
    at          INTEGER NOT NULL
);
CREATE INDEX courier_payouts_courier ON courier_payouts (courier, at);
