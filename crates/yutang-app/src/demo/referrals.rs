//! The demo's referral campaign (老带新, 元气森林's "new friend gets a gift, the inviter a
//! reward"): a program on the demo's acquisition link, five customers' personal links, three
//! weeks of friends adding the guide through them (signed callbacks carrying each inviter's
//! state), first orders for most of them — rewarded once a week has passed unrefunded, still
//! in their hold when recent, one refunded — and the attempts the fraud rules refused.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use yutang_core::acquisition::referrals::{Qualification, QualificationKind, ReferralSpec};
use yutang_core::ids::{CustomerId, OrderId};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderLine, OrderStatus};
use yutang_core::promotions::coupons::{CouponKind, Scope, TemplateSpec, Validity};
use yutang_core::promotions::{Audience, Window};
use yutang_core::time::Millis;
use yutang_wecom::CallbackCrypto;
use yutang_wecom::fake::{FakeEvent, FakeWecom};

use super::Demo;
use crate::Actor;
use crate::acquisition::referrals::Inviter;
use crate::customers::CustomerRef;
use crate::error::{AppError, Result};
use crate::orders::OrderInput;

const DAY: i64 = 86_400_000;

/// What the demo's referral campaign created.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoReferralSummary {
    pub programs: usize,
    pub inviters: usize,
    pub friends: usize,
    pub rewarded: usize,
    pub refused: usize,
}

const FRIENDS: [&str; 8] = [
    "小雨",
    "阿明",
    "刘女士",
    "Coco",
    "小唐",
    "许先生",
    "曹同学",
    "彭阿姨",
];

impl Demo<'_> {
    /// The campaign on acquisition-link code `code`, with the customers behind the external
    /// ids `inviters` as inviters. Deterministic (seeded).
    pub(super) async fn seed_demo_referrals(
        &self,
        fake: &FakeWecom,
        crypto: &CallbackCrypto,
        code: i64,
        inviters: &[String],
    ) -> Result<DemoReferralSummary> {
        let sys = Actor::system();
        let now = self.now();
        let mut summary = DemoReferralSummary::default();
        let template = |name: &str, off_fen: i64, threshold_fen: i64| TemplateSpec {
            name: name.into(),
            steps: vec![CouponKind::AmountOff {
                off_fen,
                threshold_fen,
            }],
            validity: Validity::DaysFromClaim { days: 30 },
            claim_window: Window {
                starts_at: Millis(now - 60 * DAY),
                ends_at: Millis(now + 365 * DAY),
            },
            stock: 1_000_000,
            per_customer: 50,
            audience: Audience::Everyone,
            scope: Scope::default(),
            return_on_refund: false,
            remind_hours_before: 48,
        };
        let gift = self
            .coupons()
            .create_coupon_template(&sys, template("好友礼 满80减20", 2000, 8000))
            .await?;
        let thanks = self
            .coupons()
            .create_coupon_template(&sys, template("邀请奖励 10元无门槛", 1000, 0))
            .await?;
        let program = self
            .acquisition()
            .create_program(
                &sys,
                ReferralSpec {
                    name: "老带新 · 邀好友得20元券".into(),
                    live_code_id: code,
                    description: "好友通过你的专属链接添加导购，首单满50元且7天内未退款，你得10元无门槛券，好友得满80减20券".into(),
                    starts_on: None,
                    ends_on: None,
                    qualification: Some(Qualification {
                        kind: QualificationKind::FirstOrder,
                        min_order_fen: 5000,
                        hold_days: 7,
                    }),
                    invitee_reward_template_id: Some(gift),
                    inviter_reward_template_id: Some(thanks),
                    inviter_daily_cap: 5,
                },
            )
            .await?;
        summary.programs = 1;
        let link_id = yutang_store::acquisition::get_code(&self.db, code)
            .await?
            .config_id;
        let mut rng = StdRng::seed_from_u64(5);
        let mut friends: Vec<(String, i64)> = Vec::new();
        let mut inviter_ids = Vec::new();
        for external in inviters {
            let Some(inviter) = self.customer_by_external(external).await? else {
                continue;
            };
            inviter_ids.push(inviter);
            let (link, _) = self
                .acquisition()
                .invite_link(&sys, program.id, Inviter::Customer(inviter))
                .await?;
            summary.inviters += 1;
            for _ in 0..rng.gen_range(2..=4) {
                let name = FRIENDS[rng.gen_range(0..FRIENDS.len())];
                let at = now - rng.gen_range(1..=21) * DAY - rng.gen_range(0..10) * 3_600_000;
                let ev = fake
                    .simulate_open_acquisition_link(&link_id, Some(&link.state), name)
                    .map_err(|e| AppError::Internal(format!("demo referral: {e}")))?;
                let FakeEvent::AddExternalContact {
                    external_userid, ..
                } = &ev
                else {
                    continue;
                };
                friends.push((external_userid.clone(), at));
                self.receive_demo_callback(crypto, &ev.to_xml(fake.corp_id(), at / 1000))
                    .await?;
            }
        }
        self.wecom().process_wecom_inbox(10_000).await?;
        // Two attempts the rules refuse: an inviter opening their own link, and a customer
        // who was in the pool long before.
        if let (Some(&first), Some(old)) = (inviter_ids.first(), inviters.last()) {
            let (link, _) = self
                .acquisition()
                .invite_link(&sys, program.id, Inviter::Customer(first))
                .await?;
            self.acquisition()
                .accept_invite(CustomerId(first), &link.code)
                .await?;
            if let Some(old) = self.customer_by_external(old).await?
                && old != first
            {
                self.acquisition()
                    .accept_invite(CustomerId(old), &link.code)
                    .await?;
            }
        }
        // First orders for most friends 1–3 days after the add; the seventh is refunded.
        for (i, (external, at)) in friends.iter().enumerate() {
            let Some(friend) = self.customer_by_external(external).await? else {
                continue;
            };
            summary.friends += 1;
            if i % 4 == 3 {
                continue;
            }
            let paid_at = (at + rng.gen_range(24..72) * 3_600_000).min(now - 60_000);
            let (order, _) = self
                .orders()
                .record_order(
                    &sys,
                    &OrderInput {
                        external_id: format!("DEMO-REF-{i:04}"),
                        customer: CustomerRef::Id(CustomerId(friend)),
                        channel: "mini_program".into(),
                        store_id: None,
                        guide_id: None,
                        campaign: "老带新".into(),
                        status: OrderStatus::Paid,
                        lines: vec![OrderLine::parse(
                            "GIFT-BOX",
                            "鲜果礼盒",
                            1,
                            Fen(5800 + 1000 * rng.gen_range(0..5)),
                        )?],
                        discount: Fen(0),
                        paid_at: Some(paid_at),
                        member_savings: Fen(0),
                    },
                )
                .await?;
            if i == 6 {
                self.orders()
                    .refund_order(
                        &sys,
                        OrderId(order.order.id),
                        &format!("DEMO-REF-R-{i:04}"),
                        Fen(order.order.amount),
                        Some((paid_at + DAY).min(now - 30_000)),
                    )
                    .await?;
            }
        }
        self.drain_jobs().await?;
        let totals = self.acquisition().program(&sys, program.id).await?.totals;
        summary.rewarded = usize::try_from(totals.rewarded).unwrap_or_default();
        summary.refused = totals
            .refused
            .iter()
            .map(|(_, n)| usize::try_from(*n).unwrap_or_default())
            .sum();
        Ok(summary)
    }

    async fn customer_by_external(&self, external: &str) -> Result<Option<i64>> {
        Ok(yutang_store::customers::find_by_identity(
            &self.db,
            &yutang_core::identity::Identity::parse("wecom_external", None, external)?,
        )
        .await?)
    }
}
