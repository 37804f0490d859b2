//! Channel live codes (渠道活码): one WeCom contact way (`add_contact_way`, page 96348) whose
//! guides Yutang rotates — per-guide daily caps, working hours, a backup guide, an even or a
//! weighted spread — by re-pointing the contact way (`update_contact_way`) when the set of
//! guides who should answer changes.
//!
//! Which guides answer is a pure function of the code's settings, the Shanghai clock and
//! today's per-guide add counters ([`rotation`]); the counters are keyed by day, so nothing
//! has to reset them at midnight, and the app calls WeCom only when the answer changes.

use chrono::{Datelike, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use super::poster::PosterText;
use crate::error::FieldError;
use crate::promotions::parse_title;

/// WeCom's limit on a contact way's `state` (96348): 30 characters.
pub const MAX_STATE_CHARS: usize = 30;
/// Most guides behind one code.
pub const MAX_GUIDES: usize = 100;
/// The highest daily cap a guide can have (WeCom itself limits adds per member per day).
pub const MAX_DAILY_CAP: i64 = 10_000;
/// The highest weight.
pub const MAX_WEIGHT: i64 = 100;

/// One guide behind a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideSlot {
    pub staff_id: i64,
    /// Adds through this code per Shanghai day before the guide is taken off it.
    pub daily_cap: i64,
    /// Share of the adds under a weighted spread (ignored under an even one).
    #[serde(default = "one")]
    pub weight: i64,
}

fn one() -> i64 {
    1
}

/// What carries the code into WeCom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    /// A contact way (联系我, page 96348): a QR code to print or show.
    #[default]
    ContactWay,
    /// An acquisition link (获客链接, page 97297): a URL for ads, SMS and other apps, opened
    /// with the code's `state` as its `customer_channel`, which WeCom sends back as `State`.
    Link,
}

/// WeCom's limit on an acquisition link's name (97394): 30 characters.
pub const MAX_LINK_NAME_CHARS: usize = 30;

/// How the adds are spread over the guides who are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spread {
    /// Every guide who is on stands behind the code at once; WeCom spreads the adds.
    #[default]
    Even,
    /// One guide at a time: the one furthest below their share (adds ÷ weight), re-pointed
    /// after each add.
    Weighted,
}

impl Spread {
    pub fn as_str(self) -> &'static str {
        match self {
            Spread::Even => "even",
            Spread::Weighted => "weighted",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "even" => Ok(Spread::Even),
            "weighted" => Ok(Spread::Weighted),
            _ => Err(FieldError::new(
                field,
                "invalid_spread",
                "spread is even or weighted",
            )),
        }
    }
}

/// When the guides answer (Asia/Shanghai). Outside it the backup guide takes the code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// ISO weekdays the guides work, 1 = Monday … 7 = Sunday; empty: every day.
    #[serde(default)]
    pub weekdays: Vec<u8>,
    /// Start and end of the working day (`HH:MM`, end exclusive); both absent: all day.
    #[serde(default)]
    pub start: Option<NaiveTime>,
    #[serde(default)]
    pub end: Option<NaiveTime>,
}

impl Schedule {
    fn parse(mut self) -> Result<Self, FieldError> {
        if self.weekdays.iter().any(|d| !(1..=7).contains(d)) {
            return Err(FieldError::new(
                "schedule.weekdays",
                "invalid_weekday",
                "weekdays are 1 (Monday) to 7 (Sunday)",
            ));
        }
        self.weekdays.sort_unstable();
        self.weekdays.dedup();
        match (self.start, self.end) {
            (None, None) => {}
            (Some(s), Some(e)) if s < e => {}
            (Some(_), Some(_)) => {
                return Err(FieldError::new(
                    "schedule.end",
                    "invalid_window",
                    "the end of the working day is not after its start",
                ));
            }
            _ => {
                return Err(FieldError::new(
                    "schedule.start",
                    "required",
                    "give both the start and the end of the working day, or neither",
                ));
            }
        }
        Ok(self)
    }

    /// Whether `now` (Shanghai wall time) is inside the schedule; `Err` says why not.
    pub fn check(&self, now: NaiveDateTime) -> Result<(), OffReason> {
        let day = u8::try_from(now.weekday().number_from_monday()).unwrap_or(1);
        if !self.weekdays.is_empty() && !self.weekdays.contains(&day) {
            return Err(OffReason::NotAWorkday);
        }
        if let (Some(s), Some(e)) = (self.start, self.end) {
            let t = now.time();
            if t < s || t >= e {
                return Err(OffReason::OutsideHours);
            }
        }
        Ok(())
    }
}

/// A live code as an operator defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveCodeSpec {
    pub channel_id: i64,
    pub name: String,
    /// A QR code (contact way, the default) or an acquisition link.
    #[serde(default)]
    pub kind: CodeKind,
    /// The contact way's `state`, which WeCom sends back on every add through the code; Yutang
    /// makes one up when absent.
    #[serde(default)]
    pub state: Option<String>,
    /// Add without the guide confirming (WeCom's `skip_verify`).
    #[serde(default = "yes")]
    pub skip_verify: bool,
    pub guides: Vec<GuideSlot>,
    /// Takes the code when no guide is on (all at their cap, or outside the schedule).
    #[serde(default)]
    pub backup_staff_id: Option<i64>,
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default)]
    pub spread: Spread,
    /// The texts of the store-stand poster (`…/poster.png`); blank ones take the channel's.
    #[serde(default)]
    pub poster: PosterText,
}

fn yes() -> bool {
    true
}

/// Checks a `state`: 1–30 characters, no spaces or control characters (WeCom echoes it back
/// verbatim on the add event; Yutang finds the code by it).
pub fn parse_state(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new("state", "required", "state is required"));
    }
    if s.chars().count() > MAX_STATE_CHARS {
        return Err(FieldError::new(
            "state",
            "state_too_long",
            format!("WeCom allows at most {MAX_STATE_CHARS} characters"),
        ));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FieldError::new(
            "state",
            "invalid_characters",
            "state has no spaces or control characters",
        ));
    }
    if s.starts_with(super::referrals::STATE_PREFIX) {
        return Err(FieldError::new(
            "state",
            "state_reserved",
            format!(
                "states starting with {} belong to referral links",
                super::referrals::STATE_PREFIX
            ),
        ));
    }
    Ok(s.to_owned())
}

impl LiveCodeSpec {
    pub fn parse(mut self) -> Result<Self, FieldError> {
        if self.channel_id < 1 {
            return Err(FieldError::new(
                "channel_id",
                "invalid_id",
                "must be a positive id",
            ));
        }
        self.name = parse_title("name", &self.name)?;
        if self.kind == CodeKind::Link && self.name.chars().count() > MAX_LINK_NAME_CHARS {
            return Err(FieldError::new(
                "name",
                "invalid_text",
                format!("an acquisition link's name is at most {MAX_LINK_NAME_CHARS} characters"),
            ));
        }
        self.state = match self.state.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(parse_state(s)?),
        };
        if self.guides.is_empty() {
            return Err(FieldError::new(
                "guides",
                "required",
                "a code needs at least one guide",
            ));
        }
        if self.guides.len() > MAX_GUIDES {
            return Err(FieldError::new(
                "guides",
                "too_many_items",
                format!("at most {MAX_GUIDES} guides"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for g in &self.guides {
            if g.staff_id < 1 {
                return Err(FieldError::new(
                    "guides",
                    "invalid_id",
                    "staff ids are positive",
                ));
            }
            if !seen.insert(g.staff_id) {
                return Err(FieldError::new(
                    "guides",
                    "duplicate_guide",
                    "a guide is listed twice",
                ));
            }
            if g.daily_cap < 1 || g.daily_cap > MAX_DAILY_CAP {
                return Err(FieldError::new(
                    "guides.daily_cap",
                    "invalid_count",
                    format!("a daily cap is between 1 and {MAX_DAILY_CAP}"),
                ));
            }
            if g.weight < 1 || g.weight > MAX_WEIGHT {
                return Err(FieldError::new(
                    "guides.weight",
                    "invalid_count",
                    format!("a weight is between 1 and {MAX_WEIGHT}"),
                ));
            }
        }
        if self.backup_staff_id.is_some_and(|b| b < 1) {
            return Err(FieldError::new(
                "backup_staff_id",
                "invalid_id",
                "must be a positive id",
            ));
        }
        self.schedule = self.schedule.parse()?;
        self.poster = self.poster.parse()?;
        Ok(self)
    }
}

/// Why a guide is not behind the code right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum OffReason {
    /// Today's adds through this code reached the guide's cap.
    CapReached { adds: i64, cap: i64 },
    /// Outside the working hours.
    OutsideHours,
    /// Not one of the working weekdays.
    NotAWorkday,
    /// Another guide's turn under a weighted spread.
    NotTheirTurn,
}

/// Who should stand behind a code now, and why the others do not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotation {
    /// Staff ids, in the code's order (never empty when the code has a guide or a backup).
    pub users: Vec<i64>,
    /// The guides left out, with the reason.
    pub off: Vec<(i64, OffReason)>,
    /// The backup guide took the code.
    pub on_backup: bool,
    /// Nobody is on and there is no backup: the code stays with the guide who has the
    /// fewest adds today (WeCom needs someone behind a code), past their cap.
    pub exhausted: bool,
}

/// Who stands behind the code at `now` (Shanghai wall time), given each guide's adds through
/// it today. Cut-over happens at the add that reaches the cap, not one add later.
pub fn rotation(
    spec: &LiveCodeSpec,
    now: NaiveDateTime,
    adds_today: impl Fn(i64) -> i64,
) -> Rotation {
    let mut off = Vec::new();
    let mut on: Vec<(GuideSlot, i64)> = Vec::new();
    let outside = spec.schedule.check(now).err();
    for g in &spec.guides {
        let adds = adds_today(g.staff_id);
        if let Some(why) = outside {
            off.push((g.staff_id, why));
        } else if adds >= g.daily_cap {
            off.push((
                g.staff_id,
                OffReason::CapReached {
                    adds,
                    cap: g.daily_cap,
                },
            ));
        } else {
            on.push((*g, adds));
        }
    }
    if on.is_empty() {
        if let Some(b) = spec.backup_staff_id {
            return Rotation {
                users: vec![b],
                off,
                on_backup: true,
                exhausted: false,
            };
        }
        let fewest = spec
            .guides
            .iter()
            .min_by_key(|g| adds_today(g.staff_id))
            .map(|g| g.staff_id);
        return Rotation {
            users: fewest.into_iter().collect(),
            off,
            on_backup: false,
            exhausted: true,
        };
    }
    let users = match spec.spread {
        Spread::Even => on.iter().map(|(g, _)| g.staff_id).collect(),
        Spread::Weighted => {
            // The lowest adds ÷ weight, compared without division; ties go to the first.
            let mut best = on[0];
            for &(g, adds) in &on[1..] {
                if i128::from(adds) * i128::from(best.0.weight)
                    < i128::from(best.1) * i128::from(g.weight)
                {
                    best = (g, adds);
                }
            }
            for &(g, _) in &on {
                if g.staff_id != best.0.staff_id {
                    off.push((g.staff_id, OffReason::NotTheirTurn));
                }
            }
            vec![best.0.staff_id]
        }
    };
    Rotation {
        users,
        off,
        on_backup: false,
        exhausted: false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::NaiveDate;
    use proptest::prelude::*;

    use super::*;

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        // 2026-06-01 is a Monday.
        NaiveDate::from_ymd_opt(2026, 6, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn spec(spread: Spread) -> LiveCodeSpec {
        LiveCodeSpec {
            channel_id: 1,
            name: "台卡".into(),
            kind: CodeKind::ContactWay,
            state: Some("sh01".into()),
            skip_verify: true,
            guides: vec![
                GuideSlot {
                    staff_id: 10,
                    daily_cap: 2,
                    weight: 1,
                },
                GuideSlot {
                    staff_id: 11,
                    daily_cap: 3,
                    weight: 3,
                },
            ],
            backup_staff_id: Some(99),
            schedule: Schedule::default(),
            spread,
            poster: PosterText::default(),
        }
    }

    #[test]
    fn parse_refuses_what_the_issue_names() {
        let mut s = spec(Spread::Even);
        s.state = Some("x".repeat(31));
        assert_eq!(s.parse().unwrap_err().code, "state_too_long");
        let mut s = spec(Spread::Even);
        s.state = Some("渠".repeat(30));
        assert!(s.parse().is_ok());
        let mut s = spec(Spread::Even);
        s.guides.clear();
        assert_eq!(s.parse().unwrap_err().field, "guides");
        let mut s = spec(Spread::Even);
        s.guides[0].daily_cap = 0;
        assert_eq!(s.parse().unwrap_err().field, "guides.daily_cap");
        let mut s = spec(Spread::Even);
        s.guides[1].staff_id = 10;
        assert_eq!(s.parse().unwrap_err().code, "duplicate_guide");
        let mut s = spec(Spread::Even);
        s.schedule.start = NaiveTime::from_hms_opt(9, 0, 0);
        assert_eq!(s.parse().unwrap_err().field, "schedule.start");
        let mut s = spec(Spread::Even);
        s.kind = CodeKind::Link;
        s.name = "链".repeat(31);
        assert_eq!(s.parse().unwrap_err().field, "name");
        let mut s = spec(Spread::Even);
        s.schedule.weekdays = vec![0];
        assert_eq!(s.parse().unwrap_err().field, "schedule.weekdays");
        let mut s = spec(Spread::Even);
        s.poster.title = Some("台卡".repeat(11));
        assert_eq!(s.parse().unwrap_err().field, "poster.title");
    }

    #[test]
    fn cut_over_at_the_add_that_reaches_the_cap() {
        let s = spec(Spread::Even);
        let r = rotation(&s, at(1, 10, 0), |id| if id == 10 { 1 } else { 0 });
        assert_eq!(r.users, vec![10, 11]);
        let r = rotation(&s, at(1, 10, 0), |id| if id == 10 { 2 } else { 0 });
        assert_eq!(r.users, vec![11]);
        assert_eq!(r.off, vec![(10, OffReason::CapReached { adds: 2, cap: 2 })]);
        let r = rotation(&s, at(1, 10, 0), |id| if id == 10 { 2 } else { 3 });
        assert_eq!(r.users, vec![99]);
        assert!(r.on_backup);
    }

    #[test]
    fn schedule_sends_the_code_to_the_backup() {
        let mut s = spec(Spread::Even);
        s.schedule = Schedule {
            weekdays: vec![1, 2, 3, 4, 5],
            start: NaiveTime::from_hms_opt(9, 0, 0),
            end: NaiveTime::from_hms_opt(21, 0, 0),
        };
        let s = s.parse().unwrap();
        assert_eq!(rotation(&s, at(1, 9, 0), |_| 0).users, vec![10, 11]);
        let late = rotation(&s, at(1, 21, 0), |_| 0);
        assert_eq!(late.users, vec![99]);
        assert_eq!(late.off[0].1, OffReason::OutsideHours);
        // 2026-06-06 is a Saturday.
        let weekend = rotation(&s, at(6, 12, 0), |_| 0);
        assert_eq!(weekend.off[0].1, OffReason::NotAWorkday);
    }

    #[test]
    fn without_backup_the_least_loaded_keeps_the_code() {
        let mut s = spec(Spread::Even);
        s.backup_staff_id = None;
        let r = rotation(&s, at(1, 10, 0), |id| if id == 10 { 5 } else { 3 });
        assert_eq!(r.users, vec![11]);
        assert!(r.exhausted);
    }

    #[test]
    fn weighted_spread_follows_the_weights() {
        let mut s = spec(Spread::Weighted);
        s.guides[0].daily_cap = 1000;
        s.guides[1].daily_cap = 1000;
        let mut adds: HashMap<i64, i64> = HashMap::new();
        for _ in 0..400 {
            let r = rotation(&s, at(1, 10, 0), |id| adds.get(&id).copied().unwrap_or(0));
            assert_eq!(r.users.len(), 1);
            *adds.entry(r.users[0]).or_default() += 1;
        }
        assert_eq!(adds[&10], 100);
        assert_eq!(adds[&11], 300);
    }

    proptest! {
        /// Whatever the counters, the code always has someone behind it, nobody past their cap
        /// stands behind it unless the code is exhausted, and every guide is either on or
        /// has a reason.
        #[test]
        fn rotation_is_total(a in 0i64..10, b in 0i64..10, backup in any::<bool>(),
                             weighted in any::<bool>(), hour in 0u32..24) {
            let mut s = spec(if weighted { Spread::Weighted } else { Spread::Even });
            if !backup { s.backup_staff_id = None; }
            s.schedule = Schedule { weekdays: vec![], start: NaiveTime::from_hms_opt(8, 0, 0),
                                    end: NaiveTime::from_hms_opt(22, 0, 0) };
            let r = rotation(&s, at(2, hour, 0), |id| if id == 10 { a } else { b });
            prop_assert!(!r.users.is_empty());
            for g in &s.guides {
                let on = r.users.contains(&g.staff_id);
                let listed = r.off.iter().any(|(id, _)| *id == g.staff_id);
                prop_assert!(on != listed || r.exhausted);
                let adds = if g.staff_id == 10 { a } else { b };
                if on && !r.exhausted { prop_assert!(adds < g.daily_cap); }
            }
        }
    }
}
