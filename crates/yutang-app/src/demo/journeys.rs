//! The demo brand's journeys (自动化旅程): 百果园's Tuesday member day, a birthday greeting, a
//! "silent for 30 days → the guide follows up" journey, the new-contact welcome and the
//! coupon-expiry reminder delivered as a message — all active, so the 自动化旅程 pages have
//! live journeys and `yutang serve` runs them. And 百果园's daily group rhythm as group SOPs
//! (群 SOP): morning arrivals, the afternoon flash sale and good-night as tasks for each group
//! owner to post (three posts a day fit no monthly receipt cap), and the Tuesday member-day
//! post as a WeCom group mass message — the SOP calendar's week.

use yutang_core::journeys::{
    DEFAULT_QUIET, DateAttribute, Definition, Entry, GroupDelivery, Step, TimeOfDay, Trigger,
};

use super::Demo;
use crate::Actor;
use crate::error::Result;
use crate::journeys::JourneyInput;

fn at(h: u16, m: u16) -> TimeOfDay {
    TimeOfDay(h * 60 + m)
}

impl Demo<'_> {
    pub(crate) async fn seed_demo_journeys(&self) -> Result<usize> {
        let sys = Actor::system();
        let now = self.now();
        // The demo's own coupon templates and materials, by name.
        let template = |name: &'static str| async move {
            let sql_name = name.to_owned();
            yutang_store::journeys::id_by_name(&self.db, "coupon_templates", &sql_name).await
        };
        let material = |title: &'static str| async move {
            yutang_store::journeys::id_by_name(&self.db, "materials", title).await
        };
        let welcome_coupon = template("入群专享 5元无门槛券").await?;
        let member_day_coupon = template("周二会员日 满59减10").await?;
        let member_day_poster = material("周二会员日海报").await?;
        let reminder_copy = material("会员日提醒话术").await?;
        let day = 86_400;
        let journeys: Vec<(&str, Definition)> = vec![
            (
                "新客欢迎：入群券 + 导购回访",
                Definition {
                    trigger: Trigger::Event {
                        event: "add_friend".into(),
                    },
                    steps: vec![
                        Step::Wait { seconds: 600 },
                        Step::Message {
                            attachments: Vec::new(),
                            text:
                                "欢迎加入鱼塘鲜果会员！5 元无门槛券已放入您的卡包，今天下单就能用～"
                                    .into(),
                        },
                        Step::Coupon {
                            template_id: welcome_coupon,
                        },
                        Step::Wait { seconds: 3 * day },
                        Step::Branch {
                            expression: "last_order within 3d".into(),
                            else_step: 6,
                        },
                        Step::Goto { step: 7 },
                        Step::Task {
                            title: "新客 3 天未下单：电话或私聊回访".into(),
                            body: "问问口味偏好，推荐当季水果，提醒入群券 7 天内有效。".into(),
                            material_id: None,
                            due_hours: 24,
                        },
                    ],
                    entry: Entry::Once,
                    quiet_hours: Some(DEFAULT_QUIET),
                },
            ),
            (
                "周二会员日",
                Definition {
                    trigger: Trigger::Schedule {
                        weekdays: vec![1],
                        time: Some(at(18, 0)),
                        at: None,
                        audience: "orders_90d >= 1".into(),
                    },
                    steps: vec![
                        Step::Message {
                            attachments: Vec::new(),
                            text: "明天就是会员日啦～全场 8 折、积分翻倍，满 59 减 10 券已备好！"
                                .into(),
                        },
                        Step::WaitUntil { time: at(10, 0) },
                        Step::Coupon {
                            template_id: member_day_coupon,
                        },
                        Step::Task {
                            title: "会员日：把海报发给熟客".into(),
                            body: "挑 10 位常买的顾客私发会员日海报。".into(),
                            material_id: Some(member_day_poster),
                            due_hours: 8,
                        },
                    ],
                    entry: Entry::Reentry,
                    quiet_hours: Some(DEFAULT_QUIET),
                },
            ),
            (
                "生日关怀",
                Definition {
                    trigger: Trigger::Date {
                        attribute: DateAttribute::Birthday,
                        offset_days: 0,
                        time: at(9, 0),
                    },
                    steps: vec![
                        Step::Message {
                            attachments: Vec::new(),
                            text: "生日快乐！鱼塘鲜果为您准备了生日礼，到店出示会员码即可领取。"
                                .into(),
                        },
                        Step::Notify {
                            text: "今天是这位顾客的生日，记得送上祝福～".into(),
                        },
                    ],
                    entry: Entry::Cooldown { days: 300 },
                    quiet_hours: Some(DEFAULT_QUIET),
                },
            ),
            (
                "沉睡 30 天唤醒",
                Definition {
                    trigger: Trigger::SegmentEnter {
                        expression: "last_order before 30d ago and last_order within 90d".into(),
                    },
                    steps: vec![
                        Step::Task {
                            title: "顾客 30 天未下单：跟进一下".into(),
                            body: "发一张会员日提醒或新品链接，了解最近的需要。".into(),
                            material_id: Some(reminder_copy),
                            due_hours: 48,
                        },
                        Step::Wait { seconds: 7 * day },
                        Step::Branch {
                            expression: "last_order within 7d".into(),
                            else_step: 4,
                        },
                        Step::Goto { step: 5 },
                        Step::Message {
                            attachments: Vec::new(),
                            text: "好久不见！本周到店有新鲜到货，会员日全场 8 折，等你来～".into(),
                        },
                    ],
                    entry: Entry::Cooldown { days: 60 },
                    quiet_hours: Some(DEFAULT_QUIET),
                },
            ),
            (
                "优惠券到期提醒",
                Definition {
                    trigger: Trigger::Event {
                        event: "coupon_reminder_queued".into(),
                    },
                    steps: vec![Step::Message {
                        attachments: Vec::new(),
                        text: "您有一张优惠券即将到期，别忘了使用哦～".into(),
                    }],
                    entry: Entry::Reentry,
                    quiet_hours: Some(DEFAULT_QUIET),
                },
            ),
        ];
        let every_day = vec![1, 2, 3, 4, 5, 6, 7];
        let group_sop = |days: Vec<u8>,
                         time: TimeOfDay,
                         text: &str,
                         delivery: GroupDelivery,
                         material_id: Option<i64>| Definition {
            trigger: Trigger::GroupSchedule {
                weekdays: days,
                time: Some(time),
                at: None,
                group_ids: Vec::new(),
                all_groups: true,
            },
            steps: vec![Step::GroupMessage {
                text: text.into(),
                attachments: Vec::new(),
                material_id,
                delivery,
            }],
            entry: Entry::Reentry,
            quiet_hours: Some(DEFAULT_QUIET),
        };
        let mut journeys = journeys;
        journeys.extend([
            (
                "群SOP·早安上新",
                group_sop(
                    every_day.clone(),
                    at(9, 0),
                    "早上好！今天到店：智利车厘子、海南金煌芒、云南蓝莓，拍照发群里，标好价格和库存～",
                    GroupDelivery::OwnerTask,
                    None,
                ),
            ),
            (
                "群SOP·下午秒杀",
                group_sop(
                    every_day.clone(),
                    at(15, 0),
                    "下午三点秒杀开始！车厘子 5 斤 199 元，接龙下单：回复「车厘子+数量」，限量 30 份～",
                    GroupDelivery::OwnerTask,
                    None,
                ),
            ),
            (
                "群SOP·晚安",
                group_sop(
                    every_day,
                    at(21, 0),
                    "今天的秒杀和接龙都已截单，明早 9 点见，晚安～",
                    GroupDelivery::OwnerTask,
                    None,
                ),
            ),
            (
                "群SOP·周二会员日",
                group_sop(
                    vec![2],
                    at(10, 0),
                    "周二会员水果日！群成员进小程序领专享满 59 减 10 券，今天全天可用～",
                    GroupDelivery::MassMessage,
                    None,
                ),
            ),
            (
                "群SOP·会员日海报",
                group_sop(
                    vec![1],
                    at(18, 0),
                    "明天周二会员日，把海报发到群里预热～",
                    GroupDelivery::OwnerTask,
                    Some(member_day_poster),
                ),
            ),
        ]);
        let j = self.journeys();
        let mut n = 0;
        for (name, def) in journeys {
            let input = JourneyInput::parse(name, def, now)?;
            let id = j.create(&sys, &input).await?.journey.id;
            j.activate(&sys, id).await?;
            n += 1;
        }
        Ok(n)
    }
}
