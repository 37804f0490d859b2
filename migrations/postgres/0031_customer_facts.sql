-- Customer facts and monthly cells (issue #24 items 2 and 3): the retail metrics, cohorts
-- and funnels count distinct customers, which daily sums cannot give. Each customer's facts
-- are kept (how they joined the pool, first group join, first and second order in the pool,
-- tier, card, orders per month, store and guide), and every cell is the sum of what the
-- stored facts contribute (yutang_core::analytics::facts). The rollup follower recomputes
-- the facts of the customers its events name and adds the difference to the cells, in the
-- transaction that moves its position.

CREATE TABLE customer_facts (
    customer_id      BIGINT PRIMARY KEY,
    joined_at        BIGINT,
    channel_id       BIGINT,
    staff_id         BIGINT,
    store_id         BIGINT,
    first_group_at   BIGINT,
    referred_at      BIGINT,
    first_order_at   BIGINT,
    second_order_at  BIGINT,
    -- When the customer's last WeCom contact was deleted (NULL: one is still in place, or
    -- never added).
    lost_at          BIGINT,
    tier_id          BIGINT,
    paid_member      BIGINT NOT NULL DEFAULT 0
);

-- A customer's orders of one Shanghai month (year * 12 + month - 1) at one store and guide
-- (0: none), split by whether they were paid after the customer's referral; shares by
-- month on the row without store or guide.
CREATE TABLE customer_months (
    customer_id  BIGINT NOT NULL,
    month        BIGINT NOT NULL,
    store_key    BIGINT NOT NULL,
    guide_key    BIGINT NOT NULL,
    referred     BIGINT NOT NULL,
    orders       BIGINT NOT NULL,
    net_fen      BIGINT NOT NULL,
    shares       BIGINT NOT NULL,
    PRIMARY KEY (customer_id, month, store_key, guide_key, referred)
);

-- family 'a' (by joining month), 'm' (by order month), 'l' (levels, period 0); grain 'b'
-- brand, 's' store, 'g' guide, 'c' channel, 't' tier, 'k' card (1 paid members).
CREATE TABLE rollup_cells (
    family  TEXT    NOT NULL,
    grain   TEXT    NOT NULL,
    key     BIGINT NOT NULL,
    period  BIGINT NOT NULL,
    cell    TEXT    NOT NULL,
    value   BIGINT NOT NULL,
    PRIMARY KEY (family, grain, key, period, cell)
);
CREATE INDEX rollup_cells_rank ON rollup_cells (family, grain, period, cell);

-- Facts read by customer.
CREATE INDEX events_join_group_customer ON events (customer_id, occurred_at) WHERE kind = 'join_group';

-- Databases made before this release compute the facts of every customer once.
UPDATE rollup_state SET requested = requested + 1;
