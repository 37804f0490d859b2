//! Acquisition (引流, issue #19): channels, channel live codes and what happens on each add.
//!
//! - [`channels`]: the channels operators define (type, owner, store, dates, tags, welcome,
//!   first-add reward).
//! - [`live_codes`]: WeCom contact ways behind each code, and the re-pointing of their guides
//!   (caps, working hours, backup, spread) under a per-code lease.
//! - [`poster`]: the store-stand poster PNG of a code, drawn with a CJK font from the server.
//! - [`on_add`]: the add callback's part (attribution, counters, tags, welcome row, reward
//!   row) inside the callback's transaction, and the follow-ups after it commits.
//! - [`welcome`]: sending each welcome inside WeCom's 20 s window, exactly once.
//! - [`settings`]: the brand's acquisition settings (the orders' attribution window).
//! - [`stats`]: channel statistics by day, channel, guide and store, and the leaderboard.

pub mod channels;
pub mod live_codes;
pub mod on_add;
pub mod poster;
pub mod quota;
pub mod referrals;
pub mod settings;
pub mod stats;
pub mod welcome;

use chrono::TimeZone;
use chrono_tz::Asia::Shanghai;
use yutang_core::staff::Permission;

use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Job kind: issue a channel's first-add reward (once per customer ever).
pub const REWARD_KIND: &str = "acquisition_reward";

/// The acquisition use cases.
#[derive(Clone, Copy)]
pub struct Acquisition<'a>(&'a App);

impl std::ops::Deref for Acquisition<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Acquisition`].
    pub fn acquisition(&self) -> Acquisition<'_> {
        Acquisition(self)
    }
}

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(REWARD_KIND, |app, job| {
        Box::pin(async move { app.acquisition().run_reward_job(&job.payload).await })
    });
    reg.register(referrals::QUALIFY_KIND, |app, job| {
        Box::pin(async move { app.acquisition().run_qualify_job(&job.payload).await })
    });
}

/// Operators and admins define channels and codes.
fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManagePromotions) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Everyone who sees the org sees channels (store-bound roles: their store's and the
/// brand-wide ones).
fn view(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ViewOrg) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The Shanghai date of an instant, `YYYY-MM-DD` (the day counters' key).
pub(crate) fn shanghai_day(ms: i64) -> String {
    Shanghai
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The Shanghai wall time of an instant (schedules are in it).
pub(crate) fn shanghai_time(ms: i64) -> chrono::NaiveDateTime {
    Shanghai
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.naive_local())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_shanghai_days() {
        // 2026-06-01T16:30:00Z is 00:30 on 2 June in Shanghai.
        assert_eq!(shanghai_day(1_780_331_400_000), "2026-06-02");
        assert_eq!(
            shanghai_time(1_780_331_400_000).format("%H:%M").to_string(),
            "00:30"
        );
    }
}
