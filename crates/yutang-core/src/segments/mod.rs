//! Segment expressions: the small language operators use to pick customers.
//!
//! ```text
//! tag("宝宝月龄/0-6月") and city = "上海" and orders_90d >= 2 and not in_group and last_order within 30d
//! ```
//!
//! Text goes through three steps, all pure:
//! 1. [`parse`] turns text into a syntax tree ([`Expr`]) with byte spans;
//! 2. [`resolve`] checks the tree against a [`Schema`] (attributes and their types, tags by
//!    path and id) and produces a [`Resolved`] expression with tag ids and typed values;
//! 3. an evaluator (the bitmap index in `yutang-index`, or a SQL translation) runs it, given
//!    "now" explicitly.
//!
//! [`compile`] does 1 and 2. Every error is a [`SegmentError`] with a stable code, the byte
//! span, the line and column (in characters), the offending text and a message meant for the
//! operator. `Display` on [`Expr`] prints the canonical form, which parses back to the same
//! tree; the console's visual builder writes and reads expressions through it.
//!
//! # Grammar
//!
//! ```text
//! expr       = and_expr { "or" and_expr }
//! and_expr   = unary { "and" unary }
//! unary      = "not" unary | primary
//! primary    = "(" expr ")"
//!            | "tag" "(" STRING ")"              -- by path: tag("宝宝月龄/0-6月")
//!            | "tag" "(" INTEGER ")"             -- by id:   tag(42)
//!            | "exists" "(" IDENT ")"            -- the attribute has a value
//!            | IDENT                             -- a yes/no attribute is true
//!            | IDENT CMP literal                 -- city = "上海", orders_90d >= 2
//!            | IDENT "in" "(" literal { "," literal } ")"
//!            | IDENT "within" DURATION           -- last_order within 30d
//!            | IDENT "before" anchor             -- last_order before 90d ago
//!            | IDENT "after" anchor              -- first_order after 2026-01-01
//! anchor     = DURATION "ago" | DATE
//! CMP        = "=" | "!=" | "<" | "<=" | ">" | ">="
//! literal    = STRING | INTEGER | YUAN | "true" | "false"
//! ```
//!
//! `not` binds tighter than `and`, which binds tighter than `or`:
//! `not a and b or c` is `((not a) and b) or c`.
//!
//! Tokens (whitespace, including the full-width space, separates them):
//! - `IDENT`: a letter or `_`, then letters, digits or `_`; Unicode letters are allowed
//!   (`孩子生日`). Keywords are lower case and reserved: `and or not tag exists in within
//!   before after ago true false`.
//! - `STRING`: `"…"` with escapes `\"` `\\` `\n` `\r` `\t` `\u{4e0a}`.
//! - `INTEGER`: `-`? digits, within `i64`. Money attributes take fen: `12990`.
//! - `YUAN`: `¥` (or `￥`) then digits and up to two decimals, held in fen: `¥129.90` = 12990.
//!   Only money attributes take it. `-¥5` is negative.
//! - `DURATION`: digits directly followed by a unit: `12h`, `30d`, `2w` (at most
//!   [`MAX_DURATION_DAYS`] days).
//! - `DATE`: `YYYY-MM-DD`, meaning midnight at the start of that day in Asia/Shanghai.
//!
//! # Types and meaning
//!
//! | attribute type | accepts |
//! |---|---|
//! | text, enum | `= "…"`, `!= "…"`, `in ("…", …)`, `exists(a)`; enums refuse unknown values |
//! | integer, money | `= != < <= > >=` with an integer (money: or `¥`), `in (1, 2)`, `exists(a)` |
//! | time | `within D` (`now - D <= t <= now`), `before A` (`t < A`), `after A` (`t >= A`), `exists(a)` |
//! | yes/no | bare `a`, `a = true`, `a != false`, `not a` |
//!
//! A customer without a value for an attribute matches no comparison on it (`city != "上海"`
//! skips customers with no city, `not city = "上海"` includes them); a yes/no attribute
//! without a value is false. `not` is the complement within existing customers.
//!
//! # Limits
//!
//! At most [`MAX_EXPR_BYTES`] bytes of text, [`MAX_DEPTH`] levels of `(` and `not`, and
//! [`MAX_TERMS`] conditions (each value of an `in` list counts). The parser never recurses
//! past these limits, so no input can exhaust the stack; each limit has its own error code.

mod ast;
mod builder;
mod error;
mod lexer;
mod parser;
mod resolve;
mod schema;

#[cfg(test)]
mod tests;

pub use ast::{
    Anchor, CmpOp, Duration, DurationUnit, Expr, ExprKind, Ident, Literal, Spanned, TagTarget,
    Value,
};
pub use builder::{BuilderJoin, BuilderMisfit, BuilderRow, BuilderRows, builder_rows};
pub use error::{Location, SegmentError, SegmentErrorKind, Span};
pub use lexer::{is_identifier, is_keyword};
pub use parser::parse;
pub use resolve::{Cond, Resolved, TimeBound, TimePred, resolve, shanghai_midnight};
pub use schema::{AttrType, Schema, SchemaError, TagId};

/// The longest expression accepted, in bytes of UTF-8.
pub const MAX_EXPR_BYTES: usize = 4096;

/// How deeply `(` and `not` may nest.
pub const MAX_DEPTH: usize = 32;

/// How many conditions an expression may have (each value of an `in` list counts).
pub const MAX_TERMS: usize = 256;

/// How deeply `Not` / `And` / `Or` may nest in a [`Resolved`] expression or a hand-built tree.
/// Parsed trees stay below it: each level of parentheses adds at most an `or` and an `and`.
pub const MAX_COND_DEPTH: usize = 4 * MAX_DEPTH;

/// The longest duration accepted in `within` and `… ago`, in days (about 100 years).
pub const MAX_DURATION_DAYS: u32 = 36_600;

/// Parse and type-check `src`; errors carry line and column.
pub fn compile(src: &str, schema: &Schema) -> Result<Resolved, SegmentError> {
    let expr = parse(src)?;
    resolve(&expr, schema).map_err(|e| e.locate(src))
}

impl Schema {
    /// [`compile`] against this schema.
    pub fn compile(&self, src: &str) -> Result<Resolved, SegmentError> {
        compile(src, self)
    }
}
