-- Issue #16: a natural key re-sent with a different body is refused (422) instead of being
-- answered as a replay. Each order (by external_id) and each client event (by client_id)
-- keeps the fingerprint of the parsed input it was stored with; '' (rows stored before this
-- migration, and imported orders) means "unknown" and is accepted as a replay.
ALTER TABLE orders ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
