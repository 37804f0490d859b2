//! The syntax tree of a segment expression, and its canonical printed form.
//!
//! `Display` prints the canonical form: keywords in lower case, single spaces, `¥` amounts
//! with two decimals (or none when whole), strings with the minimal escapes, and
//! parentheses exactly where the tree needs them. Parsing the printed form gives back the same
//! tree (up to spans): `parse(&e.to_string())?.without_spans() == e.without_spans()`, for every
//! tree that keeps the invariants below.
//!
//! Invariants (kept by the parser; keep them when building a tree by hand):
//! `And` and `Or` have at least two children; `In` has at least one value; names in
//! `Ident`s are identifiers and not keywords; dates have four-digit years.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::error::Span;

/// A value with the span of source text it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    /// A value with no source (for trees built by hand).
    pub fn bare(value: T) -> Self {
        Self {
            value,
            span: Span::default(),
        }
    }
}

/// An attribute name such as `city` or `orders_90d`.
pub type Ident = Spanned<String>;

/// A literal value with its span.
pub type Literal = Spanned<Value>;

/// A node of the expression tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// `a or b or …` (at least two children).
    Or(Vec<Expr>),
    /// `a and b and …` (at least two children).
    And(Vec<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// `tag("group/name")` or `tag(42)`.
    Tag(Spanned<TagTarget>),
    /// `exists(attr)`: the customer has a value for the attribute.
    Exists(Ident),
    /// A bare boolean attribute: `in_group`.
    Flag(Ident),
    /// `attr op literal`: `city = "上海"`, `orders_90d >= 2`.
    Compare {
        attr: Ident,
        op: Spanned<CmpOp>,
        value: Literal,
    },
    /// `attr in (v1, v2, …)` (at least one value).
    In { attr: Ident, values: Vec<Literal> },
    /// `attr within 30d`: from `now - 30d` to `now`, both inclusive.
    Within {
        attr: Ident,
        duration: Spanned<Duration>,
    },
    /// `attr before <anchor>`: strictly before the anchor.
    Before {
        attr: Ident,
        anchor: Spanned<Anchor>,
    },
    /// `attr after <anchor>`: at or after the anchor.
    After {
        attr: Ident,
        anchor: Spanned<Anchor>,
    },
}

/// What `tag(…)` refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TagTarget {
    /// `tag("宝宝月龄/0-6月")`: a tag by its `group/name` path.
    Path(String),
    /// `tag(42)`: a tag by its id.
    Id(i64),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// A literal on the right of a comparison or in an `in` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// `"上海"`.
    Str(String),
    /// `2`, `-5`, `12990` (fen, for money attributes).
    Int(i64),
    /// `¥129.90`, held in fen (12990).
    Yuan(i64),
    /// `true` / `false`.
    Bool(bool),
}

/// A length of time: `12h`, `30d`, `2w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    pub amount: u32,
    pub unit: DurationUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationUnit {
    Hours,
    Days,
    Weeks,
}

impl DurationUnit {
    pub fn suffix(self) -> char {
        match self {
            Self::Hours => 'h',
            Self::Days => 'd',
            Self::Weeks => 'w',
        }
    }

    pub fn millis(self) -> i64 {
        match self {
            Self::Hours => 3_600_000,
            Self::Days => 86_400_000,
            Self::Weeks => 7 * 86_400_000,
        }
    }
}

impl Duration {
    pub fn new(amount: u32, unit: DurationUnit) -> Self {
        Self { amount, unit }
    }

    /// The length in milliseconds (cannot overflow: `u32::MAX` weeks fits in `i64`).
    pub fn millis(self) -> i64 {
        i64::from(self.amount).saturating_mul(self.unit.millis())
    }
}

/// The point in time `before` and `after` compare with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// `30d ago`: `now - 30d`.
    Ago(Duration),
    /// `2026-01-01`: midnight at the start of that day in Asia/Shanghai.
    Date(NaiveDate),
}

// ---------------------------------------------------------------------------------------
// Span stripping

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Self { kind, span }
    }

    /// A node with no source span (for trees built by hand).
    pub fn bare(kind: ExprKind) -> Self {
        Self {
            kind,
            span: Span::default(),
        }
    }

    /// The same tree with every span set to `Span::default()`, for comparing trees that came
    /// from different texts.
    pub fn without_spans(&self) -> Expr {
        fn id(i: &Ident) -> Ident {
            Spanned::bare(i.value.clone())
        }
        fn lit(l: &Literal) -> Literal {
            Spanned::bare(l.value.clone())
        }
        let kind = match &self.kind {
            ExprKind::Or(xs) => ExprKind::Or(xs.iter().map(Expr::without_spans).collect()),
            ExprKind::And(xs) => ExprKind::And(xs.iter().map(Expr::without_spans).collect()),
            ExprKind::Not(x) => ExprKind::Not(Box::new(x.without_spans())),
            ExprKind::Tag(t) => ExprKind::Tag(Spanned::bare(t.value.clone())),
            ExprKind::Exists(a) => ExprKind::Exists(id(a)),
            ExprKind::Flag(a) => ExprKind::Flag(id(a)),
            ExprKind::Compare { attr, op, value } => ExprKind::Compare {
                attr: id(attr),
                op: Spanned::bare(op.value),
                value: lit(value),
            },
            ExprKind::In { attr, values } => ExprKind::In {
                attr: id(attr),
                values: values.iter().map(lit).collect(),
            },
            ExprKind::Within { attr, duration } => ExprKind::Within {
                attr: id(attr),
                duration: Spanned::bare(duration.value),
            },
            ExprKind::Before { attr, anchor } => ExprKind::Before {
                attr: id(attr),
                anchor: Spanned::bare(anchor.value),
            },
            ExprKind::After { attr, anchor } => ExprKind::After {
                attr: id(attr),
                anchor: Spanned::bare(anchor.value),
            },
        };
        Expr::bare(kind)
    }

    /// The deepest chain of `and` / `or` / `not` nodes from this node down (a leaf is 0).
    /// Computed without recursion, so it is safe on any tree.
    pub fn node_depth(&self) -> usize {
        let mut max = 0usize;
        let mut stack: Vec<(&Expr, usize)> = vec![(self, 0)];
        while let Some((e, d)) = stack.pop() {
            max = max.max(d);
            match &e.kind {
                ExprKind::Or(xs) | ExprKind::And(xs) => {
                    stack.extend(xs.iter().map(|x| (x, d.saturating_add(1))));
                }
                ExprKind::Not(x) => stack.push((x, d.saturating_add(1))),
                _ => {}
            }
        }
        max
    }

    /// The number of conditions (leaves, with each value of an `in` list counted once).
    /// Computed without recursion.
    pub fn term_count(&self) -> usize {
        let mut n = 0usize;
        let mut stack: Vec<&Expr> = vec![self];
        while let Some(e) = stack.pop() {
            match &e.kind {
                ExprKind::Or(xs) | ExprKind::And(xs) => stack.extend(xs.iter()),
                ExprKind::Not(x) => stack.push(x),
                ExprKind::In { values, .. } => n = n.saturating_add(values.len().max(1)),
                _ => n = n.saturating_add(1),
            }
        }
        n
    }
}

// ---------------------------------------------------------------------------------------
// Canonical printing

/// Write `s` as a double-quoted string literal with the minimal escapes.
pub(crate) fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write_string(f, s),
            Value::Int(i) => write!(f, "{i}"),
            Value::Yuan(fen) => {
                let sign = if *fen < 0 { "-" } else { "" };
                let abs = fen.unsigned_abs();
                if abs % 100 == 0 {
                    write!(f, "{sign}¥{}", abs / 100)
                } else {
                    write!(f, "{sign}¥{}.{:02}", abs / 100, abs % 100)
                }
            }
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.suffix())
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anchor::Ago(d) => write!(f, "{d} ago"),
            Anchor::Date(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
        }
    }
}

impl fmt::Display for TagTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tag(")?;
        match self {
            TagTarget::Path(p) => write_string(f, p)?,
            TagTarget::Id(id) => write!(f, "{id}")?,
        }
        f.write_str(")")
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn write_child(f: &mut fmt::Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl fmt::Display for Expr {
    /// The canonical form. Recursion is as deep as the tree: trees from the parser are at most
    /// about `3 * MAX_DEPTH` nodes deep.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Or(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    write_child(f, x, matches!(x.kind, ExprKind::Or(_)))?;
                }
                Ok(())
            }
            ExprKind::And(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    write_child(f, x, matches!(x.kind, ExprKind::Or(_) | ExprKind::And(_)))?;
                }
                Ok(())
            }
            ExprKind::Not(x) => {
                f.write_str("not ")?;
                write_child(f, x, matches!(x.kind, ExprKind::Or(_) | ExprKind::And(_)))
            }
            ExprKind::Tag(t) => write!(f, "{}", t.value),
            ExprKind::Exists(a) => write!(f, "exists({})", a.value),
            ExprKind::Flag(a) => f.write_str(&a.value),
            ExprKind::Compare { attr, op, value } => {
                write!(f, "{} {} {}", attr.value, op.value, value.value)
            }
            ExprKind::In { attr, values } => {
                write!(f, "{} in (", attr.value)?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", v.value)?;
                }
                f.write_str(")")
            }
            ExprKind::Within { attr, duration } => {
                write!(f, "{} within {}", attr.value, duration.value)
            }
            ExprKind::Before { attr, anchor } => {
                write!(f, "{} before {}", attr.value, anchor.value)
            }
            ExprKind::After { attr, anchor } => write!(f, "{} after {}", attr.value, anchor.value),
        }
    }
}
