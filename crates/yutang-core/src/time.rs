//! Time: UTC instants in storage as epoch milliseconds, shown in Asia/Shanghai.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

/// A UTC instant as milliseconds since the Unix epoch: the one portable representation of time
/// in both storage engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Millis(pub i64);

impl Millis {
    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    pub fn minus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_sub(secs.saturating_mul(1000)))
    }

    /// Parse an RFC 3339 instant (`2026-05-01T10:00:00+08:00`) at an edge.
    pub fn parse_rfc3339(field: &'static str, s: &str) -> Result<Self, crate::FieldError> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Self(t.timestamp_millis()))
            .map_err(|_| {
                crate::FieldError::new(
                    field,
                    "invalid_time",
                    "time must be RFC 3339, e.g. 2026-05-01T10:00:00+08:00",
                )
            })
    }

    /// Parse a time as spreadsheets and POS exports write it: RFC 3339, or a China Standard
    /// Time wall clock `YYYY-MM-DD HH:MM[:SS]` / `YYYY/MM/DD HH:MM[:SS]` / `YYYY-MM-DD`.
    pub fn parse_flexible(field: &'static str, s: &str) -> Result<Self, crate::FieldError> {
        let s = s.trim();
        if let Ok(m) = Self::parse_rfc3339(field, s) {
            return Ok(m);
        }
        let norm = s.replace('/', "-");
        let naive = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(&norm, f).ok())
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(&norm, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            });
        match naive.and_then(|n| n.and_local_timezone(Shanghai).single()) {
            Some(t) => Ok(Self(t.timestamp_millis())),
            None => Err(crate::FieldError::new(
                field,
                "invalid_time",
                "time must be RFC 3339 or YYYY-MM-DD HH:MM:SS (China time)",
            )),
        }
    }

    /// The instant in UTC, or `None` for values chrono cannot represent.
    pub fn to_utc(self) -> Option<DateTime<Utc>> {
        Utc.timestamp_millis_opt(self.0).single()
    }

    /// `YYYY-MM-DD HH:MM:SS` in China Standard Time, for display in the console.
    pub fn to_shanghai_string(self) -> String {
        match self.to_utc() {
            Some(t) => t
                .with_timezone(&Shanghai)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            None => String::from("-"),
        }
    }

    /// RFC 3339 in UTC, for the API.
    pub fn to_rfc3339(self) -> String {
        match self.to_utc() {
            Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            None => String::new(),
        }
    }
}

/// 2000-01-01T00:00:00Z: the earliest instant of a fact (an event, an order) or a schedule.
pub const EARLIEST_FACT: Millis = Millis(946_684_800_000);
/// 2100-01-01T00:00:00Z: schedules (promotion windows, coupon validity) end before this.
pub const LATEST_SCHEDULE: Millis = Millis(4_102_444_800_000);
/// 1900-01-01T00:00:00Z: the earliest date a segment literal may name (birthdays are old).
pub const EARLIEST_LITERAL: Millis = Millis(-2_208_988_800_000);
/// The latest date a segment literal may name (exclusive), as for schedules.
pub const LATEST_LITERAL: Millis = LATEST_SCHEDULE;

fn out_of_range(field: &'static str, what: &str) -> crate::FieldError {
    crate::FieldError::new(
        field,
        "time_out_of_range",
        format!("{field} must be {what}"),
    )
}

/// An instant at which something happened (an event occurred, an order was paid): from
/// 2000-01-01 to now plus the clock skew a caller is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Occurred(Millis);

impl Occurred {
    pub fn parse(
        field: &'static str,
        t: Millis,
        now: Millis,
        skew_minutes: i64,
    ) -> Result<Self, crate::FieldError> {
        let latest = now.plus_secs(skew_minutes.max(0).saturating_mul(60));
        if t < EARLIEST_FACT || t > latest {
            return Err(out_of_range(
                field,
                &format!("between 2000-01-01 and now (plus {skew_minutes} minutes of clock skew)"),
            ));
        }
        Ok(Self(t))
    }

    pub fn millis(self) -> Millis {
        self.0
    }
}

/// A scheduled instant (a promotion's window, a coupon's validity): from 2000-01-01 up to
/// 2100-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scheduled(Millis);

impl Scheduled {
    pub fn parse(field: &'static str, t: Millis) -> Result<Self, crate::FieldError> {
        if t < EARLIEST_FACT || t > LATEST_SCHEDULE {
            return Err(out_of_range(field, "between 2000-01-01 and 2100-01-01"));
        }
        Ok(Self(t))
    }

    pub fn millis(self) -> Millis {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_shanghai_time() {
        // 2026-01-01T00:00:00Z is 08:00 in Shanghai.
        let m = Millis(1_767_225_600_000);
        assert_eq!(m.to_shanghai_string(), "2026-01-01 08:00:00");
        assert_eq!(m.to_rfc3339(), "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn flexible_times() {
        let want = Millis(1_767_225_600_000);
        for s in [
            "2026-01-01T00:00:00Z",
            "2026-01-01 08:00:00",
            "2026/01/01 08:00",
            "2026-01-01T08:00:00",
        ] {
            assert_eq!(Millis::parse_flexible("t", s), Ok(want), "{s}");
        }
        assert_eq!(
            Millis::parse_flexible("t", "2026-01-01"),
            Ok(Millis(1_767_196_800_000))
        );
        assert!(Millis::parse_flexible("t", "yesterday").is_err());
    }

    #[test]
    fn instants_are_bounded() {
        let now = Millis(1_767_225_600_000);
        assert!(Occurred::parse("t", now, now, 10).is_ok());
        assert!(Occurred::parse("t", now.plus_secs(600), now, 10).is_ok());
        assert!(Occurred::parse("t", now.plus_secs(601), now, 10).is_err());
        assert!(Occurred::parse("t", EARLIEST_FACT, now, 10).is_ok());
        assert!(Occurred::parse("t", Millis(EARLIEST_FACT.0 - 1), now, 10).is_err());
        assert!(Occurred::parse("t", Millis(i64::MIN), now, 10).is_err());
        assert_eq!(
            Occurred::parse("t", Millis(i64::MAX), now, 10)
                .unwrap_err()
                .code,
            "time_out_of_range"
        );
        assert!(Scheduled::parse("t", LATEST_SCHEDULE).is_ok());
        assert!(Scheduled::parse("t", Millis(LATEST_SCHEDULE.0 + 1)).is_err());
        assert!(Scheduled::parse("t", Millis(0)).is_err());
    }

    #[test]
    fn out_of_range_does_not_panic() {
        assert_eq!(Millis(i64::MAX).to_shanghai_string(), "-");
        assert_eq!(Millis(i64::MAX).plus_secs(10), Millis(i64::MAX));
    }
}
