-- Leaderboards and incentive pools (排行榜与激励池, issue #23 item 6). Boards are read from
-- the daily rollups, the customer facts, guide tasks and service ratings; these indexes let
-- the last three be summed by period. A pool is an amount for one period and part of the
-- brand (a store, a region or the whole brand), split by a rule of two shares (individual by
-- contribution, team per store) over the guides' figures for one metric. Until it is settled
-- the split is computed live; settling writes each guide's payout once (the payroll export
-- reads them) and nothing about the pool changes afterwards.

CREATE INDEX customer_facts_joined ON customer_facts (joined_at);
CREATE INDEX guide_tasks_done ON guide_tasks (done_at) WHERE state = 'done';

CREATE TABLE incentive_pools (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    -- day, week or month; the period is from_day..=to_day (Shanghai day numbers).
    span            TEXT    NOT NULL,
    from_day        INTEGER  NOT NULL,
    to_day          INTEGER  NOT NULL,
    -- store, region or brand; scope_id is the store's or region's id (NULL for brand).
    level           TEXT    NOT NULL,
    scope_id        INTEGER,
    -- adds, net_adds, first_orders, gmv or tasks_done.
    metric          TEXT    NOT NULL,
    amount_fen      INTEGER  NOT NULL CHECK (amount_fen >= 0),
    individual_pct  INTEGER  NOT NULL CHECK (individual_pct BETWEEN 0 AND 100),
    team_pct        INTEGER  NOT NULL CHECK (team_pct BETWEEN 0 AND 100),
    -- draft (split computed live, editable) or settled (payouts written, frozen).
    state           TEXT    NOT NULL DEFAULT 'draft',
    -- What nobody earned, when settled.
    unallocated_fen INTEGER  NOT NULL DEFAULT 0,
    settled_at      INTEGER,
    settled_by      INTEGER,
    created_by      INTEGER,
    created_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL,
    CHECK (individual_pct + team_pct = 100)
);
CREATE INDEX incentive_pools_period ON incentive_pools (from_day, id);

CREATE TABLE incentive_payouts (
    pool_id         INTEGER  NOT NULL REFERENCES incentive_pools(id),
    staff_id        INTEGER  NOT NULL REFERENCES staff(id),
    store_id        INTEGER,
    contribution    INTEGER  NOT NULL,
    individual_fen  INTEGER  NOT NULL,
    team_fen        INTEGER  NOT NULL,
    PRIMARY KEY (pool_id, staff_id)
);
CREATE INDEX incentive_payouts_staff ON incentive_payouts (staff_id, pool_id);
