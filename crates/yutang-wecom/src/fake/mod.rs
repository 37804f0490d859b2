//! An in-process fake WeCom (feature `fake`): an HTTP server on `127.0.0.1:0` that speaks the
//! customer-contact APIs of [`crate::client`] over an in-memory [`Corp`], with realistic
//! payloads and error codes, hooks to force failures, and signed, encrypted callback pushes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use yutang_wecom::fake::{FakeConfig, FakeWecom};
//! use yutang_wecom::{ClientConfig, WecomClient};
//!
//! let fake = FakeWecom::start(FakeConfig::demo()).await?;
//! let client = WecomClient::new(
//!     ClientConfig::new(fake.corp_id(), fake.secret()).with_api_base(fake.base_url()),
//! )?;
//! let staff = client.get_follow_user_list().await?;
//! # Ok(()) }
//! ```
//!
//! Behaviour worth knowing:
//! - `gettoken` checks the corp id (40013) and secret (40001) and, like WeCom, returns the same
//!   token while it is valid. Every other call checks the token: missing 41001, unknown 40014,
//!   expired 42001 ([`FakeWecom::expire_tokens`]).
//! - [`FakeWecom::fail_next`] makes the next calls of a path answer an error code (45009,
//!   45033, -1 …); [`FakeConfig::per_minute_limit`] makes the server itself answer 45009 past
//!   a per-path minute quota.
//! - Invalid parameters answer 40058, unknown userids 40003, unknown customers 40096, unknown
//!   tags 40068, unknown groups 90501 (the codes WeCom's pages use in the matching examples;
//!   where WeCom's exact code for a case is undocumented the fake uses the closest of these).
//! - [`FakeWecom::set_unreachable`] simulates an outage (HTTP 503 on every path).
//! - Transfers wait (status 2) until [`FakeWecom::complete_transfers`] plays the 24 hours, or,
//!   with [`Corp::takeover_after_secs`] set (the demo), until that much time has passed.
//! - Mass-send tasks stay unsent until [`FakeWecom::complete_msg_template`].

pub mod corp;
mod handlers;
pub mod push;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use corp::Corp;
pub use push::{CallbackTarget, FakeEvent, PushError, PushOutcome};

/// The demo corp's id.
pub const DEMO_CORP_ID: &str = "wwfakeyutang0001";
/// The demo corp's customer-contact secret.
pub const DEMO_SECRET: &str = "fake-contact-secret-鱼塘";

/// How to start a [`FakeWecom`].
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The corp id `gettoken` accepts.
    pub corp_id: String,
    /// The secret `gettoken` accepts.
    pub secret: String,
    /// Lifetime of issued tokens (`expires_in`); WeCom's is 7200 s.
    pub token_ttl: Duration,
    /// Answer 45009 past this many calls per path per minute (WeCom's default is 10,000);
    /// `None` for no limit.
    pub per_minute_limit: Option<u32>,
    /// The corp's data.
    pub corp: Corp,
}

impl FakeConfig {
    /// The demo corp ([`Corp::demo`]) with [`DEMO_CORP_ID`] / [`DEMO_SECRET`], 7200 s tokens
    /// and WeCom's 10,000 calls per minute.
    pub fn demo() -> Self {
        Self {
            corp_id: DEMO_CORP_ID.to_owned(),
            secret: DEMO_SECRET.to_owned(),
            token_ttl: Duration::from_secs(7200),
            per_minute_limit: Some(10_000),
            corp: Corp::demo(),
        }
    }
}

#[derive(Debug)]
struct IssuedToken {
    expires_at: Instant,
    expired: bool,
}

#[derive(Debug, Default)]
struct Quota {
    window_start: Option<Instant>,
    calls: u32,
}

#[derive(Debug)]
pub(crate) struct State {
    corp_id: String,
    secret: String,
    token_ttl: Duration,
    per_minute_limit: Option<u32>,
    corp: Mutex<Corp>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    injected: Mutex<HashMap<String, VecDeque<i64>>>,
    calls: Mutex<HashMap<String, u64>>,
    quotas: Mutex<HashMap<String, Quota>>,
    hint: Mutex<u64>,
    /// While set, every request answers HTTP 503 ([`FakeWecom::set_unreachable`]).
    unreachable: std::sync::atomic::AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Unix seconds now.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A running fake WeCom. Stops when dropped (or with [`FakeWecom::shutdown`]).
#[derive(Debug)]
pub struct FakeWecom {
    state: Arc<State>,
    base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    http: reqwest::Client,
}

impl FakeWecom {
    /// Binds `127.0.0.1:0` and serves in a background task.
    pub async fn start(config: FakeConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let state = Arc::new(State {
            corp_id: config.corp_id,
            secret: config.secret,
            token_ttl: config.token_ttl,
            per_minute_limit: config.per_minute_limit,
            corp: Mutex::new(config.corp),
            tokens: Mutex::new(HashMap::new()),
            injected: Mutex::new(HashMap::new()),
            calls: Mutex::new(HashMap::new()),
            quotas: Mutex::new(HashMap::new()),
            hint: Mutex::new(0),
            unreachable: std::sync::atomic::AtomicBool::new(false),
        });
        let router = handlers::router(Arc::clone(&state));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(target: "yutang_wecom::fake", %error, "fake WeCom server stopped");
            }
        });
        Ok(Self {
            state,
            base_url: format!("http://{address}"),
            shutdown: Some(shutdown),
            task: Some(task),
            http: reqwest::Client::new(),
        })
    }

    /// The base URL to give the client (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The corp id `gettoken` accepts.
    pub fn corp_id(&self) -> &str {
        &self.state.corp_id
    }

    /// The secret `gettoken` accepts.
    pub fn secret(&self) -> &str {
        &self.state.secret
    }

    /// Expires every issued token: the next call with one answers 42001.
    pub fn expire_tokens(&self) {
        for token in lock(&self.state.tokens).values_mut() {
            token.expired = true;
        }
    }

    /// Makes the next `times` calls of `path` (e.g. `/cgi-bin/externalcontact/get`, or
    /// `/cgi-bin/gettoken`) answer `errcode` (45009, 45033, -1 …) before any other check.
    pub fn fail_next(&self, path: &str, errcode: i64, times: usize) {
        lock(&self.state.injected)
            .entry(path.to_owned())
            .or_default()
            .extend(std::iter::repeat_n(errcode, times));
    }

    /// An outage: while `down`, every request (token included) answers HTTP 503 without a
    /// body, as a proxy in front of an unreachable WeCom would. Counted in [`FakeWecom::calls`].
    pub fn set_unreachable(&self, down: bool) {
        self.state
            .unreachable
            .store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many requests `path` received (including failed ones).
    pub fn calls(&self, path: &str) -> u64 {
        lock(&self.state.calls).get(path).copied().unwrap_or(0)
    }

    /// Reads or changes the corp.
    pub fn with_corp<R>(&self, f: impl FnOnce(&mut Corp) -> R) -> R {
        f(&mut lock(&self.state.corp))
    }

    /// Plays the 24 hours of every waiting transfer: status 1, and the customer now follows
    /// the taker instead of the previous staff member. Returns how many completed.
    pub fn complete_transfers(&self) -> usize {
        let now = now_secs();
        self.with_corp(|corp| corp.complete_transfers(now, false))
    }

    /// Marks every recipient of a mass-send task as sent (the staff members confirmed it).
    /// Returns whether the task exists.
    pub fn complete_msg_template(&self, msgid: &str) -> bool {
        let now = now_secs();
        self.with_corp(|corp| {
            let Some(template) = corp.msg_templates.iter_mut().find(|t| t.msgid == msgid) else {
                return false;
            };
            for target in template.targets.iter_mut().filter(|t| t.status == 0) {
                target.status = 1;
                target.send_time = now;
            }
            true
        })
    }

    /// A new customer adds `userid` (optionally through a contact way's `state`): creates the
    /// customer and the follow relation, issues a welcome code, and returns the
    /// `add_external_contact` event to [`FakeWecom::push`].
    pub fn simulate_add_customer(
        &self,
        userid: &str,
        name: &str,
        state: Option<&str>,
    ) -> FakeEvent {
        let now = now_secs();
        self.with_corp(|corp| {
            let external_userid = corp.new_id("wmFakeCustomer");
            let welcome_code = corp.new_id("WELCOME");
            corp.customers.insert(
                external_userid.clone(),
                corp::Customer {
                    external_userid: external_userid.clone(),
                    name: name.to_owned(),
                    avatar: String::new(),
                    contact_type: 1,
                    gender: 0,
                    unionid: None,
                },
            );
            corp.follows.push(corp::Follow {
                userid: userid.to_owned(),
                external_userid: external_userid.clone(),
                remark: String::new(),
                description: String::new(),
                createtime: now,
                tag_ids: Vec::new(),
                state: state.map(str::to_owned),
                add_way: 1,
            });
            corp.welcome_codes.insert(welcome_code.clone(), false);
            FakeEvent::AddExternalContact {
                userid: userid.to_owned(),
                external_userid,
                state: state.map(str::to_owned),
                welcome_code: Some(welcome_code),
            }
        })
    }

    /// The customer deletes `userid`: removes the follow relation and returns the
    /// `del_follow_user` event.
    pub fn simulate_customer_deletes_staff(
        &self,
        userid: &str,
        external_userid: &str,
    ) -> FakeEvent {
        self.with_corp(|corp| {
            corp.follows
                .retain(|f| !(f.userid == userid && f.external_userid == external_userid));
        });
        FakeEvent::DelFollowUser {
            userid: userid.to_owned(),
            external_userid: external_userid.to_owned(),
        }
    }

    /// Encrypts, signs and POSTs `event` to `target`, stamped now and addressed from this
    /// corp.
    pub async fn push(
        &self,
        target: &CallbackTarget,
        event: &FakeEvent,
    ) -> Result<PushOutcome, PushError> {
        let now = now_secs();
        let xml = event.to_xml(&self.state.corp_id, now);
        push::push_xml(&self.http, target, &xml, now).await
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeWecom {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
