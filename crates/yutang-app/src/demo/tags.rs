//! The demo brand's tags, auto-tag rules and saved segments, added after the customer pool:
//! interest and channel tags spread with skewed popularity, the lifecycle and RFM rules, an
//! "in a customer group" rule, and a few segments operators would keep.

use rand::Rng;
use rand::rngs::StdRng;
use yutang_core::tags::RuleSpec;
use yutang_store::bulk::{Table, Val};
use yutang_store::tags as store;

use super::Demo;
use crate::Actor;
use crate::error::Result;

/// `(tag, colour, share of customers in ‰)`.
type DemoTag = (&'static str, &'static str, u32);

/// `(group, multi-select, tags)`.
const GROUPS: [(&str, bool, &[DemoTag]); 3] = [
    (
        "兴趣",
        true,
        &[
            ("车厘子", "#c41d7f", 260),
            ("榴莲", "#d48806", 140),
            ("果切", "#389e0d", 200),
            ("礼盒", "#cf1322", 90),
            ("进口水果", "#1677ff", 120),
            ("低糖", "#08979c", 60),
        ],
    ),
    (
        "渠道偏好",
        false,
        &[
            ("到店", "#0b7a75", 450),
            ("小程序", "#1677ff", 350),
            ("外卖", "#fa8c16", 200),
        ],
    ),
    (
        "客户类型",
        true,
        &[
            ("企业团购", "#531dab", 30),
            ("宝妈", "#eb2f96", 180),
            ("学生", "#13c2c2", 80),
        ],
    ),
];

const SEGMENTS: [(&str, &str); 4] = [
    (
        "上海车厘子爱好者",
        r#"tag("兴趣/车厘子") and city = "上海""#,
    ),
    ("复购未入群", "orders_90d >= 2 and not in_group"),
    (
        "沉睡高价值",
        r#"tag("生命周期/沉睡") and total_spent_fen >= ¥500"#,
    ),
    (
        "本月生日会员",
        r#"tag("生日/本月生日") and level in ("金卡", "黑金")"#,
    ),
];

impl Demo<'_> {
    /// Add the demo's tags, rules and segments to a freshly seeded pool of `customers`
    /// (dense ids 1..=customers), then build the segment index.
    pub(crate) async fn seed_demo_tags(&self, rng: &mut StdRng, customers: usize) -> Result<()> {
        let now = self.now();
        let mut rows = Vec::new();
        for (g_sort, (group, multi, tags)) in GROUPS.iter().enumerate() {
            let gid =
                store::create_group(&self.db, group, *multi, g_sort as i64, "manual", now).await?;
            let mut ids = Vec::new();
            for (t_sort, (name, color, permille)) in tags.iter().enumerate() {
                ids.push((
                    store::create_tag(&self.db, gid, name, color, t_sort as i64, now).await?,
                    *permille,
                ));
            }
            for cid in 1..=customers as i64 {
                if *multi {
                    for (tid, p) in &ids {
                        if rng.gen_range(0..1000) < *p {
                            rows.push(tag_row(cid, *tid, now));
                        }
                    }
                } else {
                    // Single-select: at most one, by the shares.
                    let mut roll = rng.gen_range(0..1000u32);
                    for (tid, p) in &ids {
                        if roll < *p {
                            rows.push(tag_row(cid, *tid, now));
                            break;
                        }
                        roll -= p;
                    }
                }
            }
        }
        let table = Table {
            name: "customer_tags",
            columns: &["customer_id", "tag_id", "source", "staff_id", "created_at"],
            rows,
        };
        yutang_store::bulk::load(&self.db, &[table], &|_, _| {}).await?;
        self.segments.rebuild(&self.db, now).await?;
        let system = Actor::system();
        let rules: [(&str, RuleSpec); 5] = [
            (
                "生命周期",
                RuleSpec::Lifecycle {
                    new_days: 30,
                    active_days: 90,
                    dormant_days: 180,
                },
            ),
            (
                "RFM",
                RuleSpec::Rfm {
                    recency_days: 60,
                    frequency_min: 1,
                    monetary_min_fen: 1,
                },
            ),
            (
                "社群",
                RuleSpec::Expression {
                    tag: "已入群".into(),
                    expression: "in_group".into(),
                },
            ),
            (
                "生日",
                RuleSpec::BirthdayMonth {
                    tag: "本月生日".into(),
                },
            ),
            (
                "领券未用",
                RuleSpec::Expression {
                    tag: "领券未使用".into(),
                    expression: "unused_coupons >= 1".into(),
                },
            ),
        ];
        for (name, spec) in &rules {
            self.tags().create_tag_rule(&system, name, spec).await?;
        }
        for (name, expr) in SEGMENTS {
            self.segments().create_segment(&system, name, expr).await?;
        }
        Ok(())
    }
}

fn tag_row(customer: i64, tag: i64, now: i64) -> Vec<Val> {
    vec![
        Val::I(customer),
        Val::I(tag),
        Val::S("import".into()),
        Val::N(None),
        Val::I(now),
    ]
}
