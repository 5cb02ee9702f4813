-- PostgreSQL twin of the SQLite set.
-- Each visitor's cookie choice as it was made: which optional cookies were
-- allowed, under which policy version and wording. The choice's id is kept
-- in the visitor's strictly necessary `cm_cookies` cookie.
CREATE TABLE cookie_choices (
    id             TEXT PRIMARY KEY,
    customer_id    BIGINT REFERENCES customers (id),
    functional     BIGINT NOT NULL CHECK (functional IN (0, 1)),
    analytics      BIGINT NOT NULL CHECK (analytics IN (0, 1)),
    policy_version BIGINT NOT NULL,
    at             BIGINT NOT NULL
);
CREATE INDEX cookie_choices_customer ON cookie_choices (customer_id);
CREATE INDEX cookie_choices_at ON cookie_choices (at);
