//! The brand's acquisition settings: how far back an order looks for the add that gets the
//! credit (last-touch attribution window).
//!
//! The window is read when an order is recorded, so a change applies to orders recorded after
//! it; orders already credited keep their channel (a report must not change under a reader
//! because someone edited a setting later).

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// The attribution window when the brand never set one: 7 days (the default).
pub const DEFAULT_ATTRIBUTION_WINDOW_DAYS: i64 = 7;
/// The shortest window: one day.
pub const MIN_ATTRIBUTION_WINDOW_DAYS: i64 = 1;
/// The longest window: 90 days. Past a quarter, "the add brought this order" is no longer a
/// claim worth crediting a channel with.
pub const MAX_ATTRIBUTION_WINDOW_DAYS: i64 = 90;

const DAY_MS: i64 = 24 * 3_600_000;

/// The brand's acquisition settings, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquisitionSettings {
    /// Orders are credited to the channel of the customer's latest add within this many days
    /// (× 24 h) before payment.
    pub attribution_window_days: i64,
}

impl Default for AcquisitionSettings {
    fn default() -> Self {
        Self {
            attribution_window_days: DEFAULT_ATTRIBUTION_WINDOW_DAYS,
        }
    }
}

impl AcquisitionSettings {
    /// Check a window in days: 1–90, else `invalid_count` naming `attribution_window_days`.
    pub fn parse(attribution_window_days: i64) -> Result<Self, FieldError> {
        if !(MIN_ATTRIBUTION_WINDOW_DAYS..=MAX_ATTRIBUTION_WINDOW_DAYS)
            .contains(&attribution_window_days)
        {
            return Err(FieldError::new(
                "attribution_window_days",
                "invalid_count",
                format!(
                    "attribution_window_days is {MIN_ATTRIBUTION_WINDOW_DAYS}–{MAX_ATTRIBUTION_WINDOW_DAYS}"
                ),
            ));
        }
        Ok(Self {
            attribution_window_days,
        })
    }

    /// The window in milliseconds.
    pub fn attribution_window_ms(self) -> i64 {
        self.attribution_window_days * DAY_MS
    }

    /// The earliest add time that still gets the credit for an order paid at `paid_at`
    /// (inclusive).
    pub fn touch_since(self, paid_at: i64) -> i64 {
        paid_at.saturating_sub(self.attribution_window_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_one_to_ninety_days() {
        assert_eq!(AcquisitionSettings::default().attribution_window_days, 7);
        for ok in [1, 7, 90] {
            assert_eq!(
                AcquisitionSettings::parse(ok)
                    .map(|s| s.attribution_window_days)
                    .ok(),
                Some(ok)
            );
        }
        for bad in [i64::MIN, -1, 0, 91, i64::MAX] {
            let e = AcquisitionSettings::parse(bad).unwrap_err();
            assert_eq!(
                (e.field, e.code),
                ("attribution_window_days", "invalid_count")
            );
        }
    }

    #[test]
    fn the_window_reaches_back_whole_days() {
        let s = AcquisitionSettings::parse(2).unwrap();
        assert_eq!(s.attribution_window_ms(), 2 * DAY_MS);
        assert_eq!(s.touch_since(10 * DAY_MS), 8 * DAY_MS);
        assert_eq!(
            AcquisitionSettings::default().touch_since(i64::MIN + 1),
            i64::MIN
        );
    }
}
