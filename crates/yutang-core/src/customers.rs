//! Customers: the profile, operator-defined custom attributes and follow relations.

use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

use crate::FieldError;
use crate::org::parse_label;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    #[default]
    Unknown,
    Female,
    Male,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Unknown => "unknown",
            Gender::Female => "female",
            Gender::Male => "male",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "unknown" | "" => Ok(Gender::Unknown),
            "female" | "女" => Ok(Gender::Female),
            "male" | "男" => Ok(Gender::Male),
            _ => Err(FieldError::new(
                field,
                "invalid_gender",
                "gender must be female, male or unknown",
            )),
        }
    }
}

/// A calendar date (`YYYY-MM-DD`) between 1900-01-01 and 2100-12-31, stored as that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Date(NaiveDate);

impl Date {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            FieldError::new(
                field,
                "invalid_date",
                "date must be YYYY-MM-DD, e.g. 1990-05-17",
            )
        })?;
        let lo = NaiveDate::from_ymd_opt(1900, 1, 1);
        let hi = NaiveDate::from_ymd_opt(2100, 12, 31);
        if Some(d) < lo || Some(d) > hi {
            return Err(FieldError::new(
                field,
                "invalid_date",
                "date must be between 1900-01-01 and 2100-12-31",
            ));
        }
        Ok(Self(d))
    }

    pub fn naive(self) -> NaiveDate {
        self.0
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

/// Profile fields as written; `None` leaves a field unchanged on update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    pub name: Option<String>,
    pub gender: Option<Gender>,
    /// `Some(None)` clears the birthday.
    pub birthday: Option<Option<Date>>,
    pub city: Option<String>,
    pub member_level: Option<String>,
}

impl ProfilePatch {
    pub fn parse(
        name: Option<&str>,
        gender: Option<&str>,
        birthday: Option<Option<&str>>,
        city: Option<&str>,
        member_level: Option<&str>,
    ) -> Result<Self, FieldError> {
        Ok(Self {
            name: name.map(|n| parse_label("name", n, 40)).transpose()?,
            gender: gender.map(|g| Gender::parse("gender", g)).transpose()?,
            birthday: match birthday {
                None => None,
                Some(None) => Some(None),
                Some(Some(b)) if b.trim().is_empty() => Some(None),
                Some(Some(b)) => Some(Some(Date::parse("birthday", b)?)),
            },
            city: city.map(|c| parse_label("city", c, 20)).transpose()?,
            member_level: member_level
                .map(|m| parse_label("member_level", m, 20))
                .transpose()?,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == ProfilePatch::default()
    }
}

/// A stored profile (the part a merge combines).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub gender: Gender,
    pub birthday: Option<String>,
    pub city: String,
    pub member_level: String,
}

impl Profile {
    pub fn apply(&mut self, p: &ProfilePatch) {
        if let Some(n) = &p.name {
            self.name = n.clone();
        }
        if let Some(g) = p.gender {
            self.gender = g;
        }
        if let Some(b) = &p.birthday {
            self.birthday = b.map(|d| d.to_string());
        }
        if let Some(c) = &p.city {
            self.city = c.clone();
        }
        if let Some(m) = &p.member_level {
            self.member_level = m.clone();
        }
    }
}

/// The survivor's profile after a merge: the survivor's values win; its empty fields are filled
/// from the loser's.
pub fn merge_profiles(survivor: &Profile, loser: &Profile) -> Profile {
    fn pick(a: &str, b: &str) -> String {
        if a.is_empty() { b } else { a }.to_owned()
    }
    Profile {
        name: pick(&survivor.name, &loser.name),
        gender: if survivor.gender == Gender::Unknown {
            loser.gender
        } else {
            survivor.gender
        },
        birthday: survivor.birthday.clone().or_else(|| loser.birthday.clone()),
        city: pick(&survivor.city, &loser.city),
        member_level: pick(&survivor.member_level, &loser.member_level),
    }
}

/// The type of an operator-defined attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    Text,
    Number,
    Date,
    Enum,
}

impl AttributeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeKind::Text => "text",
            AttributeKind::Number => "number",
            AttributeKind::Date => "date",
            AttributeKind::Enum => "enum",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "text" => Ok(AttributeKind::Text),
            "number" => Ok(AttributeKind::Number),
            "date" => Ok(AttributeKind::Date),
            "enum" => Ok(AttributeKind::Enum),
            _ => Err(FieldError::new(
                field,
                "invalid_attribute_kind",
                "attribute kind must be text, number, date or enum",
            )),
        }
    }
}

/// An attribute definition, parsed: key (`child_birthday`), label, kind and, for enums, the
/// allowed options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDef {
    pub key: String,
    pub label: String,
    pub kind: AttributeKind,
    pub options: Vec<String>,
}

impl AttributeDef {
    pub fn parse(
        key: &str,
        label: &str,
        kind: &str,
        options: &[String],
    ) -> Result<Self, FieldError> {
        let key = key.trim();
        if key.is_empty()
            || key.len() > 40
            || !key.starts_with(|c: char| c.is_ascii_lowercase())
            || !key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(FieldError::new(
                "key",
                "invalid_attribute_key",
                "key must be 1–40 characters of a–z, 0–9 and '_', starting with a letter",
            ));
        }
        let label = parse_label("label", label, 40)?;
        if label.is_empty() {
            return Err(FieldError::new(
                "label",
                "invalid_name",
                "label is required",
            ));
        }
        let kind = AttributeKind::parse("kind", kind)?;
        let mut opts: Vec<String> = Vec::new();
        for o in options {
            let o = parse_label("options", o, 40)?;
            if o.is_empty() || o.contains('\n') {
                return Err(FieldError::new(
                    "options",
                    "invalid_options",
                    "options must be non-empty",
                ));
            }
            if !opts.contains(&o) {
                opts.push(o);
            }
        }
        match (kind, opts.is_empty()) {
            (AttributeKind::Enum, true) => Err(FieldError::new(
                "options",
                "invalid_options",
                "an enum attribute needs at least one option",
            )),
            (AttributeKind::Enum, false) if opts.len() > 100 => Err(FieldError::new(
                "options",
                "invalid_options",
                "at most 100 options",
            )),
            (AttributeKind::Enum, false) => Ok(Self {
                key: key.to_owned(),
                label,
                kind,
                options: opts,
            }),
            (_, false) => Err(FieldError::new(
                "options",
                "invalid_options",
                "only enum attributes have options",
            )),
            (_, true) => Ok(Self {
                key: key.to_owned(),
                label,
                kind,
                options: opts,
            }),
        }
    }

    /// Check and normalise a value for this attribute; the result is what is stored.
    /// Numbers are integers or decimals (kept as written, normalised), dates `YYYY-MM-DD`,
    /// enums one of the options, text at most 200 characters.
    pub fn parse_value(&self, raw: &str) -> Result<String, FieldError> {
        let raw = raw.trim();
        let bad = |msg: &str| FieldError::new("value", "invalid_attribute_value", msg.to_owned());
        match self.kind {
            AttributeKind::Text => parse_label("value", raw, 200),
            AttributeKind::Number => {
                // Segments compare the value rounded (exactly, in decimal) to an integer the
                // index holds; refuse what it cannot hold rather than store it as "no value".
                let ok = raw.len() <= 30
                    && raw
                        .bytes()
                        .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'.'))
                    && round_number(raw).is_some();
                if ok {
                    Ok(raw.to_owned())
                } else {
                    Err(bad(
                        "value must be a number such as 3 or 2.5, of magnitude below 9×10¹⁵",
                    ))
                }
            }
            AttributeKind::Date => Date::parse("value", raw).map(|d| d.to_string()),
            AttributeKind::Enum => {
                if self.options.iter().any(|o| o == raw) {
                    Ok(raw.to_owned())
                } else {
                    Err(bad(&format!(
                        "value must be one of: {}",
                        self.options.join(", ")
                    )))
                }
            }
        }
    }
}

/// Custom numbers must round to a magnitude below this: what the segment index holds exactly.
pub const CUSTOM_NUMBER_LIMIT: i64 = 9_000_000_000_000_000;

/// A custom number (`-12`, `2.5`, `.5`) rounded half away from zero to an integer, exactly
/// in decimal (`2.4999999999999999` is 2, where binary floating point would say 3). `None`
/// for anything else, or a magnitude of [`CUSTOM_NUMBER_LIMIT`] or more.
pub fn round_number(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > 16 {
        return None;
    }
    let mut v: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    if frac.as_bytes().first().is_some_and(|&b| b >= b'5') {
        v += 1;
    }
    if v >= CUSTOM_NUMBER_LIMIT {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// Whether a guide and a customer are (still) WeCom friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowState {
    Active,
    /// The customer deleted the guide (a churn signal).
    DeletedByCustomer,
    /// The guide deleted the customer.
    DeletedByGuide,
    /// The customer was handed to another guide (WeCom 在职继承 / 离职继承 completed).
    Transferred,
}

impl FollowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowState::Active => "active",
            FollowState::DeletedByCustomer => "deleted_by_customer",
            FollowState::DeletedByGuide => "deleted_by_guide",
            FollowState::Transferred => "transferred",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "active" => Ok(FollowState::Active),
            "deleted_by_customer" => Ok(FollowState::DeletedByCustomer),
            "deleted_by_guide" => Ok(FollowState::DeletedByGuide),
            "transferred" => Ok(FollowState::Transferred),
            _ => Err(FieldError::new(
                field,
                "invalid_follow_state",
                "state must be active, deleted_by_customer, deleted_by_guide or transferred",
            )),
        }
    }
}

/// A follow relation's remark (the guide's note name for the customer): ≤ 40 characters.
pub fn parse_remark(s: &str) -> Result<String, FieldError> {
    parse_label("remark", s, 40)
}

/// What the customer search box's text means, decided once here so every caller searches
/// the same way. Digits only (spaces and dashes ignored): four are the last four digits of
/// a phone (how store staff ask), five to ten the start of a phone; anything else is looked
/// up as an identity value (phone, WeCom external id, unionid …), an order number, or a
/// substring of the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTerm {
    PhoneSuffix(String),
    PhonePrefix(String),
    Text(String),
}

impl SearchTerm {
    /// `None` for a blank query.
    pub fn parse(q: &str) -> Option<SearchTerm> {
        let q = q.trim();
        if q.is_empty() {
            return None;
        }
        let digits: String = q.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.chars().all(|c| c.is_ascii_digit()) {
            match digits.len() {
                4 => return Some(SearchTerm::PhoneSuffix(digits)),
                5..=10 => return Some(SearchTerm::PhonePrefix(digits)),
                _ => {}
            }
        }
        Some(SearchTerm::Text(q.to_owned()))
    }
}

/// What a customer list is ordered by. The list pages and the export take it as a query
/// parameter: the key, with a leading `-` for descending (`-total_spend`). Every order ends
/// with the id in the same direction, so pages are stable; customers without an order sort
/// after those with one, whichever the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerSort {
    pub key: SortKey,
    pub desc: bool,
}

/// The columns a customer list can be ordered by (each has an index, see migration 0016).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Newest customers first by default (ids grow with creation).
    #[default]
    Id,
    TotalSpend,
    OrderCount,
    LastOrder,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::Id,
        SortKey::TotalSpend,
        SortKey::OrderCount,
        SortKey::LastOrder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::TotalSpend => "total_spend",
            SortKey::OrderCount => "order_count",
            SortKey::LastOrder => "last_order",
        }
    }
}

impl Default for CustomerSort {
    fn default() -> Self {
        Self::NEWEST
    }
}

impl CustomerSort {
    /// The default order: newest first.
    pub const NEWEST: CustomerSort = CustomerSort {
        key: SortKey::Id,
        desc: true,
    };

    /// `total_spend`, `-last_order` …; blank is the default order.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Self::NEWEST);
        }
        let (desc, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        SortKey::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .map(|key| CustomerSort { key, desc })
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_sort",
                    "must be one of id, total_spend, order_count, last_order, optionally after -",
                )
            })
    }

    /// The query-parameter form (`-total_spend`).
    pub fn as_param(self) -> String {
        format!("{}{}", if self.desc { "-" } else { "" }, self.key.as_str())
    }

    /// The same key in the other direction (a column header's link).
    pub fn flipped(self) -> Self {
        CustomerSort {
            key: self.key,
            desc: !self.desc,
        }
    }
}

/// A row's position in a customer list, for keyset paging: the value of the sort column and
/// the id (the tie-breaker). A page that starts after (or ends before) a position reads from
/// the index at that point, however deep, where `OFFSET` would walk every row before it.
///
/// Its parameter form names the order it belongs to, `-total_spend~12900~345` (a customer
/// without an order has `n` for `last_order`), so a position taken from one order is refused
/// in another instead of answering a page that skips or repeats rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    /// The sort column's value (the id again for the id order); `None` only for a customer
    /// without an order in the `last_order` order.
    pub value: Option<i64>,
    pub id: i64,
}

/// Which side of a position a page is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyset {
    /// The rows that come after the position (the next page).
    After(ListCursor),
    /// The rows that come just before the position (the previous page).
    Before(ListCursor),
}

impl ListCursor {
    /// The position of a row with `id` and these column values in `sort`.
    pub fn of(
        sort: CustomerSort,
        id: i64,
        total_spend: i64,
        order_count: i64,
        last_order_at: Option<i64>,
    ) -> Self {
        let value = match sort.key {
            SortKey::Id => Some(id),
            SortKey::TotalSpend => Some(total_spend),
            SortKey::OrderCount => Some(order_count),
            SortKey::LastOrder => last_order_at,
        };
        Self { value, id }
    }

    /// The parameter form (`-total_spend~12900~345`).
    pub fn to_param(self, sort: CustomerSort) -> String {
        let value = self.value.map_or_else(|| "n".to_owned(), |v| v.to_string());
        format!("{}~{value}~{}", sort.as_param(), self.id)
    }

    /// A position given as a parameter for a list in `sort`: `invalid_cursor` when it does not
    /// parse or belongs to another order.
    pub fn parse(field: &'static str, s: &str, sort: CustomerSort) -> Result<Self, FieldError> {
        let bad = |m: &str| FieldError::new(field, "invalid_cursor", m.to_owned());
        let mut parts = s.split('~');
        let (Some(order), Some(value), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "must be a position given by a page of this list (next_after or prev_before)",
            ));
        };
        if order != sort.as_param() {
            return Err(bad(
                "belongs to another order: ask again from the first page",
            ));
        }
        let number = |t: &str| -> Option<i64> {
            // Digits only, with one leading minus: no "+" and no spaces.
            let digits = t.strip_prefix('-').unwrap_or(t);
            if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            t.parse().ok()
        };
        let Some(id) = number(id).filter(|id| *id > 0) else {
            return Err(bad("the id of a position is a positive number"));
        };
        let value = match (value, sort.key) {
            ("n", SortKey::LastOrder) => None,
            (v, _) => match number(v) {
                Some(v) => Some(v),
                None => return Err(bad("the value of a position is a number")),
            },
        };
        if sort.key == SortKey::Id && value != Some(id) {
            return Err(bad("a position in the id order repeats its id"));
        }
        Ok(Self { value, id })
    }
}

/// A customer note (跟进记录) holds at most this many characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// The text of a customer note (跟进记录): trimmed, 1–500 characters, line breaks allowed
/// (a browser's `\r\n` becomes `\n`) but no other control character, tabs included. Errors
/// name the field `body`: `required`, `text_too_long`, `invalid_note_text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct NoteBody(String);

impl NoteBody {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.replace("\r\n", "\n");
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new("body", "required", "write the note"));
        }
        if s.chars().count() > MAX_NOTE_CHARS {
            return Err(FieldError::new(
                "body",
                "text_too_long",
                format!("a note is at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(FieldError::new(
                "body",
                "invalid_note_text",
                "a note may contain line breaks but no other control character",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The smallest string greater than every string that starts with `prefix` (ASCII digits),
/// for a range scan: `value >= prefix AND value < upper`.
pub fn prefix_upper_bound(prefix: &str) -> String {
    let mut b = prefix.as_bytes().to_vec();
    while let Some(last) = b.pop() {
        if last < 0x7f {
            b.push(last + 1);
            return String::from_utf8(b).unwrap_or_default();
        }
    }
    "\u{7f}".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_sort_parses_and_prints() {
        assert_eq!(
            CustomerSort::parse("sort", "").unwrap(),
            CustomerSort::NEWEST
        );
        for key in SortKey::ALL {
            for desc in [false, true] {
                let s = CustomerSort { key, desc };
                assert_eq!(CustomerSort::parse("sort", &s.as_param()).unwrap(), s);
                assert_eq!(s.flipped().flipped(), s);
                assert_ne!(s.flipped(), s);
            }
        }
        for key in SortKey::ALL {
            for desc in [false, true] {
                let sort = CustomerSort { key, desc };
                let c = ListCursor::of(sort, 345, 12_900, 3, Some(-5));
                assert_eq!(ListCursor::parse("after", &c.to_param(sort), sort), Ok(c));
                let other = sort.flipped();
                let e = ListCursor::parse("after", &c.to_param(sort), other).unwrap_err();
                assert_eq!((e.field, e.code), ("after", "invalid_cursor"));
            }
        }
        let last = CustomerSort::parse("sort", "-last_order").unwrap();
        let none = ListCursor::of(last, 7, 0, 0, None);
        assert_eq!(none.to_param(last), "-last_order~n~7");
        assert_eq!(
            ListCursor::parse("after", "-last_order~n~7", last),
            Ok(none)
        );
        let spend = CustomerSort::parse("sort", "total_spend").unwrap();
        for bad in [
            "",
            "total_spend~1",
            "total_spend~1~2~3",
            "total_spend~n~2",
            "total_spend~+1~2",
            "total_spend~1~0",
            "total_spend~1~-2",
            "total_spend~ 1~2",
            "total_spend~99999999999999999999~2",
            "total_spend~1~x",
        ] {
            let e = ListCursor::parse("after", bad, spend).unwrap_err();
            assert_eq!(e.code, "invalid_cursor", "{bad}");
        }
        let id = CustomerSort::NEWEST;
        assert!(ListCursor::parse("after", "-id~3~4", id).is_err());
        assert_eq!(
            ListCursor::parse("after", "-id~4~4", id),
            Ok(ListCursor {
                value: Some(4),
                id: 4
            })
        );
        let e = CustomerSort::parse("sort", "name").unwrap_err();
        assert_eq!((e.field, e.code), ("sort", "invalid_sort"));
        assert!(CustomerSort::parse("sort", "--id").is_err());
    }

    #[test]
    fn numbers_round_half_away_from_zero_exactly() {
        assert_eq!(round_number("2.5"), Some(3));
        assert_eq!(round_number("-2.5"), Some(-3));
        assert_eq!(round_number("2.4999999999999999"), Some(2));
        assert_eq!(round_number("-2.4999999999999999"), Some(-2));
        assert_eq!(round_number(".5"), Some(1));
        assert_eq!(round_number("007"), Some(7));
        assert_eq!(
            round_number("8999999999999999.4"),
            Some(8_999_999_999_999_999)
        );
        assert_eq!(round_number("8999999999999999.5"), None);
        assert_eq!(round_number("99999999999999999999"), None);
        assert_eq!(round_number("."), None);
        assert_eq!(round_number("1.2.3"), None);
    }

    #[test]
    fn profile_patch_parses() {
        let p = ProfilePatch::parse(
            Some(" 王芳 "),
            Some("female"),
            Some(Some("1990-05-17")),
            Some("上海"),
            Some("金卡"),
        )
        .unwrap();
        assert_eq!(p.name.as_deref(), Some("王芳"));
        assert_eq!(p.gender, Some(Gender::Female));
        assert_eq!(p.birthday.unwrap().unwrap().to_string(), "1990-05-17");
        assert_eq!(
            ProfilePatch::parse(None, Some("x"), None, None, None)
                .unwrap_err()
                .code,
            "invalid_gender"
        );
        assert_eq!(
            ProfilePatch::parse(None, None, Some(Some("1990-02-30")), None, None)
                .unwrap_err()
                .code,
            "invalid_date"
        );
        assert_eq!(
            ProfilePatch::parse(None, None, Some(Some("")), None, None)
                .unwrap()
                .birthday,
            Some(None)
        );
    }

    #[test]
    fn merge_fills_blanks_from_the_loser() {
        let s = Profile {
            name: "王芳".into(),
            ..Default::default()
        };
        let l = Profile {
            name: "芳芳".into(),
            gender: Gender::Female,
            birthday: Some("1990-05-17".into()),
            city: "上海".into(),
            member_level: "银卡".into(),
        };
        let m = merge_profiles(&s, &l);
        assert_eq!(m.name, "王芳");
        assert_eq!(m.gender, Gender::Female);
        assert_eq!(m.birthday.as_deref(), Some("1990-05-17"));
        assert_eq!(m.city, "上海");
        assert_eq!(merge_profiles(&m, &Profile::default()), m);
    }

    #[test]
    fn attribute_values_are_typed() {
        let opts = vec!["孕期".to_string(), "0-6月".to_string()];
        let e = AttributeDef::parse("baby_stage", "宝宝阶段", "enum", &opts).unwrap();
        assert_eq!(e.parse_value("孕期").unwrap(), "孕期");
        assert!(e.parse_value("3岁").is_err());
        assert!(AttributeDef::parse("baby_stage", "x", "enum", &[]).is_err());
        assert!(AttributeDef::parse("Bad Key", "x", "text", &[]).is_err());
        assert!(AttributeDef::parse("k", "x", "text", &opts).is_err());
        let d = AttributeDef::parse("child_birthday", "宝宝生日", "date", &[]).unwrap();
        assert_eq!(d.parse_value("2025-01-02").unwrap(), "2025-01-02");
        assert!(d.parse_value("2025/01/02").is_err());
        let n = AttributeDef::parse("kids", "孩子数", "number", &[]).unwrap();
        assert_eq!(n.parse_value("2").unwrap(), "2");
        assert!(n.parse_value("2.5").is_ok());
        assert!(n.parse_value("two").is_err());
        assert!(n.parse_value("1e9").is_err());
        assert!(n.parse_value("inf").is_err());
        assert!(n.parse_value("8999999999999999").is_ok());
        assert!(n.parse_value("9000000000000000").is_err());
        assert!(n.parse_value("8999999999999999.5").is_err());
        assert!(n.parse_value("-9000000000000001").is_err());
        assert!(n.parse_value("-").is_err());
        assert!(n.parse_value("1-2").is_err());
    }

    #[test]
    fn follow_states() {
        for s in [
            "active",
            "deleted_by_customer",
            "deleted_by_guide",
            "transferred",
        ] {
            assert_eq!(FollowState::parse("state", s).unwrap().as_str(), s);
        }
        assert!(FollowState::parse("state", "gone").is_err());
    }
}

#[cfg(test)]
mod search_tests {
    use super::*;

    #[test]
    fn digits_mean_phone_parts() {
        assert_eq!(
            SearchTerm::parse(" 0204 "),
            Some(SearchTerm::PhoneSuffix("0204".into()))
        );
        assert_eq!(
            SearchTerm::parse("187-1945"),
            Some(SearchTerm::PhonePrefix("1871945".into()))
        );
        assert_eq!(
            SearchTerm::parse("13800138000"),
            Some(SearchTerm::Text("13800138000".into()))
        );
        assert_eq!(
            SearchTerm::parse("王芳"),
            Some(SearchTerm::Text("王芳".into()))
        );
        assert_eq!(SearchTerm::parse("  "), None);
        assert_eq!(
            SearchTerm::parse("123"),
            Some(SearchTerm::Text("123".into()))
        );
    }

    #[test]
    fn prefix_bounds() {
        assert_eq!(prefix_upper_bound("1871945"), "1871946");
        assert_eq!(prefix_upper_bound("1879"), "187:");
        assert!("1871945999" < prefix_upper_bound("1871945").as_str());
        assert!("1871946" >= prefix_upper_bound("1871945").as_str());
    }
}

#[cfg(test)]
mod note_tests {
    use super::*;

    #[test]
    fn note_bodies_are_trimmed_and_bounded() {
        let n = NoteBody::parse("  约了周六到店\r\n试穿新款 ").unwrap();
        assert_eq!(n.as_str(), "约了周六到店\n试穿新款");
        assert!(NoteBody::parse(&"字".repeat(MAX_NOTE_CHARS)).is_ok());
        for (bad, code) in [
            ("", "required"),
            (" \n\t ", "required"),
            ("响铃\u{7}", "invalid_note_text"),
            ("a\tb", "invalid_note_text"),
            ("a\rb", "invalid_note_text"),
        ] {
            let e = NoteBody::parse(bad).unwrap_err();
            assert_eq!((e.field, e.code), ("body", code), "{bad:?}");
        }
        let long = "字".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(NoteBody::parse(&long).unwrap_err().code, "text_too_long");
        // Trimming happens first: blanks around 500 characters do not count.
        assert!(NoteBody::parse(&format!(" {} ", "a".repeat(MAX_NOTE_CHARS))).is_ok());
    }
}
