-- Group live codes (群活码, issue #20 item 1): one WeCom join way (groupchat/add_join_way,
-- page 99547) per code, listing at most five of the code's groups; Yutang re-lists them as
-- they fill (the plan in yutang_core::group_codes) under a per-code lease, like live codes.
-- Joins through a code are recognised by the join way's state, which groupchat/get returns
-- on each member who joined through it, and are recorded once each (attributed to the
-- code's channel).

CREATE TABLE group_codes (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    channel_id      INTEGER REFERENCES channels(id),
    store_id        INTEGER REFERENCES stores(id),
    -- The join way's state (<= 30 characters), made up by Yutang.
    state           TEXT    NOT NULL UNIQUE,
    -- The whole GroupCodeSpec as JSON.
    spec            TEXT    NOT NULL,
    config_id       TEXT    NOT NULL DEFAULT '',
    qr_url          TEXT    NOT NULL DEFAULT '',
    -- The chat ids the join way lists in WeCom now (JSON array), as last applied.
    listed          TEXT    NOT NULL DEFAULT '[]',
    -- open, overflow or full (see yutang_core::group_codes::Fill), as last planned.
    fill            TEXT    NOT NULL DEFAULT 'open',
    sync_status     TEXT    NOT NULL DEFAULT 'pending',
    sync_error      TEXT    NOT NULL DEFAULT '',
    synced_at       INTEGER,
    sync_wanted     INTEGER NOT NULL DEFAULT 1,
    sync_done       INTEGER NOT NULL DEFAULT 0,
    sync_lease_until INTEGER,
    -- The QR image as Yutang keeps it (WeCom's image, downloaded after a sync; the console
    -- may only show images Yutang serves): the bytes, the qr_url they were made from, and
    -- why the last download failed.
    qr_image        BLOB,
    qr_image_type   TEXT    NOT NULL DEFAULT '',
    qr_image_url    TEXT    NOT NULL DEFAULT '',
    qr_image_error  TEXT    NOT NULL DEFAULT '',
    archived_at     INTEGER,
    created_by      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX group_codes_store ON group_codes(store_id);

-- The groups of a code in the order they fill: the operator's (positions 0-4) and then the
-- groups WeCom opened for it (auto_created, positions from 1000 in the order they appeared).
CREATE TABLE group_code_groups (
    code_id         INTEGER NOT NULL REFERENCES group_codes(id),
    group_id        INTEGER NOT NULL REFERENCES customer_groups(id),
    position        INTEGER NOT NULL,
    auto_created    INTEGER NOT NULL DEFAULT 0,
    added_at        INTEGER NOT NULL,
    PRIMARY KEY (code_id, group_id)
);
CREATE INDEX group_code_groups_group ON group_code_groups(group_id);

-- One row per join through a code: a member (external contact) who joined a group with the
-- code's state. Keyed by the membership (group, userid, join time), so a replayed callback
-- or a full sync never counts a join twice; a member who leaves and comes back is a new join.
CREATE TABLE group_code_joins (
    id              INTEGER PRIMARY KEY,
    code_id         INTEGER NOT NULL REFERENCES group_codes(id),
    channel_id      INTEGER REFERENCES channels(id),
    group_id        INTEGER NOT NULL REFERENCES customer_groups(id),
    userid          TEXT    NOT NULL,
    customer_id     INTEGER REFERENCES customers(id),
    joined_at       INTEGER NOT NULL,
    -- The Shanghai day of joined_at, YYYY-MM-DD.
    day             TEXT    NOT NULL,
    UNIQUE (group_id, userid, joined_at)
);
CREATE INDEX group_code_joins_code ON group_code_joins(code_id, day);
