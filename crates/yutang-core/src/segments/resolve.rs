//! Type-checking: a syntax tree plus a [`Schema`] become a [`Resolved`] expression with tag
//! ids, typed values and time predicates relative to an explicit "now".

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Asia::Shanghai;

use super::ast::{
    Anchor, CmpOp, Duration, Expr, ExprKind, Ident, Literal, Spanned, TagTarget, Value,
};
use super::error::{SegmentError, SegmentErrorKind as K, Span};
use super::schema::{AttrType, Schema, TagId};
use super::{MAX_COND_DEPTH, MAX_DURATION_DAYS, MAX_TERMS};
use crate::time::Millis;

/// A type-checked expression, ready for the index (or a SQL translation).
///
/// Only [`resolve`] and [`Resolved::from_cond`] make one, so its depth and size are always
/// within [`MAX_COND_DEPTH`] and [`MAX_TERMS`], and evaluators may recurse over it.
///
/// Semantics (what every evaluator must implement, index and SQL alike):
/// - A customer without a value for an attribute matches no comparison on it: `city != "上海"`
///   does not match a customer with no city, while `not city = "上海"` does. Boolean
///   attributes are never missing: no value means `false`.
/// - `Not` is the complement within existing customers. Logic is two-valued: in SQL, write
///   `NOT COALESCE(cond, FALSE)` for `Not`.
/// - `And([])` matches everyone, `Or([])` nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    root: Cond,
}

/// A resolved condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// Has the tag.
    Tag(TagId),
    /// A text/enum attribute equal to one of `values`.
    TextIn {
        attr: String,
        values: Vec<String>,
    },
    /// A text/enum attribute with a value, and not one of `values`.
    TextNotIn {
        attr: String,
        values: Vec<String>,
    },
    /// An integer/money attribute within `lo..=hi` (empty when `lo > hi`).
    IntRange {
        attr: String,
        lo: i64,
        hi: i64,
    },
    /// An integer/money attribute equal to one of `values`.
    IntIn {
        attr: String,
        values: Vec<i64>,
    },
    /// An integer/money attribute with a value, and not one of `values`.
    IntNotIn {
        attr: String,
        values: Vec<i64>,
    },
    /// A time attribute matching a predicate relative to "now".
    Time {
        attr: String,
        pred: TimePred,
    },
    /// A boolean attribute equal to `value` (no value counts as `false`).
    Bool {
        attr: String,
        value: bool,
    },
    /// The attribute has a value.
    Exists {
        attr: String,
    },
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// A time predicate; see [`TimePred::bounds`] for its exact meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePred {
    /// `within d`: `now - d <= t <= now`. `millis` is `d` in milliseconds.
    Within { millis: i64 },
    /// `before a`: `t < a`.
    Before(TimeBound),
    /// `after a`: `t >= a`. So `before a` and `after a` split the customers with a value.
    After(TimeBound),
}

/// An instant, fixed or relative to "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// A fixed instant (a date's midnight in Asia/Shanghai).
    At(Millis),
    /// `now - millis`.
    Ago { millis: i64 },
}

impl TimeBound {
    pub fn at(self, now: Millis) -> i64 {
        match self {
            TimeBound::At(m) => m.0,
            TimeBound::Ago { millis } => now.0.saturating_sub(millis),
        }
    }
}

impl TimePred {
    /// The matching instants as an inclusive range `(lo, hi)` of epoch milliseconds, or
    /// `None` when nothing can match.
    pub fn bounds(self, now: Millis) -> Option<(i64, i64)> {
        match self {
            TimePred::Within { millis } => Some((now.0.saturating_sub(millis), now.0)),
            TimePred::Before(b) => b.at(now).checked_sub(1).map(|hi| (i64::MIN, hi)),
            TimePred::After(b) => Some((b.at(now), i64::MAX)),
        }
    }
}

impl Cond {
    /// The attribute this leaf reads, if any.
    pub fn attr(&self) -> Option<&str> {
        match self {
            Cond::TextIn { attr, .. }
            | Cond::TextNotIn { attr, .. }
            | Cond::IntRange { attr, .. }
            | Cond::IntIn { attr, .. }
            | Cond::IntNotIn { attr, .. }
            | Cond::Time { attr, .. }
            | Cond::Bool { attr, .. }
            | Cond::Exists { attr } => Some(attr),
            Cond::Tag(_) | Cond::Not(_) | Cond::And(_) | Cond::Or(_) => None,
        }
    }

    fn children(&self) -> &[Cond] {
        match self {
            Cond::Not(c) => std::slice::from_ref(c),
            Cond::And(cs) | Cond::Or(cs) => cs,
            _ => &[],
        }
    }
}

impl Resolved {
    /// Wrap a condition built by hand, checking the same limits as [`resolve`]: at most
    /// [`MAX_COND_DEPTH`] nested `Not`/`And`/`Or` and at most [`MAX_TERMS`] leaves (list
    /// values count once each). Runs without recursion.
    pub fn from_cond(root: Cond) -> Result<Resolved, SegmentError> {
        let mut terms = 0usize;
        let mut stack: Vec<(&Cond, usize)> = vec![(&root, 0)];
        while let Some((c, depth)) = stack.pop() {
            if depth > MAX_COND_DEPTH {
                return Err(SegmentError::new(
                    K::TooDeep,
                    Span::default(),
                    format!("conditions are nested more than {MAX_COND_DEPTH} levels deep"),
                ));
            }
            let children = c.children();
            if matches!(c, Cond::Not(_) | Cond::And(_) | Cond::Or(_)) {
                stack.extend(children.iter().map(|x| (x, depth + 1)));
            } else {
                terms = terms.saturating_add(match c {
                    Cond::TextIn { values, .. } | Cond::TextNotIn { values, .. } => {
                        values.len().max(1)
                    }
                    Cond::IntIn { values, .. } | Cond::IntNotIn { values, .. } => {
                        values.len().max(1)
                    }
                    _ => 1,
                });
                if terms > MAX_TERMS {
                    return Err(SegmentError::new(
                        K::TooManyTerms,
                        Span::default(),
                        format!("the expression has more than {MAX_TERMS} conditions"),
                    ));
                }
            }
        }
        Ok(Resolved { root })
    }

    pub fn root(&self) -> &Cond {
        &self.root
    }

    pub fn into_root(self) -> Cond {
        self.root
    }

    /// The tags the expression reads, sorted.
    pub fn tags(&self) -> BTreeSet<TagId> {
        let mut out = BTreeSet::new();
        self.walk(|c| {
            if let Cond::Tag(t) = c {
                out.insert(*t);
            }
        });
        out
    }

    /// The attributes the expression reads, sorted.
    pub fn attributes(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        let mut stack = vec![&self.root];
        while let Some(c) = stack.pop() {
            if let Some(a) = c.attr() {
                out.insert(a);
            }
            stack.extend(c.children());
        }
        out
    }

    /// Whether the result depends on "now" (a relative time predicate).
    pub fn depends_on_now(&self) -> bool {
        let mut found = false;
        self.walk(|c| {
            if let Cond::Time { pred, .. } = c {
                found |= !matches!(
                    pred,
                    TimePred::Before(TimeBound::At(_)) | TimePred::After(TimeBound::At(_))
                );
            }
        });
        found
    }

    fn walk(&self, mut f: impl FnMut(&Cond)) {
        let mut stack = vec![&self.root];
        while let Some(c) = stack.pop() {
            f(c);
            stack.extend(c.children());
        }
    }
}

/// Midnight at the start of `date` in Asia/Shanghai, as epoch milliseconds.
pub fn shanghai_midnight(date: NaiveDate) -> Option<Millis> {
    Shanghai
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| Millis(t.timestamp_millis()))
}

/// Type-check a syntax tree against `schema`. Errors carry a span and the offending text but
/// no line/column (call [`SegmentError::locate`] with the source, or use
/// [`compile`](super::compile)).
pub fn resolve(expr: &Expr, schema: &Schema) -> Result<Resolved, SegmentError> {
    if expr.node_depth() > MAX_COND_DEPTH {
        return Err(SegmentError::new(
            K::TooDeep,
            expr.span,
            format!("conditions are nested more than {MAX_COND_DEPTH} levels deep"),
        ));
    }
    if expr.term_count() > MAX_TERMS {
        return Err(SegmentError::new(
            K::TooManyTerms,
            expr.span,
            format!("the expression has more than {MAX_TERMS} conditions"),
        ));
    }
    let root = Resolver { schema }.expr(expr)?;
    Ok(Resolved { root })
}

struct Resolver<'a> {
    schema: &'a Schema,
}

fn mismatch(span: Span, found: impl AsRef<str>, msg: String) -> SegmentError {
    SegmentError::new(K::TypeMismatch, span, msg).with_found(found)
}

impl Resolver<'_> {
    fn expr(&self, e: &Expr) -> Result<Cond, SegmentError> {
        Ok(match &e.kind {
            ExprKind::Or(xs) | ExprKind::And(xs) => {
                if xs.is_empty() {
                    return Err(SegmentError::new(
                        K::Syntax,
                        e.span,
                        "`and` / `or` without conditions",
                    ));
                }
                let items = xs
                    .iter()
                    .map(|x| self.expr(x))
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(e.kind, ExprKind::Or(_)) {
                    Cond::Or(items)
                } else {
                    Cond::And(items)
                }
            }
            ExprKind::Not(x) => Cond::Not(Box::new(self.expr(x)?)),
            ExprKind::Tag(t) => Cond::Tag(self.tag(t)?),
            ExprKind::Exists(a) => {
                let ty = self.attr(a)?;
                if *ty == AttrType::Bool {
                    return Err(mismatch(
                        a.span,
                        &a.value,
                        format!(
                            "`{}` is a yes/no attribute and always has a value; write `{}` or `not {}`",
                            a.value, a.value, a.value
                        ),
                    ));
                }
                Cond::Exists {
                    attr: a.value.clone(),
                }
            }
            ExprKind::Flag(a) => {
                let ty = self.attr(a)?;
                if *ty != AttrType::Bool {
                    return Err(mismatch(
                        a.span,
                        &a.value,
                        format!(
                            "`{}` is {}, not yes/no: compare it, e.g. {}",
                            a.value,
                            ty.describe(),
                            example(&a.value, ty)
                        ),
                    ));
                }
                Cond::Bool {
                    attr: a.value.clone(),
                    value: true,
                }
            }
            ExprKind::Compare { attr, op, value } => self.compare(attr, op, value)?,
            ExprKind::In { attr, values } => self.in_list(attr, values, e.span)?,
            ExprKind::Within { attr, duration } => {
                self.time_attr(attr, "within")?;
                Cond::Time {
                    attr: attr.value.clone(),
                    pred: TimePred::Within {
                        millis: duration_millis(duration)?,
                    },
                }
            }
            ExprKind::Before { attr, anchor } => {
                self.time_attr(attr, "before")?;
                Cond::Time {
                    attr: attr.value.clone(),
                    pred: TimePred::Before(time_bound(anchor)?),
                }
            }
            ExprKind::After { attr, anchor } => {
                self.time_attr(attr, "after")?;
                Cond::Time {
                    attr: attr.value.clone(),
                    pred: TimePred::After(time_bound(anchor)?),
                }
            }
        })
    }

    fn tag(&self, t: &Spanned<TagTarget>) -> Result<TagId, SegmentError> {
        let found = t.value.to_string();
        match &t.value {
            TagTarget::Id(id) => {
                let id = TagId(*id);
                if self.schema.tag_path(id).is_some() {
                    return Ok(id);
                }
                Err(SegmentError::new(
                    K::UnknownTag,
                    t.span,
                    format!("there is no tag with id {id}"),
                )
                .with_found(found))
            }
            TagTarget::Path(path) => {
                if let Some(id) = self.schema.tag_by_path(path) {
                    return Ok(id);
                }
                let msg = match path.split_once('/') {
                    None => format!(
                        "unknown tag \"{path}\": tags are written \"group/name\", e.g. tag(\"宝宝月龄/0-6月\")"
                    ),
                    Some((group, _)) => {
                        let near = self.schema.tags_in_group(group, 6);
                        if near.is_empty() {
                            format!("unknown tag \"{path}\": there is no tag group \"{group}\"")
                        } else {
                            format!(
                                "unknown tag \"{path}\"; tags in \"{group}\" include {}",
                                near.iter()
                                    .map(|p| format!("\"{p}\""))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    }
                };
                Err(SegmentError::new(K::UnknownTag, t.span, msg).with_found(found))
            }
        }
    }

    fn attr(&self, a: &Ident) -> Result<&AttrType, SegmentError> {
        if let Some(ty) = self.schema.attr(&a.value) {
            return Ok(ty);
        }
        let near = self.schema.similar_attrs(&a.value);
        let hint = if near.is_empty() {
            String::new()
        } else {
            format!(
                "; did you mean {}?",
                near.iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        };
        Err(SegmentError::new(
            K::UnknownAttribute,
            a.span,
            format!("unknown attribute `{}`{hint}", a.value),
        )
        .with_found(&a.value))
    }

    fn time_attr(&self, a: &Ident, keyword: &str) -> Result<(), SegmentError> {
        let ty = self.attr(a)?;
        if *ty != AttrType::Time {
            return Err(mismatch(
                a.span,
                &a.value,
                format!(
                    "`{keyword}` applies to time attributes, and `{}` is {}; e.g. {}",
                    a.value,
                    ty.describe(),
                    example(&a.value, ty)
                ),
            ));
        }
        Ok(())
    }

    fn compare(
        &self,
        attr: &Ident,
        op: &Spanned<CmpOp>,
        value: &Literal,
    ) -> Result<Cond, SegmentError> {
        let ty = self.attr(attr)?;
        let name = attr.value.clone();
        let bad_op = |allowed: &str| {
            mismatch(
                op.span,
                op.value.as_str(),
                format!(
                    "`{}` is {}: it takes {allowed}, not `{}`",
                    attr.value,
                    ty.describe(),
                    op.value
                ),
            )
        };
        match ty {
            AttrType::Text | AttrType::Enum(_) => {
                if !matches!(op.value, CmpOp::Eq | CmpOp::Ne) {
                    return Err(bad_op("`=`, `!=` or `in (…)`"));
                }
                let s = self.text_value(attr, ty, value)?;
                match op.value {
                    CmpOp::Eq => Ok(Cond::TextIn {
                        attr: name,
                        values: vec![s],
                    }),
                    CmpOp::Ne => Ok(Cond::TextNotIn {
                        attr: name,
                        values: vec![s],
                    }),
                    _ => Err(bad_op("`=`, `!=` or `in (…)`")),
                }
            }
            AttrType::Int | AttrType::Money => {
                let v = self.int_value(attr, ty, value)?;
                Ok(match op.value {
                    CmpOp::Eq => Cond::IntIn {
                        attr: name,
                        values: vec![v],
                    },
                    CmpOp::Ne => Cond::IntNotIn {
                        attr: name,
                        values: vec![v],
                    },
                    CmpOp::Lt => int_range(name, i64::MIN, v.checked_sub(1)),
                    CmpOp::Le => int_range(name, i64::MIN, Some(v)),
                    CmpOp::Gt => match v.checked_add(1) {
                        Some(lo) => int_range(name, lo, Some(i64::MAX)),
                        None => int_range(name, i64::MAX, None),
                    },
                    CmpOp::Ge => int_range(name, v, Some(i64::MAX)),
                })
            }
            AttrType::Bool => {
                if !matches!(op.value, CmpOp::Eq | CmpOp::Ne) {
                    return Err(bad_op("`=` or `!=`"));
                }
                let Value::Bool(b) = value.value else {
                    return Err(mismatch(
                        value.span,
                        value.value.to_string(),
                        format!(
                            "`{}` is a yes/no attribute: compare it with true or false, or write `{}` / `not {}`",
                            attr.value, attr.value, attr.value
                        ),
                    ));
                };
                match op.value {
                    CmpOp::Eq => Ok(Cond::Bool {
                        attr: name,
                        value: b,
                    }),
                    CmpOp::Ne => Ok(Cond::Bool {
                        attr: name,
                        value: !b,
                    }),
                    _ => Err(bad_op("`=` or `!=`")),
                }
            }
            AttrType::Time => Err(bad_op(
                "`within 30d`, `before 30d ago` or `after 2026-01-01`",
            )),
        }
    }

    fn in_list(&self, attr: &Ident, values: &[Literal], span: Span) -> Result<Cond, SegmentError> {
        let ty = self.attr(attr)?;
        if values.is_empty() {
            return Err(SegmentError::new(
                K::Syntax,
                span,
                "`in` needs at least one value",
            ));
        }
        match ty {
            AttrType::Text | AttrType::Enum(_) => Ok(Cond::TextIn {
                attr: attr.value.clone(),
                values: values
                    .iter()
                    .map(|v| self.text_value(attr, ty, v))
                    .collect::<Result<_, _>>()?,
            }),
            AttrType::Int | AttrType::Money => Ok(Cond::IntIn {
                attr: attr.value.clone(),
                values: values
                    .iter()
                    .map(|v| self.int_value(attr, ty, v))
                    .collect::<Result<_, _>>()?,
            }),
            AttrType::Time | AttrType::Bool => Err(mismatch(
                attr.span,
                &attr.value,
                format!(
                    "`in` applies to text and integer attributes, and `{}` is {}; e.g. {}",
                    attr.value,
                    ty.describe(),
                    example(&attr.value, ty)
                ),
            )),
        }
    }

    fn text_value(
        &self,
        attr: &Ident,
        ty: &AttrType,
        value: &Literal,
    ) -> Result<String, SegmentError> {
        let Value::Str(s) = &value.value else {
            return Err(mismatch(
                value.span,
                value.value.to_string(),
                format!(
                    "`{}` is {}: compare it with a quoted string, e.g. {}",
                    attr.value,
                    ty.describe(),
                    example(&attr.value, ty)
                ),
            ));
        };
        if let AttrType::Enum(allowed) = ty
            && !allowed.iter().any(|a| a == s)
        {
            {
                let list = allowed
                    .iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(SegmentError::new(
                    K::UnknownValue,
                    value.span,
                    format!("`{}` has no value \"{s}\"; it is one of {list}", attr.value),
                )
                .with_found(value.value.to_string()));
            }
        }
        Ok(s.clone())
    }

    fn int_value(&self, attr: &Ident, ty: &AttrType, value: &Literal) -> Result<i64, SegmentError> {
        match (&value.value, ty) {
            (Value::Int(i), _) => Ok(*i),
            (Value::Yuan(fen), AttrType::Money) => Ok(*fen),
            (Value::Yuan(_), _) => Err(mismatch(
                value.span,
                value.value.to_string(),
                format!(
                    "`{}` is {}, not money: compare it with a whole number",
                    attr.value,
                    ty.describe()
                ),
            )),
            _ => Err(mismatch(
                value.span,
                value.value.to_string(),
                format!(
                    "`{}` is {}: compare it with a number, e.g. {}",
                    attr.value,
                    ty.describe(),
                    example(&attr.value, ty)
                ),
            )),
        }
    }
}

fn int_range(attr: String, lo: i64, hi: Option<i64>) -> Cond {
    match hi {
        Some(hi) => Cond::IntRange { attr, lo, hi },
        // Nothing is below i64::MIN: an empty range.
        None => Cond::IntRange { attr, lo: 1, hi: 0 },
    }
}

fn duration_millis(d: &Spanned<Duration>) -> Result<i64, SegmentError> {
    let days = match d.value.unit {
        super::ast::DurationUnit::Hours => d.value.amount / 24,
        super::ast::DurationUnit::Days => d.value.amount,
        super::ast::DurationUnit::Weeks => d.value.amount.saturating_mul(7),
    };
    if days > MAX_DURATION_DAYS {
        return Err(SegmentError::new(
            K::InvalidDuration,
            d.span,
            format!(
                "the duration {} is longer than {MAX_DURATION_DAYS} days",
                d.value
            ),
        )
        .with_found(d.value.to_string()));
    }
    Ok(d.value.millis())
}

fn time_bound(a: &Spanned<Anchor>) -> Result<TimeBound, SegmentError> {
    match a.value {
        Anchor::Ago(d) => Ok(TimeBound::Ago {
            millis: duration_millis(&Spanned::new(d, a.span))?,
        }),
        // 1900 (birthdays are old) up to 2100, as for schedules.
        Anchor::Date(date) if !(1900..2100).contains(&chrono::Datelike::year(&date)) => {
            Err(SegmentError::new(
                K::InvalidDate,
                a.span,
                "dates must be from 1900-01-01 to 2099-12-31",
            )
            .with_found(a.value.to_string()))
        }
        Anchor::Date(date) => shanghai_midnight(date).map(TimeBound::At).ok_or_else(|| {
            SegmentError::new(K::InvalidDate, a.span, "the date is out of range")
                .with_found(a.value.to_string())
        }),
    }
}

/// A short correct use of an attribute of type `ty`, for hints.
fn example(name: &str, ty: &AttrType) -> String {
    match ty {
        AttrType::Text => format!("{name} = \"上海\""),
        AttrType::Enum(values) => match values.first() {
            Some(v) => format!("{name} = \"{v}\""),
            None => format!("{name} = \"…\""),
        },
        AttrType::Int => format!("{name} >= 2"),
        AttrType::Money => format!("{name} >= ¥500"),
        AttrType::Time => format!("{name} within 30d"),
        AttrType::Bool => name.to_owned(),
    }
}
