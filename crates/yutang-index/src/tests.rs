use proptest::prelude::*;
use roaring::RoaringBitmap;
use yutang_core::segments::{
    AttrType, Cond, Resolved, Schema, TagId, TimeBound, TimePred, compile,
};
use yutang_core::time::Millis;

use crate::reference::Population;
use crate::{AttrKind, AttrValue, IndexBuilder, IndexError, Row, SegmentIndex};

const DAY: i64 = 86_400_000;
const NOW: Millis = Millis(1_767_196_800_000); // 2026-01-01 00:00 Asia/Shanghai

fn schema() -> Schema {
    let mut s = Schema::with_customer_attributes();
    s.add_tag("宝宝月龄", "0-6月", TagId(1)).unwrap();
    s.add_tag("宝宝月龄", "7-12月", TagId(2)).unwrap();
    s.add_tag("兴趣", "烘焙", TagId(3)).unwrap();
    s
}

fn ids(b: &RoaringBitmap) -> Vec<u32> {
    b.iter().collect()
}

/// id, tags, city, orders_90d, days since last order, in_group.
type SmallRow = (u32, &'static [i64], &'static str, i64, i64, bool);

/// Five customers of a small brand.
fn small() -> SegmentIndex {
    let mut ix = SegmentIndex::from_schema(&schema());
    let rows: [SmallRow; 5] = [
        (0, &[1], "上海", 3, 5, false),
        (1, &[1, 3], "上海", 1, 40, false),
        (2, &[2], "北京", 2, 10, true),
        (3, &[1], "上海", 2, 29, true),
        (4, &[], "杭州", 0, 400, false),
    ];
    for (id, tags, city, orders, days_ago, in_group) in rows {
        for t in tags {
            ix.set_tag(id, TagId(*t));
        }
        ix.set_attr(id, "city", AttrValue::Text(city)).unwrap();
        ix.set_attr(id, "orders_90d", AttrValue::Int(orders))
            .unwrap();
        ix.set_attr(
            id,
            "last_order",
            AttrValue::Time(Millis(NOW.0 - days_ago * DAY)),
        )
        .unwrap();
        ix.set_attr(id, "in_group", AttrValue::Bool(in_group))
            .unwrap();
    }
    ix.add_customer(5); // no data at all
    ix
}

fn eval(ix: &SegmentIndex, src: &str) -> Vec<u32> {
    let r = compile(src, &schema()).unwrap();
    ids(&ix.evaluate(&r, NOW))
}

#[test]
fn evaluates_the_issue_example() {
    let ix = small();
    let src = r#"tag("宝宝月龄/0-6月") and city = "上海" and orders_90d >= 2 and not in_group and last_order within 30d"#;
    assert_eq!(eval(&ix, src), vec![0]);
    let r = compile(src, &schema()).unwrap();
    assert_eq!(ix.count(&r, NOW), 1);
    // Thirty days later, customer 0's last order is 35 days old.
    assert_eq!(ix.count(&r, Millis(NOW.0 + 30 * DAY)), 0);
}

#[test]
fn missing_values_match_no_comparison() {
    let ix = small();
    assert_eq!(eval(&ix, r#"city != "上海""#), vec![2, 4]);
    assert_eq!(eval(&ix, r#"not city = "上海""#), vec![2, 4, 5]);
    assert_eq!(eval(&ix, "not in_group"), vec![0, 1, 4, 5]);
    assert_eq!(eval(&ix, "in_group = false"), vec![0, 1, 4, 5]);
    assert_eq!(eval(&ix, "exists(last_order)"), vec![0, 1, 2, 3, 4]);
    assert_eq!(eval(&ix, "last_order before 30d ago"), vec![1, 4]);
    assert_eq!(eval(&ix, "last_order after 30d ago"), vec![0, 2, 3]);
    assert_eq!(eval(&ix, "orders_90d != 2"), vec![0, 1, 4]);
    assert_eq!(eval(&ix, "orders_90d in (0, 3)"), vec![0, 4]);
    assert_eq!(eval(&ix, "last_order after 2025-12-01"), vec![0, 2, 3]);
}

#[test]
fn updates_change_answers() {
    let mut ix = small();
    let r = compile(r#"tag("兴趣/烘焙") or city = "杭州""#, &schema()).unwrap();
    assert_eq!(ids(&ix.evaluate(&r, NOW)), vec![1, 4]);
    ix.clear_tag(1, TagId(3));
    ix.set_attr(2, "city", AttrValue::Text("杭州")).unwrap();
    assert_eq!(ids(&ix.evaluate(&r, NOW)), vec![2, 4]);
    ix.remove_customer(4);
    assert_eq!(ids(&ix.evaluate(&r, NOW)), vec![2]);
    assert!(!ix.contains_customer(4));
    assert_eq!(ix.clear_attr(2, "city"), Ok(true));
    assert!(ix.evaluate(&r, NOW).is_empty());
    ix.tag_many(TagId(3), &[0, 9].into_iter().collect());
    assert_eq!(ids(&ix.evaluate(&r, NOW)), vec![0, 9]);
    assert!(ix.contains_customer(9));
    ix.untag_many(TagId(3), &[0].into_iter().collect());
    assert_eq!(ids(&ix.evaluate(&r, NOW)), vec![9]);
    assert!(ix.drop_tag(TagId(3)).is_some());
    assert!(ix.tag_members(TagId(3)).is_none());
}

#[test]
fn scope_limits_results() {
    let ix = small();
    let r = compile(r#"city = "上海""#, &schema()).unwrap();
    let scope: RoaringBitmap = [1, 2, 3, 42].into_iter().collect();
    assert_eq!(ids(&ix.evaluate_within(&r, NOW, &scope)), vec![1, 3]);
    let not = compile(r#"not city = "上海""#, &schema()).unwrap();
    // A scope id that is not a customer is never returned.
    assert_eq!(ids(&ix.evaluate_within(&not, NOW, &scope)), vec![2]);
}

#[test]
fn refuses_unknown_and_mistyped_attributes() {
    let mut ix = small();
    assert_eq!(
        ix.set_attr(0, "nope", AttrValue::Int(1)),
        Err(IndexError::UnknownAttribute("nope".into()))
    );
    assert_eq!(
        ix.set_attr(0, "city", AttrValue::Int(1)),
        Err(IndexError::WrongKind {
            attr: "city".into(),
            expected: AttrKind::Text,
            found: AttrKind::Int
        })
    );
    assert!(ix.define_attr("city", AttrKind::Text).is_ok());
    assert!(ix.define_attr("city", AttrKind::Bool).is_err());
    assert!(ix.define_attr("vip_until", AttrKind::Time).is_ok());
    assert_eq!(ix.attr_kind("vip_until"), Some(AttrKind::Time));
}

#[test]
fn builder_matches_incremental_updates() {
    let s = schema();
    let mut b = IndexBuilder::from_schema(&s);
    let inc = small();
    // Rows in a scrambled order, with an overwritten value.
    b.add_row(&Row {
        id: 4,
        tags: &[],
        attrs: &[
            ("city", AttrValue::Text("北京")),
            ("orders_90d", AttrValue::Int(0)),
            ("last_order", AttrValue::Time(Millis(NOW.0 - 400 * DAY))),
            ("in_group", AttrValue::Bool(true)),
        ],
    })
    .unwrap();
    for (id, tags, city, orders, days_ago, in_group) in [
        (3u32, vec![1], "上海", 2, 29, true),
        (0, vec![1], "上海", 3, 5, false),
        (2, vec![2], "北京", 2, 10, true),
        (1, vec![1, 3], "上海", 1, 40, false),
        (4, vec![], "杭州", 0, 400, false),
    ] {
        let tags: Vec<TagId> = tags.into_iter().map(TagId).collect();
        b.add_row(&Row {
            id,
            tags: &tags,
            attrs: &[
                ("city", AttrValue::Text(city)),
                ("orders_90d", AttrValue::Int(orders)),
                (
                    "last_order",
                    AttrValue::Time(Millis(NOW.0 - days_ago * DAY)),
                ),
                ("in_group", AttrValue::Bool(in_group)),
            ],
        })
        .unwrap();
    }
    b.add_customer(5);
    let built = b.build();
    for src in [
        r#"city = "上海""#,
        r#"city = "北京""#,
        "in_group",
        "orders_90d >= 1",
        "last_order within 30d",
        "tag(1) or tag(3)",
    ] {
        assert_eq!(eval(&built, src), eval(&inc, src), "{src}");
    }
    assert_eq!(built.customer_count(), 6);
    assert!(
        IndexBuilder::new()
            .add_attr(0, "city", AttrValue::Text("x"))
            .is_err()
    );
}

#[test]
fn memory_counts_every_bitmap() {
    let empty = SegmentIndex::from_schema(&schema());
    let ix = small();
    let m = ix.memory();
    assert!(m.tags > 0 && m.text > 0 && m.numeric > 0 && m.time > 0 && m.bool > 0);
    assert_eq!(ix.memory_bytes(), m.total());
    assert!(ix.memory_bytes() > empty.memory_bytes());
}

// ---------------------------------------------------------------------------------------
// Property test: the index agrees with the reference scan, through updates.

const TEXT_VALUES: [&str; 3] = ["上海", "北京", "杭州"];
const TIME_OFFSETS: [i64; 9] = [
    0,
    1,
    -1,
    DAY,
    -DAY,
    30 * DAY,
    30 * DAY + 1,
    31 * DAY,
    400 * DAY,
];

fn prop_schema() -> Schema {
    let mut s = Schema::new();
    s.add_attr("city", AttrType::Text).unwrap();
    s.add_attr("n", AttrType::Int).unwrap();
    s.add_attr("t", AttrType::Time).unwrap();
    s.add_attr("g", AttrType::Bool).unwrap();
    s
}

fn arb_id() -> impl Strategy<Value = u32> {
    prop_oneof![
        8 => 0u32..24,
        1 => Just(65_535u32),
        1 => Just(65_536u32),
        1 => Just(u32::MAX),
    ]
}

fn arb_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => -4i64..6,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => Just(1i64 << 40),
        1 => any::<i64>(),
    ]
}

fn arb_time() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => prop::sample::select(&TIME_OFFSETS[..]).prop_map(|o| NOW.0 - o),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
}

fn arb_text() -> impl Strategy<Value = String> {
    prop::sample::select(&TEXT_VALUES[..]).prop_map(String::from)
}

#[derive(Debug, Clone)]
enum Op {
    Add(u32),
    Remove(u32),
    SetTag(u32, i64),
    ClearTag(u32, i64),
    TagMany(i64, Vec<u32>),
    UntagMany(i64, Vec<u32>),
    DropTag(i64),
    SetText(u32, String),
    SetInt(u32, i64),
    SetTime(u32, i64),
    SetBool(u32, bool),
    Clear(u32, &'static str),
    /// Deliberately wrong: an integer into the text column.
    Mistyped(u32),
}

fn arb_op() -> impl Strategy<Value = Op> {
    let tag = 0i64..5;
    prop_oneof![
        1 => arb_id().prop_map(Op::Add),
        1 => arb_id().prop_map(Op::Remove),
        4 => (arb_id(), tag.clone()).prop_map(|(i, t)| Op::SetTag(i, t)),
        2 => (arb_id(), tag.clone()).prop_map(|(i, t)| Op::ClearTag(i, t)),
        1 => (tag.clone(), prop::collection::vec(arb_id(), 0..5)).prop_map(|(t, v)| Op::TagMany(t, v)),
        1 => (tag.clone(), prop::collection::vec(arb_id(), 0..5)).prop_map(|(t, v)| Op::UntagMany(t, v)),
        1 => tag.prop_map(Op::DropTag),
        3 => (arb_id(), arb_text()).prop_map(|(i, v)| Op::SetText(i, v)),
        3 => (arb_id(), arb_int()).prop_map(|(i, v)| Op::SetInt(i, v)),
        3 => (arb_id(), arb_time()).prop_map(|(i, v)| Op::SetTime(i, v)),
        2 => (arb_id(), any::<bool>()).prop_map(|(i, v)| Op::SetBool(i, v)),
        2 => (arb_id(), prop::sample::select(vec!["city", "n", "t", "g", "nope"])).prop_map(|(i, a)| Op::Clear(i, a)),
        1 => arb_id().prop_map(Op::Mistyped),
    ]
}

fn apply(ix: &mut SegmentIndex, pop: &mut Population, op: &Op) {
    match op {
        Op::Add(i) => assert_eq!(ix.add_customer(*i), pop.add_customer(*i)),
        Op::Remove(i) => assert_eq!(ix.remove_customer(*i), pop.remove_customer(*i)),
        Op::SetTag(i, t) => assert_eq!(ix.set_tag(*i, TagId(*t)), pop.set_tag(*i, TagId(*t))),
        Op::ClearTag(i, t) => assert_eq!(ix.clear_tag(*i, TagId(*t)), pop.clear_tag(*i, TagId(*t))),
        Op::TagMany(t, v) => {
            let b: RoaringBitmap = v.iter().copied().collect();
            ix.tag_many(TagId(*t), &b);
            pop.tag_many(TagId(*t), &b);
        }
        Op::UntagMany(t, v) => {
            let b: RoaringBitmap = v.iter().copied().collect();
            ix.untag_many(TagId(*t), &b);
            pop.untag_many(TagId(*t), &b);
        }
        Op::DropTag(t) => {
            ix.drop_tag(TagId(*t));
            pop.drop_tag(TagId(*t));
        }
        Op::SetText(i, v) => set(ix, pop, *i, "city", AttrValue::Text(v)),
        Op::SetInt(i, v) => set(ix, pop, *i, "n", AttrValue::Int(*v)),
        Op::SetTime(i, v) => set(ix, pop, *i, "t", AttrValue::Time(Millis(*v))),
        Op::SetBool(i, v) => set(ix, pop, *i, "g", AttrValue::Bool(*v)),
        Op::Clear(i, a) => assert_eq!(ix.clear_attr(*i, a), pop.clear_attr(*i, a)),
        Op::Mistyped(i) => set(ix, pop, *i, "city", AttrValue::Int(1)),
    }
}

fn set(ix: &mut SegmentIndex, pop: &mut Population, id: u32, attr: &str, v: AttrValue<'_>) {
    assert_eq!(ix.set_attr(id, attr, v), pop.set_attr(id, attr, v));
}

fn arb_time_bound() -> impl Strategy<Value = TimeBound> {
    prop_oneof![
        arb_time().prop_map(|t| TimeBound::At(Millis(t))),
        prop::sample::select(&TIME_OFFSETS[..]).prop_map(|o| TimeBound::Ago { millis: o.max(0) }),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Cond> {
    let attr = |a: &str| a.to_owned();
    prop_oneof![
        4 => (0i64..6).prop_map(|t| Cond::Tag(TagId(t))),
        2 => prop::collection::vec(arb_text(), 0..3).prop_map(move |values| Cond::TextIn { attr: attr("city"), values }),
        1 => prop::collection::vec(arb_text(), 0..3).prop_map(move |values| Cond::TextNotIn { attr: attr("city"), values }),
        3 => (arb_int(), arb_int()).prop_map(move |(lo, hi)| Cond::IntRange { attr: attr("n"), lo, hi }),
        1 => prop::collection::vec(arb_int(), 0..3).prop_map(move |values| Cond::IntIn { attr: attr("n"), values }),
        1 => prop::collection::vec(arb_int(), 0..3).prop_map(move |values| Cond::IntNotIn { attr: attr("n"), values }),
        1 => prop::sample::select(&TIME_OFFSETS[..]).prop_map(move |o| Cond::Time { attr: attr("t"), pred: TimePred::Within { millis: o.max(0) } }),
        1 => arb_time_bound().prop_map(move |b| Cond::Time { attr: attr("t"), pred: TimePred::Before(b) }),
        1 => arb_time_bound().prop_map(move |b| Cond::Time { attr: attr("t"), pred: TimePred::After(b) }),
        2 => any::<bool>().prop_map(move |value| Cond::Bool { attr: attr("g"), value }),
        1 => prop::sample::select(vec!["city", "n", "t", "g", "nope"]).prop_map(|a| Cond::Exists { attr: a.to_owned() }),
        // Conditions on the wrong kind of column, or on no column: empty (or everyone for `= false`).
        1 => (arb_int(), arb_int()).prop_map(move |(lo, hi)| Cond::IntRange { attr: attr("t"), lo, hi }),
        1 => any::<bool>().prop_map(move |value| Cond::Bool { attr: attr("city"), value }),
        1 => prop::collection::vec(arb_text(), 1..2).prop_map(move |values| Cond::TextIn { attr: attr("nope"), values }),
    ]
}

fn arb_cond() -> impl Strategy<Value = Cond> {
    arb_leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Cond::And),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Cond::Or),
            inner.prop_map(|c| Cond::Not(Box::new(c))),
        ]
    })
}

fn check(ix: &SegmentIndex, pop: &Population, conds: &[Cond], scope: &RoaringBitmap, now: Millis) {
    assert_eq!(ix.customer_count(), pop.len() as u64);
    for c in conds {
        let r = Resolved::from_cond(c.clone()).unwrap();
        let want = pop.evaluate(&r, now);
        let got = ix.evaluate(&r, now);
        assert_eq!(ids(&got), ids(&want), "for {c:?}");
        assert_eq!(ix.count(&r, now), want.len());
        assert!(got.is_subset(ix.alive()));
        assert_eq!(
            ids(&ix.evaluate_within(&r, now, scope)),
            ids(&(&want & scope)),
            "scoped, for {c:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn index_agrees_with_the_reference_through_updates(
        load in prop::collection::vec(arb_op(), 0..30),
        batches in prop::collection::vec(
            (prop::collection::vec(arb_op(), 0..12), prop::collection::vec(arb_cond(), 1..4)),
            1..5,
        ),
        use_builder in any::<bool>(),
        dense_from in prop::option::of(prop::sample::select(vec![1u64, 2, 3, 5, 8])),
        scope in prop::collection::vec(arb_id(), 0..10),
        now_shift in prop::sample::select(vec![0i64, 1, DAY, -DAY]),
    ) {
        let s = prop_schema();
        let mut pop = Population::from_schema(&s);
        let mut ix = SegmentIndex::from_schema(&s);
        for op in &load {
            apply(&mut ix, &mut pop, op);
        }
        if use_builder {
            // Rebuild from the reference's rows, and the result must equal the incremental one
            // in what it answers.
            let mut b = IndexBuilder::from_schema(&s);
            for (id, c) in pop.customers() {
                b.add_customer(id);
                for t in &c.tags {
                    b.add_tag(id, *t);
                }
                for (k, v) in &c.attrs {
                    let v = match v {
                        crate::reference::Value::Text(x) => AttrValue::Text(x),
                        crate::reference::Value::Int(x) => AttrValue::Int(*x),
                        crate::reference::Value::Time(x) => AttrValue::Time(*x),
                        crate::reference::Value::Bool(x) => AttrValue::Bool(*x),
                    };
                    b.add_attr(id, k, v).unwrap();
                }
            }
            ix = b.build();
        }
        // Word copies for the sets of at least `dense_from` customers (dense and sparse sets
        // mixed), kept in step by the updates that follow.
        if let Some(n) = dense_from {
            ix.refresh_dense_from(n);
        }
        let scope: RoaringBitmap = scope.into_iter().collect();
        let now = Millis(NOW.0 + now_shift);
        for (ops, conds) in &batches {
            for op in ops {
                apply(&mut ix, &mut pop, op);
            }
            check(&ix, &pop, conds, &scope, now);
        }
    }

    #[test]
    fn compiled_expressions_agree_with_the_reference(
        load in prop::collection::vec(arb_op(), 0..40),
        picks in prop::collection::vec(0usize..EXPRESSIONS.len(), 1..4),
    ) {
        let s = prop_schema_with_tags();
        let mut pop = Population::from_schema(&s);
        let mut ix = SegmentIndex::from_schema(&s);
        for op in &load {
            apply(&mut ix, &mut pop, op);
        }
        for i in picks {
            let src = EXPRESSIONS[i];
            let r = compile(src, &s).map_err(|e| TestCaseError::fail(format!("{src}: {e}")))?;
            prop_assert_eq!(ids(&ix.evaluate(&r, NOW)), ids(&pop.evaluate(&r, NOW)), "{}", src);
        }
    }
}

fn prop_schema_with_tags() -> Schema {
    let mut s = prop_schema();
    for t in 0..5 {
        s.add_tag("g", &format!("t{t}"), TagId(t)).unwrap();
    }
    s
}

const EXPRESSIONS: &[&str] = &[
    r#"tag("g/t1") and city = "上海" and n >= 2 and not g and t within 30d"#,
    r#"(tag(0) or tag(2)) and city in ("北京", "杭州") and n < 3"#,
    r#"not (tag(1) and tag(2)) and t before 30d ago"#,
    r#"city != "上海" or n != 0 or g = false"#,
    r#"exists(t) and not exists(n) and t after 2025-12-01"#,
    r#"n in (-1, 0, 1) and (t within 1d or t before 2025-01-01)"#,
    r#"not tag(3) and not tag(4) and not city = "杭州" and n <= 5"#,
];

/// The planner runs a `not` of stored sets right after the stored sets only when it leaves at
/// most half of everyone and a stored set starts the `and`; every branch must still answer
/// exactly what the reference does. Twenty customers: tag 0 on 16 of them (its complement is
/// small), tag 1 on 10, tag 3 on 2 (its complement is large).
#[test]
fn not_of_stored_sets_is_planned_early_only_when_it_narrows() {
    let s = prop_schema_with_tags();
    let mut pop = Population::from_schema(&s);
    let mut ix = SegmentIndex::from_schema(&s);
    for id in 0..20u32 {
        let mut ops = vec![Op::Add(id), Op::SetInt(id, i64::from(id % 5))];
        if id % 5 != 0 {
            ops.push(Op::SetTag(id, 0));
        }
        if id % 2 == 0 {
            ops.push(Op::SetTag(id, 1));
        }
        if id < 2 {
            ops.push(Op::SetTag(id, 3));
        }
        ops.push(Op::SetTime(id, NOW.0 - i64::from(id) * DAY));
        for op in &ops {
            apply(&mut ix, &mut pop, op);
        }
    }
    for src in [
        // Early: tag 1 starts, `not tag(0)` leaves 4 of 20.
        r#"tag(1) and not tag(0) and n >= 0 and t within 15d"#,
        r#"tag(1) and not (tag(0) or tag(2)) and n <= 3"#,
        // Late: nothing stored to start from.
        r#"not tag(0) and n >= 0"#,
        // Late: `not tag(3)` leaves 18 of 20.
        r#"tag(1) and not tag(3) and n >= 1"#,
        r#"tag(1) and not tag(0) and not tag(3) and t before 2d ago"#,
    ] {
        let r = compile(src, &s).unwrap();
        let want = ids(&pop.evaluate(&r, NOW));
        assert!(!want.is_empty(), "{src} matches someone");
        assert_eq!(ids(&ix.evaluate(&r, NOW)), want, "{src}");
    }
}

/// Ops on the stored sets the word path reads (tags, a text column, a yes/no column) and
/// removals, over few ids in two pages (so sets overlap a lot and a page boundary is crossed).
fn arb_set_op() -> impl Strategy<Value = Op> {
    let id = prop_oneof![4 => 0u32..10, 1 => 65_534u32..65_538];
    let tag = 0i64..3;
    prop_oneof![
        1 => id.clone().prop_map(Op::Remove),
        6 => (id.clone(), tag.clone()).prop_map(|(i, t)| Op::SetTag(i, t)),
        3 => (id.clone(), tag.clone()).prop_map(|(i, t)| Op::ClearTag(i, t)),
        1 => (tag.clone(), prop::collection::vec(id.clone(), 0..8)).prop_map(|(t, v)| Op::TagMany(t, v)),
        1 => (tag.clone(), prop::collection::vec(id.clone(), 0..8)).prop_map(|(t, v)| Op::UntagMany(t, v)),
        1 => tag.prop_map(Op::DropTag),
        3 => (id.clone(), arb_text()).prop_map(|(i, v)| Op::SetText(i, v)),
        3 => (id.clone(), any::<bool>()).prop_map(|(i, v)| Op::SetBool(i, v)),
        2 => (id.clone(), -2i64..3).prop_map(|(i, v)| Op::SetInt(i, v)),
        1 => (id, prop::sample::select(vec!["city", "g"])).prop_map(|(i, a)| Op::Clear(i, a)),
    ]
}

/// The conditions an `and` over stored sets is made of: what the word path takes (tags,
/// text `in`, `g`, `or`s of them, `not`s of them) and what it leaves to roaring.
fn arb_set_leaf() -> impl Strategy<Value = Cond> {
    let tag = || (0i64..4).prop_map(|t| Cond::Tag(TagId(t)));
    let text = || {
        prop::collection::vec(arb_text(), 0..3).prop_map(|values| Cond::TextIn {
            attr: "city".to_owned(),
            values,
        })
    };
    let stored = || {
        prop_oneof![
            4 => tag(),
            2 => text(),
            2 => Just(Cond::Bool { attr: "g".to_owned(), value: true }),
            1 => prop::collection::vec(tag(), 0..3).prop_map(Cond::Or),
        ]
    };
    prop_oneof![
        6 => stored(),
        3 => stored().prop_map(|c| Cond::Not(Box::new(c))),
        1 => Just(Cond::Bool { attr: "g".to_owned(), value: false }),
        1 => (-2i64..3).prop_map(|lo| Cond::IntRange { attr: "n".to_owned(), lo, hi: i64::MAX }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `and`s that open with stored sets, answered in words where the sets have copies,
    /// through updates after the copies were made, equal the reference.
    #[test]
    fn dense_openings_agree_with_the_reference_through_updates(
        load in prop::collection::vec(arb_set_op(), 0..60),
        dense_from in prop::sample::select(vec![1u64, 2, 3, 5, 8]),
        batches in prop::collection::vec(
            (
                prop::collection::vec(arb_set_op(), 0..10),
                prop::collection::vec(prop::collection::vec(arb_set_leaf(), 2..5), 1..6),
            ),
            1..4,
        ),
    ) {
        let s = prop_schema();
        let mut pop = Population::from_schema(&s);
        let mut ix = SegmentIndex::from_schema(&s);
        for op in &load {
            apply(&mut ix, &mut pop, op);
        }
        ix.refresh_dense_from(dense_from);
        for (ops, ands) in &batches {
            for op in ops {
                apply(&mut ix, &mut pop, op);
            }
            let conds: Vec<Cond> = ands.iter().cloned().map(Cond::And).collect();
            check(&ix, &pop, &conds, &RoaringBitmap::new(), NOW);
        }
    }
}
