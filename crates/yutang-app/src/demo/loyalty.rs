//! The demo's paid member cards, points mall, stored value and member gifts — each through
//! its own use cases (not bulk-loaded), so the console opens on the pages an operations team
//! would see after a few months: card members with their savings and the guarantee's refund
//! list, mall items with exchanges in every fulfilment state, stored-value balances with
//! their gift portions, and this month's birthday gifts.

use yutang_core::ids::CustomerId;
use yutang_core::loyalty::cards::CardSpec;
use yutang_core::loyalty::mall::{ItemKind, ItemSpec};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderLine, OrderStatus};

use super::Demo;
use crate::Actor;
use crate::customers::CustomerRef;
use crate::error::{AppError, Result};
use crate::loyalty::cards::PurchaseInput;
use crate::loyalty::gifts::RuleInput;
use crate::loyalty::mall::Step;
use crate::loyalty::stored_value::{GiftRuleInput, SpendInput, TopUpInput};
use crate::orders::OrderInput;

const DAY: i64 = 86_400_000;

/// What the demo's loyalty programmes hold after seeding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoyaltySeeded {
    pub card_purchases: usize,
    pub card_refunds_owed: usize,
    pub exchanges: usize,
    pub top_ups: usize,
}

fn card(key: &str, name: &str, days: i64, price: i64, pack: Vec<i64>) -> CardSpec {
    CardSpec {
        key: key.into(),
        name: name.into(),
        period_days: days,
        price_fen: price,
        points_multiplier: 2_000,
        monthly_coupon_template_ids: pack,
        savings_guarantee: true,
    }
}

fn item(kind: ItemKind, name: &str, points: i64, cash: i64, stock: i64) -> ItemSpec {
    ItemSpec {
        kind,
        name: name.into(),
        description: String::new(),
        image_url: None,
        points_price: points,
        cash_price_fen: cash,
        stock,
        per_customer_limit: Some(2),
        coupon_template_id: None,
        sku: None,
        starts_at: None,
        ends_at: None,
        on_sale: true,
        payment_minutes: 15,
    }
}

impl Demo<'_> {
    /// Seed the four programmes over the customers who hold points (the pool's buyers).
    pub(super) async fn seed_demo_loyalty(&self) -> Result<LoyaltySeeded> {
        let sys = Actor::system();
        let now = self.now();
        let mut seeded = LoyaltySeeded::default();
        let templates: Vec<(i64, String)> = self
            .coupons()
            .coupon_templates(&sys)
            .await?
            .into_iter()
            .filter(|t| t.row.status == "active")
            .map(|t| (t.row.id, t.row.name.clone()))
            .collect();
        let template = |needle: &str| {
            templates
                .iter()
                .find(|(_, n)| n.contains(needle))
                .or(templates.first())
                .map(|(id, _)| *id)
        };
        let buyers: Vec<i64> = yutang_store::loyalty::points::holders(&self.db, 1, 4_000)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect();

        // Cards: 月卡 ¥18 and 年卡 ¥198, double points, the monthly pack, the guarantee.
        let pack: Vec<i64> = template("月度礼包").into_iter().collect();
        self.cards()
            .create_product(&sys, card("monthly", "月卡", 30, 1_800, pack.clone()))
            .await?;
        self.cards()
            .create_product(&sys, card("annual", "年卡", 365, 19_800, pack))
            .await?;
        for (i, c) in buyers.iter().enumerate().filter(|(i, _)| i % 20 == 0) {
            // Every 3rd of them bought a month that has ended since: settled below, with
            // an order at member prices that saved either more or less than the card cost.
            let (key, ago) = match i / 20 % 3 {
                0 => ("monthly", 10 * DAY),
                1 => ("annual", 120 * DAY),
                _ => ("monthly", 45 * DAY),
            };
            let bought = now - ago;
            self.cards()
                .record_purchase(
                    &sys,
                    &PurchaseInput {
                        order_no: format!("DEMO-CARD-{i:05}"),
                        customer: CustomerId(*c),
                        card_key: key.into(),
                        paid_fen: None,
                        paid_at: Some(bought),
                    },
                )
                .await?;
            seeded.card_purchases += 1;
            let saved = if i % 40 == 0 { 2_400 } else { 700 };
            self.orders()
                .record_order(
                    &sys,
                    &OrderInput {
                        external_id: format!("DEMO-CARD-ORDER-{i:05}"),
                        customer: CustomerRef::Id(CustomerId(*c)),
                        channel: "mini_program".into(),
                        store_id: None,
                        guide_id: None,
                        campaign: "会员价".into(),
                        status: OrderStatus::Paid,
                        lines: vec![OrderLine::parse(
                            "MEMBER-BOX",
                            "会员价 · 当季鲜果箱",
                            1,
                            Fen(12_800),
                        )?],
                        discount: Fen(0),
                        paid_at: Some(bought + 2 * DAY),
                        member_savings: Fen(saved),
                    },
                )
                .await?;
        }
        self.cards().run_settlement().await?;
        seeded.card_refunds_owed = self
            .cards()
            .refunds(&sys, &Default::default())
            .await?
            .total
            .try_into()
            .unwrap_or(0);

        // The points mall: a coupon, a physical gift, a product for points + cash.
        let mut coupon = item(ItemKind::Coupon, "5元无门槛券", 500, 0, 10_000);
        coupon.coupon_template_id = template("5元");
        coupon.per_customer_limit = Some(5);
        let coupon = self.mall().create_item(&sys, coupon).await?;
        let mut bag = item(ItemKind::Gift, "鱼塘鲜果 帆布袋", 1_200, 0, 300);
        bag.description = "限量款，包邮到家".into();
        let bag = self.mall().create_item(&sys, bag).await?;
        let mut fruit = item(
            ItemKind::Product,
            "阳光玫瑰 1 斤（积分+现金）",
            800,
            990,
            200,
        );
        fruit.sku = Some("SKU-GRAPE-500G".into());
        self.mall().create_item(&sys, fruit).await?;
        for (i, c) in buyers.iter().enumerate().filter(|(i, _)| i % 25 == 3) {
            let which = if i % 2 == 0 { coupon.id } else { bag.id };
            let got = self
                .mall()
                .exchange(&sys, CustomerId(*c), which, Some(&format!("demo-mall-{i}")))
                .await;
            let (ex, _) = match got {
                Ok(x) => x,
                // A buyer with fewer points than the price is refused, as at the till.
                Err(AppError::Invalid(_) | AppError::Rule { .. }) => continue,
                Err(e) => return Err(e),
            };
            seeded.exchanges += 1;
            if which == bag.id && i % 3 == 0 {
                let step = Step::Ship {
                    carrier: "顺丰速运".into(),
                    tracking_no: format!("SF{:012}", 100_000 + i),
                };
                self.mall().step(&sys, ex.id, step).await?;
            }
        }

        // Stored value: two top-up gift rules, top-ups and a few spends at the till.
        self.stored_value()
            .save_gift_rule(
                &sys,
                None,
                &GiftRuleInput {
                    name: "充500送50".into(),
                    min_top_up_fen: 50_000,
                    gift_fen: 5_000,
                    points: 0,
                    coupon_template_id: None,
                    active: true,
                },
            )
            .await?;
        self.stored_value()
            .save_gift_rule(
                &sys,
                None,
                &GiftRuleInput {
                    name: "充1000送120 加赠200积分".into(),
                    min_top_up_fen: 100_000,
                    gift_fen: 12_000,
                    points: 200,
                    coupon_template_id: None,
                    active: true,
                },
            )
            .await?;
        for (i, c) in buyers.iter().enumerate().filter(|(i, _)| i % 30 == 7) {
            let amount = [30_000, 50_000, 100_000][i % 3];
            self.stored_value()
                .top_up(
                    &sys,
                    CustomerId(*c),
                    &TopUpInput {
                        order_no: format!("DEMO-SV-{i:05}"),
                        amount_fen: amount,
                    },
                )
                .await?;
            seeded.top_ups += 1;
            if i % 2 == 1 {
                self.stored_value()
                    .spend(
                        &sys,
                        CustomerId(*c),
                        &SpendInput {
                            amount_fen: 8_800,
                            order_ref: format!("DEMO-POS-SV-{i:05}"),
                        },
                        Some(&format!("demo-sv-spend-{i}")),
                    )
                    .await?;
            }
        }

        // Member gifts: a birthday coupon in the birthday month, anniversary points on the day.
        self.gifts()
            .save_rule(
                &sys,
                None,
                &RuleInput {
                    name: "生日月礼：无门槛券".into(),
                    kind: "birthday".into(),
                    mode: "month".into(),
                    coupon_template_id: template("5元"),
                    points: 100,
                    gift_fen: 0,
                    active: true,
                },
            )
            .await?;
        self.gifts()
            .save_rule(
                &sys,
                None,
                &RuleInput {
                    name: "入会周年礼：300积分".into(),
                    kind: "anniversary".into(),
                    mode: "day".into(),
                    coupon_template_id: None,
                    points: 300,
                    gift_fen: 0,
                    active: true,
                },
            )
            .await?;
        self.gifts().run_now(None).await?;
        Ok(seeded)
    }
}
