-- The customer list's sort orders (total spend, order count, last order; each ties on the id)
-- walk an index instead of sorting every live customer. A descending last-order list puts
-- customers without an order last, which SQLite's ascending index gives read backwards.
CREATE INDEX customers_by_total_spend ON customers (total_spend, id) WHERE merged_into IS NULL;
CREATE INDEX customers_by_order_count ON customers (order_count, id) WHERE merged_into IS NULL;
CREATE INDEX customers_by_last_order ON customers (last_order_at, id) WHERE merged_into IS NULL;

-- A staff member's saved filters of a console list (the query string as the list takes it),
-- by name; each sees only their own.
CREATE TABLE saved_filters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id    INTEGER NOT NULL REFERENCES staff(id),
    page        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    query       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (staff_id, page, name)
);
