//! Errors of the segment language, with the position they point at.

use std::fmt;

/// A byte range `start..end` in the expression's source text.
///
/// Spans of an AST that was built by hand (the console's visual builder) are
/// `Span::default()`, i.e. `0..0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A line and column in the source, both 1-based. The column counts Unicode characters
/// (not bytes), so `city = "上海"` has `"` at column 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    pub line: u32,
    pub column: u32,
}

impl Location {
    /// Where `offset` (a byte offset) falls in `src`. Offsets past the end, or inside a
    /// multi-byte character, are clamped to the nearest preceding character boundary.
    pub fn of(src: &str, offset: usize) -> Location {
        let mut end = offset.min(src.len());
        while end > 0 && !src.is_char_boundary(end) {
            end -= 1;
        }
        let before = src.get(..end).unwrap_or("");
        let mut line = 1u32;
        let mut column = 1u32;
        for c in before.chars() {
            if c == '\n' {
                line = line.saturating_add(1);
                column = 1;
            } else {
                column = column.saturating_add(1);
            }
        }
        Location { line, column }
    }
}

/// What went wrong; each kind has a stable snake_case [`code`](SegmentErrorKind::code) that the
/// console translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentErrorKind {
    /// The expression is empty or only whitespace.
    Empty,
    /// Longer than [`MAX_EXPR_BYTES`](super::MAX_EXPR_BYTES).
    TooLong,
    /// Parentheses and `not` nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    TooDeep,
    /// More than [`MAX_TERMS`](super::MAX_TERMS) conditions (values of an `in` list count).
    TooManyTerms,
    /// A character the language does not use (including full-width punctuation).
    InvalidCharacter,
    /// A string without its closing `"`.
    UnterminatedString,
    /// A backslash escape other than `\"`, `\\`, `\n`, `\r`, `\t`, `\u{…}`.
    InvalidEscape,
    /// An integer that is malformed or out of range.
    InvalidNumber,
    /// A `¥` amount that is malformed or out of range.
    InvalidMoney,
    /// A duration with an unknown unit, or longer than the maximum.
    InvalidDuration,
    /// A date not written `YYYY-MM-DD`, or not on the calendar.
    InvalidDate,
    /// Tokens in an order the grammar does not allow.
    Syntax,
    /// `tag("…")` names no known tag, or `tag(id)` no known id.
    UnknownTag,
    /// An attribute the schema does not know.
    UnknownAttribute,
    /// A value outside an enumerated attribute's values.
    UnknownValue,
    /// An operator or value that does not fit the attribute's type (`city >= 3`).
    TypeMismatch,
}

impl SegmentErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "segment_empty",
            Self::TooLong => "segment_too_long",
            Self::TooDeep => "segment_too_deep",
            Self::TooManyTerms => "segment_too_many_terms",
            Self::InvalidCharacter => "segment_invalid_character",
            Self::UnterminatedString => "segment_unterminated_string",
            Self::InvalidEscape => "segment_invalid_escape",
            Self::InvalidNumber => "segment_invalid_number",
            Self::InvalidMoney => "segment_invalid_money",
            Self::InvalidDuration => "segment_invalid_duration",
            Self::InvalidDate => "segment_invalid_date",
            Self::Syntax => "segment_syntax_error",
            Self::UnknownTag => "segment_unknown_tag",
            Self::UnknownAttribute => "segment_unknown_attribute",
            Self::UnknownValue => "segment_unknown_value",
            Self::TypeMismatch => "segment_type_mismatch",
        }
    }
}

/// A segment expression that did not parse or did not type-check.
///
/// `span` is a byte range in the source; `location` is its line and column when the source
/// is known (always for [`parse`](super::parse) and [`compile`](super::compile); `None` for
/// [`resolve`](super::resolve) of a hand-built AST). `found` is the offending text, shortened
/// to at most 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SegmentError {
    pub kind: SegmentErrorKind,
    pub span: Span,
    pub location: Option<Location>,
    pub found: String,
    pub message: String,
}

const FOUND_MAX_CHARS: usize = 40;

impl SegmentError {
    pub(crate) fn new(kind: SegmentErrorKind, span: Span, message: impl Into<String>) -> Self {
        Self {
            kind,
            span,
            location: None,
            found: String::new(),
            message: message.into(),
        }
    }

    pub(crate) fn with_found(mut self, found: impl AsRef<str>) -> Self {
        self.found = shorten(found.as_ref());
        self
    }

    /// Fill `location`, and `found` when still empty, from the source the span points into.
    pub fn locate(mut self, src: &str) -> Self {
        self.location = Some(Location::of(src, self.span.start));
        if self.found.is_empty()
            && let Some(text) = src.get(self.span.start..self.span.end.min(src.len()))
        {
            self.found = shorten(text);
        }
        self
    }

    /// The stable error code, e.g. `segment_unknown_tag`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= FOUND_MAX_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(FOUND_MAX_CHARS).collect();
    out.push('…');
    out
}

impl fmt::Display for SegmentError {
    /// `line 1, column 8: unknown tag "宝宝月龄/0-7月"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(loc) => write!(
                f,
                "line {}, column {}: {}",
                loc.line, loc.column, self.message
            ),
            None => write!(f, "at byte {}: {}", self.span.start, self.message),
        }
    }
}
