//! The demo brand's promotions (百果园-style): a running Tuesday member-day coupon, a
//! stepped monthly coupon pack, a group-members-only coupon, a Friday flash sale and a
//! group-buy with open and completed teams. Switches on the demo-only customer login.

use yutang_core::ids::CustomerId;
use yutang_core::promotions::coupons::{CouponKind, Scope, TemplateSpec, Validity};
use yutang_core::promotions::flash_sales::FlashSaleSpec;
use yutang_core::promotions::group_buys::GroupBuySpec;
use yutang_core::promotions::{Audience, Window};
use yutang_core::time::Millis;
use yutang_store::promotions as store;

use super::Demo;
use crate::Actor;
use crate::error::Result;

const DAY: i64 = 86_400_000;

/// The end (22:00 Shanghai) of the coming Friday (today if it is Friday). China keeps UTC+8
/// all year, so plain integer arithmetic is exact; 1970-01-01 was a Thursday.
fn friday_night(now: i64) -> i64 {
    const HOUR: i64 = 3_600_000;
    let days = (now + 8 * HOUR).div_euclid(DAY);
    let weekday = (days + 3).rem_euclid(7); // Monday = 0
    let ahead = (4 - weekday).rem_euclid(7);
    (days + ahead) * DAY + 22 * HOUR - 8 * HOUR
}

impl Demo<'_> {
    pub(crate) async fn seed_demo_promotions(&self, customers: usize) -> Result<()> {
        let sys = Actor::system();
        let now = self.now();
        store::set_setting(&self.db, crate::customer_tokens::DEMO_LOGIN_KEY, "1").await?;
        let claim_window = Window {
            starts_at: Millis(now - 30 * DAY),
            ends_at: Millis(now + 60 * DAY),
        };
        let tuesday = self
            .coupons()
            .create_coupon_template(
                &sys,
                TemplateSpec {
                    name: "周二会员日 满59减10".into(),
                    steps: vec![CouponKind::AmountOff {
                        off_fen: 1000,
                        threshold_fen: 5900,
                    }],
                    validity: Validity::DaysFromClaim { days: 7 },
                    claim_window,
                    stock: 5000,
                    per_customer: 4,
                    audience: Audience::Everyone,
                    scope: Scope::default(),
                    return_on_refund: true,
                    remind_hours_before: 24,
                },
            )
            .await?;
        self.coupons()
            .create_coupon_template(
                &sys,
                TemplateSpec {
                    name: "月度礼包 70元（三张）".into(),
                    steps: vec![
                        CouponKind::AmountOff {
                            off_fen: 1000,
                            threshold_fen: 5900,
                        },
                        CouponKind::AmountOff {
                            off_fen: 2000,
                            threshold_fen: 11900,
                        },
                        CouponKind::AmountOff {
                            off_fen: 4000,
                            threshold_fen: 19900,
                        },
                    ],
                    validity: Validity::DaysFromClaim { days: 30 },
                    claim_window,
                    stock: 2000,
                    per_customer: 1,
                    audience: Audience::Everyone,
                    scope: Scope {
                        channels: vec!["mini_program".into()],
                        store_ids: Vec::new(),
                    },
                    return_on_refund: true,
                    remind_hours_before: 48,
                },
            )
            .await?;
        self.coupons()
            .create_coupon_template(
                &sys,
                TemplateSpec {
                    name: "入群专享 5元无门槛券".into(),
                    steps: vec![CouponKind::AmountOff {
                        off_fen: 500,
                        threshold_fen: 0,
                    }],
                    validity: Validity::DaysFromClaim { days: 3 },
                    claim_window,
                    stock: 10_000,
                    per_customer: 1,
                    audience: Audience::GroupMembers,
                    scope: Scope::default(),
                    return_on_refund: false,
                    remind_hours_before: 24,
                },
            )
            .await?;
        // Product pictures (plain colour cards, made here: the demo loads nothing from
        // elsewhere), uploaded like staff upload theirs.
        let picture = async |rgb: [u8; 3]| -> Result<Option<i64>> {
            let png = yutang_core::media::solid_png(160, 120, rgb);
            Ok(Some(self.media().upload_image(&sys, &png).await?.0.id))
        };
        let (durian, grape, cherry) = (
            picture([0xE8, 0xB9, 0x23]).await?,
            picture([0x8D, 0xB6, 0x00]).await?,
            picture([0xB0, 0x10, 0x2A]).await?,
        );
        // Member-day coupons already claimed by the first customers.
        let t = self.coupons().coupon_template(&sys, tuesday).await?;
        for c in 1..=customers.min(120) as i64 {
            self.write_demo_claim(&t, CustomerId(c)).await?;
        }
        self.flash_sales()
            .create_flash_sale(
                &sys,
                FlashSaleSpec {
                    name: "周五秒杀 · 金枕榴莲".into(),
                    sku: "DURIAN-GOLD-1".into(),
                    item_name: "泰国金枕榴莲 约 5 斤".into(),
                    price_fen: 9900,
                    original_price_fen: 19900,
                    stock: 100,
                    window: Window {
                        starts_at: Millis(now - 3_600_000),
                        ends_at: Millis(friday_night(now).max(now + DAY)),
                    },
                    per_customer: 1,
                    hold_minutes: 15,
                    audience: Audience::Everyone,
                    image_id: durian,
                },
            )
            .await?;
        let gb = self
            .group_buys()
            .create_group_buy(
                &sys,
                GroupBuySpec {
                    name: "三人团 · 阳光玫瑰".into(),
                    sku: "GRAPE-SHINE-2".into(),
                    item_name: "阳光玫瑰青提 2 斤装".into(),
                    price_fen: 3990,
                    original_price_fen: 5990,
                    leader_discount_fen: 500,
                    team_size: 3,
                    time_limit_minutes: 24 * 60,
                    stock: 600,
                    window: Window {
                        starts_at: Millis(now - 7 * DAY),
                        ends_at: Millis(now + 30 * DAY),
                    },
                    audience: Audience::Everyone,
                    image_id: grape,
                },
            )
            .await?;
        self.group_buys()
            .create_group_buy(
                &sys,
                GroupBuySpec {
                    name: "两人团 · 智利车厘子".into(),
                    sku: "CHERRY-JJ-2".into(),
                    item_name: "智利车厘子 JJ 级 2 斤".into(),
                    price_fen: 8990,
                    original_price_fen: 12990,
                    leader_discount_fen: 1000,
                    team_size: 2,
                    time_limit_minutes: 12 * 60,
                    stock: 300,
                    window: Window {
                        starts_at: Millis(now - DAY),
                        ends_at: Millis(now + 14 * DAY),
                    },
                    audience: Audience::Everyone,
                    image_id: cherry,
                },
            )
            .await?;
        // Two completed teams and three open ones (one still needs two, two need one).
        let n = customers as i64;
        if n >= 20 {
            for (leader, joiners) in [
                (11, vec![12, 13]),
                (14, vec![15, 16]),
                (17, vec![]),
                (18, vec![19]),
                (20, vec![2]),
            ] {
                let group_buys = self.group_buys();
                let (team, _) = group_buys.open_team(CustomerId(leader), gb, None).await?;
                for j in joiners {
                    group_buys
                        .join_team(CustomerId(j), team.team_id, Some(CustomerId(leader)), None)
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn write_demo_claim(
        &self,
        t: &crate::promotions::coupons::TemplateView,
        c: CustomerId,
    ) -> Result<()> {
        self.coupons()
            .issue_coupon(&Actor::system(), t.row.id, c)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fridays_are_found() {
        // 2026-11-23 (a Monday) 12:00 Shanghai → Friday 2026-11-27 22:00 Shanghai.
        let monday = 1_795_406_400_000;
        assert_eq!(friday_night(monday), 1_795_788_000_000);
        assert_eq!(
            Millis(friday_night(monday)).to_shanghai_string(),
            "2026-11-27 22:00:00"
        );
        // On Friday itself, the same evening.
        assert_eq!(
            friday_night(1_795_788_000_000 - 3_600_000),
            1_795_788_000_000
        );
    }
}
