//! The journey engine's definitions (SOP / 自动化旅程, issue #21 item 5). No I/O: a journey —
//! a trigger, a list of steps, an enrolment rule and quiet hours — is parsed and checked here,
//! and the calendar arithmetic the engine schedules with (weekly occurrences, quiet hours, a
//! time of day in Asia/Shanghai) lives here.
//!
//! **Why one engine.** Peers build the daily group rhythm, birthday gifts, coupon-expiry
//! reminders and "silent for 30 days → follow up" as separate schedulers, each with its own
//! de-duplication and none with a per-customer contact budget (PEERS.md §3). Here each is a
//! journey: a trigger enrols customers, and each enrolled customer (a run) walks the steps on
//! the durable job spine; a message step goes out as a mass message, so the shared frequency
//! cap, the exclusions and the delivery tracking of issue #21 item 1 apply to it unchanged.
//!
//! **Why loops need a wait.** Steps run one after the other; `branch` and `goto` jump. A jump
//! back is allowed (a weekly nudge until the customer buys), but every loop must pass a wait,
//! or one run would spin forever inside one transaction. [`Definition::parse`] refuses a loop
//! without one.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::events::EventKind;
use crate::messaging::{Attachment, Audience, Content, day_start, has_control, shanghai_day};

/// A journey's name: at most this many characters.
pub const MAX_NAME_CHARS: usize = 40;
/// Steps of one journey, at most.
pub const MAX_STEPS: usize = 50;
/// The shortest wait (a wait is what lets a loop yield; a shorter one is a busy loop).
pub const MIN_WAIT_SECS: i64 = 60;
/// The longest wait: a year.
pub const MAX_WAIT_SECS: i64 = 366 * 86_400;
/// A message step's text, at most (the mass message's own limit).
pub const MAX_MESSAGE_CHARS: usize = crate::messaging::MAX_TEXT_CHARS;
/// A staff notification's text, at most.
pub const MAX_NOTIFY_CHARS: usize = 500;
/// A guide task's title, at most.
pub const MAX_TASK_TITLE_CHARS: usize = 60;
/// A guide task's instructions, at most.
pub const MAX_TASK_BODY_CHARS: usize = 1000;
/// A guide task is due at most this many hours after it is made.
pub const MAX_TASK_DUE_HOURS: i64 = 720;
/// A segment expression in a trigger or a branch, at most this many bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4000;
/// A date trigger's offset, in days (negative: before the date).
pub const OFFSET_DAYS: std::ops::RangeInclusive<i64> = -30..=366;
/// Cool-down days of the `cooldown` enrolment rule.
pub const COOLDOWN_DAYS: std::ops::RangeInclusive<i64> = 1..=3650;
/// Steps one run may take in one go before the engine stops it as a runaway (a loop always
/// passes a wait, so only a very long straight list could get near).
pub const MAX_STEPS_PER_TURN: usize = MAX_STEPS * 2;
/// The default quiet hours: 22:00–08:00 Asia/Shanghai.
pub const DEFAULT_QUIET: QuietHours = QuietHours {
    start: 22 * 60,
    end: 8 * 60,
};
/// Timeline kinds a journey may start on besides the [`EventKind`]s: the coupon-expiry
/// reminder the coupon sweep queues (issue #16), delivered through a journey's message step.
pub const EXTRA_EVENT_KINDS: [&str; 1] = ["coupon_reminder_queued"];

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

fn field(f: &'static str, code: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError::new(f, code, msg)
}

/// A time of day in Asia/Shanghai, as minutes after midnight; written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(pub u16);

impl TimeOfDay {
    pub fn parse(f: &'static str, s: &str) -> Result<Self, FieldError> {
        let bad = || {
            field(
                f,
                "invalid_time_of_day",
                format!("{s:?} is not a time HH:MM"),
            )
        };
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Self(h * 60 + m))
    }

    pub fn minutes(self) -> i64 {
        i64::from(self.0)
    }

    /// The first instant at this time of day strictly after `after`.
    pub fn next_after(self, after: i64) -> i64 {
        let day = shanghai_day(after);
        let today = day_start(day) + self.minutes() * MINUTE_MS;
        if today > after {
            today
        } else {
            day_start(day + 1) + self.minutes() * MINUTE_MS
        }
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", self.0 / 60, self.0 % 60))
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeOfDay::parse("time", &s).map_err(serde::de::Error::custom)
    }
}

/// Quiet hours: customer- and staff-facing steps due inside them wait until they end. `start`
/// after `end` spans midnight (22:00–08:00). Written `{"start": "22:00", "end": "08:00"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Minutes after midnight.
    pub start: u16,
    pub end: u16,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuietText {
    start: TimeOfDay,
    end: TimeOfDay,
}

impl Serialize for QuietHours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        QuietText {
            start: TimeOfDay(self.start),
            end: TimeOfDay(self.end),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for QuietHours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let q = QuietText::deserialize(d)?;
        Ok(QuietHours {
            start: q.start.0,
            end: q.end.0,
        })
    }
}

impl QuietHours {
    pub fn parse(start: &str, end: &str) -> Result<Self, FieldError> {
        let s = TimeOfDay::parse("quiet_hours", start)?;
        let e = TimeOfDay::parse("quiet_hours", end)?;
        if s == e {
            return Err(field(
                "quiet_hours",
                "invalid_quiet_hours",
                "quiet hours start and end at different times",
            ));
        }
        Ok(Self {
            start: s.0,
            end: e.0,
        })
    }

    fn minute_of(ms: i64) -> i64 {
        (ms - day_start(shanghai_day(ms))) / MINUTE_MS
    }

    /// Whether `ms` falls inside the quiet hours.
    pub fn contains(self, ms: i64) -> bool {
        let m = Self::minute_of(ms);
        let (s, e) = (i64::from(self.start), i64::from(self.end));
        if s < e {
            (s..e).contains(&m)
        } else {
            m >= s || m < e
        }
    }

    /// `ms` itself when outside the quiet hours, else the instant they end.
    pub fn release(self, ms: i64) -> i64 {
        if self.contains(ms) {
            TimeOfDay(self.end).next_after(ms)
        } else {
            ms
        }
    }
}

/// A customer date a journey can start on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateAttribute {
    /// The birthday's month and day, every year (29 February: 28 February in other years).
    Birthday,
    /// The first paid order's Shanghai day.
    FirstOrder,
}

/// What enrols customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// Each event of this kind on a customer's timeline, as it commits.
    Event { event: String },
    /// Every chosen weekday (1 Monday … 7 Sunday) at `time`, or once `at` (UTC millis): the
    /// customers matching `audience` (a segment expression) at that moment.
    Schedule {
        #[serde(default)]
        weekdays: Vec<u8>,
        #[serde(default)]
        time: Option<TimeOfDay>,
        #[serde(default)]
        at: Option<i64>,
        audience: String,
    },
    /// `offset_days` after (before, when negative) a customer's date, at `time`.
    Date {
        attribute: DateAttribute,
        #[serde(default)]
        offset_days: i64,
        time: TimeOfDay,
    },
    /// A group SOP calendar entry (群 SOP): every chosen weekday at `time`, or once `at`, the
    /// customer groups `group_ids` (or every group not dismissed, `all_groups`) get the one
    /// `group_message` step. No customer is enrolled: the occurrence itself is the run.
    GroupSchedule {
        #[serde(default)]
        weekdays: Vec<u8>,
        #[serde(default)]
        time: Option<TimeOfDay>,
        #[serde(default)]
        at: Option<i64>,
        #[serde(default)]
        group_ids: Vec<i64>,
        #[serde(default)]
        all_groups: bool,
    },
    /// Customers who come to match `expression` (checked every minute).
    SegmentEnter { expression: String },
    /// Customers who stop matching `expression`.
    SegmentLeave { expression: String },
}

impl Trigger {
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Event { .. } => "event",
            Trigger::Schedule { .. } => "schedule",
            Trigger::Date { .. } => "date",
            Trigger::GroupSchedule { .. } => "group_schedule",
            Trigger::SegmentEnter { .. } => "segment_enter",
            Trigger::SegmentLeave { .. } => "segment_leave",
        }
    }

    /// The segment expression the trigger evaluates, if any (the app compiles it).
    pub fn expression(&self) -> Option<&str> {
        match self {
            Trigger::Schedule { audience, .. } => Some(audience),
            Trigger::SegmentEnter { expression } | Trigger::SegmentLeave { expression } => {
                Some(expression)
            }
            _ => None,
        }
    }

    fn check(&mut self, now: i64) -> Result<(), FieldError> {
        match self {
            Trigger::Event { event } => {
                let known = EventKind::parse_any("trigger", event).is_ok()
                    || EXTRA_EVENT_KINDS.contains(&event.as_str());
                if !known {
                    return Err(field(
                        "trigger",
                        "unknown_event_kind",
                        format!("unknown event kind {event:?}"),
                    ));
                }
            }
            Trigger::Schedule {
                weekdays,
                time,
                at,
                audience,
            } => {
                check_expression("trigger", audience)?;
                check_schedule(weekdays, *time, *at, now)?;
            }
            Trigger::GroupSchedule {
                weekdays,
                time,
                at,
                group_ids,
                ..
            } => {
                check_schedule(weekdays, *time, *at, now)?;
                group_ids.sort_unstable();
                group_ids.dedup();
            }
            Trigger::Date { offset_days, .. } => {
                if !OFFSET_DAYS.contains(offset_days) {
                    return Err(field(
                        "trigger",
                        "invalid_offset",
                        "the offset is −30 to 366 days",
                    ));
                }
            }
            Trigger::SegmentEnter { expression } | Trigger::SegmentLeave { expression } => {
                check_expression("trigger", expression)?;
            }
        }
        if matches!(self, Trigger::GroupSchedule { .. }) {
            self.group_audience()?;
        }
        Ok(())
    }

    /// The next occurrence of a schedule or date trigger strictly after `after` (a date
    /// trigger runs daily at its time); `None` for the others, or a one-off that has passed.
    pub fn next_occurrence(&self, after: i64) -> Option<i64> {
        match self {
            Trigger::Schedule { at: Some(at), .. }
            | Trigger::GroupSchedule { at: Some(at), .. } => (*at > after).then_some(*at),
            Trigger::Schedule {
                weekdays,
                time: Some(t),
                ..
            }
            | Trigger::GroupSchedule {
                weekdays,
                time: Some(t),
                ..
            } => next_weekly(after, weekdays, *t),
            Trigger::Date { time, .. } => Some(time.next_after(after)),
            _ => None,
        }
    }

    /// The occurrences of a schedule (customers or groups) in `[from, to)`, in order: what a
    /// calendar's week shows. Empty for the other triggers (a date trigger's audience changes
    /// daily; it is not a calendar entry).
    pub fn occurrences(&self, from: i64, to: i64) -> Vec<i64> {
        let mut out = Vec::new();
        if !matches!(
            self,
            Trigger::Schedule { .. } | Trigger::GroupSchedule { .. }
        ) {
            return out;
        }
        let mut after = from - 1;
        while let Some(at) = self.next_occurrence(after) {
            if at >= to || out.len() >= 64 {
                break;
            }
            out.push(at);
            after = at;
        }
        out
    }

    /// A group schedule's groups as a message audience; a field error unless exactly one of
    /// `group_ids` (1–5,000 ids) and `all_groups` is given.
    pub fn group_audience(&self) -> Result<Audience, FieldError> {
        let Trigger::GroupSchedule {
            group_ids,
            all_groups,
            ..
        } = self
        else {
            return Err(field(
                "trigger",
                "invalid_audience",
                "only a group schedule names groups",
            ));
        };
        let form = crate::messaging::AudienceForm {
            group_ids: (!group_ids.is_empty()).then(|| group_ids.clone()),
            all_groups: Some(*all_groups),
            ..Default::default()
        };
        Audience::parse(form).map_err(|e| field("trigger", e.code, e.message))
    }

    /// The schedule's time of day, or its one instant's (for the quiet-hours check).
    fn instants(&self) -> (Option<TimeOfDay>, Option<i64>) {
        match self {
            Trigger::Schedule { time, at, .. } | Trigger::GroupSchedule { time, at, .. } => {
                (*time, *at)
            }
            _ => (None, None),
        }
    }
}

/// Weekdays and a time, or one instant `at` in the future (not past 2100).
fn check_schedule(
    weekdays: &mut Vec<u8>,
    time: Option<TimeOfDay>,
    at: Option<i64>,
    now: i64,
) -> Result<(), FieldError> {
    match (at, time) {
        (Some(at), None) if weekdays.is_empty() => {
            if at <= now {
                return Err(field(
                    "trigger",
                    "schedule_past",
                    "the scheduled time has passed",
                ));
            }
            if at > crate::time::LATEST_SCHEDULE.0 {
                return Err(field("trigger", "invalid_time", "too far ahead"));
            }
        }
        (None, Some(_)) => {
            let set: BTreeSet<u8> = weekdays.iter().copied().collect();
            if set.is_empty() || set.iter().any(|d| !(1..=7).contains(d)) {
                return Err(field(
                    "trigger",
                    "invalid_weekdays",
                    "weekdays are 1 (Monday) to 7 (Sunday), at least one",
                ));
            }
            *weekdays = set.into_iter().collect();
        }
        _ => {
            return Err(field(
                "trigger",
                "invalid_schedule",
                "a schedule is weekdays and a time, or one instant `at`",
            ));
        }
    }
    Ok(())
}

fn check_expression(f: &'static str, e: &str) -> Result<(), FieldError> {
    if e.trim().is_empty() || e.len() > MAX_EXPRESSION_BYTES || has_control(e) {
        return Err(field(
            f,
            "invalid_expression",
            "a segment expression of 1–4,000 bytes",
        ));
    }
    Ok(())
}

/// The ISO weekday (1 Monday … 7 Sunday) of a Shanghai day number.
pub fn weekday(day: i64) -> u8 {
    // 1970-01-01 was a Thursday (4).
    u8::try_from((day + 3).rem_euclid(7) + 1).unwrap_or(1)
}

/// The first instant strictly after `after` that falls on one of `weekdays` at `time`.
pub fn next_weekly(after: i64, weekdays: &[u8], time: TimeOfDay) -> Option<i64> {
    let first = shanghai_day(after);
    (first..first + 8).find_map(|day| {
        let at = day_start(day) + time.minutes() * MINUTE_MS;
        (at > after && weekdays.contains(&weekday(day))).then_some(at)
    })
}

/// The Shanghai day number of the Monday of the week holding `date` (`YYYY-MM-DD`), or of
/// the week holding `now` when no date is given: the week a calendar shows.
pub fn week_of(date: Option<&str>, now: i64) -> Result<i64, FieldError> {
    let day = match date.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let bad = || field("week", "invalid_date", "a date is YYYY-MM-DD, 1970–2099");
            let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            let n = (d - epoch).num_days();
            if !(7..=47_475).contains(&n) {
                return Err(bad());
            }
            n
        }
        None => shanghai_day(now),
    };
    Ok(day - i64::from(weekday(day) - 1))
}

/// A Shanghai day number as `YYYY-MM-DD`.
pub fn day_text(day: i64) -> String {
    let (y, m, d) = crate::messaging::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The month-day (`MM-DD`) a birthday must carry to be `offset_days` before the Shanghai day
/// `day` — plus `02-29` on 28 February of a common year, so leap-day birthdays are kept.
pub fn birthday_keys(day: i64, offset_days: i64) -> Vec<String> {
    let (y, m, d) = crate::messaging::civil_from_days(day - offset_days);
    let mut keys = vec![format!("{m:02}-{d:02}")];
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if m == 2 && d == 28 && !leap {
        keys.push("02-29".into());
    }
    keys
}

/// One step of a journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Wait a duration.
    Wait { seconds: i64 },
    /// Wait until the next `time` of day.
    WaitUntil { time: TimeOfDay },
    /// Go on when the customer matches `expression`, else jump to `else_step` (the number of
    /// steps: the end).
    Branch {
        expression: String,
        else_step: usize,
    },
    /// Jump to `step`.
    Goto { step: usize },
    /// Put a tag on the customer.
    Tag { tag_id: i64 },
    /// Take a tag off.
    Untag { tag_id: i64 },
    /// Issue one set of a coupon template.
    Coupon { template_id: i64 },
    /// Give the owning guide a task, optionally with a material to send.
    Task {
        title: String,
        #[serde(default)]
        body: String,
        #[serde(default)]
        material_id: Option<i64>,
        due_hours: i64,
    },
    /// Send a message through the owning guide (a mass message: caps and exclusions apply):
    /// text and up to 9 attachments, not both empty.
    Message {
        #[serde(default)]
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Attachment>,
    },
    /// The one step of a group schedule: post to its groups, either as a WeCom group mass
    /// message through each group's owner (counted against WeCom's receipt cap per group) or
    /// as a guide task for each owner to post by hand (not counted: a daily rhythm of several
    /// posts a day fits no monthly cap of "days in the month").
    GroupMessage {
        #[serde(default)]
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Attachment>,
        /// With `owner_task`: a material of the library for the owner to post.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        material_id: Option<i64>,
        delivery: GroupDelivery,
    },
    /// Tell the owning guide through a WeCom app message.
    Notify { text: String },
    /// Hand the customer to an outside system: a `journey_signal` event on the timeline,
    /// which outbound webhooks subscribed to it deliver, signed and retried.
    Webhook { signal: String },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Wait { .. } => "wait",
            Step::WaitUntil { .. } => "wait_until",
            Step::Branch { .. } => "branch",
            Step::Goto { .. } => "goto",
            Step::Tag { .. } => "tag",
            Step::Untag { .. } => "untag",
            Step::Coupon { .. } => "coupon",
            Step::Task { .. } => "task",
            Step::Message { .. } => "message",
            Step::GroupMessage { .. } => "group_message",
            Step::Notify { .. } => "notify",
            Step::Webhook { .. } => "webhook",
        }
    }

    /// A step that reaches a person (and so waits out quiet hours).
    pub fn is_contact(&self) -> bool {
        matches!(
            self,
            Step::Message { .. } | Step::GroupMessage { .. } | Step::Notify { .. }
        )
    }

    fn is_wait(&self) -> bool {
        matches!(self, Step::Wait { .. } | Step::WaitUntil { .. })
    }

    /// The steps control may go to from step `i` (`n` is the end).
    fn successors(&self, i: usize) -> Vec<usize> {
        match self {
            Step::Branch { else_step, .. } => vec![i + 1, *else_step],
            Step::Goto { step } => vec![*step],
            _ => vec![i + 1],
        }
    }

    fn check(&self, n: usize) -> Result<(), String> {
        let text = |s: &str, max: usize, what: &str| -> Result<(), String> {
            let t = s.trim();
            if t.is_empty() || t.chars().count() > max || has_control(t) {
                return Err(format!("{what} is 1–{max} characters"));
            }
            Ok(())
        };
        match self {
            Step::Wait { seconds } => {
                if !(MIN_WAIT_SECS..=MAX_WAIT_SECS).contains(seconds) {
                    return Err("a wait is 60 seconds to 366 days".into());
                }
            }
            Step::WaitUntil { .. } | Step::Tag { .. } | Step::Untag { .. } => {}
            Step::Branch {
                expression,
                else_step,
            } => {
                check_expression("steps", expression).map_err(|e| e.message)?;
                if *else_step > n {
                    return Err(format!("else_step {else_step} is past the end ({n})"));
                }
            }
            Step::Goto { step } => {
                if *step > n {
                    return Err(format!("goto {step} is past the end ({n})"));
                }
            }
            Step::Coupon { .. } => {}
            Step::Task {
                title,
                body,
                due_hours,
                ..
            } => {
                text(title, MAX_TASK_TITLE_CHARS, "a task's title")?;
                if body.chars().count() > MAX_TASK_BODY_CHARS || has_control(body) {
                    return Err("a task's instructions are at most 1,000 characters".into());
                }
                if !(1..=MAX_TASK_DUE_HOURS).contains(due_hours) {
                    return Err("a task is due 1–720 hours after it is made".into());
                }
            }
            Step::Message {
                text: t,
                attachments,
            } => {
                Content::parse(t, attachments.clone()).map_err(|e| e.message)?;
            }
            Step::GroupMessage {
                text: t,
                attachments,
                material_id,
                delivery,
            } => {
                Content::parse(t, attachments.clone()).map_err(|e| e.message)?;
                match delivery {
                    GroupDelivery::MassMessage if material_id.is_some() => {
                        return Err("a group mass message carries attachments, not a material \
                                    (a material goes with an owner task)"
                            .into());
                    }
                    GroupDelivery::OwnerTask if !attachments.is_empty() => {
                        return Err("an owner task carries a material, not attachments".into());
                    }
                    GroupDelivery::OwnerTask if t.trim().chars().count() > MAX_TASK_BODY_CHARS => {
                        return Err("an owner task's text is at most 1,000 characters".into());
                    }
                    _ => {}
                }
            }
            Step::Notify { text: t } => text(t, MAX_NOTIFY_CHARS, "a notification")?,
            Step::Webhook { signal } => {
                let ok = (1..=40).contains(&signal.len())
                    && signal
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !ok {
                    return Err("a signal is 1–40 of a–z, 0–9 and _".into());
                }
            }
        }
        Ok(())
    }
}

/// How a group schedule's message reaches its groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupDelivery {
    /// A WeCom group mass message (企业群发, chat_type `group`) through each group's owner,
    /// tracked per group; WeCom counts it against each group's receipt cap.
    MassMessage,
    /// A guide task for each group owner with the text (and material) to post by hand.
    OwnerTask,
}

impl GroupDelivery {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupDelivery::MassMessage => "mass_message",
            GroupDelivery::OwnerTask => "owner_task",
        }
    }
}

/// Who may enter again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Entry {
    /// Once ever.
    Once,
    /// Again once `days` have passed since the last entry (and the last run has ended).
    Cooldown { days: i64 },
    /// Again whenever triggered, once the last run has ended.
    Reentry,
}

impl Entry {
    pub fn as_str(self) -> &'static str {
        match self {
            Entry::Once => "once",
            Entry::Cooldown { .. } => "cooldown",
            Entry::Reentry => "reentry",
        }
    }

    /// The cool-down in millis (0 for re-entry, `i64::MAX` for once).
    pub fn cooldown_ms(self) -> i64 {
        match self {
            Entry::Once => i64::MAX,
            Entry::Cooldown { days } => days.saturating_mul(DAY_MS),
            Entry::Reentry => 0,
        }
    }
}

/// A journey as entered (the JSON body of create and update).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub trigger: Trigger,
    pub steps: Vec<Step>,
    pub entry: Entry,
    /// `None`: no quiet hours (the default, 22:00–08:00, is filled in by the console).
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
}

impl Definition {
    /// Check a definition entered at `now`: the trigger, each step (the field error names the
    /// step), the jumps, and that every loop passes a wait.
    pub fn parse(mut self, now: i64) -> Result<Self, FieldError> {
        self.trigger.check(now)?;
        let n = self.steps.len();
        if n == 0 || n > MAX_STEPS {
            return Err(field(
                "steps",
                "invalid_journey_steps",
                "a journey has 1–50 steps",
            ));
        }
        for (i, s) in self.steps.iter().enumerate() {
            s.check(n).map_err(|m| {
                field(
                    "steps",
                    if matches!(s, Step::Wait { .. }) {
                        "invalid_wait"
                    } else {
                        "invalid_step"
                    },
                    format!("step {}: {m}", i + 1),
                )
            })?;
        }
        self.check_group_shape()?;
        if let Some(i) = self.loop_without_wait() {
            return Err(field(
                "steps",
                "journey_cycle",
                format!("step {} is on a loop that passes no wait", i + 1),
            ));
        }
        if let Entry::Cooldown { days } = self.entry
            && !COOLDOWN_DAYS.contains(&days)
        {
            return Err(field(
                "entry",
                "invalid_cooldown",
                "a cool-down is 1–3,650 days",
            ));
        }
        if let Some(q) = self.quiet_hours
            && (q.start == q.end || q.start >= 1440 || q.end >= 1440)
        {
            return Err(field(
                "quiet_hours",
                "invalid_quiet_hours",
                "quiet hours start and end at different times of day",
            ));
        }
        Ok(self)
    }

    /// A group schedule has exactly one step, its group message, and its time falls outside
    /// the quiet hours (a post held until morning would say "good night" at 08:00); a group
    /// message is no step of a customer journey.
    fn check_group_shape(&self) -> Result<(), FieldError> {
        let groups = matches!(self.trigger, Trigger::GroupSchedule { .. });
        if groups {
            if !matches!(self.steps.as_slice(), [Step::GroupMessage { .. }]) {
                return Err(field(
                    "steps",
                    "invalid_journey_steps",
                    "a group schedule has exactly one step: a group message",
                ));
            }
            if let Some(q) = self.quiet_hours {
                let (time, at) = self.trigger.instants();
                let quiet = match (time, at) {
                    (Some(t), _) => q.contains(day_start(0) + t.minutes() * MINUTE_MS),
                    (None, Some(at)) => q.contains(at),
                    _ => false,
                };
                if quiet {
                    return Err(field(
                        "trigger",
                        "invalid_schedule",
                        "the time falls inside the quiet hours",
                    ));
                }
            }
        } else if let Some(i) = self
            .steps
            .iter()
            .position(|s| matches!(s, Step::GroupMessage { .. }))
        {
            return Err(field(
                "steps",
                "invalid_step",
                format!("step {}: a group message needs a group schedule", i + 1),
            ));
        }
        Ok(())
    }

    /// A step on a cycle of the step graph that has no wait on it, if any: depth-first over
    /// the graph with the waits' outgoing edges removed (a wait breaks every loop through it).
    fn loop_without_wait(&self) -> Option<usize> {
        let n = self.steps.len();
        // 0 unvisited, 1 on the stack, 2 done.
        let mut mark = vec![0u8; n];
        for start in 0..n {
            if mark[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            mark[start] = 1;
            while let Some(&mut (v, ref mut k)) = stack.last_mut() {
                let succ = if self.steps[v].is_wait() {
                    Vec::new()
                } else {
                    self.steps[v].successors(v)
                };
                if let Some(&w) = succ.get(*k) {
                    *k += 1;
                    if w >= n {
                        continue;
                    }
                    match mark[w] {
                        0 => {
                            mark[w] = 1;
                            stack.push((w, 0));
                        }
                        1 => return Some(w),
                        _ => {}
                    }
                } else {
                    mark[v] = 2;
                    stack.pop();
                }
            }
        }
        None
    }

    /// The tags, coupon templates and materials the steps name (checked to exist when a
    /// journey is saved and again when a step runs).
    pub fn references(&self) -> References {
        let mut r = References::default();
        for s in &self.steps {
            match s {
                Step::Tag { tag_id } | Step::Untag { tag_id } => r.tags.push(*tag_id),
                Step::Coupon { template_id } => r.coupon_templates.push(*template_id),
                Step::Task {
                    material_id: Some(m),
                    ..
                }
                | Step::GroupMessage {
                    material_id: Some(m),
                    ..
                } => r.materials.push(*m),
                _ => {}
            }
        }
        if let Trigger::GroupSchedule { group_ids, .. } = &self.trigger {
            r.groups.clone_from(group_ids);
        }
        r
    }

    /// The segment expressions of the trigger and the branches.
    pub fn expressions(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.trigger.expression().into_iter().collect();
        for s in &self.steps {
            if let Step::Branch { expression, .. } = s {
                v.push(expression);
            }
        }
        v
    }
}

/// What a definition refers to by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    pub tags: Vec<i64>,
    pub coupon_templates: Vec<i64>,
    pub materials: Vec<i64>,
    /// A group schedule's groups.
    pub groups: Vec<i64>,
}

/// Parse a journey's name: 1–40 characters, no control characters.
pub fn parse_name(name: &str) -> Result<String, FieldError> {
    let n = name.trim();
    if !(1..=MAX_NAME_CHARS).contains(&n.chars().count()) || has_control(n) {
        return Err(field("name", "invalid_name", "a name is 1–40 characters"));
    }
    Ok(n.to_owned())
}

/// The states of a journey.
pub const STATUSES: [&str; 4] = ["draft", "active", "paused", "archived"];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_780_000_000_000;

    fn def(steps: Vec<Step>) -> Definition {
        Definition {
            trigger: Trigger::Event {
                event: "add_friend".into(),
            },
            steps,
            entry: Entry::Once,
            quiet_hours: Some(DEFAULT_QUIET),
        }
    }

    fn code(d: Definition) -> &'static str {
        d.parse(NOW).err().map(|e| e.code).unwrap_or("ok")
    }

    #[test]
    fn loops_need_a_wait() {
        let tag = Step::Tag { tag_id: 1 };
        assert_eq!(
            code(def(vec![tag.clone(), Step::Goto { step: 0 }])),
            "journey_cycle"
        );
        assert_eq!(
            code(def(vec![
                Step::Wait { seconds: 3600 },
                tag.clone(),
                Step::Goto { step: 0 }
            ])),
            "ok"
        );
        // A branch whose else jumps back without a wait.
        assert_eq!(
            code(def(vec![
                tag.clone(),
                Step::Branch {
                    expression: "tag = 1".into(),
                    else_step: 0
                }
            ])),
            "journey_cycle"
        );
        // A wait of 0 is refused as a wait, loop or not.
        assert_eq!(
            code(def(vec![Step::Wait { seconds: 0 }, Step::Goto { step: 0 }])),
            "invalid_wait"
        );
        assert_eq!(code(def(vec![Step::Goto { step: 1 }])), "ok");
        assert_eq!(code(def(vec![Step::Goto { step: 2 }])), "invalid_step");
        assert_eq!(code(def(vec![])), "invalid_journey_steps");
    }

    #[test]
    fn triggers_are_checked() {
        let mut d = def(vec![Step::Tag { tag_id: 1 }]);
        d.trigger = Trigger::Event {
            event: "nope".into(),
        };
        assert_eq!(code(d.clone()), "unknown_event_kind");
        d.trigger = Trigger::Event {
            event: "coupon_reminder_queued".into(),
        };
        assert_eq!(code(d.clone()), "ok");
        d.trigger = Trigger::Schedule {
            weekdays: vec![],
            time: None,
            at: Some(NOW - 1),
            audience: "all".into(),
        };
        assert_eq!(code(d.clone()), "schedule_past");
        d.trigger = Trigger::Schedule {
            weekdays: vec![8],
            time: Some(TimeOfDay(600)),
            at: None,
            audience: "all".into(),
        };
        assert_eq!(code(d.clone()), "invalid_weekdays");
        d.trigger = Trigger::Schedule {
            weekdays: vec![2, 2],
            time: Some(TimeOfDay(600)),
            at: None,
            audience: " ".into(),
        };
        assert_eq!(code(d.clone()), "invalid_expression");
        d.entry = Entry::Cooldown { days: 0 };
        d.trigger = Trigger::Event {
            event: "order_paid".into(),
        };
        assert_eq!(code(d), "invalid_cooldown");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let bad = r#"{"trigger":{"kind":"event","event":"add_friend","x":1},"steps":[],"entry":{"rule":"once"}}"#;
        assert!(serde_json::from_str::<Definition>(bad).is_err());
        let ok = r#"{"trigger":{"kind":"event","event":"add_friend"},"steps":[{"kind":"wait_until","time":"10:00"}],"entry":{"rule":"once"}}"#;
        let d: Definition = serde_json::from_str(ok).unwrap();
        assert_eq!(
            d.steps[0],
            Step::WaitUntil {
                time: TimeOfDay(600)
            }
        );
        assert!(serde_json::from_str::<Definition>(&ok.replace("10:00", "24:00")).is_err());
    }

    #[test]
    fn weekly_and_quiet_hours() {
        // 2026-12-08 is a Tuesday; its 10:00 Shanghai is 02:00 UTC.
        let tue_10 = 1_796_695_200_000;
        assert_eq!(weekday(shanghai_day(tue_10)), 2);
        let t = TimeOfDay(600);
        assert_eq!(next_weekly(tue_10 - 1, &[2], t), Some(tue_10));
        assert_eq!(next_weekly(tue_10, &[2], t), Some(tue_10 + 7 * DAY_MS));
        let q = DEFAULT_QUIET;
        assert!(!q.contains(tue_10));
        let eleven_pm = tue_10 + 13 * 3_600_000;
        assert!(q.contains(eleven_pm));
        assert_eq!(q.release(eleven_pm), tue_10 + DAY_MS - 2 * 3_600_000);
        assert_eq!(q.release(tue_10), tue_10);
    }

    fn group_def(delivery: GroupDelivery, time: u16) -> Definition {
        Definition {
            trigger: Trigger::GroupSchedule {
                weekdays: vec![1, 2, 3, 4, 5, 6, 7],
                time: Some(TimeOfDay(time)),
                at: None,
                group_ids: vec![3, 1, 3],
                all_groups: false,
            },
            steps: vec![Step::GroupMessage {
                text: "早安，今日上新".into(),
                attachments: vec![],
                material_id: None,
                delivery,
            }],
            entry: Entry::Once,
            quiet_hours: Some(DEFAULT_QUIET),
        }
    }

    #[test]
    fn group_schedules_have_one_group_message_outside_quiet_hours() {
        let ok = group_def(GroupDelivery::OwnerTask, 9 * 60)
            .parse(NOW)
            .unwrap();
        let Trigger::GroupSchedule { group_ids, .. } = &ok.trigger else {
            panic!("trigger kind changed");
        };
        assert_eq!(group_ids, &vec![1, 3]);
        assert_eq!(ok.references().groups, vec![1, 3]);
        // 22:30 falls inside 22:00–08:00.
        assert_eq!(
            code(group_def(GroupDelivery::MassMessage, 22 * 60 + 30)),
            "invalid_schedule"
        );
        let mut no_quiet = group_def(GroupDelivery::MassMessage, 22 * 60 + 30);
        no_quiet.quiet_hours = None;
        assert_eq!(code(no_quiet), "ok");
        // Two steps, or a wait, are refused.
        let mut two = group_def(GroupDelivery::OwnerTask, 600);
        two.steps.push(Step::Wait { seconds: 60 });
        assert_eq!(code(two), "invalid_journey_steps");
        // Neither groups nor all groups, or both.
        let mut none = group_def(GroupDelivery::OwnerTask, 600);
        if let Trigger::GroupSchedule {
            group_ids,
            all_groups,
            ..
        } = &mut none.trigger
        {
            group_ids.clear();
            *all_groups = false;
        }
        assert_eq!(code(none.clone()), "invalid_audience");
        if let Trigger::GroupSchedule { all_groups, .. } = &mut none.trigger {
            *all_groups = true;
        }
        assert_eq!(code(none), "ok");
        // A material goes with an owner task only; attachments with a mass message only.
        let mut m = group_def(GroupDelivery::MassMessage, 600);
        if let Step::GroupMessage { material_id, .. } = &mut m.steps[0] {
            *material_id = Some(4);
        }
        assert_eq!(code(m), "invalid_step");
        // A group message in a customer journey.
        let mut c = def(vec![]);
        c.steps = group_def(GroupDelivery::OwnerTask, 600).steps;
        assert_eq!(code(c), "invalid_step");
        // Empty content.
        let mut e = group_def(GroupDelivery::OwnerTask, 600);
        if let Step::GroupMessage { text, .. } = &mut e.steps[0] {
            text.clear();
        }
        assert_eq!(code(e), "invalid_step");
    }

    #[test]
    fn a_week_of_occurrences() {
        // 2026-12-07 00:00 Shanghai (a Monday) is 2026-12-06 16:00 UTC.
        let monday = 1_796_572_800_000;
        assert_eq!(weekday(shanghai_day(monday)), 1);
        let t = Trigger::GroupSchedule {
            weekdays: vec![2, 7],
            time: Some(TimeOfDay(600)),
            at: None,
            group_ids: vec![],
            all_groups: true,
        };
        let week = t.occurrences(monday, monday + 7 * DAY_MS);
        assert_eq!(
            week,
            vec![
                monday + DAY_MS + 600 * MINUTE_MS,
                monday + 6 * DAY_MS + 600 * MINUTE_MS
            ]
        );
        let once = Trigger::Schedule {
            weekdays: vec![],
            time: None,
            at: Some(monday + 5),
            audience: "all".into(),
        };
        assert_eq!(once.occurrences(monday, monday + DAY_MS), vec![monday + 5]);
        assert!(once.occurrences(monday + 6, monday + DAY_MS).is_empty());
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-10 is a Thursday; its week starts on Monday 2026-12-07.
        let monday = week_of(Some("2026-12-10"), 0).unwrap();
        assert_eq!(day_text(monday), "2026-12-07");
        assert_eq!(week_of(Some("2026-12-07"), 0).unwrap(), monday);
        assert_eq!(week_of(None, day_start(monday + 6) + 1).unwrap(), monday);
        assert_eq!(
            week_of(Some("2026-13-01"), 0).unwrap_err().code,
            "invalid_date"
        );
        assert_eq!(
            week_of(Some("1900-01-01"), 0).unwrap_err().code,
            "invalid_date"
        );
    }

    #[test]
    fn leap_day_birthdays() {
        // 2027-02-28 (a common year) also greets 29 February birthdays.
        let day = shanghai_day(1_803_787_200_000);
        let keys = birthday_keys(day, 0);
        assert_eq!(keys, vec!["02-28".to_string(), "02-29".to_string()]);
        assert_eq!(birthday_keys(day + 1, 1), keys);
    }

    proptest! {
        #[test]
        fn release_is_never_quiet_and_never_early(ms in 0i64..4_000_000_000_000, s in 0u16..1440, e in 0u16..1440) {
            prop_assume!(s != e);
            let q = QuietHours { start: s, end: e };
            let r = q.release(ms);
            prop_assert!(r >= ms);
            prop_assert!(!q.contains(r));
            prop_assert!(r - ms <= DAY_MS);
        }

        #[test]
        fn next_weekly_lands_on_the_day(after in 0i64..4_000_000_000_000, d in 1u8..=7, m in 0u16..1440) {
            let at = next_weekly(after, &[d], TimeOfDay(m)).unwrap();
            prop_assert!(at > after && at - after <= 7 * DAY_MS);
            prop_assert_eq!(weekday(shanghai_day(at)), d);
            prop_assert_eq!((at - day_start(shanghai_day(at))) / MINUTE_MS, i64::from(m));
        }

        #[test]
        fn accepted_graphs_have_a_wait_on_every_loop(jumps in proptest::collection::vec((0usize..4, 0usize..7), 1..7)) {
            let n = jumps.len();
            let steps: Vec<Step> = jumps.iter().map(|(k, t)| match k {
                0 => Step::Wait { seconds: 60 },
                1 => Step::Goto { step: t % (n + 1) },
                2 => Step::Branch { expression: "x".into(), else_step: t % (n + 1) },
                _ => Step::Tag { tag_id: 1 },
            }).collect();
            if let Ok(d) = def(steps).parse(NOW) {
                // Walk from every step at most n*2 moves without a wait: it must end.
                for start in 0..n {
                    let mut seen = vec![false; n];
                    let mut frontier = vec![start];
                    while let Some(v) = frontier.pop() {
                        if v >= n || d.steps[v].is_wait() || seen[v] { continue; }
                        seen[v] = true;
                        for w in d.steps[v].successors(v) {
                            prop_assert!(w != start || d.steps[start].is_wait(), "loop without wait through {start}");
                            frontier.push(w);
                        }
                    }
                }
            }
        }
    }
}
