//! Channels (渠道): a named source of new customers — a store stand, a package card, an
//! official-account article, a live stream, an ad, an event — with an owner, a store or
//! region, dates, and what happens to each customer it brings (tags, a welcome, a reward).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::welcome::Welcome;
use crate::error::FieldError;
use crate::promotions::parse_title;

/// Most tags a channel applies to each customer it brings.
pub const MAX_CHANNEL_TAGS: usize = 20;

/// What kind of source a channel is (the channel statistics group by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// 门店台卡
    StoreStand,
    /// 包裹卡
    PackageCard,
    /// 公众号文章
    OfficialAccount,
    /// 直播
    LiveStream,
    /// 广告投放
    Ad,
    /// 线下活动
    Event,
    /// 其他
    Other,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 7] = [
        ChannelKind::StoreStand,
        ChannelKind::PackageCard,
        ChannelKind::OfficialAccount,
        ChannelKind::LiveStream,
        ChannelKind::Ad,
        ChannelKind::Event,
        ChannelKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::StoreStand => "store_stand",
            ChannelKind::PackageCard => "package_card",
            ChannelKind::OfficialAccount => "official_account",
            ChannelKind::LiveStream => "live_stream",
            ChannelKind::Ad => "ad",
            ChannelKind::Event => "event",
            ChannelKind::Other => "other",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_channel_kind",
                    "kind is store_stand, package_card, official_account, live_stream, ad, \
                     event or other",
                )
            })
    }
}

/// A channel as an operator defines it. `parse` checks every field; the store checks that the
/// ids it names exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    pub name: String,
    pub kind: ChannelKind,
    /// The staff member responsible for the channel (not necessarily a guide behind a code).
    #[serde(default)]
    pub owner_staff_id: Option<i64>,
    /// The store the channel belongs to; the region follows from it when both are given.
    #[serde(default)]
    pub store_id: Option<i64>,
    #[serde(default)]
    pub region_id: Option<i64>,
    /// First and last day the channel runs (Asia/Shanghai dates, inclusive); open when absent.
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// Tags applied to every customer the channel brings.
    #[serde(default)]
    pub tag_ids: Vec<i64>,
    /// The welcome each new contact gets through a WeCom welcome code.
    #[serde(default)]
    pub welcome: Option<Welcome>,
    /// A coupon template issued once per customer ever, on the first add through any channel
    /// that has one.
    #[serde(default)]
    pub reward_template_id: Option<i64>,
}

impl ChannelSpec {
    pub fn parse(mut self) -> Result<Self, FieldError> {
        self.name = parse_title("name", &self.name)?;
        for (field, id) in [
            ("owner_staff_id", self.owner_staff_id),
            ("store_id", self.store_id),
            ("region_id", self.region_id),
            ("reward_template_id", self.reward_template_id),
        ] {
            if id.is_some_and(|v| v < 1) {
                return Err(FieldError::new(
                    field,
                    "invalid_id",
                    "must be a positive id",
                ));
            }
        }
        if let (Some(a), Some(b)) = (self.starts_on, self.ends_on)
            && b < a
        {
            return Err(FieldError::new(
                "ends_on",
                "invalid_window",
                "the last day is before the first day",
            ));
        }
        if self.tag_ids.len() > MAX_CHANNEL_TAGS {
            return Err(FieldError::new(
                "tag_ids",
                "too_many_items",
                format!("at most {MAX_CHANNEL_TAGS} tags"),
            ));
        }
        if self.tag_ids.iter().any(|&t| t < 1) {
            return Err(FieldError::new(
                "tag_ids",
                "invalid_id",
                "tag ids are positive",
            ));
        }
        self.tag_ids.sort_unstable();
        self.tag_ids.dedup();
        self.welcome = match self.welcome {
            Some(w) => w.parse()?,
            None => None,
        };
        Ok(self)
    }

    /// Whether the channel runs on `day` (a Shanghai date).
    pub fn runs_on(&self, day: NaiveDate) -> bool {
        self.starts_on.is_none_or(|s| s <= day) && self.ends_on.is_none_or(|e| day <= e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ChannelSpec {
        ChannelSpec {
            name: " 门店台卡 ".into(),
            kind: ChannelKind::StoreStand,
            owner_staff_id: None,
            store_id: Some(1),
            region_id: None,
            starts_on: None,
            ends_on: None,
            tag_ids: vec![3, 1, 3],
            welcome: None,
            reward_template_id: None,
        }
    }

    #[test]
    fn parses_and_normalises() {
        let s = spec().parse().unwrap();
        assert_eq!(s.name, "门店台卡");
        assert_eq!(s.tag_ids, vec![1, 3]);
        assert_eq!(ChannelKind::parse("kind", "ad"), Ok(ChannelKind::Ad));
        assert!(ChannelKind::parse("kind", "tv").is_err());
    }

    #[test]
    fn refuses_bad_fields() {
        let mut s = spec();
        s.name = "  ".into();
        assert_eq!(s.parse().unwrap_err().field, "name");
        let mut s = spec();
        s.starts_on = NaiveDate::from_ymd_opt(2026, 5, 2);
        s.ends_on = NaiveDate::from_ymd_opt(2026, 5, 1);
        assert_eq!(s.parse().unwrap_err().field, "ends_on");
        let mut s = spec();
        s.tag_ids = (1..=21).collect();
        assert_eq!(s.parse().unwrap_err().field, "tag_ids");
        let mut s = spec();
        s.store_id = Some(0);
        assert_eq!(s.parse().unwrap_err().field, "store_id");
    }

    #[test]
    fn dates_are_inclusive() {
        let mut s = spec();
        s.starts_on = NaiveDate::from_ymd_opt(2026, 5, 1);
        s.ends_on = NaiveDate::from_ymd_opt(2026, 5, 31);
        assert!(s.runs_on(NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()));
        assert!(s.runs_on(NaiveDate::from_ymd_opt(2026, 5, 31).unwrap()));
        assert!(!s.runs_on(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()));
    }
}
