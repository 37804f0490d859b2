//! Group live codes (群活码, issue #20 item 1): one WeCom join way (`groupchat/add_join_way`,
//! page 99547) whose groups Yutang moves on as they fill, so a poster printed once keeps
//! working.
//!
//! A join way lists at most five groups; WeCom puts a scanner into a listed group that still
//! takes QR joins (under 200 members) and, with `auto_create_room`, opens a new group named
//! after `room_base_name` when every listed one is full. WeCom knows nothing of the brand's
//! own cap (say 150 members for a welfare group), so Yutang re-lists: which groups the way
//! should list is a pure function of the code's groups, their member counts and the cap
//! ([`plan`]), and the app calls `update_join_way` only when the answer changes.
//!
//! When no group is under the cap any more, the code cannot hold the cap by itself (no API
//! creates a customer group): with auto-create it lists the fullest groups, which WeCom fills
//! to its own limit before it opens a new one ([`Fill::Overflow`]); without it the code is
//! [`Fill::Full`] and the console tells the operator to add a group.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::org::parse_label;
use crate::promotions::parse_title;

/// Most groups a join way lists (`chat_id_list`, 99547).
pub const MAX_LISTED: usize = 5;
/// WeCom's member limit of a customer group: 500.
pub const MAX_CAP: i64 = 500;
/// Scanning a group's QR code stops working at 200 members (past that, members must be
/// invited), so 200 is the default cap.
pub const DEFAULT_CAP: i64 = 200;
/// WeCom's limit on `room_base_name` (99547): 40 characters.
pub const MAX_BASE_NAME_CHARS: usize = 40;
/// WeCom's limit on a join way's `state` (99547): 30 characters.
pub const MAX_STATE_CHARS: usize = 30;
/// The highest start number of auto-created rooms Yutang accepts.
pub const MAX_BASE_ID: i64 = 1_000_000;

/// Where the join way is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scene {
    /// A QR code to print or show (scene 2).
    #[default]
    Qr,
    /// A button in the brand's mini-program (scene 1, WeCom's mini-program plugin).
    MiniProgram,
}

impl Scene {
    /// WeCom's `scene`.
    pub fn wecom(self) -> i64 {
        match self {
            Scene::Qr => 2,
            Scene::MiniProgram => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scene::Qr => "qr",
            Scene::MiniProgram => "mini_program",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "qr" => Ok(Scene::Qr),
            "mini_program" => Ok(Scene::MiniProgram),
            other => Err(FieldError::new(
                field,
                "invalid_scene",
                format!("must be qr or mini_program, is {other:?}"),
            )),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_cap() -> i64 {
    DEFAULT_CAP
}

fn one() -> i64 {
    1
}

/// A group live code as operators define it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupCodeSpec {
    pub name: String,
    /// The channel the joins are attributed to (like contact adds through a live code).
    #[serde(default)]
    pub channel_id: Option<i64>,
    /// A store's group code (the store's customers are offered it); none for brand-wide.
    #[serde(default)]
    pub store_id: Option<i64>,
    #[serde(default)]
    pub scene: Scene,
    /// Members (staff included) at which Yutang moves the code on to the next group.
    #[serde(default = "default_cap")]
    pub member_cap: i64,
    /// Let WeCom open a new group when every group is full.
    #[serde(default = "yes")]
    pub auto_create: bool,
    /// Name prefix of the groups WeCom opens (required with `auto_create`).
    #[serde(default)]
    pub room_base_name: String,
    /// Number of the first group WeCom opens (`群名1`, `群名2`…).
    #[serde(default = "one")]
    pub room_base_id: i64,
    /// The code's groups, in the order they are filled (Yutang group ids, 1–5).
    pub group_ids: Vec<i64>,
}

impl GroupCodeSpec {
    /// Check and normalise (trimmed names); every error names its field.
    pub fn parse(mut self) -> Result<Self, FieldError> {
        self.name = parse_title("name", &self.name)?;
        if !(1..=MAX_CAP).contains(&self.member_cap) {
            return Err(FieldError::new(
                "member_cap",
                "invalid_count",
                format!("must be between 1 and {MAX_CAP} (WeCom's group limit)"),
            ));
        }
        self.room_base_name =
            parse_label("room_base_name", &self.room_base_name, MAX_BASE_NAME_CHARS)?;
        if self.auto_create && self.room_base_name.is_empty() {
            return Err(FieldError::new(
                "room_base_name",
                "required",
                "name the groups WeCom opens when every group is full",
            ));
        }
        if !(1..=MAX_BASE_ID).contains(&self.room_base_id) {
            return Err(FieldError::new(
                "room_base_id",
                "invalid_count",
                format!("must be between 1 and {MAX_BASE_ID}"),
            ));
        }
        if self.group_ids.is_empty() {
            return Err(FieldError::new(
                "group_ids",
                "required",
                "choose at least one group",
            ));
        }
        if self.group_ids.len() > MAX_LISTED {
            return Err(FieldError::new(
                "group_ids",
                "too_many_items",
                format!("a join way holds at most {MAX_LISTED} groups"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = self.group_ids.iter().find(|g| !seen.insert(**g)) {
            return Err(FieldError::new(
                "group_ids",
                "duplicate_group",
                format!("group {dup} is listed twice"),
            ));
        }
        Ok(self)
    }
}

/// One group of a code as the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolGroup {
    pub chat_id: String,
    /// Members now (staff included: WeCom's limit counts everyone).
    pub members: i64,
    pub dismissed: bool,
}

/// How full a code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// At least one group is under the cap: the way lists those.
    Open,
    /// Every group reached the cap; WeCom fills the listed ones to its own limit and then
    /// opens a new group.
    Overflow,
    /// Every group reached the cap and WeCom may not open one: add a group.
    Full,
}

impl Fill {
    pub fn as_str(self) -> &'static str {
        match self {
            Fill::Open => "open",
            Fill::Overflow => "overflow",
            Fill::Full => "full",
        }
    }
}

/// Which groups the join way should list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// At most [`MAX_LISTED`] chat ids; empty only when every group is dismissed.
    pub chat_ids: Vec<String>,
    pub fill: Fill,
}

/// The groups to list, in pool order: the first five that are not dismissed and under the
/// cap; when none is, the five fullest live ones (WeCom keeps filling them to its own limit,
/// and with auto-create then opens a new group). Groups are taken in pool order so the
/// operator's first group fills first and a poster's scanners meet the same group until it
/// is full.
pub fn plan(pool: &[PoolGroup], cap: i64, auto_create: bool) -> Plan {
    let open: Vec<String> = pool
        .iter()
        .filter(|g| !g.dismissed && g.members < cap)
        .take(MAX_LISTED)
        .map(|g| g.chat_id.clone())
        .collect();
    if !open.is_empty() {
        return Plan {
            chat_ids: open,
            fill: Fill::Open,
        };
    }
    let mut live: Vec<(usize, &PoolGroup)> = pool
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.dismissed)
        .collect();
    // Fullest first; ties keep pool order.
    live.sort_by(|(ia, a), (ib, b)| b.members.cmp(&a.members).then(ia.cmp(ib)));
    let mut chosen: Vec<(usize, String)> = live
        .into_iter()
        .take(MAX_LISTED)
        .map(|(i, g)| (i, g.chat_id.clone()))
        .collect();
    chosen.sort_by_key(|(i, _)| *i);
    Plan {
        chat_ids: chosen.into_iter().map(|(_, c)| c).collect(),
        fill: if auto_create {
            Fill::Overflow
        } else {
            Fill::Full
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(chat: &str, members: i64) -> PoolGroup {
        PoolGroup {
            chat_id: chat.into(),
            members,
            dismissed: false,
        }
    }

    fn spec() -> GroupCodeSpec {
        GroupCodeSpec {
            name: "门店福利群".into(),
            channel_id: None,
            store_id: None,
            scene: Scene::Qr,
            member_cap: 200,
            auto_create: true,
            room_base_name: "福利群".into(),
            room_base_id: 1,
            group_ids: vec![1, 2],
        }
    }

    #[test]
    fn bad_specs_name_their_field() {
        let cases: Vec<(GroupCodeSpec, &str)> = vec![
            (
                GroupCodeSpec {
                    member_cap: 0,
                    ..spec()
                },
                "member_cap",
            ),
            (
                GroupCodeSpec {
                    member_cap: 501,
                    ..spec()
                },
                "member_cap",
            ),
            (
                GroupCodeSpec {
                    group_ids: vec![],
                    ..spec()
                },
                "group_ids",
            ),
            (
                GroupCodeSpec {
                    group_ids: vec![1, 2, 3, 4, 5, 6],
                    ..spec()
                },
                "group_ids",
            ),
            (
                GroupCodeSpec {
                    group_ids: vec![1, 1],
                    ..spec()
                },
                "group_ids",
            ),
            (
                GroupCodeSpec {
                    room_base_name: String::new(),
                    ..spec()
                },
                "room_base_name",
            ),
            (
                GroupCodeSpec {
                    room_base_name: "群".repeat(41),
                    ..spec()
                },
                "room_base_name",
            ),
            (
                GroupCodeSpec {
                    room_base_id: 0,
                    ..spec()
                },
                "room_base_id",
            ),
            (
                GroupCodeSpec {
                    name: " ".into(),
                    ..spec()
                },
                "name",
            ),
            (
                GroupCodeSpec {
                    name: "a\u{7}b".into(),
                    ..spec()
                },
                "name",
            ),
        ];
        for (s, field) in cases {
            let e = s.clone().parse().expect_err(&format!("{s:?}"));
            assert_eq!(e.field, field, "{s:?}");
        }
        assert!(spec().parse().is_ok());
        // Without auto-create the base name may be empty.
        let s = GroupCodeSpec {
            auto_create: false,
            room_base_name: String::new(),
            ..spec()
        };
        assert!(s.parse().is_ok());
    }

    #[test]
    fn lists_the_groups_under_the_cap_in_pool_order() {
        let pool = [g("a", 200), g("b", 10), g("c", 199), g("d", 0)];
        let p = plan(&pool, 200, true);
        assert_eq!(p.chat_ids, ["b", "c", "d"]);
        assert_eq!(p.fill, Fill::Open);
    }

    #[test]
    fn at_most_five_and_never_a_dismissed_group() {
        let mut pool: Vec<PoolGroup> = (0..8).map(|i| g(&format!("g{i}"), i)).collect();
        pool[1].dismissed = true;
        let p = plan(&pool, 100, false);
        assert_eq!(p.chat_ids, ["g0", "g2", "g3", "g4", "g5"]);
    }

    #[test]
    fn when_every_group_is_at_the_cap_the_fullest_stay_listed() {
        let pool = [g("a", 150), g("b", 199), g("c", 160)];
        let p = plan(&pool, 150, true);
        assert_eq!(p.fill, Fill::Overflow);
        assert_eq!(p.chat_ids, ["a", "b", "c"]);
        let p = plan(&pool, 150, false);
        assert_eq!(p.fill, Fill::Full);
        let many: Vec<PoolGroup> = (0..7).map(|i| g(&format!("g{i}"), 150 + i)).collect();
        let p = plan(&many, 150, true);
        assert_eq!(p.chat_ids, ["g2", "g3", "g4", "g5", "g6"]);
    }

    #[test]
    fn every_group_dismissed_lists_nothing() {
        let mut a = g("a", 3);
        a.dismissed = true;
        let p = plan(&[a], 200, true);
        assert!(p.chat_ids.is_empty());
    }

    proptest! {
        #[test]
        fn plan_rules(
            members in proptest::collection::vec((0i64..600, any::<bool>()), 0..12),
            cap in 1i64..=500,
            auto in any::<bool>(),
        ) {
            let pool: Vec<PoolGroup> = members
                .iter()
                .enumerate()
                .map(|(i, (m, d))| PoolGroup { chat_id: format!("c{i}"), members: *m, dismissed: *d })
                .collect();
            let p = plan(&pool, cap, auto);
            prop_assert!(p.chat_ids.len() <= MAX_LISTED);
            let by_id = |c: &str| pool.iter().find(|g| g.chat_id == c).unwrap();
            // Never a dismissed group, never twice, in pool order.
            let mut last = None;
            for c in &p.chat_ids {
                let pos = pool.iter().position(|g| &g.chat_id == c).unwrap();
                prop_assert!(!by_id(c).dismissed);
                prop_assert!(last.is_none_or(|l| pos > l));
                last = Some(pos);
            }
            let open = pool.iter().filter(|g| !g.dismissed && g.members < cap).count();
            let live = pool.iter().filter(|g| !g.dismissed).count();
            if open > 0 {
                prop_assert_eq!(p.fill, Fill::Open);
                prop_assert_eq!(p.chat_ids.len(), open.min(MAX_LISTED));
                for c in &p.chat_ids {
                    prop_assert!(by_id(c).members < cap);
                }
            } else {
                prop_assert_eq!(p.fill, if auto { Fill::Overflow } else { Fill::Full });
                prop_assert_eq!(p.chat_ids.len(), live.min(MAX_LISTED));
            }
        }
    }
}
