-- Parcels booked with couriers. One row per order: a booking that failed
-- is tried again in place, so an order never holds two consignments.
-- `state` says where booking stands; `parcel_status` where the parcel is
-- (only ever moved forward, see `chotomoni_domain::consignment::judge`).
CREATE TABLE consignments (
    order_id           INTEGER PRIMARY KEY REFERENCES orders (id),
    courier            TEXT NOT NULL CHECK (courier IN ('steadfast', 'pathao', 'redx')),
    state              TEXT NOT NULL CHECK (state IN ('booking', 'booked', 'failed', 'cancelled')),
    consignment_id     TEXT,
    tracking_code      TEXT,
    -- Poisha.
    delivery_fee       INTEGER,
    cash_to_collect    INTEGER NOT NULL CHECK (cash_to_collect >= 0),
    collected          INTEGER,
    parcel_status      TEXT CHECK (parcel_status IN ('booked', 'with_courier', 'delivered',
                           'partly_delivered', 'on_hold', 'returned', 'cancelled', 'unknown')),
    -- The courier's own word for the status, for staff.
    courier_status     TEXT,
    -- The courier's message when it refused the booking (it may repeat
    -- what was sent, so erasure empties it).
    error              TEXT,
    attempts           INTEGER NOT NULL CHECK (attempts >= 1),
    booked_by          INTEGER REFERENCES staff (id),
    booking_started_at INTEGER NOT NULL,
    booked_at          INTEGER,
    -- Last time the courier said anything about it (webhook or asked).
    news_at            INTEGER,
    updated_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX consignments_courier_id ON consignments (courier, consignment_id);
CREATE INDEX consignments_news ON consignments (state, news_at);

-- What couriers said, kept for the record and for staff: every status
-- report, whether it moved a parcel, was a duplicate, came late, or named
-- a consignment we do not know.
CREATE TABLE courier_events (
    id             INTEGER PRIMARY KEY,
    courier        TEXT NOT NULL CHECK (courier IN ('steadfast', 'pathao', 'redx')),
    consignment_id TEXT NOT NULL,
    order_id       INTEGER REFERENCES orders (id),
    parcel_status  TEXT NOT NULL CHECK (parcel_status IN ('booked', 'with_courier', 'delivered',
                       'partly_delivered', 'on_hold', 'returned', 'cancelled', 'unknown')),
    courier_status TEXT NOT NULL,
    collected      INTEGER,
    delivery_fee   INTEGER,
    courier_at     TEXT,
    source         TEXT NOT NULL CHECK (source IN ('webhook', 'poll')),
    outcome        TEXT NOT NULL CHECK (outcome IN ('applied', 'duplicate', 'stale', 'noted',
                       'unknown_consignment')),
    received_at    INTEGER NOT NULL,
    -- When staff looked at an event that needed them.
    seen_at        INTEGER
);
CREATE INDEX courier_events_order ON courier_events (order_id, id);
CREATE INDEX courier_events_outcome ON courier_events (outcome, seen_at);

-- The language the customer ordered in: their parcel's messages use it.
ALTER TABLE orders ADD COLUMN lang TEXT NOT NULL DEFAULT 'bn' CHECK (lang IN ('en', 'bn'));
