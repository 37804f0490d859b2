//! Turns source text into tokens with byte spans.

use chrono::NaiveDate;

use super::ast::{CmpOp, Duration, DurationUnit};
use super::error::{SegmentError, SegmentErrorKind as K, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
    Tag,
    Exists,
    In,
    Within,
    Before,
    After,
    Ago,
    True,
    False,
}

impl Keyword {
    pub(crate) const ALL: [Keyword; 12] = [
        Keyword::And,
        Keyword::Or,
        Keyword::Not,
        Keyword::Tag,
        Keyword::Exists,
        Keyword::In,
        Keyword::Within,
        Keyword::Before,
        Keyword::After,
        Keyword::Ago,
        Keyword::True,
        Keyword::False,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::And => "and",
            Keyword::Or => "or",
            Keyword::Not => "not",
            Keyword::Tag => "tag",
            Keyword::Exists => "exists",
            Keyword::In => "in",
            Keyword::Within => "within",
            Keyword::Before => "before",
            Keyword::After => "after",
            Keyword::Ago => "ago",
            Keyword::True => "true",
            Keyword::False => "false",
        }
    }

    pub(crate) fn from_word(w: &str) -> Option<Keyword> {
        Keyword::ALL.into_iter().find(|k| k.as_str() == w)
    }
}

/// Whether `name` is a reserved word of the language.
pub fn is_keyword(name: &str) -> bool {
    Keyword::from_word(name).is_some()
}

/// Whether `name` is a valid attribute name: a letter or `_`, then letters, digits or `_`
/// (Unicode letters allowed), and not a keyword.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if is_ident_start(c) => {}
        _ => return false,
    }
    chars.all(is_ident_continue) && !is_keyword(name)
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Ident(String),
    Kw(Keyword),
    Str(String),
    Int(i64),
    Yuan(i64),
    Duration(Duration),
    Date(NaiveDate),
    LParen,
    RParen,
    Comma,
    Cmp(CmpOp),
    Eof,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Full-width and typographic characters a Chinese input method produces, with the ASCII
/// character meant.
fn full_width_hint(c: char) -> Option<&'static str> {
    Some(match c {
        '（' => "(",
        '）' => ")",
        '，' => ",",
        '＝' => "=",
        '＜' => "<",
        '＞' => ">",
        '！' => "!",
        '“' | '”' | '＂' | '「' | '」' => "\"",
        '‘' | '’' | '＇' => "\"",
        '＆' => "and",
        '｜' => "or",
        '／' => "/",
        _ => return None,
    })
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().nth(n))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn err(
        &self,
        kind: super::error::SegmentErrorKind,
        start: usize,
        msg: impl Into<String>,
    ) -> SegmentError {
        SegmentError::new(kind, Span::new(start, self.pos.max(start)), msg)
    }

    /// Consume a run of ASCII digits and return it.
    fn digits(&mut self) -> &'a str {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// Consume identifier characters and return them.
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if is_ident_continue(c)) {
            self.bump();
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    fn next_token(&mut self) -> Result<Option<Token>, SegmentError> {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
        let start = self.pos;
        let Some(c) = self.bump() else {
            return Ok(None);
        };
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => {
                if self.peek() == Some('=') {
                    self.bump();
                    return Err(self.err(K::Syntax, start, "use `=` to compare, not `==`"));
                }
                Tok::Cmp(CmpOp::Eq)
            }
            '!' => {
                if self.peek() == Some('=') {
                    self.bump();
                    Tok::Cmp(CmpOp::Ne)
                } else {
                    return Err(self.err(K::Syntax, start, "use `not` for negation, not `!`"));
                }
            }
            '<' => match self.peek() {
                Some('=') => {
                    self.bump();
                    Tok::Cmp(CmpOp::Le)
                }
                Some('>') => {
                    self.bump();
                    return Err(self.err(K::Syntax, start, "use `!=` for not equal, not `<>`"));
                }
                _ => Tok::Cmp(CmpOp::Lt),
            },
            '>' => {
                if self.peek() == Some('=') {
                    self.bump();
                    Tok::Cmp(CmpOp::Ge)
                } else {
                    Tok::Cmp(CmpOp::Gt)
                }
            }
            '&' => {
                if self.peek() == Some('&') {
                    self.bump();
                }
                return Err(self.err(K::Syntax, start, "use `and`, not `&&`"));
            }
            '|' => {
                if self.peek() == Some('|') {
                    self.bump();
                }
                return Err(self.err(K::Syntax, start, "use `or`, not `||`"));
            }
            '"' => Tok::Str(self.string(start)?),
            '\'' => {
                return Err(self.err(
                    K::InvalidCharacter,
                    start,
                    "strings are written in double quotes: \"上海\"",
                ));
            }
            '¥' | '￥' => Tok::Yuan(self.yuan(start, false)?),
            '-' => match self.peek() {
                Some(d) if d.is_ascii_digit() => self.number(start, true)?,
                Some('¥' | '￥') => {
                    self.bump();
                    Tok::Yuan(self.yuan(start, true)?)
                }
                _ => return Err(self.err(K::Syntax, start, "`-` must be followed by a number")),
            },
            c if c.is_ascii_digit() => self.number(start, false)?,
            c if is_ident_start(c) => {
                self.word();
                let word = self.src.get(start..self.pos).unwrap_or("");
                match Keyword::from_word(word) {
                    Some(k) => Tok::Kw(k),
                    None => Tok::Ident(word.to_owned()),
                }
            }
            c => {
                if let Some(ascii) = full_width_hint(c) {
                    return Err(self.err(
                        K::InvalidCharacter,
                        start,
                        format!("full-width or typographic `{c}`: use ASCII `{ascii}` instead"),
                    ));
                }
                let shown = if c.is_control() {
                    format!("U+{:04X}", u32::from(c))
                } else {
                    format!("`{c}`")
                };
                return Err(self.err(
                    K::InvalidCharacter,
                    start,
                    format!("unexpected character {shown}"),
                ));
            }
        };
        Ok(Some(Token {
            tok,
            span: Span::new(start, self.pos),
        }))
    }

    /// After the opening `"`.
    fn string(&mut self, start: usize) -> Result<String, SegmentError> {
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(self.err(
                    K::UnterminatedString,
                    start,
                    "string is not closed: add a `\"` at its end",
                ));
            };
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let esc_start = self.pos - 1;
                    match self.bump() {
                        Some('"') => out.push('"'),
                        Some('\\') => out.push('\\'),
                        Some('n') => out.push('\n'),
                        Some('r') => out.push('\r'),
                        Some('t') => out.push('\t'),
                        Some('u') => out.push(self.unicode_escape(esc_start)?),
                        None => {
                            return Err(self.err(
                                K::UnterminatedString,
                                start,
                                "string is not closed: add a `\"` at its end",
                            ));
                        }
                        Some(_) => {
                            return Err(self.err(
                                K::InvalidEscape,
                                esc_start,
                                "unknown escape; use \\\", \\\\, \\n, \\r, \\t or \\u{…}",
                            ));
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    /// After `\u`: `{` 1–6 hex digits `}`.
    fn unicode_escape(&mut self, esc_start: usize) -> Result<char, SegmentError> {
        let bad = |l: &Self| {
            l.err(
                K::InvalidEscape,
                esc_start,
                "a unicode escape is written \\u{4e0a}",
            )
        };
        if self.bump() != Some('{') {
            return Err(bad(self));
        }
        let hex_start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        let hex = self.src.get(hex_start..self.pos).unwrap_or("");
        if hex.is_empty() || hex.len() > 6 || self.bump() != Some('}') {
            return Err(bad(self));
        }
        u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| self.err(K::InvalidEscape, esc_start, "not a valid unicode character"))
    }

    /// After `¥` (or `-¥`): digits, then optionally `.` and one or two digits. Returns fen.
    fn yuan(&mut self, start: usize, negative: bool) -> Result<i64, SegmentError> {
        let whole = self.digits();
        if whole.is_empty() {
            return Err(self.err(
                K::InvalidMoney,
                start,
                "`¥` must be followed by an amount, e.g. ¥129.90",
            ));
        }
        let mut cents_text = "";
        if self.peek() == Some('.') && matches!(self.peek_at(1), Some(c) if c.is_ascii_digit()) {
            self.bump();
            cents_text = self.digits();
            if cents_text.len() > 2 {
                return Err(self.err(
                    K::InvalidMoney,
                    start,
                    "money has at most two decimals (fen)",
                ));
            }
        }
        if matches!(self.peek(), Some(c) if is_ident_continue(c) || c == '.') {
            self.word();
            return Err(self.err(
                K::InvalidMoney,
                start,
                "malformed amount; write it like ¥129.90",
            ));
        }
        let too_big = |l: &Self| l.err(K::InvalidMoney, start, "amount is too large");
        let whole: i128 = whole.parse().map_err(|_| too_big(self))?;
        let cents: i128 = match cents_text.len() {
            0 => 0,
            1 => cents_text.parse::<i128>().map_err(|_| too_big(self))? * 10,
            _ => cents_text.parse().map_err(|_| too_big(self))?,
        };
        let fen = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(cents))
            .map(|v| if negative { -v } else { v })
            .ok_or_else(|| too_big(self))?;
        i64::try_from(fen).map_err(|_| too_big(self))
    }

    /// An integer, a duration (`30d`) or a date (`2026-01-01`); `start` is at the first digit
    /// or at the `-` sign.
    fn number(&mut self, start: usize, negative: bool) -> Result<Tok, SegmentError> {
        // Re-read from the first digit (the caller consumed it, or the sign).
        self.pos = if negative { start + 1 } else { start };
        let digits = self.digits();
        // A date: four digits, `-`, digits, `-`, digits.
        if !negative
            && digits.len() == 4
            && self.peek() == Some('-')
            && matches!(self.peek_at(1), Some(c) if c.is_ascii_digit())
        {
            return self.date(start, digits);
        }
        if matches!(self.peek(), Some(c) if is_ident_continue(c)) {
            let unit = self.word();
            let unit = match unit {
                "h" => DurationUnit::Hours,
                "d" => DurationUnit::Days,
                "w" => DurationUnit::Weeks,
                _ => {
                    return Err(self.err(
                        K::InvalidDuration,
                        start,
                        format!(
                            "unknown duration unit `{unit}`: write durations like 12h, 30d or 2w"
                        ),
                    ));
                }
            };
            if negative {
                return Err(self.err(K::InvalidDuration, start, "a duration cannot be negative"));
            }
            let amount: u32 = digits
                .parse()
                .map_err(|_| self.err(K::InvalidDuration, start, "duration is too long"))?;
            return Ok(Tok::Duration(Duration::new(amount, unit)));
        }
        if self.peek() == Some('.') && matches!(self.peek_at(1), Some(c) if c.is_ascii_digit()) {
            self.bump();
            self.digits();
            return Err(self.err(
                K::InvalidNumber,
                start,
                "numbers are whole; write money in fen (12990) or in yuan with ¥ (¥129.90)",
            ));
        }
        let magnitude: u64 = digits
            .parse()
            .map_err(|_| self.err(K::InvalidNumber, start, "number is too large"))?;
        let value = if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        };
        value
            .map(Tok::Int)
            .ok_or_else(|| self.err(K::InvalidNumber, start, "number is too large"))
    }

    /// After the four year digits, at the first `-`.
    fn date(&mut self, start: usize, year: &str) -> Result<Tok, SegmentError> {
        self.bump();
        let month = self.digits();
        let mut day = "";
        let shaped = month.len() == 2 && self.peek() == Some('-') && {
            self.bump();
            day = self.digits();
            day.len() == 2
        };
        if matches!(self.peek(), Some(c) if is_ident_continue(c) || c == '-' || c == ':') {
            while matches!(self.peek(), Some(c) if is_ident_continue(c) || c == '-' || c == ':') {
                self.bump();
            }
            return Err(self.err(
                K::InvalidDate,
                start,
                "dates are written YYYY-MM-DD, e.g. 2026-01-31",
            ));
        }
        if !shaped {
            return Err(self.err(
                K::InvalidDate,
                start,
                "dates are written YYYY-MM-DD, e.g. 2026-01-31",
            ));
        }
        let parsed = match (
            year.parse::<i32>(),
            month.parse::<u32>(),
            day.parse::<u32>(),
        ) {
            (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d),
            _ => None,
        };
        parsed.map(Tok::Date).ok_or_else(|| {
            let text = self.src.get(start..self.pos).unwrap_or("");
            self.err(
                K::InvalidDate,
                start,
                format!("{text} is not a date on the calendar"),
            )
        })
    }
}

/// Split `src` into tokens, ending with one `Eof` token.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, SegmentError> {
    let mut lexer = Lexer { src, pos: 0 };
    let mut out = Vec::new();
    while let Some(t) = lexer.next_token()? {
        out.push(t);
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(src.len(), src.len()),
    });
    Ok(out)
}
