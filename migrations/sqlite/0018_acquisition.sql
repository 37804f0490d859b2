-- Acquisition (引流, issue #19): channels, their live codes (WeCom contact ways whose guides
-- Yutang rotates), who brought each customer (first touch, fixed), every add through a channel
-- (for statistics and last-touch attribution of orders), the welcome sent per add, and the
-- first-add reward, once per customer ever.

CREATE TABLE channels (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL,
    -- store_stand, package_card, official_account, live_stream, ad, event, other.
    kind            TEXT    NOT NULL,
    owner_staff_id  INTEGER  REFERENCES staff(id),
    store_id        INTEGER  REFERENCES stores(id),
    region_id       INTEGER  REFERENCES regions(id),
    -- The whole ChannelSpec as JSON (dates, tags, welcome, reward).
    spec            TEXT    NOT NULL,
    archived_at     INTEGER,
    created_by      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL
);
CREATE INDEX channels_store ON channels(store_id);

CREATE TABLE live_codes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER  NOT NULL REFERENCES channels(id),
    name            TEXT    NOT NULL,
    -- The contact way's state (<= 30 characters): WeCom sends it back on every add.
    state           TEXT    NOT NULL UNIQUE,
    -- The whole LiveCodeSpec as JSON (guides, caps, weights, schedule, backup, spread).
    spec            TEXT    NOT NULL,
    -- WeCom's contact way, once created; '' until then.
    config_id       TEXT    NOT NULL DEFAULT '',
    qr_url          TEXT    NOT NULL DEFAULT '',
    -- The staff ids behind the contact way in WeCom now (JSON array), as last applied.
    users           TEXT    NOT NULL DEFAULT '[]',
    -- 'pending' (WeCom not yet told), 'synced', 'failed' (sync_error says why).
    sync_status     TEXT    NOT NULL DEFAULT 'pending',
    sync_error      TEXT    NOT NULL DEFAULT '',
    synced_at       INTEGER,
    -- Re-pointing: every add or edit bumps sync_wanted; a refresher holding the lease applies
    -- the rotation and records the value it saw in sync_done, and gives the lease back only
    -- when nothing was bumped meanwhile (so no add is left unconsidered).
    sync_wanted     INTEGER  NOT NULL DEFAULT 1,
    sync_done       INTEGER  NOT NULL DEFAULT 0,
    sync_lease_until INTEGER,
    archived_at     INTEGER,
    created_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL
);
CREATE INDEX live_codes_channel ON live_codes(channel_id);

-- Adds through a code per guide per Shanghai day: the caps read these, so nothing resets them.
CREATE TABLE live_code_adds (
    code_id     INTEGER NOT NULL REFERENCES live_codes(id),
    staff_id    INTEGER NOT NULL REFERENCES staff(id),
    day         TEXT   NOT NULL,
    adds        INTEGER NOT NULL,
    PRIMARY KEY (code_id, day, staff_id)
);

-- Every change of the guides behind a code, with why (JSON of the guides left out).
CREATE TABLE live_code_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code_id     INTEGER  NOT NULL REFERENCES live_codes(id),
    at          INTEGER  NOT NULL,
    users       TEXT    NOT NULL,
    reasons     TEXT    NOT NULL,
    on_backup   INTEGER NOT NULL DEFAULT 0,
    exhausted   INTEGER NOT NULL DEFAULT 0,
    ok          INTEGER NOT NULL,
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX live_code_changes_code ON live_code_changes(code_id, id);

-- Every add of a WeCom contact, with the channel it came through (NULL: unknown, `state`
-- says what WeCom sent). Keyed by the callback, so a replay adds nothing.
CREATE TABLE channel_adds (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key     TEXT    NOT NULL UNIQUE,
    customer_id   INTEGER  NOT NULL REFERENCES customers(id),
    channel_id    INTEGER  REFERENCES channels(id),
    code_id       INTEGER  REFERENCES live_codes(id),
    state         TEXT    NOT NULL DEFAULT '',
    staff_id      INTEGER  REFERENCES staff(id),
    added_at      INTEGER  NOT NULL,
    -- Whether this add brought the customer into the pool (their first touch).
    first_touch   INTEGER NOT NULL,
    -- When the pair was deleted again (either side), for net adds.
    deleted_at    INTEGER
);
CREATE INDEX channel_adds_channel ON channel_adds(channel_id, added_at);
CREATE INDEX channel_adds_customer ON channel_adds(customer_id, added_at);
CREATE INDEX channel_adds_staff ON channel_adds(staff_id, added_at);

-- First touch: what brought the customer into the pool. Written once, never changed.
CREATE TABLE customer_acquisition (
    customer_id   INTEGER  PRIMARY KEY REFERENCES customers(id),
    channel_id    INTEGER  REFERENCES channels(id),
    code_id       INTEGER  REFERENCES live_codes(id),
    state         TEXT    NOT NULL DEFAULT '',
    staff_id      INTEGER  REFERENCES staff(id),
    acquired_at   INTEGER  NOT NULL
);
CREATE INDEX customer_acquisition_channel ON customer_acquisition(channel_id, acquired_at);

-- The welcome of one add: at most one row per welcome code, so it is never sent twice.
CREATE TABLE welcome_sends (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    welcome_code  TEXT    NOT NULL UNIQUE,
    add_id        INTEGER  NOT NULL REFERENCES channel_adds(id),
    -- WeCom's window closes here (the add event's time + the window).
    deadline      INTEGER  NOT NULL,
    -- pending, sent, expired, already_sent, failed.
    status        TEXT    NOT NULL DEFAULT 'pending',
    attempts      INTEGER  NOT NULL DEFAULT 0,
    error         TEXT    NOT NULL DEFAULT '',
    text          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER  NOT NULL,
    finished_at   INTEGER
);

-- The first-add reward: one row per customer ever, so a re-add or a second guide gets nothing.
CREATE TABLE acquisition_rewards (
    customer_id   INTEGER  PRIMARY KEY REFERENCES customers(id),
    channel_id    INTEGER  NOT NULL REFERENCES channels(id),
    template_id   INTEGER  NOT NULL REFERENCES coupon_templates(id),
    -- pending, issued, refused (the template could not issue: error says why).
    status        TEXT    NOT NULL DEFAULT 'pending',
    claim_id      INTEGER,
    error         TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER  NOT NULL,
    finished_at   INTEGER
);
CREATE INDEX acquisition_rewards_channel ON acquisition_rewards(channel_id, status);

-- Orders: the channel of the customer's last touch within the attribution window.
ALTER TABLE orders ADD COLUMN touch_channel_id INTEGER REFERENCES channels(id);
CREATE INDEX orders_touch_channel ON orders(touch_channel_id, paid_at);
