-- Issue #15: one idempotency path. A client's Idempotency-Key re-sent with a different body is
-- refused (422 idempotency_key_reused) instead of being answered with the job or transfer the
-- key first started. Each keeps the fingerprint of the request that started it; '' (rows
-- stored before this migration, and jobs the system enqueues itself) means "unknown" and is
-- accepted as a replay.
ALTER TABLE jobs ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE wecom_transfers ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
