-- Membership tiers (会员等级, issue #22 item 1): the brand's tier program (one metric, tiers
-- ranked with strictly increasing thresholds and their benefits), each customer's current
-- tier with the instant they reached it and until when it is held, every change as a history
-- row, and the benefits given (a monthly coupon pack per Shanghai month, a birthday gift per
-- year) so a replay or a re-run never gives twice.

-- The program's settings (one row, id = 1; absent = no program).
CREATE TABLE tier_settings (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    -- spend_12m, points_12m, orders_12m.
    metric         TEXT    NOT NULL DEFAULT 'spend_12m',
    period_months  INTEGER NOT NULL DEFAULT 12 CHECK (period_months BETWEEN 1 AND 36),
    grace_days     INTEGER NOT NULL DEFAULT 30 CHECK (grace_days BETWEEN 0 AND 365),
    updated_at     INTEGER NOT NULL,
    updated_by     TEXT    NOT NULL DEFAULT ''
);

-- A tier; one removed from the program keeps its row (history names it) with archived_at.
CREATE TABLE tiers (
    id                           INTEGER PRIMARY KEY AUTOINCREMENT,
    tier_key                     TEXT    NOT NULL UNIQUE,
    name                         TEXT    NOT NULL,
    tier_rank                    INTEGER NOT NULL,
    threshold                    INTEGER NOT NULL CHECK (threshold >= 0),
    discount_percent             INTEGER NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 50),
    points_multiplier            INTEGER NOT NULL DEFAULT 1000 CHECK (points_multiplier > 0),
    -- JSON array of coupon template ids.
    monthly_coupon_template_ids  TEXT    NOT NULL DEFAULT '[]',
    birthday_coupon_template_id  INTEGER REFERENCES coupon_templates(id),
    free_shipping_threshold_fen  INTEGER,
    archived_at                  INTEGER,
    created_at                   INTEGER NOT NULL,
    updated_at                   INTEGER NOT NULL
);

-- A customer's current tier (no row: not in the program yet).
CREATE TABLE customer_tiers (
    customer_id  INTEGER PRIMARY KEY REFERENCES customers(id),
    tier_id      INTEGER NOT NULL REFERENCES tiers(id),
    -- When the customer reached this tier.
    tier_since   INTEGER NOT NULL,
    -- The tier cannot go down before this (tier_since, or the last re-qualification, plus
    -- the period); a review comes after it plus the grace.
    held_until   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX customer_tiers_tier ON customer_tiers(tier_id, customer_id);
CREATE INDEX customer_tiers_held ON customer_tiers(held_until, customer_id);

-- Every change of a customer's tier.
CREATE TABLE tier_history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    from_tier_id  INTEGER REFERENCES tiers(id),
    to_tier_id    INTEGER NOT NULL REFERENCES tiers(id),
    -- upgrade or downgrade.
    direction     TEXT    NOT NULL,
    metric        TEXT    NOT NULL,
    metric_value  INTEGER NOT NULL,
    -- order:{id} or review.
    source        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX tier_history_customer ON tier_history(customer_id, id);

-- The benefits given: kind monthly (period YYYY-MM) or birthday (period YYYY), with the
-- tier and the templates decided when first given (a re-run issues the same, by key).
CREATE TABLE tier_grants (
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    kind          TEXT    NOT NULL,
    period        TEXT    NOT NULL,
    tier_id       INTEGER NOT NULL REFERENCES tiers(id),
    template_ids  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, kind, period)
);
