//! Outbound webhooks (issue #24 item 6): integrations subscribe to kinds of the event log
//! and receive each event as a signed POST.
//!
//! Two loops run on every node ([`crate::workers`]):
//! - the **follower** reads the event log in commit order (the change feed the segment index
//!   uses: PostgreSQL snapshots, SQLite ids) and fans each event out into one delivery row per
//!   matching subscription, in the same transaction that moves its position — so an event is
//!   queued once, never skipped, whichever node follows;
//! - the **sender** claims due deliveries under a lease, POSTs them concurrently and records
//!   each outcome: delivered (a 2xx), retried with backoff, or failed after the last attempt.
//!   A sender killed mid-POST leaves its deliveries due again when the lease ends.
//!
//! Delivery is at least once: a receiver dedupes by the event id (`X-Yutang-Event-Id`, also
//! the body's `id`), which stays the same across retries and replays. Each body is signed
//! with the subscription's secret: `X-Yutang-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256(secret, "<t>.<body>")>`. A subscription whose deliveries fail
//! `pause_after_failures` times in a row is paused (its events keep queueing) and the pause
//! is audited as the alert; resuming sends what queued.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use yutang_core::FieldError;
use yutang_core::staff::{DisplayName, Permission};
use yutang_core::time::Millis;
use yutang_core::webhooks::{EventKinds, TargetUrl, backoff_ms, is_public_ip};
use yutang_store::feed::{self, Feed, FeedPosition};
use yutang_store::webhooks::{self as store, AttemptOutcome, DueDelivery, NewDelivery};

pub use yutang_store::webhooks::{DeliveryRow, SubscriptionRow};

use crate::audit::{self, Action, Page, Paged};
use crate::auth::random_secret;
use crate::error::{AppError, Result};
use crate::secret_box::SecretBox;
use crate::{Actor, App};

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The associated data the secrets are sealed with.
pub const SEALED_FIELD: &str = "webhook.secret";
/// Events read per follower step (one transaction).
const FEED_PAGE: i64 = 2000;
/// The most deliveries claimed per sender round (fewer when fewer may be in flight at once).
const SEND_BATCH: i64 = 500;
/// The longest error text kept on a delivery.
const MAX_ERROR: usize = 300;

/// The event kinds Yutang writes, offered in the console; a subscription may name others
/// (kinds integrations post to `/api/v1/events`) or `*`.
pub const KNOWN_KINDS: [&str; 24] = [
    "created",
    "identity_added",
    "profile_updated",
    "merged",
    "followed",
    "follow_changed",
    "join_group",
    "leave_group",
    "order_paid",
    "order_shipped",
    "order_completed",
    "order_refunded",
    "coupon_claimed",
    "coupon_used",
    "coupon_returned",
    "coupon_expired",
    "coupon_revoked",
    "flash_sale_claimed",
    "flash_sale_paid",
    "group_buy_joined",
    "tier_changed",
    "points_changed",
    "stored_value_changed",
    "mall_exchanged",
];

/// A subscription as entered, parsed.
#[derive(Debug, Clone)]
pub struct WebhookInput {
    pub name: DisplayName,
    pub url: TargetUrl,
    pub kinds: EventKinds,
}

impl WebhookInput {
    /// Parse a subscription; `allow_private` is `webhooks.allow_private_targets`.
    pub fn parse(
        name: &str,
        url: &str,
        kinds: &[String],
        allow_private: bool,
    ) -> Result<Self, FieldError> {
        Ok(Self {
            name: DisplayName::parse("name", name)?,
            url: TargetUrl::parse(url, allow_private)?,
            kinds: EventKinds::parse(kinds)?,
        })
    }
}

/// A subscription with its signing secret, which is shown this once (creation, rotation).
#[derive(Debug, Clone, Serialize)]
pub struct WithSecret {
    pub secret: String,
    pub subscription: SubscriptionRow,
}

/// What a delivery status filter may name.
pub fn parse_status(s: Option<&str>) -> Result<Option<&str>, FieldError> {
    match s {
        None | Some("") => Ok(None),
        Some(s @ ("pending" | "delivered" | "failed")) => Ok(Some(s)),
        Some(_) => Err(FieldError::new(
            "status",
            "invalid_status",
            "status must be pending, delivered or failed",
        )),
    }
}

/// The kinds of a stored subscription.
pub fn kinds_of(row: &SubscriptionRow) -> Vec<String> {
    serde_json::from_str(&row.kinds).unwrap_or_default()
}

/// The signature header's value for `body` sent at `unix_secs` with `secret`.
pub fn signature(secret: &str, unix_secs: i64, body: &str) -> String {
    // HMAC accepts a key of any length: this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={unix_secs},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The body of an event's delivery.
fn event_payload(e: &store::FeedEvent) -> String {
    let detail: serde_json::Value = serde_json::from_str(&e.detail)
        .unwrap_or_else(|_| serde_json::Value::String(e.detail.clone()));
    serde_json::json!({
        "id": format!("evt_{}", e.id),
        "kind": e.kind,
        "occurred_at": Millis(e.occurred_at).to_rfc3339(),
        "received_at": Millis(e.received_at).to_rfc3339(),
        "customer_id": e.customer_id,
        "staff_id": e.staff_id,
        "detail": detail,
    })
    .to_string()
}

/// What one sender round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SendReport {
    pub claimed: usize,
    pub delivered: usize,
    pub failed: usize,
}

/// The HTTP clients deliveries go out through. The strict one resolves names itself and
/// refuses a name whose addresses are not all public (a public name pointed at 127.0.0.1 is
/// refused at each delivery, not only when the subscription was saved); redirects are not
/// followed (a 3xx is a failure), so a receiver cannot bounce a delivery into the network.
pub struct WebhookHttp {
    strict: reqwest::Client,
    open: reqwest::Client,
}

impl WebhookHttp {
    fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let base = || {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("Yutang-Webhooks/", env!("CARGO_PKG_VERSION")))
        };
        Ok(Self {
            strict: base().dns_resolver(Arc::new(PublicOnly)).build()?,
            open: base().build()?,
        })
    }
}

/// A resolver answering only public addresses.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|a| !is_public_ip(a.ip())) {
                return Err(format!("{host} resolves to a non-public address").into());
            }
            let out: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(out)
        })
    }
}

/// The webhook use cases.
#[derive(Clone, Copy)]
pub struct Webhooks<'a>(&'a App);

impl std::ops::Deref for Webhooks<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Webhooks`].
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks(self)
    }
}

fn may(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManageIntegrations) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

impl Webhooks<'_> {
    fn sealer(&self) -> Result<SecretBox> {
        SecretBox::resolve(&self.settings)
    }

    fn http(&self) -> Result<&WebhookHttp> {
        if let Some(h) = self.webhook_http.get() {
            return Ok(h);
        }
        let made = WebhookHttp::new(Duration::from_secs(self.settings.webhooks.timeout_secs))
            .map_err(|e| AppError::Internal(format!("webhook HTTP client: {e}")))?;
        Ok(self.webhook_http.get_or_init(|| made))
    }

    /// Parse a subscription against this server's `webhooks.allow_private_targets`.
    pub fn parse_input(&self, name: &str, url: &str, kinds: &[String]) -> Result<WebhookInput> {
        Ok(WebhookInput::parse(
            name,
            url,
            kinds,
            self.settings.webhooks.allow_private_targets,
        )?)
    }

    async fn audit(
        &self,
        tx: &mut yutang_store::Tx,
        actor: &Actor,
        id: i64,
        op: &str,
    ) -> Result<()> {
        audit::record_in(
            self,
            tx,
            actor,
            Action::WebhookChanged,
            &format!("webhook:{id}"),
            &serde_json::json!({ "op": op }).to_string(),
        )
        .await
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<SubscriptionRow>> {
        may(actor)?;
        Ok(store::list(&self.db).await?)
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> Result<SubscriptionRow> {
        may(actor)?;
        store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("webhook"))
    }

    /// Create a subscription; it receives events committed from now on.
    pub async fn create(&self, actor: &Actor, input: &WebhookInput) -> Result<WithSecret> {
        may(actor)?;
        let secret = random_secret(SECRET_PREFIX);
        let sealed = self.sealer()?.seal(SEALED_FIELD, &secret)?;
        let kinds = serde_json::to_string(input.kinds.as_slice()).unwrap_or_default();
        let mut tx = self.db.begin().await?;
        // The first live subscription: the follower, idle until now, starts at the end of the
        // log instead of reading everything written while nothing was subscribed.
        let pos = feed::lock_feed_in(&mut tx, Feed::Webhooks).await?;
        if store::fanout_targets_in(&mut tx).await?.is_empty() {
            let end = feed::feed_end_in(&mut tx).await?;
            if pos.from != end || pos.to.is_some() {
                feed::save_feed_in(
                    &mut tx,
                    Feed::Webhooks,
                    &FeedPosition {
                        from: end,
                        to: None,
                        after_id: 0,
                    },
                )
                .await?;
            }
        }
        let id = store::create_in(
            &mut tx,
            &store::NewSubscription {
                name: input.name.as_str(),
                url: input.url.as_str(),
                kinds: &kinds,
                secret_sealed: &sealed,
                created_by: actor.staff_id().map(|s| s.0),
                now: self.now(),
            },
        )
        .await?;
        self.audit(&mut tx, actor, id, "create").await?;
        tx.commit().await?;
        Ok(WithSecret {
            secret,
            subscription: store::get(&self.db, id).await?,
        })
    }

    /// Change a subscription's name, URL and kinds (the secret stays).
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        input: &WebhookInput,
    ) -> Result<SubscriptionRow> {
        may(actor)?;
        let kinds = serde_json::to_string(input.kinds.as_slice()).unwrap_or_default();
        let mut tx = self.db.begin().await?;
        store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("webhook"))?;
        store::update_in(
            &mut tx,
            id,
            input.name.as_str(),
            input.url.as_str(),
            &kinds,
            self.now(),
        )
        .await?;
        self.audit(&mut tx, actor, id, "update").await?;
        tx.commit().await?;
        Ok(store::get(&self.db, id).await?)
    }

    /// Pause (`active: false`: deliveries queue, none is sent) or resume (what queued is sent,
    /// and the run of failures starts again from zero). Setting the status it has is a no-op.
    pub async fn set_active(
        &self,
        actor: &Actor,
        id: i64,
        active: bool,
    ) -> Result<SubscriptionRow> {
        may(actor)?;
        let mut tx = self.db.begin().await?;
        let status = store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("webhook"))?;
        let want = if active { "active" } else { "paused" };
        if status != want {
            let reason = if active { "" } else { "paused_by_staff" };
            store::set_status_in(&mut tx, id, want, reason, self.now()).await?;
            self.audit(&mut tx, actor, id, if active { "resume" } else { "pause" })
                .await?;
        }
        tx.commit().await?;
        Ok(store::get(&self.db, id).await?)
    }

    /// Give a subscription a new signing secret (shown this once); the old one stops signing
    /// at once.
    pub async fn rotate_secret(&self, actor: &Actor, id: i64) -> Result<WithSecret> {
        may(actor)?;
        let secret = random_secret(SECRET_PREFIX);
        let sealed = self.sealer()?.seal(SEALED_FIELD, &secret)?;
        let mut tx = self.db.begin().await?;
        store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("webhook"))?;
        store::set_secret_in(&mut tx, id, &sealed, self.now()).await?;
        self.audit(&mut tx, actor, id, "rotate_secret").await?;
        tx.commit().await?;
        Ok(WithSecret {
            secret,
            subscription: store::get(&self.db, id).await?,
        })
    }

    /// Delete a subscription: no more events are queued or sent for it; its log stays.
    pub async fn delete(&self, actor: &Actor, id: i64) -> Result<()> {
        may(actor)?;
        let mut tx = self.db.begin().await?;
        store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("webhook"))?;
        store::archive_in(&mut tx, id, self.now()).await?;
        self.audit(&mut tx, actor, id, "delete").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queue a test delivery (kind `ping`, id `ping_<n>`) to check the receiver and its
    /// signature check.
    pub async fn ping(&self, actor: &Actor, id: i64) -> Result<DeliveryRow> {
        may(actor)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("webhook"))?;
        let n = store::ping_count_in(&mut tx, id).await? + 1;
        let event_ref = format!("ping_{n}");
        let payload = serde_json::json!({
            "id": event_ref,
            "kind": "ping",
            "occurred_at": Millis(now).to_rfc3339(),
            "received_at": Millis(now).to_rfc3339(),
            "customer_id": null,
            "staff_id": null,
            "detail": {"webhook_id": id},
        })
        .to_string();
        store::insert_deliveries_in(
            &mut tx,
            &[NewDelivery {
                subscription_id: id,
                event_ref: event_ref.clone(),
                event_kind: "ping".into(),
                payload,
            }],
            now,
        )
        .await?;
        let delivery = store::delivery_id_in(&mut tx, id, &event_ref)
            .await?
            .ok_or_else(|| AppError::Internal("test delivery not stored".into()))?;
        self.audit(&mut tx, actor, id, "test").await?;
        tx.commit().await?;
        Ok(store::delivery(&self.db, delivery).await?)
    }

    /// A page of a subscription's delivery log, newest first.
    pub async fn deliveries(
        &self,
        actor: &Actor,
        id: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Paged<DeliveryRow>> {
        self.get(actor, id).await?;
        let (items, total) =
            store::deliveries(&self.db, id, status, page.size, page.offset()).await?;
        Ok(Paged {
            items,
            total,
            page: page.number,
            page_size: page.size,
        })
    }

    /// One delivery of a subscription.
    pub async fn delivery(&self, actor: &Actor, id: i64, delivery: i64) -> Result<DeliveryRow> {
        self.get(actor, id).await?;
        let d = store::delivery(&self.db, delivery)
            .await
            .map_err(AppError::not_found("delivery"))?;
        if d.subscription_id != id {
            return Err(AppError::NotFound { what: "delivery" });
        }
        Ok(d)
    }

    /// Send a delivery again, with the same event id: due now, attempts counted afresh. A
    /// delivery still waiting is left as it is.
    pub async fn replay(&self, actor: &Actor, id: i64, delivery: i64) -> Result<DeliveryRow> {
        self.delivery(actor, id, delivery).await?;
        let mut tx = self.db.begin().await?;
        store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("webhook"))?;
        store::replay_in(&mut tx, delivery, self.now()).await?;
        self.audit(&mut tx, actor, id, "replay").await?;
        tx.commit().await?;
        Ok(store::delivery(&self.db, delivery).await?)
    }

    /// Replay every failed delivery of a subscription; returns how many.
    pub async fn replay_failed(&self, actor: &Actor, id: i64) -> Result<u64> {
        may(actor)?;
        let mut tx = self.db.begin().await?;
        store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("webhook"))?;
        let n = store::replay_failed_in(&mut tx, id, self.now()).await?;
        if n > 0 {
            self.audit(&mut tx, actor, id, "replay_failed").await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    // -------------------------------------------------------------- the follower

    /// Follow the event log until caught up: queue a delivery per event and matching
    /// subscription. Returns the number of events read.
    pub async fn follow(&self) -> Result<usize> {
        if !store::any_live(&self.db).await? {
            return Ok(0);
        }
        let mut total = 0;
        loop {
            let n = self.follow_step().await?;
            total += n;
            if n < usize::try_from(FEED_PAGE).unwrap_or(usize::MAX) {
                return Ok(total);
            }
        }
    }

    /// One page of the log in one transaction, the position moved with the deliveries.
    async fn follow_step(&self) -> Result<usize> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let pos = feed::lock_feed_in(&mut tx, Feed::Webhooks).await?;
        let targets = store::fanout_targets_in(&mut tx).await?;
        let from = feed::parse_mark(&tx, &pos.from);
        let (Some(from), false) = (from, targets.is_empty()) else {
            // Nothing subscribed (or a position written by the other engine, in a database
            // moved by `yutang db copy`): start from the end of the log.
            let end = feed::feed_end_in(&mut tx).await?;
            if pos.from != end || pos.to.is_some() || pos.after_id != 0 {
                feed::save_feed_in(
                    &mut tx,
                    Feed::Webhooks,
                    &FeedPosition {
                        from: end,
                        to: None,
                        after_id: 0,
                    },
                )
                .await?;
            }
            tx.commit().await?;
            return Ok(0);
        };
        let to_text = match &pos.to {
            Some(t) => t.clone(),
            None => feed::feed_end_in(&mut tx).await?,
        };
        let to = feed::parse_mark(&tx, &to_text)
            .ok_or_else(|| AppError::Internal(format!("unreadable feed position {to_text}")))?;
        let events = feed::events_between_in(&mut tx, &from, &to, pos.after_id, FEED_PAGE).await?;
        let subs: Vec<(i64, EventKinds, i64)> = targets
            .into_iter()
            .filter_map(|t| {
                let kinds: Vec<String> = serde_json::from_str(&t.kinds).ok()?;
                Some((t.id, EventKinds::parse(&kinds).ok()?, t.created_at))
            })
            .collect();
        let mut rows = Vec::new();
        for e in &events {
            let mut payload = None;
            for (id, kinds, created_at) in &subs {
                // A subscription receives what was written after it was made.
                if e.received_at >= *created_at && kinds.matches(&e.kind) {
                    let body = payload.get_or_insert_with(|| event_payload(e)).clone();
                    rows.push(NewDelivery {
                        subscription_id: *id,
                        event_ref: format!("evt_{}", e.id),
                        event_kind: e.kind.clone(),
                        payload: body,
                    });
                }
            }
        }
        store::insert_deliveries_in(&mut tx, &rows, now).await?;
        let n = events.len();
        let next = if (n as i64) < FEED_PAGE {
            FeedPosition {
                from: to_text,
                to: None,
                after_id: 0,
            }
        } else {
            FeedPosition {
                from: pos.from,
                to: Some(to_text),
                after_id: events.last().map(|e| e.id).unwrap_or(pos.after_id),
            }
        };
        feed::save_feed_in(&mut tx, Feed::Webhooks, &next).await?;
        tx.commit().await?;
        Ok(n)
    }

    // -------------------------------------------------------------- the sender

    /// Send what is due now (one round of at most 500 deliveries).
    pub async fn send_due(&self) -> Result<SendReport> {
        self.send_due_at(self.now()).await
    }

    /// [`Self::send_due`] as if the time were `now` (tests move time to a retry or past a
    /// lease).
    pub async fn send_due_at(&self, now: i64) -> Result<SendReport> {
        let timeout_ms = i64::try_from(self.settings.webhooks.timeout_secs).unwrap_or(60) * 1000;
        // The lease outlasts the POST's timeout, so a live sender never races a retry.
        let lease_until = now + timeout_ms + 30_000;
        if !store::any_due(&self.db, now).await? {
            return Ok(SendReport::default());
        }
        // One wave per round: a round lasts as long as its slowest POST, so claiming more
        // than can be in flight at once would make the rest wait a whole POST for a slot
        // while new events wait for the round.
        let wave = i64::try_from(self.settings.webhooks.concurrency)
            .unwrap_or(SEND_BATCH)
            .clamp(1, SEND_BATCH);
        let due = store::claim_due(&self.db, now, lease_until, wave).await?;
        if due.is_empty() {
            return Ok(SendReport::default());
        }
        let sealer = self.sealer()?;
        let sem = Arc::new(tokio::sync::Semaphore::new(
            self.settings.webhooks.concurrency,
        ));
        let mut set = tokio::task::JoinSet::new();
        for d in due {
            let permit = sem
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let secret = sealer.open(SEALED_FIELD, &d.secret_sealed);
            let client = self.client_for();
            set.spawn(async move {
                let out = attempt(client, &d, secret.map_err(|e| e.to_string())).await;
                drop(permit);
                (d, out)
            });
        }
        let max_attempts = self.settings.webhooks.max_attempts;
        let mut outcomes = Vec::new();
        let mut report = SendReport::default();
        let done_at = self.now().max(now);
        while let Some(joined) = set.join_next().await {
            let (d, (status, error)) = joined.map_err(|e| AppError::Internal(e.to_string()))?;
            report.claimed += 1;
            let delivered = error.is_none();
            if delivered {
                report.delivered += 1;
            } else {
                report.failed += 1;
            }
            outcomes.push(AttemptOutcome {
                id: d.id,
                subscription_id: d.subscription_id,
                attempt: d.attempts,
                http_status: status,
                error: error.unwrap_or_default(),
                retry_at: (!delivered && d.attempts < max_attempts)
                    .then(|| done_at + backoff_ms(d.attempts)),
                delivered,
            });
        }
        outcomes.sort_by_key(|o| o.id);
        let paused = store::record_outcomes(
            &self.db,
            &outcomes,
            done_at,
            self.settings.webhooks.pause_after_failures,
            "too_many_failures",
        )
        .await?;
        for id in paused {
            tracing::warn!(
                webhook = id,
                "webhook paused after repeated failed deliveries"
            );
            audit::record(
                self,
                &Actor::system(),
                Action::WebhookAutoPaused,
                &format!("webhook:{id}"),
                &serde_json::json!({
                    "failures_in_a_row": self.settings.webhooks.pause_after_failures
                })
                .to_string(),
            )
            .await?;
        }
        Ok(report)
    }

    /// The client for a target: the strict one, unless private targets are allowed.
    fn client_for(&self) -> Result<reqwest::Client, String> {
        let http = self.http().map_err(|e| e.to_string())?;
        Ok(if self.settings.webhooks.allow_private_targets {
            http.open.clone()
        } else {
            http.strict.clone()
        })
    }
}

/// One POST. Returns the HTTP status (if one came back) and the error (`None`: delivered).
async fn attempt(
    client: Result<reqwest::Client, String>,
    d: &DueDelivery,
    secret: Result<String, String>,
) -> (Option<i64>, Option<String>) {
    let client = match client {
        Ok(c) => c,
        Err(e) => return (None, Some(e)),
    };
    let secret = match secret {
        Ok(s) => s,
        Err(e) => return (None, Some(clip(&e))),
    };
    let unix = Millis::now().0 / 1000;
    let sent = client
        .post(&d.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Yutang-Event-Id", &d.event_ref)
        .header("X-Yutang-Event-Kind", &d.event_kind)
        .header("X-Yutang-Delivery", d.id.to_string())
        .header("X-Yutang-Attempt", d.attempts.to_string())
        .header("X-Yutang-Signature", signature(&secret, unix, &d.payload))
        .body(d.payload.clone())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => (Some(i64::from(r.status().as_u16())), None),
        Ok(r) => (
            Some(i64::from(r.status().as_u16())),
            Some(format!(
                "the receiver answered HTTP {}",
                r.status().as_u16()
            )),
        ),
        Err(e) => (None, Some(clip(&error_chain(&e)))),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_ERROR).collect()
}

/// How long the loops wait when a round found nothing to do.
const IDLE: Duration = Duration::from_millis(250);

/// The two loops every node runs (unless `webhooks.deliver` is off), as separate tasks so
/// that queueing new events never waits for a round of slow POSTs, nor a round for the
/// queueing: the follower fans new events out into deliveries; the sender sends due
/// deliveries, round after round while there are any (a round lasts as long as its slowest
/// POST, so pausing after one would cap the rate), and each waits [`IDLE`] when it found
/// nothing.
pub fn spawn_loops(app: &App) -> Vec<tokio::task::JoinHandle<()>> {
    let follower = {
        let app = app.clone();
        tokio::spawn(async move {
            loop {
                match app.webhooks().follow().await {
                    Ok(n) if n > 0 => {}
                    Ok(_) => tokio::time::sleep(IDLE).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook follower");
                        tokio::time::sleep(IDLE).await;
                    }
                }
            }
        })
    };
    let sender = {
        let app = app.clone();
        tokio::spawn(async move {
            loop {
                match app.webhooks().send_due().await {
                    Ok(r) if r.claimed > 0 => {}
                    Ok(_) => tokio::time::sleep(IDLE).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook sender");
                        tokio::time::sleep(IDLE).await;
                    }
                }
            }
        })
    };
    vec![follower, sender]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_over_time_and_body() {
        // The value a receiver computes with any HMAC library (checked against Python's hmac).
        assert_eq!(
            signature("whsec_test", 1_700_000_000, r#"{"id":"evt_1"}"#),
            "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"
        );
    }

    #[test]
    fn statuses_filter_the_log() {
        assert_eq!(parse_status(None).unwrap(), None);
        assert_eq!(parse_status(Some("failed")).unwrap(), Some("failed"));
        assert_eq!(parse_status(Some("nope")).unwrap_err().field, "status");
    }
}
