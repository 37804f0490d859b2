//! One customer across channels: typed identities, phone normalisation, and the rules that
//! decide when a record attaches to an existing customer and when two customers merge.
//!
//! Every identity `(kind, namespace, value)` belongs to at most one customer (the store
//! enforces it with a unique constraint). Ingesting a record whose identities already belong
//! to one customer attaches the record to that customer; identities that belong to two or more
//! customers are evidence that they are one person, and they merge (see [`plan_ingest`]).

use serde::Serialize;
use std::fmt;

use crate::FieldError;
use crate::ids::CustomerId;

/// A mainland-China mobile number, normalised to its 11 digits (`13812341234`).
///
/// Accepts `+86`, `86` and `0086` prefixes, spaces, dashes, dots and parentheses:
/// `+86 138-1234-1234` → `13812341234`. Refuses anything that is not 11 digits starting
/// with `1` and a second digit 3–9.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                "invalid_phone",
                "phone must be a mainland mobile number such as 138 1234 1234 or +86 138-1234-1234",
            )
        };
        let s = s.trim();
        if s.len() > 32 {
            return Err(bad());
        }
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for c in s.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if digits.is_empty() && !plus => plus = true,
                ' ' | '-' | '.' | '(' | ')' | '\u{3000}' => {}
                _ => return Err(bad()),
            }
        }
        // An international prefix must be China's.
        if plus && !digits.starts_with("86") {
            return Err(bad());
        }
        let national = if let Some(rest) = digits.strip_prefix("0086") {
            rest
        } else if digits.len() == 13 && digits.starts_with("86") {
            &digits[2..]
        } else {
            &digits
        };
        let b = national.as_bytes();
        if b.len() != 11 || b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(bad());
        }
        Ok(Self(national.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****1234`: what callers without a reveal see.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Mask a stored phone value: keep the first three and last four characters. Values too short
/// to mask meaningfully are fully starred.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len().max(4));
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// The kind of an identity. Some kinds live in a namespace: an openid is per WeChat app id,
/// a shop buyer id per platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// WeCom external contact id (`external_userid`), as seen by the brand's corp.
    WecomExternal,
    /// WeChat Open Platform unionid: one person across the brand's WeChat apps.
    Unionid,
    /// Mini-program or official-account openid; namespace = the app id (`wx…`).
    Openid,
    Phone,
    /// The brand app's own user id.
    AppUser,
    /// The POS membership number.
    PosMember,
    /// A shop's buyer id; namespace = the platform (tmall, jd, youzan, douyin).
    ShopBuyer,
}

/// Shop platforms whose buyer ids Yutang knows.
pub const SHOP_PLATFORMS: [&str; 4] = ["tmall", "jd", "youzan", "douyin"];

impl IdentityKind {
    pub const ALL: [IdentityKind; 7] = [
        IdentityKind::WecomExternal,
        IdentityKind::Unionid,
        IdentityKind::Openid,
        IdentityKind::Phone,
        IdentityKind::AppUser,
        IdentityKind::PosMember,
        IdentityKind::ShopBuyer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::WecomExternal => "wecom_external",
            IdentityKind::Unionid => "unionid",
            IdentityKind::Openid => "openid",
            IdentityKind::Phone => "phone",
            IdentityKind::AppUser => "app_user",
            IdentityKind::PosMember => "pos_member",
            IdentityKind::ShopBuyer => "shop_buyer",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        IdentityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_identity_kind",
                    format!(
                        "unknown identity kind {s:?}; expected one of wecom_external, unionid, \
                         openid, phone, app_user, pos_member, shop_buyer"
                    ),
                )
            })
    }

    /// Strong identities prove a person on their own: a record sharing one with an existing
    /// customer is that customer. (All kinds are unique keys; strength is what the console
    /// shows as "verified" and what an operator may rely on when merging by hand.)
    pub fn is_strong(self) -> bool {
        matches!(
            self,
            IdentityKind::Phone | IdentityKind::Unionid | IdentityKind::WecomExternal
        )
    }

    /// Whether a person has at most one identity of this kind per namespace. Two customers
    /// holding different values of such a kind are two people: merging them is refused.
    /// Phones are multi-valued (a person may have a work and a private number).
    pub fn is_single_valued(self) -> bool {
        !matches!(self, IdentityKind::Phone)
    }

    fn needs_namespace(self) -> bool {
        matches!(self, IdentityKind::Openid | IdentityKind::ShopBuyer)
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed identity: kind, namespace (`""` when the kind has none) and normalised value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Identity {
    pub kind: IdentityKind,
    pub namespace: String,
    pub value: String,
}

impl Identity {
    /// Parse an identity from the wire. Phones are normalised; openids need an app id
    /// namespace (`wx` + 16 hex characters or any 1–32 ASCII word characters); shop buyer ids
    /// need a known platform.
    pub fn parse(kind: &str, namespace: Option<&str>, value: &str) -> Result<Self, FieldError> {
        let kind = IdentityKind::parse("kind", kind.trim())?;
        let namespace = namespace.map(str::trim).unwrap_or("");
        let namespace = if kind.needs_namespace() {
            if namespace.is_empty() {
                return Err(FieldError::new(
                    "namespace",
                    "namespace_required",
                    format!(
                        "a {kind} identity needs a namespace ({})",
                        if kind == IdentityKind::Openid {
                            "the app id"
                        } else {
                            "the platform: tmall, jd, youzan or douyin"
                        }
                    ),
                ));
            }
            if kind == IdentityKind::ShopBuyer {
                let p = namespace.to_ascii_lowercase();
                if !SHOP_PLATFORMS.contains(&p.as_str()) {
                    return Err(FieldError::new(
                        "namespace",
                        "unknown_platform",
                        "shop platform must be tmall, jd, youzan or douyin",
                    ));
                }
                p
            } else {
                if namespace.len() > 32
                    || !namespace
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(FieldError::new(
                        "namespace",
                        "invalid_namespace",
                        "app id must be 1–32 letters, digits, '_' or '-'",
                    ));
                }
                namespace.to_owned()
            }
        } else {
            if !namespace.is_empty() {
                return Err(FieldError::new(
                    "namespace",
                    "namespace_not_allowed",
                    format!("a {kind} identity has no namespace"),
                ));
            }
            String::new()
        };
        let value = if kind == IdentityKind::Phone {
            Phone::parse("value", value)?.0
        } else {
            let v = value.trim();
            if v.is_empty() || v.len() > 128 || v.chars().any(|c| c.is_control() || c == ' ') {
                return Err(FieldError::new(
                    "value",
                    "invalid_identity_value",
                    "identity value must be 1–128 characters without spaces or control characters",
                ));
            }
            v.to_owned()
        };
        Ok(Self {
            kind,
            namespace,
            value,
        })
    }

    pub fn phone(p: &Phone) -> Self {
        Self {
            kind: IdentityKind::Phone,
            namespace: String::new(),
            value: p.0.clone(),
        }
    }

    /// The value as a caller may see it: phones masked unless `reveal`.
    pub fn shown_value(&self, reveal: bool) -> String {
        if self.kind == IdentityKind::Phone && !reveal {
            mask_phone(&self.value)
        } else {
            self.value.clone()
        }
    }
}

/// What ingesting a record with some identities does, given which customer (if any) each
/// identity already belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestPlan {
    /// No identity is known: create a customer.
    Create,
    /// Every known identity belongs to this customer: attach the new ones to it.
    Attach(CustomerId),
    /// The identities link several customers: merge `losers` into `survivor`, then attach.
    Merge {
        survivor: CustomerId,
        losers: Vec<CustomerId>,
    },
}

/// A customer that takes part in a merge decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeCandidate {
    pub id: CustomerId,
    pub created_at: i64,
}

/// The survivor of a merge: the customer created first (ties: the lower id). Stable, so the
/// oldest id — the one most systems already know — keeps working and the id space stays dense.
pub fn choose_survivor(candidates: &[MergeCandidate]) -> Option<CustomerId> {
    candidates
        .iter()
        .min_by_key(|c| (c.created_at, c.id))
        .map(|c| c.id)
}

/// Decide what to do with a record given the (already resolved, i.e. never merged-away)
/// customers its identities belong to.
pub fn plan_ingest(owners: &[MergeCandidate]) -> IngestPlan {
    let mut distinct: Vec<MergeCandidate> = Vec::new();
    for c in owners {
        if !distinct.iter().any(|d| d.id == c.id) {
            distinct.push(*c);
        }
    }
    match distinct.len() {
        0 => IngestPlan::Create,
        1 => IngestPlan::Attach(distinct[0].id),
        _ => {
            let survivor = choose_survivor(&distinct).unwrap_or(distinct[0].id);
            let mut losers: Vec<CustomerId> = distinct
                .iter()
                .map(|c| c.id)
                .filter(|id| *id != survivor)
                .collect();
            losers.sort();
            IngestPlan::Merge { survivor, losers }
        }
    }
}

/// A reason two customers cannot be one person: both hold a single-valued identity of the
/// same kind and namespace with different values (two WeChat accounts, two POS cards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityConflict {
    pub kind: IdentityKind,
    pub namespace: String,
    pub left: String,
    pub right: String,
}

/// Conflicts between the identities of two customers (empty: they may merge).
pub fn merge_conflicts(left: &[Identity], right: &[Identity]) -> Vec<IdentityConflict> {
    let mut out = Vec::new();
    for l in left.iter().filter(|i| i.kind.is_single_valued()) {
        for r in right
            .iter()
            .filter(|r| r.kind == l.kind && r.namespace == l.namespace)
        {
            if r.value != l.value {
                out.push(IdentityConflict {
                    kind: l.kind,
                    namespace: l.namespace.clone(),
                    left: l.value.clone(),
                    right: r.value.clone(),
                });
            }
        }
    }
    out
}

/// Identities a record adds to a customer that already has `existing`: the new ones that would
/// conflict with a single-valued identity the customer already holds are refused.
pub fn attach_conflicts(existing: &[Identity], incoming: &[Identity]) -> Vec<IdentityConflict> {
    let new: Vec<Identity> = incoming
        .iter()
        .filter(|i| !existing.contains(i))
        .cloned()
        .collect();
    merge_conflicts(existing, &new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones_are_normalised() {
        for s in [
            "13812341234",
            "+86 138 1234 1234",
            "+86-138-1234-1234",
            "0086 13812341234",
            "86 13812341234",
            " 138.1234.1234 ",
            "(+86) 138 1234-1234",
        ] {
            assert_eq!(
                Phone::parse("phone", s).map(|p| p.0),
                Ok("13812341234".into()),
                "{s}"
            );
        }
        for s in [
            "",
            "1381234123",
            "138123412345",
            "23812341234",
            "12812341234",
            "138a2341234",
            "+1 415 555 0100",
            "１３８１２３４１２３４",
        ] {
            let e = Phone::parse("phone", s).unwrap_err();
            assert_eq!((e.field, e.code), ("phone", "invalid_phone"), "{s}");
        }
    }

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("123"), "****");
        assert_eq!(
            Phone::parse("p", "13900001111").unwrap().masked(),
            "139****1111"
        );
    }

    #[test]
    fn identities_parse_with_namespaces() {
        let i = Identity::parse("phone", None, "+86 139-0000-1111").unwrap();
        assert_eq!(i.value, "13900001111");
        assert_eq!(i.shown_value(false), "139****1111");
        assert_eq!(i.shown_value(true), "13900001111");
        let o = Identity::parse("openid", Some("wx1234567890abcdef"), "oAbC").unwrap();
        assert_eq!(o.namespace, "wx1234567890abcdef");
        assert_eq!(
            Identity::parse("openid", None, "oAbC").unwrap_err().code,
            "namespace_required"
        );
        assert_eq!(
            Identity::parse("shop_buyer", Some("TMALL"), "b1")
                .unwrap()
                .namespace,
            "tmall"
        );
        assert_eq!(
            Identity::parse("shop_buyer", Some("amazon"), "b1")
                .unwrap_err()
                .code,
            "unknown_platform"
        );
        assert_eq!(
            Identity::parse("unionid", Some("x"), "u").unwrap_err().code,
            "namespace_not_allowed"
        );
        assert_eq!(
            Identity::parse("email", None, "a@b").unwrap_err().code,
            "invalid_identity_kind"
        );
        assert_eq!(
            Identity::parse("unionid", None, "a b").unwrap_err().code,
            "invalid_identity_value"
        );
    }

    fn cand(id: i64, at: i64) -> MergeCandidate {
        MergeCandidate {
            id: CustomerId(id),
            created_at: at,
        }
    }

    #[test]
    fn ingest_plans() {
        assert_eq!(plan_ingest(&[]), IngestPlan::Create);
        assert_eq!(
            plan_ingest(&[cand(4, 10), cand(4, 10)]),
            IngestPlan::Attach(CustomerId(4))
        );
        assert_eq!(
            plan_ingest(&[cand(9, 5), cand(4, 10), cand(7, 5)]),
            IngestPlan::Merge {
                survivor: CustomerId(7),
                losers: vec![CustomerId(4), CustomerId(9)]
            }
        );
    }

    #[test]
    fn conflicts_only_for_single_valued_kinds() {
        let u1 = Identity::parse("unionid", None, "u1").unwrap();
        let u2 = Identity::parse("unionid", None, "u2").unwrap();
        let p1 = Identity::parse("phone", None, "13800000001").unwrap();
        let p2 = Identity::parse("phone", None, "13800000002").unwrap();
        let o1 = Identity::parse("openid", Some("wxa"), "o1").unwrap();
        let o2 = Identity::parse("openid", Some("wxb"), "o2").unwrap();
        assert!(merge_conflicts(&[p1.clone(), o1.clone()], &[p2.clone(), o2.clone()]).is_empty());
        assert!(merge_conflicts(std::slice::from_ref(&u1), std::slice::from_ref(&u1)).is_empty());
        let c = merge_conflicts(&[u1.clone(), p1.clone()], &[u2.clone(), p2]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, IdentityKind::Unionid);
        assert!(attach_conflicts(std::slice::from_ref(&u1), &[u1.clone(), p1]).is_empty());
        assert_eq!(attach_conflicts(&[u1], &[u2]).len(), 1);
    }

    proptest! {
        #[test]
        fn survivor_is_a_candidate_and_order_independent(
            mut v in proptest::collection::vec((1i64..50, 0i64..5), 1..8)
        ) {
            let cands: Vec<MergeCandidate> = v.iter().map(|(id, at)| cand(*id, *at)).collect();
            let s = choose_survivor(&cands).unwrap();
            prop_assert!(cands.iter().any(|c| c.id == s));
            v.reverse();
            let rev: Vec<MergeCandidate> = v.iter().map(|(id, at)| cand(*id, *at)).collect();
            prop_assert_eq!(choose_survivor(&rev), Some(s));
        }

        #[test]
        fn merge_plan_partitions_the_candidates(
            v in proptest::collection::vec((1i64..20, 0i64..5), 2..8)
        ) {
            // One creation time per id, as in the database.
            let cands: Vec<MergeCandidate> = v.iter().map(|(id, _)| cand(*id, id % 5)).collect();
            let mut ids: Vec<CustomerId> = cands.iter().map(|c| c.id).collect();
            ids.sort();
            ids.dedup();
            match plan_ingest(&cands) {
                IngestPlan::Attach(c) => prop_assert_eq!(ids, vec![c]),
                IngestPlan::Merge { survivor, losers } => {
                    prop_assert!(!losers.contains(&survivor));
                    let mut all = losers.clone();
                    all.push(survivor);
                    all.sort();
                    prop_assert_eq!(all, ids);
                }
                IngestPlan::Create => prop_assert!(false, "candidates were given"),
            }
        }

        #[test]
        fn phone_parse_never_panics_and_normalises(s in "\\PC{0,40}") {
            if let Ok(p) = Phone::parse("phone", &s) {
                prop_assert_eq!(p.as_str().len(), 11);
                prop_assert_eq!(Phone::parse("phone", p.as_str()), Ok(p.clone()));
            }
        }

        #[test]
        fn formatted_phones_parse(n in 3u8..10, rest in 0u64..1_000_000_000) {
            let raw = format!("1{n}{rest:09}");
            let pretty = format!("+86 {}-{}-{}", &raw[..3], &raw[3..7], &raw[7..]);
            prop_assert_eq!(Phone::parse("p", &pretty).map(|p| p.0), Ok(raw));
        }
    }
}
