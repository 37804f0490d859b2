-- The points mall (积分商城, issue #22 item 4): items customers exchange points (or points and
-- cash) for, and each exchange with its fulfilment state. An exchange takes one unit of stock
-- with a guarded UPDATE under the item's row lock (the flash sale's never-oversell path) and
-- debits the points through the ledger in the same transaction; a cancellation or an expiry
-- returns both once (the exchange's state guards it, the ledger's entry key backs it).

CREATE TABLE mall_items (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    -- coupon, gift, product.
    kind                TEXT    NOT NULL CHECK (kind IN ('coupon', 'gift', 'product')),
    name                TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    image_url           TEXT,
    points_price        INTEGER NOT NULL CHECK (points_price > 0),
    cash_price_fen      INTEGER NOT NULL DEFAULT 0 CHECK (cash_price_fen >= 0),
    -- Units left; `sold` counts units held by exchanges not cancelled or expired.
    stock               INTEGER NOT NULL CHECK (stock >= 0),
    sold                INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    per_customer_limit  INTEGER CHECK (per_customer_limit IS NULL OR per_customer_limit >= 1),
    coupon_template_id  INTEGER REFERENCES coupon_templates(id),
    sku                 TEXT,
    starts_at           INTEGER,
    ends_at             INTEGER,
    on_sale             INTEGER NOT NULL DEFAULT 1,
    payment_minutes     INTEGER NOT NULL DEFAULT 15 CHECK (payment_minutes BETWEEN 1 AND 1440),
    archived_at         INTEGER,
    created_by          TEXT    NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE mall_exchanges (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The caller's Idempotency-Key, namespaced per caller: a replay finds this row.
    idempotency_key     TEXT    NOT NULL UNIQUE,
    fingerprint         TEXT    NOT NULL,
    item_id             INTEGER NOT NULL REFERENCES mall_items(id),
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    kind                TEXT    NOT NULL,
    -- awaiting_payment, pending, shipped, delivered, fulfilled, completed, cancelled, expired.
    state               TEXT    NOT NULL,
    points              INTEGER NOT NULL CHECK (points > 0),
    cash_fen            INTEGER NOT NULL DEFAULT 0 CHECK (cash_fen >= 0),
    -- The ledger entry that debited the points, and the one that gave them back.
    points_entry_id     INTEGER NOT NULL REFERENCES points_entries(id),
    return_entry_id     INTEGER REFERENCES points_entries(id),
    coupon_claim_id     INTEGER REFERENCES coupon_claims(id),
    -- Unpaid after this instant, an exchange with a cash part expires.
    pay_by              INTEGER,
    order_ref           TEXT,
    carrier             TEXT,
    tracking_no         TEXT,
    created_by          TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    paid_at             INTEGER,
    shipped_at          INTEGER,
    finished_at         INTEGER,
    returned_at         INTEGER,
    updated_by          TEXT    NOT NULL DEFAULT '',
    updated_at          INTEGER NOT NULL
);
CREATE INDEX mall_exchanges_customer ON mall_exchanges(customer_id, item_id);
CREATE INDEX mall_exchanges_item ON mall_exchanges(item_id, id);
CREATE INDEX mall_exchanges_due ON mall_exchanges(state, pay_by);
