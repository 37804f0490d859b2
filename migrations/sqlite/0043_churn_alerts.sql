-- Churn alerts (流失提醒, issue #23 item 4): a customer deleted their guide (`del_follow_user`,
-- kind customer_deleted: the guide and the store's managers are told) or a guide deleted a
-- customer (`del_external_contact`, kind guide_deleted: the store's managers are told). Written
-- in the WeCom callback's own transaction, once per callback (the source key), with the
-- customer's value at that moment; a store manager or the guide marks it handled, with a note.

CREATE TABLE churn_alerts (
    id            INTEGER PRIMARY KEY,
    -- customer_deleted or guide_deleted.
    kind          TEXT    NOT NULL,
    customer_id   INTEGER NOT NULL,
    -- The guide (or store manager) of the follow that ended.
    staff_id      INTEGER NOT NULL REFERENCES staff(id),
    -- The guide's store when it happened (a store manager sees their store's alerts).
    store_id      INTEGER,
    -- When WeCom says it happened (UTC epoch ms).
    occurred_at   INTEGER NOT NULL,
    -- The customer's value then: orders not fully refunded, net spend in fen, tier.
    orders        INTEGER NOT NULL DEFAULT 0,
    spend_fen     INTEGER NOT NULL DEFAULT 0,
    tier_id       INTEGER,
    tier_name     TEXT,
    -- What made it, e.g. wecom:{the callback's dedup key}: a replay adds nothing.
    source_key    TEXT    NOT NULL UNIQUE,
    -- open or handled; only an open alert changes (a guarded update).
    status        TEXT    NOT NULL DEFAULT 'open',
    handled_by    INTEGER,
    handled_at    INTEGER,
    note          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX churn_alerts_store ON churn_alerts (store_id, status, id);
CREATE INDEX churn_alerts_staff ON churn_alerts (staff_id, status, id);
CREATE INDEX churn_alerts_status ON churn_alerts (status, id);
CREATE INDEX churn_alerts_occurred ON churn_alerts (occurred_at);
CREATE INDEX churn_alerts_customer ON churn_alerts (customer_id);
