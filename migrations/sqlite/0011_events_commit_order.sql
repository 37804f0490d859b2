-- PostgreSQL records the writing transaction of each event (events.tx_id) so the segment
-- index can follow the log in commit order. SQLite has a single writer and hands out ids in
-- commit order, so its index follows the id; the column exists only to keep both schemas
-- alike and is always 0.
ALTER TABLE events ADD COLUMN tx_id INTEGER NOT NULL DEFAULT 0;
