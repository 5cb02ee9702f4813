-- A canary of the master key, written at the first start: a keyed hash of
-- a fixed text, which only the same master key reproduces. A server started
-- with another key (or with a new one generated because the key file went
-- missing) would treat every customer as unreadable and make a duplicate of
-- every returning customer; it refuses to start instead.
CREATE TABLE installation (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    key_canary BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
