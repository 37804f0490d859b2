-- Scheduled reports (issue #24 item 5): a daily or weekly summary of the dashboard's figures,
-- sent to chosen staff as a WeCom app message.
--
-- A minute tick inserts ONE delivery per (schedule, period) — `dedupe_key` is
-- `report:{schedule_id}:{period}` and UNIQUE, so a tick running twice or on two nodes adds
-- nothing — together with the job that sends it, in one transaction (the outbox). The job
-- fixes the text on its first attempt, so every retry sends the same request and WeCom's
-- duplicate check (`enable_duplicate_check`) drops a resend after a crash between the send
-- and the commit.

CREATE TABLE report_schedules (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    -- daily or weekly.
    cadence        TEXT    NOT NULL,
    -- The hour of the day (Asia/Shanghai, 0-23) the report is due at.
    send_hour      INTEGER NOT NULL,
    -- brand, store or guide (the dashboard's scopes).
    level          TEXT    NOT NULL,
    -- The store (store scope), or the guide's store when saved (guide scope).
    store_id       INTEGER,
    -- The guide (guide scope).
    staff_id       INTEGER,
    -- JSON array of staff ids.
    recipient_ids  TEXT    NOT NULL,
    -- zh or en.
    lang           TEXT    NOT NULL DEFAULT 'zh',
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    created_by     INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    -- Deleted schedules stay for their delivery log.
    deleted_at     INTEGER
);
CREATE INDEX report_schedules_store ON report_schedules (store_id);

CREATE TABLE report_deliveries (
    id             INTEGER PRIMARY KEY,
    schedule_id    INTEGER NOT NULL REFERENCES report_schedules(id),
    -- 2026-03-03 or 2026-03-02/2026-03-08.
    period         TEXT    NOT NULL,
    period_from    TEXT    NOT NULL,
    period_to      TEXT    NOT NULL,
    dedupe_key     TEXT    NOT NULL UNIQUE,
    -- pending, sent or failed.
    status         TEXT    NOT NULL DEFAULT 'pending',
    -- The WeCom userids sent to, joined by |, and the text: fixed on the first attempt.
    recipients     TEXT    NOT NULL DEFAULT '',
    content        TEXT    NOT NULL DEFAULT '',
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT    NOT NULL DEFAULT '',
    -- WeCom's answer: the message id and the userids it refused (joined by |).
    msgid          TEXT,
    invalid_users  TEXT    NOT NULL DEFAULT '',
    -- The job that sends it (a send-now of a failed delivery queues another).
    job_id         INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    sent_at        INTEGER
);
CREATE INDEX report_deliveries_log ON report_deliveries (schedule_id, id);
