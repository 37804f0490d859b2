//! The demo brand's incentive pools (激励池): last month's GMV pool of the whole brand on
//! 孩子王's rule (80% to guides by their GMV, 20% to store teams), ready to settle, and this
//! month's pool of new WeCom contacts, both drafts whose split the console computes from the
//! demo's orders and adds. Nothing is settled here: settling is the operator's step, and it
//! needs the rollups the analytics follower builds after the seed.

use yutang_core::leaderboards::{Level, Metric, Period, Span, day_of};
use yutang_store::leaderboards::{self as store, NewPool};

use super::Demo;
use crate::error::Result;

impl Demo<'_> {
    pub(crate) async fn seed_demo_incentives(&self) -> Result<usize> {
        let this_month = Period::holding(Span::Month, day_of(self.now()));
        let last_month = this_month.previous();
        let pools = [
            ("上月业绩激励", last_month, Metric::Gmv, 2_000_000),
            ("本月拉新激励", this_month, Metric::Adds, 500_000),
        ];
        let mut tx = self.db.begin().await?;
        for (name, period, metric, amount_fen) in pools {
            store::insert_in(
                &mut tx,
                &NewPool {
                    name,
                    span: period.span.as_str(),
                    from_day: period.from_day,
                    to_day: period.to_day,
                    level: Level::Brand.as_str(),
                    scope_id: None,
                    metric: metric.as_str(),
                    amount_fen,
                    individual_pct: 80,
                    team_pct: 20,
                },
                None,
                self.now(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(pools.len())
    }
}
