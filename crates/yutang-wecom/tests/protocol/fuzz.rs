//! A proptest-driven fuzz run of the event parser: a fixed number of generated documents,
//! from well-formed WeCom events with hostile values to broken XML and random text. The
//! parser must never panic, must refuse nothing but malformed input or missing/invalid
//! fields, and must give every accepted document a dedup key.
//!
//! The count is fixed ([`FUZZ_CASES`], overridable with `YUTANG_WECOM_FUZZ_CASES` for longer
//! runs) and printed, so a CI log shows how much was fuzzed:
//! `cargo test -p yutang-wecom --test protocol fuzz -- --nocapture`.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use yutang_wecom::{CallbackEvent, EventError, EventKind};

/// Cases per run. About a second in a debug build.
pub const FUZZ_CASES: u32 = 20_000;

const EVENTS: &[&str] = &[
    "change_external_contact",
    "change_external_chat",
    "change_external_tag",
    "change_contact",
    "",
];
const CHANGE_TYPES: &[&str] = &[
    "add_external_contact",
    "add_half_external_contact",
    "edit_external_contact",
    "del_external_contact",
    "del_follow_user",
    "transfer_fail",
    "create",
    "update",
    "dismiss",
    "delete",
    "shuffle",
    "",
];
const FIELDS: &[&str] = &[
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Event",
    "ChangeType",
    "UserID",
    "ExternalUserID",
    "State",
    "WelcomeCode",
    "Source",
    "FailReason",
    "ChatId",
    "UpdateDetail",
    "JoinScene",
    "QuitScene",
    "MemChangeCnt",
    "MemChangeList",
    "LastMemVer",
    "CurMemVer",
    "Id",
    "TagType",
    "StrategyId",
    "Item",
];

/// Field values: ordinary, numeric, empty, markup-ish and random.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9_]{0,12}",
        2 => "-?[0-9]{1,20}",
        1 => Just(String::new()),
        1 => prop::sample::select(vec![
            "&amp;", "&lt;", "&#x4e2d;", "&bogus;", "]]>", "<![CDATA[", "<", ">", "\"", "&",
            "add_member", "tag_group", "中文", "\u{0}", "\u{feff}",
        ]).prop_map(str::to_owned),
        2 => ".{0,16}",
    ]
}

/// One field, written in one of the ways WeCom (or an attacker) might.
fn field() -> impl Strategy<Value = String> {
    (prop::sample::select(FIELDS), value(), 0u8..5).prop_map(|(name, value, style)| match style {
        0 => format!("<{name}><![CDATA[{value}]]></{name}>"),
        1 => format!("<{name}>{value}</{name}>"),
        2 => format!("<{name}/>"),
        3 => format!("<{name}><Item>{value}</Item><Item><![CDATA[{value}]]></Item></{name}>"),
        _ => format!("<{name} a=\"{value}\">{value}</{name}>"),
    })
}

/// A document close to a real callback: common fields, Event, ChangeType, usually the
/// identifiers known events need, then random fields in random order.
fn event_like() -> impl Strategy<Value = String> {
    (
        prop::sample::select(EVENTS),
        prop::sample::select(CHANGE_TYPES),
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.8),
        "[0-9]{1,10}",
        prop::collection::vec(field(), 0..8),
        prop::sample::select(vec!["\n", "", " \t"]),
    )
        .prop_map(|(event, change, common, ids, time, fields, ws)| {
            let mut doc = String::from("<xml>");
            if common {
                doc.push_str(&format!(
                    "{ws}<ToUserName><![CDATA[wwcorp]]></ToUserName>{ws}<FromUserName>sys</FromUserName>\
                     {ws}<CreateTime>{time}</CreateTime>{ws}<MsgType>event</MsgType>"
                ));
            }
            doc.push_str(&format!(
                "{ws}<Event><![CDATA[{event}]]></Event>{ws}<ChangeType>{change}</ChangeType>"
            ));
            if ids {
                doc.push_str(&format!(
                    "{ws}<UserID>u</UserID><ExternalUserID>wm1</ExternalUserID><ChatId>wr1</ChatId>\
                     <Id>et1</Id><UpdateDetail>add_member</UpdateDetail>"
                ));
            }
            for f in fields {
                doc.push_str(ws);
                doc.push_str(&f);
            }
            doc.push_str(ws);
            doc.push_str("</xml>");
            doc
        })
}

/// A valid document mangled at one position: cut, byte inserted, or span duplicated.
fn mangled() -> impl Strategy<Value = String> {
    (event_like(), any::<prop::sample::Index>(), 0u8..3, ".{0,4}").prop_map(
        |(doc, at, how, junk)| {
            let mut cut = at.index(doc.len() + 1);
            while !doc.is_char_boundary(cut) {
                cut -= 1;
            }
            let (head, tail) = doc.split_at(cut);
            match how {
                0 => head.to_owned(),
                1 => format!("{head}{junk}{tail}"),
                _ => format!("{head}{head}{tail}"),
            }
        },
    )
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => event_like(),
        3 => mangled(),
        1 => ".{0,200}",
        1 => prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn cases() -> u32 {
    std::env::var("YUTANG_WECOM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FUZZ_CASES)
}

#[test]
fn fuzz_event_parser() {
    let cases = cases();
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed: the same documents every run, so a failure reproduces. Longer or
    // different runs can change the count through the environment variable.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[0x5e; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);

    let ran = AtomicU64::new(0);
    let parsed = AtomicU64::new(0);
    let known = AtomicU64::new(0);
    runner
        .run(&document(), |doc| {
            ran.fetch_add(1, Ordering::Relaxed);
            match CallbackEvent::parse(&doc) {
                Ok(event) => {
                    parsed.fetch_add(1, Ordering::Relaxed);
                    let key = event.dedup_key();
                    prop_assert!(key.starts_with("v1:") && key.len() == 43);
                    // Parsing is deterministic, dedup key included.
                    prop_assert_eq!(CallbackEvent::parse(&doc).unwrap(), event.clone());
                    if !matches!(event.kind, EventKind::Unknown { .. }) {
                        known.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(EventError::Malformed(_))
                | Err(EventError::MissingField(_))
                | Err(EventError::InvalidField { .. }) => {}
            }
            Ok(())
        })
        .unwrap();

    let ran = ran.into_inner();
    let parsed = parsed.into_inner();
    let known = known.into_inner();
    println!(
        "fuzz_event_parser: {ran} cases (configured {cases}), {parsed} parsed, {known} as typed events"
    );
    assert_eq!(ran, u64::from(cases), "every configured case ran");
    // The generator must reach the interesting paths, not only the error paths.
    assert!(
        parsed > u64::from(cases) / 20,
        "only {parsed} documents parsed"
    );
    assert!(known > u64::from(cases) / 50, "only {known} typed events");
}
