-- Courier reports received and not yet applied. A webhook is answered as
-- soon as its report is here (committed: a crash cannot lose it); the
-- server's report writer then applies them in order, a few dozen per
-- transaction, moving parcels and orders and recording each in
-- courier_events with what it did, and deletes them here in the same
-- transaction. Applying is several rows' work where receiving is one
-- appended row, so a burst of webhooks is answered at the speed of the
-- second and applied at the speed of the first. No personal data: what the
-- courier said about a parcel, by its consignment id.
CREATE TABLE courier_inbox (
    id             INTEGER PRIMARY KEY,
    courier        TEXT NOT NULL CHECK (courier IN ('steadfast', 'pathao', 'redx')),
    consignment_id TEXT NOT NULL,
    parcel_status  TEXT NOT NULL CHECK (parcel_status IN ('booked', 'with_courier', 'delivered',
                       'partly_delivered', 'on_hold', 'returned', 'cancelled', 'unknown')),
    courier_status TEXT NOT NULL,
    -- Poisha.
    collected      INTEGER,
    delivery_fee   INTEGER,
    courier_at     TEXT,
    source         TEXT NOT NULL CHECK (source IN ('webhook', 'poll')),
    received_at    INTEGER NOT NULL
);
