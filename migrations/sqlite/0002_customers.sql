-- Customer pool: customers, identities, custom attributes, follow relations, the event log
-- (timeline) and orders. Same conventions as 0001.

CREATE TABLE customers (
    id               INTEGER PRIMARY KEY,
    -- Set when this customer was merged into another; lookups resolve to that survivor.
    merged_into      INTEGER REFERENCES customers(id),
    name             TEXT    NOT NULL DEFAULT '',
    gender           TEXT    NOT NULL DEFAULT 'unknown',
    birthday         TEXT,
    city             TEXT    NOT NULL DEFAULT '',
    member_level     TEXT    NOT NULL DEFAULT '',
    order_count      INTEGER NOT NULL DEFAULT 0,
    total_spend      INTEGER NOT NULL DEFAULT 0,
    avg_order_value  INTEGER NOT NULL DEFAULT 0,
    first_order_at   INTEGER,
    last_order_at    INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX customers_merged_into ON customers(merged_into);
CREATE INDEX customers_name ON customers(name);

CREATE TABLE customer_identities (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    kind         TEXT    NOT NULL,
    namespace    TEXT    NOT NULL DEFAULT '',
    value        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (kind, namespace, value)
);
CREATE INDEX customer_identities_customer ON customer_identities(customer_id);
CREATE INDEX customer_identities_value ON customer_identities(value);

CREATE TABLE attribute_defs (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    label       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    -- Enum options, one per line.
    options     TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE customer_attributes (
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    attribute_id  INTEGER NOT NULL REFERENCES attribute_defs(id),
    value         TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, attribute_id)
);

CREATE TABLE follows (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    staff_id     INTEGER NOT NULL REFERENCES staff(id),
    since        INTEGER NOT NULL,
    remark       TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL DEFAULT 'active',
    is_owner     INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    UNIQUE (customer_id, staff_id)
);
CREATE INDEX follows_staff ON follows(staff_id, state);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    kind         TEXT    NOT NULL,
    -- The integration's id for the event; NULL for events Yutang writes itself.
    client_id    TEXT UNIQUE,
    occurred_at  INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    staff_id     INTEGER,
    -- JSON text, opaque to the database.
    detail       TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX events_customer ON events(customer_id, occurred_at);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    external_id      TEXT    NOT NULL UNIQUE,
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    channel          TEXT    NOT NULL,
    store_id         INTEGER REFERENCES stores(id),
    guide_id         INTEGER REFERENCES staff(id),
    campaign         TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL,
    amount           INTEGER NOT NULL,
    discount         INTEGER NOT NULL DEFAULT 0,
    refunded_amount  INTEGER NOT NULL DEFAULT 0,
    paid_at          INTEGER NOT NULL,
    shipped_at       INTEGER,
    completed_at     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id, paid_at);
CREATE INDEX orders_store ON orders(store_id, paid_at);
CREATE INDEX orders_guide ON orders(guide_id, paid_at);

CREATE TABLE order_lines (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    line_no     INTEGER NOT NULL,
    sku         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    quantity    INTEGER NOT NULL,
    unit_price  INTEGER NOT NULL,
    amount      INTEGER NOT NULL,
    UNIQUE (order_id, line_no)
);

CREATE TABLE order_refunds (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    external_id  TEXT    NOT NULL UNIQUE,
    amount       INTEGER NOT NULL,
    refunded_at  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX order_refunds_order ON order_refunds(order_id);
