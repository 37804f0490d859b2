-- Content reach (内容种草, issues #21 item 4 and #24 item 2): a customer's own opens of the
-- tracked links (雷达) guides sent them, by month, on the row of the sending guide and their
-- store. Forwards stay shares.
ALTER TABLE customer_months ADD COLUMN opens BIGINT NOT NULL DEFAULT 0;

-- Databases made before this release compute every customer's facts again, opens included.
UPDATE rollup_state SET requested = requested + 1;
