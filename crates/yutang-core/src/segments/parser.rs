//! Recursive-descent parser. Recursion depth is bounded by [`MAX_DEPTH`]: every `(` and every
//! `not` counts one level, and the parser refuses to go deeper before it recurses.

use super::ast::{Anchor, Expr, ExprKind, Ident, Literal, Spanned, TagTarget, Value};
use super::error::{Location, SegmentError, SegmentErrorKind as K, Span};
use super::lexer::{Keyword, Tok, Token, lex};
use super::{MAX_DEPTH, MAX_EXPR_BYTES, MAX_TERMS};

/// Parse an expression into its syntax tree. Errors carry their line and column.
pub fn parse(src: &str) -> Result<Expr, SegmentError> {
    parse_unlocated(src).map_err(|e| e.locate(src))
}

fn parse_unlocated(src: &str) -> Result<Expr, SegmentError> {
    if src.len() > MAX_EXPR_BYTES {
        let mut end = MAX_EXPR_BYTES;
        while end > 0 && !src.is_char_boundary(end) {
            end -= 1;
        }
        return Err(SegmentError::new(
            K::TooLong,
            Span::new(end, src.len()),
            format!(
                "expression is {} bytes long; the limit is {MAX_EXPR_BYTES}",
                src.len()
            ),
        )
        .with_found(""));
    }
    if src.trim().is_empty() {
        return Err(SegmentError::new(
            K::Empty,
            Span::new(0, src.len()),
            "the expression is empty; write a condition such as tag(\"兴趣/烘焙\")",
        ));
    }
    let tokens = lex(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        depth: 0,
        terms: 0,
    };
    let e = p.parse_or()?;
    let t = p.peek();
    match &t.tok {
        Tok::Eof => Ok(e),
        Tok::RParen => Err(p.error_at(K::Syntax, "this `)` has no matching `(`")),
        _ => {
            let msg = format!("expected `and` or `or` before {}", describe(&t.tok));
            Err(p.error_at(K::Syntax, msg))
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    terms: usize,
}

/// How a token is named in messages.
fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(name) => format!("attribute `{name}`"),
        Tok::Kw(k) => format!("`{}`", k.as_str()),
        Tok::Str(_) => "a string".to_owned(),
        Tok::Int(i) => format!("the number {i}"),
        Tok::Yuan(_) => "an amount".to_owned(),
        Tok::Duration(d) => format!("the duration {d}"),
        Tok::Date(_) => "a date".to_owned(),
        Tok::LParen => "`(`".to_owned(),
        Tok::RParen => "`)`".to_owned(),
        Tok::Comma => "`,`".to_owned(),
        Tok::Cmp(op) => format!("`{op}`"),
        Tok::Eof => "the end of the expression".to_owned(),
    }
}

const OPERATORS: &str = "=, !=, <, <=, >, >=, in, within, before or after";

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `pos` never moves past it.
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.tok, Tok::Eof) {
            self.pos += 1;
        }
        t
    }

    fn at_kw(&self, k: Keyword) -> bool {
        self.peek().tok == Tok::Kw(k)
    }

    fn error_at(
        &self,
        kind: super::error::SegmentErrorKind,
        msg: impl Into<String>,
    ) -> SegmentError {
        SegmentError::new(kind, self.peek().span, msg)
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<Token, SegmentError> {
        if self.peek().tok == want {
            return Ok(self.bump());
        }
        let msg = format!("expected {what}, found {}", describe(&self.peek().tok));
        Err(self.error_at(K::Syntax, msg))
    }

    fn enter(&mut self, span: Span) -> Result<(), SegmentError> {
        if self.depth >= MAX_DEPTH {
            return Err(SegmentError::new(
                K::TooDeep,
                span,
                format!("parentheses and `not` are nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn count_terms(&mut self, n: usize, span: Span) -> Result<(), SegmentError> {
        self.terms = self.terms.saturating_add(n);
        if self.terms > MAX_TERMS {
            return Err(SegmentError::new(
                K::TooManyTerms,
                span,
                format!("the expression has more than {MAX_TERMS} conditions"),
            ));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Expr, SegmentError> {
        let first = self.parse_and()?;
        if !self.at_kw(Keyword::Or) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at_kw(Keyword::Or) {
            self.bump();
            items.push(self.parse_and()?);
        }
        Ok(Self::chain(items, ExprKind::Or))
    }

    fn parse_and(&mut self) -> Result<Expr, SegmentError> {
        let first = self.parse_unary()?;
        if !self.at_kw(Keyword::And) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at_kw(Keyword::And) {
            self.bump();
            items.push(self.parse_unary()?);
        }
        Ok(Self::chain(items, ExprKind::And))
    }

    fn chain(items: Vec<Expr>, make: fn(Vec<Expr>) -> ExprKind) -> Expr {
        let span = match (items.first(), items.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => Span::default(),
        };
        Expr::new(make(items), span)
    }

    fn parse_unary(&mut self) -> Result<Expr, SegmentError> {
        if self.at_kw(Keyword::Not) {
            let not = self.bump();
            self.enter(not.span)?;
            let inner = self.parse_unary()?;
            self.depth -= 1;
            let span = not.span.to(inner.span);
            return Ok(Expr::new(ExprKind::Not(Box::new(inner)), span));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Expr, SegmentError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::LParen => {
                self.bump();
                self.enter(t.span)?;
                let mut inner = self.parse_or()?;
                if self.peek().tok != Tok::RParen {
                    let open = Location::of(self.src, t.span.start);
                    let msg = format!(
                        "expected `)` to close the `(` at line {}, column {}, or `and` / `or`; found {}",
                        open.line,
                        open.column,
                        describe(&self.peek().tok)
                    );
                    return Err(self.error_at(K::Syntax, msg));
                }
                let close = self.bump();
                self.depth -= 1;
                inner.span = t.span.to(close.span);
                Ok(inner)
            }
            Tok::Kw(Keyword::Tag) => {
                self.bump();
                self.expect(Tok::LParen, "`(` after `tag`")?;
                let arg = self.bump();
                let target = match arg.tok {
                    Tok::Str(path) => TagTarget::Path(path),
                    Tok::Int(id) => TagTarget::Id(id),
                    other => {
                        return Err(SegmentError::new(
                            K::Syntax,
                            arg.span,
                            format!(
                                "expected a tag path such as tag(\"宝宝月龄/0-6月\") or a tag id such as tag(42), found {}",
                                describe(&other)
                            ),
                        ));
                    }
                };
                let close = self.expect(Tok::RParen, "`)` after the tag")?;
                self.count_terms(1, t.span)?;
                let span = t.span.to(close.span);
                Ok(Expr::new(ExprKind::Tag(Spanned::new(target, span)), span))
            }
            Tok::Kw(Keyword::Exists) => {
                self.bump();
                self.expect(Tok::LParen, "`(` after `exists`")?;
                let attr = self.ident("an attribute name inside exists(…)")?;
                let close = self.expect(Tok::RParen, "`)` after the attribute")?;
                self.count_terms(1, t.span)?;
                Ok(Expr::new(ExprKind::Exists(attr), t.span.to(close.span)))
            }
            Tok::Ident(name) => {
                self.bump();
                let attr = Spanned::new(name, t.span);
                self.predicate(attr)
            }
            Tok::Eof => Err(self.error_at(
                K::Syntax,
                "the expression ends too early; expected a condition",
            )),
            Tok::Str(_) | Tok::Int(_) | Tok::Yuan(_) | Tok::Duration(_) | Tok::Date(_) => {
                let msg = format!(
                    "expected a condition, found {}; a value must follow an attribute and an operator, e.g. city = \"上海\"",
                    describe(&t.tok)
                );
                Err(self.error_at(K::Syntax, msg))
            }
            other => {
                let msg = format!(
                    "expected a condition (tag(…), an attribute, `not` or `(`), found {}",
                    describe(&other)
                );
                Err(self.error_at(K::Syntax, msg))
            }
        }
    }

    fn ident(&mut self, what: &str) -> Result<Ident, SegmentError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Ident(name) => {
                self.bump();
                Ok(Spanned::new(name, t.span))
            }
            other => {
                let msg = format!("expected {what}, found {}", describe(&other));
                Err(self.error_at(K::Syntax, msg))
            }
        }
    }

    /// After an attribute name.
    fn predicate(&mut self, attr: Ident) -> Result<Expr, SegmentError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Cmp(op) => {
                self.bump();
                let value = self.literal(&attr)?;
                self.count_terms(1, attr.span)?;
                let span = attr.span.to(value.span);
                Ok(Expr::new(
                    ExprKind::Compare {
                        attr,
                        op: Spanned::new(op, t.span),
                        value,
                    },
                    span,
                ))
            }
            Tok::Kw(Keyword::In) => {
                self.bump();
                self.expect(Tok::LParen, "`(` after `in`")?;
                let mut values = vec![self.literal(&attr)?];
                while self.peek().tok == Tok::Comma {
                    self.bump();
                    values.push(self.literal(&attr)?);
                }
                let close = self.expect(Tok::RParen, "`,` or `)` in the `in` list")?;
                self.count_terms(values.len(), attr.span)?;
                let span = attr.span.to(close.span);
                Ok(Expr::new(ExprKind::In { attr, values }, span))
            }
            Tok::Kw(Keyword::Within) => {
                self.bump();
                let d = self.bump();
                let Tok::Duration(duration) = d.tok else {
                    return Err(SegmentError::new(
                        K::Syntax,
                        d.span,
                        format!(
                            "expected a duration after `within`, e.g. within 30d; found {}",
                            describe(&d.tok)
                        ),
                    ));
                };
                self.count_terms(1, attr.span)?;
                let span = attr.span.to(d.span);
                Ok(Expr::new(
                    ExprKind::Within {
                        attr,
                        duration: Spanned::new(duration, d.span),
                    },
                    span,
                ))
            }
            Tok::Kw(k @ (Keyword::Before | Keyword::After)) => {
                self.bump();
                let anchor = self.anchor(k)?;
                self.count_terms(1, attr.span)?;
                let span = attr.span.to(anchor.span);
                let kind = if k == Keyword::Before {
                    ExprKind::Before { attr, anchor }
                } else {
                    ExprKind::After { attr, anchor }
                };
                Ok(Expr::new(kind, span))
            }
            Tok::Kw(Keyword::And | Keyword::Or) | Tok::RParen | Tok::Eof => {
                self.count_terms(1, attr.span)?;
                let span = attr.span;
                Ok(Expr::new(ExprKind::Flag(attr), span))
            }
            other => {
                let hint = match &other {
                    Tok::Ident(w)
                        if Keyword::ALL
                            .iter()
                            .any(|k| k.as_str().eq_ignore_ascii_case(w)) =>
                    {
                        " (keywords are written in lower case)"
                    }
                    _ => "",
                };
                let msg = format!(
                    "expected an operator after `{}` ({OPERATORS}), found {}{hint}",
                    attr.value,
                    describe(&other)
                );
                Err(self.error_at(K::Syntax, msg))
            }
        }
    }

    fn literal(&mut self, attr: &Ident) -> Result<Literal, SegmentError> {
        let t = self.peek().clone();
        let value = match t.tok {
            Tok::Str(s) => Value::Str(s),
            Tok::Int(i) => Value::Int(i),
            Tok::Yuan(fen) => Value::Yuan(fen),
            Tok::Kw(Keyword::True) => Value::Bool(true),
            Tok::Kw(Keyword::False) => Value::Bool(false),
            Tok::Duration(_) | Tok::Date(_) => {
                let msg = format!(
                    "{} cannot be compared with an operator; write `{} within 30d`, `{} before 30d ago` or `{} after 2026-01-01`",
                    describe(&t.tok),
                    attr.value,
                    attr.value,
                    attr.value
                );
                return Err(self.error_at(K::Syntax, msg));
            }
            Tok::Ident(name) => {
                let msg = format!(
                    "expected a value, found attribute `{name}`; strings are quoted: \"{name}\""
                );
                return Err(self.error_at(K::Syntax, msg));
            }
            other => {
                let msg = format!(
                    "expected a value (a \"string\", a number, a ¥ amount, true or false), found {}",
                    describe(&other)
                );
                return Err(self.error_at(K::Syntax, msg));
            }
        };
        self.bump();
        Ok(Spanned::new(value, t.span))
    }

    /// After `before` / `after`: `30d ago` or `2026-01-01`.
    fn anchor(&mut self, k: Keyword) -> Result<Spanned<Anchor>, SegmentError> {
        let t = self.bump();
        match t.tok {
            Tok::Duration(d) => {
                if !self.at_kw(Keyword::Ago) {
                    let msg = format!(
                        "expected `ago` after {d}: `{} {d} ago` means {d} before now",
                        k.as_str()
                    );
                    return Err(self.error_at(K::Syntax, msg));
                }
                let ago = self.bump();
                Ok(Spanned::new(Anchor::Ago(d), t.span.to(ago.span)))
            }
            Tok::Date(date) => Ok(Spanned::new(Anchor::Date(date), t.span)),
            other => Err(SegmentError::new(
                K::Syntax,
                t.span,
                format!(
                    "expected a date such as 2026-01-01 or a time ago such as 30d ago after `{}`, found {}",
                    k.as_str(),
                    describe(&other)
                ),
            )),
        }
    }
}
