//! The demo's customer pool: customers with realistic Chinese identities, follow relations to
//! the demo guides, and a year of orders with seasonality (Spring Festival, summer fruit,
//! Mid-Autumn, Double 11, Tuesday member days), repeat buyers and some refunds — generated in
//! memory (deterministic, seeded) and written with multi-row INSERTs in one transaction.

use chrono::{DateTime, Datelike, Weekday};
use rand::Rng;
use rand::rngs::StdRng;
use yutang_core::money::Fen;
use yutang_core::orders::{OrderFact, aggregate};
use yutang_store::bulk::{Table, Val};

use crate::demo::{StoreFloor, chinese_name};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// The demo brand's mini-program app id (openid namespace).
pub const DEMO_APPID: &str = "wx5f2c8e1a9d3b7c64";

const PHONE_PREFIXES: [&str; 20] = [
    "138", "139", "136", "137", "135", "150", "151", "152", "158", "159", "186", "187", "188",
    "189", "133", "153", "177", "180", "181", "199",
];

/// (sku, name, unit price in fen)
const PRODUCTS: [(&str, &str, i64); 16] = [
    ("CHERRY-5J", "智利车厘子 5斤装", 19900),
    ("GRAPE-SM", "阳光玫瑰葡萄 2斤", 5990),
    ("MANGO-HN", "海南贵妃芒 3斤", 3990),
    ("BLUEBERRY", "云南蓝莓 125g×4盒", 8900),
    ("PITAYA", "红心火龙果 4个", 2990),
    ("APPLE-YT", "烟台红富士 5斤", 3590),
    ("ORANGE-QC", "赣南脐橙 5斤", 3290),
    ("DURIAN", "泰国金枕榴莲 约3斤", 16800),
    ("KIWI-GOLD", "佳沛阳光金果 6个", 4990),
    ("STRAW-DD", "丹东99草莓 2斤", 6990),
    ("WMELON-8424", "8424西瓜 1个", 3980),
    ("LYCHEE", "妃子笑荔枝 3斤", 4590),
    ("PEACH-WS", "无锡水蜜桃 6个", 5980),
    ("CUT-BOX", "鲜切果盒 480g", 2980),
    ("GIFT-MID", "中秋鲜果礼盒", 29800),
    ("POMELO", "琯溪红心柚 2个", 2590),
];

const LEVELS: [(&str, u32); 4] = [("普通会员", 60), ("银卡", 25), ("金卡", 12), ("黑金卡", 3)];

pub(crate) struct Pool {
    pub tables: Vec<Table>,
    pub orders: usize,
}

fn hex(rng: &mut StdRng, n: usize) -> String {
    const H: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| H[rng.gen_range(0..16)] as char).collect()
}

fn base62(rng: &mut StdRng, n: usize) -> String {
    const B: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..n).map(|_| B[rng.gen_range(0..62)] as char).collect()
}

/// Shanghai calendar facts of an instant.
fn shanghai(ms: i64) -> (u32, u32, Weekday) {
    match DateTime::from_timestamp_millis(ms + 8 * HOUR) {
        Some(t) => (t.month(), t.day(), t.weekday()),
        None => (1, 1, Weekday::Mon),
    }
}

/// Relative order volume by month (fruit chain): Spring Festival, summer fruit, Mid-Autumn
/// gift boxes and Double 11 peak; Tuesdays are member day (+30%).
fn weight(ms: i64) -> f64 {
    let (m, _, wd) = shanghai(ms);
    let mw = [
        1.5, 1.3, 0.85, 0.9, 1.0, 1.3, 1.45, 1.35, 1.25, 0.95, 1.3, 1.15,
    ][(m as usize + 11) % 12];
    if wd == Weekday::Tue { mw * 1.3 } else { mw }
}

/// A paid-at instant in `[lo, hi)` following the seasonal weights, during opening hours.
fn order_time(rng: &mut StdRng, lo: i64, hi: i64) -> i64 {
    let hi = hi.max(lo + DAY);
    for _ in 0..20 {
        let day = lo + rng.gen_range(0..(hi - lo)) / DAY * DAY;
        if rng.gen_bool((weight(day) / 1.95).clamp(0.0, 1.0)) {
            // 08:00–22:00 Shanghai = 00:00–14:00 UTC.
            let t = day - day.rem_euclid(DAY) + rng.gen_range(0..14 * HOUR);
            return t.clamp(lo, hi - 1);
        }
    }
    lo + rng.gen_range(0..(hi - lo))
}

fn campaign(ms: i64) -> &'static str {
    match shanghai(ms) {
        (11, 1..=11, _) => "双十一",
        (_, _, Weekday::Tue) => "周二会员日",
        (9, _, _) => "中秋礼盒季",
        _ => "",
    }
}

pub(crate) fn generate(rng: &mut StdRng, n: usize, floor: &[StoreFloor], now: i64) -> Pool {
    let mut customers = Vec::with_capacity(n);
    let mut identities = Vec::with_capacity(n * 4);
    let mut follows = Vec::with_capacity(n + n / 5);
    let mut orders = Vec::with_capacity(n * 3 / 2);
    let mut lines = Vec::with_capacity(n * 2);
    let mut refunds = Vec::new();
    let mut events = Vec::with_capacity(n * 4);
    let (mut ident_id, mut follow_id, mut order_id, mut line_id, mut refund_id, mut event_id) =
        (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    let year_ago = now - 365 * DAY;
    let stores: Vec<&StoreFloor> = floor.iter().filter(|f| !f.guides.is_empty()).collect();
    let mut event = |events: &mut Vec<Vec<Val>>,
                     cid: i64,
                     kind: &str,
                     client: bool,
                     at: i64,
                     staff: Option<i64>,
                     detail: String| {
        event_id += 1;
        events.push(vec![
            Val::I(event_id),
            Val::I(cid),
            Val::S(kind.to_owned()),
            Val::T(client.then(|| format!("demo-{event_id}"))),
            Val::I(at),
            Val::I(at.min(now)),
            Val::N(staff),
            Val::S(detail),
        ]);
    };
    for i in 0..n {
        let cid = i as i64 + 1;
        if stores.is_empty() {
            break;
        }
        // The first stores (bigger cities) get more customers.
        let pick = rng
            .gen_range(0..stores.len())
            .min(rng.gen_range(0..stores.len()));
        let store = stores[pick];
        let owner = store.guides[rng.gen_range(0..store.guides.len())];
        let created_at = now - rng.gen_range(20 * DAY..730 * DAY);
        let gender = match rng.gen_range(0..100) {
            0..68 => "female",
            68..95 => "male",
            _ => "unknown",
        };
        let birthday = rng.gen_bool(0.55).then(|| {
            format!(
                "{}-{:02}-{:02}",
                rng.gen_range(1965..2005),
                rng.gen_range(1..=12),
                rng.gen_range(1..=28)
            )
        });
        let mut roll = rng.gen_range(0..100);
        let mut level = LEVELS[0].0;
        for (l, w) in LEVELS {
            if roll < w {
                level = l;
                break;
            }
            roll -= w;
        }
        // Identities: a unique phone for everyone, the rest by channel reach.
        let phone = format!(
            "{}{:08}",
            PHONE_PREFIXES[i % PHONE_PREFIXES.len()],
            (i as u64 * 7919 + 24_680_135) % 100_000_000
        );
        let mut ident = |kind: &str, ns: &str, value: String| {
            ident_id += 1;
            identities.push(vec![
                Val::I(ident_id),
                Val::I(cid),
                Val::S(kind.to_owned()),
                Val::S(ns.to_owned()),
                Val::S(value),
                Val::I(created_at),
            ]);
        };
        ident("phone", "", phone);
        if rng.gen_bool(0.75) {
            ident(
                "wecom_external",
                "",
                format!("wmT{}{}", base62(rng, 22), cid),
            );
        }
        if rng.gen_bool(0.6) {
            ident("unionid", "", format!("oU{}{}", base62(rng, 24), cid));
        }
        if rng.gen_bool(0.5) {
            ident(
                "openid",
                DEMO_APPID,
                format!("oM{}{}", base62(rng, 24), cid),
            );
        }
        if rng.gen_bool(0.35) {
            ident(
                "pos_member",
                "",
                format!("M{:010}", 3_000_000_000u64 + cid as u64),
            );
        }
        if rng.gen_bool(0.2) {
            ident("app_user", "", format!("u{}", 10_000_000 + cid));
        }
        if rng.gen_bool(0.08) {
            ident("shop_buyer", "tmall", format!("tb{}", hex(rng, 12)));
        }
        if rng.gen_bool(0.05) {
            ident("shop_buyer", "jd", format!("jd_{}", hex(rng, 10)));
        }
        // Follows: the owner, sometimes a second guide or the store manager.
        let since = (created_at + rng.gen_range(0..7 * DAY)).min(now);
        let state = match rng.gen_range(0..100) {
            0..94 => "active",
            94..99 => "deleted_by_customer",
            _ => "deleted_by_guide",
        };
        let remark = format!(
            "{}·{}",
            store.city,
            if gender == "male" { "先生" } else { "女士" }
        );
        let mut followers = vec![(owner, true, state)];
        if rng.gen_bool(0.15) {
            let other = if rng.gen_bool(0.5) {
                store.manager.unwrap_or(owner)
            } else {
                store.guides[rng.gen_range(0..store.guides.len())]
            };
            if other != owner {
                followers.push((other, false, "active"));
            }
        }
        for (staff, is_owner, st) in &followers {
            follow_id += 1;
            follows.push(vec![
                Val::I(follow_id),
                Val::I(cid),
                Val::I(*staff),
                Val::I(since),
                Val::S(remark.clone()),
                Val::S((*st).to_owned()),
                Val::B(*is_owner),
                Val::I(since),
            ]);
            event(
                &mut events,
                cid,
                "followed",
                false,
                since,
                Some(*staff),
                format!("{{\"state\":\"active\",\"owner\":{is_owner}}}"),
            );
        }
        // Behaviour events from the mini-program and the groups.
        for _ in 0..rng.gen_range(0..4) {
            let kind = [
                "page_view",
                "check_in",
                "join_group",
                "coupon_claimed",
                "share",
            ][rng.gen_range(0..5)];
            let at = since + rng.gen_range(0..(now - since).max(1));
            event(&mut events, cid, kind, true, at, None, "{}".into());
        }
        // Orders: 58% buy within the year; repeat buyers follow a long tail.
        let mut facts = Vec::new();
        if rng.gen_bool(0.58) {
            let count = match rng.gen_range(0..100) {
                0..50 => 1,
                50..72 => 2,
                72..90 => rng.gen_range(3..6),
                _ => rng.gen_range(6..16),
            };
            let lo = created_at.max(year_ago);
            for _ in 0..count {
                order_id += 1;
                let paid_at = order_time(rng, lo, now);
                let (channel, prefix) = match rng.gen_range(0..100) {
                    0..55 => ("store", "POS"),
                    55..90 => ("mini_program", "MP"),
                    _ => ("delivery", "DLV"),
                };
                let guide = (channel == "store" || rng.gen_bool(0.5)).then_some(owner);
                let mut sum = 0i64;
                let n_lines = rng.gen_range(1..4);
                for l in 0..n_lines {
                    let (sku, name, price) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
                    let qty = rng.gen_range(1..4i64);
                    sum += price * qty;
                    line_id += 1;
                    lines.push(vec![
                        Val::I(line_id),
                        Val::I(order_id),
                        Val::I(l + 1),
                        Val::S(sku.to_owned()),
                        Val::S(name.to_owned()),
                        Val::I(qty),
                        Val::I(price),
                        Val::I(price * qty),
                    ]);
                }
                let discount = if rng.gen_bool(0.15) {
                    (sum / 10).min(2000)
                } else {
                    0
                };
                let amount = sum - discount;
                let recent = now - paid_at < 3 * DAY;
                let status_ok = if channel == "store" || !recent {
                    "completed"
                } else {
                    "shipped"
                };
                let (refunded, status) = match rng.gen_range(0..100) {
                    0..4 => (amount, "refunded"),
                    4..7 => (amount * rng.gen_range(3..6) / 10, "partially_refunded"),
                    _ => (0, status_ok),
                };
                let shipped =
                    (channel != "store").then_some(paid_at + rng.gen_range(2 * HOUR..30 * HOUR));
                let completed =
                    (status_ok == "completed").then_some(paid_at + rng.gen_range(0..3 * DAY));
                let ext = format!("{prefix}{:09}", order_id);
                orders.push(vec![
                    Val::I(order_id),
                    Val::S(ext.clone()),
                    Val::I(cid),
                    Val::S(channel.to_owned()),
                    Val::N(Some(store.store_id)),
                    Val::N(guide),
                    Val::S(campaign(paid_at).to_owned()),
                    Val::S(status.to_owned()),
                    Val::I(amount),
                    Val::I(discount),
                    Val::I(refunded),
                    Val::I(paid_at),
                    Val::N(shipped.map(|s| s.min(now))),
                    Val::N(completed.map(|c| c.min(now))),
                    Val::I(paid_at),
                    Val::I(paid_at),
                ]);
                event(
                    &mut events,
                    cid,
                    "order_paid",
                    false,
                    paid_at,
                    guide,
                    format!(
                        "{{\"order_id\":{order_id},\"external_id\":\"{ext}\",\"amount_fen\":{amount},\"channel\":\"{channel}\",\"store_id\":{}}}",
                        store.store_id
                    ),
                );
                if refunded > 0 {
                    refund_id += 1;
                    let at = (paid_at + rng.gen_range(HOUR..3 * DAY)).min(now);
                    refunds.push(vec![
                        Val::I(refund_id),
                        Val::I(order_id),
                        Val::S(format!("RF{:09}", refund_id)),
                        Val::I(refunded),
                        Val::I(at),
                        Val::I(at),
                    ]);
                    event(
                        &mut events,
                        cid,
                        "order_refunded",
                        false,
                        at,
                        None,
                        format!(
                            "{{\"order_id\":{order_id},\"refund_id\":\"RF{refund_id:09}\",\"amount_fen\":{refunded},\"status\":\"{status}\"}}"
                        ),
                    );
                }
                facts.push(OrderFact {
                    amount: Fen(amount),
                    refunded: Fen(refunded),
                    paid_at,
                });
            }
        }
        let agg = aggregate(&facts);
        customers.push(vec![
            Val::I(cid),
            Val::S(chinese_name(rng)),
            Val::S(gender.to_owned()),
            Val::T(birthday),
            Val::S(store.city.to_owned()),
            Val::S(level.to_owned()),
            Val::I(agg.order_count),
            Val::I(agg.total_spend.0),
            Val::I(agg.avg_order_value.0),
            Val::N(agg.first_order_at),
            Val::N(agg.last_order_at),
            Val::I(created_at),
            Val::I(agg.last_order_at.unwrap_or(created_at)),
        ]);
    }
    let order_count = orders.len();
    Pool {
        orders: order_count,
        tables: vec![
            Table {
                name: "customers",
                columns: &[
                    "id",
                    "name",
                    "gender",
                    "birthday",
                    "city",
                    "member_level",
                    "order_count",
                    "total_spend",
                    "avg_order_value",
                    "first_order_at",
                    "last_order_at",
                    "created_at",
                    "updated_at",
                ],
                rows: customers,
            },
            Table {
                name: "customer_identities",
                columns: &[
                    "id",
                    "customer_id",
                    "kind",
                    "namespace",
                    "value",
                    "created_at",
                ],
                rows: identities,
            },
            Table {
                name: "follows",
                columns: &[
                    "id",
                    "customer_id",
                    "staff_id",
                    "since",
                    "remark",
                    "state",
                    "is_owner",
                    "updated_at",
                ],
                rows: follows,
            },
            Table {
                name: "orders",
                columns: &[
                    "id",
                    "external_id",
                    "customer_id",
                    "channel",
                    "store_id",
                    "guide_id",
                    "campaign",
                    "status",
                    "amount",
                    "discount",
                    "refunded_amount",
                    "paid_at",
                    "shipped_at",
                    "completed_at",
                    "created_at",
                    "updated_at",
                ],
                rows: orders,
            },
            Table {
                name: "order_lines",
                columns: &[
                    "id",
                    "order_id",
                    "line_no",
                    "sku",
                    "name",
                    "quantity",
                    "unit_price",
                    "amount",
                ],
                rows: lines,
            },
            Table {
                name: "order_refunds",
                columns: &[
                    "id",
                    "order_id",
                    "external_id",
                    "amount",
                    "refunded_at",
                    "created_at",
                ],
                rows: refunds,
            },
            Table {
                name: "events",
                columns: &[
                    "id",
                    "customer_id",
                    "kind",
                    "client_id",
                    "occurred_at",
                    "received_at",
                    "staff_id",
                    "detail",
                ],
                rows: events,
            },
        ],
    }
}
