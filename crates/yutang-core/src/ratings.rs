//! Consultant choice and service ratings (专属顾问与服务评价, issue #23 item 5): what a rating
//! is, parsed at the edge, the rules of who is rated and when a rating is low, and the WeCom
//! texts that tell staff. No I/O.
//!
//! A customer rates a **subject** — a guide task done for them (`task`) or one of their orders
//! (`order`) — once, with a score of 1 to 5 and an optional comment of at most 500 characters.
//! The rated guide is the task's guide, or the order's attributed guide, else the customer's
//! consultant (the owner of their follows) when the rating is made. A score at or under the
//! low-rating line (`ratings.low_score`, default 2) alerts the guide's store managers.

use serde::Serialize;

use crate::FieldError;
use crate::messaging::has_control;

/// A comment: at most this many characters (line breaks allowed).
pub const MAX_COMMENT_CHARS: usize = 500;
/// The lowest and highest score.
pub const MIN_SCORE: i64 = 1;
pub const MAX_SCORE: i64 = 5;
/// Scores at or under this are low unless the deployment says otherwise.
pub const DEFAULT_LOW_SCORE: i64 = 2;

fn field(f: &'static str, code: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError::new(f, code, msg)
}

/// What is rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A guide task on the customer, marked done.
    Task,
    /// One of the customer's orders.
    Order,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 2] = [SubjectKind::Task, SubjectKind::Order];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Task => "task",
            SubjectKind::Order => "order",
        }
    }

    /// `task` or `order`, for field `f`.
    pub fn from_field(f: &'static str, s: &str) -> Result<Self, FieldError> {
        SubjectKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| field(f, "invalid_subject_kind", "task or order"))
    }
}

/// A score: a whole number from 1 to 5.
pub fn parse_score(f: &'static str, score: i64) -> Result<i64, FieldError> {
    if (MIN_SCORE..=MAX_SCORE).contains(&score) {
        Ok(score)
    } else {
        Err(field(f, "invalid_score", "a whole number from 1 to 5"))
    }
}

/// A comment: trimmed, at most 500 characters, line breaks and tabs allowed but no other
/// control character; may be empty.
pub fn parse_comment(f: &'static str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.chars().count() > MAX_COMMENT_CHARS {
        return Err(field(
            f,
            "text_too_long",
            format!("at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    if has_control(s) {
        return Err(field(
            f,
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(s.to_owned())
}

/// The low-rating line as configured: 1–4 (5 would make every rating low, 0 none).
pub fn parse_low_score(f: &'static str, n: i64) -> Result<i64, FieldError> {
    if (MIN_SCORE..MAX_SCORE).contains(&n) {
        Ok(n)
    } else {
        Err(field(f, "invalid_score", "a whole number from 1 to 4"))
    }
}

/// Whether `score` alerts the store managers under the line `low_score`.
pub fn is_low(score: i64, low_score: i64) -> bool {
    score <= low_score
}

/// Who is rated for an order: its attributed guide, else the consultant at the time.
pub fn rated_for_order(order_guide: Option<i64>, consultant: Option<i64>) -> Option<i64> {
    order_guide.or(consultant)
}

/// An average in thousandths (`4333` for 4.333), rounded half up; `None` without ratings.
pub fn average_milli(sum: i64, count: i64) -> Option<i64> {
    (count > 0).then(|| (sum * 1000 * 2 + count) / (count * 2))
}

/// `4.3` from thousandths (one decimal, rounded half up), for people.
pub fn average_text(milli: i64) -> String {
    let tenths = (milli + 50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// `★★☆☆☆`.
pub fn stars(score: i64) -> String {
    let n = score.clamp(0, MAX_SCORE) as usize;
    format!("{}{}", "★".repeat(n), "☆".repeat(MAX_SCORE as usize - n))
}

fn display_name(customer: &str) -> &str {
    let c = customer.trim();
    if c.is_empty() { "（未留名）" } else { c }
}

/// The WeCom app message to a store manager about a low rating, e.g.
/// `【低分评价】客户「王女士」给导购 张伟 打了 1 星（★☆☆☆☆，订单）：态度敷衍。请尽快回访。`
pub fn low_rating_text(
    customer: &str,
    guide: &str,
    score: i64,
    kind: SubjectKind,
    comment: &str,
) -> String {
    let what = match kind {
        SubjectKind::Task => "服务待办",
        SubjectKind::Order => "订单",
    };
    let comment = comment.trim();
    let said = if comment.is_empty() {
        "未留评语".to_owned()
    } else {
        let short: String = comment.chars().take(100).collect();
        if short.chars().count() < comment.chars().count() {
            format!("「{short}…」")
        } else {
            format!("「{short}」")
        }
    };
    format!(
        "【低分评价】客户「{}」给导购 {guide} 打了 {score} 星（{}，{what}）：{said}。请尽快回访。",
        display_name(customer),
        stars(score)
    )
}

/// The WeCom app message to a guide a customer chose as their consultant: done (they follow
/// the customer already) or pending (add the customer first).
pub fn chosen_text(customer: &str, pending: bool) -> String {
    let c = display_name(customer);
    if pending {
        format!(
            "【专属顾问】客户「{c}」选择您为专属顾问。请先添加客户为企业微信好友，添加后自动生效。"
        )
    } else {
        format!("【专属顾问】客户「{c}」选择您为专属顾问，已生效。请主动问候客户。")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in SubjectKind::ALL {
            assert_eq!(SubjectKind::from_field("subject_kind", k.as_str()), Ok(k));
        }
        let e = SubjectKind::from_field("subject_kind", "visit").unwrap_err();
        assert_eq!((e.field, e.code), ("subject_kind", "invalid_subject_kind"));
    }

    #[test]
    fn scores_are_one_to_five() {
        for s in 1..=5 {
            assert_eq!(parse_score("score", s), Ok(s));
        }
        for s in [0, 6, -1, i64::MAX] {
            let e = parse_score("score", s).unwrap_err();
            assert_eq!((e.field, e.code), ("score", "invalid_score"));
        }
        assert!(parse_low_score("low_score", 2).is_ok());
        assert!(parse_low_score("low_score", 5).is_err());
        assert!(parse_low_score("low_score", 0).is_err());
        assert!(is_low(2, 2) && is_low(1, 2) && !is_low(3, 2));
    }

    #[test]
    fn comments_are_checked_by_field() {
        assert_eq!(
            parse_comment("comment", "  很耐心\n谢谢 ").unwrap(),
            "很耐心\n谢谢"
        );
        assert_eq!(parse_comment("comment", "").unwrap(), "");
        let e = parse_comment("comment", "响铃\u{7}").unwrap_err();
        assert_eq!((e.field, e.code), ("comment", "invalid_characters"));
        let long = "好".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(
            parse_comment("comment", &long).unwrap_err().code,
            "text_too_long"
        );
        assert!(parse_comment("comment", &"好".repeat(MAX_COMMENT_CHARS)).is_ok());
    }

    #[test]
    fn the_rated_guide_of_an_order() {
        assert_eq!(rated_for_order(Some(3), Some(4)), Some(3));
        assert_eq!(rated_for_order(None, Some(4)), Some(4));
        assert_eq!(rated_for_order(None, None), None);
    }

    #[test]
    fn averages_in_thousandths() {
        assert_eq!(average_milli(0, 0), None);
        assert_eq!(average_milli(13, 3), Some(4333));
        assert_eq!(average_milli(14, 3), Some(4667));
        assert_eq!(average_milli(5, 1), Some(5000));
        assert_eq!(average_text(4333), "4.3");
        assert_eq!(average_text(4667), "4.7");
        assert_eq!(average_text(4950), "5.0");
        assert_eq!(stars(2), "★★☆☆☆");
    }

    #[test]
    fn the_messages_name_the_customer_and_the_guide() {
        assert_eq!(
            low_rating_text("王女士", "张伟", 1, SubjectKind::Order, "态度敷衍"),
            "【低分评价】客户「王女士」给导购 张伟 打了 1 星（★☆☆☆☆，订单）：「态度敷衍」。请尽快回访。"
        );
        assert_eq!(
            low_rating_text("", "张伟", 2, SubjectKind::Task, " "),
            "【低分评价】客户「（未留名）」给导购 张伟 打了 2 星（★★☆☆☆，服务待办）：未留评语。请尽快回访。"
        );
        let long = "慢".repeat(120);
        assert!(low_rating_text("a", "b", 1, SubjectKind::Task, &long).contains("…」"));
        assert!(chosen_text("王女士", true).contains("请先添加"));
        assert!(chosen_text("王女士", false).contains("已生效"));
    }
}
