-- Paid member cards (付费会员卡, issue #22 item 2): card products, each customer's paid
-- periods (one per purchase, consecutive), the savings of each period (one row per cause, so
-- a replayed order or coupon adds nothing), the coupons given as a card's monthly pack, and
-- the refund instructions for the order system when a period with the savings guarantee
-- saved less than it cost (one per period, so the difference is refunded exactly once).

CREATE TABLE card_products (
    id                           INTEGER PRIMARY KEY AUTOINCREMENT,
    card_key                     TEXT    NOT NULL UNIQUE,
    name                         TEXT    NOT NULL,
    period_days                  INTEGER NOT NULL CHECK (period_days > 0),
    price_fen                    INTEGER NOT NULL CHECK (price_fen > 0),
    points_multiplier            INTEGER NOT NULL DEFAULT 1000 CHECK (points_multiplier > 0),
    -- JSON array of coupon template ids.
    monthly_coupon_template_ids  TEXT    NOT NULL DEFAULT '[]',
    savings_guarantee            INTEGER NOT NULL DEFAULT 0 CHECK (savings_guarantee IN (0, 1)),
    archived_at                  INTEGER,
    created_at                   INTEGER NOT NULL,
    updated_at                   INTEGER NOT NULL
);

-- One purchase: [starts_at, ends_at). status active (bought, not yet settled), refunded (the
-- purchase was refunded: the period ended then) or settled (ended; the guarantee decided).
-- The multiplier and the guarantee are those of the product when bought.
CREATE TABLE card_periods (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id        INTEGER NOT NULL REFERENCES customers(id),
    card_id            INTEGER NOT NULL REFERENCES card_products(id),
    order_no           TEXT    NOT NULL UNIQUE,
    fingerprint        TEXT    NOT NULL,
    paid_fen           INTEGER NOT NULL CHECK (paid_fen > 0),
    points_multiplier  INTEGER NOT NULL CHECK (points_multiplier > 0),
    savings_guarantee  INTEGER NOT NULL CHECK (savings_guarantee IN (0, 1)),
    renewal            INTEGER NOT NULL DEFAULT 0,
    paid_at            INTEGER NOT NULL,
    starts_at          INTEGER NOT NULL,
    ends_at            INTEGER NOT NULL CHECK (ends_at >= starts_at),
    status             TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'refunded', 'settled')),
    savings_fen        INTEGER NOT NULL DEFAULT 0 CHECK (savings_fen >= 0),
    refund_reason      TEXT    NOT NULL DEFAULT '',
    closed_at          INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX card_periods_customer ON card_periods(customer_id, ends_at);
CREATE INDEX card_periods_due ON card_periods(status, ends_at, id);
CREATE INDEX card_periods_card ON card_periods(card_id, status, ends_at);

-- What a period saved its member, one row per cause: order:{order id} (member prices) or
-- coupon:{coupon id}:{order id} (a card coupon used).
CREATE TABLE card_savings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    period_id    INTEGER NOT NULL REFERENCES card_periods(id),
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    cause        TEXT    NOT NULL UNIQUE,
    amount_fen   INTEGER NOT NULL CHECK (amount_fen >= 0),
    created_at   INTEGER NOT NULL
);
CREATE INDEX card_savings_period ON card_savings(period_id, id);

-- The monthly pack given: once per customer per Shanghai month (period YYYY-MM), with the
-- card period and templates decided when first given.
CREATE TABLE card_grants (
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    month         TEXT    NOT NULL,
    period_id     INTEGER NOT NULL REFERENCES card_periods(id),
    template_ids  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, month)
);

-- The coupons issued as a card's pack (their use adds to the savings).
CREATE TABLE card_coupons (
    coupon_id    INTEGER PRIMARY KEY REFERENCES coupons(id),
    period_id    INTEGER NOT NULL REFERENCES card_periods(id),
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    created_at   INTEGER NOT NULL
);

-- A refund the order system owes a member (the guarantee's difference): one per period.
CREATE TABLE card_refunds (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    period_id        INTEGER NOT NULL UNIQUE REFERENCES card_periods(id),
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    order_no         TEXT    NOT NULL,
    paid_fen         INTEGER NOT NULL,
    savings_fen      INTEGER NOT NULL,
    amount_fen       INTEGER NOT NULL CHECK (amount_fen > 0),
    status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'acknowledged')),
    created_at       INTEGER NOT NULL,
    acknowledged_at  INTEGER,
    acknowledged_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX card_refunds_status ON card_refunds(status, id);
