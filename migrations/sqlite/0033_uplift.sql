-- Uplift studies (issue #24 item 4): for each study (first group join, first paid card),
-- scope (brand, store), treatment month, arm (t treated, c control) and matching stratum of
-- prior frequency and spend, the sums of the customers' changes in orders and net spend
-- (after minus before) and their squares, from which the page estimates the effect on the
-- treated and its interval (yutang_core::analytics::uplift). Recomputed as a whole from the
-- customer facts (hourly and after a rebuild), replaced in one transaction.
CREATE TABLE uplift_cells (
    study         TEXT    NOT NULL,
    grain         TEXT    NOT NULL,
    key           INTEGER NOT NULL,
    month         INTEGER NOT NULL,
    arm           TEXT    NOT NULL,
    stratum       INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    d_orders      REAL    NOT NULL,
    d_orders_sq   REAL    NOT NULL,
    d_fen         REAL    NOT NULL,
    d_fen_sq      REAL    NOT NULL,
    next_buyers   INTEGER NOT NULL,
    prior_buyers  INTEGER NOT NULL,
    PRIMARY KEY (study, grain, key, month, arm, stratum)
);

-- When the studies were last computed, and the last treatment month they cover.
CREATE TABLE uplift_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    computed_at    INTEGER,
    through_month  INTEGER
);
INSERT INTO uplift_state (id) VALUES (1);
