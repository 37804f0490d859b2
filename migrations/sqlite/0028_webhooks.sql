-- Outbound webhooks (issue #24 item 6): integrations subscribe to event kinds of the event
-- log and receive each event as an HMAC-signed POST, at least once, with a unique event id
-- to dedupe by.
--
-- A follower reads the event log in commit order (the segment index's feed: a snapshot
-- position on PostgreSQL, an id on SQLite) and fans each event out into one delivery row per
-- matching subscription; `UNIQUE (subscription_id, event_ref)` makes a re-read harmless.
-- Senders claim due deliveries by pushing `next_attempt_at` past a lease, so a sender killed
-- mid-POST leaves its deliveries due again when the lease runs out.

CREATE TABLE webhook_subscriptions (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT    NOT NULL,
    url                   TEXT    NOT NULL,
    -- JSON array of event kinds; ["*"] for every kind.
    kinds                 TEXT    NOT NULL,
    -- The signing secret, sealed by the secret box (field webhook_secret).
    secret_sealed         TEXT    NOT NULL,
    -- active or paused (by an admin, or automatically after repeated failures).
    status                TEXT    NOT NULL DEFAULT 'active',
    paused_reason         TEXT    NOT NULL DEFAULT '',
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    created_by            INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    archived_at           INTEGER
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    subscription_id  INTEGER NOT NULL REFERENCES webhook_subscriptions(id),
    -- The id receivers dedupe by: evt_{events.id}, or ping_{n} for a test delivery.
    event_ref        TEXT    NOT NULL,
    event_kind       TEXT    NOT NULL,
    -- The JSON body sent, fixed at fan-out so every attempt sends the same bytes.
    payload          TEXT    NOT NULL,
    -- pending, delivered, failed (gave up after the last attempt).
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due; while an attempt runs, the end of its lease.
    next_attempt_at  INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       TEXT    NOT NULL DEFAULT '',
    last_attempt_at  INTEGER,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (subscription_id, event_ref)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, id);

-- The follower's position in the event log: one row. `from_mark` is the position everything
-- before has been fanned out from; while a long stretch is read page by page, `to_mark` is the
-- end of that stretch and `after_id` the last event id read from it.
CREATE TABLE webhook_feed (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    from_mark  TEXT    NOT NULL,
    to_mark    TEXT,
    after_id   INTEGER NOT NULL DEFAULT 0
);
-- Start at the end of the log: a subscription receives events from its creation on.
INSERT INTO webhook_feed (id, from_mark) VALUES (1, CAST((SELECT COALESCE(MAX(id), 0) FROM events) AS TEXT));
