-- The brand's acquisition settings (one row, id = 1; absent = the defaults):
-- attribution_window_days is how far back (whole days of 24 h, 1–90, default 7) an order looks
-- for the customer's latest add to credit its channel (orders.touch_channel_id). It is read
-- when an order is recorded, so a change applies to orders recorded after it.
CREATE TABLE acquisition_settings (
    id                       INTEGER PRIMARY KEY CHECK (id = 1),
    attribution_window_days  INTEGER NOT NULL DEFAULT 7
                             CHECK (attribution_window_days BETWEEN 1 AND 90),
    updated_at               INTEGER NOT NULL,
    updated_by               TEXT    NOT NULL DEFAULT ''
);
