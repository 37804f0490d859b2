//! Configuration: defaults, then a TOML file, then `YUTANG_…` environment variables (`__`
//! separates nesting, e.g. `YUTANG_AUTH__LOGIN_MAX_FAILURES`), then command-line flags.
//! `YUTANG_<KEY>_FILE` reads a value from a file (container secrets).

use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to serve HTTP on.
    pub listen: String,
    /// `sqlite://path` (embedded default) or `postgres://user:password@host/db`.
    pub database_url: String,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub http: HttpSettings,
    pub console: ConsoleSettings,
    pub wecom: WecomSettings,
    pub limits: LimitsSettings,
    pub h5: H5Settings,
    pub acquisition: AcquisitionSettings,
    pub webhooks: WebhookSettings,
    pub analytics: AnalyticsSettings,
    pub journeys: JourneySettings,
    pub ratings: RatingSettings,
    /// Key for secrets stored in the database (`YUTANG_SECRET_KEY`, or `YUTANG_SECRET_KEY_FILE`):
    /// 64 hex digits. Unset with SQLite: a key file is generated beside the database. See
    /// `secret_box`.
    pub secret_key: Option<Secret>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    pub max_connections: u32,
    /// SQLite `synchronous=FULL`: acknowledged commits survive power loss (see
    /// docs/decisions/0001-storage.md). Turn off only for throwaway databases.
    pub sqlite_synchronous_full: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// A session ends after this many minutes without activity.
    pub session_idle_minutes: i64,
    /// Failed logins for one username within the window before it is locked.
    pub login_max_failures: i64,
    /// Failed logins from one address within the window before it is locked.
    pub login_max_failures_per_ip: i64,
    pub login_window_minutes: i64,
    pub lockout_minutes: i64,
    /// Argon2id cost. Defaults follow OWASP (19 MiB, 2 passes); tests lower them for speed.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    pub cookie_secure: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A request taking longer is answered 408 and abandoned.
    pub request_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// `zh` (Simplified Chinese, default) or `en`.
    pub default_lang: String,
}

/// The customer-facing H5 pages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct H5Settings {
    /// The brand's order page a flash-sale winner pays on (Yutang takes no payment): an
    /// `http(s)://` address where `{claim_id}` and `{sku}` are filled in, e.g.
    /// `https://shop.example.com/pay?flash_claim={claim_id}&sku={sku}`. Unset: the win shows
    /// the hold's countdown without a link.
    pub order_url: Option<String>,
    /// The address customers reach the H5 pages at (`https://m.example.com`, or with a path
    /// prefix behind a proxy: `https://www.example.com/yutang`): the QR codes and posters of the
    /// console's share pages link to `{public_url}/h5/…`. An absolute http(s) URL without query
    /// or fragment. Unset: links are built from the request's `Host` (the share page says so).
    pub public_url: Option<String>,
}

/// Acquisition (引流): the store-stand posters of live codes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AcquisitionSettings {
    /// The font file the posters' texts are drawn with (TrueType / OpenType, or a `.ttc`
    /// collection): it must have Chinese glyphs. Unset: the first of the usual system paths
    /// that exists (fonts-noto-cjk, WenQuanYi, Source Han; `acquisition::poster`). Without
    /// one, a poster answers 503 `poster_font_missing`.
    pub poster_font: Option<String>,
    /// Which face of a `.ttc` collection `poster_font` names (0 when unset; Noto Sans CJK's
    /// Simplified Chinese face is 2).
    pub poster_font_index: Option<u32>,
}

impl H5Settings {
    /// [`H5Settings::public_url`] without a trailing `/`, ready for `+ "/h5/…"`.
    pub fn public_base(&self) -> Option<&str> {
        self.public_url.as_deref().map(|u| u.trim_end_matches('/'))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSettings {
    /// How far in the future (by this server's clock) the time of a fact a client reports
    /// (an event's `occurred_at`, an order's `paid_at`) may be: clients' clocks drift.
    pub future_skew_minutes: i64,
    /// The largest product image accepted (`POST /api/v1/media`, the console's 商品图片), in
    /// bytes; at most 16 MiB. Default 2 MiB.
    pub max_image_bytes: usize,
    /// How far a customer list counts its total (`GET /api/v1/customers`, the console's
    /// 客户 list): past this many matches (or past the page asked for, if further) the count
    /// stops and the total is a lower bound (`total_exact: false`, shown as "10000+"), so a
    /// page of a 10M-customer brand never counts everyone. 1–100,000,000; default 10,000.
    pub list_count_cap: i64,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        Self {
            future_skew_minutes: 10,
            max_image_bytes: yutang_core::media::DEFAULT_MAX_BYTES,
            list_count_cap: 10_000,
        }
    }
}

/// The dashboard's daily rollups (`yutang_app::analytics`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsSettings {
    /// Whether this node keeps the rollups current (default true): follows the event log,
    /// runs requested rebuilds and the hourly refresh of today and yesterday. Off: a node
    /// that only answers the API while another keeps them, or a test that drives them by hand.
    pub follow: bool,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        Self { follow: true }
    }
}

/// The journey engine (`yutang_app::journeys`, docs/journeys.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JourneySettings {
    /// Whether this node runs the engine (default true): enrols from the event log, fires
    /// schedules and group SOPs, advances runs. Off: a node that only answers the API while
    /// others run it, or a test that drives the engine by hand (a background round would
    /// race the test's own).
    pub run: bool,
}

impl Default for JourneySettings {
    fn default() -> Self {
        Self { run: true }
    }
}

/// Service ratings (`yutang_app::ratings`, docs/ratings.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RatingSettings {
    /// A rating at or under this score (1–4, default 2) is low: the rated guide's store
    /// managers are told through a WeCom app message. Out of range: the default.
    pub low_score: i64,
}

impl Default for RatingSettings {
    fn default() -> Self {
        Self {
            low_score: yutang_core::ratings::DEFAULT_LOW_SCORE,
        }
    }
}

/// Outbound webhooks (`/api/v1/webhooks`): how events are delivered to integrations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Whether this node runs the webhook follower and sender (default true). Off: a node
    /// that only answers the API while others deliver, or a test that drives them by hand.
    pub deliver: bool,
    /// Allow targets on loopback, private and link-local addresses (an integration on the
    /// same host or network). Off by default: a webhook is otherwise a way to make this
    /// server send requests into its own network (server-side request forgery).
    pub allow_private_targets: bool,
    /// Attempts per delivery before it is marked failed (1–30; default 12, about a day of
    /// retries with the backoff in docs/integrations.md).
    pub max_attempts: i64,
    /// Failed attempts in a row, across a subscription's deliveries, after which the
    /// subscription is paused and an alert raised (1–10,000; default 20).
    pub pause_after_failures: i64,
    /// How long one POST may take, connect to last byte (1–60 s; default 10).
    pub timeout_secs: u64,
    /// POSTs in flight at once per node (1–2,000; default 256): with a receiver answering
    /// in 200 ms, 256 in flight carry about 1,000 events a second.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            deliver: true,
            allow_private_targets: false,
            max_attempts: 12,
            pause_after_failures: 20,
            timeout_secs: 10,
            concurrency: 256,
        }
    }
}

/// WeCom (企业微信) connection of a self-built app. Also read from `YUTANG_WECOM_CORP_ID`,
/// `YUTANG_WECOM_CONTACT_SECRET`, `YUTANG_WECOM_CALLBACK_TOKEN`,
/// `YUTANG_WECOM_ENCODING_AES_KEY`, `YUTANG_WECOM_API_BASE`, `YUTANG_WECOM_LOGIN_BASE` and
/// `YUTANG_WECOM_OAUTH_BASE` (and their `_FILE` forms).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WecomSettings {
    /// 企业ID; empty means WeCom is not connected.
    pub corp_id: String,
    /// The customer-contact (客户联系) secret used for API calls.
    pub contact_secret: Option<Secret>,
    /// The callback Token configured with the app's receive-message URL.
    pub callback_token: Option<Secret>,
    /// The callback EncodingAESKey (43 characters).
    pub encoding_aes_key: Option<Secret>,
    /// API base URL: the official host, or a proxy (or the fake WeCom in tests).
    pub api_base: String,
    /// Host of WeCom's web-login (QR) page that "Sign in with WeCom" sends a desktop browser
    /// to (`/wwlogin/sso/login`); the fake WeCom's address in tests.
    pub login_base: String,
    /// Host of the OAuth page that signs in a page opened inside the WeCom client
    /// (`/connect/oauth2/authorize`); the fake WeCom's address in tests.
    pub oauth_base: String,
    /// How long the setup checker waits for the public callback URL to answer WeCom's URL
    /// verification (WeCom allows 1 s; 100–10000).
    pub verify_timeout_ms: u64,
}

impl Default for WecomSettings {
    fn default() -> Self {
        Self {
            corp_id: String::new(),
            contact_secret: None,
            callback_token: None,
            encoding_aes_key: None,
            api_base: "https://qyapi.weixin.qq.com".into(),
            login_base: "https://login.work.weixin.qq.com".into(),
            oauth_base: "https://open.weixin.qq.com".into(),
            verify_timeout_ms: 1000,
        }
    }
}

/// A secret setting. Never printed: `Debug` and `Serialize` (used by `yutang config show`)
/// show `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://yutang.db".into(),
            database: DatabaseSettings::default(),
            auth: AuthSettings::default(),
            http: HttpSettings::default(),
            console: ConsoleSettings::default(),
            wecom: WecomSettings::default(),
            limits: LimitsSettings::default(),
            h5: H5Settings::default(),
            acquisition: AcquisitionSettings::default(),
            webhooks: WebhookSettings::default(),
            analytics: AnalyticsSettings::default(),
            journeys: JourneySettings::default(),
            ratings: RatingSettings::default(),
            secret_key: None,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            sqlite_synchronous_full: true,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_idle_minutes: 12 * 60,
            login_max_failures: 5,
            login_max_failures_per_ip: 50,
            login_window_minutes: 15,
            lockout_minutes: 15,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            cookie_secure: false,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
        }
    }
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            default_lang: "zh".into(),
        }
    }
}

/// Top-level keys; environment variables whose first segment is not one of these are ignored
/// (so `YUTANG_TEST_PG` and friends do not trip `deny_unknown_fields`).
const TOP_LEVEL: [&str; 11] = [
    "listen",
    "database_url",
    "database",
    "auth",
    "http",
    "console",
    "wecom",
    "limits",
    "h5",
    "acquisition",
    "secret_key",
];

/// Flag values that override everything else; `None` leaves the lower layers alone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Settings {
    /// Load with the documented precedence. `file` is read if given (missing file is an
    /// error); otherwise `yutang.toml` in the working directory is read when present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self> {
        Self::load_from(file, overrides, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given explicitly (for tests).
    pub fn load_from(
        file: Option<&Path>,
        overrides: &Overrides,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(p) => {
                if !p.exists() {
                    return Err(AppError::Internal(format!(
                        "config file {} does not exist",
                        p.display()
                    )));
                }
                fig = fig.merge(Toml::file_exact(p));
            }
            None => {
                if Path::new("yutang.toml").exists() {
                    fig = fig.merge(Toml::file_exact("yutang.toml"));
                }
            }
        }
        // Resolve `YUTANG_X_FILE` into `YUTANG_X` before handing the environment to figment.
        let mut vars: Vec<(String, String)> = Vec::new();
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("YUTANG_") else {
                continue;
            };
            // `YUTANG_WECOM_CORP_ID` is the documented spelling of `wecom.corp_id`.
            let rest = match rest.strip_prefix("WECOM_") {
                Some(key) if !key.starts_with('_') => format!("WECOM__{key}"),
                _ => rest.to_owned(),
            };
            let rest = rest.as_str();
            if let Some(base) = rest.strip_suffix("_FILE") {
                let content = std::fs::read_to_string(&v)
                    .map_err(|e| AppError::Internal(format!("{k}: cannot read {v}: {e}")))?;
                vars.push((
                    base.to_owned(),
                    content.trim_end_matches(['\r', '\n']).to_owned(),
                ));
            } else {
                vars.push((rest.to_owned(), v));
            }
        }
        let known: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(k, _)| {
                let first = k.to_ascii_lowercase();
                let first = first.split("__").next().unwrap_or_default().to_owned();
                TOP_LEVEL.contains(&first.as_str())
            })
            .collect();
        // figment's own `Env` reads the process environment; we feed it our filtered copy.
        fig = fig.merge(figment_env(&known));
        fig = fig.merge(Serialized::defaults(overrides));
        let s: Settings = fig
            .extract()
            .map_err(|e| AppError::Internal(format!("configuration: {e}")))?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<()> {
        if !matches!(self.console.default_lang.as_str(), "zh" | "en") {
            return Err(AppError::Internal(
                "configuration: console.default_lang must be \"zh\" or \"en\"".into(),
            ));
        }
        if !(1..=16 * 1024 * 1024).contains(&self.limits.max_image_bytes) {
            return Err(AppError::Internal(
                "configuration: limits.max_image_bytes must be 1–16777216".into(),
            ));
        }
        let w = &self.webhooks;
        if !(1..=30).contains(&w.max_attempts)
            || !(1..=10_000).contains(&w.pause_after_failures)
            || !(1..=60).contains(&w.timeout_secs)
            || !(1..=2_000).contains(&w.concurrency)
        {
            return Err(AppError::Internal(
                "configuration: webhooks.max_attempts must be 1–30, pause_after_failures 1–10000, timeout_secs 1–60 and concurrency 1–2000".into(),
            ));
        }
        if !(1..=100_000_000).contains(&self.limits.list_count_cap) {
            return Err(AppError::Internal(
                "configuration: limits.list_count_cap must be 1–100000000".into(),
            ));
        }
        if !(0..=24 * 60).contains(&self.limits.future_skew_minutes) {
            return Err(AppError::Internal(
                "configuration: limits.future_skew_minutes must be 0–1440".into(),
            ));
        }
        if self.auth.login_max_failures < 1 || self.auth.lockout_minutes < 1 {
            return Err(AppError::Internal(
                "configuration: auth.login_max_failures and auth.lockout_minutes must be ≥ 1"
                    .into(),
            ));
        }
        if !(100..=10_000).contains(&self.wecom.verify_timeout_ms) {
            return Err(AppError::Internal(
                "configuration: wecom.verify_timeout_ms must be 100–10000".into(),
            ));
        }
        for (name, base) in [
            ("wecom.login_base", &self.wecom.login_base),
            ("wecom.oauth_base", &self.wecom.oauth_base),
        ] {
            let ok = (base.starts_with("https://") || base.starts_with("http://"))
                && !base.contains(['?', '#'])
                && !base.chars().any(|c| c.is_control() || c.is_whitespace());
            if !ok {
                return Err(AppError::Internal(format!(
                    "configuration: {name} must be an http(s):// address without query or fragment"
                )));
            }
        }
        if let Some(u) = &self.h5.order_url {
            let scheme_ok = u.starts_with("https://") || u.starts_with("http://");
            if !scheme_ok || u.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(AppError::Internal(
                    "configuration: h5.order_url must be an http(s):// address without spaces"
                        .into(),
                ));
            }
        }
        if let Some(u) = &self.h5.public_url {
            check_public_url(u)?;
        }
        if self
            .acquisition
            .poster_font
            .as_deref()
            .is_some_and(|p| p.trim().is_empty())
        {
            return Err(AppError::Internal(
                "configuration: acquisition.poster_font is a font file's path; leave it unset for the system fonts".into(),
            ));
        }
        yutang_store::DbUrl::parse(&self.database_url).map_err(AppError::Store)?;
        Ok(())
    }

    /// The effective configuration as TOML with secrets masked (`yutang config show`).
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        if let Ok(u) = yutang_store::DbUrl::parse(&self.database_url) {
            shown.database_url = u.to_string();
        }
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// `h5.public_url`: an absolute `http(s)://host[/path]` without user, query or fragment.
fn check_public_url(u: &str) -> Result<()> {
    let bad = || {
        AppError::Internal(
            "configuration: h5.public_url must be an absolute http(s):// address without query or fragment, e.g. https://m.example.com".into(),
        )
    };
    if u.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad());
    }
    let parsed = url::Url::parse(u).map_err(|_| bad())?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && !u.contains(['?', '#']);
    if ok { Ok(()) } else { Err(bad()) }
}

/// Turn `KEY__SUB=value` pairs into a figment provider with typed values (numbers and
/// booleans parse as such, like figment's own `Env`).
fn figment_env(vars: &[(String, String)]) -> figment::providers::Serialized<figment::value::Dict> {
    use figment::value::{Dict, Value};
    let mut root = Dict::new();
    for (k, v) in vars {
        let path: Vec<String> = k.split("__").map(|p| p.to_ascii_lowercase()).collect();
        let value: Value = v.parse().unwrap_or_else(|_| Value::from(v.clone()));
        insert_path(&mut root, &path, value);
    }
    Serialized::defaults(root)
}

fn insert_path(dict: &mut figment::value::Dict, path: &[String], value: figment::value::Value) {
    use figment::value::{Dict, Value};
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert_path(inner, rest, value);
            } else {
                let mut inner = Dict::new();
                insert_path(&mut inner, rest, value);
                *entry = Value::from(inner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_sqlite_on_localhost() {
        let s = Settings::load_from(None, &Overrides::default(), env(&[])).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://yutang.db");
        assert_eq!(s.limits.future_skew_minutes, 10);
    }

    #[test]
    fn future_skew_is_a_setting() {
        let s = Settings::load_from(
            None,
            &Overrides::default(),
            env(&[("YUTANG_LIMITS__FUTURE_SKEW_MINUTES", "3")]),
        )
        .unwrap();
        assert_eq!(s.limits.future_skew_minutes, 3);
        let e = env(&[("YUTANG_LIMITS__FUTURE_SKEW_MINUTES", "-1")]);
        assert!(Settings::load_from(None, &Overrides::default(), e).is_err());
    }

    #[test]
    fn the_list_count_cap_is_a_setting() {
        let none = env(&[]);
        let s = Settings::load_from(None, &Overrides::default(), none).unwrap();
        assert_eq!(s.limits.list_count_cap, 10_000);
        let e = env(&[("YUTANG_LIMITS__LIST_COUNT_CAP", "500")]);
        let s = Settings::load_from(None, &Overrides::default(), e).unwrap();
        assert_eq!(s.limits.list_count_cap, 500);
        for bad in ["0", "-5", "100000001"] {
            let e = env(&[("YUTANG_LIMITS__LIST_COUNT_CAP", bad)]);
            assert!(
                Settings::load_from(None, &Overrides::default(), e).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_h5_order_url_is_an_http_address() {
        let url = "https://shop.example.com/pay?c={claim_id}";
        let s = Settings::load_from(
            None,
            &Overrides::default(),
            env(&[("YUTANG_H5__ORDER_URL", url)]),
        )
        .unwrap();
        assert_eq!(s.h5.order_url.as_deref(), Some(url));
        for bad in ["javascript:alert(1)", "https://a b", "shop.example.com"] {
            let e = env(&[("YUTANG_H5__ORDER_URL", bad)]);
            assert!(
                Settings::load_from(None, &Overrides::default(), e).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_h5_public_url_is_an_absolute_address() {
        for (url, base) in [
            ("https://m.example.com", "https://m.example.com"),
            (
                "https://www.example.com/yutang/",
                "https://www.example.com/yutang",
            ),
            ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
        ] {
            let s = Settings::load_from(
                None,
                &Overrides::default(),
                env(&[("YUTANG_H5__PUBLIC_URL", url)]),
            )
            .unwrap();
            assert_eq!(s.h5.public_url.as_deref(), Some(url));
            assert_eq!(s.h5.public_base(), Some(base));
        }
        for bad in [
            "m.example.com",
            "/h5",
            "ftp://m.example.com",
            "https://m.example.com/?a=1",
            "https://m.example.com/#top",
            "https://m.example.com/?",
            "https://user:pw@m.example.com",
            "https://m.example .com",
            "javascript:alert(1)",
        ] {
            let e = env(&[("YUTANG_H5__PUBLIC_URL", bad)]);
            assert!(
                Settings::load_from(None, &Overrides::default(), e).is_err(),
                "{bad}"
            );
        }
        let s = Settings::load_from(None, &Overrides::default(), env(&[])).unwrap();
        assert_eq!(s.h5.public_base(), None);
    }

    #[test]
    fn precedence_is_file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("y.toml");
        std::fs::write(
            &f,
            "listen = \"0.0.0.0:1\"\ndatabase_url = \"sqlite://file.db\"\n[auth]\nlogin_max_failures = 9\nlockout_minutes = 3\n",
        )
        .unwrap();
        let e = env(&[
            ("YUTANG_DATABASE_URL", "postgres://u:pw@h/db"),
            ("YUTANG_AUTH__LOCKOUT_MINUTES", "7"),
            ("YUTANG_TEST_PG", "ignored"),
            ("PATH", "/bin"),
        ]);
        let o = Overrides {
            listen: Some("127.0.0.1:9999".into()),
            database_url: None,
        };
        let s = Settings::load_from(Some(&f), &o, e).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9999");
        assert_eq!(s.database_url, "postgres://u:pw@h/db");
        assert_eq!(s.auth.login_max_failures, 9);
        assert_eq!(s.auth.lockout_minutes, 7);
        let shown = s.to_masked_toml();
        assert!(!shown.contains("pw@"), "{shown}");
    }

    #[test]
    fn file_indirection_for_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("url");
        std::fs::write(&f, "postgres://a:b@c/d\n").unwrap();
        let e = vec![(
            "YUTANG_DATABASE_URL_FILE".to_string(),
            f.display().to_string(),
        )];
        let s = Settings::load_from(None, &Overrides::default(), e).unwrap();
        assert_eq!(s.database_url, "postgres://a:b@c/d");
    }

    #[test]
    fn wecom_env_names_and_masked_secrets() {
        let e = env(&[
            ("YUTANG_WECOM_CORP_ID", "ww1234567890abcdef"),
            ("YUTANG_WECOM_CONTACT_SECRET", "s3cr3t-contact"),
            ("YUTANG_WECOM_CALLBACK_TOKEN", "tok3n"),
            ("YUTANG_WECOM_API_BASE", "http://127.0.0.1:9/"),
        ]);
        let s = Settings::load_from(None, &Overrides::default(), e).unwrap();
        assert_eq!(s.wecom.corp_id, "ww1234567890abcdef");
        assert_eq!(
            s.wecom.contact_secret.as_ref().map(Secret::expose),
            Some("s3cr3t-contact")
        );
        assert_eq!(s.wecom.api_base, "http://127.0.0.1:9/");
        let shown = s.to_masked_toml();
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("tok3n"),
            "{shown}"
        );
        assert!(shown.contains("contact_secret = \"***\""), "{shown}");
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }

    #[test]
    fn typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("y.toml");
        std::fs::write(&f, "lisen = \"x\"\n").unwrap();
        assert!(Settings::load_from(Some(&f), &Overrides::default(), env(&[])).is_err());
        let e = env(&[("YUTANG_DATABASE_URL", "yutang.db")]);
        assert!(Settings::load_from(None, &Overrides::default(), e).is_err());
        let e = env(&[("YUTANG_AUTH__NOPE", "1")]);
        assert!(Settings::load_from(None, &Overrides::default(), e).is_err());
    }
}
