//! A campaign's activity grouped per metric and Asia/Shanghai day, for its statistics page
//! (see `yutang_core::promotions::stats`, which fills the series from these rows).
//!
//! Each query is a `UNION ALL` of one `GROUP BY` per metric over the day bucket
//! `(t + 28800000) / 86400000`: UTC millis shifted by +08:00, integer division on BIGINT on
//! both engines (the stored instants are never negative, so it rounds down like the core's
//! `day_of`). The database returns at most one row per metric and day, however many claims
//! there are; sums are cast to BIGINT (PostgreSQL's `SUM(bigint)` is NUMERIC).

use super::*;

/// One grouped row: the metric's name (`yutang_core::promotions::stats::Metric::parse`), the
/// day number, the count or the sum in fen.
#[derive(Debug, Clone, FromRow)]
pub struct MetricDay {
    pub metric: String,
    pub day: i64,
    pub value: i64,
}

macro_rules! day {
    ($col:literal) => {
        concat!("((", $col, " + 28800000) / 86400000)")
    };
}

/// Coupon template: sets claimed or issued (`claims`, by claim time), coupons handed out
/// (`eligible`), coupons used (`uses`) and their discounts (`cost`) by use time, and the
/// amounts of the distinct orders a coupon of the template was used on (`gmv`), each order
/// once, on the day of its first use.
const COUPON_DAYS: &str = concat!(
    "SELECT 'claims' AS metric, ",
    day!("claimed_at"),
    " AS day, COUNT(*) AS value \
     FROM coupon_claims WHERE template_id = $1 GROUP BY 2 \
     UNION ALL SELECT 'eligible', ",
    day!("claimed_at"),
    ", COUNT(*) \
     FROM coupons WHERE template_id = $1 GROUP BY 2 \
     UNION ALL SELECT 'uses', ",
    day!("used_at"),
    ", COUNT(*) \
     FROM coupons WHERE template_id = $1 AND state = 'used' AND used_at IS NOT NULL GROUP BY 2 \
     UNION ALL SELECT 'cost', ",
    day!("used_at"),
    ", CAST(SUM(discount_fen) AS BIGINT) \
     FROM coupons WHERE template_id = $1 AND state = 'used' AND used_at IS NOT NULL GROUP BY 2 \
     UNION ALL SELECT 'gmv', ",
    day!("u.first_use"),
    ", CAST(SUM(o.amount) AS BIGINT) \
     FROM (SELECT order_id, MIN(used_at) AS first_use FROM coupons \
           WHERE template_id = $1 AND state = 'used' AND order_id IS NOT NULL AND used_at IS NOT NULL \
           GROUP BY order_id) u \
     JOIN orders o ON o.id = u.order_id GROUP BY 2"
);

/// Flash sale: claims (`claims` and `eligible`, by claim time), units paid (`uses`) and holds
/// released (`released`), by the time the claim last changed (paying or releasing it; a paid
/// or released claim does not change again). Amounts follow from the sale's prices (core).
const FLASH_DAYS: &str = concat!(
    "SELECT 'claims' AS metric, ",
    day!("claimed_at"),
    " AS day, COUNT(*) AS value \
     FROM flash_sale_claims WHERE sale_id = $1 GROUP BY 2 \
     UNION ALL SELECT 'eligible', ",
    day!("claimed_at"),
    ", COUNT(*) \
     FROM flash_sale_claims WHERE sale_id = $1 GROUP BY 2 \
     UNION ALL SELECT 'uses', ",
    day!("updated_at"),
    ", COUNT(*) \
     FROM flash_sale_claims WHERE sale_id = $1 AND state = 'paid' GROUP BY 2 \
     UNION ALL SELECT 'released', ",
    day!("updated_at"),
    ", COUNT(*) \
     FROM flash_sale_claims WHERE sale_id = $1 AND state = 'released' GROUP BY 2"
);

/// Group-buy: members joined (`claims`), teams opened (`eligible`), teams filled (`uses`, by
/// the time they filled), members refunded (`released`, by refund time), and the confirmed
/// members of filled teams (`confirmed`, their prices as `gmv`), on the day their team filled.
const GROUP_DAYS: &str = concat!(
    "SELECT 'claims' AS metric, ",
    day!("m.joined_at"),
    " AS day, COUNT(*) AS value \
     FROM group_buy_members m JOIN group_buy_teams t ON t.id = m.team_id \
     WHERE t.group_buy_id = $1 GROUP BY 2 \
     UNION ALL SELECT 'eligible', ",
    day!("created_at"),
    ", COUNT(*) \
     FROM group_buy_teams WHERE group_buy_id = $1 GROUP BY 2 \
     UNION ALL SELECT 'uses', ",
    day!("closed_at"),
    ", COUNT(*) \
     FROM group_buy_teams WHERE group_buy_id = $1 AND state = 'filled' AND closed_at IS NOT NULL GROUP BY 2 \
     UNION ALL SELECT 'released', ",
    day!("r.refunded_at"),
    ", COUNT(*) \
     FROM group_buy_refunds r JOIN group_buy_members m ON m.id = r.member_id \
     JOIN group_buy_teams t ON t.id = m.team_id WHERE t.group_buy_id = $1 GROUP BY 2 \
     UNION ALL SELECT 'confirmed', ",
    day!("t.closed_at"),
    ", COUNT(*) \
     FROM group_buy_members m JOIN group_buy_teams t ON t.id = m.team_id \
     WHERE t.group_buy_id = $1 AND m.state = 'confirmed' AND t.closed_at IS NOT NULL GROUP BY 2 \
     UNION ALL SELECT 'gmv', ",
    day!("t.closed_at"),
    ", CAST(SUM(m.price_fen) AS BIGINT) \
     FROM group_buy_members m JOIN group_buy_teams t ON t.id = m.team_id \
     WHERE t.group_buy_id = $1 AND m.state = 'confirmed' AND t.closed_at IS NOT NULL GROUP BY 2"
);

/// Which campaign's activity to group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsOf {
    CouponTemplate(i64),
    FlashSale(i64),
    GroupBuy(i64),
}

/// The campaign's activity per metric and day (any order).
pub async fn campaign_days(db: &Db, of: StatsOf) -> Result<Vec<MetricDay>> {
    let (sql, id) = match of {
        StatsOf::CouponTemplate(id) => (COUPON_DAYS, id),
        StatsOf::FlashSale(id) => (FLASH_DAYS, id),
        StatsOf::GroupBuy(id) => (GROUP_DAYS, id),
    };
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MetricDay>(sql).bind(id).fetch_all(pool).await?)
    })
}
