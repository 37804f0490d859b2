//! Outbound webhooks: what a subscription is made of, parsed at the edge.
//!
//! A subscription sends events of the event log to an integration's URL. The URL is where
//! server-side request forgery would happen (a webhook pointed at `http://127.0.0.1:5432` or a
//! cloud metadata address turns Yutang into a proxy into its own network), so a target must be
//! a public http(s) address unless the operator allows private targets in the configuration;
//! the sender checks the resolved addresses again at each delivery (see the app crate), since
//! a public name can resolve to a private address later.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::FieldError;

/// The most kinds one subscription can name (a list longer than this is a mistake: use `*`).
pub const MAX_KINDS: usize = 50;
/// The longest target URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// A webhook target: an absolute http(s) URL without credentials, whose host is public unless
/// private targets are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(String);

impl TargetUrl {
    /// Parse `raw`. `allow_private`: the operator's `webhooks.allow_private_targets`.
    pub fn parse(raw: &str, allow_private: bool) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let bad = |code: &'static str, msg: &str| Err(FieldError::new("url", code, msg));
        if raw.is_empty() || raw.len() > MAX_URL_LEN || raw.chars().any(char::is_control) {
            return bad(
                "invalid_url",
                "url must be an http(s) URL of at most 2000 characters",
            );
        }
        let Some((scheme, rest)) = raw.split_once("://") else {
            return bad("invalid_url", "url must start with http:// or https://");
        };
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return bad("invalid_url", "url must start with http:// or https://");
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return bad(
                "invalid_url",
                "url must not carry a user name or password (the signature authenticates Yutang)",
            );
        }
        let host = host_of(authority);
        if host.is_empty() || host.chars().any(|c| c.is_whitespace()) {
            return bad("invalid_url", "url has no host");
        }
        if !allow_private && is_private_host(host) {
            return bad(
                "private_target",
                "url points at a loopback, private or link-local address; only public addresses are allowed (see webhooks.allow_private_targets)",
            );
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The host of a URL authority (`host:port`, `[v6]:port`), lower-cased by the caller's eye:
/// comparisons below are case-insensitive.
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

/// Whether a URL host names a non-public place: `localhost` (and `*.localhost`), or an IP
/// literal in a non-public range. Other names are checked when they are resolved.
pub fn is_private_host(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h == "localhost" || h.ends_with(".localhost") {
        return true;
    }
    match h.parse::<IpAddr>() {
        Ok(ip) => !is_public_ip(ip),
        // Decimal or hex IPv4 forms (`http://2130706433/`) are refused outright: browsers and
        // resolvers read them as 127.0.0.1.
        Err(_) => h.split('.').all(|label| {
            let hex = label
                .strip_prefix("0x")
                .map(|l| l.chars().all(|c| c.is_ascii_hexdigit()));
            hex.unwrap_or(!label.is_empty() && label.chars().all(|c| c.is_ascii_digit()))
        }),
    }
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local (cloud metadata lives at 169.254.169.254), shared (100.64/10),
/// unspecified, multicast, broadcast, documentation or benchmarking space, and the same for
/// IPv4 mapped into IPv6.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4)))
}

/// The event kinds a subscription receives: `*` (every kind) or named kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKinds(Vec<String>);

impl EventKinds {
    /// Parse a list of kinds: each `*` or 1–64 characters of `a-z`, `0-9`, `_` and `.`;
    /// at least one, at most [`MAX_KINDS`], duplicates dropped.
    pub fn parse(kinds: &[String]) -> Result<Self, FieldError> {
        if kinds.is_empty() {
            return Err(FieldError::new(
                "kinds",
                "no_kinds",
                "name at least one event kind, or * for every kind",
            ));
        }
        if kinds.len() > MAX_KINDS {
            return Err(FieldError::new(
                "kinds",
                "too_many_kinds",
                format!("at most {MAX_KINDS} kinds; use * for every kind"),
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(kinds.len());
        for k in kinds {
            let k = k.trim();
            let ok = k == "*"
                || (!k.is_empty()
                    && k.len() <= 64
                    && k.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'
                    }));
            if !ok {
                return Err(FieldError::new(
                    "kinds",
                    "invalid_kind",
                    format!(
                        "{k:?} is not an event kind: use a-z, 0-9, _ and . (or * for every kind)"
                    ),
                ));
            }
            if !out.iter().any(|o| o == k) {
                out.push(k.to_owned());
            }
        }
        if out.iter().any(|k| k == "*") {
            out = vec!["*".to_owned()];
        }
        Ok(Self(out))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether an event of `kind` goes to this subscription.
    pub fn matches(&self, kind: &str) -> bool {
        self.0.iter().any(|k| k == "*" || k == kind)
    }
}

/// The wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed, in
/// milliseconds: 10 s, 30 s, 1 min, 5 min, 15 min, 30 min, 1 h, then 2 h, 4 h and 8 h and
/// every 8 h after. With the default 12 attempts a delivery is retried for about a day.
pub fn backoff_ms(attempt: i64) -> i64 {
    const STEPS: [i64; 10] = [10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800];
    let i = usize::try_from(attempt.max(1) - 1)
        .unwrap_or(0)
        .min(STEPS.len() - 1);
    STEPS[i] * 1000
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn targets_must_be_public_http_urls() {
        assert!(TargetUrl::parse("https://hooks.example.com/yutang?x=1", false).is_ok());
        assert!(TargetUrl::parse("http://203.0.113.9:8080/in", true).is_ok());
        assert!(TargetUrl::parse("https://cafe.be/hook", false).is_ok());
        assert!(TargetUrl::parse("https://8.8.8.8/hook", false).is_ok());
        for (raw, code) in [
            ("", "invalid_url"),
            ("ftp://example.com/", "invalid_url"),
            ("example.com/hook", "invalid_url"),
            ("https://user:pw@example.com/", "invalid_url"),
            ("https://exa mple.com/", "invalid_url"),
            ("http://127.0.0.1:5432/", "private_target"),
            ("http://localhost/", "private_target"),
            ("http://api.localhost./", "private_target"),
            ("http://10.1.2.3/", "private_target"),
            ("http://172.16.0.1/", "private_target"),
            ("http://192.168.1.1/", "private_target"),
            ("http://169.254.169.254/latest/meta-data", "private_target"),
            ("http://100.64.0.1/", "private_target"),
            ("http://0.0.0.0/", "private_target"),
            ("http://[::1]:80/", "private_target"),
            ("http://[fd00::1]/", "private_target"),
            ("http://[fe80::1]/", "private_target"),
            ("http://[::ffff:127.0.0.1]/", "private_target"),
            ("http://2130706433/", "private_target"),
            ("http://0x7f000001/", "private_target"),
        ] {
            let e = TargetUrl::parse(raw, false).expect_err(raw);
            assert_eq!((e.field, e.code), ("url", code), "{raw}");
        }
        // Allowed by the operator: loopback targets (tests, an integration on the same host).
        assert!(TargetUrl::parse("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(TargetUrl::parse("ftp://127.0.0.1/", true).is_err());
    }

    #[test]
    fn public_addresses_are_told_from_the_rest() {
        for ip in ["8.8.8.8", "1.1.1.1", "2400:3200::1", "203.0.114.1"] {
            assert!(is_public_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "100.100.100.200",
            "::1",
            "fc00::1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
        ] {
            assert!(!is_public_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn kinds_are_named_or_every() {
        let k = EventKinds::parse(&[
            "order_paid".into(),
            "order_paid".into(),
            "coupon_claimed".into(),
        ])
        .unwrap();
        assert_eq!(k.as_slice(), ["order_paid", "coupon_claimed"]);
        assert!(k.matches("order_paid") && !k.matches("created"));
        let all = EventKinds::parse(&["order_paid".into(), "*".into()]).unwrap();
        assert_eq!(all.as_slice(), ["*"]);
        assert!(all.matches("anything"));
        for bad in [
            vec![],
            vec!["Order".to_string()],
            vec!["a b".to_string()],
            vec![String::new()],
        ] {
            assert_eq!(EventKinds::parse(&bad).unwrap_err().field, "kinds");
        }
        assert_eq!(
            EventKinds::parse(&vec!["k".to_string(); MAX_KINDS + 1])
                .unwrap_err()
                .code,
            "too_many_kinds"
        );
    }

    proptest! {
        #[test]
        fn backoff_grows_and_is_bounded(a in 1i64..1000) {
            prop_assert!(backoff_ms(a) >= 10_000);
            prop_assert!(backoff_ms(a + 1) >= backoff_ms(a));
            prop_assert!(backoff_ms(a) <= 8 * 3600 * 1000);
        }

        #[test]
        fn parsing_never_panics(s in ".{0,80}") {
            let _ = TargetUrl::parse(&s, false);
            let _ = EventKinds::parse(&[s]);
        }
    }
}
