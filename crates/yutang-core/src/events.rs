//! The event log: every touch of a customer, which together form their timeline.

use serde::Serialize;
use std::fmt;

use crate::FieldError;

/// The most events one `POST /api/v1/events` batch may carry.
pub const MAX_BATCH: usize = 1000;

/// What happened. The first thirteen kinds may be sent by integrations; the rest are written
/// by Yutang itself (orders, follows, merges …) and refused on the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    PageView,
    Search,
    AddFriend,
    DeleteFriend,
    JoinGroup,
    LeaveGroup,
    Message,
    OrderPaid,
    OrderRefunded,
    CouponClaimed,
    CheckIn,
    Share,
    Custom,
    // System kinds.
    Created,
    ProfileUpdated,
    IdentityAdded,
    Followed,
    FollowChanged,
    OrderShipped,
    OrderCompleted,
    /// This customer absorbed another (detail names the loser).
    Merged,
    /// This customer was merged into another (detail names the survivor).
    MergedInto,
    /// A tag was put on the customer (detail: tag, source, who).
    TagAdded,
    /// A tag was taken off.
    TagRemoved,
    /// A friend's invitation: bound to an inviter, or rewarded (detail: program, inviter).
    Referred,
    /// A membership tier change: into the program, up or down (detail: from, to, why).
    TierChanged,
    /// A paid member card bought (detail: card, order_no, paid, period).
    CardPurchased,
    /// A paid member card renewed: the new period follows the running one.
    CardRenewed,
    /// A card purchase refunded: its period ended.
    CardRefunded,
    /// A card period ended and settled (detail: savings, paid, the guarantee's refund).
    CardSettled,
    /// Staff wrote a note (跟进记录) about the customer (detail: the note's id; the text stays
    /// in the notes, out of webhooks).
    NoteAdded,
}

impl EventKind {
    pub const CLIENT: [EventKind; 13] = [
        EventKind::PageView,
        EventKind::Search,
        EventKind::AddFriend,
        EventKind::DeleteFriend,
        EventKind::JoinGroup,
        EventKind::LeaveGroup,
        EventKind::Message,
        EventKind::OrderPaid,
        EventKind::OrderRefunded,
        EventKind::CouponClaimed,
        EventKind::CheckIn,
        EventKind::Share,
        EventKind::Custom,
    ];

    pub const SYSTEM: [EventKind; 18] = [
        EventKind::Created,
        EventKind::ProfileUpdated,
        EventKind::IdentityAdded,
        EventKind::Followed,
        EventKind::FollowChanged,
        EventKind::OrderShipped,
        EventKind::OrderCompleted,
        EventKind::Merged,
        EventKind::MergedInto,
        EventKind::TagAdded,
        EventKind::TagRemoved,
        EventKind::Referred,
        EventKind::TierChanged,
        EventKind::CardPurchased,
        EventKind::CardRenewed,
        EventKind::CardRefunded,
        EventKind::CardSettled,
        EventKind::NoteAdded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PageView => "page_view",
            EventKind::Search => "search",
            EventKind::AddFriend => "add_friend",
            EventKind::DeleteFriend => "delete_friend",
            EventKind::JoinGroup => "join_group",
            EventKind::LeaveGroup => "leave_group",
            EventKind::Message => "message",
            EventKind::OrderPaid => "order_paid",
            EventKind::OrderRefunded => "order_refunded",
            EventKind::CouponClaimed => "coupon_claimed",
            EventKind::CheckIn => "check_in",
            EventKind::Share => "share",
            EventKind::Custom => "custom",
            EventKind::Created => "created",
            EventKind::ProfileUpdated => "profile_updated",
            EventKind::IdentityAdded => "identity_added",
            EventKind::Followed => "followed",
            EventKind::FollowChanged => "follow_changed",
            EventKind::OrderShipped => "order_shipped",
            EventKind::OrderCompleted => "order_completed",
            EventKind::Merged => "merged",
            EventKind::MergedInto => "merged_into",
            EventKind::TagAdded => "tag_added",
            EventKind::TagRemoved => "tag_removed",
            EventKind::Referred => "referred",
            EventKind::TierChanged => "tier_changed",
            EventKind::CardPurchased => "card_purchased",
            EventKind::CardRenewed => "card_renewed",
            EventKind::CardRefunded => "card_refunded",
            EventKind::CardSettled => "card_settled",
            EventKind::NoteAdded => "note_added",
        }
    }

    /// Any kind, for filtering timelines.
    pub fn parse_any(field: &'static str, s: &str) -> Result<Self, FieldError> {
        EventKind::CLIENT
            .into_iter()
            .chain(EventKind::SYSTEM)
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "unknown_event_kind",
                    format!("unknown event kind {s:?}"),
                )
            })
    }

    /// A kind an integration may send.
    pub fn parse_client(field: &'static str, s: &str) -> Result<Self, FieldError> {
        EventKind::CLIENT
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "unknown_event_kind",
                    format!(
                        "unknown event kind {s:?}; expected one of page_view, search, add_friend, \
                         delete_friend, join_group, leave_group, message, order_paid, \
                         order_refunded, coupon_claimed, check_in, share, custom"
                    ),
                )
            })
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The client's id for an event: 1–64 visible ASCII characters, unique across all events
/// ever sent. Replays of the same id are reported as duplicates and change nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientEventId(String);

impl ClientEventId {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        if s.is_empty() || s.len() > 64 || !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(FieldError::new(
                field,
                "invalid_event_id",
                "id must be 1–64 visible ASCII characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Event detail: free JSON text from the client, bounded.
pub const MAX_DETAIL_BYTES: usize = 4096;

/// Check a batch's size before looking at its events.
pub fn check_batch_size(n: usize) -> Result<(), FieldError> {
    if n == 0 {
        return Err(FieldError::new(
            "events",
            "empty_batch",
            "send at least one event",
        ));
    }
    if n > MAX_BATCH {
        return Err(FieldError::new(
            "events",
            "batch_too_large",
            format!("a batch holds at most {MAX_BATCH} events; this one has {n}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in EventKind::CLIENT {
            assert_eq!(EventKind::parse_client("kind", k.as_str()), Ok(k));
        }
        for k in EventKind::SYSTEM {
            assert_eq!(EventKind::parse_any("kind", k.as_str()), Ok(k));
            assert!(EventKind::parse_client("kind", k.as_str()).is_err());
        }
        assert_eq!(
            EventKind::parse_client("kind", "teleport")
                .unwrap_err()
                .code,
            "unknown_event_kind"
        );
    }

    #[test]
    fn ids_and_batches() {
        assert!(ClientEventId::parse("id", "evt-1").is_ok());
        assert!(ClientEventId::parse("id", "").is_err());
        assert!(ClientEventId::parse("id", "a b").is_err());
        assert!(ClientEventId::parse("id", &"x".repeat(65)).is_err());
        assert!(check_batch_size(1).is_ok());
        assert!(check_batch_size(MAX_BATCH).is_ok());
        assert_eq!(
            check_batch_size(MAX_BATCH + 1).unwrap_err().code,
            "batch_too_large"
        );
        assert_eq!(check_batch_size(0).unwrap_err().code, "empty_batch");
    }
}
