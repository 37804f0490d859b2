//! The demo's points: the seeded pool's orders are bulk-loaded (they never pass through the
//! order hook), so their earnings are posted here set-based, exactly as the hook would have
//! (1 point per CNY at the default rules, a lot per order expiring at the end of the year
//! after it was paid) — members open the member centre to a real balance and the liability
//! report balances. Then a few redemptions go through the normal use case.

use chrono::{Datelike, TimeZone};
use chrono_tz::Asia::Shanghai;
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::points::{Expiry, Points, PointsSettings};

use super::Demo;
use crate::error::Result;
use crate::loyalty::points::RedeemInput;

impl Demo<'_> {
    /// Post the pool's earnings and a handful of redemptions; returns the entries posted.
    pub(super) async fn seed_demo_points(&self) -> Result<u64> {
        let now = self.now();
        let settings = PointsSettings::default();
        // The paid_at ranges of the last few Shanghai years and when their lots expire.
        let year = Shanghai
            .timestamp_millis_opt(now)
            .single()
            .map_or(2026, |d| d.year());
        let start = |y: i32| {
            Shanghai
                .with_ymd_and_hms(y, 1, 1, 0, 0, 0)
                .single()
                .map_or(0, |d| d.timestamp_millis())
        };
        let ranges: Vec<(i64, i64, Option<i64>)> = (year - 3..=year)
            .map(|y| {
                (
                    start(y),
                    start(y + 1),
                    Expiry::EndOfNextYear.expires_at(start(y)),
                )
            })
            .collect();
        let n = yutang_store::loyalty::points::post_loaded_orders(
            &self.db,
            settings.earn_points_per_yuan,
            &ranges,
            now,
        )
        .await?;
        // Every 50th customer with points spent 100 of them at a till.
        let holders: Vec<(i64, i64)> =
            yutang_store::loyalty::points::holders(&self.db, 100, 200).await?;
        for (i, (customer, _)) in holders.iter().enumerate().filter(|(i, _)| i % 50 == 0) {
            self.points()
                .redeem_own(
                    CustomerId(*customer),
                    &RedeemInput {
                        points: Points::parse("points", 100)?,
                        order_ref: format!("DEMO-POS-{i}"),
                        order_amount_fen: None,
                    },
                    Some(&format!("demo-redeem-{customer}")),
                )
                .await?;
        }
        Ok(n)
    }
}
