//! The corp's acquisition-link usage quota (获客链接额度, WeCom 97375): one unit is used per
//! customer added through a link, and at 0 the links stop adding anyone. WeCom sells the
//! quota, so operators must see it run low before it runs out.
//!
//! Read from WeCom at most every [`REFRESH_MS`] by the minute tick (only while a link code is
//! live) and on demand, and kept in `promo_settings`, so a page never waits on WeCom.

use serde::{Deserialize, Serialize};
use yutang_core::acquisition::CodeKind;

use super::live_codes::describe_wecom;
use super::{Acquisition, shanghai_day, view};
use crate::Actor;
use crate::error::{AppError, Result};

const KEY: &str = "acquisition_link_quota";
/// How old a reading may get before the tick reads again: 10 minutes.
pub const REFRESH_MS: i64 = 600_000;
/// Below this balance the console warns (about a day of a busy ad campaign).
pub const LOW_BALANCE: i64 = 100;

/// Part of the balance and the Shanghai day it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaExpiry {
    pub expires_on: String,
    pub balance: i64,
}

/// The last reading of the quota.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkQuota {
    /// Whether WeCom answered a reading yet.
    pub known: bool,
    /// Used so far.
    pub used: i64,
    /// Left.
    pub balance: i64,
    /// Below [`LOW_BALANCE`]: buy more in WeCom's admin console before ads stop adding.
    pub low: bool,
    pub expiring: Vec<QuotaExpiry>,
    /// When WeCom last answered (epoch ms).
    pub read_at: Option<i64>,
    /// The last reading's failure, in Chinese with what to do ('' when it succeeded).
    pub error: String,
    /// When the last reading was tried.
    pub tried_at: Option<i64>,
}

impl Acquisition<'_> {
    /// The quota as last read; `refresh` reads WeCom now first.
    pub async fn link_quota(&self, actor: &Actor, refresh: bool) -> Result<LinkQuota> {
        view(actor)?;
        if refresh {
            self.read_link_quota().await?;
        }
        self.stored_quota().await
    }

    async fn stored_quota(&self) -> Result<LinkQuota> {
        Ok(yutang_store::promotions::setting(&self.db, KEY)
            .await?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    /// Read the quota when the last reading is older than [`REFRESH_MS`] and a link code is
    /// live (the minute tick).
    pub async fn refresh_link_quota(&self) -> Result<()> {
        let last = self.stored_quota().await?;
        if last.tried_at.is_some_and(|t| self.now() - t < REFRESH_MS) {
            return Ok(());
        }
        let any_link = yutang_store::acquisition::list_codes(&self.db, None, false)
            .await?
            .iter()
            .any(|c| {
                serde_json::from_str::<yutang_core::acquisition::LiveCodeSpec>(&c.spec)
                    .is_ok_and(|s| s.kind == CodeKind::Link)
            });
        if any_link {
            self.read_link_quota().await?;
        }
        Ok(())
    }

    /// Ask WeCom and keep the answer (or the failure, keeping the last good figures).
    async fn read_link_quota(&self) -> Result<()> {
        let now = self.now();
        let mut q = self.stored_quota().await?;
        q.tried_at = Some(now);
        match self.wecom().wecom_api().await? {
            None => {
                q.error =
                    "企业微信 API 尚未配置：请先在“企业微信”页填写企业 ID 和“客户联系” Secret"
                        .into();
            }
            Some(api) => match api.get_acquisition_quota().await {
                Ok(a) => {
                    q = LinkQuota {
                        known: true,
                        used: a.total,
                        balance: a.balance,
                        low: a.balance < LOW_BALANCE,
                        expiring: a
                            .quota_list
                            .iter()
                            .map(|e| QuotaExpiry {
                                expires_on: shanghai_day(e.expire_date.saturating_mul(1000)),
                                balance: e.balance,
                            })
                            .collect(),
                        read_at: Some(now),
                        error: String::new(),
                        tried_at: Some(now),
                    };
                }
                Err(e) => q.error = describe_wecom(&e),
            },
        }
        let json = serde_json::to_string(&q).map_err(|e| AppError::Internal(e.to_string()))?;
        yutang_store::promotions::set_setting(&self.db, KEY, &json).await?;
        Ok(())
    }
}
