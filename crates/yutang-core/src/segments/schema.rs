//! What an expression may refer to: attributes with their types, and tags by path and id.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::lexer::is_identifier;
use crate::acquisition::ChannelKind;

/// A tag's id (`i64` in storage, like every id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TagId(pub i64);

impl fmt::Display for TagId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The type of a customer attribute, which decides the operators and values it accepts:
///
/// | type | accepts |
/// |---|---|
/// | `Text`, `Enum` | `= "…"`, `!= "…"`, `in ("…", …)`, `exists(a)` |
/// | `Int` | `= != < <= > >=` with an integer, `in (1, 2)`, `exists(a)` |
/// | `Money` | as `Int`, with integers in fen (`12990`) or `¥` amounts (`¥129.90`) |
/// | `Time` | `within 30d`, `before 30d ago`, `before 2026-01-01`, `after …`, `exists(a)` |
/// | `Bool` | bare `a`, `a = true`, `a != false`, `not a` |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "values")]
pub enum AttrType {
    /// Any string (city).
    Text,
    /// One of a closed list of strings (member level); other values are refused.
    Enum(Vec<String>),
    /// An integer (orders in the last 90 days).
    Int,
    /// An integer amount of fen (total spent).
    Money,
    /// An instant, epoch milliseconds UTC (last order).
    Time,
    /// True or false; a customer without a value counts as false.
    Bool,
}

impl AttrType {
    /// How the type is named in error messages.
    pub fn describe(&self) -> &'static str {
        match self {
            AttrType::Text => "a text attribute",
            AttrType::Enum(_) => "an enumerated attribute",
            AttrType::Int => "an integer attribute",
            AttrType::Money => "a money attribute (fen)",
            AttrType::Time => "a time attribute",
            AttrType::Bool => "a yes/no attribute",
        }
    }
}

/// Why a schema refused an attribute or a tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("`{0}` is not a valid attribute name (letters, digits and `_`, not a keyword)")]
    InvalidAttributeName(String),
    #[error("attribute `{0}` is already defined")]
    DuplicateAttribute(String),
    #[error(
        "tag path `{0}` must be `group/name` with a non-empty group without `/` and a non-empty name"
    )]
    InvalidTagPath(String),
    #[error("tag path `{0}` is already defined")]
    DuplicateTagPath(String),
    #[error("tag id {0} is already defined")]
    DuplicateTagId(TagId),
}

/// The attributes and tags an expression can name. Built by the application from the tag
/// tables and the attribute definitions; cheap to clone for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    attrs: BTreeMap<String, AttrType>,
    tags_by_path: HashMap<String, TagId>,
    paths_by_id: BTreeMap<TagId, String>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// The customer attributes the segment issue starts with: `city` (text), `level` (enum:
    /// 普通 / 银卡 / 金卡 / 黑金), `orders_90d`, `order_count` (int), `total_spent_fen` (money),
    /// `last_order`, `first_order`, `birthday` (time) and `in_group` (bool), plus the RFM
    /// window `orders_365d` (int), `spent_365d` (money) and `birth_month` (int, 1–12), and
    /// `unused_coupons` (int: coupons claimed and never used, still valid or expired — the
    /// "claimed but did not use a coupon" behaviour), and the customer's first touch (issue
    /// #19): `channel` (text: the channel's name), `channel_type` (enum: the channel kinds of
    /// [`ChannelKind::ALL`]), `acquired_by` (text: the credited staff member's username, which
    /// is unique and never changes) and `acquired_at` (time: the WeCom add that brought the
    /// customer into the pool), and `invited_by` (text: who invited the customer through a
    /// referral link — `customer:{id}` for a customer, the username for a staff member), and
    /// the membership tier (issue #22): `tier` (text: the current tier's key) and
    /// `tier_since` (time: when the customer reached it), and the paid member card (issue
    /// #22): `card_active` (bool: a card period covers now), `card_expires_at` (time: the end
    /// of the last period bought, not refunded and not over) and `card_savings_fen` (money:
    /// what the current period has saved). No tags.
    pub fn with_customer_attributes() -> Self {
        let mut s = Self::new();
        let attrs: [(&str, AttrType); 23] = [
            ("city", AttrType::Text),
            (
                "level",
                AttrType::Enum(["普通", "银卡", "金卡", "黑金"].map(String::from).to_vec()),
            ),
            ("orders_90d", AttrType::Int),
            ("order_count", AttrType::Int),
            ("total_spent_fen", AttrType::Money),
            ("last_order", AttrType::Time),
            ("first_order", AttrType::Time),
            ("birthday", AttrType::Time),
            ("in_group", AttrType::Bool),
            ("orders_365d", AttrType::Int),
            ("spent_365d", AttrType::Money),
            ("birth_month", AttrType::Int),
            ("unused_coupons", AttrType::Int),
            ("channel", AttrType::Text),
            (
                "channel_type",
                AttrType::Enum(
                    ChannelKind::ALL
                        .iter()
                        .map(|k| k.as_str().to_owned())
                        .collect(),
                ),
            ),
            ("acquired_by", AttrType::Text),
            ("acquired_at", AttrType::Time),
            ("invited_by", AttrType::Text),
            ("tier", AttrType::Text),
            ("tier_since", AttrType::Time),
            ("card_active", AttrType::Bool),
            ("card_expires_at", AttrType::Time),
            ("card_savings_fen", AttrType::Money),
        ];
        for (name, ty) in attrs {
            s.attrs.insert(name.to_owned(), ty);
        }
        s
    }

    /// Define an attribute. The name must be an identifier and not a keyword.
    pub fn add_attr(&mut self, name: &str, ty: AttrType) -> Result<(), SchemaError> {
        if !is_identifier(name) {
            return Err(SchemaError::InvalidAttributeName(name.to_owned()));
        }
        if self.attrs.contains_key(name) {
            return Err(SchemaError::DuplicateAttribute(name.to_owned()));
        }
        self.attrs.insert(name.to_owned(), ty);
        Ok(())
    }

    /// Define a tag reachable as `tag("group/name")` and `tag(id)`. The group must not
    /// contain `/`; the name may.
    pub fn add_tag(&mut self, group: &str, name: &str, id: TagId) -> Result<(), SchemaError> {
        let path = format!("{group}/{name}");
        if group.is_empty() || group.contains('/') || name.is_empty() {
            return Err(SchemaError::InvalidTagPath(path));
        }
        if self.tags_by_path.contains_key(&path) {
            return Err(SchemaError::DuplicateTagPath(path));
        }
        if self.paths_by_id.contains_key(&id) {
            return Err(SchemaError::DuplicateTagId(id));
        }
        self.tags_by_path.insert(path.clone(), id);
        self.paths_by_id.insert(id, path);
        Ok(())
    }

    pub fn attr(&self, name: &str) -> Option<&AttrType> {
        self.attrs.get(name)
    }

    /// All attributes, by name.
    pub fn attrs(&self) -> impl Iterator<Item = (&str, &AttrType)> {
        self.attrs.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn tag_by_path(&self, path: &str) -> Option<TagId> {
        self.tags_by_path.get(path).copied()
    }

    pub fn tag_path(&self, id: TagId) -> Option<&str> {
        self.paths_by_id.get(&id).map(String::as_str)
    }

    /// All tags as `(id, "group/name")`, by id.
    pub fn tags(&self) -> impl Iterator<Item = (TagId, &str)> {
        self.paths_by_id.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Up to `limit` tag paths in `group`, sorted, for "did you mean" hints.
    pub(crate) fn tags_in_group(&self, group: &str, limit: usize) -> Vec<&str> {
        let prefix = format!("{group}/");
        let mut v: Vec<&str> = self
            .tags_by_path
            .keys()
            .filter(|p| p.starts_with(&prefix))
            .map(String::as_str)
            .collect();
        v.sort_unstable();
        v.truncate(limit);
        v
    }

    /// The attribute names closest to `name` (edit distance at most 2), for hints.
    pub(crate) fn similar_attrs(&self, name: &str) -> Vec<&str> {
        let mut v: Vec<(usize, &str)> = self
            .attrs
            .keys()
            .map(|k| (edit_distance(name, k), k.as_str()))
            .filter(|(d, _)| *d <= 2)
            .collect();
        v.sort_unstable();
        v.into_iter().take(3).map(|(_, k)| k).collect()
    }
}

/// Levenshtein distance over characters; inputs are short (limited by `MAX_EXPR_BYTES`).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_touch_attributes_are_built_in() {
        let s = Schema::with_customer_attributes();
        assert_eq!(s.attr("channel"), Some(&AttrType::Text));
        assert_eq!(s.attr("acquired_by"), Some(&AttrType::Text));
        assert_eq!(s.attr("acquired_at"), Some(&AttrType::Time));
        let Some(AttrType::Enum(kinds)) = s.attr("channel_type") else {
            panic!("channel_type is an enum");
        };
        assert_eq!(
            kinds,
            &[
                "store_stand",
                "package_card",
                "official_account",
                "live_stream",
                "ad",
                "event",
                "other"
            ]
        );
        assert!(
            s.compile(r#"channel_type = "store_stand" and acquired_at within 7d"#)
                .is_ok()
        );
        assert!(
            s.compile(r#"channel = "门店台卡" and acquired_by = "g.zhangwei""#)
                .is_ok()
        );
        // A kind that does not exist is refused, not an empty segment.
        assert!(s.compile(r#"channel_type = "门店台卡""#).is_err());
        assert!(s.compile("acquired_by = 17").is_err());
        assert!(s.compile("acquired_at >= 3").is_err());
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("citty", "city"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("城市", "城市"), 0);
    }

    #[test]
    fn refuses_bad_names_and_duplicates() {
        let mut s = Schema::new();
        assert!(s.add_attr("and", AttrType::Int).is_err());
        assert!(s.add_attr("9lives", AttrType::Int).is_err());
        assert!(s.add_attr("孩子生日", AttrType::Time).is_ok());
        assert!(s.add_attr("孩子生日", AttrType::Time).is_err());
        assert!(s.add_tag("a/b", "c", TagId(1)).is_err());
        assert!(s.add_tag("", "c", TagId(1)).is_err());
        assert!(s.add_tag("宝宝月龄", "0-6月", TagId(1)).is_ok());
        assert_eq!(
            s.add_tag("宝宝月龄", "0-6月", TagId(2)),
            Err(SchemaError::DuplicateTagPath("宝宝月龄/0-6月".into()))
        );
        assert_eq!(
            s.add_tag("兴趣", "烘焙", TagId(1)),
            Err(SchemaError::DuplicateTagId(TagId(1)))
        );
        assert_eq!(s.tag_by_path("宝宝月龄/0-6月"), Some(TagId(1)));
        assert_eq!(s.tag_path(TagId(1)), Some("宝宝月龄/0-6月"));
    }
}
