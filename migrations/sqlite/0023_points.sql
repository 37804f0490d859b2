-- The points ledger (积分, issue #22 item 3): append-only double entry. Every movement moves a
-- positive amount from one account to another — a customer's, or one of the brand's system
-- accounts: `issued` (the brand's liability: earnings come from it, reversals go back to it),
-- `redeemed`, `expired` and `transfer` (merges) — so the sum of all accounts is always zero.
-- A customer's balance is kept on its account row (read in O(1)) and can never go negative
-- (the CHECK is the backstop of the guarded UPDATE). Points are earned in lots that expire
-- oldest first; every debit of a customer records which lots it took, so a cancelled
-- redemption gives back exactly what it took.

-- The brand's points rules (one row, id = 1; absent = the defaults).
CREATE TABLE points_settings (
    id                      INTEGER PRIMARY KEY CHECK (id = 1),
    -- Points earned per 1 CNY paid (0: orders earn nothing), before multipliers.
    earn_points_per_yuan    INTEGER NOT NULL DEFAULT 1 CHECK (earn_points_per_yuan BETWEEN 0 AND 1000),
    -- Points that make 1 CNY at checkout (100 points = 1 CNY by default).
    redeem_points_per_yuan  INTEGER NOT NULL DEFAULT 100 CHECK (redeem_points_per_yuan BETWEEN 1 AND 100000),
    -- end_of_next_year, days, never.
    expiry                  TEXT    NOT NULL DEFAULT 'end_of_next_year',
    expiry_days             INTEGER NOT NULL DEFAULT 365 CHECK (expiry_days BETWEEN 1 AND 3650),
    -- Most of an order points may pay, in percent (100: all of it).
    max_redeem_percent      INTEGER NOT NULL DEFAULT 100 CHECK (max_redeem_percent BETWEEN 1 AND 100),
    updated_at              INTEGER NOT NULL,
    updated_by              TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE points_accounts (
    customer_id  INTEGER PRIMARY KEY REFERENCES customers(id),
    balance      INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    earned       INTEGER NOT NULL DEFAULT 0,
    redeemed     INTEGER NOT NULL DEFAULT 0,
    expired      INTEGER NOT NULL DEFAULT 0,
    reversed     INTEGER NOT NULL DEFAULT 0,
    -- Points a refund's reversal could not take (already spent): the next earnings pay them.
    owed         INTEGER NOT NULL DEFAULT 0 CHECK (owed >= 0),
    updated_at   INTEGER NOT NULL
);

CREATE TABLE points_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- What makes the entry once only: order:{id}, refund:{id}, expire:{lot}, redeem:{key}, …
    entry_key      TEXT    NOT NULL UNIQUE,
    -- A digest of the request that made it, so a replay with another body is refused.
    fingerprint    TEXT    NOT NULL DEFAULT '',
    customer_id    INTEGER NOT NULL REFERENCES customers(id),
    -- earn, reverse, redeem, cancel, expire, grant, deduct, transfer_out, transfer_in, settle
    kind           TEXT    NOT NULL,
    -- Accounts: customer, issued, redeemed, expired, transfer.
    debit          TEXT    NOT NULL,
    credit         TEXT    NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    -- The customer's balance after this entry (the running balance of their ledger).
    balance_after  INTEGER NOT NULL,
    -- Where it comes from: order, refund, redemption, expiry, grant, merge, checkin, referral…
    source_type    TEXT    NOT NULL,
    source_id      TEXT    NOT NULL DEFAULT '',
    reason         TEXT    NOT NULL DEFAULT '',
    actor          TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    CHECK (debit <> credit)
);
CREATE INDEX points_entries_customer ON points_entries(customer_id, id);
CREATE INDEX points_entries_source ON points_entries(source_type, source_id);

-- A lot: the points one credit gave, spent and expired oldest first.
CREATE TABLE points_lots (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    entry_id     INTEGER NOT NULL REFERENCES points_entries(id),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    remaining    INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    -- NULL: never expires.
    expires_at   INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX points_lots_open ON points_lots(customer_id, expires_at, id) WHERE remaining > 0;
CREATE INDEX points_lots_due ON points_lots(expires_at, id) WHERE remaining > 0;

-- Which lots a debit took, and how much of each.
CREATE TABLE points_lot_moves (
    entry_id  INTEGER NOT NULL REFERENCES points_entries(id),
    lot_id    INTEGER NOT NULL REFERENCES points_lots(id),
    amount    INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (entry_id, lot_id)
);
CREATE INDEX points_lot_moves_lot ON points_lot_moves(lot_id);

-- A redemption at checkout (POS or mini-program), made once per idempotency key.
CREATE TABLE points_redemptions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    fingerprint      TEXT    NOT NULL,
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    points           INTEGER NOT NULL CHECK (points > 0),
    -- What the points are worth at the rate of the moment (fen).
    value_fen        INTEGER NOT NULL CHECK (value_fen >= 0),
    -- The brand's order or ticket reference, as the POS knows it.
    order_ref        TEXT    NOT NULL DEFAULT '',
    -- applied, cancelled
    status           TEXT    NOT NULL,
    entry_id         INTEGER NOT NULL REFERENCES points_entries(id),
    cancel_entry_id  INTEGER REFERENCES points_entries(id),
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    cancelled_at     INTEGER
);
CREATE INDEX points_redemptions_customer ON points_redemptions(customer_id, id);

-- What each refund owed back of its order's points: `due` by the refunded share, `taken` by
-- the reversal entry (NULL when nothing could be taken), the rest added to the account's
-- `owed`. The sum of `due` is what earlier refunds of the order already accounted for.
CREATE TABLE points_reversals (
    refund_key   TEXT    PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    due          INTEGER NOT NULL CHECK (due >= 0),
    taken        INTEGER NOT NULL CHECK (taken >= 0 AND taken <= due),
    entry_id     INTEGER REFERENCES points_entries(id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX points_reversals_order ON points_reversals(order_id);
