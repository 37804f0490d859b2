-- Uplift studies (issue #24 item 4): for each study (first group join, first paid card),
-- scope (brand, store), treatment month, arm (t treated, c control) and matching stratum of
-- prior frequency and spend, the sums of the customers' changes in orders and net spend
-- (after minus before) and their squares, from which the page estimates the effect on the
-- treated and its interval (yutang_core::analytics::uplift). Recomputed as a whole from the
-- customer facts (hourly and after a rebuild), replaced in one transaction.
CREATE TABLE uplift_cells (
    study         TEXT    NOT NULL,
    grain         TEXT    NOT NULL,
    key           BIGINT NOT NULL,
    month         BIGINT NOT NULL,
    arm           TEXT    NOT NULL,
    stratum       BIGINT NOT NULL,
    n             BIGINT NOT NULL,
    d_orders      DOUBLE PRECISION NOT NULL,
    d_orders_sq   DOUBLE PRECISION NOT NULL,
    d_fen         DOUBLE PRECISION NOT NULL,
    d_fen_sq      DOUBLE PRECISION NOT NULL,
    next_buyers   BIGINT NOT NULL,
    prior_buyers  BIGINT NOT NULL,
    PRIMARY KEY (study, grain, key, month, arm, stratum)
);

-- When the studies were last computed, and the last treatment month they cover.
CREATE TABLE uplift_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    computed_at    BIGINT,
    through_month  BIGINT
);
INSERT INTO uplift_state (id) VALUES (1);
