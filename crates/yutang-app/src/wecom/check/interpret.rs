//! The setup checker's rules, without I/O: what each answer (of this server's own verifier,
//! of the public callback URL, of WeCom's API) means, as a [`Step`] with a stable `code`, the
//! values its text names (`params`) and the technical detail. The console and the API turn a
//! code into words (`check.<code>` and `check.<code>.fix` in the console's translations).

use std::collections::BTreeMap;

use serde::Serialize;
use yutang_wecom::WecomError;
use yutang_wecom::probe::{ProbeAnswer, TransportFailure};

/// An answer slower than this passes, with a warning: WeCom's own round trip adds to it.
pub const SLOW_MS: u64 = 500;

/// The steps, in the order they run. Later steps need earlier ones (the URL check signs with
/// the Token and key; customers and contact ways need the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKey {
    /// Token and EncodingAESKey parse and this server's verifier accepts its own request.
    CallbackCrypto,
    /// The public callback URL reaches this server and answers in time, bare.
    CallbackUrl,
    /// The API answers (credentials) without 60020: the server's outbound IP is trusted.
    TrustedIp,
    /// The contact secret lists follow users and one of their customers.
    ReadCustomers,
    /// A contact way (「联系我」) can be created (and is deleted at once).
    ContactWay,
}

impl StepKey {
    pub const ALL: [StepKey; 5] = [
        StepKey::CallbackCrypto,
        StepKey::CallbackUrl,
        StepKey::TrustedIp,
        StepKey::ReadCustomers,
        StepKey::ContactWay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKey::CallbackCrypto => "callback_crypto",
            StepKey::CallbackUrl => "callback_url",
            StepKey::TrustedIp => "trusted_ip",
            StepKey::ReadCustomers => "read_customers",
            StepKey::ContactWay => "contact_way",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Failed,
    /// Not run: a step it needs failed (the code says which).
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Ok => "ok",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
        }
    }
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub key: StepKey,
    pub status: StepStatus,
    /// What was found, one of [`CODES`] (e.g. `url_body_rewritten`, `ip_untrusted`).
    pub code: &'static str,
    /// The values the code's text names (`{ip}`, `{status}`, `{latency_ms}` …).
    pub params: BTreeMap<&'static str, String>,
    /// WeCom's errcode (API steps) or the crypto sample's code (−40001 …), when there is one.
    pub errcode: Option<i64>,
    /// The technical detail: WeCom's errmsg, the transport error, the body that came back.
    pub detail: String,
    /// How long the step's requests took.
    pub latency_ms: Option<u64>,
}

/// Every code a step can carry, for the translations (a test checks each has its text).
pub const CODES: &[&str] = &[
    "crypto_ok",
    "crypto_missing",
    "aes_key_invalid",
    "signature_mismatch",
    "receive_id_mismatch",
    "crypto_failed",
    "url_ok",
    "url_ok_slow",
    "url_missing",
    "url_invalid",
    "url_dns",
    "url_connect",
    "url_tls",
    "url_timeout",
    "url_transport",
    "url_redirect",
    "url_not_found",
    "url_status",
    "url_other_token",
    "url_other_key",
    "url_other_corp",
    "url_not_configured_there",
    "url_body_rewritten",
    "url_body_wrapped",
    "url_body_different",
    "api_missing",
    "api_unreachable",
    "api_unexpected",
    "api_credentials",
    "ip_untrusted",
    "ip_trusted",
    "customers_ok",
    "no_follow_users",
    "customers_error",
    "contact_way_ok",
    "contact_way_error",
    "contact_way_not_deleted",
    "skipped_no_crypto",
    "skipped_no_api",
    "skipped_no_follow_user",
];

/// The rewrites of a verification answer [`body_rewrites`] recognises.
pub const REWRITES: &[&str] = &["bom", "quotes", "newline", "whitespace"];

impl Step {
    fn new(key: StepKey, status: StepStatus, finding: &'static str) -> Self {
        debug_assert!(CODES.contains(&finding), "{finding}");
        Self {
            key,
            status,
            code: finding,
            params: BTreeMap::new(),
            errcode: None,
            detail: String::new(),
            latency_ms: None,
        }
    }

    fn ok(key: StepKey, finding: &'static str) -> Self {
        Self::new(key, StepStatus::Ok, finding)
    }

    fn failed(key: StepKey, finding: &'static str) -> Self {
        Self::new(key, StepStatus::Failed, finding)
    }

    fn param(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.insert(name, value.to_string());
        self
    }

    fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    fn errcode(mut self, code: i64) -> Self {
        self.errcode = Some(code);
        self.params.insert("errcode", code.to_string());
        self
    }

    fn latency(mut self, ms: u64) -> Self {
        self.latency_ms = Some(ms);
        self.params.insert("latency_ms", ms.to_string());
        self
    }

    pub fn is_ok(&self) -> bool {
        self.status == StepStatus::Ok
    }
}

/// A step not run because `code` (one of the `skipped_…` codes) says what it needs.
pub fn skipped(key: StepKey, finding: &'static str) -> Step {
    Step::new(key, StepStatus::Skipped, finding)
}

// ------------------------------------------------------------ step 1: Token and EncodingAESKey

/// Settings missing for the callback: `missing` names them (`corp_id`, `callback_token`,
/// `encoding_aes_key`).
pub fn crypto_missing(missing: &[&str]) -> Step {
    Step::failed(StepKey::CallbackCrypto, "crypto_missing").param("missing", missing.join(","))
}

/// The EncodingAESKey does not parse (−40004).
pub fn aes_key_invalid(detail: impl Into<String>) -> Step {
    Step::failed(StepKey::CallbackCrypto, "aes_key_invalid")
        .errcode(-40004)
        .detail(detail)
}

/// Why this server's own verifier refused a request it was given (a crypto sample code
/// −400xx, or `None` when it is not configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Option<i32>,
    pub detail: String,
}

/// A request signed with the settings went through this server's own verifier (the code the
/// callback route runs): it must come back as the plaintext that went in.
pub fn round_trip(expected: &str, corp_id: &str, answer: &Result<String, Refusal>) -> Step {
    let key = StepKey::CallbackCrypto;
    match answer {
        Ok(plain) if plain == expected => Step::ok(key, "crypto_ok").param("corp_id", corp_id),
        Ok(plain) => Step::failed(key, "crypto_failed").detail(format!(
            "the verifier answered {} instead of {expected:?}",
            excerpt(plain.as_bytes())
        )),
        Err(r) => {
            let finding = match r.code {
                Some(-40001) => "signature_mismatch",
                Some(-40004) => "aes_key_invalid",
                Some(-40005) => "receive_id_mismatch",
                _ => "crypto_failed",
            };
            let step = Step::failed(key, finding)
                .param("corp_id", corp_id)
                .detail(r.detail.clone());
            match r.code {
                Some(c) => step.errcode(i64::from(c)),
                None => step,
            }
        }
    }
}

// ------------------------------------------------------------ step 2: the public callback URL

/// No public URL entered yet.
pub fn url_missing() -> Step {
    Step::failed(StepKey::CallbackUrl, "url_missing")
}

/// The stored URL cannot carry the request.
pub fn url_invalid(url: &str, detail: impl Into<String>) -> Step {
    Step::failed(StepKey::CallbackUrl, "url_invalid")
        .param("url", url)
        .detail(detail)
}

/// `host[:port]` of a URL, for the texts.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| url.to_owned())
}

/// What the answer to a verification request sent through `url` means, when `expected` was
/// the plaintext and WeCom allows `limit_ms`.
pub fn probe_answer(url: &str, expected: &str, answer: &ProbeAnswer, limit_ms: u64) -> Step {
    let key = StepKey::CallbackUrl;
    let host = host_of(url);
    match answer {
        ProbeAnswer::Failed {
            kind,
            detail,
            elapsed_ms,
        } => {
            let finding = match kind {
                TransportFailure::Dns => "url_dns",
                TransportFailure::Connect => "url_connect",
                TransportFailure::Tls => "url_tls",
                TransportFailure::Timeout => "url_timeout",
                TransportFailure::Other => "url_transport",
            };
            Step::failed(key, finding)
                .param("url", url)
                .param("host", host)
                .param("limit_ms", limit_ms)
                .latency(*elapsed_ms)
                .detail(detail.clone())
        }
        ProbeAnswer::Answered {
            status,
            location,
            body,
            elapsed_ms,
        } => {
            let step = |outcome: StepStatus, finding: &'static str| {
                Step::new(key, outcome, finding)
                    .param("url", url)
                    .param("host", host.clone())
                    .param("limit_ms", limit_ms)
                    .latency(*elapsed_ms)
            };
            let failed = |finding: &'static str| {
                step(StepStatus::Failed, finding)
                    .param("status", *status)
                    .detail(format!("HTTP {status}: {}", excerpt(body)))
            };
            if *elapsed_ms > limit_ms {
                return failed("url_timeout");
            }
            match *status {
                200 => {}
                301 | 302 | 303 | 307 | 308 => {
                    return failed("url_redirect")
                        .param("location", location.clone().unwrap_or_default());
                }
                403 => {
                    if let Some(code) = yutang_refusal(body) {
                        let what = match code {
                            -40001 => "url_other_token",
                            -40005 => "url_other_corp",
                            _ => "url_other_key",
                        };
                        return failed(what).errcode(code);
                    }
                    return failed("url_status");
                }
                503 if body.starts_with(b"not configured") => {
                    return failed("url_not_configured_there");
                }
                404 => return failed("url_not_found"),
                _ => return failed("url_status"),
            }
            if body == expected.as_bytes() {
                let finding = if *elapsed_ms > SLOW_MS {
                    "url_ok_slow"
                } else {
                    "url_ok"
                };
                return step(StepStatus::Ok, finding);
            }
            let mut st = step(StepStatus::Failed, "url_body_different")
                .param("status", 200)
                .detail(format!("expected {expected:?}, got {}", excerpt(body)));
            if let Some(changes) = body_rewrites(body, expected) {
                st.code = "url_body_rewritten";
                st = st.param("changes", changes.join(","));
            } else if String::from_utf8_lossy(body).contains(expected) {
                st.code = "url_body_wrapped";
            }
            st
        }
    }
}

/// The code a Yutang (or WeCom's official sample) puts first in its refusal (`-40001 …`).
fn yutang_refusal(body: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(body).ok()?;
    let first = text.split_whitespace().next()?;
    let code: i64 = first.parse().ok()?;
    (-40099..=-40001).contains(&code).then_some(code)
}

/// The rewrites that turn `expected` into `body` (a BOM in front, quotes around, a newline or
/// spaces after …), when undoing them gives `expected` back; `None` when the body is
/// something else.
pub fn body_rewrites(body: &[u8], expected: &str) -> Option<Vec<&'static str>> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut rest = body;
    let mut found: Vec<&'static str> = Vec::new();
    let note = |what: &'static str, found: &mut Vec<&'static str>| {
        if !found.contains(&what) {
            found.push(what);
        }
    };
    for _ in 0..3 {
        if let Some(r) = rest.strip_prefix(BOM) {
            rest = r;
            note("bom", &mut found);
        }
        let trimmed = rest.trim_ascii();
        if trimmed.len() != rest.len() {
            let cut = |s: &[u8]| s.iter().any(|b| matches!(b, b'\n' | b'\r'));
            let start = rest.len() - rest.trim_ascii_start().len();
            let end = rest.trim_ascii_end().len();
            let (lead, tail) = (&rest[..start], &rest[end..]);
            if cut(lead) || cut(tail) {
                note("newline", &mut found);
            }
            if lead.iter().chain(tail).any(|b| matches!(b, b' ' | b'\t')) {
                note("whitespace", &mut found);
            }
            rest = trimmed;
        }
        for q in [b'"', b'\''] {
            if rest.len() >= 2 && rest.first() == Some(&q) && rest.last() == Some(&q) {
                rest = &rest[1..rest.len() - 1];
                note("quotes", &mut found);
            }
        }
    }
    found.sort_by_key(|w| REWRITES.iter().position(|r| r == w));
    (rest == expected.as_bytes() && !found.is_empty()).then_some(found)
}

/// The start of a body as Rust would quote it (a BOM shows as `\u{feff}`, a newline as
/// `\n`), at most 200 characters.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut cut: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        cut.push('…');
    }
    format!("{cut:?}")
}

// ------------------------------------------------------------ steps 3–5: the API

/// An API call's outcome, as the checker reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Api<T> {
    Ok(T),
    /// WeCom answered an errcode.
    Refused {
        errcode: i64,
        errmsg: String,
    },
    /// No answer, or an HTTP status other than 200.
    Unreachable(String),
    /// Anything else (an answer that does not decode, a request refused before it was sent).
    Unexpected(String),
}

impl<T> From<Result<T, WecomError>> for Api<T> {
    fn from(r: Result<T, WecomError>) -> Self {
        match r {
            Ok(v) => Api::Ok(v),
            Err(WecomError::Api {
                errcode, errmsg, ..
            }) => Api::Refused { errcode, errmsg },
            Err(e @ (WecomError::Http { .. } | WecomError::Status { .. })) => {
                Api::Unreachable(e.to_string())
            }
            Err(e) => Api::Unexpected(e.to_string()),
        }
    }
}

/// The server's outbound IP in WeCom's errmsg (`…, from ip: 101.43.1.2, more info at …`).
pub fn ip_from_errmsg(errmsg: &str) -> Option<String> {
    let (_, rest) = errmsg.split_once("from ip:")?;
    let ip: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '*'))
        .collect();
    let ip = ip.trim_end_matches([':', '.']);
    (!ip.is_empty() && ip.len() <= 45).then(|| ip.to_owned())
}

/// No corp id or contact secret.
pub fn api_missing() -> Step {
    Step::failed(StepKey::TrustedIp, "api_missing")
}

/// An API failure that is not an errcode worth its own text, in step `key`.
fn api_failure<T>(key: StepKey, api_base: &str, outcome: &Api<T>) -> Option<Step> {
    let step = |finding: &'static str, detail: &str| {
        Step::failed(key, finding)
            .param("api_base", api_base)
            .detail(detail)
    };
    match outcome {
        Api::Ok(_) => None,
        Api::Refused {
            errcode: 60020,
            errmsg,
        } => {
            let st = Step::failed(StepKey::TrustedIp, "ip_untrusted")
                .errcode(60020)
                .param("ip", ip_from_errmsg(errmsg).unwrap_or_else(|| "?".into()))
                .detail(errmsg.clone());
            Some(Step { key, ..st })
        }
        Api::Refused { .. } => None,
        Api::Unreachable(d) => Some(step("api_unreachable", d)),
        Api::Unexpected(d) => Some(step("api_unexpected", d)),
    }
}

/// Step 3: the token fetch and `get_follow_user_list` (when the token came). 60020 on either
/// names the IP; another errcode on the token is a credentials problem; another errcode on
/// the list is left to step 4 (the IP got through).
pub fn trusted_ip(
    token: &Api<()>,
    follow: Option<&Api<Vec<String>>>,
    api_base: &str,
    latency_ms: u64,
) -> Step {
    let key = StepKey::TrustedIp;
    let step = if let Some(s) = api_failure(key, api_base, token) {
        s
    } else if let Api::Refused { errcode, errmsg } = token {
        Step::failed(key, "api_credentials")
            .errcode(*errcode)
            .detail(errmsg.clone())
    } else {
        match follow.and_then(|f| api_failure(key, api_base, f)) {
            Some(s) => s,
            None => Step::ok(key, "ip_trusted"),
        }
    };
    step.latency(latency_ms)
}

/// Step 4: the follow users, and the customers of the first one (`listed`).
pub fn customers(
    follow: &Api<Vec<String>>,
    listed: Option<(&str, &Api<Vec<String>>)>,
    api_base: &str,
    latency_ms: u64,
) -> Step {
    let key = StepKey::ReadCustomers;
    let refused = |errcode: i64, errmsg: &str| {
        Step::failed(key, "customers_error")
            .errcode(errcode)
            .detail(errmsg)
    };
    let step = match follow {
        Api::Refused { errcode, errmsg } => refused(*errcode, errmsg),
        Api::Ok(users) if users.is_empty() => Step::failed(key, "no_follow_users"),
        Api::Ok(users) => match listed {
            None => Step::failed(key, "no_follow_users"),
            Some((userid, outcome)) => {
                let ok = |n: usize| {
                    Step::ok(key, "customers_ok")
                        .param("users", users.len())
                        .param("userid", userid)
                        .param("customers", n)
                };
                match outcome {
                    Api::Ok(ids) => ok(ids.len()),
                    // WeCom answers "not external contact" for a member without customers.
                    Api::Refused { errcode: 84061, .. } => ok(0),
                    Api::Refused { errcode, errmsg } => refused(*errcode, errmsg),
                    other => api_failure(key, api_base, other)
                        .unwrap_or_else(|| Step::failed(key, "api_unexpected")),
                }
            }
        },
        other => {
            api_failure(key, api_base, other).unwrap_or_else(|| Step::failed(key, "api_unexpected"))
        }
    };
    step.latency(latency_ms)
}

/// Step 5: a test contact way for `userid` with `state`, and its deletion.
pub fn contact_way(
    userid: &str,
    state: &str,
    added: &Api<String>,
    deleted: Option<&Api<()>>,
    api_base: &str,
    latency_ms: u64,
) -> Step {
    let key = StepKey::ContactWay;
    let step = match (added, deleted) {
        (Api::Ok(config_id), Some(Api::Ok(()))) => Step::ok(key, "contact_way_ok")
            .param("userid", userid)
            .param("state", state)
            .detail(format!("config_id {config_id}")),
        (Api::Ok(config_id), del) => {
            let mut s = Step::failed(key, "contact_way_not_deleted")
                .param("userid", userid)
                .param("config_id", config_id);
            match del {
                Some(Api::Refused { errcode, errmsg }) => {
                    s = s.errcode(*errcode).detail(errmsg.clone());
                }
                Some(Api::Unreachable(d) | Api::Unexpected(d)) => s = s.detail(d.clone()),
                _ => {}
            }
            s
        }
        (Api::Refused { errcode, errmsg }, _) if *errcode != 60020 => {
            Step::failed(key, "contact_way_error")
                .param("userid", userid)
                .errcode(*errcode)
                .detail(errmsg.clone())
        }
        (other, _) => {
            api_failure(key, api_base, other).unwrap_or_else(|| Step::failed(key, "api_unexpected"))
        }
    };
    step.latency(latency_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &[u8], ms: u64) -> ProbeAnswer {
        ProbeAnswer::Answered {
            status,
            location: None,
            body: body.to_vec(),
            elapsed_ms: ms,
        }
    }

    const URL: &str = "https://scrm.example.com/wecom/callback";
    const ECHO: &str = "1616140317555161061";

    fn url_code(a: &ProbeAnswer) -> (&'static str, StepStatus) {
        let s = probe_answer(URL, ECHO, a, 1000);
        (s.code, s.status)
    }

    #[test]
    fn the_bare_plaintext_in_time_passes() {
        let s = probe_answer(URL, ECHO, &answered(200, ECHO.as_bytes(), 35), 1000);
        assert_eq!((s.code, s.status), ("url_ok", StepStatus::Ok));
        assert_eq!(s.latency_ms, Some(35));
        assert_eq!(s.params["latency_ms"], "35");
        assert_eq!(
            url_code(&answered(200, ECHO.as_bytes(), 700)),
            ("url_ok_slow", StepStatus::Ok)
        );
        // Past the limit is a failure even with the right body.
        assert_eq!(
            url_code(&answered(200, ECHO.as_bytes(), 1001)),
            ("url_timeout", StepStatus::Failed)
        );
    }

    #[test]
    fn rewritten_bodies_say_what_was_added() {
        let cases: [(&[u8], &str); 7] = [
            (b"\xEF\xBB\xBF1616140317555161061", "bom"),
            (b"\"1616140317555161061\"", "quotes"),
            (b"1616140317555161061\n", "newline"),
            (b"1616140317555161061\r\n", "newline"),
            (b"1616140317555161061  ", "whitespace"),
            (
                b"\xEF\xBB\xBF\"1616140317555161061\"\n",
                "bom,quotes,newline",
            ),
            (b"'1616140317555161061'", "quotes"),
        ];
        for (body, changes) in cases {
            let s = probe_answer(URL, ECHO, &answered(200, body, 10), 1000);
            assert_eq!(s.code, "url_body_rewritten", "{body:?}");
            assert_eq!(s.params["changes"], changes, "{body:?}");
            assert_eq!(s.status, StepStatus::Failed);
        }
        assert_eq!(body_rewrites(ECHO.as_bytes(), ECHO), None);
        assert_eq!(body_rewrites(b"\"other\"", ECHO), None);
    }

    #[test]
    fn other_bodies_are_told_apart() {
        assert_eq!(
            url_code(&answered(200, b"{\"echostr\":\"1616140317555161061\"}", 10)).0,
            "url_body_wrapped"
        );
        let s = probe_answer(URL, ECHO, &answered(200, b"<html>hello</html>", 10), 1000);
        assert_eq!(s.code, "url_body_different");
        assert!(s.detail.contains("<html>hello</html>"), "{}", s.detail);
        assert_eq!(url_code(&answered(200, b"", 10)).0, "url_body_different");
        // A BOM is visible in the detail.
        let s = probe_answer(URL, ECHO, &answered(200, b"\xEF\xBB\xBFx", 10), 1000);
        assert!(s.detail.contains("\\u{feff}"), "{}", s.detail);
    }

    #[test]
    fn statuses_and_yutang_refusals() {
        assert_eq!(url_code(&answered(404, b"", 10)).0, "url_not_found");
        let s = probe_answer(URL, ECHO, &answered(502, b"Bad Gateway", 10), 1000);
        assert_eq!((s.code, s.params["status"].as_str()), ("url_status", "502"));
        assert_eq!(
            url_code(&answered(403, b"-40001 wecom_signature_mismatch", 10)).0,
            "url_other_token"
        );
        assert_eq!(
            url_code(&answered(403, b"-40005 wecom_receive_id_mismatch", 10)).0,
            "url_other_corp"
        );
        assert_eq!(
            url_code(&answered(403, b"-40007 wecom_decrypt_error", 10)).0,
            "url_other_key"
        );
        let s = probe_answer(URL, ECHO, &answered(403, b"-40001 x", 10), 1000);
        assert_eq!(s.errcode, Some(-40001));
        // A proxy's own 403 is just a status.
        assert_eq!(url_code(&answered(403, b"Forbidden", 10)).0, "url_status");
        assert_eq!(
            url_code(&answered(
                503,
                b"not configured: wecom.corp_id is empty",
                10
            ))
            .0,
            "url_not_configured_there"
        );
        let s = probe_answer(
            URL,
            ECHO,
            &ProbeAnswer::Answered {
                status: 301,
                location: Some("https://scrm.example.com/wecom/callback/".into()),
                body: Vec::new(),
                elapsed_ms: 5,
            },
            1000,
        );
        assert_eq!(s.code, "url_redirect");
        assert_eq!(
            s.params["location"],
            "https://scrm.example.com/wecom/callback/"
        );
    }

    #[test]
    fn transport_failures_name_the_host() {
        for (kind, code) in [
            (TransportFailure::Dns, "url_dns"),
            (TransportFailure::Connect, "url_connect"),
            (TransportFailure::Tls, "url_tls"),
            (TransportFailure::Timeout, "url_timeout"),
            (TransportFailure::Other, "url_transport"),
        ] {
            let s = probe_answer(
                "https://scrm.example.com:8443/wecom/callback",
                ECHO,
                &ProbeAnswer::Failed {
                    kind,
                    detail: "boom".into(),
                    elapsed_ms: 3,
                },
                1000,
            );
            assert_eq!((s.code, s.status), (code, StepStatus::Failed));
            assert_eq!(s.params["host"], "scrm.example.com:8443");
            assert_eq!(s.detail, "boom");
        }
    }

    #[test]
    fn the_self_round_trip_names_wecom_s_codes() {
        let ok = round_trip(ECHO, "ww1", &Ok(ECHO.into()));
        assert_eq!((ok.code, ok.status), ("crypto_ok", StepStatus::Ok));
        for (code, want) in [
            (-40001, "signature_mismatch"),
            (-40004, "aes_key_invalid"),
            (-40005, "receive_id_mismatch"),
            (-40007, "crypto_failed"),
        ] {
            let s = round_trip(
                ECHO,
                "ww1",
                &Err(Refusal {
                    code: Some(code),
                    detail: "x".into(),
                }),
            );
            assert_eq!((s.code, s.errcode), (want, Some(i64::from(code))));
        }
        assert_eq!(
            round_trip(ECHO, "ww1", &Ok("other".into())).code,
            "crypto_failed"
        );
        assert_eq!(aes_key_invalid("short").errcode, Some(-40004));
        assert_eq!(
            crypto_missing(&["corp_id", "callback_token"]).params["missing"],
            "corp_id,callback_token"
        );
    }

    #[test]
    fn the_ip_comes_from_wecom_s_errmsg() {
        for (msg, ip) in [
            (
                "not allow to access from your ip, hint: [1688706313500611129503023], from ip: 116.228.224.178, more info at https://open.work.weixin.qq.com/devtool/query?e=60020",
                Some("116.228.224.178"),
            ),
            ("x, from ip: 2001:db8::1, more info", Some("2001:db8::1")),
            ("from ip:  101.43.**", Some("101.43.**")),
            ("not allow to access from your ip", None),
            ("from ip: , more", None),
        ] {
            assert_eq!(ip_from_errmsg(msg).as_deref(), ip, "{msg}");
        }
    }

    fn refused<T>(errcode: i64, errmsg: &str) -> Api<T> {
        Api::Refused {
            errcode,
            errmsg: errmsg.into(),
        }
    }

    #[test]
    fn trusted_ip_reads_60020_and_credentials() {
        let base = "https://qyapi.weixin.qq.com";
        let users = Api::Ok(vec!["zhangsan".to_owned()]);
        let s = trusted_ip(&Api::Ok(()), Some(&users), base, 12);
        assert_eq!(
            (s.code, s.status, s.latency_ms),
            ("ip_trusted", StepStatus::Ok, Some(12))
        );
        let s = trusted_ip(
            &Api::Ok(()),
            Some(&refused(60020, "not allow, from ip: 1.2.3.4, more")),
            base,
            1,
        );
        assert_eq!(
            (s.code, s.params["ip"].as_str()),
            ("ip_untrusted", "1.2.3.4")
        );
        assert_eq!(s.key, StepKey::TrustedIp);
        let s = trusted_ip(&refused(60020, "no ip here"), None, base, 1);
        assert_eq!((s.code, s.params["ip"].as_str()), ("ip_untrusted", "?"));
        let s = trusted_ip(&refused(40001, "invalid credential"), None, base, 1);
        assert_eq!((s.code, s.errcode), ("api_credentials", Some(40001)));
        let s = trusted_ip(&Api::Unreachable("refused".into()), None, base, 1);
        assert_eq!(
            (s.code, s.params["api_base"].as_str()),
            ("api_unreachable", base)
        );
        // Another errcode on the list: the IP got through; step 4 reports the code.
        let s = trusted_ip(
            &Api::Ok(()),
            Some(&refused(48002, "api forbidden")),
            base,
            1,
        );
        assert_eq!(s.code, "ip_trusted");
    }

    #[test]
    fn customers_count_and_errcodes() {
        let base = "b";
        let users = Api::Ok(vec!["zhangsan".to_owned(), "lisi".to_owned()]);
        let listed = Api::Ok(vec!["wm1".to_owned(), "wm2".to_owned(), "wm3".to_owned()]);
        let s = customers(&users, Some(("zhangsan", &listed)), base, 5);
        assert_eq!((s.code, s.status), ("customers_ok", StepStatus::Ok));
        assert_eq!(
            (
                s.params["users"].as_str(),
                s.params["customers"].as_str(),
                s.params["userid"].as_str()
            ),
            ("2", "3", "zhangsan")
        );
        let none = refused(84061, "not external contact");
        let s = customers(&users, Some(("zhangsan", &none)), base, 5);
        assert_eq!(
            (s.code, s.params["customers"].as_str()),
            ("customers_ok", "0")
        );
        let s = customers(&Api::Ok(Vec::new()), None, base, 5);
        assert_eq!(s.code, "no_follow_users");
        let s = customers(&refused(48002, "api forbidden"), None, base, 5);
        assert_eq!((s.code, s.errcode), ("customers_error", Some(48002)));
        let s = customers(
            &users,
            Some(("zhangsan", &refused(60011, "no privilege"))),
            base,
            5,
        );
        assert_eq!((s.code, s.errcode), ("customers_error", Some(60011)));
    }

    #[test]
    fn contact_ways_are_created_and_deleted() {
        let base = "b";
        let id = Api::Ok("cw1".to_owned());
        let s = contact_way("zhangsan", "ytcheck1", &id, Some(&Api::Ok(())), base, 9);
        assert_eq!((s.code, s.status), ("contact_way_ok", StepStatus::Ok));
        assert_eq!(s.params["state"], "ytcheck1");
        let s = contact_way(
            "zhangsan",
            "s",
            &id,
            Some(&refused(40058, "invalid config_id")),
            base,
            9,
        );
        assert_eq!(
            (s.code, s.params["config_id"].as_str()),
            ("contact_way_not_deleted", "cw1")
        );
        let s = contact_way(
            "zhangsan",
            "s",
            &refused(48002, "api forbidden"),
            None,
            base,
            9,
        );
        assert_eq!((s.code, s.errcode), ("contact_way_error", Some(48002)));
        let s = contact_way(
            "zhangsan",
            "s",
            &refused(60020, "from ip: 9.9.9.9,"),
            None,
            base,
            9,
        );
        assert_eq!((s.code, s.key), ("ip_untrusted", StepKey::ContactWay));
    }

    #[test]
    fn every_code_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for c in CODES {
            assert!(seen.insert(c), "{c} twice");
        }
        assert_eq!(StepKey::ALL.len(), 5);
    }
}
