-- The segment index follows the event log. Identity ids are handed out when a row is inserted,
-- not when its transaction commits, so with concurrent writers a smaller id can become visible
-- after a larger one has been read: an id watermark skips it. Each event therefore records the
-- transaction that wrote it; the index's change feed compares it with snapshots
-- (pg_current_snapshot / pg_visible_in_snapshot), which is commit-ordered and gap-free.
--
-- Rows already stored get transaction id 1 (always visible: older than every snapshot); the
-- constant default adds the column without rewriting the table, then new rows take the
-- inserting transaction's id. Every insert (the UNNEST batch, COPY, single rows) names its
-- columns and leaves tx_id to this default.
ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT '1'::xid8;
ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT pg_current_xact_id();
CREATE INDEX events_tx_id ON events (tx_id);
