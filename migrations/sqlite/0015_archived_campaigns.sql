-- Removing a campaign with history now archives it (status 'archived', statistics kept,
-- listed under 已归档) and a campaign without history is deleted outright (issue #18).
-- Templates soft-deleted before this release kept their claims and coupons: they are archived.
UPDATE coupon_templates SET status = 'archived' WHERE status = 'deleted';
UPDATE flash_sales SET status = 'archived' WHERE status = 'deleted';
UPDATE group_buys SET status = 'archived' WHERE status = 'deleted';
