-- WeCom customer groups (客户群) and their members, kept in line with `groupchat/get` by the
-- `change_external_chat` callbacks and the full sync. A member who leaves keeps its row with
-- state 'left', so a re-join is a new join (new join_time) and history stays readable.

CREATE TABLE customer_groups (
    id              INTEGER PRIMARY KEY,
    chat_id         TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL DEFAULT '',
    -- The owner's WeCom userid, and the staff member linked to it (if any).
    owner_userid    TEXT    NOT NULL DEFAULT '',
    owner_staff_id  INTEGER REFERENCES staff(id),
    notice          TEXT    NOT NULL DEFAULT '',
    -- WeCom's create_time, in epoch milliseconds.
    created_at      INTEGER NOT NULL,
    dismissed_at    INTEGER,
    member_version  TEXT    NOT NULL DEFAULT '',
    synced_at       INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX customer_groups_owner ON customer_groups(owner_staff_id);

CREATE TABLE group_members (
    id              INTEGER PRIMARY KEY,
    group_id        INTEGER NOT NULL REFERENCES customer_groups(id),
    -- 'customer' (external contact, WeCom type 2) or 'staff' (WeCom type 1).
    member_type     TEXT    NOT NULL,
    -- The external userid or the staff userid.
    userid          TEXT    NOT NULL,
    customer_id     INTEGER REFERENCES customers(id),
    staff_id        INTEGER REFERENCES staff(id),
    -- Epoch milliseconds; 1 invited directly, 2 by link, 3 scanned the group QR code.
    join_time       INTEGER NOT NULL,
    join_scene      INTEGER NOT NULL DEFAULT 0,
    invitor_userid  TEXT    NOT NULL DEFAULT '',
    -- 'joined' or 'left'.
    state           TEXT    NOT NULL DEFAULT 'joined',
    left_at         INTEGER,
    updated_at      INTEGER NOT NULL,
    -- Whether this membership's join_group / leave_group event is on the customer's timeline
    -- (an outbox: rows are written first, events after, flags last; a pass that died between
    -- them is finished by the next one).
    join_logged     INTEGER NOT NULL DEFAULT 0,
    leave_logged    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, userid)
);
CREATE INDEX group_members_customer ON group_members(customer_id, state);

-- Where a `wecom_full_sync` job stands (phase, cursors, counts as JSON), written after every
-- page so a restarted or retried job continues from there instead of starting over.
CREATE TABLE wecom_sync_checkpoints (
    job_id      INTEGER PRIMARY KEY REFERENCES jobs(id),
    state       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- WeCom connection settings entered in the console (one row). Secrets are sealed with the
-- deployment's secret key (AES-256-GCM, see docs/decisions/0008-secrets-at-rest.md), never
-- stored in clear; settings from the configuration file or YUTANG_WECOM_* variables win.
CREATE TABLE wecom_settings (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    corp_id           TEXT    NOT NULL DEFAULT '',
    api_base          TEXT    NOT NULL DEFAULT '',
    contact_secret    TEXT,
    callback_token    TEXT,
    encoding_aes_key  TEXT,
    -- Sealed JSON: [{"agent_id": "1000002", "secret": "…"}].
    app_secrets       TEXT,
    updated_at        INTEGER NOT NULL,
    updated_by        TEXT    NOT NULL DEFAULT ''
);

-- Staff transfers (在职继承 / 离职继承): one row per operator request, one per customer and per
-- group it moves. A customer row goes pending → sending (the API call is under way) →
-- waiting (WeCom accepted; takeover after 24 h) → success | failed (errcode / reason).
CREATE TABLE wecom_transfers (
    id                 INTEGER PRIMARY KEY,
    -- 'in_service' (transfer_customer) or 'resigned' (resigned/transfer_customer).
    kind               TEXT    NOT NULL,
    handover_staff_id  INTEGER NOT NULL REFERENCES staff(id),
    takeover_staff_id  INTEGER NOT NULL REFERENCES staff(id),
    handover_userid    TEXT    NOT NULL,
    takeover_userid    TEXT    NOT NULL,
    message            TEXT    NOT NULL DEFAULT '',
    -- 'running' until every customer and group is final, then 'done'.
    status             TEXT    NOT NULL DEFAULT 'running',
    idempotency_key    TEXT UNIQUE,
    created_by         TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE wecom_transfer_customers (
    id               INTEGER PRIMARY KEY,
    transfer_id      INTEGER NOT NULL REFERENCES wecom_transfers(id),
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    external_userid  TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    errcode          INTEGER NOT NULL DEFAULT 0,
    reason           TEXT    NOT NULL DEFAULT '',
    takeover_time    INTEGER,
    updated_at       INTEGER NOT NULL,
    UNIQUE (transfer_id, external_userid)
);
CREATE INDEX wecom_transfer_customers_ext ON wecom_transfer_customers(external_userid, status);

CREATE TABLE wecom_transfer_groups (
    id           INTEGER PRIMARY KEY,
    transfer_id  INTEGER NOT NULL REFERENCES wecom_transfers(id),
    chat_id      TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending',
    errcode      INTEGER NOT NULL DEFAULT 0,
    reason       TEXT    NOT NULL DEFAULT '',
    updated_at   INTEGER NOT NULL,
    UNIQUE (transfer_id, chat_id)
);
