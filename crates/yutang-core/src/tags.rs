//! Tags and auto-tag rules.
//!
//! A tag lives in a group. A group is single-select (a customer holds at most one of its tags:
//! 宝宝月龄 0-6月 *or* 7-12月) or multi-select (兴趣: 水果, 零食 …). Tags made in Yutang and
//! corp tags that come from WeCom are the same thing; a group or tag remembers its WeCom id.
//!
//! An auto-tag rule owns one group and keeps its tags true. Every rule kind compiles, for a
//! given instant, to one segment expression per tag ([`RuleSpec::plan`]); the application
//! evaluates those on the segment index and writes the difference. So a rule means exactly
//! what its expressions say — the console shows them — and a rule that depends on the clock
//! (a baby turning 7 months) is re-planned on a schedule, without any event.

use chrono::{Datelike, Months, NaiveDate, TimeZone};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::org::parse_label;
use crate::time::Millis;

pub use crate::segments::TagId;

/// A tag or group name: 1–30 characters, no control characters; group names also no `/`
/// (segment expressions address tags as `group/name`).
pub fn parse_name(field: &'static str, s: &str, is_group: bool) -> Result<String, FieldError> {
    let s = parse_label(field, s, 30)?;
    if s.is_empty() {
        return Err(FieldError::new(field, "invalid_name", "name is required"));
    }
    if is_group && s.contains('/') {
        return Err(FieldError::new(
            field,
            "invalid_name",
            "a tag group name cannot contain '/'",
        ));
    }
    Ok(s)
}

/// A colour as `#rrggbb` (lower case).
pub fn parse_color(field: &'static str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let ok = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(FieldError::new(
            field,
            "invalid_color",
            "colour must look like #1677ff",
        ))
    }
}

/// Where a customer's tag came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagSource {
    Manual,
    Bulk,
    Rule,
    Import,
    Wecom,
    /// Applied by the channel a customer added through (acquisition).
    Channel,
    /// Applied by a journey's tag or untag step.
    Journey,
}

impl TagSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TagSource::Manual => "manual",
            TagSource::Bulk => "bulk",
            TagSource::Rule => "rule",
            TagSource::Import => "import",
            TagSource::Wecom => "wecom",
            TagSource::Channel => "channel",
            TagSource::Journey => "journey",
        }
    }
}

/// For a single-select group, which of `current` tags must go when `adding` is added: all
/// others of the group. Multi-select groups keep everything.
pub fn displaced(multi: bool, current: &[TagId], adding: TagId) -> Vec<TagId> {
    if multi {
        return Vec::new();
    }
    current.iter().copied().filter(|t| *t != adding).collect()
}

/// What an auto-tag rule computes. Serialised as the rule's `config` JSON with `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleSpec {
    /// 新客 / 活跃 / 沉睡 / 流失 by days since the first and the last order. Customers who
    /// never ordered get no tag.
    Lifecycle {
        /// First order within this many days: 新客.
        new_days: u32,
        /// Otherwise last order within this many days: 活跃.
        active_days: u32,
        /// Otherwise last order within this many days: 沉睡; older: 流失.
        dormant_days: u32,
    },
    /// The eight classic RFM classes (重要价值客户 …) over the last 365 days: recency from
    /// the last order, frequency `orders_365d`, monetary `spent_365d`, each split high/low at
    /// the thresholds given (the application fills them with the medians of the customers
    /// who ordered in the window, see [`median`]).
    Rfm {
        recency_days: u32,
        frequency_min: i64,
        monetary_min_fen: i64,
    },
    /// Age in whole calendar months from a date attribute (a child's birthday), bucketed:
    /// each bucket is `[from_month, to_month]` inclusive with its tag name.
    AgeMonths {
        attribute: String,
        buckets: Vec<AgeBucket>,
    },
    /// 本月生日: the customer's birthday falls in the current month (Asia/Shanghai).
    BirthdayMonth { tag: String },
    /// Any segment expression keeps one tag: `in_group` → 已入群, `orders_90d >= 2` → 复购.
    Expression { tag: String, expression: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBucket {
    pub from_month: u32,
    pub to_month: u32,
    pub tag: String,
}

/// The classic RFM class names, indexed by `(r_high, f_high, m_high)` as bits `rfm`.
pub const RFM_CLASSES: [&str; 8] = [
    "一般挽留客户", // r low, f low, m low
    "一般保持客户", // f high
    "一般发展客户", // r high
    "一般价值客户", // r high, f high
    "重要挽留客户", // m high
    "重要保持客户", // f high, m high
    "重要发展客户", // r high, m high
    "重要价值客户", // all high
];

/// The lifecycle tag names, in order.
pub const LIFECYCLE_TAGS: [&str; 4] = ["新客", "活跃", "沉睡", "流失"];

/// The longest window a rule may use, in days.
pub const MAX_RULE_DAYS: u32 = 3650;

impl RuleSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            RuleSpec::Lifecycle { .. } => "lifecycle",
            RuleSpec::Rfm { .. } => "rfm",
            RuleSpec::AgeMonths { .. } => "age_months",
            RuleSpec::BirthdayMonth { .. } => "birthday_month",
            RuleSpec::Expression { .. } => "expression",
        }
    }

    /// Check the numbers and names; expressions are checked against the schema by the
    /// application (it knows the attributes).
    pub fn validate(&self) -> Result<(), FieldError> {
        let days = |v: u32| {
            if v == 0 || v > MAX_RULE_DAYS {
                Err(FieldError::new(
                    "config",
                    "invalid_rule",
                    format!("day counts must be 1–{MAX_RULE_DAYS}"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            RuleSpec::Lifecycle {
                new_days,
                active_days,
                dormant_days,
            } => {
                days(*new_days)?;
                days(*active_days)?;
                days(*dormant_days)?;
                if !(new_days <= active_days && active_days < dormant_days) {
                    return Err(FieldError::new(
                        "config",
                        "invalid_rule",
                        "need new_days ≤ active_days < dormant_days",
                    ));
                }
            }
            RuleSpec::Rfm {
                recency_days,
                frequency_min,
                monetary_min_fen,
            } => {
                days(*recency_days)?;
                if *frequency_min < 1 || *monetary_min_fen < 1 {
                    return Err(FieldError::new(
                        "config",
                        "invalid_rule",
                        "frequency and monetary thresholds must be positive",
                    ));
                }
            }
            RuleSpec::AgeMonths { attribute, buckets } => {
                if !crate::segments::is_identifier(attribute) {
                    return Err(FieldError::new(
                        "config",
                        "invalid_rule",
                        "attribute must be a date attribute's key",
                    ));
                }
                if buckets.is_empty() || buckets.len() > 50 {
                    return Err(FieldError::new(
                        "config",
                        "invalid_rule",
                        "an age rule needs 1–50 buckets",
                    ));
                }
                let mut sorted: Vec<&AgeBucket> = buckets.iter().collect();
                sorted.sort_by_key(|b| b.from_month);
                for (i, b) in sorted.iter().enumerate() {
                    parse_name("config", &b.tag, false)?;
                    if b.from_month > b.to_month || b.to_month > 1200 {
                        return Err(FieldError::new(
                            "config",
                            "invalid_rule",
                            format!("bucket {} has from_month > to_month", b.tag),
                        ));
                    }
                    if i > 0 && sorted[i - 1].to_month >= b.from_month {
                        return Err(FieldError::new(
                            "config",
                            "invalid_rule",
                            "age buckets overlap",
                        ));
                    }
                }
            }
            RuleSpec::BirthdayMonth { tag } => {
                parse_name("config", tag, false)?;
            }
            RuleSpec::Expression { tag, expression } => {
                parse_name("config", tag, false)?;
                if expression.trim().is_empty() {
                    return Err(FieldError::new(
                        "config",
                        "invalid_rule",
                        "expression is required",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The rule's tags with the segment expression that defines each, at `now`. A customer
    /// should hold a tag exactly when its expression matches; the expressions of one rule
    /// never overlap, so its group can be single-select.
    pub fn plan(&self, now: Millis) -> Vec<(String, String)> {
        match self {
            RuleSpec::Lifecycle {
                new_days,
                active_days,
                dormant_days,
            } => {
                let n = format!("first_order within {new_days}d");
                let a = format!("last_order within {active_days}d");
                let d = format!("last_order within {dormant_days}d");
                vec![
                    (LIFECYCLE_TAGS[0].into(), n.clone()),
                    (LIFECYCLE_TAGS[1].into(), format!("{a} and not {n}")),
                    (
                        LIFECYCLE_TAGS[2].into(),
                        format!("{d} and not {a} and not {n}"),
                    ),
                    (
                        LIFECYCLE_TAGS[3].into(),
                        format!("exists(last_order) and not {d} and not {n}"),
                    ),
                ]
            }
            RuleSpec::Rfm {
                recency_days,
                frequency_min,
                monetary_min_fen,
            } => {
                let r = format!("last_order within {recency_days}d");
                let f = format!("orders_365d >= {frequency_min}");
                let m = format!("spent_365d >= {monetary_min_fen}");
                (0..8)
                    .map(|bits: usize| {
                        let pick = |on: bool, c: &str| {
                            if on { c.to_owned() } else { format!("not {c}") }
                        };
                        let expr = format!(
                            "orders_365d >= 1 and {} and {} and {}",
                            pick(bits & 2 != 0, &r),
                            pick(bits & 1 != 0, &f),
                            pick(bits & 4 != 0, &m),
                        );
                        (RFM_CLASSES[bits].to_owned(), expr)
                    })
                    .collect()
            }
            RuleSpec::AgeMonths { attribute, buckets } => {
                let today = now.shanghai_date();
                buckets
                    .iter()
                    .map(|b| {
                        // Age in whole months is ≥ m exactly when the birthday is on or
                        // before today minus m months (clamped to the month's last day).
                        let latest = months_before(today, b.from_month);
                        let earliest_excl = months_before(today, b.to_month + 1);
                        let expr = format!(
                            "{attribute} before {} and {attribute} after {}",
                            next_day(latest),
                            next_day(earliest_excl)
                        );
                        (b.tag.clone(), expr)
                    })
                    .collect()
            }
            RuleSpec::BirthdayMonth { tag } => {
                let month = now.shanghai_date().month();
                vec![(tag.clone(), format!("birth_month = {month}"))]
            }
            RuleSpec::Expression { tag, expression } => {
                vec![(tag.clone(), expression.clone())]
            }
        }
    }
}

fn months_before(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

fn next_day(d: NaiveDate) -> NaiveDate {
    d.succ_opt().unwrap_or(d)
}

/// The median of `values` (upper median for even counts), or `None` when empty. RFM uses it
/// to split high from low.
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable(mid);
    Some(*m)
}

/// Whole calendar months between a birth date and `today` (0 before the first monthiversary).
pub fn age_in_months(birth: NaiveDate, today: NaiveDate) -> Option<u32> {
    if birth > today {
        return None;
    }
    let mut months =
        (today.year() - birth.year()) * 12 + today.month() as i32 - birth.month() as i32;
    if months > 0 && months_before(today, months as u32) < birth {
        months -= 1;
    }
    u32::try_from(months).ok()
}

impl Millis {
    /// The calendar date of this instant in Asia/Shanghai.
    pub fn shanghai_date(self) -> NaiveDate {
        Shanghai
            .timestamp_millis_opt(self.0)
            .single()
            .map(|t| t.date_naive())
            .unwrap_or(NaiveDate::MIN)
    }
}

/// Customer ids from an uploaded or pasted list (a column copied from a spreadsheet, a
/// one-column CSV, or ids separated by commas, spaces or tabs). A line whose cells are all
/// numbers gives every cell; a CSV line with other columns gives its first cell; a first line
/// that starts with a word is a header and is skipped. Anything else is an error naming the
/// line, so an operator can fix the file rather than tag a silently shortened list.
/// Duplicates are dropped, the first occurrence keeping its place.
pub fn parse_customer_ids(field: &'static str, text: &str) -> Result<Vec<i64>, FieldError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut first = true;
    for (n, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line
            .split([',', ';', '\t', ' ', '\u{3000}', '，', '；'])
            .map(|c| c.trim().trim_matches('"'))
            .filter(|c| !c.is_empty())
            .collect();
        let Some(head) = cells.first() else { continue };
        let ids: Vec<i64> = if cells.iter().all(|c| parse_id(c).is_some()) {
            cells.iter().filter_map(|c| parse_id(c)).collect()
        } else if let Some(id) = parse_id(head) {
            vec![id]
        } else if first {
            first = false;
            continue;
        } else {
            return Err(FieldError::new(
                field,
                "invalid_ids",
                format!("line {}: \"{head}\" is not a customer id", n + 1),
            ));
        };
        first = false;
        for id in ids {
            if seen.insert(id) {
                out.push(id);
            }
        }
    }
    Ok(out)
}

fn parse_id(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {

    #[test]
    fn id_lists_from_pastes_and_csv() {
        assert_eq!(
            parse_customer_ids("ids", "1\n2\r\n\n3").unwrap(),
            vec![1, 2, 3]
        );
        assert_eq!(
            parse_customer_ids("ids", "4, 5 6\t7；").unwrap(),
            vec![4, 5, 6, 7]
        );
        assert_eq!(
            parse_customer_ids("ids", "4, 5 6\t7,4").unwrap(),
            vec![4, 5, 6, 7]
        );
        assert_eq!(
            parse_customer_ids("ids", "\u{feff}客户ID,姓名\n10,张三\n\"11\",李四\n10,张三")
                .unwrap(),
            vec![10, 11]
        );
        let e = parse_customer_ids("ids", "id\n1\nabc\n").unwrap_err();
        assert_eq!(e.code, "invalid_ids");
        assert!(e.message.contains("line 3"), "{}", e.message);
        assert!(parse_customer_ids("ids", "1\n-2").is_err());
        assert!(parse_customer_ids("ids", "").unwrap().is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panic(s in "\\PC{0,200}") {
            let _ = parse_customer_ids("ids", &s);
        }

        #[test]
        fn written_ids_read_back(ids in proptest::collection::vec(1i64..i64::MAX, 0..50)) {
            let text = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("\n");
            let mut want = Vec::new();
            for i in &ids { if !want.contains(i) { want.push(*i); } }
            proptest::prop_assert_eq!(parse_customer_ids("ids", &text).unwrap(), want);
        }
    }
    use super::*;
    use crate::segments::{Schema, shanghai_midnight};
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(s: &str) -> Millis {
        Millis(shanghai_midnight(date(s)).unwrap().0 + 10 * 3_600_000)
    }

    #[test]
    fn names_and_colours() {
        assert_eq!(parse_name("name", " 兴趣 ", true).unwrap(), "兴趣");
        assert!(parse_name("name", "a/b", true).is_err());
        assert!(parse_name("name", "a/b", false).is_ok());
        assert!(parse_name("name", "", false).is_err());
        assert_eq!(parse_color("color", "#1677FF").unwrap(), "#1677ff");
        assert!(parse_color("color", "red").is_err());
    }

    #[test]
    fn single_select_displaces_others() {
        assert_eq!(
            displaced(false, &[TagId(1), TagId(2)], TagId(2)),
            vec![TagId(1)]
        );
        assert!(displaced(true, &[TagId(1)], TagId(2)).is_empty());
    }

    #[test]
    fn age_in_months_counts_whole_months() {
        assert_eq!(
            age_in_months(date("2026-05-31"), date("2026-06-30")),
            Some(0)
        );
        assert_eq!(
            age_in_months(date("2026-05-31"), date("2026-07-01")),
            Some(1)
        );
        assert_eq!(
            age_in_months(date("2026-01-15"), date("2026-07-15")),
            Some(6)
        );
        assert_eq!(
            age_in_months(date("2026-01-15"), date("2026-07-14")),
            Some(5)
        );
        assert_eq!(age_in_months(date("2026-07-15"), date("2026-07-14")), None);
    }

    fn schema() -> Schema {
        let mut s = Schema::with_customer_attributes();
        s.add_attr("child_birthday", crate::segments::AttrType::Time)
            .unwrap();
        s
    }

    #[test]
    fn every_plan_compiles() {
        let specs = [
            RuleSpec::Lifecycle {
                new_days: 30,
                active_days: 90,
                dormant_days: 180,
            },
            RuleSpec::Rfm {
                recency_days: 60,
                frequency_min: 2,
                monetary_min_fen: 20_000,
            },
            RuleSpec::AgeMonths {
                attribute: "child_birthday".into(),
                buckets: vec![
                    AgeBucket {
                        from_month: 0,
                        to_month: 6,
                        tag: "0-6月".into(),
                    },
                    AgeBucket {
                        from_month: 7,
                        to_month: 12,
                        tag: "7-12月".into(),
                    },
                ],
            },
            RuleSpec::BirthdayMonth {
                tag: "本月生日".into(),
            },
        ];
        for s in &specs {
            s.validate().unwrap();
            for (_, e) in s.plan(at("2026-11-23")) {
                schema()
                    .compile(&e)
                    .unwrap_or_else(|err| panic!("{e}: {err}"));
            }
        }
    }

    #[test]
    fn invalid_rules_are_refused() {
        assert!(
            RuleSpec::Lifecycle {
                new_days: 90,
                active_days: 30,
                dormant_days: 180
            }
            .validate()
            .is_err()
        );
        let overlapping = RuleSpec::AgeMonths {
            attribute: "child_birthday".into(),
            buckets: vec![
                AgeBucket {
                    from_month: 0,
                    to_month: 6,
                    tag: "a".into(),
                },
                AgeBucket {
                    from_month: 6,
                    to_month: 12,
                    tag: "b".into(),
                },
            ],
        };
        assert!(overlapping.validate().is_err());
    }

    proptest! {
        /// The age-bucket expression holds exactly when the whole-month age is in the bucket.
        #[test]
        fn age_plan_matches_age_in_months(
            birth_days in 0i64..2000,
            from in 0u32..30,
            span in 0u32..12,
            today_days in 0i64..400,
        ) {
            let today = date("2025-01-01") + chrono::Days::new(today_days as u64);
            let birth = today - chrono::Days::new(birth_days as u64);
            let spec = RuleSpec::AgeMonths {
                attribute: "child_birthday".into(),
                buckets: vec![AgeBucket { from_month: from, to_month: from + span, tag: "x".into() }],
            };
            let now = Millis(shanghai_midnight(today).unwrap().0 + 5 * 3_600_000);
            let (_, src) = spec.plan(now).remove(0);
            let resolved = schema().compile(&src).unwrap();
            let t = shanghai_midnight(birth).unwrap().0;
            let matches = eval_time(resolved.root(), t, now);
            let age = age_in_months(birth, today).unwrap();
            prop_assert_eq!(matches, age >= from && age <= from + span, "{} age {}", src, age);
        }
    }

    /// Evaluate an `and` of time predicates for one instant.
    fn eval_time(c: &crate::segments::Cond, t: i64, now: Millis) -> bool {
        use crate::segments::Cond;
        match c {
            Cond::And(v) => v.iter().all(|c| eval_time(c, t, now)),
            Cond::Time { pred, .. } => pred.bounds(now).is_some_and(|(lo, hi)| lo <= t && t <= hi),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn median_is_upper_middle() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3, 1, 2]), Some(2));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(3));
    }
}
