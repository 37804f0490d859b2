//! The demo brand's service ratings (服务评价): a few hundred ratings of orders over the last
//! month by the customers their guides own, mostly four and five stars with a few low ones,
//! deterministic (seeded). No message is queued: these happened in the past.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use yutang_core::ratings::{DEFAULT_LOW_SCORE, SubjectKind, is_low};
use yutang_store::ratings::{self as store, NewRating};

use super::Demo;
use crate::error::Result;

/// Customers asked, at most (each rates their latest order once).
const CUSTOMERS: i64 = 400;
const DAY_MS: i64 = 24 * 3_600_000;
const GOOD: [&str; 6] = [
    "导购很耐心，推荐的奶粉宝宝很爱喝",
    "送货很快，包装完好",
    "",
    "服务热情，下次还来",
    "",
    "回复及时，专业",
];
const FAIR: [&str; 2] = ["还可以，就是等了一会儿", ""];
const LOW: [&str; 3] = [
    "等了很久没人理",
    "推荐的尺码不对，换货麻烦",
    "态度一般，问题没解决",
];

impl Demo<'_> {
    pub(crate) async fn seed_demo_ratings(&self) -> Result<usize> {
        let now = self.now();
        let mut rng = StdRng::seed_from_u64(23);
        let owned = store::owned_follows(&self.db, CUSTOMERS).await?;
        let mut made = 0;
        let mut tx = self.db.begin().await?;
        for (customer, owner, store_id) in owned {
            // About three in four customers rate.
            if rng.gen_range(0..4) == 0 {
                continue;
            }
            let Some(order) = store::ratable_orders(&self.db, customer, 0, 1)
                .await?
                .into_iter()
                .next()
            else {
                continue;
            };
            let roll = rng.gen_range(0..100);
            let score = match roll {
                0..=2 => 1,
                3..=6 => 2,
                7..=16 => 3,
                17..=46 => 4,
                _ => 5,
            };
            let comment = match score {
                1 | 2 => LOW[rng.gen_range(0..LOW.len())],
                3 => FAIR[rng.gen_range(0..FAIR.len())],
                _ => GOOD[rng.gen_range(0..GOOD.len())],
            };
            let staff = order.staff_id.unwrap_or(owner);
            let store_id = if staff == owner {
                store_id
            } else {
                store::guide(&self.db, staff)
                    .await?
                    .and_then(|g| g.store_id)
            };
            let fp = format!("demo:rating:{customer}:{}", order.subject_id);
            let row = NewRating {
                customer_id: customer,
                staff_id: staff,
                store_id,
                subject_kind: SubjectKind::Order.as_str(),
                subject_id: order.subject_id,
                score,
                comment,
                idempotency_key: None,
                fingerprint: &fp,
                low: is_low(score, DEFAULT_LOW_SCORE),
            };
            let at = now - rng.gen_range(0..30 * DAY_MS);
            if store::insert_in(&mut tx, &row, at).await?.is_some() {
                made += 1;
            }
        }
        tx.commit().await?;
        Ok(made)
    }
}
