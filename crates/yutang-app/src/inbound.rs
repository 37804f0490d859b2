//! Inbound order and member sync (issue #24 item 7): shops and order systems push orders,
//! payments, shipments, refunds and member records; each becomes the same write the API
//! makes, idempotently.
//!
//! A **source** is one sender with its format and secret. A message is accepted only with a
//! valid signature; then it is parsed ([`yutang_core::inbound`]), applied, and its outcome
//! kept in the source's message log:
//! - `applied` / `draft` / `ignored`: final. The same message again (same message id) is a
//!   replay: it answers the logged outcome and writes nothing.
//! - `failed`: kept with the error. A resend (or a retry from the console) runs it again.
//!
//! Every effect is idempotent on its own as well (orders by external id, refunds by refund
//! id, customers by identity), so two copies of one message racing, or a crash between the
//! effect and the log, still change the books once.
//!
//! What counts as "try again later" (the sender should resend) and what is final:
//! a payment, shipment or refund for an order Yutang has not received yet, or a copy of the
//! same message still being written, answers 409 (transient); a message that can never apply
//! (bad amounts, an unknown kind, a refund above what was paid) is logged as failed and
//! answered 422 (generic) or acknowledged (有赞, whose push is fused after repeated
//! failures and would hold back every other message).

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde::Serialize;
use sha2::Sha256;
use yutang_core::FieldError;
use yutang_core::customers::ProfilePatch;
use yutang_core::ids::{CustomerId, OrderId, StaffId, StoreId};
use yutang_core::inbound::{self as core, Action, Buyer, InboundOrder, Message, SourceFormat};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderStatus, parse_channel};
use yutang_core::staff::{DisplayName, Permission};
use yutang_store::inbound::{self as store, MessageOutcome, SourceAuth, SourcePatch};

pub use yutang_store::inbound::{MessageRow, SourceRow};

use crate::audit::{self, Action as AuditAction, Page, Paged};
use crate::auth::random_secret;
use crate::customers::{CustomerInput, CustomerRef};
use crate::error::{AppError, Result};
use crate::orders::OrderInput;
use crate::secret_box::SecretBox;
use crate::{Actor, App};

/// The associated data source secrets are sealed with.
pub const SEALED_FIELD: &str = "inbound.secret";
/// The prefix of a generic source's signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a generic signature's timestamp may be from the server's clock (seconds): a
/// captured message cannot be replayed into the log later than this.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;
/// The longest error text kept in the log.
const MAX_ERROR: usize = 300;
/// The largest body kept in the log (a message bigger than this is refused).
pub const MAX_BODY: usize = 256 * 1024;

/// A source as entered, parsed.
#[derive(Debug, Clone)]
pub struct SourceInput {
    pub name: DisplayName,
    pub channel: String,
    pub store_id: Option<StoreId>,
    /// 有赞's client_id (youzan sources only).
    pub app_id: String,
    pub active: bool,
}

impl SourceInput {
    pub fn parse(
        format: SourceFormat,
        name: &str,
        channel: Option<&str>,
        store_id: Option<i64>,
        app_id: Option<&str>,
        active: Option<bool>,
    ) -> Result<Self, FieldError> {
        let app_id = app_id.map(str::trim).unwrap_or("");
        let app_id = match format {
            SourceFormat::Youzan => {
                if app_id.is_empty()
                    || app_id.len() > 64
                    || !app_id.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(FieldError::new(
                        "app_id",
                        "invalid_app_id",
                        "a 有赞 source needs the app's client_id (letters and digits)",
                    ));
                }
                app_id.to_owned()
            }
            SourceFormat::Generic => {
                if !app_id.is_empty() {
                    return Err(FieldError::new(
                        "app_id",
                        "not_allowed",
                        "only 有赞 sources have a client_id",
                    ));
                }
                String::new()
            }
        };
        let default_channel = match format {
            SourceFormat::Youzan => "youzan",
            SourceFormat::Generic => "",
        };
        let channel = channel.unwrap_or(default_channel);
        Ok(Self {
            name: DisplayName::parse("name", name)?,
            channel: parse_channel(channel).map_err(|mut e| {
                e.field = "channel";
                e
            })?,
            store_id: store_id.map(StoreId),
            app_id,
            active: active.unwrap_or(true),
        })
    }
}

/// A 有赞 client_secret as an admin pastes it.
pub fn parse_client_secret(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.len() < 8 || s.len() > 128 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FieldError::new(
            "client_secret",
            "invalid_client_secret",
            "the client_secret is 8–128 printable characters, as 有赞云's console shows it",
        ));
    }
    Ok(s.to_owned())
}

/// A source with its signing secret, shown this once (creation, rotation of a generic one).
#[derive(Debug, Clone, Serialize)]
pub struct WithSecret {
    pub secret: Option<String>,
    pub source: SourceRow,
}

/// What became of a received message.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub message_id: i64,
    /// applied, draft, ignored or failed.
    pub status: String,
    /// The message was logged before as final: nothing was written now.
    pub replay: bool,
    pub order_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Why it was ignored or failed.
    pub reason: String,
}

/// What a message status filter may name.
pub fn parse_status(s: Option<&str>) -> Result<Option<&str>, FieldError> {
    match s {
        None | Some("") => Ok(None),
        Some(s @ ("applied" | "draft" | "ignored" | "failed")) => Ok(Some(s)),
        Some(_) => Err(FieldError::new(
            "status",
            "invalid_status",
            "status must be applied, draft, ignored or failed",
        )),
    }
}

/// The generic signature header's value for `body` sent at `unix_secs`: `t=<unix
/// seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` — the outbound webhooks' scheme.
pub fn generic_signature(secret: &str, unix_secs: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={unix_secs},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Check a generic signature header against the secret, in constant time, within the
/// tolerance of `now_secs`.
fn verify_generic(secret: &str, header: Option<&str>, body: &[u8], now_secs: i64) -> Result<()> {
    let header = header.ok_or(AppError::BadSignature {
        code: "signature_missing",
    })?;
    let (mut t, mut v1) = (None, Vec::new());
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let (Some(t), false) = (t, v1.is_empty()) else {
        return Err(AppError::BadSignature {
            code: "signature_malformed",
        });
    };
    if (now_secs - t).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(AppError::BadSignature {
            code: "signature_expired",
        });
    }
    for sig in v1 {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            break;
        };
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err(AppError::BadSignature {
        code: "signature_mismatch",
    })
}

/// 有赞's `Event-Sign`: lowercase hex MD5 of `client_id + body + client_secret` over the raw
/// bytes received.
pub fn youzan_signature(client_id: &str, client_secret: &str, body: &[u8]) -> String {
    let mut h = Md5::new();
    h.update(client_id.as_bytes());
    h.update(body);
    h.update(client_secret.as_bytes());
    hex::encode(h.finalize())
}

/// Compare two ASCII strings without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The inbound sync use cases.
#[derive(Clone, Copy)]
pub struct Inbound<'a>(&'a App);

impl std::ops::Deref for Inbound<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Inbound`].
    pub fn inbound(&self) -> Inbound<'_> {
        Inbound(self)
    }
}

fn may(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManageIntegrations) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn random_key() -> String {
    // 24 hex digits from a fresh random secret.
    let s = random_secret("");
    format!("in_{}", &s[..24])
}

/// What a message did, before it is logged.
struct Applied {
    status: &'static str,
    order_id: Option<i64>,
    customer_id: Option<i64>,
    reason: String,
}

impl Applied {
    fn done(status: &'static str) -> Self {
        Self {
            status,
            order_id: None,
            customer_id: None,
            reason: String::new(),
        }
    }
}

/// Refusals a resend can cure (the order arrives later, a racing copy finishes): the sender
/// is asked to send again, never told the message is bad.
const TRANSIENT: [&str; 3] = [
    "order_not_yet_received",
    "order_not_created",
    "customer_in_progress",
];

/// A transient refusal: the sender should send the message again later.
fn not_yet(code: &'static str) -> AppError {
    let message = match code {
        "order_not_created" => {
            "no order.created was received for this order: send it first, or the whole order \
             with order.paid"
        }
        "customer_in_progress" => "another copy is writing this customer; send again shortly",
        _ => "Yutang has not received this order yet; send this message again later",
    };
    AppError::Rule {
        code,
        message: message.into(),
    }
}

/// Whether an error is final for this message (resending cannot help).
pub fn is_final(e: &AppError) -> bool {
    match e {
        AppError::Invalid(_) => true,
        AppError::Rule { code, .. } => !TRANSIENT.contains(code),
        _ => false,
    }
}

fn error_parts(e: &AppError) -> (String, String) {
    let code = match e {
        AppError::Invalid(f) => f.code.to_owned(),
        AppError::Rule { code, .. }
        | AppError::Conflict { code, .. }
        | AppError::Unavailable { code, .. } => (*code).to_owned(),
        AppError::NotFound { .. } => "not_found".to_owned(),
        _ => "internal".to_owned(),
    };
    let message = match e {
        AppError::Invalid(f) => format!("{}: {}", f.field, f.message),
        AppError::Conflict { .. } => {
            "another copy of this message is being written; send again shortly".to_owned()
        }
        other => other.to_string(),
    };
    (code, message.chars().take(MAX_ERROR).collect())
}

impl Inbound<'_> {
    fn sealer(&self) -> Result<SecretBox> {
        SecretBox::resolve(&self.settings)
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
            AuditAction::InboundSourceChanged,
            &format!("inbound_source:{id}"),
            &serde_json::json!({ "op": format!("inbound_source.{op}") }).to_string(),
        )
        .await
    }

    async fn check_store(&self, store_id: Option<StoreId>) -> Result<()> {
        if let Some(s) = store_id {
            yutang_store::org::get_store(&self.db, s.0)
                .await
                .map_err(|e| match e {
                    yutang_store::StoreError::NotFound => {
                        FieldError::new("store_id", "unknown_store", "no such store").into()
                    }
                    other => AppError::from(other),
                })?;
        }
        Ok(())
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<SourceRow>> {
        may(actor)?;
        Ok(store::list(&self.db).await?)
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> Result<SourceRow> {
        may(actor)?;
        store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("inbound source"))
    }

    /// Create a source. A generic one gets a signing secret (shown this once); a 有赞 one
    /// keeps the client_secret the admin gives.
    pub async fn create(
        &self,
        actor: &Actor,
        format: SourceFormat,
        input: &SourceInput,
        client_secret: Option<&str>,
    ) -> Result<WithSecret> {
        may(actor)?;
        let (secret, shown) = match format {
            SourceFormat::Generic => {
                if client_secret.is_some() {
                    return Err(FieldError::new(
                        "client_secret",
                        "not_allowed",
                        "a generic source's secret is made by Yutang",
                    )
                    .into());
                }
                let s = random_secret(SECRET_PREFIX);
                (s.clone(), Some(s))
            }
            SourceFormat::Youzan => {
                let s = client_secret.ok_or_else(|| {
                    FieldError::new(
                        "client_secret",
                        "missing_field",
                        "a 有赞 source needs the app's client_secret",
                    )
                })?;
                (parse_client_secret(s)?, None)
            }
        };
        self.check_store(input.store_id).await?;
        let sealed = self.sealer()?.seal(SEALED_FIELD, &secret)?;
        let key = random_key();
        let mut tx = self.db.begin().await?;
        let id = store::create_in(
            &mut tx,
            &store::NewSource {
                name: input.name.as_str(),
                format: format.as_str(),
                source_key: &key,
                channel: &input.channel,
                store_id: input.store_id.map(|s| s.0),
                app_id: &input.app_id,
                secret_sealed: &sealed,
                created_by: actor.staff_id().map(|s| s.0),
                now: self.now(),
            },
        )
        .await?;
        if !input.active {
            store::update_in(
                &mut tx,
                id,
                &SourcePatch {
                    name: input.name.as_str(),
                    channel: &input.channel,
                    store_id: input.store_id.map(|s| s.0),
                    app_id: &input.app_id,
                    status: "paused",
                },
                self.now(),
            )
            .await?;
        }
        self.audit(&mut tx, actor, id, "create").await?;
        tx.commit().await?;
        Ok(WithSecret {
            secret: shown,
            source: store::get(&self.db, id).await?,
        })
    }

    /// Change a source's settings; a 有赞 source may be given a new client_secret.
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        input_of: impl FnOnce(SourceFormat) -> Result<SourceInput, FieldError>,
        client_secret: Option<&str>,
    ) -> Result<SourceRow> {
        may(actor)?;
        let current = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("inbound source"))?;
        let format = SourceFormat::parse("format", &current.format)?;
        let input = input_of(format)?;
        let sealed = match (format, client_secret) {
            (SourceFormat::Youzan, Some(s)) => Some(
                self.sealer()?
                    .seal(SEALED_FIELD, &parse_client_secret(s)?)?,
            ),
            (SourceFormat::Generic, Some(_)) => {
                return Err(FieldError::new(
                    "client_secret",
                    "not_allowed",
                    "a generic source's secret is rotated, not set",
                )
                .into());
            }
            (_, None) => None,
        };
        self.check_store(input.store_id).await?;
        let mut tx = self.db.begin().await?;
        store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("inbound source"))?;
        store::update_in(
            &mut tx,
            id,
            &SourcePatch {
                name: input.name.as_str(),
                channel: &input.channel,
                store_id: input.store_id.map(|s| s.0),
                app_id: &input.app_id,
                status: if input.active { "active" } else { "paused" },
            },
            self.now(),
        )
        .await?;
        if let Some(s) = &sealed {
            store::set_secret_in(&mut tx, id, s, self.now()).await?;
        }
        self.audit(
            &mut tx,
            actor,
            id,
            if sealed.is_some() {
                "update_secret"
            } else {
                "update"
            },
        )
        .await?;
        tx.commit().await?;
        Ok(store::get(&self.db, id).await?)
    }

    /// Give a generic source a new signing secret (shown this once); the old one stops
    /// verifying at once.
    pub async fn rotate_secret(&self, actor: &Actor, id: i64) -> Result<WithSecret> {
        may(actor)?;
        let secret = random_secret(SECRET_PREFIX);
        let sealed = self.sealer()?.seal(SEALED_FIELD, &secret)?;
        let mut tx = self.db.begin().await?;
        let format = store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("inbound source"))?;
        if format != SourceFormat::Generic.as_str() {
            return Err(AppError::Rule {
                code: "not_generic",
                message: "a 有赞 source verifies with the app's client_secret: set a new one \
                          with PUT instead"
                    .into(),
            });
        }
        store::set_secret_in(&mut tx, id, &sealed, self.now()).await?;
        self.audit(&mut tx, actor, id, "rotate_secret").await?;
        tx.commit().await?;
        Ok(WithSecret {
            secret: Some(secret),
            source: store::get(&self.db, id).await?,
        })
    }

    /// Delete a source: its URL answers 404 from now on; its log and drafts stay.
    pub async fn delete(&self, actor: &Actor, id: i64) -> Result<()> {
        may(actor)?;
        let mut tx = self.db.begin().await?;
        store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("inbound source"))?;
        store::archive_in(&mut tx, id, self.now()).await?;
        self.audit(&mut tx, actor, id, "delete").await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn messages(
        &self,
        actor: &Actor,
        id: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Paged<MessageRow>> {
        may(actor)?;
        store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("inbound source"))?;
        let (items, total) =
            store::messages(&self.db, id, status, page.size, page.offset()).await?;
        Ok(Paged {
            items,
            total,
            page: page.number,
            page_size: page.size,
        })
    }

    /// Run a logged message again (its body as received; it passed its signature check
    /// then). A final outcome answers as a replay, writing nothing.
    pub async fn retry(&self, actor: &Actor, source_id: i64, message_id: i64) -> Result<Receipt> {
        may(actor)?;
        let src = store::auth_by_id(&self.db, source_id)
            .await
            .map_err(AppError::not_found("inbound source"))?;
        let m = store::message(&self.db, source_id, message_id)
            .await
            .map_err(AppError::not_found("inbound message"))?;
        let header = (!m.header_kind.is_empty()).then_some(m.header_kind.as_str());
        let receipt = self.process(&src, m.payload.as_bytes(), header).await?;
        let mut tx = self.db.begin().await?;
        self.audit(&mut tx, actor, source_id, "retry").await?;
        tx.commit().await?;
        Ok(receipt)
    }

    // -------------------------------------------------------------- receiving

    /// The live source behind a receiving URL: an unknown or malformed key, or a key of the
    /// other format, is the same 404.
    async fn source(&self, key: &str, format: SourceFormat) -> Result<SourceAuth> {
        let not_found = || AppError::NotFound {
            what: "inbound source",
        };
        let key = core::parse_source_key(key).ok_or_else(not_found)?;
        store::by_key(&self.db, key)
            .await?
            .filter(|src| src.format == format.as_str())
            .ok_or_else(not_found)
    }

    fn secret_of(&self, src: &SourceAuth) -> Result<String> {
        self.sealer()?.open(SEALED_FIELD, &src.secret_sealed)
    }

    fn check_active(src: &SourceAuth) -> Result<()> {
        if src.status == "active" {
            Ok(())
        } else {
            Err(AppError::Unavailable {
                code: "source_paused",
                message: "this source is paused in Yutang; send the message again later".into(),
            })
        }
    }

    fn check_size(body: &[u8]) -> Result<()> {
        if body.len() > MAX_BODY {
            return Err(FieldError::new(
                "body",
                "body_too_large",
                format!("a message is at most {MAX_BODY} bytes"),
            )
            .into());
        }
        Ok(())
    }

    /// Receive a generic message: `signature` is the `X-Yutang-Signature` header.
    pub async fn receive_generic(
        &self,
        key: &str,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Receipt> {
        let src = self.source(key, SourceFormat::Generic).await?;
        let secret = self.secret_of(&src)?;
        verify_generic(&secret, signature, body, self.now().div_euclid(1000))?;
        Self::check_active(&src)?;
        Self::check_size(body)?;
        self.process(&src, body, None).await
    }

    /// Receive a 有赞 push: `event_sign` and `event_type` are its `Event-Sign` and
    /// `Event-Type` headers. A platform test message is acknowledged without a write.
    pub async fn receive_youzan(
        &self,
        key: &str,
        event_sign: Option<&str>,
        event_type: Option<&str>,
        body: &[u8],
    ) -> Result<Option<Receipt>> {
        let src = self.source(key, SourceFormat::Youzan).await?;
        let head = core::youzan_head(body)?;
        if head.test {
            return Ok(None);
        }
        let secret = self.secret_of(&src)?;
        let expected = youzan_signature(&src.app_id, &secret, body);
        let given = event_sign.map(|s| s.trim().to_ascii_lowercase());
        match given {
            None => {
                return Err(AppError::BadSignature {
                    code: "signature_missing",
                });
            }
            Some(g) if !same(&g, &expected) => {
                return Err(AppError::BadSignature {
                    code: "signature_mismatch",
                });
            }
            Some(_) => {}
        }
        // A message signed for another app (the body names its client_id) is not this
        // source's.
        if !head.client_id.is_empty() && head.client_id != src.app_id {
            return Err(AppError::BadSignature {
                code: "client_id_mismatch",
            });
        }
        Self::check_active(&src)?;
        Self::check_size(body)?;
        self.process(&src, body, event_type).await.map(Some)
    }

    fn parse(&self, src: &SourceAuth, body: &[u8], header_kind: Option<&str>) -> Result<Message> {
        Ok(match SourceFormat::parse("format", &src.format)? {
            SourceFormat::Generic => core::parse_generic(body)?,
            SourceFormat::Youzan => core::parse_youzan(body, header_kind, src.store_id)?,
        })
    }

    /// Parse, apply and log one message whose signature was checked.
    async fn process(
        &self,
        src: &SourceAuth,
        body: &[u8],
        header_kind: Option<&str>,
    ) -> Result<Receipt> {
        let text = String::from_utf8_lossy(body);
        let msg = match self.parse(src, body, header_kind) {
            Ok(m) => m,
            Err(e) => {
                // Logged under the body's digest, so resending the same bad body is one row.
                let key = format!("invalid:{}", &crate::auth::secret_hash(&text)[..32]);
                let (code, message) = error_parts(&e);
                store::record_message(
                    &self.db,
                    &MessageOutcome {
                        source_id: src.id,
                        dedupe_key: &key,
                        kind: "",
                        external_id: "",
                        status: "failed",
                        order_id: None,
                        customer_id: None,
                        error_code: &code,
                        error_message: &message,
                        payload: &text,
                        header_kind: header_kind.unwrap_or(""),
                        now: self.now(),
                    },
                )
                .await?;
                return Err(e);
            }
        };
        if let Some(logged) = store::find_message(&self.db, src.id, &msg.dedupe_key).await?
            && logged.status != "failed"
        {
            return Ok(Receipt {
                message_id: logged.id,
                status: logged.status,
                replay: true,
                order_id: logged.order_id,
                customer_id: logged.customer_id,
                reason: logged.error_code,
            });
        }
        let outcome = self.apply(src, &msg, &text, header_kind).await;
        let (status, order_id, customer_id, code, message) = match &outcome {
            Ok(a) => (
                a.status,
                a.order_id,
                a.customer_id,
                a.reason.clone(),
                String::new(),
            ),
            Err(e) => {
                let (code, message) = error_parts(e);
                ("failed", None, None, code, message)
            }
        };
        let id = store::record_message(
            &self.db,
            &MessageOutcome {
                source_id: src.id,
                dedupe_key: &msg.dedupe_key,
                kind: &msg.kind,
                external_id: &msg.external_id,
                status,
                order_id,
                customer_id,
                error_code: &code,
                error_message: &message,
                payload: &text,
                header_kind: header_kind.unwrap_or(""),
                now: self.now(),
            },
        )
        .await?;
        match outcome {
            Ok(a) => Ok(Receipt {
                message_id: id,
                status: a.status.to_owned(),
                replay: false,
                order_id: a.order_id,
                customer_id: a.customer_id,
                reason: a.reason,
            }),
            Err(e) => Err(e),
        }
    }

    /// The customer a buyer names: created, or attached to by its identities (and customers
    /// the identities prove to be one person merged). A name is given only to a new customer,
    /// never written over the one the brand keeps.
    async fn customer_of(&self, buyer: &Buyer) -> Result<CustomerId> {
        let mut known = false;
        for i in &buyer.identities {
            if self
                .customers()
                .resolve_customer_ref(&CustomerRef::Identity(i.clone()))
                .await?
                .is_some()
            {
                known = true;
                break;
            }
        }
        let profile = if known {
            ProfilePatch::default()
        } else {
            ProfilePatch {
                name: buyer.name.clone(),
                ..ProfilePatch::default()
            }
        };
        let ingested = self
            .customers()
            .ingest_customer(
                &Actor::system(),
                &CustomerInput {
                    identities: buyer.identities.clone(),
                    profile,
                    attributes: Vec::new(),
                },
            )
            .await
            .map_err(|e| match e {
                // A concurrent copy is creating the same customer: try again shortly.
                AppError::Conflict { .. } => not_yet("customer_in_progress"),
                other => other,
            })?;
        Ok(CustomerId(ingested.customer.id))
    }

    async fn order_id_of(&self, external_id: &str) -> Result<Option<i64>> {
        Ok(
            yutang_store::orders::find_by_external_id(&self.db, external_id)
                .await?
                .map(|(id, _)| id),
        )
    }

    async fn record(&self, src: &SourceAuth, o: &InboundOrder, at: Option<i64>) -> Result<Applied> {
        if let Some(id) = self.order_id_of(&o.external_id).await? {
            // Recorded already (by this source, the API or an import): the same order.
            return Ok(Applied {
                status: "applied",
                order_id: Some(id),
                customer_id: None,
                reason: "already_recorded".into(),
            });
        }
        let customer = self.customer_of(&o.buyer).await?;
        let input = OrderInput {
            external_id: o.external_id.clone(),
            customer: CustomerRef::Id(customer),
            channel: src.channel.clone(),
            store_id: o.store_id.or(src.store_id).map(StoreId),
            guide_id: o.guide_id.map(StaffId),
            campaign: o.campaign.clone(),
            status: OrderStatus::Paid,
            lines: o.lines.clone(),
            discount: o.discount,
            paid_at: at.or(o.paid_at),
            member_savings: Fen(0),
        };
        let (detail, _) = self.orders().record_order(&Actor::system(), &input).await?;
        store::settle_draft(&self.db, src.id, &o.external_id, "paid", self.now()).await?;
        Ok(Applied {
            status: "applied",
            order_id: Some(detail.order.id),
            customer_id: Some(detail.order.customer_id),
            reason: String::new(),
        })
    }

    async fn apply(
        &self,
        src: &SourceAuth,
        msg: &Message,
        body: &str,
        header_kind: Option<&str>,
    ) -> Result<Applied> {
        match &msg.action {
            Action::Ignore { reason } => Ok(Applied {
                reason: (*reason).to_owned(),
                ..Applied::done("ignored")
            }),
            Action::Draft(o) => {
                if let Some(id) = self.order_id_of(&o.external_id).await? {
                    return Ok(Applied {
                        status: "ignored",
                        order_id: Some(id),
                        customer_id: None,
                        reason: "already_paid".into(),
                    });
                }
                let kept = draft_payload(body, header_kind);
                store::put_draft(&self.db, src.id, &o.external_id, &kept, self.now()).await?;
                Ok(Applied::done("draft"))
            }
            Action::Paid {
                external_id,
                order,
                at,
            } => match order {
                Some(o) => self.record(src, o, *at).await,
                None => {
                    if let Some(id) = self.order_id_of(external_id).await? {
                        return Ok(Applied {
                            status: "applied",
                            order_id: Some(id),
                            customer_id: None,
                            reason: "already_recorded".into(),
                        });
                    }
                    let draft = store::draft(&self.db, src.id, external_id)
                        .await?
                        .ok_or_else(|| not_yet("order_not_created"))?;
                    if draft.status == "closed" {
                        return Err(AppError::Rule {
                            code: "order_closed",
                            message: "this order was closed before it was paid".into(),
                        });
                    }
                    let (body, header) = split_draft(&draft.payload);
                    let parsed = self.parse(src, body.as_bytes(), header.as_deref())?;
                    let Action::Draft(o) = parsed.action else {
                        return Err(AppError::Internal("a draft that is not an order".into()));
                    };
                    self.record(src, &o, *at).await
                }
            },
            Action::Status {
                external_id,
                to,
                at,
            } => {
                let id = self
                    .order_id_of(external_id)
                    .await?
                    .ok_or_else(|| not_yet("order_not_yet_received"))?;
                let detail = self
                    .orders()
                    .get_order(&Actor::system(), OrderId(id))
                    .await?;
                let cur = OrderStatus::parse("status", &detail.order.status)?;
                // Already there, or further along (messages arrive out of order): nothing to
                // do.
                if cur == *to || !cur.can_move_to(*to) {
                    return Ok(Applied {
                        status: "ignored",
                        order_id: Some(id),
                        customer_id: Some(detail.order.customer_id),
                        reason: format!("order_is_{}", cur.as_str()),
                    });
                }
                let d = self
                    .orders()
                    .set_order_status(&Actor::system(), OrderId(id), *to, *at)
                    .await?;
                Ok(Applied {
                    status: "applied",
                    order_id: Some(id),
                    customer_id: Some(d.order.customer_id),
                    reason: String::new(),
                })
            }
            Action::Refund {
                external_id,
                refund_id,
                amount,
                at,
            } => {
                let id = self
                    .order_id_of(external_id)
                    .await?
                    .ok_or_else(|| not_yet("order_not_yet_received"))?;
                let (d, applied) = self
                    .orders()
                    .refund_order(&Actor::system(), OrderId(id), refund_id, *amount, *at)
                    .await?;
                Ok(Applied {
                    status: "applied",
                    order_id: Some(id),
                    customer_id: Some(d.order.customer_id),
                    reason: if applied {
                        String::new()
                    } else {
                        "refund_already_applied".into()
                    },
                })
            }
            Action::Closed { external_id } => {
                let closed =
                    store::settle_draft(&self.db, src.id, external_id, "closed", self.now())
                        .await?;
                Ok(if closed {
                    Applied::done("applied")
                } else {
                    Applied {
                        reason: "no_open_draft".into(),
                        ..Applied::done("ignored")
                    }
                })
            }
            Action::Member(buyer) => {
                let c = self.customer_of(buyer).await?;
                Ok(Applied {
                    customer_id: Some(c.0),
                    ..Applied::done("applied")
                })
            }
        }
    }
}

/// What a draft keeps: the body as received, and the 有赞 type header when there was one, so
/// the payment can parse the order again.
fn draft_payload(body: &str, header_kind: Option<&str>) -> String {
    serde_json::json!({ "body": body, "header_kind": header_kind }).to_string()
}

/// The body and type header a draft was kept with.
fn split_draft(payload: &str) -> (String, Option<String>) {
    let v: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
    (
        v.get("body")
            .and_then(|b| b.as_str())
            .unwrap_or_default()
            .to_owned(),
        v.get("header_kind")
            .and_then(|b| b.as_str())
            .map(str::to_owned),
    )
}
