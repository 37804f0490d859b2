-- WeCom callback inbox: every verified, decrypted callback is stored before it is acknowledged,
-- then processed by a job. The dedup key covers the whole payload (see yutang-wecom's
-- `CallbackEvent::dedup_key`), so retries and late duplicates change nothing while two real
-- events that share a second are both kept.

CREATE TABLE wecom_inbox (
    id            INTEGER PRIMARY KEY,
    dedup_key     TEXT    NOT NULL UNIQUE,
    corp_id       TEXT    NOT NULL,
    event         TEXT    NOT NULL DEFAULT '',
    change_type   TEXT    NOT NULL DEFAULT '',
    payload       TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    processed_at  INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX wecom_inbox_pending ON wecom_inbox(processed_at, id);
CREATE INDEX wecom_inbox_received ON wecom_inbox(received_at);
