//! An async WeCom (企业微信) API client for the customer-contact (客户联系) APIs.
//!
//! One [`WecomClient`] holds one corp id and **one** secret (the customer-contact secret, or a
//! self-built app's secret configured as "可调用应用"): WeCom issues access tokens per secret
//! (91039), so a second secret means a second client.
//!
//! What every call gets:
//! - **An access token**, fetched with `GET /cgi-bin/gettoken` (91039), cached, and refreshed
//!   before it expires (`expires_in`, normally 7200 s, minus
//!   [`ClientConfig::token_refresh_margin`]); concurrent callers share one fetch. When WeCom
//!   rejects the token anyway (40014 invalid, 42001 expired; WeCom "may invalidate tokens
//!   early", 91039) the token is dropped, fetched again and the call retried **once**. 40001 is
//!   "invalid secret" on WeCom (90455) and is never retried.
//! - **Retries with exponential backoff** on -1 (system busy; 90455 advises at most 3 retries),
//!   45009 (frequency limit) and 45033 (concurrency limit), up to
//!   [`ClientConfig::max_retries`]. Transport errors are **not** retried here, because the
//!   write endpoints are not idempotent (a retried `add_contact_way` could create two codes):
//!   the job queue decides, helped by [`WecomError::is_transient`].
//! - **A client-side rate limit**: a token bucket per API path ([`RateLimit`], default
//!   10,000/min, 90454).
//! - **A log line** (`tracing`, target `yutang_wecom::client`) with the API path, errcode,
//!   attempt, duration and a trace id; the access token and the secret are never logged.
//! - **JS-SDK tickets** ([`WecomClient::jsapi_ticket`], 96909) cached per kind like the token
//!   (same margin, one fetch shared by concurrent callers), because WeCom allows only 400
//!   fetches per corp and 100 per app an hour; a ticket is never logged nor put in an error.
//! - **The same path for uploads**: `media/upload_attachment` (96347) sends its file as
//!   `multipart/form-data` through the token refresh, retries, rate limit and logging above;
//!   the form is built anew for each attempt.
//! - **Client-side validation** of the limits WeCom documents (see each request type), so a
//!   request WeCom would refuse is refused before it is sent, with a field name.
//!
//! The endpoints are in [`api`] as methods of [`WecomClient`], with their request and response
//! types.

pub mod api;
mod error;
pub mod image;
mod limiter;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

pub use error::{WecomError, codes};
pub use limiter::RateLimit;

use api::TicketKind;

use limiter::Limiter;

/// WeCom's official API host.
pub const DEFAULT_API_BASE: &str = "https://qyapi.weixin.qq.com";

const GETTOKEN_PATH: &str = "/cgi-bin/gettoken";

/// How a [`WecomClient`] talks to WeCom.
#[derive(Clone)]
pub struct ClientConfig {
    /// Base URL without a trailing slash; [`DEFAULT_API_BASE`] unless overridden (a proxy, or
    /// the fake server in tests and the demo).
    pub api_base: String,
    /// The corp id (企业ID).
    pub corp_id: String,
    /// The secret the tokens are fetched with. `Debug` never prints it.
    pub secret: String,
    /// Refresh a cached token this long before WeCom says it expires (never less than half its
    /// lifetime is used).
    pub token_refresh_margin: Duration,
    /// How often a call is retried on -1 / 45009 / 45033.
    pub max_retries: u32,
    /// First backoff delay; doubled per retry.
    pub backoff_base: Duration,
    /// Upper bound of a backoff delay.
    pub backoff_max: Duration,
    /// Client-side rate limit per API path.
    pub rate_limit: RateLimit,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl ClientConfig {
    /// The defaults, for this corp and secret: official host, refresh 5 minutes early,
    /// 3 retries from 200 ms up to 5 s, 10,000 calls/min per API, 15 s request timeout.
    pub fn new(corp_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            corp_id: corp_id.into(),
            secret: secret.into(),
            token_refresh_margin: Duration::from_secs(300),
            max_retries: 3,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(5),
            rate_limit: RateLimit::default(),
            request_timeout: Duration::from_secs(15),
        }
    }

    /// The same, against another base URL.
    pub fn with_api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = api_base.into();
        self
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_base", &self.api_base)
            .field("corp_id", &self.corp_id)
            .field("secret", &"<redacted>")
            .field("token_refresh_margin", &self.token_refresh_margin)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("rate_limit", &self.rate_limit)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

#[derive(Clone)]
struct CachedToken {
    token: String,
    refresh_at: Instant,
}

/// A JS-SDK ticket and when to fetch the next. No `Debug`: a ticket must not reach a log line.
struct CachedTicket {
    ticket: String,
    refresh_at: Instant,
}

/// How long a credential WeCom says lives `lifetime` is used: `lifetime - margin`, but never
/// less than half of `lifetime`.
fn usable_lifetime(lifetime: Duration, margin: Duration) -> Duration {
    lifetime.saturating_sub(margin).max(lifetime / 2)
}

struct Inner {
    config: ClientConfig,
    api_base: String,
    http: reqwest::Client,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    /// The corp JS-SDK ticket; the mutex is held across a fetch (single flight).
    corp_ticket: tokio::sync::Mutex<Option<CachedTicket>>,
    /// The app JS-SDK ticket (`agent_config`) of this client's app.
    agent_ticket: tokio::sync::Mutex<Option<CachedTicket>>,
    limiter: Limiter,
}

/// The WeCom API client. Cheap to clone (an `Arc` inside); share one per secret.
#[derive(Clone)]
pub struct WecomClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for WecomClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WecomClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

/// The answer of `get_jsapi_ticket` / `ticket/get` (96909). No `Debug`, on purpose.
#[derive(serde::Deserialize)]
struct TicketResponse {
    #[serde(default)]
    ticket: String,
    #[serde(default = "default_ticket_ttl")]
    expires_in: u64,
}

fn default_ticket_ttl() -> u64 {
    api::JSAPI_TICKET_TTL_SECS
}

/// Which errcodes [`WecomClient::with_retries`] backs off and retries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RetryOn {
    /// -1, 45009 and 45033.
    BusyAndLimits,
    /// -1 and 45033 only: a 45009 is answered at once. For the ticket fetches, whose 45009 is
    /// the hourly quota (96909): retrying within seconds cannot succeed.
    BusyNotFrequency,
}

/// The body of an API answer that carries nothing but `errcode` / `errmsg`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Empty {}

enum Method {
    Get,
    Post,
}

/// A file sent as `multipart/form-data` (`media/upload_attachment`, 96347). Kept as bytes so
/// each attempt (a retry after 45009, a refreshed token) builds its form anew: a reqwest form
/// is consumed by the request that sends it.
pub(crate) struct FilePart {
    /// The form field WeCom reads the file from (`media`).
    pub(crate) field: &'static str,
    pub(crate) file_name: String,
    pub(crate) content_type: String,
    pub(crate) bytes: Vec<u8>,
}

impl FilePart {
    /// The multipart form of one attempt.
    fn form(&self) -> Result<reqwest::multipart::Form, reqwest::Error> {
        let part = reqwest::multipart::Part::bytes(self.bytes.clone())
            .file_name(self.file_name.clone())
            .mime_str(&self.content_type)?;
        Ok(reqwest::multipart::Form::new().part(self.field, part))
    }
}

/// What a request carries: nothing, a JSON body, or a file. One type so that JSON calls and
/// uploads share the token refresh and the retries of [`WecomClient::call`].
enum Body<'a, B> {
    None,
    Json(&'a B),
    File(&'a FilePart),
}

// By hand: a derive would require `B: Copy`, and only references are copied.
impl<B> Clone for Body<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B> Copy for Body<'_, B> {}

impl WecomClient {
    /// A client with this configuration (HTTPS through rustls).
    pub fn new(config: ClientConfig) -> Result<Self, WecomError> {
        let api_base = config.api_base.trim_end_matches('/').to_owned();
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(WecomError::Config(format!(
                "api_base must be an http(s) URL, got {api_base:?}"
            )));
        }
        if config.corp_id.is_empty() || config.secret.is_empty() {
            return Err(WecomError::Config(
                "corp_id and secret must not be empty".to_owned(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| WecomError::Config(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                limiter: Limiter::new(config.rate_limit),
                api_base,
                config,
                http,
                token: tokio::sync::Mutex::new(None),
                corp_ticket: tokio::sync::Mutex::new(None),
                agent_ticket: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// A valid access token: the cached one, or a fresh one from `gettoken`.
    ///
    /// Useful to check the credentials (a setup checker): a wrong secret fails here with
    /// errcode 40001, a wrong corp id with 40013.
    pub async fn access_token(&self) -> Result<String, WecomError> {
        let trace_id = new_trace_id();
        self.token(&trace_id).await
    }

    /// Drops the cached token, so the next call fetches a new one.
    pub async fn invalidate_token(&self) {
        *self.inner.token.lock().await = None;
    }

    async fn token(&self, trace_id: &str) -> Result<String, WecomError> {
        let mut guard = self.inner.token.lock().await;
        if let Some(cached) = guard.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let fetched_at = Instant::now();
        let query = [
            ("corpid", self.inner.config.corp_id.as_str()),
            ("corpsecret", self.inner.config.secret.as_str()),
        ];
        let response: TokenResponse = self
            .with_retries(GETTOKEN_PATH, trace_id, RetryOn::BusyAndLimits, || async {
                self.send::<Empty, _>(Method::Get, GETTOKEN_PATH, &query, Body::None, trace_id)
                    .await
            })
            .await?;
        let usable = usable_lifetime(
            Duration::from_secs(response.expires_in),
            self.inner.config.token_refresh_margin,
        );
        *guard = Some(CachedToken {
            token: response.access_token.clone(),
            refresh_at: fetched_at + usable,
        });
        Ok(response.access_token)
    }

    /// A valid JS-SDK ticket of `kind` (96909): the cached one, or a fresh one from
    /// `get_jsapi_ticket` ([`TicketKind::Corp`]) or `ticket/get?type=agent_config`
    /// ([`TicketKind::Agent`]). The client must hold the secret of the self-built app the page
    /// registers with (`ww.register`'s `agentId`); the fake refuses another secret's token with
    /// [`api::ERR_API_FORBIDDEN`] (48002; WeCom documents no code for that case).
    ///
    /// Cached per kind until `expires_in` (normally 7200 s) minus
    /// [`ClientConfig::token_refresh_margin`], never less than half the lifetime; concurrent
    /// callers wait for one fetch. WeCom allows 400 fetches per corp and 100 per app an hour;
    /// over them it answers 45009, which is returned at once instead of being retried (-1 and
    /// 45033 are retried as usual, and a rejected access token is refreshed and the fetch tried
    /// once more). The ticket is never logged, and an error never carries it.
    pub async fn jsapi_ticket(&self, kind: TicketKind) -> Result<String, WecomError> {
        let mut guard = self.ticket_slot(kind).lock().await;
        if let Some(cached) = guard.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.ticket.clone());
        }
        let path = kind.path();
        let fetched_at = Instant::now();
        let response: TicketResponse = self
            .call::<Empty, _>(
                Method::Get,
                path,
                kind.query(),
                Body::None,
                RetryOn::BusyNotFrequency,
            )
            .await
            .map_err(|error| match error {
                // serde's messages may quote a value of the answer: replace them.
                WecomError::Decode { path, trace_id, .. } => WecomError::Decode {
                    path,
                    message: "the answer is not {ticket, expires_in}".to_owned(),
                    trace_id,
                },
                other => other,
            })?;
        if response.ticket.is_empty() {
            return Err(WecomError::Decode {
                path: path.to_owned(),
                message: "the answer has no ticket".to_owned(),
                trace_id: new_trace_id(),
            });
        }
        let usable = usable_lifetime(
            Duration::from_secs(response.expires_in),
            self.inner.config.token_refresh_margin,
        );
        tracing::info!(
            target: "yutang_wecom::client",
            path,
            expires_in = response.expires_in,
            refresh_in_secs = usable.as_secs(),
            "JS-SDK ticket fetched"
        );
        *guard = Some(CachedTicket {
            ticket: response.ticket.clone(),
            refresh_at: fetched_at + usable,
        });
        Ok(response.ticket)
    }

    /// Drops the cached ticket of `kind`, so the next [`WecomClient::jsapi_ticket`] fetches
    /// one (e.g. after the page reported `invalid signature` with a ticket WeCom dropped
    /// early). Mind the hourly limit: do not call it per request.
    pub async fn invalidate_jsapi_ticket(&self, kind: TicketKind) {
        *self.ticket_slot(kind).lock().await = None;
    }

    fn ticket_slot(&self, kind: TicketKind) -> &tokio::sync::Mutex<Option<CachedTicket>> {
        match kind {
            TicketKind::Corp => &self.inner.corp_ticket,
            TicketKind::Agent => &self.inner.agent_ticket,
        }
    }

    /// Drops the cached token if it is still `token` (another task may have refreshed it).
    async fn drop_token(&self, token: &str) {
        let mut guard = self.inner.token.lock().await;
        if guard.as_ref().is_some_and(|cached| cached.token == token) {
            *guard = None;
        }
    }

    /// `GET path?access_token=…&query…`.
    pub(crate) async fn get<R: DeserializeOwned>(
        &self,
        path: &'static str,
        query: &[(&str, &str)],
    ) -> Result<R, WecomError> {
        self.call::<Empty, R>(Method::Get, path, query, Body::None, RetryOn::BusyAndLimits)
            .await
    }

    /// `POST path?access_token=…` with a JSON body.
    pub(crate) async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &'static str,
        body: &B,
    ) -> Result<R, WecomError> {
        self.call(
            Method::Post,
            path,
            &[],
            Body::Json(body),
            RetryOn::BusyAndLimits,
        )
        .await
    }

    /// `POST path?access_token=…&query…` with `file` as `multipart/form-data`, through the
    /// same token refresh and retries as JSON calls; the answer is JSON.
    pub(crate) async fn post_file<R: DeserializeOwned>(
        &self,
        path: &'static str,
        query: &[(&str, &str)],
        file: &FilePart,
    ) -> Result<R, WecomError> {
        self.call::<Empty, R>(
            Method::Post,
            path,
            query,
            Body::File(file),
            RetryOn::BusyAndLimits,
        )
        .await
    }

    async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &'static str,
        query: &[(&str, &str)],
        body: Body<'_, B>,
        retry_on: RetryOn,
    ) -> Result<R, WecomError> {
        let trace_id = new_trace_id();
        let span = tracing::info_span!("wecom_call", path, trace_id = %trace_id);
        async {
            let mut token_retried = false;
            loop {
                let token = self.token(&trace_id).await?;
                let mut full_query = Vec::with_capacity(query.len() + 1);
                full_query.push(("access_token", token.as_str()));
                full_query.extend_from_slice(query);
                let result: Result<R, WecomError> = self
                    .with_retries(path, &trace_id, retry_on, || {
                        self.send(method_copy(&method), path, &full_query, body, &trace_id)
                    })
                    .await;
                match result {
                    Err(e) if e.is_token_error() && !token_retried => {
                        tracing::info!(
                            target: "yutang_wecom::client",
                            path,
                            trace_id = %trace_id,
                            errcode = e.errcode(),
                            "access token rejected; refreshing and retrying once"
                        );
                        token_retried = true;
                        self.drop_token(&token).await;
                    }
                    other => return other,
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Runs `attempt` until it succeeds, fails with something other than -1 / 45009 / 45033
    /// (-1 / 45033 for [`RetryOn::BusyNotFrequency`]), or the retries are used up; sleeping an
    /// exponential backoff in between.
    async fn with_retries<R, F, Fut>(
        &self,
        path: &'static str,
        trace_id: &str,
        retry_on: RetryOn,
        mut attempt: F,
    ) -> Result<R, WecomError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<R, WecomError>>,
    {
        let config = &self.inner.config;
        let mut retries = 0u32;
        loop {
            match attempt().await {
                Err(e)
                    if retries < config.max_retries
                        && match e.errcode() {
                            Some(codes::SYSTEM_BUSY | codes::CONCURRENCY_LIMIT) => true,
                            Some(codes::FREQUENCY_LIMIT) => retry_on == RetryOn::BusyAndLimits,
                            _ => false,
                        } =>
                {
                    let delay = backoff(config.backoff_base, config.backoff_max, retries);
                    tracing::warn!(
                        target: "yutang_wecom::client",
                        path,
                        trace_id,
                        errcode = e.errcode(),
                        retry = retries + 1,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "WeCom busy or rate limited; backing off"
                    );
                    tokio::time::sleep(delay).await;
                    retries += 1;
                }
                other => return other,
            }
        }
    }

    /// One HTTP exchange: rate limit, send, decode, map `errcode`.
    async fn send<B: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &'static str,
        query: &[(&str, &str)],
        body: Body<'_, B>,
        trace_id: &str,
    ) -> Result<R, WecomError> {
        self.inner.limiter.acquire(path).await;
        let url = format!("{}{}", self.inner.api_base, path);
        let request = match method {
            Method::Get => self.inner.http.get(&url),
            Method::Post => self.inner.http.post(&url),
        };
        let mut request = request.query(query);
        match body {
            Body::None => {}
            Body::Json(body) => request = request.json(body),
            Body::File(file) => {
                let form = file.form().map_err(|e| WecomError::InvalidRequest {
                    path,
                    field: "content_type",
                    reason: format!("is not a MIME type: {e}"),
                })?;
                request = request.multipart(form);
            }
        }
        let started = Instant::now();
        let response = request.send().await.map_err(|source| {
            // Without the URL: the gettoken query carries the secret.
            let source = source.without_url();
            tracing::warn!(
                target: "yutang_wecom::client",
                path,
                trace_id,
                error = %source,
                "WeCom request failed"
            );
            WecomError::Http {
                path: path.to_owned(),
                trace_id: trace_id.to_owned(),
                source,
            }
        })?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            tracing::warn!(target: "yutang_wecom::client", path, trace_id, status = status.as_u16(), "WeCom answered a non-200 status");
            return Err(WecomError::Status {
                path: path.to_owned(),
                status: status.as_u16(),
                trace_id: trace_id.to_owned(),
            });
        }
        let bytes = response.bytes().await.map_err(|source| WecomError::Http {
            path: path.to_owned(),
            trace_id: trace_id.to_owned(),
            source: source.without_url(),
        })?;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let decode_error = |message: String| WecomError::Decode {
            path: path.to_owned(),
            message,
            trace_id: trace_id.to_owned(),
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| decode_error(e.to_string()))?;
        let errcode = value
            .get("errcode")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0);
        if errcode != 0 {
            let errmsg = value
                .get("errmsg")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            tracing::warn!(
                target: "yutang_wecom::client",
                path,
                trace_id,
                errcode,
                errmsg = %errmsg,
                elapsed_ms,
                "WeCom call failed"
            );
            return Err(WecomError::Api {
                path: path.to_owned(),
                errcode,
                errmsg,
                trace_id: trace_id.to_owned(),
            });
        }
        tracing::info!(target: "yutang_wecom::client", path, trace_id, errcode, elapsed_ms, "WeCom call");
        serde_json::from_value(value).map_err(|e| decode_error(e.to_string()))
    }
}

fn method_copy(method: &Method) -> Method {
    match method {
        Method::Get => Method::Get,
        Method::Post => Method::Post,
    }
}

/// `base × 2^retry`, capped at `max`, with up to 25 % random jitter subtracted so that many
/// clients backing off together do not retry in lockstep.
fn backoff(base: Duration, max: Duration, retry: u32) -> Duration {
    let factor = 1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX);
    let delay = base.saturating_mul(factor).min(max);
    let jitter = rand::random::<f64>() * 0.25;
    delay.mul_f64(1.0 - jitter)
}

/// A fresh 16-hex-digit id tying a call's log lines and its error together.
fn new_trace_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_millis(100);
        let max = Duration::from_millis(700);
        let d0 = backoff(base, max, 0);
        let d2 = backoff(base, max, 2);
        let d9 = backoff(base, max, 9);
        assert!(d0 <= base && d0 >= base.mul_f64(0.75));
        assert!(d2 <= base * 4 && d2 >= (base * 4).mul_f64(0.75));
        assert!(d9 <= max && d9 >= max.mul_f64(0.75));
    }

    #[test]
    fn usable_lifetime_keeps_the_margin_but_at_least_half() {
        let margin = Duration::from_secs(300);
        assert_eq!(
            usable_lifetime(Duration::from_secs(7200), margin),
            Duration::from_secs(6900)
        );
        assert_eq!(
            usable_lifetime(Duration::from_secs(400), margin),
            Duration::from_secs(200)
        );
        assert_eq!(
            usable_lifetime(Duration::from_secs(2), margin),
            Duration::from_secs(1)
        );
        assert_eq!(usable_lifetime(Duration::ZERO, margin), Duration::ZERO);
    }

    #[test]
    fn config_debug_redacts_secret() {
        let config = ClientConfig::new("ww123", "top-secret");
        let printed = format!("{config:?}");
        assert!(!printed.contains("top-secret"));
        assert!(printed.contains("ww123"));
    }

    #[test]
    fn rejects_bad_base_url() {
        let config = ClientConfig::new("ww123", "s").with_api_base("qyapi.weixin.qq.com");
        assert!(matches!(
            WecomClient::new(config),
            Err(WecomError::Config(_))
        ));
    }
}
