//! The console's visual builder, read back from an expression.
//!
//! The builder writes rows of conditions joined by one `and` or one `or`; each row is a field
//! (a tag or an attribute), an operator, a value and a "not" box. [`builder_rows`] turns a
//! parsed expression back into those rows when it has that shape, and says why not when it
//! does not (nesting of `and`/`or`, or a condition no row can show, such as an `in` list), so
//! the builder never rewrites text it cannot show. Written rows parse back to the same rows:
//! `builder_rows(parse(written))` gives the rows that wrote it.

use chrono::Datelike;
use serde::Serialize;

use super::ast::{Anchor, CmpOp, Duration, DurationUnit, Expr, ExprKind, TagTarget, Value};
use super::schema::{AttrType, Schema, TagId};

/// How the builder joins its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BuilderJoin {
    /// All conditions (`a and b`).
    And,
    /// Any condition (`a or b`).
    Or,
}

/// One row of the builder, in the builder's own terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuilderRow {
    /// `tag:<group/name>` for a tag, else the attribute's name.
    pub field: String,
    /// `has` (tag), `exists`, `is_true`, `is_false` (yes/no), `= != < <= > >=`,
    /// `within`, `before_ago`, `after`, `before` (time).
    pub op: String,
    /// The value box: text as typed, an integer, yuan (`199.5`), days, or `YYYY-MM-DD`;
    /// empty when the operator takes none.
    pub value: String,
    /// The "not" box.
    pub not: bool,
}

/// An expression as builder rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuilderRows {
    pub join: BuilderJoin,
    pub rows: Vec<BuilderRow>,
}

/// Why an expression does not fit the builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BuilderMisfit {
    /// `and` inside `or` (or the other way round), or `not` over a group.
    Nested,
    /// A condition no row can show: an `in` list, a tag or attribute the schema does not know,
    /// an `after 30d ago`, hours that are not whole days, a negative amount…
    Unsupported,
}

impl BuilderMisfit {
    pub fn code(self) -> &'static str {
        match self {
            Self::Nested => "nested",
            Self::Unsupported => "unsupported",
        }
    }
}

/// The builder rows that write `expr`, or why there are none.
pub fn builder_rows(expr: &Expr, schema: &Schema) -> Result<BuilderRows, BuilderMisfit> {
    let (join, parts): (BuilderJoin, &[Expr]) = match &expr.kind {
        ExprKind::And(v) => (BuilderJoin::And, v),
        ExprKind::Or(v) => (BuilderJoin::Or, v),
        _ => (BuilderJoin::And, std::slice::from_ref(expr)),
    };
    let rows = parts
        .iter()
        .map(|p| row(p, schema))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BuilderRows { join, rows })
}

fn row(e: &Expr, schema: &Schema) -> Result<BuilderRow, BuilderMisfit> {
    match &e.kind {
        ExprKind::And(_) | ExprKind::Or(_) => Err(BuilderMisfit::Nested),
        ExprKind::Not(inner) => {
            // `not in_group` is the yes/no row "is false"; any other `not x` is x's row with
            // the box ticked (once: `not not x` has no row).
            if let ExprKind::Flag(a) = &inner.kind
                && matches!(schema.attr(&a.value), Some(AttrType::Bool))
            {
                return Ok(plain(&a.value, "is_false", String::new()));
            }
            let mut r = row(inner, schema)?;
            if r.not {
                return Err(BuilderMisfit::Nested);
            }
            r.not = true;
            Ok(r)
        }
        ExprKind::Tag(t) => {
            let path = match &t.value {
                TagTarget::Path(p) => schema.tag_by_path(p).map(|_| p.as_str()),
                TagTarget::Id(id) => schema.tag_path(TagId(*id)),
            }
            .ok_or(BuilderMisfit::Unsupported)?;
            Ok(BuilderRow {
                field: format!("tag:{path}"),
                op: "has".to_owned(),
                value: String::new(),
                not: false,
            })
        }
        ExprKind::Exists(a) => match schema.attr(&a.value) {
            Some(AttrType::Bool) | None => Err(BuilderMisfit::Unsupported),
            Some(_) => Ok(plain(&a.value, "exists", String::new())),
        },
        ExprKind::Flag(a) => match schema.attr(&a.value) {
            Some(AttrType::Bool) => Ok(plain(&a.value, "is_true", String::new())),
            _ => Err(BuilderMisfit::Unsupported),
        },
        ExprKind::Compare { attr, op, value } => {
            let name = &attr.value;
            let ty = schema.attr(name).ok_or(BuilderMisfit::Unsupported)?;
            compare(name, ty, op.value, &value.value)
        }
        ExprKind::In { .. } => Err(BuilderMisfit::Unsupported),
        ExprKind::Within { attr, duration } => {
            time_attr(schema, &attr.value)?;
            Ok(plain(&attr.value, "within", days(duration.value)?))
        }
        ExprKind::Before { attr, anchor } => {
            time_attr(schema, &attr.value)?;
            Ok(match anchor.value {
                Anchor::Ago(d) => plain(&attr.value, "before_ago", days(d)?),
                Anchor::Date(d) => plain(&attr.value, "before", date(d)),
            })
        }
        ExprKind::After { attr, anchor } => {
            time_attr(schema, &attr.value)?;
            match anchor.value {
                Anchor::Ago(_) => Err(BuilderMisfit::Unsupported),
                Anchor::Date(d) => Ok(plain(&attr.value, "after", date(d))),
            }
        }
    }
}

fn plain(field: &str, op: &str, value: String) -> BuilderRow {
    BuilderRow {
        field: field.to_owned(),
        op: op.to_owned(),
        value,
        not: false,
    }
}

fn compare(name: &str, ty: &AttrType, op: CmpOp, v: &Value) -> Result<BuilderRow, BuilderMisfit> {
    let ordered = || plain(name, op.as_str(), String::new());
    match (ty, v) {
        (AttrType::Text | AttrType::Enum(_), Value::Str(s))
            if matches!(op, CmpOp::Eq | CmpOp::Ne) && !s.is_empty() && s.trim() == s =>
        {
            Ok(plain(name, op.as_str(), s.clone()))
        }
        (AttrType::Int, Value::Int(n)) => Ok(BuilderRow {
            value: n.to_string(),
            ..ordered()
        }),
        (AttrType::Money, Value::Int(fen) | Value::Yuan(fen)) if *fen >= 0 => Ok(BuilderRow {
            value: yuan(*fen),
            ..ordered()
        }),
        (AttrType::Bool, Value::Bool(b)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            let truth = *b == (op == CmpOp::Eq);
            Ok(plain(
                name,
                if truth { "is_true" } else { "is_false" },
                String::new(),
            ))
        }
        _ => Err(BuilderMisfit::Unsupported),
    }
}

fn time_attr(schema: &Schema, name: &str) -> Result<(), BuilderMisfit> {
    match schema.attr(name) {
        Some(AttrType::Time) => Ok(()),
        _ => Err(BuilderMisfit::Unsupported),
    }
}

/// A duration as whole days (the builder's unit), if it is one.
fn days(d: Duration) -> Result<String, BuilderMisfit> {
    let n = u64::from(d.amount);
    let days = match d.unit {
        DurationUnit::Days => n,
        DurationUnit::Weeks => n * 7,
        DurationUnit::Hours if n % 24 == 0 => n / 24,
        DurationUnit::Hours => return Err(BuilderMisfit::Unsupported),
    };
    Ok(days.to_string())
}

fn date(d: chrono::NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Fen as the builder's yuan box: `199`, `199.5` is written `199.50`.
fn yuan(fen: i64) -> String {
    let (whole, cents) = (fen / 100, fen % 100);
    if cents == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{cents:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::parse;

    fn schema() -> Schema {
        let mut s = Schema::with_customer_attributes();
        s.add_tag("宝宝月龄", "0-6月", TagId(7)).unwrap();
        s
    }

    fn rows(src: &str) -> Result<BuilderRows, BuilderMisfit> {
        builder_rows(&parse(src).unwrap(), &schema())
    }

    fn r(field: &str, op: &str, value: &str, not: bool) -> BuilderRow {
        BuilderRow {
            field: field.into(),
            op: op.into(),
            value: value.into(),
            not,
        }
    }

    #[test]
    fn reads_what_the_builder_writes() {
        let got = rows(
            r#"tag("宝宝月龄/0-6月") and city = "上海" and orders_90d >= 2 and not (total_spent_fen < ¥199.5) and not in_group and last_order within 30d and first_order before 90d ago and birthday after 2020-01-02 and exists(level)"#,
        )
        .unwrap();
        assert_eq!(got.join, BuilderJoin::And);
        assert_eq!(
            got.rows,
            vec![
                r("tag:宝宝月龄/0-6月", "has", "", false),
                r("city", "=", "上海", false),
                r("orders_90d", ">=", "2", false),
                r("total_spent_fen", "<", "199.50", true),
                r("in_group", "is_false", "", false),
                r("last_order", "within", "30", false),
                r("first_order", "before_ago", "90", false),
                r("birthday", "after", "2020-01-02", false),
                r("level", "exists", "", false),
            ]
        );
    }

    #[test]
    fn reads_any_of_and_single_conditions() {
        let got = rows(r#"(city = "上海") or (not (tag(7))) or (in_group)"#).unwrap();
        assert_eq!(got.join, BuilderJoin::Or);
        assert_eq!(
            got.rows,
            vec![
                r("city", "=", "上海", false),
                r("tag:宝宝月龄/0-6月", "has", "", true),
                r("in_group", "is_true", "", false),
            ]
        );
        let one = rows("total_spent_fen >= 19900").unwrap();
        assert_eq!(one.join, BuilderJoin::And);
        assert_eq!(one.rows, vec![r("total_spent_fen", ">=", "199", false)]);
        assert_eq!(
            rows("last_order within 2w").unwrap().rows,
            vec![r("last_order", "within", "14", false)]
        );
        assert_eq!(
            rows("in_group = false").unwrap().rows,
            vec![r("in_group", "is_false", "", false)]
        );
        assert_eq!(
            rows("not (not in_group)").unwrap().rows,
            vec![r("in_group", "is_false", "", true)]
        );
    }

    #[test]
    fn says_why_an_expression_does_not_fit() {
        use BuilderMisfit::*;
        assert_eq!(
            rows(r#"city = "上海" and (in_group or orders_90d >= 2)"#),
            Err(Nested)
        );
        assert_eq!(rows(r#"not (city = "上海" and in_group)"#), Err(Nested));
        assert_eq!(rows(r#"not not city = "上海""#), Err(Nested));
        assert_eq!(rows(r#"city in ("上海", "北京")"#), Err(Unsupported));
        assert_eq!(rows("last_order after 30d ago"), Err(Unsupported));
        assert_eq!(rows("last_order within 5h"), Err(Unsupported));
        assert_eq!(rows(r#"tag("兴趣/榴莲")"#), Err(Unsupported));
        assert_eq!(rows("tag(8)"), Err(Unsupported));
        assert_eq!(rows("nosuch >= 2"), Err(Unsupported));
        assert_eq!(rows(r#"city = " 上海""#), Err(Unsupported));
        assert_eq!(rows(r#"city > "a""#), Err(Unsupported));
        assert_eq!(rows("total_spent_fen >= -5"), Err(Unsupported));
    }
}
