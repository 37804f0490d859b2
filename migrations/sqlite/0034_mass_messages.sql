-- Mass messages to customers (群发, issue #21 item 1).
--
-- A message is saved `scheduled` with the job that prepares it at its send time. Preparing
-- decides every customer of the audience once, in one transaction: a recipient row each
-- (`excluded` with its reason, `holdout`, or `queued` with the guide who sends), one task per
-- sending guide, and one `message_contacts` row per customer sent — the ledger every sender
-- counts for the frequency caps. The send job then creates each guide's WeCom task; the
-- tracking job reads WeCom's results back onto the recipients.

CREATE TABLE messaging_settings (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    daily_cap     INTEGER NOT NULL,
    weekly_cap    INTEGER NOT NULL,
    -- month_days, weekly_7 or daily_1 (the corp's 群发规则 in WeCom).
    receipt_rule  TEXT    NOT NULL,
    -- Customers with this tag receive no marketing message.
    opt_out_tag   INTEGER,
    updated_by    INTEGER,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE mass_messages (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    -- JSON {text, attachments}.
    content        TEXT    NOT NULL,
    -- segment, tags or customers; JSON of the audience.
    audience_kind  TEXT    NOT NULL,
    audience       TEXT    NOT NULL,
    holdout_bp     INTEGER NOT NULL DEFAULT 0,
    -- scheduled, sending, sent or cancelled.
    status         TEXT    NOT NULL,
    send_at        INTEGER NOT NULL,
    -- The store of a store manager's message (their customers only); NULL: the brand.
    store_id       INTEGER,
    created_by     INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    prepared_at    INTEGER,
    sent_at        INTEGER,
    -- When WeCom's results were last read.
    tracked_at     INTEGER,
    job_id         INTEGER
);
CREATE INDEX mass_messages_store ON mass_messages (store_id, id);

CREATE TABLE mass_message_tasks (
    id             INTEGER PRIMARY KEY,
    message_id     INTEGER NOT NULL REFERENCES mass_messages(id),
    staff_id       INTEGER NOT NULL,
    wecom_userid   TEXT    NOT NULL,
    -- Customers of one guide go in chunks of WeCom's per-call limit.
    chunk          INTEGER NOT NULL DEFAULT 0,
    -- pending, sending, created, confirmed or failed.
    state          TEXT    NOT NULL DEFAULT 'pending',
    msgid          TEXT,
    recipients     INTEGER NOT NULL DEFAULT 0,
    attempted_at   INTEGER,
    confirmed_at   INTEGER,
    -- JSON array of the reminder times (UTC millis) of the last 24 hours and before.
    reminders      TEXT    NOT NULL DEFAULT '[]',
    last_error     TEXT    NOT NULL DEFAULT '',
    updated_at     INTEGER NOT NULL,
    UNIQUE (message_id, staff_id, chunk)
);

CREATE TABLE mass_message_recipients (
    message_id       INTEGER NOT NULL REFERENCES mass_messages(id),
    customer_id      INTEGER NOT NULL,
    -- excluded, holdout, queued, task_created, delivered or failed.
    state            TEXT    NOT NULL,
    -- Why excluded or failed.
    reason           TEXT    NOT NULL DEFAULT '',
    staff_id         INTEGER,
    task_id          INTEGER,
    external_userid  TEXT,
    delivered_at     INTEGER,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (message_id, customer_id)
);
CREATE INDEX mass_message_recipients_task ON mass_message_recipients (task_id);

-- Marketing messages sent to each customer, by any sender (mass messages; journeys later):
-- what the frequency caps and WeCom's receipt cap count.
CREATE TABLE message_contacts (
    customer_id  INTEGER NOT NULL,
    -- mass_message:{id}, …
    source       TEXT    NOT NULL,
    -- Whether it went through WeCom's mass sending (counts for WeCom's receipt cap).
    wecom_mass   BOOLEAN NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (customer_id, source)
);
CREATE INDEX message_contacts_at ON message_contacts (customer_id, at);
