//! The guide task inbox (导购待办, issue #21 item 6): what a task is, parsed at the edge. No
//! I/O.
//!
//! A task is something one guide should do by a time — call a customer back, send a material,
//! invite them to the store. A store manager or headquarters sets it by hand (`manual`), or a
//! customer journey's step makes it (`journey`). It is `open` until the guide (or a manager)
//! marks it `done` (with an optional note) or `skipped` (with a reason); then it never changes
//! again.

use serde::Serialize;

use crate::FieldError;
use crate::messaging::has_control;

/// A title: 1 to this many characters, one line.
pub const MAX_TITLE_CHARS: usize = 60;
/// What to do, in more words: at most this many characters (line breaks allowed).
pub const MAX_BODY_CHARS: usize = 1000;
/// A skip reason (required) or a done note (optional): at most this many characters.
pub const MAX_REASON_CHARS: usize = 200;
/// A source reference or a dedupe key: at most this many bytes.
pub const MAX_KEY_BYTES: usize = 200;
/// WeCom reminders per task, at most.
pub const MAX_REMINDERS: i64 = 3;
/// Between two reminders of a task still open.
pub const REMIND_EVERY_MS: i64 = 24 * 3600 * 1000;

fn field(f: &'static str, code: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError::new(f, code, msg)
}

/// Where a task came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A store manager or headquarters made it.
    Manual,
    /// A customer journey's step made it.
    Journey,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Manual, Source::Journey];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Journey => "journey",
        }
    }

    /// `manual` or `journey`, for field `f`.
    pub fn from_field(f: &'static str, s: &str) -> Result<Self, FieldError> {
        Source::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| field(f, "invalid_source", "manual or journey"))
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Open,
    Done,
    Skipped,
}

impl State {
    pub const ALL: [State; 3] = [State::Open, State::Done, State::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Done => "done",
            State::Skipped => "skipped",
        }
    }

    /// `open`, `done` or `skipped`, for field `f`.
    pub fn from_field(f: &'static str, s: &str) -> Result<Self, FieldError> {
        State::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| field(f, "invalid_status", "open, done or skipped"))
    }
}

/// Text of at most `max` characters, trimmed, without control characters (line breaks only
/// where `lines`).
fn text(f: &'static str, s: &str, max: usize, lines: bool) -> Result<String, FieldError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(field(
            f,
            "text_too_long",
            format!("at most {max} characters"),
        ));
    }
    if has_control(s) || (!lines && (s.contains('\n') || s.contains('\t'))) {
        return Err(field(
            f,
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(s.to_owned())
}

/// A title: 1–60 characters, one line.
pub fn parse_title(f: &'static str, s: &str) -> Result<String, FieldError> {
    let t = text(f, s, MAX_TITLE_CHARS, false)?;
    if t.is_empty() {
        return Err(field(f, "required", "a title is required"));
    }
    Ok(t)
}

/// What to do in more words: at most 1,000 characters; may be empty.
pub fn parse_body(f: &'static str, s: &str) -> Result<String, FieldError> {
    text(f, s, MAX_BODY_CHARS, true)
}

/// A done note: at most 200 characters; may be empty.
pub fn parse_note(f: &'static str, s: &str) -> Result<String, FieldError> {
    text(f, s, MAX_REASON_CHARS, true)
}

/// A skip reason: 1–200 characters.
pub fn parse_reason(f: &'static str, s: &str) -> Result<String, FieldError> {
    let r = text(f, s, MAX_REASON_CHARS, true)?;
    if r.is_empty() {
        return Err(field(f, "required", "say why the task is skipped"));
    }
    Ok(r)
}

/// A dedupe key (1–200 bytes) or a source reference (0–200 bytes): printable, no spaces
/// around it.
pub fn parse_key(f: &'static str, s: &str, required: bool) -> Result<String, FieldError> {
    if s.len() > MAX_KEY_BYTES || s.chars().any(char::is_control) || s.trim() != s {
        return Err(field(
            f,
            "invalid_text",
            format!("at most {MAX_KEY_BYTES} bytes, no control characters"),
        ));
    }
    if required && s.is_empty() {
        return Err(field(f, "required", "a key is required"));
    }
    Ok(s.to_owned())
}

/// Completion in basis points: done × 10,000 / total (0 when there is none).
pub fn completion_bp(done: i64, total: i64) -> i64 {
    if total <= 0 {
        0
    } else {
        done.saturating_mul(10_000) / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_line_of_1_to_60_characters() {
        assert_eq!(parse_title("title", "  回访张女士 ").unwrap(), "回访张女士");
        assert_eq!(parse_title("title", " ").unwrap_err().code, "required");
        assert_eq!(
            parse_title("title", &"字".repeat(61)).unwrap_err().code,
            "text_too_long"
        );
        assert!(parse_title("title", &"字".repeat(60)).is_ok());
        for bad in ["a\nb", "a\u{7}b", "a\tb"] {
            let e = parse_title("title", bad).unwrap_err();
            assert_eq!((e.field, e.code), ("title", "invalid_characters"));
        }
    }

    #[test]
    fn bodies_notes_and_reasons() {
        assert_eq!(
            parse_body("body", "第一行\n第二行").unwrap(),
            "第一行\n第二行"
        );
        assert_eq!(parse_body("body", "").unwrap(), "");
        assert_eq!(
            parse_body("body", &"x".repeat(1001)).unwrap_err().code,
            "text_too_long"
        );
        assert_eq!(
            parse_body("body", "a\u{0}").unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(parse_note("note", "").unwrap(), "");
        assert_eq!(parse_reason("reason", "  ").unwrap_err().code, "required");
        assert_eq!(
            parse_reason("reason", &"x".repeat(201)).unwrap_err().code,
            "text_too_long"
        );
        assert_eq!(parse_reason("reason", "客户出差").unwrap(), "客户出差");
    }

    #[test]
    fn keys_sources_and_states() {
        assert_eq!(
            parse_key("dedupe_key", "journey:1:step:2:customer:3", true).unwrap(),
            "journey:1:step:2:customer:3"
        );
        assert_eq!(
            parse_key("dedupe_key", "", true).unwrap_err().code,
            "required"
        );
        assert!(parse_key("source_ref", "", false).is_ok());
        assert!(parse_key("source_ref", " x", false).is_err());
        assert!(parse_key("source_ref", &"x".repeat(201), false).is_err());
        for s in Source::ALL {
            assert_eq!(Source::from_field("source", s.as_str()).unwrap(), s);
        }
        assert!(Source::from_field("source", "robot").is_err());
        for s in State::ALL {
            assert_eq!(State::from_field("state", s.as_str()).unwrap(), s);
        }
        assert_eq!(
            State::from_field("state", "closed").unwrap_err().code,
            "invalid_status"
        );
    }

    #[test]
    fn completion_is_in_basis_points() {
        assert_eq!(completion_bp(0, 0), 0);
        assert_eq!(completion_bp(1, 3), 3333);
        assert_eq!(completion_bp(3, 3), 10_000);
    }
}
