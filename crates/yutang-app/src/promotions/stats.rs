//! A campaign's statistics over time (issue #18): the store groups the activity per metric and
//! Asia/Shanghai day in SQL, core fills the series and derives amounts and conversion. Staff
//! who may see promotions (the same permission as the lists) see them; archived campaigns
//! keep their statistics.

use serde::Serialize;
use yutang_core::promotions::flash_sales::FlashSaleSpec;
use yutang_core::promotions::group_buys::GroupBuySpec;
use yutang_core::promotions::stats::{self as core_stats, CampaignStats, DaySum, Metric, Pricing};
use yutang_store::promotions::{self as store, StatsOf};

use super::{Promotions, bad_record, view};
use crate::Actor;
use crate::error::{AppError, Result};

/// The three kinds of campaign, as the console and the API name them in paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    Coupon,
    FlashSale,
    GroupBuy,
}

impl CampaignKind {
    /// `coupons`, `flash-sales`, `group-buys`: the path segment.
    pub fn parse_path(s: &str) -> Option<Self> {
        Some(match s {
            "coupons" => Self::Coupon,
            "flash-sales" => Self::FlashSale,
            "group-buys" => Self::GroupBuy,
            _ => return None,
        })
    }

    fn what(self) -> &'static str {
        match self {
            Self::Coupon => "coupon template",
            Self::FlashSale => "flash sale",
            Self::GroupBuy => "group-buy",
        }
    }
}

/// One campaign's statistics with what names it.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignStatsView {
    pub kind: CampaignKind,
    pub id: i64,
    pub name: String,
    /// `active` or `archived`.
    pub status: String,
    /// The claim window (coupon templates) or the sale's window.
    pub starts_at: i64,
    pub ends_at: i64,
    pub stats: CampaignStats,
}

/// What the statistics need of a campaign row.
struct Head {
    name: String,
    status: String,
    starts_at: i64,
    ends_at: i64,
    pricing: Pricing,
}

impl Promotions<'_> {
    /// The statistics of one campaign, active or archived: totals over its life and the
    /// daily series (Asia/Shanghai) from its start to `min(now, end)`, at most 90 days.
    pub async fn campaign_stats(
        &self,
        actor: &Actor,
        kind: CampaignKind,
        id: i64,
    ) -> Result<CampaignStatsView> {
        view(actor)?;
        let not_found = AppError::not_found(kind.what());
        let (head, of) = match kind {
            CampaignKind::Coupon => {
                let r = store::get_template(&self.db, id).await.map_err(not_found)?;
                let head = Head {
                    name: r.name,
                    status: r.status,
                    starts_at: r.claim_starts,
                    ends_at: r.claim_ends,
                    pricing: Pricing::Recorded,
                };
                (head, StatsOf::CouponTemplate(id))
            }
            CampaignKind::FlashSale => {
                let r = store::get_flash_sale(&self.db, id)
                    .await
                    .map_err(not_found)?;
                let spec: FlashSaleSpec = serde_json::from_str(&r.spec).map_err(bad_record)?;
                let head = Head {
                    name: r.name,
                    status: r.status,
                    starts_at: r.starts_at,
                    ends_at: r.ends_at,
                    pricing: Pricing::PerUnit {
                        price_fen: r.price_fen,
                        original_fen: spec.original_price_fen,
                    },
                };
                (head, StatsOf::FlashSale(id))
            }
            CampaignKind::GroupBuy => {
                let r = store::get_group_buy(&self.db, id)
                    .await
                    .map_err(not_found)?;
                let spec: GroupBuySpec = serde_json::from_str(&r.spec).map_err(bad_record)?;
                let head = Head {
                    name: r.name,
                    status: r.status,
                    starts_at: r.starts_at,
                    ends_at: r.ends_at,
                    pricing: Pricing::PerMember {
                        price_fen: r.price_fen,
                        original_fen: spec.original_price_fen,
                    },
                };
                (head, StatsOf::GroupBuy(id))
            }
        };
        let sums: Vec<DaySum> = store::campaign_days(&self.db, of)
            .await?
            .into_iter()
            .filter_map(|r| {
                Metric::parse(&r.metric).map(|metric| DaySum {
                    metric,
                    day: r.day,
                    value: r.value,
                })
            })
            .collect();
        let range = core_stats::day_range(head.starts_at, head.ends_at, self.now(), &sums);
        Ok(CampaignStatsView {
            kind,
            id,
            name: head.name,
            status: head.status,
            starts_at: head.starts_at,
            ends_at: head.ends_at,
            stats: core_stats::build(&sums, head.pricing, range),
        })
    }
}
