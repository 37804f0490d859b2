//! Mass messages to customers (群发, issue #21 item 1): the content, the audience, the
//! holdout, and the rules that decide, customer by customer, whether a message is sent, held
//! out, or excluded — and why. No I/O: the application gathers each customer's facts
//! ([`Facts`]) and [`decide`] answers.
//!
//! **Why a decision per customer.** The operator sees who will be reached and who will not
//! before sending, and the same function decides at the moment of sending, so the preview and
//! the send never disagree on a rule. The order of the reasons is fixed (the first that
//! applies is the one shown): no guide to send through, the customer deleted their guide,
//! opted out, WeCom's receipt cap, then Yutang's own frequency cap; only then the holdout.
//!
//! **The frequency cap** is Yutang's: at most `daily` marketing messages per Shanghai day and
//! `weekly` per rolling 7 days, counted over every sender (mass messages today; journeys when
//! they exist) from one ledger. **WeCom's receipt cap** is WeCom's: each customer receives at
//! most as many mass messages per month as the month has days (or 7 a week, or 1 a day, as the
//! corp chose in 群发助手); Yutang counts what it sent and excludes the customers WeCom would
//! refuse, and WeCom's answer (status 3) catches what others sent.

use serde::Serialize;

use crate::FieldError;

/// Text of a message: at most this many characters (WeCom's 4,000 for mass-send text).
pub const MAX_TEXT_CHARS: usize = 4000;
/// Attachments of one message, at most (WeCom, 92135).
pub const MAX_ATTACHMENTS: usize = 9;
/// A link attachment's title: at most 64 bytes (WeCom's 图文消息标题).
pub const MAX_LINK_TITLE_BYTES: usize = 64;
/// A link attachment's description: at most 512 bytes.
pub const MAX_LINK_DESC_BYTES: usize = 512;
/// URLs: at most this many bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Customers named one by one in an audience, at most.
pub const MAX_LISTED_CUSTOMERS: usize = 10_000;
/// Customer groups named one by one in an audience, at most.
pub const MAX_LISTED_GROUPS: usize = 5_000;
/// Tags of a tag-set audience, at most.
pub const MAX_AUDIENCE_TAGS: usize = 20;
/// The largest holdout: half the audience (basis points).
pub const MAX_HOLDOUT_BP: i64 = 5000;
/// Basis points in one.
pub const BP: i64 = 10_000;

const DAY_MS: i64 = 86_400_000;
const SHANGHAI_OFFSET_MS: i64 = 8 * 3_600_000;

fn field(f: &'static str, code: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError::new(f, code, msg)
}

pub(crate) fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// An http(s) URL, no control characters, at most [`MAX_URL_BYTES`].
pub(crate) fn parse_url(f: &'static str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() <= MAX_URL_BYTES
        && s.len() > "https://".len()
        && !s.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(field(
            f,
            "invalid_url",
            "an http(s) URL without spaces, at most 2048 bytes",
        ))
    }
}

/// One attachment of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attachment {
    /// A link card (图文): title, URL, optional description and cover picture URL.
    Link {
        title: String,
        url: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        desc: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        picurl: String,
    },
    /// An image by a permanent picture URL (WeCom's `pic_url`, from its image upload).
    Image { pic_url: String },
}

impl Attachment {
    /// Parse a link card.
    pub fn link(title: &str, url: &str, desc: &str, picurl: &str) -> Result<Self, FieldError> {
        let title = title.trim();
        if title.is_empty() || title.len() > MAX_LINK_TITLE_BYTES || has_control(title) {
            return Err(field(
                "attachments",
                "invalid_attachment",
                "a link's title is 1–64 bytes (about 21 Chinese characters)",
            ));
        }
        let desc = desc.trim();
        if desc.len() > MAX_LINK_DESC_BYTES || has_control(desc) {
            return Err(field(
                "attachments",
                "invalid_attachment",
                "a link's description is at most 512 bytes",
            ));
        }
        let url = parse_url("attachments", url)?;
        let picurl = if picurl.trim().is_empty() {
            String::new()
        } else {
            parse_url("attachments", picurl)?
        };
        Ok(Attachment::Link {
            title: title.to_owned(),
            url,
            desc: desc.to_owned(),
            picurl,
        })
    }

    /// Parse an image by picture URL.
    pub fn image(pic_url: &str) -> Result<Self, FieldError> {
        Ok(Attachment::Image {
            pic_url: parse_url("attachments", pic_url)?,
        })
    }
}

/// What a message says: text, attachments, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Content {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Content {
    /// Text of at most [`MAX_TEXT_CHARS`] characters (line breaks allowed, no other control
    /// characters) and at most [`MAX_ATTACHMENTS`] attachments, not both empty.
    pub fn parse(text: &str, attachments: Vec<Attachment>) -> Result<Self, FieldError> {
        let text = text.trim();
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(field(
                "text",
                "text_too_long",
                format!("at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        if has_control(text) {
            return Err(field(
                "text",
                "invalid_characters",
                "control characters are not allowed",
            ));
        }
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(field(
                "attachments",
                "too_many_items",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        if text.is_empty() && attachments.is_empty() {
            return Err(field(
                "text",
                "empty_content",
                "write a text or add an attachment",
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            attachments,
        })
    }
}

/// Who a message is for (always within the sender's data scope): customers, each through
/// their guide (WeCom's chat_type `single`), or customer groups, each through its owner
/// (chat_type `group`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// A saved segment, resolved when the message is sent.
    Segment { segment_id: i64 },
    /// Customers carrying every one of these tags.
    Tags { tag_ids: Vec<i64> },
    /// These customers.
    Customers { customer_ids: Vec<i64> },
    /// These customer groups.
    Groups { group_ids: Vec<i64> },
    /// Every customer group not dismissed, resolved when the message is sent.
    AllGroups,
}

/// The audience as a form or a JSON body gives it: exactly one of the fields is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceForm {
    pub segment_id: Option<i64>,
    pub tag_ids: Option<Vec<i64>>,
    pub customer_ids: Option<Vec<i64>>,
    pub group_ids: Option<Vec<i64>>,
    /// `Some(true)`: every group. `Some(false)` counts as not given.
    pub all_groups: Option<bool>,
}

impl Audience {
    /// Parse exactly one of the forms (the field named is the one at fault).
    pub fn parse(form: AudienceForm) -> Result<Self, FieldError> {
        let all_groups = form.all_groups == Some(true);
        let given = usize::from(form.segment_id.is_some())
            + usize::from(form.tag_ids.is_some())
            + usize::from(form.customer_ids.is_some())
            + usize::from(form.group_ids.is_some())
            + usize::from(all_groups);
        if given != 1 {
            return Err(field(
                "audience",
                "invalid_audience",
                "give exactly one of segment_id, tag_ids, customer_ids, group_ids or all_groups",
            ));
        }
        if let Some(id) = form.segment_id {
            if id <= 0 {
                return Err(field("segment_id", "unknown_segment", "no such segment"));
            }
            return Ok(Audience::Segment { segment_id: id });
        }
        if all_groups {
            return Ok(Audience::AllGroups);
        }
        let dedup = |mut v: Vec<i64>| {
            v.sort_unstable();
            v.dedup();
            v
        };
        if let Some(ids) = form.tag_ids {
            let ids = dedup(ids);
            if ids.is_empty() || ids.len() > MAX_AUDIENCE_TAGS {
                return Err(field(
                    "tag_ids",
                    "invalid_audience",
                    format!("choose 1–{MAX_AUDIENCE_TAGS} tags"),
                ));
            }
            if ids.iter().any(|&t| t <= 0) {
                return Err(field("tag_ids", "unknown_tag", "no such tag"));
            }
            return Ok(Audience::Tags { tag_ids: ids });
        }
        if let Some(ids) = form.group_ids {
            let ids = dedup(ids);
            if ids.is_empty() || ids.len() > MAX_LISTED_GROUPS {
                return Err(field(
                    "group_ids",
                    "invalid_audience",
                    format!("choose 1–{MAX_LISTED_GROUPS} groups"),
                ));
            }
            if ids.iter().any(|&g| g <= 0) {
                return Err(field("group_ids", "unknown_group", "no such group"));
            }
            return Ok(Audience::Groups { group_ids: ids });
        }
        let ids = dedup(form.customer_ids.unwrap_or_default());
        if ids.is_empty() || ids.len() > MAX_LISTED_CUSTOMERS {
            return Err(field(
                "customer_ids",
                "invalid_audience",
                format!("name 1–{MAX_LISTED_CUSTOMERS} customers"),
            ));
        }
        Ok(Audience::Customers { customer_ids: ids })
    }

    /// `segment`, `tags`, `customers`, `groups` or `all_groups`.
    pub fn kind(&self) -> &'static str {
        match self {
            Audience::Segment { .. } => "segment",
            Audience::Tags { .. } => "tags",
            Audience::Customers { .. } => "customers",
            Audience::Groups { .. } => "groups",
            Audience::AllGroups => "all_groups",
        }
    }

    /// Whether the message goes to customer groups (WeCom's chat_type `group`).
    pub fn to_groups(&self) -> bool {
        matches!(self, Audience::Groups { .. } | Audience::AllGroups)
    }

    /// WeCom's chat_type for this audience.
    pub fn chat_type(&self) -> &'static str {
        if self.to_groups() { "group" } else { "single" }
    }

    /// The holdout this audience allows: groups are not held out (the uplift study compares
    /// customers), so a group message with a holdout is refused by field.
    pub fn check_holdout(&self, bp: i64) -> Result<(), FieldError> {
        if self.to_groups() && bp != 0 {
            return Err(field(
                "holdout_bp",
                "invalid_holdout",
                "a holdout applies to messages to customers, not to groups",
            ));
        }
        Ok(())
    }
}

/// The share of the audience kept unsent to measure uplift, in basis points (0–5,000).
pub fn parse_holdout(bp: Option<i64>) -> Result<i64, FieldError> {
    let bp = bp.unwrap_or(0);
    if (0..=MAX_HOLDOUT_BP).contains(&bp) {
        Ok(bp)
    } else {
        Err(field(
            "holdout_bp",
            "invalid_holdout",
            "a holdout is 0–5000 basis points (0–50%)",
        ))
    }
}

/// Whether a customer is in a message's holdout: a stable draw from (message, customer), so
/// the preview, the send and a re-run agree, and one message's holdout is independent of
/// another's.
pub fn in_holdout(message_id: i64, customer_id: i64, bp: i64) -> bool {
    if bp <= 0 {
        return false;
    }
    // splitmix64 over the pair: uniform enough for a share, and fixed forever (it is part of
    // what a stored holdout means).
    let mut z = (message_id as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(customer_id as u64);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % BP as u64) < bp as u64
}

/// How WeCom caps what one customer receives (the corp's 群发规则).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptRule {
    /// As many per calendar month as the month has days (WeCom's default).
    MonthDays,
    /// 7 per calendar week (Monday to Sunday).
    Weekly7,
    /// 1 per day.
    Daily1,
}

impl ReceiptRule {
    pub const ALL: [ReceiptRule; 3] = [
        ReceiptRule::MonthDays,
        ReceiptRule::Weekly7,
        ReceiptRule::Daily1,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptRule::MonthDays => "month_days",
            ReceiptRule::Weekly7 => "weekly_7",
            ReceiptRule::Daily1 => "daily_1",
        }
    }

    pub fn parse(f: &'static str, s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| field(f, "invalid_receipt_rule", "month_days, weekly_7 or daily_1"))
    }

    /// The window this rule counts at `now` (UTC millis, from inclusive) and its cap.
    pub fn window(self, now: i64) -> (i64, u32) {
        let day = shanghai_day(now);
        match self {
            ReceiptRule::Daily1 => (day_start(day), 1),
            ReceiptRule::Weekly7 => {
                // 1970-01-01 was a Thursday: day 0 is weekday 3 counted from Monday.
                let weekday = (day + 3).rem_euclid(7);
                (day_start(day - weekday), 7)
            }
            ReceiptRule::MonthDays => {
                let (y, m, _) = civil_from_days(day);
                let first = days_from_civil(y, m, 1);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                let days = days_from_civil(ny, nm, 1) - first;
                (day_start(first), u32::try_from(days).unwrap_or(31))
            }
        }
    }
}

/// The Shanghai day number (days since 1970-01-01 in Asia/Shanghai) of an instant.
pub fn shanghai_day(ms: i64) -> i64 {
    (ms + SHANGHAI_OFFSET_MS).div_euclid(DAY_MS)
}

/// The instant a Shanghai day starts.
pub fn day_start(day: i64) -> i64 {
    day * DAY_MS - SHANGHAI_OFFSET_MS
}

// Howard Hinnant's civil-date algorithms: proleptic Gregorian, exact for any i64 day here.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The brand's messaging rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Caps {
    /// Marketing messages one customer receives per Shanghai day, at most (1–50).
    pub daily: u32,
    /// … per rolling 7 days, at most (≥ `daily`, ≤ 200).
    pub weekly: u32,
    /// WeCom's receipt rule the corp uses.
    pub receipt_rule: ReceiptRule,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            daily: 1,
            weekly: 3,
            receipt_rule: ReceiptRule::MonthDays,
        }
    }
}

impl Caps {
    /// A cap of 0 would silence every sender: refused, like a weekly cap below the daily one.
    pub fn parse(daily: i64, weekly: i64, receipt_rule: &str) -> Result<Self, FieldError> {
        if !(1..=50).contains(&daily) {
            return Err(field("daily_cap", "invalid_cap", "a daily cap is 1–50"));
        }
        if !(1..=200).contains(&weekly) {
            return Err(field("weekly_cap", "invalid_cap", "a weekly cap is 1–200"));
        }
        if weekly < daily {
            return Err(field(
                "weekly_cap",
                "invalid_cap",
                "the weekly cap is at least the daily cap",
            ));
        }
        Ok(Self {
            daily: u32::try_from(daily).unwrap_or(1),
            weekly: u32::try_from(weekly).unwrap_or(1),
            receipt_rule: ReceiptRule::parse("receipt_rule", receipt_rule)?,
        })
    }

    /// The windows to count at `now`: (since, for the daily cap), (since, weekly), and
    /// (since, cap) of WeCom's rule.
    pub fn windows(&self, now: i64) -> Windows {
        let (receipt_since, receipt_cap) = self.receipt_rule.window(now);
        Windows {
            day_since: day_start(shanghai_day(now)),
            week_since: now - 7 * DAY_MS,
            receipt_since,
            receipt_cap,
        }
    }
}

/// The counting windows of [`Caps::windows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub day_since: i64,
    pub week_since: i64,
    pub receipt_since: i64,
    pub receipt_cap: u32,
}

/// Why a customer is not sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// No active guide with a WeCom account follows the customer (or the customer has no
    /// WeCom contact id): there is nobody to send through.
    NoGuide,
    /// Every guide relation ended with the customer deleting the guide.
    DeletedGuide,
    /// The customer carries the opt-out tag.
    OptedOut,
    /// WeCom would refuse: the customer received as many mass messages as its rule allows.
    ReceiptCap,
    /// Yutang's frequency cap (daily or weekly) is reached.
    FrequencyCap,
    /// The group was dismissed.
    Dismissed,
    /// The group's owner is not an active staff member with a WeCom account: nobody can send.
    NoOwner,
}

impl Exclusion {
    pub const ALL: [Exclusion; 5] = [
        Exclusion::NoGuide,
        Exclusion::DeletedGuide,
        Exclusion::OptedOut,
        Exclusion::ReceiptCap,
        Exclusion::FrequencyCap,
    ];

    /// The reasons a customer group is not sent a message, in the order they are tried.
    pub const GROUP: [Exclusion; 3] = [
        Exclusion::Dismissed,
        Exclusion::NoOwner,
        Exclusion::ReceiptCap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::NoGuide => "no_guide",
            Exclusion::DeletedGuide => "deleted_guide",
            Exclusion::OptedOut => "opted_out",
            Exclusion::ReceiptCap => "receipt_cap",
            Exclusion::FrequencyCap => "frequency_cap",
            Exclusion::Dismissed => "dismissed",
            Exclusion::NoOwner => "no_owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain(Self::GROUP)
            .find(|e| e.as_str() == s)
    }
}

/// What Yutang knows of one customer when a message is prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    /// An active guide with a WeCom userid follows the customer, and the customer has a WeCom
    /// contact id: someone can send.
    pub has_sender: bool,
    /// Some guide relation ended with the customer deleting the guide.
    pub deleted_a_guide: bool,
    pub opted_out: bool,
    /// Mass messages (through WeCom) counted in the receipt rule's window.
    pub receipt_count: u32,
    /// Marketing messages of every sender today (Shanghai) and in the last 7 days.
    pub day_count: u32,
    pub week_count: u32,
}

/// The decision for one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send,
    Holdout,
    Excluded(Exclusion),
}

/// Decide for one customer (see the module's order of reasons).
pub fn decide(
    facts: &Facts,
    caps: &Caps,
    windows: &Windows,
    message_id: i64,
    customer_id: i64,
    holdout_bp: i64,
) -> Decision {
    if !facts.has_sender {
        return Decision::Excluded(if facts.deleted_a_guide {
            Exclusion::DeletedGuide
        } else {
            Exclusion::NoGuide
        });
    }
    if facts.opted_out {
        return Decision::Excluded(Exclusion::OptedOut);
    }
    if facts.receipt_count >= windows.receipt_cap {
        return Decision::Excluded(Exclusion::ReceiptCap);
    }
    if facts.day_count >= caps.daily || facts.week_count >= caps.weekly {
        return Decision::Excluded(Exclusion::FrequencyCap);
    }
    if in_holdout(message_id, customer_id, holdout_bp) {
        return Decision::Holdout;
    }
    Decision::Send
}

/// What Yutang knows of one customer group when a message is prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupFacts {
    pub dismissed: bool,
    /// The owner is an active staff member with a WeCom userid (who sends to the group).
    pub has_owner: bool,
    /// Mass messages the group received in the receipt rule's window (WeCom counts each
    /// group like a customer: 92135's "每位客户/每个客户群").
    pub receipt_count: u32,
}

/// Decide for one group: dismissed, no owner to send, WeCom's receipt cap, else send. Yutang's
/// per-customer frequency cap does not apply: a group message is one post in a group the
/// customer chose to stay in, not a message to them.
pub fn decide_group(facts: &GroupFacts, windows: &Windows) -> Decision {
    if facts.dismissed {
        return Decision::Excluded(Exclusion::Dismissed);
    }
    if !facts.has_owner {
        return Decision::Excluded(Exclusion::NoOwner);
    }
    if facts.receipt_count >= windows.receipt_cap {
        return Decision::Excluded(Exclusion::ReceiptCap);
    }
    Decision::Send
}

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its send time.
    Scheduled,
    /// Recipients fixed; WeCom tasks being created.
    Sending,
    /// Every guide's task created (guides confirm in their WeCom client).
    Sent,
    /// Cancelled before it was sent.
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Cancelled => "cancelled",
        }
    }
}

/// Where one recipient is. `excluded` and `holdout` are final at preparation; a `queued`
/// recipient becomes `task_created` when the guide's WeCom task exists, then `delivered` or
/// `failed` from WeCom's results.
pub const RECIPIENT_STATES: [&str; 6] = [
    "excluded",
    "holdout",
    "queued",
    "task_created",
    "delivered",
    "failed",
];

/// A recipient's state from `get_groupmsg_send_result`'s status: 1 delivered; 2 not a
/// customer of that guide any more; 3 over WeCom's receipt cap; 0 not sent yet (`None`).
pub fn result_state(status: i64) -> Option<(&'static str, &'static str)> {
    match status {
        1 => Some(("delivered", "")),
        2 => Some(("failed", "not_friend")),
        3 => Some(("failed", "receipt_cap")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(y: i64, m: i64, d: i64, h: i64) -> i64 {
        // Shanghai wall time → UTC millis.
        day_start(days_from_civil(y, m, d)) + h * 3_600_000
    }

    #[test]
    fn content_is_checked_by_field() {
        assert!(Content::parse("你好", vec![]).is_ok());
        assert_eq!(
            Content::parse("  ", vec![]).unwrap_err().code,
            "empty_content"
        );
        let link = Attachment::link("标题", "https://example.com/a", "", "").unwrap();
        assert_eq!(
            Content::parse("", vec![link.clone(); 10])
                .unwrap_err()
                .field,
            "attachments"
        );
        assert!(Content::parse("", vec![link; 9]).is_ok());
        assert_eq!(
            Content::parse(&"字".repeat(4001), vec![]).unwrap_err().code,
            "text_too_long"
        );
        assert_eq!(
            Content::parse("a\u{7}b", vec![]).unwrap_err().code,
            "invalid_characters"
        );
        assert!(Content::parse("第一行\n第二行", vec![]).is_ok());
        assert!(Attachment::link("", "https://x.cn", "", "").is_err());
        assert!(Attachment::link("t", "ftp://x.cn", "", "").is_err());
        assert!(Attachment::link(&"长".repeat(22), "https://x.cn", "", "").is_err());
        assert!(Attachment::image("javascript:alert(1)").is_err());
    }

    fn form(
        segment_id: Option<i64>,
        tag_ids: Option<Vec<i64>>,
        customer_ids: Option<Vec<i64>>,
    ) -> AudienceForm {
        AudienceForm {
            segment_id,
            tag_ids,
            customer_ids,
            ..AudienceForm::default()
        }
    }

    #[test]
    fn audience_takes_exactly_one_form() {
        assert_eq!(
            Audience::parse(form(Some(3), None, None)).unwrap(),
            Audience::Segment { segment_id: 3 }
        );
        assert_eq!(
            Audience::parse(form(None, Some(vec![2, 1, 2]), None)).unwrap(),
            Audience::Tags {
                tag_ids: vec![1, 2]
            }
        );
        assert_eq!(
            Audience::parse(form(Some(1), Some(vec![1]), None))
                .unwrap_err()
                .field,
            "audience"
        );
        assert_eq!(
            Audience::parse(form(None, None, None)).unwrap_err().field,
            "audience"
        );
        assert_eq!(
            Audience::parse(form(None, None, Some(vec![])))
                .unwrap_err()
                .field,
            "customer_ids"
        );
        assert_eq!(
            Audience::parse(form(None, Some(vec![]), None))
                .unwrap_err()
                .field,
            "tag_ids"
        );
        let groups = |ids: Vec<i64>| {
            Audience::parse(AudienceForm {
                group_ids: Some(ids),
                ..AudienceForm::default()
            })
        };
        let g = groups(vec![7, 3, 7]).unwrap();
        assert_eq!(
            g,
            Audience::Groups {
                group_ids: vec![3, 7]
            }
        );
        assert_eq!(g.chat_type(), "group");
        assert_eq!(groups(vec![]).unwrap_err().field, "group_ids");
        assert_eq!(groups(vec![0]).unwrap_err().code, "unknown_group");
        let all = Audience::parse(AudienceForm {
            all_groups: Some(true),
            ..AudienceForm::default()
        })
        .unwrap();
        assert_eq!(all, Audience::AllGroups);
        assert_eq!(all.check_holdout(500).unwrap_err().field, "holdout_bp");
        assert!(all.check_holdout(0).is_ok());
        // `all_groups: false` is not a form: alone it gives none.
        assert_eq!(
            Audience::parse(AudienceForm {
                all_groups: Some(false),
                ..AudienceForm::default()
            })
            .unwrap_err()
            .field,
            "audience"
        );
        assert_eq!(
            Audience::parse(AudienceForm {
                all_groups: Some(true),
                customer_ids: Some(vec![1]),
                ..AudienceForm::default()
            })
            .unwrap_err()
            .field,
            "audience"
        );
        assert_eq!(
            Audience::Customers {
                customer_ids: vec![1]
            }
            .chat_type(),
            "single"
        );
        // The stored form round-trips.
        let json = serde_json::to_string(&Audience::AllGroups).unwrap();
        assert_eq!(json, r#"{"kind":"all_groups"}"#);
        assert_eq!(
            serde_json::from_str::<Audience>(&json).unwrap(),
            Audience::AllGroups
        );
    }

    #[test]
    fn a_group_is_sent_unless_dismissed_ownerless_or_over_the_receipt_cap() {
        let caps = Caps::default();
        let w = caps.windows(ms(2026, 3, 10, 12));
        let ok = GroupFacts {
            dismissed: false,
            has_owner: true,
            receipt_count: 0,
        };
        assert_eq!(decide_group(&ok, &w), Decision::Send);
        let d = |f: GroupFacts| decide_group(&f, &w);
        assert_eq!(
            d(GroupFacts {
                dismissed: true,
                has_owner: false,
                ..ok
            }),
            Decision::Excluded(Exclusion::Dismissed)
        );
        assert_eq!(
            d(GroupFacts {
                has_owner: false,
                ..ok
            }),
            Decision::Excluded(Exclusion::NoOwner)
        );
        assert_eq!(
            d(GroupFacts {
                receipt_count: 31,
                ..ok
            }),
            Decision::Excluded(Exclusion::ReceiptCap)
        );
        assert_eq!(
            d(GroupFacts {
                receipt_count: 30,
                ..ok
            }),
            Decision::Send
        );
        for e in Exclusion::GROUP {
            assert_eq!(Exclusion::parse(e.as_str()), Some(e));
        }
    }

    #[test]
    fn caps_refuse_zero_and_inversions() {
        assert_eq!(
            Caps::parse(0, 3, "month_days").unwrap_err().field,
            "daily_cap"
        );
        assert_eq!(
            Caps::parse(2, 1, "month_days").unwrap_err().field,
            "weekly_cap"
        );
        assert_eq!(
            Caps::parse(1, 3, "hourly").unwrap_err().field,
            "receipt_rule"
        );
        assert_eq!(Caps::parse(1, 3, "weekly_7").unwrap().weekly, 3);
    }

    #[test]
    fn receipt_windows_follow_shanghai_calendars() {
        // 2026-02-10 09:00 Shanghai: February has 28 days.
        let now = ms(2026, 2, 10, 9);
        assert_eq!(ReceiptRule::MonthDays.window(now), (ms(2026, 2, 1, 0), 28));
        // 2026-02-10 is a Tuesday: the week began Monday 2026-02-09.
        assert_eq!(ReceiptRule::Weekly7.window(now), (ms(2026, 2, 9, 0), 7));
        assert_eq!(ReceiptRule::Daily1.window(now), (ms(2026, 2, 10, 0), 1));
        // 00:30 on 1 March in Shanghai is still February in UTC: the month is March's.
        let early = ms(2026, 3, 1, 0) + 30 * 60_000;
        assert_eq!(
            ReceiptRule::MonthDays.window(early),
            (ms(2026, 3, 1, 0), 31)
        );
        assert_eq!(ReceiptRule::MonthDays.window(ms(2024, 2, 29, 23)).1, 29);
        assert_eq!(
            ReceiptRule::MonthDays.window(ms(2026, 12, 31, 23)),
            (ms(2026, 12, 1, 0), 31)
        );
    }

    #[test]
    fn reasons_come_in_their_order() {
        let caps = Caps::default();
        let w = caps.windows(ms(2026, 2, 10, 9));
        let all_bad = Facts {
            has_sender: false,
            deleted_a_guide: true,
            opted_out: true,
            receipt_count: 99,
            day_count: 9,
            week_count: 9,
        };
        let d = |f: Facts| decide(&f, &caps, &w, 1, 1, 0);
        assert_eq!(d(all_bad), Decision::Excluded(Exclusion::DeletedGuide));
        assert_eq!(
            d(Facts {
                deleted_a_guide: false,
                ..all_bad
            }),
            Decision::Excluded(Exclusion::NoGuide)
        );
        let sendable = Facts {
            has_sender: true,
            ..all_bad
        };
        assert_eq!(d(sendable), Decision::Excluded(Exclusion::OptedOut));
        let f = Facts {
            opted_out: false,
            ..sendable
        };
        assert_eq!(d(f), Decision::Excluded(Exclusion::ReceiptCap));
        let f = Facts {
            receipt_count: 27,
            ..f
        };
        assert_eq!(d(f), Decision::Excluded(Exclusion::FrequencyCap));
        let f = Facts { day_count: 0, ..f };
        assert_eq!(d(f), Decision::Excluded(Exclusion::FrequencyCap));
        let f = Facts { week_count: 2, ..f };
        assert_eq!(d(f), Decision::Send);
        // A deleted guide does not matter while another guide can send.
        assert_eq!(
            d(Facts {
                deleted_a_guide: true,
                ..f
            }),
            Decision::Send
        );
    }

    #[test]
    fn result_states_map_wecom_statuses() {
        assert_eq!(result_state(0), None);
        assert_eq!(result_state(1), Some(("delivered", "")));
        assert_eq!(result_state(2), Some(("failed", "not_friend")));
        assert_eq!(result_state(3), Some(("failed", "receipt_cap")));
    }

    proptest! {
        /// The holdout is a stable draw whose share is close to the one asked for.
        #[test]
        fn holdout_share_is_close_and_stable(msg in 1i64..1_000_000, bp in 0i64..=5000) {
            let n = 20_000i64;
            let held = (0..n).filter(|&c| in_holdout(msg, c, bp)).count() as i64;
            let expected = n * bp / BP;
            // Within 5 standard deviations of a binomial draw.
            let p = bp as f64 / BP as f64;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            prop_assert!(((held - expected) as f64).abs() <= 5.0 * sd + 1.0, "{held} vs {expected}");
            prop_assert_eq!(in_holdout(msg, 7, bp), in_holdout(msg, 7, bp));
            if bp == 0 {
                prop_assert_eq!(held, 0);
            }
        }

        /// Civil dates round-trip, and every month's length is 28–31 days.
        #[test]
        fn civil_dates_round_trip(day in -100_000i64..200_000) {
            let (y, m, d) = civil_from_days(day);
            prop_assert_eq!(days_from_civil(y, m, d), day);
            let (_, cap) = ReceiptRule::MonthDays.window(day_start(day) + 1);
            prop_assert!((28..=31).contains(&cap));
        }

        /// A customer without a sender is never sent, whatever else is true; a customer in the
        /// holdout is never excluded for a reason that does not apply.
        #[test]
        fn decisions_respect_the_rules(
            has_sender: bool, deleted: bool, opted: bool,
            receipt in 0u32..40, day in 0u32..5, week in 0u32..10,
            cust in 1i64..100_000, bp in 0i64..=5000,
        ) {
            let caps = Caps::default();
            let w = caps.windows(ms(2026, 2, 10, 9));
            let f = Facts { has_sender, deleted_a_guide: deleted, opted_out: opted,
                receipt_count: receipt, day_count: day, week_count: week };
            let d = decide(&f, &caps, &w, 5, cust, bp);
            if !has_sender {
                prop_assert!(matches!(d, Decision::Excluded(Exclusion::NoGuide | Exclusion::DeletedGuide)));
            }
            if matches!(d, Decision::Send | Decision::Holdout) {
                prop_assert!(has_sender && !opted && receipt < w.receipt_cap
                    && day < caps.daily && week < caps.weekly);
                prop_assert_eq!(d == Decision::Holdout, in_holdout(5, cust, bp));
            }
        }
    }
}

/// The randomised comparison of a message with a holdout: everyone sent (intent to treat —
/// whether or not their guide confirmed the task, since that is what sending the campaign
/// does) against the held-out customers, over the same days after the send. The holdout was
/// drawn at random from the same eligible customers, so the difference is the campaign's
/// causal effect, up to chance, which the 95% intervals bound (normal approximation).
pub mod holdout {
    use serde::Serialize;

    use crate::analytics::uplift::{Interval, mean_var};

    /// One arm's sums over its customers (enough for means and variances).
    #[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
    pub struct Arm {
        pub customers: i64,
        /// Customers with at least one order in the window.
        pub buyers: i64,
        pub orders: i64,
        #[serde(skip)]
        pub orders_sq: f64,
        /// Net spend (paid minus refunded), fen.
        pub net_fen: i64,
        #[serde(skip)]
        pub net_fen_sq: f64,
    }

    /// The comparison.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Comparison {
        /// Always `randomised_holdout`: causal evidence.
        pub evidence: &'static str,
        pub sent: Arm,
        pub holdout: Arm,
        /// Share of customers who bought, sent minus holdout (basis points), with its interval.
        pub buyer_share_bp: Option<Interval>,
        /// Orders per customer, sent minus holdout (thousandths of an order).
        pub orders_milli: Option<Interval>,
        /// Net spend per customer, sent minus holdout (fen).
        pub net_fen: Option<Interval>,
    }

    /// Compare the arms; estimates are `None` while either arm is empty.
    pub fn compare(sent: Arm, holdout: Arm) -> Comparison {
        let both = sent.customers > 0 && holdout.customers > 0;
        let diff = |s_sum: f64, s_sq: f64, h_sum: f64, h_sq: f64, scale: f64| {
            both.then(|| {
                let (ms, vs) = mean_var(sent.customers, s_sum, s_sq);
                let (mh, vh) = mean_var(holdout.customers, h_sum, h_sq);
                Interval::of(
                    ms - mh,
                    vs / sent.customers as f64 + vh / holdout.customers as f64,
                    scale,
                )
            })
        };
        // A buyer indicator's square is itself.
        let (sb, hb) = (sent.buyers as f64, holdout.buyers as f64);
        Comparison {
            evidence: "randomised_holdout",
            buyer_share_bp: diff(sb, sb, hb, hb, 10_000.0),
            orders_milli: diff(
                sent.orders as f64,
                sent.orders_sq,
                holdout.orders as f64,
                holdout.orders_sq,
                1000.0,
            ),
            net_fen: diff(
                sent.net_fen as f64,
                sent.net_fen_sq,
                holdout.net_fen as f64,
                holdout.net_fen_sq,
                1.0,
            ),
            sent,
            holdout,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use proptest::prelude::*;

        /// Sums of a list of (orders, fen) per customer.
        fn arm(rows: &[(i64, i64)]) -> Arm {
            let mut a = Arm::default();
            for &(o, f) in rows {
                a.customers += 1;
                a.buyers += i64::from(o > 0);
                a.orders += o;
                a.orders_sq += (o * o) as f64;
                a.net_fen += f;
                a.net_fen_sq += (f as f64) * (f as f64);
            }
            a
        }

        #[test]
        fn a_hand_computed_comparison() {
            // Sent: 4 customers, 2 bought (1 order of 100, 2 orders of 300); holdout: 2
            // customers, 1 bought (1 order of 100).
            let c = compare(
                arm(&[(1, 100), (2, 300), (0, 0), (0, 0)]),
                arm(&[(1, 100), (0, 0)]),
            );
            assert_eq!(c.evidence, "randomised_holdout");
            // 50% - 50% = 0.
            assert_eq!(c.buyer_share_bp.unwrap().estimate, 0);
            // 0.75 - 0.5 orders per customer.
            assert_eq!(c.orders_milli.unwrap().estimate, 250);
            // 100 - 50 fen per customer.
            let fen = c.net_fen.unwrap();
            assert_eq!(fen.estimate, 50);
            // Variances: sent fen [100,300,0,0]: mean 100, var (0+40000+10000+10000)/3 = 20000;
            // holdout [100,0]: mean 50, var 5000. se = sqrt(20000/4 + 5000/2) = sqrt(7500).
            let half = 1.96 * 7500f64.sqrt();
            assert_eq!(fen.low, (50.0 - half).round() as i64);
            assert_eq!(fen.high, (50.0 + half).round() as i64);
            assert!(compare(arm(&[(1, 1)]), Arm::default()).net_fen.is_none());
        }

        proptest! {
            /// The estimate lies in its interval, and identical arms estimate zero.
            #[test]
            fn estimates_lie_in_their_intervals(
                sent in proptest::collection::vec((0i64..5, 0i64..100_000), 1..60),
                held in proptest::collection::vec((0i64..5, 0i64..100_000), 1..60),
            ) {
                let c = compare(arm(&sent), arm(&held));
                for i in [c.buyer_share_bp, c.orders_milli, c.net_fen].into_iter().flatten() {
                    prop_assert!(i.low <= i.estimate && i.estimate <= i.high);
                }
                let same = compare(arm(&sent), arm(&sent));
                prop_assert_eq!(same.net_fen.unwrap().estimate, 0);
                prop_assert_eq!(same.buyer_share_bp.unwrap().estimate, 0);
            }
        }
    }
}
