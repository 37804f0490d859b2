-- Daily rollups (issue #24 item 1): the dashboard's figures per Shanghai day, kept current
-- by a follower of the event log instead of a scan per page view.
--
-- A row is one metric's value on one day (`(t + 28800000) / 86400000`, the statistics
-- pages' day number) at one grain: 'b' the brand (key 0), 's' a store, 'g' a guide, 'c' a
-- channel (key 0: none). The follower reads the event log in commit order (the change feed
-- of the segment index and the webhooks), notes the days its events touch and recomputes
-- those days from the base tables in the transaction that moves its position, so a day is
-- always what a from-scratch computation over the committed rows gives.

CREATE TABLE rollup_days (
    grain   TEXT    NOT NULL,
    key     BIGINT  NOT NULL,
    metric  TEXT    NOT NULL,
    day     BIGINT  NOT NULL,
    value   BIGINT  NOT NULL,
    PRIMARY KEY (grain, key, metric, day)
);
-- Rankings (top guides, top channels) read one metric's days across keys.
CREATE INDEX rollup_days_rank ON rollup_days (grain, metric, day);
CREATE INDEX rollup_days_day ON rollup_days (day);

-- The follower's position, as webhook_feed's.
CREATE TABLE rollup_feed (
    id         BIGINT  PRIMARY KEY CHECK (id = 1),
    from_mark  TEXT    NOT NULL,
    to_mark    TEXT,
    after_id   BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO rollup_feed (id, from_mark) VALUES (1, pg_current_snapshot()::text);

-- Requests to recompute every day (a new database, a copied one, a guide moved to another
-- store) count up `requested`; a rebuild that began at generation g sets `rebuilt` to g
-- when it is done, so a request made during a rebuild is not lost and a rebuild that died
-- half way is done again.
CREATE TABLE rollup_state (
    id           BIGINT  PRIMARY KEY CHECK (id = 1),
    requested    BIGINT  NOT NULL DEFAULT 1,
    rebuilt      BIGINT  NOT NULL DEFAULT 0,
    rebuilt_at   BIGINT ,
    followed_at  BIGINT 
);
INSERT INTO rollup_state (id) VALUES (1);

-- What a day's recomputation reads by time.
CREATE INDEX customers_created ON customers (created_at);
CREATE INDEX orders_paid ON orders (paid_at);
CREATE INDEX order_refunds_at ON order_refunds (refunded_at);
CREATE INDEX channel_adds_added ON channel_adds (added_at);
CREATE INDEX channel_adds_deleted ON channel_adds (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX coupon_claims_at ON coupon_claims (claimed_at);
CREATE INDEX events_merged_at ON events (occurred_at) WHERE kind = 'merged_into';
CREATE INDEX events_join_group_at ON events (occurred_at) WHERE kind = 'join_group';
CREATE INDEX events_leave_group_at ON events (occurred_at) WHERE kind = 'leave_group';
CREATE INDEX events_coupon_used_at ON events (occurred_at) WHERE kind = 'coupon_used';
