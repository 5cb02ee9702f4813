-- Every courier report sets its parcel's news_at, so an index holding
-- news_at was rewritten on every webhook: a page written (and on
-- PostgreSQL, no update of a consignment could stay on its page). The poll
-- for parcels gone quiet, its only reader, runs every few minutes and reads
-- the booked ones by state and sorts them by news_at.
DROP INDEX consignments_news;
CREATE INDEX consignments_state ON consignments (state);
