-- Promotions: coupon templates and coupons, flash sales, group-buys, customer-token secret,
-- idempotency records for public writes, and the message outbox (delivered by messaging).
-- Stock is `sold < stock`, enforced by guarded UPDATEs; per-customer limits are counted in
-- the claim's transaction and backed by UNIQUE (…, customer_id, seq).

CREATE TABLE promo_settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE coupon_templates (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    -- The whole TemplateSpec as JSON (steps, validity, audience, scope …).
    spec          TEXT    NOT NULL,
    stock         INTEGER NOT NULL,
    sold          INTEGER NOT NULL DEFAULT 0,
    per_customer  INTEGER NOT NULL,
    claim_starts  INTEGER NOT NULL,
    claim_ends    INTEGER NOT NULL,
    -- 'active', 'deleted'.
    status        TEXT    NOT NULL DEFAULT 'active',
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK (sold >= 0 AND sold <= stock)
);

-- One row per set claimed or issued: the per-customer backstop.
CREATE TABLE coupon_claims (
    id            INTEGER PRIMARY KEY,
    template_id   INTEGER NOT NULL REFERENCES coupon_templates(id),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    seq           INTEGER NOT NULL,
    -- 'claim' (by the customer), 'issue' (by staff or a segment job).
    source        TEXT    NOT NULL,
    claimed_at    INTEGER NOT NULL,
    UNIQUE (template_id, customer_id, seq)
);

CREATE TABLE coupons (
    id            INTEGER PRIMARY KEY,
    claim_id      INTEGER NOT NULL REFERENCES coupon_claims(id),
    template_id   INTEGER NOT NULL REFERENCES coupon_templates(id),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    step          INTEGER NOT NULL,
    -- 'claimed', 'used', 'expired', 'revoked'.
    state         TEXT    NOT NULL DEFAULT 'claimed',
    valid_from    INTEGER NOT NULL,
    valid_until   INTEGER NOT NULL,
    order_id      INTEGER,
    discount_fen  INTEGER NOT NULL DEFAULT 0,
    used_at       INTEGER,
    claimed_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX coupons_customer ON coupons(customer_id, state);
CREATE INDEX coupons_template ON coupons(template_id, state);
CREATE INDEX coupons_order ON coupons(order_id);

CREATE TABLE flash_sales (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    spec          TEXT    NOT NULL,
    price_fen     INTEGER NOT NULL,
    stock         INTEGER NOT NULL,
    sold          INTEGER NOT NULL DEFAULT 0,
    per_customer  INTEGER NOT NULL,
    hold_minutes  INTEGER NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'active',
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK (sold >= 0 AND sold <= stock)
);

CREATE TABLE flash_sale_claims (
    id            INTEGER PRIMARY KEY,
    sale_id       INTEGER NOT NULL REFERENCES flash_sales(id),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    seq           INTEGER NOT NULL,
    -- 'held', 'paid', 'released'.
    state         TEXT    NOT NULL DEFAULT 'held',
    hold_until    INTEGER NOT NULL,
    order_ref     TEXT,
    claimed_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (sale_id, customer_id, seq)
);
CREATE INDEX flash_sale_claims_customer ON flash_sale_claims(customer_id);

CREATE TABLE group_buys (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL,
    spec                 TEXT    NOT NULL,
    price_fen            INTEGER NOT NULL,
    leader_discount_fen  INTEGER NOT NULL,
    team_size            INTEGER NOT NULL,
    time_limit_minutes   INTEGER NOT NULL,
    stock                INTEGER NOT NULL,
    sold                 INTEGER NOT NULL DEFAULT 0,
    starts_at            INTEGER NOT NULL,
    ends_at              INTEGER NOT NULL,
    status               TEXT    NOT NULL DEFAULT 'active',
    created_by           INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    CHECK (sold >= 0 AND sold <= stock)
);

CREATE TABLE group_buy_teams (
    id            INTEGER PRIMARY KEY,
    group_buy_id  INTEGER NOT NULL REFERENCES group_buys(id),
    leader_id     INTEGER NOT NULL REFERENCES customers(id),
    -- 'open', 'filled', 'expired'.
    state         TEXT    NOT NULL DEFAULT 'open',
    members       INTEGER NOT NULL DEFAULT 1,
    size          INTEGER NOT NULL,
    deadline      INTEGER NOT NULL,
    closed_at     INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK (members >= 1 AND members <= size)
);
CREATE INDEX group_buy_teams_buy ON group_buy_teams(group_buy_id, state);

CREATE TABLE group_buy_members (
    id            INTEGER PRIMARY KEY,
    team_id       INTEGER NOT NULL REFERENCES group_buy_teams(id),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    inviter_id    INTEGER REFERENCES customers(id),
    is_leader     BOOLEAN NOT NULL DEFAULT FALSE,
    price_fen     INTEGER NOT NULL,
    -- 'paid' (waiting for the team), 'confirmed', 'refunded'.
    state         TEXT    NOT NULL DEFAULT 'paid',
    joined_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (team_id, customer_id)
);
CREATE INDEX group_buy_members_customer ON group_buy_members(customer_id);

-- One row per refund of a group-buy member: UNIQUE (member_id) makes "exactly once" a
-- database fact, not only a code path.
CREATE TABLE group_buy_refunds (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL UNIQUE REFERENCES group_buy_members(id),
    amount_fen    INTEGER NOT NULL,
    refunded_at   INTEGER NOT NULL
);

-- Public (customer) writes: the same key replays the stored result.
CREATE TABLE promo_requests (
    key           TEXT    PRIMARY KEY,
    customer_id   INTEGER NOT NULL,
    fingerprint   TEXT    NOT NULL,
    result        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Messages to send to customers (coupon expiry reminders …); the messaging area delivers them.
CREATE TABLE message_outbox (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    kind          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    dedupe_key    TEXT    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER
);
CREATE INDEX message_outbox_pending ON message_outbox(sent_at, id);
