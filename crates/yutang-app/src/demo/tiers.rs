//! The demo's membership tiers (会员等级): 普通 / 银卡 / 金卡 / 黑金 on 12-month spend
//! (¥0 / ¥500 / ¥1,500 / ¥5,000), with member discounts, points multipliers, a monthly coupon
//! pack for 金卡 and 黑金 and a birthday gift for 黑金; the seeded pool is placed in the tier
//! its spend earns (its orders are bulk-loaded, not recorded one by one through the order
//! hook).

use yutang_core::loyalty::tiers::{self as rules, TierMetric, TierProgram, TierSpec};

use super::Demo;
use crate::Actor;
use crate::error::Result;

fn tier(key: &str, name: &str, rank: i64, threshold: i64, discount: i64, mult: i64) -> TierSpec {
    TierSpec {
        key: key.into(),
        name: name.into(),
        rank,
        threshold,
        discount_percent: discount,
        points_multiplier: mult,
        monthly_coupon_template_ids: vec![],
        birthday_coupon_template_id: None,
        free_shipping_threshold_fen: None,
    }
}

impl Demo<'_> {
    /// Save the program and place the pool. Returns how many customers were placed.
    pub(super) async fn seed_demo_tiers(&self) -> Result<u64> {
        let sys = Actor::system();
        // The demo's first live coupon template, if any, makes the packs and the gift.
        let coupon = self
            .coupons()
            .coupon_templates(&sys)
            .await?
            .into_iter()
            .find(|t| t.row.status == "active")
            .map(|t| t.row.id);
        let mut silver = tier("silver", "银卡", 2, 50_000, 2, 1_200);
        silver.free_shipping_threshold_fen = Some(9_900);
        let mut gold = tier("gold", "金卡", 3, 150_000, 5, 1_500);
        gold.free_shipping_threshold_fen = Some(0);
        let mut black = tier("black_gold", "黑金", 4, 500_000, 10, 2_000);
        black.free_shipping_threshold_fen = Some(0);
        if let Some(c) = coupon {
            gold.monthly_coupon_template_ids = vec![c];
            black.monthly_coupon_template_ids = vec![c];
            black.birthday_coupon_template_id = Some(c);
        }
        let program = TierProgram {
            metric: TierMetric::Spend12m,
            period_months: 12,
            grace_days: 30,
            tiers: vec![tier("normal", "普通", 1, 0, 0, 1_000), silver, gold, black],
        };
        self.tiers().save_program(&sys, program).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let placed = yutang_store::loyalty::tiers::place_by_spend_in(
            &mut tx,
            now - rules::WINDOW_MS,
            now,
            rules::add_months(now, 12),
        )
        .await?;
        tx.commit().await?;
        Ok(placed)
    }
}
