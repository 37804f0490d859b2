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
//!   tags 40068, unknown groups 90501, unknown contact ways 41044 (the codes WeCom's pages use
//!   in the matching examples or its global code table; where WeCom's exact code for a case is
//!   undocumented, e.g. everything about acquisition links, the fake uses the closest of
//!   these).
//! - [`FakeWecom::set_unreachable`] simulates an outage (HTTP 503 on every path).
//! - Transfers wait (status 2) until [`FakeWecom::complete_transfers`] plays the 24 hours, or,
//!   with [`Corp::takeover_after_secs`] set (the demo), until that much time has passed.
//! - Mass-send tasks stay unsent until [`FakeWecom::complete_msg_template`] (every sender) or
//!   [`FakeWecom::complete_msg_template_for`] (one sender) plays the staff members' confirm:
//!   each target becomes 1 (sent), 2 (the sender no longer follows the customer) or 3 (the
//!   customer, or group, already received [`FakeWecom::set_receipt_cap`] mass messages; no cap by
//!   default). `cancel_groupmsg_send` leaves the unsent targets unsent for good.
//!   `remind_groupmsg_send` accepts three reminders of a task per 24 hours of the corp's clock
//!   and answers 45009 to a fourth (WeCom documents no code for it; the fake's choice);
//!   [`FakeWecom::reminders`] counts the accepted ones. `add_msg_template` answers 40058 past
//!   10,000 customers, 2,000 groups, 4,000 bytes of text or 9 attachments;
//!   [`FakeWecom::msg_templates`] shows what the tasks were created with.
//! - Welcome codes expire [`Corp::welcome_code_ttl`] after they were issued (20 s, or
//!   [`FakeWecom::advance_clock`]) and then answer 41050; a used one answers 41051;
//!   [`FakeWecom::welcome_being_sent`] makes a code answer 41096 without using it.
//! - `add_contact_way` answers 41045 past [`Corp::contact_way_limit`] (500,000). Its
//!   `qr_code` is on the fake's own address with WeCom's image path
//!   (`http://127.0.0.1:PORT/wwpic/fake/{config_id}/0`, WeCom's is on `wework.qpic.cn`), and
//!   serves a real PNG QR code of [`contact_way_qr_text`], so a client downloads it like
//!   WeCom's; [`FakeWecom::fail_qr_images`] makes the next downloads fail.
//! - Group join ways (客户群「加入群聊」, 99547): `groupchat/add_join_way` /
//!   `update_join_way` answer 40058 for a `scene` other than 1 / 2, an `auto_create_room`
//!   other than 0 / 1, no or more than 5 chat ids, a `state` over 30 characters or a
//!   `room_base_name` over 40, and 90501 for a chat id that is not a customer group of the
//!   corp (the fake's choices; WeCom documents none); a longer `remark` is cut to 30
//!   characters. Join ways count toward [`Corp::contact_way_limit`] with the contact ways
//!   (41045). An unknown `config_id` answers 41044. A scene-2 way's `qr_code` is
//!   `http://127.0.0.1:PORT/wwpic/fakejoin/{config_id}/0`, a PNG of [`join_way_qr_text`].
//!   People join through [`FakeWecom::simulate_join_via_way`] (a new WeChat user) and
//!   [`FakeWecom::simulate_join_via_way_as`] (someone known): the first group with fewer than
//!   [`QR_JOIN_MEMBER_LIMIT`](crate::client::api::QR_JOIN_MEMBER_LIMIT) members takes them,
//!   or a new one is created with `auto_create_room`; `groupchat/get` then shows the way's
//!   `state` on the member. [`FakeWecom::simulate_leave_group`] is the other way out.
//! - [`FakeWecom::hold`] stops the requests of a path at a gate, before or after the fake
//!   applies them, until [`FakeWecom::release`]: a test can kill its caller while WeCom holds
//!   a request ([`FakeWecom::held`] says when one is in hand).
//! - [`FakeWecom::max_concurrent`] is the most requests for one object (a contact way's
//!   `config_id`, a link's `link_id`) that were ever in the fake at once.
//! - `message/send` (app messages, 90236) needs the token of an app secret registered with
//!   [`FakeWecom::add_app`] (301002 for another token, 40056 for an unknown AgentId);
//!   recipients that are not staff come back in `invaliduser`, none valid is 81013. With
//!   `enable_duplicate_check` a request equal (touser, content) to one sent within its
//!   interval (default 1,800 s, on the corp's clock) answers ok with the first `msgid` and is
//!   not delivered again; [`FakeWecom::app_messages`] lists what was delivered.
//! - Moments (客户朋友圈): `media/upload_attachment` (multipart, field `media`) checks
//!   `attachment_type` 1, `media_type` image/video (40004), more than 5 bytes (40006), JPG/PNG
//!   or MP4 by their first bytes (40005), 10 MB (40009 / 40011), and issues media ids valid 3
//!   days on the corp's clock ([`FakeWecom::uploads`] counts them). `add_moment_task` refuses
//!   what WeCom refuses at once (40058 `invalid text size` / `invalid attachments msgtype` /
//!   `invalid attachments size`, 41006 a missing media id) and runs the job at once: an
//!   unknown, expired or wrong-kind media id fails the *job* (`result.errcode` 40007), unknown
//!   or resigned senders and unknown tags come back as invalid. `get_moment_task_result`
//!   answers status 3, or 2 for the next polls after [`FakeWecom::delay_moment_jobs`]. Staff
//!   publish, customers like and comment through [`FakeWecom::publish_moment`],
//!   [`FakeWecom::like_moment`], [`FakeWecom::comment_moment`]; `cancel_moment_task` stops
//!   further publishing; [`FakeWecom::moments`] shows them.
//! - Sign-in with WeCom: `auth/getuserinfo` needs an app token ([`FakeWecom::add_app`];
//!   301002 for the contact secret's, the fake's choice) and answers a code minted by
//!   [`FakeWecom::oauth_code`] once with its `userid`, or one of
//!   [`FakeWecom::oauth_code_for_outsider`] with an `openid`; a used, unknown or expired (5
//!   minutes on the corp's clock) code answers 40029. The browser-facing pages
//!   `/wwlogin/sso/login` (QR web login) and `/connect/oauth2/authorize` (inside the client)
//!   redirect (302) to `redirect_uri?code=…&state=…` for the member of
//!   [`FakeWecom::set_web_login_user`], and answer a 400 page without one, for another
//!   `appid` than the corp id, an AgentId no app has, or a malformed `state`.
//! - JS-SDK tickets (96909): `get_jsapi_ticket` (the corp ticket) and
//!   `ticket/get?type=agent_config` (the app ticket, per AgentId) need an app token
//!   ([`FakeWecom::add_app`]; 48002 `api forbidden` for the contact secret's, the fake's
//!   choice; 40058 for another `type`). A ticket lives 7200 s on the corp's clock and the same
//!   one is answered while it is valid (with the seconds left), like tokens;
//!   [`FakeWecom::expire_jsapi_tickets`] ends them. Within any hour of the corp's clock (a
//!   sliding window) the corp gets at most 400 tickets and each app (each app's token) at most
//!   100, both kinds together; past that the fetch answers 45009 and is not counted.
//!   [`FakeWecom::jsapi_ticket`], [`FakeWecom::agent_jsapi_ticket`] and
//!   [`FakeWecom::jsapi_ticket_fetches`] show what was issued.
//! - Customers arrive through [`FakeWecom::simulate_add_customer`],
//!   [`FakeWecom::simulate_scan_contact_way`] and
//!   [`FakeWecom::simulate_open_acquisition_link`], each returning the add event to push.

pub mod corp;
mod handlers;
pub mod push;

pub use handlers::{contact_way_qr_text, join_way_qr_text};

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
    /// How long every answer takes (benchmarks: WeCom's own latency); zero by default.
    pub latency: Duration,
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
            latency: Duration::ZERO,
            corp: Corp::demo(),
        }
    }
}

#[derive(Debug)]
struct IssuedToken {
    expires_at: Instant,
    expired: bool,
    /// The AgentId of the app whose secret it was issued for (`None`: the contact secret).
    agent: Option<i64>,
}

/// An app message the fake delivered (`message/send`, 90236).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppMessage {
    pub msgid: String,
    pub agentid: i64,
    /// The recipients who received it (valid staff userids).
    pub touser: Vec<String>,
    /// `touser` as sent, joined by `|`.
    pub touser_raw: String,
    pub msgtype: String,
    pub content: String,
    /// When it was delivered, on the corp's clock (millis).
    pub sent_at_ms: i64,
    /// The duplicate-check interval it was sent with (seconds), if the check was on.
    pub dedupe_secs: Option<i64>,
}

/// Where [`FakeWecom::hold`] stops a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Before the fake applies it. On release it is dropped unapplied and answered HTTP 503:
    /// a request lost on its way to WeCom.
    BeforeApplying,
    /// After the fake applied it; the answer waits. On release it is sent: WeCom did the work
    /// while its caller never heard back.
    AfterApplying,
}

/// A path's gate: requests wait on `open` (a semaphore without permits, closed on release).
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    pub(crate) at: Hold,
    pub(crate) open: Arc<tokio::sync::Semaphore>,
    pub(crate) waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Gate {
    /// Wait until released. Counted in [`FakeWecom::held`] meanwhile, also when the caller
    /// goes away and the server drops the request.
    pub(crate) async fn pass(&self) {
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        self.waiting
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _counted = Waiting(&self.waiting);
        // Closed on release: acquiring then fails, which is the signal to go on.
        let _ = self.open.acquire().await;
    }
}

/// A JS-SDK ticket the fake issued: valid until `expires_at_ms` on the corp's clock.
#[derive(Debug, Clone)]
pub(crate) struct IssuedTicket {
    pub(crate) ticket: String,
    pub(crate) expires_at_ms: i64,
}

/// The JS-SDK tickets (96909) and the fetches of the last hour.
#[derive(Debug, Default)]
pub(crate) struct JsapiTickets {
    /// The corp ticket (`get_jsapi_ticket`).
    pub(crate) corp: Option<IssuedTicket>,
    /// The app tickets (`ticket/get?type=agent_config`) by AgentId.
    pub(crate) agents: HashMap<i64, IssuedTicket>,
    /// (corp clock millis, AgentId of the token) of each answered fetch, oldest first; pruned to
    /// the last hour.
    pub(crate) recent: VecDeque<(i64, i64)>,
    /// Fetches answered with a ticket, all time, both kinds.
    pub(crate) answered: usize,
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
    pub(crate) latency: Duration,
    corp: Mutex<Corp>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    injected: Mutex<HashMap<String, VecDeque<i64>>>,
    calls: Mutex<HashMap<String, u64>>,
    quotas: Mutex<HashMap<String, Quota>>,
    hint: Mutex<u64>,
    /// While set, every request answers HTTP 503 ([`FakeWecom::set_unreachable`]).
    unreachable: std::sync::atomic::AtomicBool,
    /// The next this many QR image downloads answer HTTP 503 ([`FakeWecom::fail_qr_images`]).
    failing_images: std::sync::atomic::AtomicU32,
    /// `http://127.0.0.1:PORT`: contact ways' `qr_code` URLs start with it.
    base_url: String,
    /// Held paths ([`FakeWecom::hold`]).
    pub(crate) gates: Mutex<HashMap<String, Gate>>,
    /// Per path and object id: requests in the fake now, and the most ever at once
    /// ([`FakeWecom::max_concurrent`]).
    pub(crate) in_flight: Mutex<HashMap<(String, String), (u32, u32)>>,
    /// Self-built apps: secret → AgentId ([`FakeWecom::add_app`]).
    pub(crate) apps: Mutex<HashMap<String, i64>>,
    /// Delivered app messages ([`FakeWecom::app_messages`]).
    pub(crate) app_messages: Mutex<Vec<AppMessage>>,
    /// `message/send` requests dropped by the duplicate check.
    pub(crate) duplicate_messages: std::sync::atomic::AtomicU64,
    /// The member who confirms the next web logins and OAuth sign-ins
    /// ([`FakeWecom::set_web_login_user`]).
    pub(crate) web_login_user: Mutex<Option<String>>,
    /// JS-SDK tickets ([`FakeWecom::jsapi_ticket`]). Locked after `corp` when both are.
    pub(crate) jsapi: Mutex<JsapiTickets>,
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
            latency: config.latency,
            corp: Mutex::new(config.corp),
            tokens: Mutex::new(HashMap::new()),
            injected: Mutex::new(HashMap::new()),
            calls: Mutex::new(HashMap::new()),
            quotas: Mutex::new(HashMap::new()),
            hint: Mutex::new(0),
            unreachable: std::sync::atomic::AtomicBool::new(false),
            failing_images: std::sync::atomic::AtomicU32::new(0),
            base_url: format!("http://{address}"),
            gates: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            apps: Mutex::new(HashMap::new()),
            app_messages: Mutex::new(Vec::new()),
            duplicate_messages: std::sync::atomic::AtomicU64::new(0),
            web_login_user: Mutex::new(None),
            jsapi: Mutex::new(JsapiTickets::default()),
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

    /// The next `times` downloads of a contact way's QR image answer HTTP 503 (an image host
    /// that failed), while the API itself keeps answering.
    pub fn fail_qr_images(&self, times: u32) {
        self.state
            .failing_images
            .store(times, std::sync::atomic::Ordering::SeqCst);
    }

    /// Hold every request to `path` at a gate ([`Hold`] says where) until
    /// [`FakeWecom::release`]. Holding a held path again changes where later requests stop.
    pub fn hold(&self, path: &str, at: Hold) {
        let mut gates = lock(&self.state.gates);
        let gate = gates.entry(path.to_owned()).or_insert_with(|| Gate {
            at,
            open: Arc::new(tokio::sync::Semaphore::new(0)),
            waiting: Arc::default(),
        });
        gate.at = at;
    }

    /// How many requests to `path` wait at its gate now.
    pub fn held(&self, path: &str) -> usize {
        lock(&self.state.gates)
            .get(path)
            .map_or(0, |g| g.waiting.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Open `path`'s gate: the waiting requests go on as their [`Hold`] says, later ones are
    /// not held.
    pub fn release(&self, path: &str) {
        if let Some(gate) = lock(&self.state.gates).remove(path) {
            gate.open.close();
        }
    }

    /// The most requests to `path` for the object `id` (its `config_id` or `link_id`) that
    /// were inside the fake at the same time, latency and holds included: above 1, two
    /// callers overlapped on one contact way.
    pub fn max_concurrent(&self, path: &str, id: &str) -> u32 {
        lock(&self.state.in_flight)
            .get(&(path.to_owned(), id.to_owned()))
            .map_or(0, |&(_, max)| max)
    }

    /// How many requests `path` received (including failed ones); the QR image downloads
    /// are counted under `/wwpic`.
    pub fn calls(&self, path: &str) -> u64 {
        lock(&self.state.calls).get(path).copied().unwrap_or(0)
    }

    /// Registers a self-built app: `gettoken` accepts its secret, and the token it issues
    /// may send `message/send` as `agentid`.
    pub fn add_app(&self, agentid: i64, secret: &str) {
        lock(&self.state.apps).insert(secret.to_owned(), agentid);
    }

    /// The app messages delivered so far, oldest first (duplicates dropped by the duplicate
    /// check are not here; see [`FakeWecom::duplicate_messages`]).
    pub fn app_messages(&self) -> Vec<AppMessage> {
        lock(&self.state.app_messages).clone()
    }

    /// How many `message/send` requests the duplicate check dropped.
    pub fn duplicate_messages(&self) -> u64 {
        self.state
            .duplicate_messages
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A sign-in code for the member `userid`, as WeCom hands one to the `redirect_uri` after
    /// a web login or an OAuth sign-in: `auth/getuserinfo` answers `userid` once, within 5
    /// minutes of the corp's clock ([`FakeWecom::advance_clock`]), then 40029.
    pub fn oauth_code(&self, userid: &str) -> String {
        self.with_corp(|corp| corp.issue_oauth_code(Some(userid)))
    }

    /// A sign-in code of someone outside the corp: `auth/getuserinfo` answers an `openid`
    /// (and `external_userid`), no `userid`.
    pub fn oauth_code_for_outsider(&self) -> String {
        self.with_corp(|corp| corp.issue_oauth_code(None))
    }

    /// Who confirms the web logins (scans the QR code) and the OAuth sign-ins (is signed in
    /// to the WeCom client) from now on: the fake's `/wwlogin/sso/login` and
    /// `/connect/oauth2/authorize` pages redirect to `redirect_uri?code=…&state=…` with a
    /// fresh code of this member. `None` (the default): those pages answer 400.
    pub fn set_web_login_user(&self, userid: Option<&str>) {
        *lock(&self.state.web_login_user) = userid.map(str::to_owned);
    }

    /// The corp JS-SDK ticket (`get_jsapi_ticket`) while it is valid, `None` when none was
    /// issued or it expired.
    pub fn jsapi_ticket(&self) -> Option<String> {
        let now = self.with_corp(|corp| corp.now_ms());
        lock(&self.state.jsapi)
            .corp
            .as_ref()
            .filter(|t| t.expires_at_ms > now)
            .map(|t| t.ticket.clone())
    }

    /// The app JS-SDK ticket (`ticket/get?type=agent_config`) of the app `agentid` while it is
    /// valid, `None` when none was issued or it expired.
    pub fn agent_jsapi_ticket(&self, agentid: i64) -> Option<String> {
        let now = self.with_corp(|corp| corp.now_ms());
        lock(&self.state.jsapi)
            .agents
            .get(&agentid)
            .filter(|t| t.expires_at_ms > now)
            .map(|t| t.ticket.clone())
    }

    /// How many ticket fetches (`get_jsapi_ticket` and `ticket/get`, together) the fake answered
    /// with a ticket, all time; refused ones (48002, 45009…) are not counted (see
    /// [`FakeWecom::calls`]).
    pub fn jsapi_ticket_fetches(&self) -> usize {
        lock(&self.state.jsapi).answered
    }

    /// Expires every JS-SDK ticket issued so far: the next fetch of each kind issues a new one.
    /// (The fake does not check signatures, so an expired ticket only matters there.)
    pub fn expire_jsapi_tickets(&self) {
        let now = self.with_corp(|corp| corp.now_ms());
        let mut tickets = lock(&self.state.jsapi);
        let tickets = &mut *tickets;
        for ticket in tickets.corp.iter_mut().chain(tickets.agents.values_mut()) {
            ticket.expires_at_ms = ticket.expires_at_ms.min(now);
        }
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

    /// Every staff member of a mass-send task confirms and sends it: each unsent target
    /// becomes 1 (sent), or for a customer 2 when the sender no longer follows them and 3 when
    /// they already received the [receipt cap](FakeWecom::set_receipt_cap) (see
    /// [`Corp::complete_msg_template`]). A cancelled task sends nothing more. Returns whether
    /// the task exists.
    pub fn complete_msg_template(&self, msgid: &str) -> bool {
        let now = now_secs();
        self.with_corp(|corp| corp.complete_msg_template(msgid, None, now))
            .is_some()
    }

    /// Only `userid` confirms and sends their share of a mass-send task, with the same
    /// per-target outcome as [`FakeWecom::complete_msg_template`]; the other senders' targets
    /// stay as they are. Returns whether the task exists and `userid` has targets in it.
    pub fn complete_msg_template_for(&self, msgid: &str, userid: &str) -> bool {
        let now = now_secs();
        self.with_corp(|corp| corp.complete_msg_template(msgid, Some(userid), now))
            .is_some_and(|targets| targets > 0)
    }

    /// Each customer may receive at most `n` mass messages ([`Corp::receipt_cap`]; WeCom's is
    /// as many a month as the month has days, or 7 a week / 1 a day by the corp's 群发规则):
    /// a target whose customer already received `n` (delivered, status 1, in any task) gets
    /// status 3 when its task is completed. Without a call there is no cap.
    pub fn set_receipt_cap(&self, n: usize) {
        self.with_corp(|corp| corp.receipt_cap = Some(n));
    }

    /// How many reminders (`remind_groupmsg_send`) of the task `msgid` the fake accepted, all
    /// time (refused ones are not counted); 0 for an unknown task.
    pub fn reminders(&self, msgid: &str) -> usize {
        self.with_corp(|corp| {
            corp.msg_templates
                .iter()
                .find(|t| t.msgid == msgid)
                .map_or(0, |t| t.reminders_ms.len())
        })
    }

    /// The mass-send tasks as created (oldest first): `msgid`, `creator` (the `sender` given,
    /// empty without one), `text`, `attachments`, the targets with their sender, recipient
    /// and status ([`corp::MsgTemplate::recipients_of`] lists one sender's), `cancelled`.
    pub fn msg_templates(&self) -> Vec<corp::MsgTemplate> {
        self.with_corp(|corp| corp.msg_templates.clone())
    }

    /// The next `n` polls of `get_moment_task_result` (any jobid) answer status 2 (creating)
    /// without a result, as WeCom does while a job runs; later ones answer status 3.
    pub fn delay_moment_jobs(&self, n: u32) {
        self.with_corp(|corp| corp.moment_job_delays = n);
    }

    /// The moments created so far (oldest first): senders, tags, attachments as sent, who
    /// published when, `cancelled`, likes and comments.
    pub fn moments(&self) -> Vec<corp::Moment> {
        self.with_corp(|corp| corp.moments.clone())
    }

    /// `userid` publishes their post of the moment. False when the moment is unknown or
    /// cancelled, `userid` is not one of its senders, or already published it.
    pub fn publish_moment(&self, moment_id: &str, userid: &str) -> bool {
        self.with_corp(|corp| corp.publish_moment(moment_id, userid))
    }

    /// `external_userid` (a customer; a member's userid makes it a colleague's like) likes
    /// `userid`'s published post of the moment. False when that post is not published.
    pub fn like_moment(&self, moment_id: &str, userid: &str, external_userid: &str) -> bool {
        self.with_corp(|corp| corp.interact_with_moment(moment_id, userid, external_userid, false))
    }

    /// `external_userid` comments on `userid`'s published post of the moment, like
    /// [`FakeWecom::like_moment`].
    pub fn comment_moment(&self, moment_id: &str, userid: &str, external_userid: &str) -> bool {
        self.with_corp(|corp| corp.interact_with_moment(moment_id, userid, external_userid, true))
    }

    /// How many `upload_attachment` calls succeeded (the media ids issued).
    pub fn uploads(&self) -> usize {
        self.with_corp(|corp| corp.media.len())
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
        self.with_corp(|corp| corp.add_new_customer(userid, name, state.map(str::to_owned), 1))
    }

    /// A new customer `name` scans the QR code of the contact way `config_id`: WeCom hands
    /// them to one of the way's current users (for a multi-user way spread evenly: the active
    /// user with the fewest adds through this way, ties by their order in the way), creates
    /// the customer and the follow (`state` = the way's state, `add_way` 1), issues a welcome
    /// code, and returns the `add_external_contact` event with `State` = the way's state (none
    /// when the way has no state).
    ///
    /// Fails for an unknown (or deleted) way and for a way none of whose users is an active
    /// staff member (the fake has no departments, so a way with only `party` fails too). The
    /// add always completes as if verification passed (no `add_half_external_contact`).
    pub fn simulate_scan_contact_way(
        &self,
        config_id: &str,
        name: &str,
    ) -> Result<FakeEvent, String> {
        self.with_corp(|corp| {
            let way = corp
                .contact_way(config_id)
                .ok_or_else(|| format!("no contact way {config_id}"))?;
            let userid = corp
                .least_added(&way.users, &way.adds)
                .ok_or_else(|| format!("contact way {config_id} has no active user"))?;
            let state = Some(way.state.clone()).filter(|s| !s.is_empty());
            if let Some(way) = corp.contact_ways.get_mut(config_id) {
                *way.adds.entry(userid.clone()).or_insert(0) += 1;
            }
            Ok(corp.add_new_customer(&userid, name, state, 1))
        })
    }

    /// A new customer `name` opens the acquisition link `link_id` (with `?customer_channel=`
    /// when `customer_channel` is given) and adds one of its users, spread evenly like
    /// [`FakeWecom::simulate_scan_contact_way`]. Uses one unit of the acquisition quota,
    /// creates the customer and the follow (`add_way` 16 "通过获客链接添加", `state` = the
    /// channel), issues a welcome code, and returns the `add_external_contact` event with the
    /// `State` WeCom sends (96361): the `customer_channel` cut to 64 bytes, or none without a
    /// channel.
    ///
    /// Fails for an unknown or deleted link, when the quota's balance is 0 (the link no longer
    /// adds customers), and when no user of the link is an active staff member.
    pub fn simulate_open_acquisition_link(
        &self,
        link_id: &str,
        customer_channel: Option<&str>,
        name: &str,
    ) -> Result<FakeEvent, String> {
        self.with_corp(|corp| {
            let link = corp
                .acquisition_link(link_id)
                .ok_or_else(|| format!("no acquisition link {link_id}"))?;
            if corp.acquisition_quota.balance <= 0 {
                return Err("acquisition quota exhausted: the link adds no customers".to_owned());
            }
            let userid = corp
                .least_added(&link.users, &link.adds)
                .ok_or_else(|| format!("acquisition link {link_id} has no active user"))?;
            if let Some(link) = corp.acquisition_links.get_mut(link_id) {
                *link.adds.entry(userid.clone()).or_insert(0) += 1;
            }
            corp.acquisition_quota.balance -= 1;
            corp.acquisition_quota.total += 1;
            Ok(corp.add_new_customer(
                &userid,
                name,
                crate::fake::corp::acquisition_state(customer_channel),
                16,
            ))
        })
    }

    /// The contact way `config_id` as it is now (users, state…), or `None` once deleted.
    pub fn contact_way(&self, config_id: &str) -> Option<corp::ContactWay> {
        self.with_corp(|corp| corp.contact_way(config_id).cloned())
    }

    /// A new WeChat user `name` (a fresh external userid, friend of no staff member, not in
    /// [`Corp::customers`]) scans the group join way `config_id`. WeCom puts them into the
    /// first group of the way's `chat_id_list`, then of the groups the way created
    /// ([`corp::JoinWay::auto_rooms`]), that still exists and has fewer than
    /// [`QR_JOIN_MEMBER_LIMIT`](crate::client::api::QR_JOIN_MEMBER_LIMIT) (200) members,
    /// staff included. When none has room and the way has `auto_create_room`, a new group is
    /// created (`room_base_name` + (`room_base_id` + groups created so far), owned by the
    /// owner of the way's first group, with only that owner in it) and takes them. The joiner
    /// becomes a member (type 2, `join_scene` 3, joined now on the corp's clock, `state` = the
    /// way's state) and the group's member version moves.
    ///
    /// Returns the events to [`FakeWecom::push`], in order: `ChatCreate` when a group was
    /// created, then `ChatUpdate` `add_member` (`JoinScene` 3, `MemChangeCnt` 1). Fails for an
    /// unknown or deleted way, and when every group is full and the way does not create groups.
    pub fn simulate_join_via_way(
        &self,
        config_id: &str,
        name: &str,
    ) -> Result<Vec<FakeEvent>, String> {
        self.with_corp(|corp| corp.join_via_way(config_id, None, name))
    }

    /// Like [`FakeWecom::simulate_join_via_way`], for the WeChat user `external_userid` (e.g.
    /// a customer who is already a staff member's friend; the fake does not check that it
    /// knows the id). Fails also when they are already a member of the group the way picks.
    pub fn simulate_join_via_way_as(
        &self,
        config_id: &str,
        external_userid: &str,
        name: &str,
    ) -> Result<Vec<FakeEvent>, String> {
        if external_userid.is_empty() {
            return Err("external_userid must not be empty".to_owned());
        }
        self.with_corp(|corp| corp.join_via_way(config_id, Some(external_userid), name))
    }

    /// The group join way `config_id` as it is now (groups it created, joins…), or `None`
    /// once deleted.
    pub fn join_way(&self, config_id: &str) -> Option<corp::JoinWay> {
        self.with_corp(|corp| corp.join_way(config_id).cloned())
    }

    /// The member `userid` (a customer or a staff member) leaves the group `chat_id` by
    /// themselves: removes them, moves the member version, and returns the `ChatUpdate`
    /// `del_member` event (`QuitScene` 0, `MemChangeCnt` 1). Fails for an unknown group or a
    /// non-member.
    pub fn simulate_leave_group(&self, chat_id: &str, userid: &str) -> Result<FakeEvent, String> {
        self.with_corp(|corp| {
            let group = corp
                .groups
                .iter_mut()
                .find(|g| g.chat_id == chat_id)
                .ok_or_else(|| format!("no group {chat_id}"))?;
            let before = group.members.len();
            group.members.retain(|m| m.userid != userid);
            if group.members.len() == before {
                return Err(format!("{userid} is not a member of {chat_id}"));
            }
            group.member_version += 1;
            Ok(FakeEvent::ChatUpdate {
                chat_id: chat_id.to_owned(),
                update_detail: "del_member".to_owned(),
                join_scene: None,
                quit_scene: Some(0),
                mem_change_cnt: Some(1),
                mem_change_list: vec![userid.to_owned()],
            })
        })
    }

    /// The acquisition link `link_id` as it is now, or `None` once deleted.
    pub fn acquisition_link(&self, link_id: &str) -> Option<corp::AcquisitionLink> {
        self.with_corp(|corp| corp.acquisition_link(link_id).cloned())
    }

    /// The welcome code as the fake knows it (when issued, the message sent with it), or
    /// `None` for a code it never issued.
    pub fn welcome_code(&self, code: &str) -> Option<corp::WelcomeCode> {
        self.with_corp(|corp| corp.welcome_codes.get(code).cloned())
    }

    /// Another app is sending the welcome message of `code`: the next `times` sends with it
    /// answer 41096 ("welcome msg is being distributed", 92599) without using the code, so a
    /// retry after them can still succeed. Returns whether the code exists.
    pub fn welcome_being_sent(&self, code: &str, times: u32) -> bool {
        self.with_corp(|corp| match corp.welcome_codes.get_mut(code) {
            Some(entry) => {
                entry.busy_answers = times;
                true
            }
            None => false,
        })
    }

    /// Moves the fake's clock forward (welcome-code expiry, creation times of simulated adds),
    /// so a test can let a welcome code expire without sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.with_corp(|corp| corp.clock_offset = corp.clock_offset.saturating_add(by));
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

#[cfg(test)]
mod tests {
    //! Mass sending (企业群发) through the real client against the fake: remind, cancel, the
    //! receipt cap, per-sender completion, and the client's and the fake's limits.

    use std::time::Duration;

    use serde_json::json;

    use super::{FakeConfig, FakeWecom};
    use crate::client::api::{
        AddMsgTemplateRequest, GroupMsgSendResultRequest, GroupMsgTaskRequest,
        MAX_MSG_TEMPLATE_CUSTOMERS, MAX_MSG_TEMPLATE_TEXT_BYTES, MAX_REMINDS_PER_DAY,
        PATH_ADD_MSG_TEMPLATE, PATH_CANCEL_GROUPMSG_SEND, PATH_REMIND_GROUPMSG_SEND, Text,
    };
    use crate::client::codes;
    use crate::{ClientConfig, WecomClient, WecomError};

    async fn spawn() -> (FakeWecom, WecomClient) {
        let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
        let mut config =
            ClientConfig::new(fake.corp_id(), fake.secret()).with_api_base(fake.base_url());
        config.backoff_base = Duration::from_millis(5);
        config.backoff_max = Duration::from_millis(20);
        config.request_timeout = Duration::from_secs(5);
        let client = WecomClient::new(config).unwrap();
        (fake, client)
    }

    /// A `single` task to `customers`, from `sender` when given (else each customer's first
    /// follower sends).
    async fn create(client: &WecomClient, customers: &[&str], sender: Option<&str>) -> String {
        client
            .add_msg_template(&AddMsgTemplateRequest {
                external_userid: customers.iter().map(|c| (*c).to_owned()).collect(),
                sender: sender.map(str::to_owned),
                text: Some(Text {
                    content: "会员日八折".into(),
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .msgid
    }

    /// (recipient, status) of `userid`'s share of `msgid`, as `get_groupmsg_send_result`
    /// answers.
    async fn results(client: &WecomClient, msgid: &str, userid: &str) -> Vec<(String, i64)> {
        client
            .get_groupmsg_send_result(&GroupMsgSendResultRequest {
                msgid: msgid.to_owned(),
                userid: userid.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .send_list
            .into_iter()
            .map(|r| (r.external_userid.unwrap_or_default(), r.status))
            .collect()
    }

    /// userid → status (0 / 2) of `get_groupmsg_task`.
    async fn tasks(client: &WecomClient, msgid: &str) -> Vec<(String, i64)> {
        client
            .get_groupmsg_task(&GroupMsgTaskRequest {
                msgid: msgid.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .task_list
            .into_iter()
            .map(|t| (t.userid, t.status))
            .collect()
    }

    fn is_invalid_request(error: &WecomError, expected: &str) -> bool {
        matches!(error, WecomError::InvalidRequest { field, .. } if *field == expected)
    }

    /// POSTs `body` to `path` with a valid token, past the client's own checks.
    async fn raw_post(
        fake: &FakeWecom,
        client: &WecomClient,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let token = client.access_token().await.unwrap();
        reqwest::Client::new()
            .post(format!("{}{path}?access_token={token}", fake.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn client_refuses_what_wecom_documents_as_too_much() {
        let (fake, client) = spawn().await;
        let error = client.remind_groupmsg_send("").await.unwrap_err();
        assert!(is_invalid_request(&error, "msgid"), "{error}");
        let error = client.cancel_groupmsg_send("").await.unwrap_err();
        assert!(is_invalid_request(&error, "msgid"), "{error}");
        assert_eq!(fake.calls(PATH_REMIND_GROUPMSG_SEND), 0);
        assert_eq!(fake.calls(PATH_CANCEL_GROUPMSG_SEND), 0);

        let too_many = AddMsgTemplateRequest {
            external_userid: (0..=MAX_MSG_TEMPLATE_CUSTOMERS)
                .map(|i| format!("wm{i}"))
                .collect(),
            text: Some(Text {
                content: "x".into(),
            }),
            ..Default::default()
        };
        let error = client.add_msg_template(&too_many).await.unwrap_err();
        assert!(is_invalid_request(&error, "external_userid"), "{error}");
        // 4,000 bytes pass, 4,001 do not (a CJK character is 3 bytes).
        let long = AddMsgTemplateRequest {
            external_userid: vec!["wmDemoCustomer0002".into()],
            text: Some(Text {
                content: "a".repeat(MAX_MSG_TEMPLATE_TEXT_BYTES - 2) + "鱼",
            }),
            ..Default::default()
        };
        let error = client.add_msg_template(&long).await.unwrap_err();
        assert!(is_invalid_request(&error, "text.content"), "{error}");
        assert_eq!(fake.calls(PATH_ADD_MSG_TEMPLATE), 0);
        let just_fits = AddMsgTemplateRequest {
            text: Some(Text {
                content: "a".repeat(MAX_MSG_TEMPLATE_TEXT_BYTES),
            }),
            ..long
        };
        client.add_msg_template(&just_fits).await.unwrap();
    }

    #[tokio::test]
    async fn fake_refuses_more_customers_than_wecom_allows() {
        let (fake, client) = spawn().await;
        let customers: Vec<String> = (0..=MAX_MSG_TEMPLATE_CUSTOMERS)
            .map(|i| format!("wm{i}"))
            .collect();
        let answer = raw_post(
            &fake,
            &client,
            PATH_ADD_MSG_TEMPLATE,
            json!({ "external_userid": customers, "text": { "content": "x" } }),
        )
        .await;
        assert_eq!(answer["errcode"], codes::INVALID_PARAMETER, "{answer}");
        let answer = raw_post(
            &fake,
            &client,
            PATH_ADD_MSG_TEMPLATE,
            json!({
                "external_userid": ["wmDemoCustomer0002"],
                "text": { "content": "a".repeat(MAX_MSG_TEMPLATE_TEXT_BYTES + 1) },
            }),
        )
        .await;
        assert_eq!(answer["errcode"], codes::INVALID_PARAMETER, "{answer}");
        assert!(fake.msg_templates().is_empty());
    }

    #[tokio::test]
    async fn three_reminders_a_day() {
        let (fake, client) = spawn().await;
        let error = client.remind_groupmsg_send("msgNobody").await.unwrap_err();
        // The same answer as the other groupmsg calls give an unknown msgid.
        let unknown_task = client
            .get_groupmsg_task(&GroupMsgTaskRequest {
                msgid: "msgNobody".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(error.errcode(), Some(codes::INVALID_PARAMETER));
        assert_eq!(error.errcode(), unknown_task.errcode());

        let msgid = create(&client, &["wmDemoCustomer0002"], None).await;
        for _ in 0..MAX_REMINDS_PER_DAY {
            client.remind_groupmsg_send(&msgid).await.unwrap();
        }
        assert_eq!(fake.reminders(&msgid), 3);
        let error = client.remind_groupmsg_send(&msgid).await.unwrap_err();
        assert_eq!(error.errcode(), Some(codes::FREQUENCY_LIMIT), "{error}");
        assert_eq!(
            fake.reminders(&msgid),
            3,
            "a refused reminder is not counted"
        );
        // Another task has its own three.
        let other = create(&client, &["wmDemoCustomer0003"], None).await;
        client.remind_groupmsg_send(&other).await.unwrap();
        assert_eq!(fake.reminders(&other), 1);
        // A day later the first three are out of the window.
        fake.advance_clock(Duration::from_secs(24 * 3600 + 1));
        client.remind_groupmsg_send(&msgid).await.unwrap();
        assert_eq!(fake.reminders(&msgid), 4);
        assert_eq!(fake.reminders("msgNobody"), 0);
    }

    #[tokio::test]
    async fn a_cancelled_task_sends_nothing_more() {
        let (fake, client) = spawn().await;
        let error = client.cancel_groupmsg_send("msgNobody").await.unwrap_err();
        assert_eq!(error.errcode(), Some(codes::INVALID_PARAMETER));
        // 0002 is wangfang's customer, 0003 lina's: two shares.
        let msgid = create(&client, &["wmDemoCustomer0002", "wmDemoCustomer0003"], None).await;
        assert!(fake.complete_msg_template_for(&msgid, "wangfang"));
        client.cancel_groupmsg_send(&msgid).await.unwrap();
        client.cancel_groupmsg_send(&msgid).await.unwrap();
        assert!(fake.complete_msg_template(&msgid), "the task still exists");
        assert!(fake.complete_msg_template_for(&msgid, "lina"));
        assert_eq!(
            results(&client, &msgid, "wangfang").await,
            [("wmDemoCustomer0002".to_owned(), 1)]
        );
        assert_eq!(
            results(&client, &msgid, "lina").await,
            [("wmDemoCustomer0003".to_owned(), 0)]
        );
        let mut by_sender = tasks(&client, &msgid).await;
        by_sender.sort();
        assert_eq!(
            by_sender,
            [("lina".to_owned(), 0), ("wangfang".to_owned(), 2)]
        );
        assert!(fake.msg_templates()[0].cancelled);
    }

    #[tokio::test]
    async fn completing_one_sender_and_the_reasons_a_target_fails() {
        let (fake, client) = spawn().await;
        assert!(!fake.complete_msg_template_for("msgNobody", "zhangwei"));
        // zhangwei follows 0001 and 0007; wangfang follows 0002.
        let msgid = create(
            &client,
            &[
                "wmDemoCustomer0001",
                "wmDemoCustomer0007",
                "wmDemoCustomer0002",
            ],
            None,
        )
        .await;
        assert!(!fake.complete_msg_template_for(&msgid, "lina"), "no share");
        // 0007 deletes zhangwei before he sends: 2 (因客户不是好友导致发送失败).
        fake.simulate_customer_deletes_staff("zhangwei", "wmDemoCustomer0007");
        assert!(fake.complete_msg_template_for(&msgid, "zhangwei"));
        assert_eq!(
            results(&client, &msgid, "zhangwei").await,
            [
                ("wmDemoCustomer0001".to_owned(), 1),
                ("wmDemoCustomer0007".to_owned(), 2)
            ]
        );
        assert_eq!(
            results(&client, &msgid, "wangfang").await,
            [("wmDemoCustomer0002".to_owned(), 0)]
        );
        let sent = client
            .get_groupmsg_send_result(&GroupMsgSendResultRequest {
                msgid: msgid.clone(),
                userid: "zhangwei".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .send_list;
        assert!(sent[0].send_time > 0);
        assert_eq!(sent[1].send_time, 0, "send_time only with status 1");
        // Completing again changes nothing already final; the rest completes now.
        assert!(fake.complete_msg_template(&msgid));
        assert_eq!(
            results(&client, &msgid, "zhangwei").await,
            [
                ("wmDemoCustomer0001".to_owned(), 1),
                ("wmDemoCustomer0007".to_owned(), 2)
            ]
        );
        assert_eq!(
            results(&client, &msgid, "wangfang").await,
            [("wmDemoCustomer0002".to_owned(), 1)]
        );
    }

    #[tokio::test]
    async fn customers_over_the_receipt_cap_get_status_3() {
        let (fake, client) = spawn().await;
        // No cap by default.
        for _ in 0..3 {
            let msgid = create(&client, &["wmDemoCustomer0003"], None).await;
            assert!(fake.complete_msg_template(&msgid));
        }
        assert_eq!(
            fake.with_corp(|corp| corp.delivered_mass_messages("wmDemoCustomer0003")),
            3
        );
        fake.set_receipt_cap(1);
        let first = create(&client, &["wmDemoCustomer0002"], None).await;
        assert!(fake.complete_msg_template(&first));
        let second = create(
            &client,
            &["wmDemoCustomer0002", "wmDemoCustomer0008"],
            Some("wangfang"),
        )
        .await;
        assert!(fake.complete_msg_template_for(&second, "wangfang"));
        assert_eq!(
            results(&client, &second, "wangfang").await,
            [
                ("wmDemoCustomer0002".to_owned(), 3),
                ("wmDemoCustomer0008".to_owned(), 1)
            ]
        );
        // A failed delivery does not count toward the cap, and the staff member did send.
        assert_eq!(
            fake.with_corp(|corp| corp.delivered_mass_messages("wmDemoCustomer0002")),
            1
        );
        assert_eq!(tasks(&client, &second).await, [("wangfang".to_owned(), 2)]);
    }

    #[tokio::test]
    async fn templates_show_what_they_were_created_with() {
        let (fake, client) = spawn().await;
        let msgid = create(
            &client,
            &["wmDemoCustomer0001", "wmDemoCustomer0002", "wmNobody"],
            None,
        )
        .await;
        let templates = fake.msg_templates();
        assert_eq!(templates.len(), 1);
        let template = &templates[0];
        assert_eq!(template.msgid, msgid);
        assert_eq!(template.creator, "", "no sender given");
        assert_eq!(template.chat_type, "single");
        assert_eq!(template.text.as_deref(), Some("会员日八折"));
        assert_eq!(template.recipients_of("zhangwei"), ["wmDemoCustomer0001"]);
        assert_eq!(template.recipients_of("wangfang"), ["wmDemoCustomer0002"]);
        assert_eq!(
            template.targets.len(),
            2,
            "wmNobody is in fail_list, not a target"
        );
        assert!(!template.cancelled);
        assert!(template.targets.iter().all(|t| t.status == 0));
    }
}
