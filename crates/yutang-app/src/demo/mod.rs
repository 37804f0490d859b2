//! The demo brand: 鲜果时光 (a fruit chain in the mould of PRODUCT.md's case 1), with
//! regions, ~20 stores and ~100 staff with Chinese names. Deterministic (seeded), so every run
//! and every test sees the same brand. Later areas extend it with their own data.

#[cfg(feature = "fake-wecom")]
pub mod acquisition;
mod churn;
mod incentives;
mod journeys;
pub mod loyalty;
mod materials;
mod points;
mod pool;
mod promotions;
mod ratings;
#[cfg(feature = "fake-wecom")]
pub mod referrals;
mod tags;
mod tiers;
pub mod wecom;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use yutang_core::staff::{NewPassword, Role};
use yutang_store::org::{self as org_store, StoreFields};
use yutang_store::staff::{self as staff_store, NewStaff};

use crate::App;
use crate::auth::hash_password;
use crate::error::{AppError, Result};

/// Every demo account's password (the demo binds to localhost; never use it for real data).
pub const DEMO_PASSWORD: &str = "yutang-demo";
pub const DEMO_BRAND: &str = "鲜果时光";

/// Progress of a long step: `(stage, done, total)`.
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// What the demo created, for the banner the CLI prints.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub regions: usize,
    pub stores: usize,
    pub staff: usize,
    pub customers: usize,
    pub orders: usize,
    pub admin_username: String,
    /// What the paid cards, mall, stored value and gifts hold.
    pub loyalty: loyalty::LoyaltySeeded,
}

/// A city of the demo: (code prefix, city name, store names).
type City = (&'static str, &'static str, &'static [&'static str]);

const REGIONS: [(&str, &[City]); 4] = [
    (
        "华东大区",
        &[
            (
                "SH",
                "上海",
                &["徐家汇店", "静安寺店", "五角场店", "陆家嘴店"],
            ),
            ("HZ", "杭州", &["西湖店", "滨江店"]),
            ("NJ", "南京", &["新街口店", "河西店"]),
            ("SZ", "苏州", &["观前街店"]),
        ],
    ),
    (
        "华南大区",
        &[
            ("GZ", "广州", &["天河店", "北京路店"]),
            ("SZN", "深圳", &["南山店", "福田店", "宝安店"]),
        ],
    ),
    (
        "华北大区",
        &[
            ("BJ", "北京", &["国贸店", "中关村店", "望京店"]),
            ("TJ", "天津", &["滨江道店"]),
        ],
    ),
    (
        "西南大区",
        &[("CD", "成都", &["春熙路店"]), ("CQ", "重庆", &["解放碑店"])],
    ),
];

const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋",
];
const GIVEN: [&str; 40] = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "晓燕", "婷", "雪", "慧", "佳怡", "子涵",
    "欣怡", "浩然", "宇轩", "梓萱", "一诺", "思远", "雨桐", "晨曦", "嘉怡", "俊杰", "文静",
];

/// A store with its staff, as the customer generator needs it.
pub(crate) struct StoreFloor {
    pub store_id: i64,
    pub city: &'static str,
    pub guides: Vec<i64>,
    pub manager: Option<i64>,
}

pub(crate) fn chinese_name(rng: &mut StdRng) -> String {
    let s = SURNAMES[rng.gen_range(0..SURNAMES.len())];
    let g = GIVEN[rng.gen_range(0..GIVEN.len())];
    format!("{s}{g}")
}

/// The demo brand's use cases: seeding a demo customer pool, its tags, promotions and WeCom
/// connection.
#[derive(Clone, Copy)]
pub struct Demo<'a>(&'a App);

impl std::ops::Deref for Demo<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Demo`].
    pub fn demo(&self) -> Demo<'_> {
        Demo(self)
    }
}

impl Demo<'_> {
    /// Fill an empty database with the demo brand and `customers` customers (with identities,
    /// follow relations to the demo guides and a year of orders). Refuses a database that
    /// already has staff.
    pub async fn seed_demo(&self, customers: usize, progress: Progress<'_>) -> Result<DemoSummary> {
        if !self.db.is_empty().await? {
            return Err(AppError::Rule {
                code: "database_not_empty",
                message: "the demo needs an empty database; this one already has staff".into(),
            });
        }
        let mut rng = StdRng::seed_from_u64(20_261_123);
        let now = self.now();
        // One hash for every demo account: hashing ~100 passwords with production argon2
        // settings would take most of the demo's time budget on two cores.
        let pw = NewPassword::parse(DEMO_PASSWORD)?;
        let hash = hash_password(&self.settings.auth, &pw)?;

        let total_stores: u64 = REGIONS
            .iter()
            .map(|(_, cities)| cities.iter().map(|(_, _, s)| s.len() as u64).sum::<u64>())
            .sum();
        let mut summary = DemoSummary {
            admin_username: "admin".into(),
            ..Default::default()
        };
        let mut done = 0u64;
        let mut store_ids: Vec<(i64, String)> = Vec::new();
        let mut store_cities: Vec<(i64, &'static str)> = Vec::new();
        for (region, cities) in REGIONS {
            let region_id = org_store::create_region(&self.db, region, now).await?;
            summary.regions += 1;
            for (prefix, city, stores) in cities {
                for (i, name) in stores.iter().enumerate() {
                    let code = format!("{prefix}-{:03}", i + 1);
                    let full = format!("{DEMO_BRAND}·{city}{name}");
                    let id = org_store::create_store(
                        &self.db,
                        &StoreFields {
                            region_id: Some(region_id),
                            code: &code,
                            name: &full,
                            city,
                            address: &format!(
                                "{city}市{}{}号",
                                name.trim_end_matches('店'),
                                10 + i * 17
                            ),
                        },
                        now,
                    )
                    .await?;
                    store_ids.push((id, code.to_ascii_lowercase()));
                    store_cities.push((id, city));
                    done += 1;
                    progress("门店 stores", done, total_stores);
                }
            }
        }
        summary.stores = store_ids.len();

        let mut people: Vec<(String, String, Role, Option<i64>)> = vec![
            ("admin".into(), "管理员".into(), Role::Admin, None),
            ("ops.chen".into(), "陈运营".into(), Role::Operator, None),
            ("ops.lin".into(), "林思远".into(), Role::Operator, None),
            ("ops.zhou".into(), "周晓燕".into(), Role::Operator, None),
            ("bi.wang".into(), "王数据".into(), Role::Analyst, None),
        ];
        for (id, code) in &store_ids {
            people.push((
                format!("{code}.manager"),
                chinese_name(&mut rng),
                Role::StoreManager,
                Some(*id),
            ));
            for g in 1..=4 {
                people.push((
                    format!("{code}.guide{g}"),
                    chinese_name(&mut rng),
                    Role::Guide,
                    Some(*id),
                ));
            }
        }
        let rows: Vec<NewStaff<'_>> = people
            .iter()
            .map(|(u, n, r, s)| NewStaff {
                username: u,
                display_name: n,
                role: r.as_str(),
                store_id: *s,
                password_hash: Some(&hash),
                wecom_userid: None,
            })
            .collect();
        let total = rows.len() as u64;
        let mut staff_ids: Vec<i64> = Vec::with_capacity(rows.len());
        for (i, chunk) in rows.chunks(25).enumerate() {
            staff_ids.extend(staff_store::create_many(&self.db, chunk, now).await?);
            progress("员工 staff", ((i + 1) * 25).min(rows.len()) as u64, total);
        }
        summary.staff = rows.len();
        let mut floor: Vec<StoreFloor> = store_cities
            .iter()
            .map(|(id, city)| StoreFloor {
                store_id: *id,
                city,
                guides: Vec::new(),
                manager: None,
            })
            .collect();
        for ((_, _, role, store), id) in people.iter().zip(&staff_ids) {
            if let Some(f) = floor.iter_mut().find(|f| Some(f.store_id) == *store) {
                match role {
                    Role::Guide => f.guides.push(*id),
                    Role::StoreManager => f.manager = Some(*id),
                    _ => {}
                }
            }
        }
        let pool = crate::demo::pool::generate(&mut rng, customers, &floor, now);
        summary.customers = customers;
        summary.orders = pool.orders;
        let total_rows: usize = pool.tables.iter().map(|t| t.rows.len()).sum();
        let done_before = std::sync::Mutex::new((String::new(), 0usize, 0usize));
        let report = |table: &str, done: usize| {
            if let Ok(mut g) = done_before.lock() {
                if g.0 != table {
                    g.1 += g.2;
                    g.0 = table.to_owned();
                }
                g.2 = done;
                progress("客户数据 customers", (g.1 + done) as u64, total_rows as u64);
            }
        };
        yutang_store::bulk::load(&self.db, &pool.tables, &report).await?;
        progress("标签 tags", 0, 1);
        self.seed_demo_tags(&mut rng, customers).await?;
        progress("标签 tags", 1, 1);
        self.seed_demo_promotions(customers).await?;
        progress("积分 points", 0, 1);
        self.seed_demo_points().await?;
        progress("积分 points", 1, 1);
        progress("会员等级 tiers", 0, 1);
        self.seed_demo_tiers().await?;
        progress("会员等级 tiers", 1, 1);
        progress("会员卡 积分商城 储值 cards, mall, stored value", 0, 1);
        summary.loyalty = self.seed_demo_loyalty().await?;
        progress("会员卡 积分商城 储值 cards, mall, stored value", 1, 1);
        progress("素材库 materials", 0, 1);
        let sent = self.seed_demo_materials().await?;
        self.seed_demo_reads(sent).await?;
        progress("素材库 materials", 1, 1);
        progress("自动化旅程 journeys", 0, 1);
        self.seed_demo_journeys().await?;
        progress("自动化旅程 journeys", 1, 1);
        self.seed_demo_churn_alerts().await?;
        self.seed_demo_ratings().await?;
        self.seed_demo_incentives().await?;
        self.db.analyze().await?;
        Ok(summary)
    }
}
