use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::time::Millis;

fn schema() -> Schema {
    let mut s = Schema::with_customer_attributes();
    s.add_tag("宝宝月龄", "0-6月", TagId(1)).unwrap();
    s.add_tag("宝宝月龄", "7-12月", TagId(2)).unwrap();
    s.add_tag("兴趣", "烘焙", TagId(3)).unwrap();
    s.add_tag("兴趣", "户外/露营", TagId(4)).unwrap();
    s.add_attr("孩子生日", AttrType::Time).unwrap();
    s
}

fn err(src: &str) -> SegmentError {
    match compile(src, &schema()) {
        Ok(r) => panic!("expected an error for {src:?}, got {r:?}"),
        Err(e) => e,
    }
}

fn col(e: &SegmentError) -> (u32, u32) {
    let loc = e.location.unwrap();
    (loc.line, loc.column)
}

fn attr(s: &str) -> String {
    s.to_owned()
}

const EXAMPLE: &str = r#"tag("宝宝月龄/0-6月") and city = "上海" and orders_90d >= 2 and not in_group and last_order within 30d"#;

#[test]
fn compiles_the_issue_example() {
    let r = compile(EXAMPLE, &schema()).unwrap();
    assert_eq!(
        r.root(),
        &Cond::And(vec![
            Cond::Tag(TagId(1)),
            Cond::TextIn {
                attr: attr("city"),
                values: vec!["上海".into()]
            },
            Cond::IntRange {
                attr: attr("orders_90d"),
                lo: 2,
                hi: i64::MAX
            },
            Cond::Not(Box::new(Cond::Bool {
                attr: attr("in_group"),
                value: true
            })),
            Cond::Time {
                attr: attr("last_order"),
                pred: TimePred::Within {
                    millis: 30 * 86_400_000
                }
            },
        ])
    );
    assert_eq!(r.tags().into_iter().collect::<Vec<_>>(), vec![TagId(1)]);
    assert_eq!(
        r.attributes().into_iter().collect::<Vec<_>>(),
        vec!["city", "in_group", "last_order", "orders_90d"]
    );
    assert!(r.depends_on_now());
    // The example is already canonical.
    assert_eq!(parse(EXAMPLE).unwrap().to_string(), EXAMPLE);
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let e = parse("not a and b or c").unwrap().without_spans();
    let flag = |n: &str| Expr::bare(ExprKind::Flag(Spanned::bare(n.to_owned())));
    assert_eq!(
        e,
        Expr::bare(ExprKind::Or(vec![
            Expr::bare(ExprKind::And(vec![
                Expr::bare(ExprKind::Not(Box::new(flag("a")))),
                flag("b")
            ])),
            flag("c"),
        ]))
    );
}

#[test]
fn prints_canonical_form() {
    let cases = [
        (
            r#"( city="上海" )and(orders_90d>=2)"#,
            r#"city = "上海" and orders_90d >= 2"#,
        ),
        ("a and (b and c)", "a and (b and c)"),
        ("(a and b) and c", "(a and b) and c"),
        ("a or b and c", "a or b and c"),
        ("(a or b) and c", "(a or b) and c"),
        ("not (a or b)", "not (a or b)"),
        ("not not a", "not not a"),
        ("((a))", "a"),
        ("total_spent_fen>=¥129.9", "total_spent_fen >= ¥129.90"),
        ("total_spent_fen>=￥500.00", "total_spent_fen >= ¥500"),
        ("x < -¥0.05", "x < -¥0.05"),
        ("last_order before 90d ago", "last_order before 90d ago"),
        (
            "first_order   after\t2026-01-01",
            "first_order after 2026-01-01",
        ),
        ("city in(\"上海\",\"北京\")", "city in (\"上海\", \"北京\")"),
        ("tag( 42 )", "tag(42)"),
        ("exists( birthday )", "exists(birthday)"),
        ("in_group = false", "in_group = false"),
        ("x = 007", "x = 7"),
        ("x = \"a\\u{7}\\\"\\\\\"", "x = \"a\\u{7}\\\"\\\\\""),
        ("city\u{3000}=\u{3000}\"上海\"", "city = \"上海\""),
    ];
    for (src, want) in cases {
        assert_eq!(parse(src).unwrap().to_string(), want, "for {src:?}");
    }
}

#[test]
fn extreme_numbers_round_trip() {
    for src in [
        "x = -9223372036854775808",
        "x = 9223372036854775807",
        "x = -¥92233720368547758.08",
        "x = ¥92233720368547758.07",
        "x within 4294967295w",
    ] {
        let e = parse(src).unwrap();
        assert_eq!(e.to_string(), src);
    }
    assert_eq!(
        err("orders_90d = 9223372036854775808").kind,
        SegmentErrorKind::InvalidNumber
    );
    assert_eq!(
        err("total_spent_fen = ¥92233720368547758.08").kind,
        SegmentErrorKind::InvalidMoney
    );
    assert_eq!(
        err("last_order within 4294967296d").kind,
        SegmentErrorKind::InvalidDuration
    );
}

#[test]
fn resolves_every_operator() {
    let s = schema();
    let c = |src: &str| compile(src, &s).unwrap().into_root();
    assert_eq!(
        c("orders_90d < 3"),
        Cond::IntRange {
            attr: attr("orders_90d"),
            lo: i64::MIN,
            hi: 2
        }
    );
    assert_eq!(
        c("orders_90d > 3"),
        Cond::IntRange {
            attr: attr("orders_90d"),
            lo: 4,
            hi: i64::MAX
        }
    );
    assert_eq!(
        c("orders_90d <= 3"),
        Cond::IntRange {
            attr: attr("orders_90d"),
            lo: i64::MIN,
            hi: 3
        }
    );
    assert_eq!(
        c("orders_90d < -9223372036854775808"),
        Cond::IntRange {
            attr: attr("orders_90d"),
            lo: 1,
            hi: 0
        }
    );
    assert_eq!(
        c("orders_90d > 9223372036854775807"),
        Cond::IntRange {
            attr: attr("orders_90d"),
            lo: 1,
            hi: 0
        }
    );
    assert_eq!(
        c("order_count != 0"),
        Cond::IntNotIn {
            attr: attr("order_count"),
            values: vec![0]
        }
    );
    assert_eq!(
        c("order_count in (1, 2)"),
        Cond::IntIn {
            attr: attr("order_count"),
            values: vec![1, 2]
        }
    );
    assert_eq!(
        c("total_spent_fen >= ¥500"),
        Cond::IntRange {
            attr: attr("total_spent_fen"),
            lo: 50_000,
            hi: i64::MAX
        }
    );
    assert_eq!(
        c("total_spent_fen = 12990"),
        Cond::IntIn {
            attr: attr("total_spent_fen"),
            values: vec![12_990]
        }
    );
    assert_eq!(
        c("level != \"黑金\""),
        Cond::TextNotIn {
            attr: attr("level"),
            values: vec!["黑金".into()]
        }
    );
    assert_eq!(
        c("in_group != true"),
        Cond::Bool {
            attr: attr("in_group"),
            value: false
        }
    );
    assert_eq!(c("tag(4)"), Cond::Tag(TagId(4)));
    assert_eq!(c("tag(\"兴趣/户外/露营\")"), Cond::Tag(TagId(4)));
    assert_eq!(c("exists(city)"), Cond::Exists { attr: attr("city") });
    assert_eq!(
        c("孩子生日 before 2026-01-01"),
        Cond::Time {
            attr: attr("孩子生日"),
            pred: TimePred::Before(TimeBound::At(Millis(1_767_196_800_000)))
        }
    );
    assert_eq!(
        c("last_order after 12h ago"),
        Cond::Time {
            attr: attr("last_order"),
            pred: TimePred::After(TimeBound::Ago {
                millis: 12 * 3_600_000
            })
        }
    );
    assert!(
        !compile("last_order after 2026-01-01", &s)
            .unwrap()
            .depends_on_now()
    );
}

#[test]
fn time_predicates_have_exact_bounds() {
    let now = Millis(1_000_000);
    assert_eq!(
        TimePred::Within { millis: 10 }.bounds(now),
        Some((999_990, 1_000_000))
    );
    assert_eq!(
        TimePred::Before(TimeBound::Ago { millis: 10 }).bounds(now),
        Some((i64::MIN, 999_989))
    );
    assert_eq!(
        TimePred::After(TimeBound::Ago { millis: 10 }).bounds(now),
        Some((999_990, i64::MAX))
    );
    assert_eq!(
        TimePred::Before(TimeBound::At(Millis(i64::MIN))).bounds(now),
        None
    );
    assert_eq!(
        TimePred::Within { millis: 10 }.bounds(Millis(i64::MIN)),
        Some((i64::MIN, i64::MIN))
    );
    // Shanghai midnight, including the 1986–1991 daylight-saving years.
    let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    assert_eq!(shanghai_midnight(d), Some(Millis(1_767_196_800_000)));
    let dst = NaiveDate::from_ymd_opt(1988, 7, 1).unwrap();
    assert!(shanghai_midnight(dst).is_some());
}

#[test]
fn errors_point_at_the_offending_text() {
    let e = err("city >= 3");
    assert_eq!(e.kind, SegmentErrorKind::TypeMismatch);
    assert_eq!(e.code(), "segment_type_mismatch");
    assert_eq!(col(&e), (1, 6));
    assert_eq!(e.found, ">=");
    assert!(e.message.contains("`=`, `!=` or `in (…)`"), "{}", e.message);

    let e = err(r#"city = "上海" and tag("宝宝月龄/0-7月")"#);
    assert_eq!(e.kind, SegmentErrorKind::UnknownTag);
    assert_eq!(col(&e), (1, 17));
    assert_eq!(e.found, r#"tag("宝宝月龄/0-7月")"#);
    assert!(e.message.contains("宝宝月龄/0-6月"), "{}", e.message);
    assert_eq!(e.to_string(), format!("line 1, column 17: {}", e.message));

    let e = err("tag(99)");
    assert_eq!((e.kind, col(&e)), (SegmentErrorKind::UnknownTag, (1, 1)));
    let e = err(r#"tag("烘焙")"#);
    assert!(e.message.contains("group/name"), "{}", e.message);

    let e = err("orders_90d >= 2 and\n  citty = \"上海\"");
    assert_eq!(e.kind, SegmentErrorKind::UnknownAttribute);
    assert_eq!(col(&e), (2, 3));
    assert_eq!(e.found, "citty");
    assert!(e.message.contains("did you mean `city`"), "{}", e.message);

    let e = err(r#"city = "上海"#);
    assert_eq!(
        (e.kind, col(&e)),
        (SegmentErrorKind::UnterminatedString, (1, 8))
    );

    let e = err("city = 上海");
    assert_eq!((e.kind, col(&e)), (SegmentErrorKind::Syntax, (1, 8)));
    assert!(e.message.contains("\"上海\""), "{}", e.message);

    let e = err("orders_90d >= 2 and");
    assert_eq!((e.kind, col(&e)), (SegmentErrorKind::Syntax, (1, 20)));
    assert!(e.message.contains("ends too early"), "{}", e.message);

    let e = err("(in_group and city = \"a\"");
    assert_eq!((e.kind, col(&e)), (SegmentErrorKind::Syntax, (1, 25)));
    assert!(e.message.contains("line 1, column 1"), "{}", e.message);

    let e = err("in_group)");
    assert_eq!((e.kind, col(&e)), (SegmentErrorKind::Syntax, (1, 9)));

    let e = err("in_group in_group");
    assert!(e.message.contains("expected an operator"), "{}", e.message);
    let e = err("in_group AND in_group");
    assert!(e.message.contains("lower case"), "{}", e.message);
    let e = err("in_group and city \"上海\"");
    assert!(
        e.message.contains("expected an operator after `city`"),
        "{}",
        e.message
    );

    let e = err("city （= \"上海\"");
    assert_eq!(
        (e.kind, col(&e)),
        (SegmentErrorKind::InvalidCharacter, (1, 6))
    );
    assert!(e.message.contains("`(`"), "{}", e.message);
    let e = err("city = “上海”");
    assert_eq!(e.kind, SegmentErrorKind::InvalidCharacter);

    for (src, kind) in [
        ("city == \"a\"", SegmentErrorKind::Syntax),
        ("in_group && in_group", SegmentErrorKind::Syntax),
        ("!in_group", SegmentErrorKind::Syntax),
        ("x <> 1", SegmentErrorKind::Syntax),
        ("city = 'a'", SegmentErrorKind::InvalidCharacter),
        ("city = \"a\\q\"", SegmentErrorKind::InvalidEscape),
        ("city = \"\\u{110000}\"", SegmentErrorKind::InvalidEscape),
        ("orders_90d >= 2.5", SegmentErrorKind::InvalidNumber),
        ("total_spent_fen >= ¥1.234", SegmentErrorKind::InvalidMoney),
        ("total_spent_fen >= ¥", SegmentErrorKind::InvalidMoney),
        ("last_order within 30x", SegmentErrorKind::InvalidDuration),
        ("last_order within -3d", SegmentErrorKind::InvalidDuration),
        (
            "last_order within 40000d",
            SegmentErrorKind::InvalidDuration,
        ),
        (
            "last_order before 2026-02-30",
            SegmentErrorKind::InvalidDate,
        ),
        ("last_order before 2026-1-1", SegmentErrorKind::InvalidDate),
        ("last_order after 0000-01-01", SegmentErrorKind::InvalidDate),
        ("last_order after 1899-12-31", SegmentErrorKind::InvalidDate),
        (
            "last_order before 2100-01-01",
            SegmentErrorKind::InvalidDate,
        ),
        (
            "last_order before 2026-01-01T10",
            SegmentErrorKind::InvalidDate,
        ),
        ("last_order before 30d", SegmentErrorKind::Syntax),
        ("last_order within 2026-01-01", SegmentErrorKind::Syntax),
        ("last_order >= 30d", SegmentErrorKind::Syntax),
        ("city in ()", SegmentErrorKind::Syntax),
        ("tag()", SegmentErrorKind::Syntax),
        ("", SegmentErrorKind::Empty),
        ("  \n ", SegmentErrorKind::Empty),
        ("level = \"钻石\"", SegmentErrorKind::UnknownValue),
        ("in_group = 3", SegmentErrorKind::TypeMismatch),
        ("city", SegmentErrorKind::TypeMismatch),
        ("last_order >= 3", SegmentErrorKind::TypeMismatch),
        ("orders_90d within 30d", SegmentErrorKind::TypeMismatch),
        ("exists(in_group)", SegmentErrorKind::TypeMismatch),
        ("orders_90d >= ¥5", SegmentErrorKind::TypeMismatch),
        ("orders_90d = \"2\"", SegmentErrorKind::TypeMismatch),
        ("city in (\"a\", 3)", SegmentErrorKind::TypeMismatch),
        ("in_group in (true)", SegmentErrorKind::TypeMismatch),
        ("in_group < true", SegmentErrorKind::TypeMismatch),
        ("nope", SegmentErrorKind::UnknownAttribute),
    ] {
        let e = err(src);
        assert_eq!(e.kind, kind, "for {src:?}: {e}");
        assert!(e.location.is_some());
    }
}

#[test]
fn limits_have_their_own_errors() {
    let long = format!("city = \"{}\"", "上".repeat(2000));
    let e = err(&long);
    assert_eq!(e.kind, SegmentErrorKind::TooLong);
    assert!(e.message.contains("4096"), "{}", e.message);

    let deep = format!("{}in_group", "not ".repeat(MAX_DEPTH + 1));
    let e = err(&deep);
    assert_eq!(
        (e.kind, col(&e)),
        (SegmentErrorKind::TooDeep, (1, 4 * MAX_DEPTH as u32 + 1))
    );
    let ok = format!("{}in_group", "not ".repeat(MAX_DEPTH));
    compile(&ok, &schema()).unwrap();

    let parens = format!(
        "{}in_group{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(err(&parens).kind, SegmentErrorKind::TooDeep);
    // Far deeper than the stack would allow: refused, not overflowed.
    let very_deep = "(".repeat(4000);
    assert_eq!(err(&very_deep).kind, SegmentErrorKind::TooDeep);
    let nots = "not ".repeat(1000);
    assert_eq!(err(&nots).kind, SegmentErrorKind::TooDeep);

    let many = vec!["in_group"; MAX_TERMS + 1].join(" or ");
    let e = err(&many);
    assert_eq!(e.kind, SegmentErrorKind::TooManyTerms);
    let list = format!(
        "order_count in ({})",
        (0..=MAX_TERMS)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(err(&list).kind, SegmentErrorKind::TooManyTerms);
}

#[test]
fn hand_built_trees_are_checked_without_recursion() {
    let mut e = Expr::bare(ExprKind::Flag(Spanned::bare("in_group".into())));
    for _ in 0..10_000 {
        e = Expr::bare(ExprKind::Not(Box::new(e)));
    }
    assert_eq!(
        resolve(&e, &schema()).unwrap_err().kind,
        SegmentErrorKind::TooDeep
    );
    // Dropping the tree iteratively is the caller's business; unwind it here to keep the
    // test's stack small.
    while let ExprKind::Not(inner) = e.kind {
        e = *inner;
    }

    let mut c = Cond::Tag(TagId(1));
    for _ in 0..(MAX_COND_DEPTH + 1) {
        c = Cond::Not(Box::new(c));
    }
    assert_eq!(
        Resolved::from_cond(c).unwrap_err().kind,
        SegmentErrorKind::TooDeep
    );
    let wide = Cond::Or(vec![Cond::Tag(TagId(1)); MAX_TERMS + 1]);
    assert_eq!(
        Resolved::from_cond(wide).unwrap_err().kind,
        SegmentErrorKind::TooManyTerms
    );
    let empty_and = Expr::bare(ExprKind::And(vec![]));
    assert_eq!(
        resolve(&empty_and, &schema()).unwrap_err().kind,
        SegmentErrorKind::Syntax
    );
    // A resolve error on a hand-built tree has no location but still names the text.
    let bad = Expr::bare(ExprKind::Flag(Spanned::bare("nope".into())));
    let e = resolve(&bad, &schema()).unwrap_err();
    assert_eq!((e.location, e.found.as_str()), (None, "nope"));
    assert_eq!(e.to_string(), format!("at byte 0: {}", e.message));
}

#[test]
fn locations_count_characters_and_lines() {
    assert_eq!(Location::of("上海", 3), Location { line: 1, column: 2 });
    assert_eq!(Location::of("a\nbc", 3), Location { line: 2, column: 2 });
    assert_eq!(Location::of("上海", 2), Location { line: 1, column: 1 });
    assert_eq!(Location::of("ab", 99), Location { line: 1, column: 3 });
}

// ---------------------------------------------------------------------------------------
// Property tests

fn arb_ident() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_][a-z0-9_]{0,8}",
        1 => "[城市孩子生日会员等级]{1,4}[0-9_]{0,2}",
    ]
    .prop_filter("keywords are not identifiers", |s| is_identifier(s))
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z上海北京/\"\\\\ ]{0,8}",
        any::<String>().prop_map(|s| s.chars().take(8).collect()),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_string().prop_map(Value::Str),
        any::<i64>().prop_map(Value::Int),
        (-1000i64..1000).prop_map(Value::Int),
        any::<i64>().prop_map(Value::Yuan),
        any::<bool>().prop_map(Value::Bool),
    ]
}

fn arb_duration() -> impl Strategy<Value = Duration> {
    (
        prop_oneof![any::<u32>(), 0u32..100],
        prop_oneof![
            Just(DurationUnit::Hours),
            Just(DurationUnit::Days),
            Just(DurationUnit::Weeks)
        ],
    )
        .prop_map(|(amount, unit)| Duration::new(amount, unit))
}

fn arb_anchor() -> impl Strategy<Value = Anchor> {
    let first = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let days = (last - first).num_days();
    prop_oneof![
        arb_duration().prop_map(Anchor::Ago),
        (0..=days).prop_map(move |d| Anchor::Date(first + chrono::Duration::days(d))),
    ]
}

fn arb_cmp() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge)
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        arb_string().prop_map(|p| ExprKind::Tag(Spanned::bare(TagTarget::Path(p)))),
        any::<i64>().prop_map(|i| ExprKind::Tag(Spanned::bare(TagTarget::Id(i)))),
        arb_ident().prop_map(|a| ExprKind::Exists(Spanned::bare(a))),
        arb_ident().prop_map(|a| ExprKind::Flag(Spanned::bare(a))),
        (arb_ident(), arb_cmp(), arb_value()).prop_map(|(a, op, v)| ExprKind::Compare {
            attr: Spanned::bare(a),
            op: Spanned::bare(op),
            value: Spanned::bare(v)
        }),
        (arb_ident(), prop::collection::vec(arb_value(), 1..4)).prop_map(|(a, vs)| {
            ExprKind::In {
                attr: Spanned::bare(a),
                values: vs.into_iter().map(Spanned::bare).collect(),
            }
        }),
        (arb_ident(), arb_duration()).prop_map(|(a, d)| ExprKind::Within {
            attr: Spanned::bare(a),
            duration: Spanned::bare(d)
        }),
        (arb_ident(), arb_anchor()).prop_map(|(a, x)| ExprKind::Before {
            attr: Spanned::bare(a),
            anchor: Spanned::bare(x)
        }),
        (arb_ident(), arb_anchor()).prop_map(|(a, x)| ExprKind::After {
            attr: Spanned::bare(a),
            anchor: Spanned::bare(x)
        }),
    ]
    .prop_map(Expr::bare)
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|xs| Expr::bare(ExprKind::Or(xs))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|xs| Expr::bare(ExprKind::And(xs))),
            inner.prop_map(|x| Expr::bare(ExprKind::Not(Box::new(x)))),
        ]
    })
}

/// Fragments that make token soups more likely to get deep into the parser.
const FRAGMENTS: &[&str] = &[
    "and",
    "or",
    "not",
    "(",
    ")",
    "tag",
    "(\"宝宝月龄/0-6月\")",
    "tag(3)",
    "city",
    "=",
    "!=",
    "<",
    ">=",
    "\"上海\"",
    "orders_90d",
    "2",
    "-5",
    "¥129.90",
    "in",
    "(\"a\",\"b\")",
    ",",
    "within",
    "30d",
    "12h",
    "before",
    "after",
    "ago",
    "2026-01-01",
    "last_order",
    "in_group",
    "true",
    "false",
    "exists",
    "(city)",
    "level",
    "\"黑金\"",
    "\"",
    "\\",
    "（",
    "2026-13-01",
    "99999999999999999999",
    "9d9",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(FRAGMENTS), prop::bool::ANY), 0..24).prop_map(
        |parts| {
            let mut s = String::new();
            for (frag, space) in parts {
                s.push_str(frag);
                if space {
                    s.push(' ');
                }
            }
            s
        },
    )
}

fn check_error_is_located(src: &str, e: &SegmentError) {
    assert!(
        e.span.start <= src.len() && e.span.start <= e.span.end,
        "{e:?}"
    );
    let loc = e.location.expect("parse and compile errors are located");
    assert!(loc.line >= 1 && loc.column >= 1);
    assert!(!e.message.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back_to_themselves(e in arb_expr()) {
        let text = e.to_string();
        prop_assume!(text.len() <= MAX_EXPR_BYTES);
        let back = parse(&text).map_err(|err| TestCaseError::fail(format!("{text:?}: {err}")))?;
        prop_assert_eq!(back.without_spans(), e.without_spans());
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        match compile(&src, &schema()) {
            Ok(_) => {}
            Err(e) => check_error_is_located(&src, &e),
        }
    }

    #[test]
    fn token_soup_never_panics_and_reprints_stably(src in token_soup()) {
        match parse(&src) {
            Ok(e) => {
                let printed = e.to_string();
                let again = parse(&printed).map_err(|err| TestCaseError::fail(format!("{printed:?}: {err}")))?;
                prop_assert_eq!(again.without_spans(), e.without_spans());
                // Spans point into the source.
                prop_assert!(e.span.end <= src.len());
                if let Err(err) = compile(&src, &schema()) {
                    check_error_is_located(&src, &err);
                }
            }
            Err(err) => check_error_is_located(&src, &err),
        }
    }

    #[test]
    fn resolved_trees_stay_within_limits(e in arb_expr()) {
        // Whatever resolve accepts, from_cond accepts too.
        if let Ok(r) = resolve(&e, &schema()) {
            prop_assert!(Resolved::from_cond(r.into_root()).is_ok());
        }
    }
}
