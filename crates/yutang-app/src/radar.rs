//! Tracked links (雷达, issue #21 item 4): each material a guide sends carries a link of its
//! own — one per (material, guide, customer) — so an open is attributed to the guide who sent
//! it and, when the link was made for a customer, to that customer.
//!
//! **An open** (`/h5/r/{token}`) is recorded as a view with the viewer's random cookie. The
//! link's first viewer is its recipient; anyone else opening it is a forward (the recipient
//! shared it). The same viewer opening again within [`REOPEN_MS`] is the same view (a reload
//! is not a second read). The page reports the seconds it stays open (at most
//! [`MAX_VIEW_SECONDS`]); a link material is redirected to at once, so its time on page is not
//! known.
//!
//! **The customer's timeline** gets the open in the same transaction: a `page_view` when the
//! customer read it, a `share` when someone they forwarded it to did.
//!
//! **The guide is told** ("客户 X 正在看《…》") through a WeCom app message, queued in the same
//! transaction as the view: at most one notice per link per [`NOTICE_EVERY_MS`], and never more
//! than WeCom's [`NOTICES_PER_MINUTE`] app messages per member per minute (past it the notice
//! is skipped, not queued). The job sends with WeCom's duplicate check, so a re-run after a
//! crash sends nothing twice.
//!
//! **Who.** A link is made by the guide who sends (for a customer in their scope), or by a
//! store manager or HQ naming the guide. The figures of a material are read by those who read
//! the library; a guide sees their own links' figures.

use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::materials::{MAX_VIEW_SECONDS, valid_token};
use yutang_core::staff::Role;
use yutang_store::jobs::{self as job_store, JobRow, NewJob};
use yutang_store::radar::{self as store, LinkRow, StatsRow};
use yutang_wecom::client::api::MessageSendRequest;

use crate::analytics::reports::DEDUPE_SECS;
use crate::error::{AppError, Result};
use crate::jobs::JobRegistry;
use crate::{Actor, App};

/// Job kind: tell a guide their customer is reading.
pub const NOTICE_KIND: &str = "radar_notice";
/// A reopen by the same viewer within this long is the same view.
pub const REOPEN_MS: i64 = 10 * 60 * 1000;
/// One notice per link per this long.
pub const NOTICE_EVERY_MS: i64 = 30 * 60 * 1000;
/// WeCom: at most 30 app messages per member per minute.
pub const NOTICES_PER_MINUTE: i64 = 30;
/// The viewer cookie.
pub const VIEWER_COOKIE: &str = "yt_v";
const GUIDES_SHOWN: i64 = 20;

pub(crate) fn register(reg: &mut JobRegistry) {
    reg.register(NOTICE_KIND, |app, job| {
        Box::pin(async move { app.radar().run_notice(job).await })
    });
}

/// The tracked-link use cases.
pub struct Radar<'a>(&'a App);

impl std::ops::Deref for Radar<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn radar(&self) -> Radar<'_> {
        Radar(self)
    }
}

/// A tracked link as handed to the sender.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub token: String,
    /// The path to send (`/h5/r/{token}`), under the server's public address.
    pub path: String,
    pub material_id: i64,
    pub staff_id: i64,
    pub customer_id: Option<i64>,
    pub created_at: i64,
}

impl From<LinkRow> for LinkView {
    fn from(l: LinkRow) -> Self {
        Self {
            path: format!("/h5/r/{}", l.token),
            token: l.token,
            material_id: l.material_id,
            staff_id: l.staff_id,
            customer_id: (l.customer_id != 0).then_some(l.customer_id),
            created_at: l.created_at,
        }
    }
}

/// What an open shows.
#[derive(Debug, Clone)]
pub struct Opened {
    pub material: yutang_store::materials::MaterialRow,
    pub view_id: i64,
    pub viewer: String,
    /// The viewer cookie is new: set it.
    pub new_viewer: bool,
}

/// A material's figures.
#[derive(Debug, Clone, Serialize)]
pub struct MaterialStats {
    pub material_id: i64,
    /// Links made (one per guide and customer).
    pub links: i64,
    /// Opens, and distinct viewers.
    pub views: i64,
    pub viewers: i64,
    /// Opens by someone other than the link's first viewer.
    pub forwards: i64,
    /// Customers who opened their own link.
    pub customers: i64,
    /// Seconds on the page, in total and per view.
    pub seconds: i64,
    pub avg_seconds: i64,
    pub guides: Vec<GuideViews>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuideViews {
    pub staff_id: i64,
    pub name: String,
    pub links: i64,
    pub views: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct NoticeJob {
    view_id: i64,
    token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
}

/// A fresh token: 16 random bytes, URL-safe base64 (22 characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn not_found() -> AppError {
    AppError::NotFound { what: "link" }
}

impl Radar<'_> {
    /// The tracked link of a material for a guide and (optionally) a customer: made once,
    /// the same link after. A guide makes links for themselves and their customers only; a
    /// store manager names a guide of their store; HQ any active guide.
    pub async fn link(
        &self,
        actor: &Actor,
        material_id: i64,
        staff_id: Option<i64>,
        customer_id: Option<i64>,
    ) -> Result<LinkView> {
        let role = actor.caller.role;
        let own = actor.actor_id();
        let staff_id = match (role, staff_id) {
            (Role::Guide, Some(s)) if Some(s) != own => return Err(AppError::Forbidden),
            (Role::Guide, _) => own.ok_or(AppError::Forbidden)?,
            (Role::Analyst, _) => return Err(AppError::Forbidden),
            (_, Some(s)) => s,
            (_, None) => own.ok_or_else(|| {
                AppError::from(FieldError::new(
                    "staff_id",
                    "required",
                    "name the guide who sends",
                ))
            })?,
        };
        let staff = yutang_store::staff::get(&self.db, staff_id)
            .await
            .ok()
            .filter(|s| s.status == "active")
            .ok_or_else(|| {
                AppError::from(FieldError::new(
                    "staff_id",
                    "unknown_sender",
                    "no such active staff member",
                ))
            })?;
        if role == Role::StoreManager
            && staff
                .store_id
                .is_none_or(|s| Some(s) != crate::messaging::own_store(actor))
        {
            return Err(
                FieldError::new("staff_id", "unknown_sender", "not a guide of your store").into(),
            );
        }
        let material = yutang_store::materials::get(&self.db, material_id)
            .await
            .map_err(|_| AppError::NotFound { what: "material" })?;
        if material.status != "active" {
            return Err(AppError::Rule {
                code: "material_archived",
                message: "the material is archived".into(),
            });
        }
        let customer = match customer_id {
            Some(c) => {
                let live = self
                    .customers()
                    .visible_customer(actor, CustomerId(c))
                    .await
                    .map_err(|_| {
                        AppError::from(FieldError::new(
                            "customer_id",
                            "unknown_customer",
                            "no such customer in your scope",
                        ))
                    })?;
                live.0
            }
            None => 0,
        };
        let row = store::link_for(
            &self.db,
            &new_token(),
            material_id,
            staff_id,
            customer,
            self.now(),
        )
        .await?;
        Ok(row.into())
    }

    /// Record an open of a link (see the module's doc). `None`: no such link.
    pub async fn open(&self, token: &str, viewer: Option<&str>) -> Result<Option<Opened>> {
        if !valid_token(token) {
            return Ok(None);
        }
        let Some(link) = store::link(&self.db, token).await? else {
            return Ok(None);
        };
        let material = yutang_store::materials::get(&self.db, link.material_id).await?;
        let (viewer, new_viewer) = match viewer.filter(|v| valid_token(v)) {
            Some(v) => (v.to_owned(), false),
            None => (new_token(), true),
        };
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let link = store::lock_link_in(&mut tx, token).await?;
        if let Some((id, _)) =
            store::recent_view_in(&mut tx, token, &viewer, now - REOPEN_MS).await?
        {
            tx.commit().await?;
            return Ok(Some(Opened {
                material,
                view_id: id,
                viewer,
                new_viewer,
            }));
        }
        let forwarded = match store::first_viewer_in(&mut tx, token).await? {
            Some(first) => first != viewer,
            None => false,
        };
        let view_id =
            store::insert_view_in(&mut tx, token, link.material_id, &viewer, forwarded, now)
                .await?;
        if link.customer_id != 0 {
            let detail = serde_json::json!({
                "material_id": material.id,
                "title": material.title,
                "tracked_link": true,
                "forwarded": forwarded,
            })
            .to_string();
            let kind = if forwarded { "share" } else { "page_view" };
            yutang_store::events::append_in(
                &mut tx,
                link.customer_id,
                kind,
                now,
                Some(link.staff_id),
                &detail,
                now,
            )
            .await?;
        }
        let (sent_this_minute, link_noticed) = store::notices_in(
            &mut tx,
            link.staff_id,
            now - 60_000,
            token,
            now - NOTICE_EVERY_MS,
        )
        .await?;
        if !link_noticed && sent_this_minute < NOTICES_PER_MINUTE {
            store::record_notice_in(&mut tx, token, link.staff_id, now).await?;
            job_store::enqueue_in(
                &mut tx,
                &NewJob {
                    kind: NOTICE_KIND,
                    payload: &serde_json::to_string(&NoticeJob {
                        view_id,
                        token: token.to_owned(),
                        outcome: None,
                    })
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                    run_at: now,
                    idempotency_key: Some(&format!("{NOTICE_KIND}:{view_id}")),
                    created_by: None,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Some(Opened {
            material,
            view_id,
            viewer,
            new_viewer,
        }))
    }

    /// The page reports how long it has been open (a beacon): raises the view's seconds.
    /// Unknown views (another viewer's, a made-up id) change nothing.
    pub async fn beat(&self, token: &str, view_id: i64, viewer: &str, seconds: i64) -> Result<()> {
        if !valid_token(token) || !valid_token(viewer) {
            return Err(not_found());
        }
        let seconds = seconds.clamp(0, MAX_VIEW_SECONDS);
        if !store::beat(&self.db, token, view_id, viewer, seconds, self.now()).await? {
            return Err(not_found());
        }
        Ok(())
    }

    /// A material's figures (a guide: their own links').
    pub async fn stats(&self, actor: &Actor, material_id: i64) -> Result<MaterialStats> {
        let material = self.materials().get(actor, material_id).await?;
        let staff = match actor.caller.role {
            Role::Guide => Some(actor.actor_id().ok_or(AppError::Forbidden)?),
            _ => None,
        };
        let StatsRow {
            links,
            views,
            viewers,
            forwards,
            customers,
            seconds,
        } = store::stats(&self.db, material.id, staff).await?;
        let guides = if staff.is_some() {
            Vec::new()
        } else {
            store::by_guide(&self.db, material.id, GUIDES_SHOWN)
                .await?
                .into_iter()
                .map(|(staff_id, name, links, views)| GuideViews {
                    staff_id,
                    name,
                    links,
                    views,
                })
                .collect()
        };
        Ok(MaterialStats {
            material_id: material.id,
            links,
            views,
            viewers,
            forwards,
            customers,
            seconds,
            avg_seconds: if views > 0 { seconds / views } else { 0 },
            guides,
        })
    }

    /// The notice job: "客户 X 正在看《…》" to the link's guide.
    async fn run_notice(&self, job: &JobRow) -> Result<String> {
        let j: NoticeJob = serde_json::from_str(&job.payload)
            .map_err(|_| AppError::Internal(format!("bad radar notice job {}", job.payload)))?;
        let done = |what: &str| {
            serde_json::to_string(&NoticeJob {
                view_id: j.view_id,
                token: j.token.clone(),
                outcome: Some(what.to_owned()),
            })
            .map_err(|e| AppError::Internal(e.to_string()))
        };
        let Some(link) = store::link(&self.db, &j.token).await? else {
            return done("no link");
        };
        let staff = yutang_store::staff::get(&self.db, link.staff_id).await?;
        let Some(userid) = staff
            .wecom_userid
            .filter(|u| !u.is_empty() && staff.status == "active")
        else {
            return done("guide not in WeCom");
        };
        let Some((agentid, client)) = self.wecom().app_client().await? else {
            return done("wecom_not_configured");
        };
        let material = yutang_store::materials::get(&self.db, link.material_id).await?;
        let forwarded = store::view_forwarded(&self.db, j.view_id).await?;
        let who = if link.customer_id == 0 {
            "有客户".to_owned()
        } else {
            let everyone = yutang_store::customers::Scope {
                store: None,
                guide: None,
            };
            let name = yutang_store::customers::get(&self.db, link.customer_id, everyone)
                .await
                .map(|c| c.name)
                .unwrap_or_default();
            let name = if name.is_empty() {
                "客户".into()
            } else {
                format!("客户 {name}")
            };
            if forwarded {
                format!("{name} 转发的")
            } else {
                name
            }
        };
        let text = if forwarded {
            format!("{who}《{}》正在被查看", material.title)
        } else {
            format!("{who} 正在看《{}》", material.title)
        };
        let request = MessageSendRequest::text(agentid, &[userid], &text, DEDUPE_SECS);
        match client.message_send(&request).await {
            Ok(_) => done("sent"),
            Err(e) if e.is_transient() => Err(AppError::Internal(format!("wecom_error: {e}"))),
            Err(e) => done(&format!("wecom_error: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_22_url_safe_characters_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert!(valid_token(&a) && valid_token(&b), "{a} {b}");
        assert_ne!(a, b);
    }
}
