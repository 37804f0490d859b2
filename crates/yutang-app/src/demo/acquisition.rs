//! The demo's acquisition: channels with live codes on the fake WeCom corp, and a month of
//! adds through them that arrive the real way — signed, encrypted callbacks stored in the
//! inbox and applied by the inbox processor (so attribution, day counters, rotation, tags and
//! first-add rewards all run as in production) — followed by first orders within a few days
//! for part of the new customers, credited to the channel by last touch.
//!
//! The month's callbacks are in the past, so their welcomes are closed as expired (WeCom's
//! 20 s window); new scans while the demo runs are welcomed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use yutang_core::acquisition::{
    ChannelKind, ChannelSpec, CodeKind, GuideSlot, LiveCodeSpec, Schedule, Spread, Welcome,
    WelcomeAttachment,
};
use yutang_core::ids::{CustomerId, StaffId, StoreId};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderLine, OrderStatus};
use yutang_core::promotions::coupons::{CouponKind, Scope, TemplateSpec, Validity};
use yutang_core::promotions::{Audience, Window};
use yutang_core::time::Millis;
use yutang_wecom::fake::FakeWecom;
use yutang_wecom::{CallbackCrypto, fake::FakeEvent};

use super::Demo;
use crate::Actor;
use crate::customers::CustomerRef;
use crate::error::{AppError, Result};
use crate::orders::OrderInput;

const DAY: i64 = 86_400_000;

/// What the demo's acquisition created.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoAcquisitionSummary {
    pub channels: usize,
    pub codes: usize,
    pub adds: usize,
    pub first_orders: usize,
    /// The referral campaign (老带新) on the acquisition link.
    pub referrals: super::referrals::DemoReferralSummary,
}

const NAMES: [&str; 16] = [
    "小林",
    "阿杰",
    "王女士",
    "陈先生",
    "Lily",
    "小周",
    "赵阿姨",
    "孙老师",
    "吴同学",
    "郑先生",
    "冯女士",
    "褚小姐",
    "卫先生",
    "蒋阿姨",
    "沈同学",
    "韩先生",
];

impl Demo<'_> {
    /// Channels and codes for the first stores with two WeCom-linked guides, and 30 days of
    /// attributed adds and first orders. Deterministic (seeded).
    pub async fn seed_demo_acquisition(&self, fake: &FakeWecom) -> Result<DemoAcquisitionSummary> {
        let sys = Actor::system();
        let mut summary = DemoAcquisitionSummary::default();
        let now = self.now();
        let welcome_gift = self
            .coupons()
            .create_coupon_template(
                &sys,
                TemplateSpec {
                    name: "新人礼 满50减10".into(),
                    steps: vec![CouponKind::AmountOff {
                        off_fen: 1000,
                        threshold_fen: 5000,
                    }],
                    validity: Validity::DaysFromClaim { days: 14 },
                    claim_window: Window {
                        starts_at: Millis(now - 60 * DAY),
                        ends_at: Millis(now + 365 * DAY),
                    },
                    stock: 1_000_000,
                    per_customer: 1,
                    audience: Audience::Everyone,
                    scope: Scope::default(),
                    return_on_refund: false,
                    remind_hours_before: 48,
                },
            )
            .await?;
        let tags = yutang_store::tags::list_tags(&self.db).await?;
        let tag = |name: &str| tags.iter().find(|t| t.name == name).map(|t| t.id);
        // Stores with at least two linked guides, in id order.
        let linked = yutang_store::staff::wecom_linked(&self.db).await?;
        let mut stores: Vec<(i64, Vec<(i64, String)>)> = Vec::new();
        for s in linked.iter().filter(|s| s.role == "guide") {
            let (Some(store), Some(u)) = (s.store_id, s.wecom_userid.clone()) else {
                continue;
            };
            match stores.iter_mut().find(|(id, _)| *id == store) {
                Some((_, g)) => g.push((s.id, u)),
                None => stores.push((store, vec![(s.id, u)])),
            }
        }
        stores.retain(|(_, g)| g.len() >= 2);
        stores.sort_by_key(|(id, _)| *id);
        if stores.is_empty() {
            return Ok(summary);
        }
        let welcome = |text: &str| Welcome {
            text: text.into(),
            attachments: vec![WelcomeAttachment::Link {
                title: "新人礼：满50减10".into(),
                url: "https://example.invalid/h5/coupons".into(),
                picurl: None,
                desc: Some("添加导购即送，14 天内有效".into()),
            }],
        };
        let working = Schedule {
            weekdays: vec![],
            start: chrono::NaiveTime::from_hms_opt(8, 0, 0),
            end: chrono::NaiveTime::from_hms_opt(22, 0, 0),
        };
        // (channel name, kind, store index, tag, codes: (name, state, spread))
        let plan: [(&str, ChannelKind, usize, Option<&str>, &str); 4] = [
            (
                "门店台卡·首店",
                ChannelKind::StoreStand,
                0,
                Some("门店扫码"),
                "stand",
            ),
            (
                "外卖包裹卡",
                ChannelKind::PackageCard,
                1 % stores.len(),
                Some("小程序"),
                "pkg",
            ),
            (
                "周五直播间",
                ChannelKind::LiveStream,
                2 % stores.len(),
                Some("直播间"),
                "live",
            ),
            (
                "公众号·新品季",
                ChannelKind::OfficialAccount,
                3 % stores.len(),
                None,
                "oa",
            ),
        ];
        let mut codes: Vec<(String, Vec<String>)> = Vec::new();
        let mut link_code = None;
        for (name, kind, si, tag_name, state) in plan {
            let (store, guides) = &stores[si];
            let channel = self
                .acquisition()
                .create_channel(
                    &sys,
                    ChannelSpec {
                        name: name.into(),
                        kind,
                        owner_staff_id: Some(guides[0].0),
                        store_id: (kind == ChannelKind::StoreStand).then_some(*store),
                        region_id: None,
                        starts_on: None,
                        ends_on: None,
                        tag_ids: tag_name.and_then(tag).into_iter().collect(),
                        welcome: Some(welcome(
                            "{customer_name} 您好，我是鲜果时光的{guide_name} 🍊 新人礼已放进您的卡包，下单立减 10 元",
                        )),
                        reward_template_id: Some(welcome_gift),
                    },
                )
                .await?;
            summary.channels += 1;
            let weighted = kind == ChannelKind::LiveStream;
            let code = self
                .acquisition()
                .create_live_code(
                    &sys,
                    LiveCodeSpec {
                        channel_id: channel.id,
                        name: format!("{name} 活码"),
                        // The article links to an acquisition link; the others print a QR.
                        kind: if kind == ChannelKind::OfficialAccount {
                            CodeKind::Link
                        } else {
                            CodeKind::ContactWay
                        },
                        state: Some(format!("demo-{state}")),
                        skip_verify: true,
                        guides: guides
                            .iter()
                            .take(3)
                            .enumerate()
                            .map(|(i, (id, _))| GuideSlot {
                                staff_id: *id,
                                daily_cap: if i == 0 { 6 } else { 200 },
                                weight: if weighted && i == 0 { 2 } else { 1 },
                            })
                            .collect(),
                        backup_staff_id: None,
                        schedule: if kind == ChannelKind::StoreStand {
                            working.clone()
                        } else {
                            Schedule::default()
                        },
                        spread: if weighted {
                            Spread::Weighted
                        } else {
                            Spread::Even
                        },
                        poster: Default::default(),
                    },
                )
                .await?;
            summary.codes += 1;
            if code.spec.kind == CodeKind::Link {
                link_code = Some(code.id);
            }
            codes.push((
                code.state.clone(),
                guides.iter().take(3).map(|(_, u)| u.clone()).collect(),
            ));
        }
        // 30 days of adds: the callbacks a corp would have sent, applied by the inbox.
        let cfg = self.wecom().wecom_config().await?;
        let (Some(token), Some(key)) = (&cfg.callback_token, &cfg.encoding_aes_key) else {
            return Ok(summary);
        };
        let crypto = CallbackCrypto::from_encoding_aes_key(
            token.expose().to_owned(),
            key.expose(),
            fake.corp_id().to_owned(),
        )
        .map_err(|e| AppError::Internal(format!("demo callback crypto: {e}")))?;
        let mut rng = StdRng::seed_from_u64(19);
        let mut added: Vec<(String, i64)> = Vec::new();
        for day in (1..=30).rev() {
            for (ci, (state, userids)) in codes.iter().enumerate() {
                let n = rng.gen_range(0..=(4 - ci.min(2)));
                for _ in 0..n {
                    let userid = &userids[rng.gen_range(0..userids.len())];
                    let name = NAMES[rng.gen_range(0..NAMES.len())];
                    let at = now - day * DAY + rng.gen_range(0..12) * 3_600_000;
                    let ev = fake.simulate_add_customer(userid, name, Some(state));
                    let FakeEvent::AddExternalContact {
                        external_userid, ..
                    } = &ev
                    else {
                        continue;
                    };
                    added.push((external_userid.clone(), at));
                    self.receive_demo_callback(&crypto, &ev.to_xml(fake.corp_id(), at / 1000))
                        .await?;
                    summary.adds += 1;
                }
            }
        }
        // The month's adds also said goodbye now and then: a few customers deleted the guide.
        self.wecom().process_wecom_inbox(10_000).await?;
        self.drain_jobs().await?;
        // First orders for about a third, 0–6 days after the add (never in the future).
        for (i, (external, at)) in added.iter().enumerate() {
            if rng.gen_range(0..3) != 0 {
                continue;
            }
            let paid_at = (at + rng.gen_range(1..(7 * 24)) * 3_600_000).min(now - 60_000);
            let Some(customer) = yutang_store::customers::find_by_identity(
                &self.db,
                &yutang_core::identity::Identity::parse("wecom_external", None, external)?,
            )
            .await?
            else {
                continue;
            };
            let guide = linked
                .iter()
                .find(|s| s.role == "guide")
                .map(|s| (StaffId(s.id), s.store_id.map(StoreId)));
            let price = 1990 + 500 * rng.gen_range(0..12);
            self.orders()
                .record_order(
                    &sys,
                    &OrderInput {
                        external_id: format!("DEMO-ACQ-{i:04}"),
                        customer: CustomerRef::Id(CustomerId(customer)),
                        channel: "mini_program".into(),
                        store_id: guide.and_then(|g| g.1),
                        guide_id: guide.map(|g| g.0),
                        campaign: "新人首单".into(),
                        status: OrderStatus::Paid,
                        lines: vec![OrderLine::parse(
                            "NEW-BOX",
                            "当季鲜果尝鲜盒",
                            1,
                            Fen(price),
                        )?],
                        discount: Fen(0),
                        paid_at: Some(paid_at),
                        member_savings: Fen(0),
                    },
                )
                .await?;
            summary.first_orders += 1;
        }
        if let Some(code) = link_code {
            let inviters: Vec<String> = added.iter().take(5).map(|(e, _)| e.clone()).collect();
            summary.referrals = self
                .seed_demo_referrals(fake, &crypto, code, &inviters)
                .await?;
        }
        Ok(summary)
    }

    /// Store one callback in the inbox the way the HTTP endpoint does (signed, encrypted).
    pub(super) async fn receive_demo_callback(
        &self,
        crypto: &CallbackCrypto,
        xml: &str,
    ) -> Result<()> {
        let mut random = [0u8; 16];
        rand::Rng::fill(&mut rand::thread_rng(), &mut random);
        let encrypt = crypto
            .encrypt_payload(random, xml)
            .map_err(|e| AppError::Internal(format!("demo callback: {e}")))?;
        let (ts, nonce) = ("1", "demo");
        let sig = crypto.signature(ts, nonce, &encrypt);
        let body = format!("<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>");
        self.wecom()
            .wecom_receive(&sig, ts, nonce, &body)
            .await
            .map_err(|e| AppError::Internal(format!("demo callback: {e}")))?;
        Ok(())
    }
}
