//! Invite-a-friend (老带新): referral programs, each inviter's personal link, binding a friend
//! to an inviter, and the rewards of both sides once the friend qualifies.
//!
//! A friend is bound in two ways:
//! - **through WeCom**: a program on an acquisition link hands each inviter the link with
//!   `customer_channel = rf-{code}`; WeCom sends it back as the add's `State`, and the add's
//!   transaction binds the friend ([`Acquisition::referral_on_add_in`]). A QR-code (contact
//!   way) program cannot: WeCom's state is fixed per contact way, and one contact way per
//!   inviter would exhaust the corp's quota;
//! - **on the invite page, signed in** (a mini-program web-view passes the customer token):
//!   [`Acquisition::accept_invite`].
//!
//! Every attempt is a row, refused ones too (core's fraud rules say why). A bound friend
//! qualifies with their first order (or add) after the binding; the rewards wait for the hold
//! (a job at `qualifies_at`), which then checks the order was not refunded (or the add not
//! deleted), the friend's phone and unionid behind no other friend, and the inviter's daily
//! cap — under the inviter's link row lock, so concurrent qualifications count one at a time.
//! Coupons are issued with keys per referral and side: a re-run issues nothing twice.

use serde::Serialize;
use sha2::{Digest, Sha256};
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::acquisition::referrals::{
    self as rules, BindingFacts, Qualification, QualificationKind, ReferralSpec, Refusal,
};
use yutang_core::acquisition::{CodeKind, LiveCodeSpec};
use yutang_core::ids::CustomerId;
use yutang_core::staff::Permission;
use yutang_store::Tx;
use yutang_store::acquisition::referrals::{
    self as store, LinkKey, LinkRow, NewReferral, Outcome, ProgramRow, Side,
};
pub use yutang_store::acquisition::referrals::{
    Inviter, InviterRow, ProgramTotals, ReferralListRow,
};
use yutang_store::jobs::NewJob;

use super::channels::check_scope;
use super::{Acquisition, manage, shanghai_day, view};
use crate::Actor;
use crate::audit::{self, Action, Paged};
use crate::error::{AppError, Result};

/// Job kind: judge a qualifying friend once the hold is over, and reward both sides.
pub const QUALIFY_KIND: &str = "referral_qualify";

/// A program as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramView {
    pub id: i64,
    #[serde(flatten)]
    pub spec: ReferralSpec,
    /// The store of the code's channel (none: brand-wide).
    pub store_id: Option<i64>,
    /// `contact_way` or `link`: only a link binds friends through WeCom itself.
    pub code_kind: CodeKind,
    pub archived: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub totals: ProgramTotals,
}

/// An inviter's link as the API shows it. `path` is the invite page; the web layer makes it
/// absolute.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub program_id: i64,
    pub code: String,
    /// The WeCom state the link carries (acquisition-link programs).
    pub state: String,
    pub path: String,
    pub customer_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub visits: i64,
    pub created_at: i64,
}

impl LinkView {
    fn of(l: LinkRow) -> Self {
        Self {
            program_id: l.program_id,
            state: rules::link_state(&l.code),
            path: format!("/h5/invite/{}", l.code),
            code: l.code,
            customer_id: l.customer_id,
            staff_id: l.staff_id,
            visits: l.visits,
            created_at: l.created_at,
        }
    }
}

/// What the invite page shows.
#[derive(Debug, Clone, Serialize)]
pub struct InvitePage {
    pub program_id: i64,
    pub name: String,
    pub description: String,
    /// The inviter as a friend sees them: a customer's name masked (张*), a guide's name.
    pub inviter: String,
    /// Whether a friend can still be bound today.
    pub running: bool,
    pub code_kind: CodeKind,
    /// Where the friend adds the guide: the acquisition link carrying this inviter's state,
    /// or the contact way's QR image.
    pub add_url: String,
    pub link_code: String,
    pub qualification: Qualification,
    pub invitee_reward_template_id: Option<i64>,
    /// The QR a friend scans (`GET` it: a PNG): the link with this inviter's state for a link
    /// program, the code's stored QR image for a QR-code program.
    pub qr_path: String,
}

/// What opening the page signed in did.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptOutcome {
    /// `bound`, or the status of the friend's existing binding in the program.
    pub status: String,
    /// Set when the attempt was refused (core's Refusal code).
    pub reason: Option<String>,
    /// `false`: a repeat of an earlier attempt, which changed nothing.
    pub created: bool,
}

/// A referral as the program's page lists it.
pub type ReferralView = ReferralListRow;

fn audit_detail(op: &str, name: &str) -> String {
    serde_json::json!({ "op": format!("referral.{op}"), "detail": { "name": name } }).to_string()
}

fn hash(kind: &str, value: &str) -> String {
    hex::encode(Sha256::digest(format!("{kind}:{value}").as_bytes()))
}

/// The friend's identity hashes: the first phone's and unionid's (kept on the row), and all
/// of them (checked against other friends).
struct Hashes {
    phone: Option<String>,
    unionid: Option<String>,
    all: Vec<String>,
}

async fn person_hashes_in(tx: &mut Tx, customer: i64) -> Result<Hashes> {
    let ids = store::person_identities_in(tx, customer).await?;
    let pick = |k: &str| {
        ids.iter()
            .find(|(kind, _)| kind == k)
            .map(|(_, v)| hash(k, v))
    };
    Ok(Hashes {
        phone: pick("phone"),
        unionid: pick("unionid"),
        all: ids.iter().map(|(k, v)| hash(k, v)).collect(),
    })
}

/// Whether two customers are one person: the same id, or a shared phone or unionid.
async fn same_person_in(tx: &mut Tx, a: i64, b: i64) -> Result<bool> {
    if a == b {
        return Ok(true);
    }
    let x = store::person_identities_in(tx, a).await?;
    let y = store::person_identities_in(tx, b).await?;
    Ok(x.iter().any(|i| y.contains(i)))
}

fn spec_of(row: &ProgramRow) -> Result<ReferralSpec> {
    serde_json::from_str(&row.spec)
        .map_err(|e| AppError::Internal(format!("referral program {} spec: {e}", row.id)))
}

fn not_running() -> AppError {
    AppError::Rule {
        code: "program_not_running",
        message: "the referral program is not running".into(),
    }
}

/// The URL a friend adds through: an acquisition link carries the inviter's state as its
/// `customer_channel`; a contact way's QR image is the same for everyone.
fn add_url(code_kind: CodeKind, qr_url: &str, state: &str) -> String {
    if code_kind != CodeKind::Link || qr_url.is_empty() {
        return qr_url.to_owned();
    }
    match url::Url::parse(qr_url) {
        Ok(mut u) => {
            let kept: Vec<(String, String)> = u
                .query_pairs()
                .filter(|(k, _)| k != "customer_channel")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            u.query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair("customer_channel", state);
            u.into()
        }
        Err(_) => qr_url.to_owned(),
    }
}

impl Acquisition<'_> {
    /// Checks the ids a spec names: the code (not archived) and the coupons (not archived).
    /// Returns the store of the code's channel.
    async fn check_program_refs(&self, spec: &ReferralSpec) -> Result<Option<i64>> {
        let code = yutang_store::acquisition::get_code(&self.db, spec.live_code_id)
            .await
            .map_err(|_| {
                AppError::Invalid(FieldError::new(
                    "live_code_id",
                    "unknown_reference",
                    "no such live code",
                ))
            })?;
        if code.archived_at.is_some() {
            return Err(FieldError::new(
                "live_code_id",
                "live_code_archived",
                "the live code is archived",
            )
            .into());
        }
        let channel = yutang_store::acquisition::get_channel(&self.db, code.channel_id).await?;
        for (field, id) in [
            (
                "invitee_reward_template_id",
                spec.invitee_reward_template_id,
            ),
            (
                "inviter_reward_template_id",
                spec.inviter_reward_template_id,
            ),
        ] {
            let Some(id) = id else { continue };
            let t = yutang_store::promotions::get_template(&self.db, id)
                .await
                .map_err(|_| {
                    AppError::Invalid(FieldError::new(
                        field,
                        "unknown_reference",
                        "no such coupon template",
                    ))
                })?;
            if t.status == "archived" {
                return Err(FieldError::new(
                    field,
                    "promotion_archived",
                    "the coupon is archived and can no longer be issued",
                )
                .into());
            }
        }
        Ok(channel.store_id)
    }

    async fn program_view(&self, actor: &Actor, row: ProgramRow) -> Result<ProgramView> {
        let spec = spec_of(&row)?;
        let code = yutang_store::acquisition::get_code(&self.db, row.live_code_id).await?;
        let code_spec: LiveCodeSpec = serde_json::from_str(&code.spec)
            .map_err(|e| AppError::Internal(format!("live code {} spec: {e}", code.id)))?;
        let totals = store::program_totals(&self.db, row.id, scope_of(actor)).await?;
        Ok(ProgramView {
            id: row.id,
            spec,
            store_id: row.store_id,
            code_kind: code_spec.kind,
            archived: row.archived_at.is_some(),
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            totals,
        })
    }

    async fn visible_program(&self, actor: &Actor, id: i64) -> Result<ProgramRow> {
        view(actor)?;
        let row = store::get_program(&self.db, id)
            .await
            .map_err(AppError::not_found("referral program"))?;
        check_scope(actor, row.store_id).map_err(|_| AppError::NotFound {
            what: "referral program",
        })?;
        Ok(row)
    }

    pub async fn create_program(&self, actor: &Actor, spec: ReferralSpec) -> Result<ProgramView> {
        manage(actor)?;
        let spec = spec.parse()?;
        let store_id = self.check_program_refs(&spec).await?;
        let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        let id = store::insert_program_in(
            &mut tx,
            &store::ProgramWrite {
                name: &spec.name,
                live_code_id: spec.live_code_id,
                store_id,
                spec: &json,
            },
            &actor.name,
            self.now(),
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChannelChanged,
            &format!("referral:{id}"),
            &audit_detail("create", &spec.name),
        )
        .await?;
        tx.commit().await?;
        self.program(actor, id).await
    }

    /// Edit a program. Bindings made under the old settings keep their state; a changed rule
    /// applies to friends who qualify from now on.
    pub async fn update_program(
        &self,
        actor: &Actor,
        id: i64,
        spec: ReferralSpec,
    ) -> Result<ProgramView> {
        manage(actor)?;
        self.visible_program(actor, id).await?;
        let spec = spec.parse()?;
        let store_id = self.check_program_refs(&spec).await?;
        let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        let Some(row) = store::lock_program_in(&mut tx, id).await? else {
            return Err(AppError::NotFound {
                what: "referral program",
            });
        };
        if row.archived_at.is_some() {
            return Err(AppError::Rule {
                code: "program_archived",
                message: "the referral program is archived".into(),
            });
        }
        store::update_program_in(
            &mut tx,
            id,
            &store::ProgramWrite {
                name: &spec.name,
                live_code_id: spec.live_code_id,
                store_id,
                spec: &json,
            },
            self.now(),
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChannelChanged,
            &format!("referral:{id}"),
            &audit_detail("update", &spec.name),
        )
        .await?;
        tx.commit().await?;
        self.program(actor, id).await
    }

    /// Archive a program: no friend is bound any more; friends bound before still qualify.
    pub async fn archive_program(&self, actor: &Actor, id: i64) -> Result<ProgramView> {
        manage(actor)?;
        let row = self.visible_program(actor, id).await?;
        let mut tx = self.db.begin().await?;
        if store::archive_program_in(&mut tx, id, self.now()).await? {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::ChannelChanged,
                &format!("referral:{id}"),
                &audit_detail("archive", &row.name),
            )
            .await?;
        }
        tx.commit().await?;
        self.program(actor, id).await
    }

    pub async fn program(&self, actor: &Actor, id: i64) -> Result<ProgramView> {
        let row = self.visible_program(actor, id).await?;
        self.program_view(actor, row).await
    }

    /// Programs the caller sees, newest first.
    pub async fn programs(&self, actor: &Actor, archived: bool) -> Result<Vec<ProgramView>> {
        view(actor)?;
        let store_filter = match actor.caller.data_scope() {
            DataScope::All => None,
            DataScope::Store(s) | DataScope::Own { store: s, .. } => Some(s.0),
            DataScope::Nothing => return Ok(Vec::new()),
        };
        let rows = store::list_programs(&self.db, store_filter, archived).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.program_view(actor, r).await?);
        }
        Ok(out)
    }

    /// The program's attempts (friends in the caller's data scope), newest first.
    pub async fn program_referrals(
        &self,
        actor: &Actor,
        id: i64,
        status: Option<&str>,
        page: i64,
        page_size: i64,
    ) -> Result<Paged<ReferralView>> {
        self.visible_program(actor, id).await?;
        if let Some(s) = status
            && !["bound", "qualifying", "rewarded", "disqualified", "refused"].contains(&s)
        {
            return Err(FieldError::new(
                "status",
                "invalid_referral_status",
                "status is bound, qualifying, rewarded, disqualified or refused",
            )
            .into());
        }
        // Bounded, so the offset never overflows whatever a client sends.
        let page = page.clamp(1, 1_000_000);
        let page_size = page_size.clamp(1, 200);
        let (items, total) = store::list_referrals(
            &self.db,
            id,
            status,
            scope_of(actor),
            page_size,
            (page - 1) * page_size,
        )
        .await?;
        Ok(Paged {
            items,
            total,
            page,
            page_size,
        })
    }

    /// The program's inviters, most friends first (at most 100), those in the caller's data
    /// scope only (a store manager: their store's staff and customers).
    pub async fn program_inviters(&self, actor: &Actor, id: i64) -> Result<Vec<InviterRow>> {
        self.visible_program(actor, id).await?;
        Ok(store::inviters(&self.db, id, scope_of(actor), 100).await?)
    }

    /// A staff member's or a customer's link in a program (made on first ask). A guide asks
    /// for their own link or a customer of theirs; operators and admins for anyone in scope.
    pub async fn invite_link(
        &self,
        actor: &Actor,
        program: i64,
        inviter: Inviter,
    ) -> Result<(LinkView, bool)> {
        let row = self.visible_program(actor, program).await?;
        match inviter {
            Inviter::Staff(s) => {
                let own = actor.caller.staff_id().is_some_and(|me| me.0 == s);
                if !own {
                    manage(actor)?;
                }
                let st = yutang_store::staff::get(&self.db, s).await.map_err(|_| {
                    AppError::Invalid(FieldError::new(
                        "staff_id",
                        "unknown_staff",
                        "no such staff member",
                    ))
                })?;
                if st.status != "active" {
                    return Err(FieldError::new(
                        "staff_id",
                        "staff_inactive",
                        "the staff member is not active",
                    )
                    .into());
                }
            }
            Inviter::Customer(c) => {
                if !actor.can(Permission::ManageCustomers)
                    && !actor.can(Permission::ManagePromotions)
                {
                    return Err(AppError::Forbidden);
                }
                // The customer must be one the caller sees (404 otherwise, as everywhere).
                self.customers()
                    .get_customer(actor, CustomerId(c))
                    .await
                    .map_err(|e| match e {
                        AppError::NotFound { .. } => AppError::Invalid(FieldError::new(
                            "customer_id",
                            "unknown_customer",
                            "no such customer",
                        )),
                        other => other,
                    })?;
            }
        }
        self.link_of(&row, inviter).await
    }

    /// A customer's own link (the public API, with their customer token).
    pub async fn customer_invite_link(
        &self,
        customer: CustomerId,
        program: i64,
    ) -> Result<(LinkView, bool)> {
        let row = store::get_program(&self.db, program)
            .await
            .map_err(AppError::not_found("referral program"))?;
        self.link_of(&row, Inviter::Customer(customer.0)).await
    }

    async fn link_of(&self, row: &ProgramRow, inviter: Inviter) -> Result<(LinkView, bool)> {
        if row.archived_at.is_some() {
            return Err(not_running());
        }
        let fresh = {
            use rand::RngCore;
            let mut b = [0u8; rules::CODE_LEN];
            rand::thread_rng().fill_bytes(&mut b);
            rules::link_code(&b)
        };
        let mut tx = self.db.begin().await?;
        let (link, created) =
            store::link_for_in(&mut tx, row.id, inviter, &fresh, self.now()).await?;
        tx.commit().await?;
        Ok((LinkView::of(link), created))
    }

    /// The invite page's content for a link (counts a visit). `None`: no such link.
    pub async fn invite_page(&self, code: &str) -> Result<Option<InvitePage>> {
        if !rules::is_link_code(code) {
            return Ok(None);
        }
        let Some(link) = store::link_by_code(&self.db, code).await? else {
            return Ok(None);
        };
        store::count_visit(&self.db, link.id).await?;
        let row = store::get_program(&self.db, link.program_id).await?;
        let spec = spec_of(&row)?;
        let code_row = yutang_store::acquisition::get_code(&self.db, row.live_code_id).await?;
        let code_spec: LiveCodeSpec = serde_json::from_str(&code_row.spec)
            .map_err(|e| AppError::Internal(format!("live code {} spec: {e}", code_row.id)))?;
        let inviter = match (link.customer_id, link.staff_id) {
            (Some(c), _) => mask_name(&store::customer_name(&self.db, c).await?),
            (_, Some(s)) => yutang_store::staff::get(&self.db, s)
                .await
                .map(|s| s.display_name)
                .unwrap_or_default(),
            _ => String::new(),
        };
        let today = chrono::NaiveDate::parse_from_str(&shanghai_day(self.now()), "%Y-%m-%d").ok();
        Ok(Some(InvitePage {
            program_id: row.id,
            name: spec.name.clone(),
            description: spec.description.clone(),
            inviter,
            running: row.archived_at.is_none() && today.is_some_and(|d| spec.runs_on(d)),
            code_kind: code_spec.kind,
            add_url: add_url(
                code_spec.kind,
                &code_row.qr_url,
                &rules::link_state(&link.code),
            ),
            qr_path: format!("/h5/invite/{}/qr.png", link.code),
            link_code: link.code,
            qualification: spec.rule(),
            invitee_reward_template_id: spec.invitee_reward_template_id,
        }))
    }

    /// The QR of an invite (public, like the page): for a link program the link carrying the
    /// inviter's state, drawn by Yutang; for a QR-code program the code's stored image (the
    /// same for every inviter). `None`: no such link, or no image stored yet.
    pub async fn invite_qr(&self, code: &str) -> Result<Option<super::live_codes::QrFile>> {
        if !rules::is_link_code(code) {
            return Ok(None);
        }
        let Some(link) = store::link_by_code(&self.db, code).await? else {
            return Ok(None);
        };
        let row = store::get_program(&self.db, link.program_id).await?;
        let code_row = yutang_store::acquisition::get_code(&self.db, row.live_code_id).await?;
        let code_spec: LiveCodeSpec = serde_json::from_str(&code_row.spec)
            .map_err(|e| AppError::Internal(format!("live code {} spec: {e}", code_row.id)))?;
        let filename = format!("invite-{}-qr.png", link.code);
        if code_spec.kind == CodeKind::Link {
            let url = add_url(
                code_spec.kind,
                &code_row.qr_url,
                &rules::link_state(&link.code),
            );
            if url.is_empty() {
                return Ok(None);
            }
            let bytes = yutang_core::qr::Matrix::new(&url)
                .map_err(|e| AppError::Internal(format!("invite QR: {e}")))?
                .png()
                .map_err(|e| AppError::Internal(format!("invite QR: {e}")))?;
            return Ok(Some(super::live_codes::QrFile {
                content_type: "image/png".into(),
                bytes,
                filename,
            }));
        }
        let image = yutang_store::acquisition::images::image(&self.db, code_row.id).await?;
        Ok(image
            .filter(|(meta, _)| meta.is_current(&code_row.qr_url))
            .map(|(meta, bytes)| super::live_codes::QrFile {
                filename: if meta.content_type == "image/jpeg" {
                    filename.replace(".png", ".jpg")
                } else {
                    filename
                },
                content_type: meta.content_type,
                bytes,
            }))
    }

    /// The friend opened the invite page signed in: bind them, or record why not.
    pub async fn accept_invite(&self, customer: CustomerId, code: &str) -> Result<AcceptOutcome> {
        let not_found = || AppError::NotFound {
            what: "referral link",
        };
        if !rules::is_link_code(code) {
            return Err(not_found());
        }
        let key = format!("page:{code}:{}", customer.0);
        let mut tx = self.db.begin().await?;
        let Some(link) = store::lock_link_in(&mut tx, LinkKey::Code(code)).await? else {
            return Err(not_found());
        };
        if let Some(prior) = store::referral_by_key_in(&mut tx, &key).await? {
            return Ok(AcceptOutcome {
                reason: (prior.status == "refused").then_some(prior.reason),
                status: prior.status,
                created: false,
            });
        }
        let now = self.now();
        let bound = self
            .bind_in(&mut tx, &link, customer.0, "page", &key, None, now)
            .await?;
        tx.commit().await?;
        Ok(match bound {
            Ok(()) => AcceptOutcome {
                status: "bound".into(),
                reason: None,
                created: true,
            },
            Err(r) => AcceptOutcome {
                status: "refused".into(),
                reason: Some(r.as_str().into()),
                created: true,
            },
        })
    }

    /// The add callback came through a referral link's state: returns the link, its program
    /// and the state of the program's live code (the add counts against that code).
    pub(crate) async fn referral_target_in(
        &self,
        tx: &mut Tx,
        state: &str,
    ) -> Result<Option<(LinkRow, String)>> {
        let Some(code) = rules::code_of_state(state) else {
            return Ok(None);
        };
        let Some(link) = store::lock_link_in(tx, LinkKey::Code(code)).await? else {
            return Ok(None);
        };
        let Some(row) = store::lock_program_in(tx, link.program_id).await? else {
            return Ok(None);
        };
        let code_row = yutang_store::acquisition::get_code(&self.db, row.live_code_id).await?;
        Ok(Some((link, code_row.state)))
    }

    /// Bind a friend who added a guide through a referral link (in the add's transaction).
    pub(crate) async fn referral_on_add_in(
        &self,
        tx: &mut Tx,
        link: &LinkRow,
        customer: i64,
        dedup_key: &str,
        add_id: i64,
        at: i64,
    ) -> Result<()> {
        if let Some(existing) = store::binding_in(tx, link.program_id, customer).await?
            && existing.link_id == link.id
        {
            // Bound on the page first; this add is theirs (an `added` rule counts it).
            return Ok(());
        }
        let key = format!("add:{dedup_key}");
        let _ = self
            .bind_in(
                tx,
                link,
                customer,
                "add",
                &key,
                Some((add_id, at)),
                self.now(),
            )
            .await?;
        Ok(())
    }

    /// Judge and record one attempt. The outer `Result` is an I/O failure; the inner one the
    /// verdict.
    #[allow(clippy::too_many_arguments)]
    async fn bind_in(
        &self,
        tx: &mut Tx,
        link: &LinkRow,
        customer: i64,
        via: &str,
        key: &str,
        add: Option<(i64, i64)>,
        now: i64,
    ) -> Result<std::result::Result<(), Refusal>> {
        let Some(program) = store::lock_program_in(tx, link.program_id).await? else {
            return Err(AppError::NotFound {
                what: "referral program",
            });
        };
        let spec = spec_of(&program)?;
        let at = add.map_or(now, |(_, at)| at);
        let today = chrono::NaiveDate::parse_from_str(&shanghai_day(at), "%Y-%m-%d").ok();
        let same_person = match link.customer_id {
            Some(inviter) => same_person_in(tx, inviter, customer).await?,
            None => false,
        };
        let hashes = person_hashes_in(tx, customer).await?;
        let facts = BindingFacts {
            program_running: program.archived_at.is_none()
                && today.is_some_and(|d| spec.runs_on(d)),
            same_person,
            already_bound: store::binding_in(tx, program.id, customer).await?.is_some(),
            in_pool_before: store::in_pool_before_in(tx, customer, at).await?,
            identity_taken: store::identity_taken_in(tx, customer, &hashes.all, false).await?,
        };
        let verdict = rules::judge_binding(&facts);
        let (status, reason) = match verdict {
            Ok(()) => ("bound", ""),
            Err(r) => ("refused", r.as_str()),
        };
        let id = store::insert_referral_in(
            tx,
            &NewReferral {
                dedup_key: key,
                program_id: program.id,
                link_id: link.id,
                invitee_id: customer,
                via,
                status,
                reason,
                phone_hash: hashes.phone.as_deref(),
                unionid_hash: hashes.unionid.as_deref(),
                add_id: add.map(|(id, _)| id),
            },
            // Bound when the friend followed the link (an add's event time): later orders
            // count from then.
            at,
        )
        .await?;
        let Some(id) = id else {
            return Ok(verdict);
        };
        if verdict.is_ok() {
            let detail = serde_json::json!({
                "program": spec.name,
                "program_id": program.id,
                "link": link.code,
                "inviter_customer_id": link.customer_id,
                "inviter_staff_id": link.staff_id,
                "via": via,
                "outcome": "bound",
            })
            .to_string();
            yutang_store::events::append_in(
                tx,
                customer,
                "referred",
                at,
                link.staff_id,
                &detail,
                now,
            )
            .await?;
            // An add through the link is the friend's first add after binding.
            if let Some((add_id, add_at)) = add
                && spec.rule().kind == QualificationKind::Added
            {
                qualify_in(tx, id, &spec, None, Some(add_id), add_at, now).await?;
            }
        }
        Ok(verdict)
    }

    /// Judge a qualifying friend once the hold is over (the job queued with the
    /// qualification), then issue the pending rewards. Idempotent: a second run finds the
    /// referral judged and its rewards issued.
    pub async fn run_qualify_job(&self, payload: &str) -> Result<String> {
        let v: serde_json::Value = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("referral job payload: {e}")))?;
        let id = v["referral_id"]
            .as_i64()
            .ok_or_else(|| AppError::Internal("referral job without referral_id".into()))?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Some(r) = store::lock_referral_in(&mut tx, id).await? else {
            return Ok("no referral".into());
        };
        // Locks in the order bindings take them (link, then program): the inviter's link
        // row makes their daily count exact, the program row makes "one person rewarded
        // once" exact across concurrent friends.
        let link = store::lock_link_in(&mut tx, LinkKey::Id(r.link_id))
            .await?
            .ok_or_else(|| AppError::Internal(format!("referral {id} without link")))?;
        let Some(program) = store::lock_program_in(&mut tx, r.program_id).await? else {
            return Ok("no program".into());
        };
        let spec = spec_of(&program)?;
        if r.status == "qualifying" {
            if r.qualifies_at.is_some_and(|t| t > now) {
                // Only a node whose clock runs behind gets here: fail, so the job is retried.
                return Err(AppError::Internal(format!(
                    "referral {id}: the hold is not over"
                )));
            }
            let hashes = person_hashes_in(&mut tx, r.invitee_id).await?;
            store::set_hashes_in(
                &mut tx,
                id,
                hashes.phone.as_deref(),
                hashes.unionid.as_deref(),
            )
            .await?;
            let refusal = if let Some(o) = r.order_id
                && store::order_refunded_in(&mut tx, o).await? > 0
            {
                Some(Refusal::OrderRefunded)
            } else if let Some(a) = r.add_id
                && r.order_id.is_none()
                && !store::add_open_in(&mut tx, a).await?
            {
                Some(Refusal::ContactDeleted)
            } else if store::identity_taken_in(&mut tx, r.invitee_id, &hashes.all, true).await? {
                Some(Refusal::IdentityReused)
            } else {
                None
            };
            match refusal {
                Some(reason) => {
                    let status = if reason == Refusal::IdentityReused {
                        "refused"
                    } else {
                        "disqualified"
                    };
                    store::finish_referral_in(
                        &mut tx,
                        id,
                        &Outcome {
                            status,
                            reason: reason.as_str(),
                            invitee_reward: "",
                            inviter_reward: "",
                            rewarded_day: None,
                        },
                        now,
                    )
                    .await?;
                }
                None => {
                    let day = shanghai_day(now);
                    let invitee_reward = if spec.invitee_reward_template_id.is_some() {
                        "pending"
                    } else {
                        ""
                    };
                    let (inviter_reward, reason) =
                        match (link.customer_id, spec.inviter_reward_template_id) {
                            (Some(_), Some(_)) => {
                                let given =
                                    store::inviter_rewards_on_in(&mut tx, link.id, &day).await?;
                                if rules::inviter_reward_allowed(given, spec.inviter_daily_cap) {
                                    ("pending", "")
                                } else {
                                    ("withheld", Refusal::InviterDailyCap.as_str())
                                }
                            }
                            _ => ("", ""),
                        };
                    store::finish_referral_in(
                        &mut tx,
                        id,
                        &Outcome {
                            status: "rewarded",
                            reason,
                            invitee_reward,
                            inviter_reward,
                            rewarded_day: Some(&day),
                        },
                        now,
                    )
                    .await?;
                    let detail = serde_json::json!({
                        "program": spec.name,
                        "program_id": program.id,
                        "outcome": "rewarded",
                    })
                    .to_string();
                    yutang_store::events::append_in(
                        &mut tx,
                        r.invitee_id,
                        "referred",
                        now,
                        None,
                        &detail,
                        now,
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        // Issue what is pending (also after a crash between the verdict and the coupons).
        let Some(r) = store::get_referral(&self.db, id).await? else {
            return Ok("no referral".into());
        };
        let link = store::link_by_id(&self.db, r.link_id).await?;
        let mut issued = Vec::new();
        for (side, state, template, customer) in [
            (
                Side::Invitee,
                &r.invitee_reward,
                spec.invitee_reward_template_id,
                Some(r.invitee_id),
            ),
            (
                Side::Inviter,
                &r.inviter_reward,
                spec.inviter_reward_template_id,
                link.as_ref().and_then(|l| l.customer_id),
            ),
        ] {
            let (Some(template), Some(customer)) = (template, customer) else {
                continue;
            };
            if state != "pending" {
                continue;
            }
            let key = format!(
                "{QUALIFY_KIND}:{id}:{}",
                if side == Side::Invitee {
                    "invitee"
                } else {
                    "inviter"
                }
            );
            let (status, claim, error) = match self
                .coupons()
                .issue_reward(template, CustomerId(customer), &key)
                .await
            {
                Ok(c) => ("issued", Some(c.claim_id), String::new()),
                Err(
                    e @ (AppError::Rule { .. } | AppError::Invalid(_) | AppError::NotFound { .. }),
                ) => ("refused", None, e.to_string()),
                Err(e) => return Err(e),
            };
            let mut tx = self.db.begin().await?;
            store::finish_reward_in(&mut tx, id, side, status, claim, &error, self.now()).await?;
            tx.commit().await?;
            issued.push(status);
        }
        Ok(format!("referral {} {}", r.status, issued.join(",")))
    }
}

/// A customer's name as a friend sees it: the first character and `*` (张* / 张**).
fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => "好友".into(),
        Some(first) => {
            let rest = chars.count().clamp(1, 2);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// The caller's data scope on friends (store, guide), as customer lists apply it.
fn scope_of(actor: &Actor) -> (Option<i64>, Option<i64>) {
    match actor.caller.data_scope() {
        DataScope::All => (None, None),
        DataScope::Store(s) => (Some(s.0), None),
        DataScope::Own { store, staff } => (Some(store.0), Some(staff.0)),
        // No scope sees no friend: a store id no row has.
        DataScope::Nothing => (Some(-1), Some(-1)),
    }
}

/// A bound friend's qualifying event: the hold starts, and the judging job is queued for
/// when it ends (at once when the event is older than the hold).
async fn qualify_in(
    tx: &mut Tx,
    id: i64,
    spec: &ReferralSpec,
    order: Option<i64>,
    add: Option<i64>,
    at: i64,
    now: i64,
) -> Result<()> {
    let when = spec.rule().qualifies_at(at);
    if !store::set_qualifying_in(tx, id, order, add, when, now).await? {
        return Ok(());
    }
    let key = format!("{QUALIFY_KIND}:{id}");
    let payload = serde_json::json!({ "referral_id": id }).to_string();
    yutang_store::jobs::enqueue_in(
        tx,
        &NewJob {
            kind: QUALIFY_KIND,
            payload: &payload,
            run_at: when.max(now),
            idempotency_key: Some(&key),
            created_by: None,
        },
        now,
    )
    .await?;
    Ok(())
}

/// A new order (in its own transaction): a bound friend's first order after the binding
/// that meets the rule starts the hold.
pub(crate) async fn on_order_in(
    tx: &mut Tx,
    customer: i64,
    order: i64,
    paid_fen: i64,
    paid_at: i64,
    now: i64,
) -> Result<()> {
    for (r, spec) in store::waiting_of_in(tx, customer).await? {
        if paid_at < r.created_at {
            continue;
        }
        let spec: ReferralSpec = serde_json::from_str(&spec)
            .map_err(|e| AppError::Internal(format!("referral program spec: {e}")))?;
        if spec.rule().order_counts(paid_fen) {
            qualify_in(tx, r.id, &spec, Some(order), None, paid_at, now).await?;
        }
    }
    Ok(())
}

/// A bound friend added a guide after binding on the page (in the add's transaction).
pub(crate) async fn on_friend_add_in(
    tx: &mut Tx,
    customer: i64,
    add: i64,
    at: i64,
    now: i64,
) -> Result<()> {
    for (r, spec) in store::waiting_of_in(tx, customer).await? {
        let spec: ReferralSpec = serde_json::from_str(&spec)
            .map_err(|e| AppError::Internal(format!("referral program spec: {e}")))?;
        if spec.rule().kind == QualificationKind::Added && at >= r.created_at {
            qualify_in(tx, r.id, &spec, None, Some(add), at, now).await?;
        }
    }
    Ok(())
}

/// A refund (in its own transaction): a friend qualifying on this order is disqualified at
/// once (the judging job would find it refunded too; this makes the page say so now).
pub(crate) async fn on_refund_in(tx: &mut Tx, order: i64, now: i64) -> Result<()> {
    for id in store::qualifying_on_order_in(tx, order).await? {
        if store::lock_referral_in(tx, id)
            .await?
            .is_some_and(|r| r.status == "qualifying")
        {
            store::finish_referral_in(
                tx,
                id,
                &Outcome {
                    status: "disqualified",
                    reason: Refusal::OrderRefunded.as_str(),
                    invitee_reward: "",
                    inviter_reward: "",
                    rewarded_day: None,
                },
                now,
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**");
        assert_eq!(mask_name(""), "好友");
    }

    #[test]
    fn links_carry_the_inviters_state() {
        let u = add_url(
            CodeKind::Link,
            "https://work.weixin.qq.com/ca/cawcde?customer_channel=ytabc",
            "rf-abcdefghjkmn",
        );
        assert_eq!(
            u,
            "https://work.weixin.qq.com/ca/cawcde?customer_channel=rf-abcdefghjkmn"
        );
        let q = "https://wework.qpic.cn/wwpic/x/0";
        assert_eq!(add_url(CodeKind::ContactWay, q, "rf-abcdefghjkmn"), q);
    }
}
