-- A brand as release 0.1.0 (migrations up to 0013) left it: what the upgrade test starts
-- the current version on. Engine-neutral SQL (both SQLite and PostgreSQL run it as is);
-- explicit ids, so the test can name them. Times are epoch milliseconds (2026-11-01 onwards).
-- Passwords: every staff account uses `yutang-demo`.
INSERT INTO regions (id, name, created_at) VALUES (1, '华东', 1793491200000);
INSERT INTO stores (id, region_id, code, name, city, address, created_at, updated_at)
  VALUES (1, 1, 'SH-001', '鲜果时光·上海徐家汇店', '上海', '', 1793491200000, 1793491200000);
INSERT INTO staff (id, username, display_name, role, store_id, status, password_hash, created_at, updated_at)
  VALUES (1, 'admin', '管理员', 'admin', NULL, 'active',
          '$argon2id$v=19$m=19456,t=2,p=1$keXGAVzGldlE6f83b6bAQQ$rS0SOqaYtMhfvxOC+qSveMqidG0WOLxHYc4vnE1vpy4',
          1793491200000, 1793491200000);
INSERT INTO staff (id, username, display_name, role, store_id, status, password_hash, created_at, updated_at)
  VALUES (2, 'sh-001.guide1', '王芳', 'guide', 1, 'active',
          '$argon2id$v=19$m=19456,t=2,p=1$keXGAVzGldlE6f83b6bAQQ$rS0SOqaYtMhfvxOC+qSveMqidG0WOLxHYc4vnE1vpy4',
          1793491200000, 1793491200000);
-- Customer 3 was merged into customer 1 (its phone moved with it).
INSERT INTO customers (id, merged_into, name, gender, city, order_count, total_spend, avg_order_value,
                       first_order_at, last_order_at, created_at, updated_at)
  VALUES (1, NULL, '王小明', 'male', '上海', 1, 9900, 9900, 1793577600000, 1793577600000, 1793491200000, 1793664000000);
INSERT INTO customers (id, merged_into, name, gender, city, created_at, updated_at)
  VALUES (2, NULL, '李华', 'female', '杭州', 1793491300000, 1793750400000);
INSERT INTO customers (id, merged_into, name, created_at, updated_at)
  VALUES (3, 1, '', 1793491400000, 1793664000000);
INSERT INTO customer_identities (id, customer_id, kind, namespace, value, created_at)
  VALUES (1, 1, 'phone', '', '13800000001', 1793491200000);
INSERT INTO customer_identities (id, customer_id, kind, namespace, value, created_at)
  VALUES (2, 2, 'phone', '', '13800000002', 1793491300000);
INSERT INTO customer_identities (id, customer_id, kind, namespace, value, created_at)
  VALUES (3, 1, 'phone', '', '13800000003', 1793491400000);
INSERT INTO follows (id, customer_id, staff_id, since, remark, state, is_owner, updated_at)
  VALUES (1, 1, 2, 1793491200000, '老客户', 'active', TRUE, 1793491200000);
INSERT INTO follows (id, customer_id, staff_id, since, remark, state, is_owner, updated_at)
  VALUES (2, 2, 2, 1793491300000, '', 'active', TRUE, 1793491300000);
-- Customer 2's order was refunded in full: it no longer counts in their aggregates.
INSERT INTO orders (id, external_id, customer_id, channel, store_id, guide_id, campaign, status, amount,
                    discount, refunded_amount, paid_at, created_at, updated_at)
  VALUES (1, 'POS-1', 1, 'store', 1, 2, '周二会员日', 'paid', 9900, 0, 0, 1793577600000, 1793577600000, 1793577600000);
INSERT INTO orders (id, external_id, customer_id, channel, store_id, guide_id, campaign, status, amount,
                    discount, refunded_amount, paid_at, created_at, updated_at)
  VALUES (2, 'POS-2', 2, 'store', 1, 2, '', 'refunded', 5000, 0, 5000, 1793664000000, 1793664000000, 1793750400000);
INSERT INTO order_lines (id, order_id, line_no, sku, name, quantity, unit_price, amount)
  VALUES (1, 1, 1, 'CHERRY-5', '车厘子 5斤', 1, 9900, 9900);
INSERT INTO order_lines (id, order_id, line_no, sku, name, quantity, unit_price, amount)
  VALUES (2, 2, 1, 'APPLE', '苹果', 2, 2500, 5000);
INSERT INTO order_refunds (id, order_id, external_id, amount, refunded_at, created_at)
  VALUES (1, 2, 'RF-2', 5000, 1793750400000, 1793750400000);
INSERT INTO events (id, customer_id, kind, occurred_at, received_at, staff_id, detail)
  VALUES (1, 1, 'created', 1793491200000, 1793491200000, NULL, '{}');
INSERT INTO events (id, customer_id, kind, occurred_at, received_at, staff_id, detail)
  VALUES (2, 2, 'created', 1793491300000, 1793491300000, NULL, '{}');
INSERT INTO events (id, customer_id, kind, occurred_at, received_at, staff_id, detail)
  VALUES (3, 1, 'order_paid', 1793577600000, 1793577600000, 2,
          '{"order_id":1,"external_id":"POS-1","amount_fen":9900,"channel":"store","store_id":1}');
INSERT INTO events (id, customer_id, kind, occurred_at, received_at, staff_id, detail)
  VALUES (4, 1, 'merged', 1793664000000, 1793664000000, NULL, '{"from":3,"reason":"manual"}');
INSERT INTO events (id, customer_id, kind, occurred_at, received_at, staff_id, detail)
  VALUES (5, 3, 'merged_into', 1793664000000, 1793664000000, NULL, '{"into":1,"reason":"manual"}');
INSERT INTO events (id, customer_id, kind, occurred_at, received_at, staff_id, detail)
  VALUES (6, 2, 'order_paid', 1793664000000, 1793664000000, 2,
          '{"order_id":2,"external_id":"POS-2","amount_fen":5000,"channel":"store","store_id":1}');
INSERT INTO events (id, customer_id, kind, occurred_at, received_at, staff_id, detail)
  VALUES (7, 2, 'order_refunded', 1793750400000, 1793750400000, NULL,
          '{"order_id":2,"refund_id":"RF-2","amount_fen":5000,"status":"refunded"}');
INSERT INTO tag_groups (id, name, multi, sort, source, created_at, updated_at)
  VALUES (1, '兴趣', TRUE, 0, 'manual', 1793491200000, 1793491200000);
INSERT INTO tags (id, group_id, name, color, sort, created_at, updated_at)
  VALUES (1, 1, '车厘子', '#c41d7f', 0, 1793491200000, 1793491200000);
INSERT INTO customer_tags (customer_id, tag_id, source, created_at)
  VALUES (1, 1, 'manual', 1793491200000);
INSERT INTO segments (id, name, expression, created_at, updated_at)
  VALUES (1, '上海车厘子爱好者', 'tag("兴趣/车厘子") and city = "上海"', 1793491200000, 1793491200000);
INSERT INTO coupon_templates (id, name, spec, stock, sold, per_customer, claim_starts, claim_ends, status,
                              created_at, updated_at)
  VALUES (1, '周二会员日 满59减10',
          '{"name":"周二会员日 满59减10","steps":[{"kind":"amount_off","off_fen":1000,"threshold_fen":5900}],"validity":{"kind":"days_from_claim","days":3650},"claim_window":{"starts_at":1793491200000,"ends_at":2109024000000},"stock":100,"per_customer":1,"audience":{"kind":"everyone"},"scope":{"channels":[],"store_ids":[]},"return_on_refund":true,"remind_hours_before":24}',
          100, 1, 1, 1793491200000, 2109024000000, 'active', 1793491200000, 1793491200000);
INSERT INTO coupon_claims (id, template_id, customer_id, seq, source, claimed_at)
  VALUES (1, 1, 2, 1, 'issue', 1793491300000);
INSERT INTO coupons (id, claim_id, template_id, customer_id, step, state, valid_from, valid_until,
                     claimed_at, updated_at)
  VALUES (1, 1, 1, 2, 0, 'claimed', 1793491300000, 2109024000000, 1793491300000, 1793491300000);
INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, action, target, detail, ip)
  VALUES (1, 1793491200000, 'staff', 1, '管理员', 'customer_merged', 'customer:1',
          'merged customer 3 into 1 (manual)', '127.0.0.1');
