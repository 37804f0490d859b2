//! The customer pool: ingest-or-attach by identity, merges, profile and custom attributes,
//! follow relations, the 360° view, the timeline and notes (跟进记录) — always within the
//! caller's data scope.

/// The rows this area hands to its callers (read models; defined by the store).
pub use yutang_store::customers::{AttributeDefRow, AttributeValueRow, CustomerRow, FollowRow};

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::customers::{
    AttributeDef, CustomerSort, FollowState, Keyset, ListCursor, ProfilePatch,
};
use yutang_core::events::EventKind;
use yutang_core::identity::{
    Identity, IdentityKind, Phone, attach_conflicts, choose_survivor, mask_phone,
};
use yutang_core::ids::{CustomerId, StaffId};
use yutang_core::staff::{Permission, Role};
use yutang_store::StoreError;
use yutang_store::customers::{
    self as store, FollowInput, IdentityRow, IngestOutcome, IngestRecord, Scope,
};
use yutang_store::events::{self as event_store, EventRow};
use yutang_store::orders::{self as order_store, OrderRow};

use crate::audit::{self, Action, Page, Paged};

pub(crate) mod identities;
mod notes;
use crate::error::{AppError, Result};
use crate::{Actor, App};
pub use notes::{MAX_NOTES_PAGE, NotePage, NoteView};

/// How an event or order names its customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    Id(CustomerId),
    Identity(Identity),
}

/// A customer record to ingest, parsed. At least one identity is required.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub identities: Vec<Identity>,
    pub profile: ProfilePatch,
    /// `(attribute key, raw value)`; checked against the attribute's type.
    pub attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    /// Name substring, or an exact identity value (phones in any common format).
    pub q: Option<String>,
    pub city: Option<String>,
    pub member_level: Option<String>,
    pub gender: Option<String>,
    pub guide_id: Option<StaffId>,
    pub store_id: Option<yutang_core::ids::StoreId>,
    pub identity_kind: Option<IdentityKind>,
    pub min_orders: Option<i64>,
    /// Only customers holding this tag.
    pub tag_id: Option<i64>,
    pub sort: CustomerSort,
    pub page: Page,
    /// Read the page from a position of a page before (`page` then only numbers it).
    pub keyset: Option<Keyset>,
}

/// An identity as the caller may see it (phones masked).
#[derive(Debug, Clone, Serialize)]
pub struct IdentityView {
    pub id: i64,
    pub kind: String,
    pub namespace: String,
    pub value: String,
    pub strong: bool,
    pub created_at: i64,
}

/// Everything the 360° view shows.
#[derive(Debug, Clone, Serialize)]
pub struct Customer360 {
    pub customer: CustomerRow,
    pub identities: Vec<IdentityView>,
    pub follows: Vec<FollowRow>,
    pub attributes: Vec<AttributeValueRow>,
    pub recent_orders: Vec<OrderRow>,
    pub order_total: i64,
}

/// What ingesting a record did, with the resulting customer.
#[derive(Debug, Clone, Serialize)]
pub struct Ingested {
    pub customer: CustomerRow,
    /// created, attached or merged.
    pub outcome: &'static str,
    /// Customers merged into this one by this record.
    pub merged: Vec<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Merged {
    pub survivor: i64,
    pub loser: i64,
}

/// A follow relation as written through the API.
#[derive(Debug, Clone)]
pub struct FollowChange {
    pub staff_id: StaffId,
    pub since: Option<i64>,
    pub remark: Option<String>,
    pub state: FollowState,
    pub owner: Option<bool>,
}

/// The store-level scope of a caller; `None` means the caller sees no customers.
/// The search box's text as a phone, when it parses as one.
fn search_phone(q: &CustomerQuery) -> Option<Phone> {
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    Phone::parse("q", text).ok()
}

/// A list query as the store's filter, within `scope`.
fn filter<'a>(
    q: &'a CustomerQuery,
    scope: Scope,
    phone: Option<&'a Phone>,
) -> store::CustomerFilter<'a> {
    store::CustomerFilter {
        scope,
        q: q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()),
        q_phone: phone.map(Phone::as_str),
        city: q.city.as_deref().filter(|s| !s.is_empty()),
        member_level: q.member_level.as_deref().filter(|s| !s.is_empty()),
        gender: q.gender.as_deref().filter(|s| !s.is_empty()),
        guide_id: q.guide_id.map(|g| g.0),
        store_id: q.store_id.map(|s| s.0),
        identity_kind: q.identity_kind.map(IdentityKind::as_str),
        min_orders: q.min_orders.unwrap_or(0),
        tag_id: q.tag_id,
        sort: q.sort,
        limit: q.page.size,
        offset: q.page.offset(),
        keyset: q.keyset,
        count_cap: i64::MAX,
    }
}

/// A page of [`Customers::list_customers`]: `page.total` is exact when `total_exact`, else a
/// lower bound reaching past the page.
#[derive(Debug)]
pub struct CustomerList {
    pub page: Paged<CustomerRow>,
    pub total_exact: bool,
    /// The position to read the next page after (`after`), when there is one.
    pub next_after: Option<String>,
    /// The position to read the previous page before (`before`), when there is one.
    pub prev_before: Option<String>,
}

pub(crate) fn scope_of(actor: &Actor) -> Option<Scope> {
    if !actor.can(Permission::ViewCustomers) {
        return None;
    }
    match actor.data_scope() {
        DataScope::All => Some(Scope::default()),
        DataScope::Store(s) => Some(Scope {
            store: Some(s.0),
            guide: None,
        }),
        DataScope::Own { staff, .. } => Some(Scope {
            store: None,
            guide: Some(staff.0),
        }),
        DataScope::Nothing => None,
    }
}

fn mask_row(mut r: CustomerRow) -> CustomerRow {
    r.phone = r.phone.map(|p| mask_phone(&p));
    r
}

fn identity_view(r: IdentityRow) -> IdentityView {
    let kind = IdentityKind::parse("kind", &r.kind).ok();
    let value = if kind == Some(IdentityKind::Phone) {
        mask_phone(&r.value)
    } else {
        r.value
    };
    IdentityView {
        id: r.id,
        kind: r.kind,
        namespace: r.namespace,
        value,
        strong: kind.is_some_and(IdentityKind::is_strong),
        created_at: r.created_at,
    }
}

fn empty<T>(page: Page) -> Paged<T> {
    Paged {
        items: vec![],
        total: 0,
        page: page.number,
        page_size: page.size,
    }
}

/// The customer pool's use cases: listing, reading and revealing customers, ingest and profile
/// edits, identities and merges, follows, the timeline and custom attributes.
#[derive(Clone, Copy)]
pub struct Customers<'a>(&'a App);

impl std::ops::Deref for Customers<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Customers`].
    pub fn customers(&self) -> Customers<'_> {
        Customers(self)
    }
}

impl Customers<'_> {
    /// Resolve an id (following merges) to a live customer the caller may see; anything
    /// else is `NotFound`, so ids cannot be probed.
    pub async fn visible_customer(&self, actor: &Actor, id: CustomerId) -> Result<CustomerId> {
        let not_found = || AppError::NotFound { what: "customer" };
        let scope = scope_of(actor).ok_or_else(not_found)?;
        let mut live = store::resolve(&self.db, id.0)
            .await?
            .ok_or_else(not_found)?;
        // A merge that commits between the two reads makes `live` a merged customer (out of
        // every scope): follow it to its survivor instead of answering 404.
        for _ in 0..3 {
            if store::in_scope(&self.db, live, scope).await? {
                return Ok(CustomerId(live));
            }
            match store::resolve(&self.db, live).await? {
                Some(next) if next != live => live = next,
                _ => break,
            }
        }
        Err(not_found())
    }

    /// Resolve a reference from an integration (id or identity) to a live customer.
    pub async fn resolve_customer_ref(&self, r: &CustomerRef) -> Result<Option<CustomerId>> {
        let id = match r {
            CustomerRef::Id(id) => Some(id.0),
            CustomerRef::Identity(i) => store::find_by_identity(&self.db, i).await?,
        };
        match id {
            Some(id) => Ok(store::resolve(&self.db, id).await?.map(CustomerId)),
            None => Ok(None),
        }
    }

    /// A page of the customers the caller sees. The total is counted up to
    /// `limits.list_count_cap` matches (or one past the page, when further) and is a lower
    /// bound beyond that (`total_exact` false): counting 10M customers for every page would
    /// cost more than the page.
    pub async fn list_customers(&self, actor: &Actor, q: &CustomerQuery) -> Result<CustomerList> {
        let Some(scope) = scope_of(actor) else {
            if !actor.can(Permission::ViewCustomers) {
                return Err(AppError::Forbidden);
            }
            return Ok(CustomerList {
                page: empty(q.page),
                total_exact: true,
                next_after: None,
                prev_before: None,
            });
        };
        let phone = search_phone(q);
        let mut f = filter(q, scope, phone.as_ref());
        f.count_cap = self.settings.limits.list_count_cap;
        let page = store::list(&self.db, &f).await?;
        let position = |r: &CustomerRow| {
            ListCursor::of(q.sort, r.id, r.total_spend, r.order_count, r.last_order_at)
                .to_param(q.sort)
        };
        // Rows go on after the page when the store saw one more, or when the page was read
        // backwards from a position (that row and those after it); before it when the page
        // was read forwards from a position or an offset, or backwards with one more seen.
        let (after, before) = match q.keyset {
            Some(Keyset::Before(_)) => (true, page.more),
            Some(Keyset::After(_)) => (page.more, true),
            None => (page.more, q.page.offset() > 0),
        };
        let next_after = page.rows.last().filter(|_| after).map(position);
        let prev_before = page.rows.first().filter(|_| before).map(position);
        Ok(CustomerList {
            page: Paged {
                items: page.rows.into_iter().map(mask_row).collect(),
                total: page.total.total,
                page: q.page.number,
                page_size: q.page.size,
            },
            total_exact: page.total.exact,
            next_after,
            prev_before,
        })
    }

    /// The audited CSV export of a customer list: every customer the filters pick within the
    /// caller's scope (not only one page), in the list's order, phones masked unless the
    /// caller may reveal them. The audit entry names the filters and the row count.
    pub async fn export_customers(
        &self,
        actor: &Actor,
        q: &CustomerQuery,
    ) -> Result<crate::segments::SegmentExport> {
        let Some(scope) = scope_of(actor) else {
            return Err(AppError::Forbidden);
        };
        let phone = search_phone(q);
        let ids = store::list_ids(&self.db, &filter(q, scope, phone.as_ref())).await?;
        let reveal = actor.can(Permission::RevealPhone);
        audit::record(
            self,
            actor,
            Action::CustomersExported,
            "customers",
            &serde_json::json!({
                "q": q.q, "city": q.city, "member_level": q.member_level, "gender": q.gender,
                "guide_id": q.guide_id.map(|g| g.0), "store_id": q.store_id.map(|s| s.0),
                "identity_kind": q.identity_kind.map(IdentityKind::as_str),
                "min_orders": q.min_orders, "sort": q.sort.as_param(),
                "rows": ids.len(), "phones_revealed": reveal,
            })
            .to_string(),
        )
        .await?;
        Ok(crate::segments::SegmentExport::new(self, ids, reveal))
    }

    /// The customer with phones masked. A merged-away id answers with its survivor.
    pub async fn get_customer(&self, actor: &Actor, id: CustomerId) -> Result<CustomerRow> {
        let live = self.visible_customer(actor, id).await?;
        let scope = scope_of(actor).unwrap_or_default();
        let row = store::get(&self.db, live.0, scope)
            .await
            .map_err(AppError::not_found("customer"))?;
        Ok(mask_row(row))
    }

    pub async fn customer_360(&self, actor: &Actor, id: CustomerId) -> Result<Customer360> {
        let customer = self.get_customer(actor, id).await?;
        let cid = customer.id;
        let identities = store::identities(&self.db, cid)
            .await?
            .into_iter()
            .map(identity_view)
            .collect();
        let follows = store::follows(&self.db, cid).await?;
        let attributes = store::attributes(&self.db, cid).await?;
        let (recent_orders, order_total) = order_store::list(
            &self.db,
            &order_store::OrderFilter {
                customer_id: Some(cid),
                limit: 20,
                ..Default::default()
            },
        )
        .await?;
        Ok(Customer360 {
            customer,
            identities,
            follows,
            attributes,
            recent_orders,
            order_total,
        })
    }

    pub async fn customer_identities(
        &self,
        actor: &Actor,
        id: CustomerId,
    ) -> Result<Vec<IdentityView>> {
        let live = self.visible_customer(actor, id).await?;
        Ok(store::identities(&self.db, live.0)
            .await?
            .into_iter()
            .map(identity_view)
            .collect())
    }

    /// The customer's phone numbers in full. Needs `RevealPhone`; every reveal is audited.
    pub async fn reveal_phones(&self, actor: &Actor, id: CustomerId) -> Result<Vec<String>> {
        let live = self.visible_customer(actor, id).await?;
        if !actor.can(Permission::RevealPhone) {
            return Err(AppError::Forbidden);
        }
        let phones: Vec<String> = store::identities(&self.db, live.0)
            .await?
            .into_iter()
            .filter(|i| i.kind == IdentityKind::Phone.as_str())
            .map(|i| i.value)
            .collect();
        audit::record(
            self,
            actor,
            Action::PhoneRevealed,
            &format!("customer:{}", live.0),
            &serde_json::json!({"phones": phones.len()}).to_string(),
        )
        .await?;
        Ok(phones)
    }

    async fn parse_attribute_values(&self, raw: &[(String, String)]) -> Result<Vec<(i64, String)>> {
        if raw.is_empty() {
            return Ok(Vec::new());
        }
        let defs = store::list_attributes(&self.db).await?;
        let mut out = Vec::with_capacity(raw.len());
        for (key, value) in raw {
            let def = defs.iter().find(|d| &d.key == key).ok_or_else(|| {
                FieldError::new(
                    "attributes",
                    "unknown_attribute",
                    format!("no custom attribute {key:?}; define it first"),
                )
            })?;
            let parsed = attribute_def(def)?;
            let v = parsed.parse_value(value).map_err(|mut e| {
                e.message = format!("{key}: {}", e.message);
                e.field = "attributes";
                e
            })?;
            out.push((def.id, v));
        }
        Ok(out)
    }

    /// Create a customer, or attach the record to the customer its identities name, merging
    /// customers the record proves to be one person. HQ roles and integrations only.
    pub async fn ingest_customer(&self, actor: &Actor, input: &CustomerInput) -> Result<Ingested> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        if input.identities.is_empty() {
            return Err(FieldError::new(
                "identities",
                "identity_required",
                "a customer needs at least one identity (phone, unionid, external_userid …)",
            )
            .into());
        }
        let attributes = self.parse_attribute_values(&input.attributes).await?;
        let rec = IngestRecord {
            identities: input.identities.clone(),
            profile: input.profile.clone(),
            attributes,
        };
        let mut tx = self.db.begin().await?;
        let (id, outcome) = identities::ingest_in(self, &mut tx, actor, &rec)
            .await
            .map_err(concurrent_ingest)?;
        tx.commit().await.map_err(|e| concurrent_ingest(e.into()))?;
        let (outcome, merged) = match outcome {
            IngestOutcome::Created => ("created", vec![]),
            IngestOutcome::Attached => ("attached", vec![]),
            IngestOutcome::Merged(l) => ("merged", l),
        };
        let customer = self.get_customer(actor, CustomerId(id)).await?;
        Ok(Ingested {
            customer,
            outcome,
            merged,
        })
    }

    pub async fn update_customer(
        &self,
        actor: &Actor,
        id: CustomerId,
        patch: &ProfilePatch,
        attributes: &[(String, String)],
    ) -> Result<CustomerRow> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let live = self.visible_customer(actor, id).await?;
        let attrs = self.parse_attribute_values(attributes).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let before = store::profile_in(&mut tx, live.0).await?;
        let mut after = before.clone();
        after.apply(patch);
        if after != before {
            store::write_profile_in(&mut tx, live.0, &after, now).await?;
        }
        store::set_attributes_in(&mut tx, live.0, &attrs, now).await?;
        if after != before || !attrs.is_empty() {
            event_store::append_in(&mut tx, live.0, "profile_updated", now, None, "{}", now)
                .await?;
        }
        tx.commit().await?;
        self.get_customer(actor, live).await
    }

    /// Add an identity; returns whether it was new.
    pub async fn add_identity(
        &self,
        actor: &Actor,
        id: CustomerId,
        identity: &Identity,
    ) -> Result<bool> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let live = self.visible_customer(actor, id).await?;
        // A concurrent add of the same identity hits the unique key.
        let taken = |e: StoreError| match e {
            StoreError::Conflict { .. } => AppError::Rule {
                code: "identity_taken",
                message: "this identity belongs to another customer".into(),
            },
            other => other.into(),
        };
        let mut tx = self.db.begin().await?;
        match store::identity_owner_in(&mut tx, identity).await? {
            Some(o) if o == live.0 => return Ok(false),
            Some(o) => {
                return Err(AppError::Rule {
                    code: "identity_taken",
                    message: format!(
                        "this identity belongs to customer {o}; merge the two customers instead"
                    ),
                });
            }
            None => {}
        }
        let existing = store::identities_in(&mut tx, live.0).await?;
        if let Some(c) = attach_conflicts(&existing, std::slice::from_ref(identity)).first() {
            return Err(AppError::Rule {
                code: "identity_conflict",
                message: format!(
                    "customer {} already has the {} identity {}",
                    live.0, c.kind, c.left
                ),
            });
        }
        store::add_identity_in(&mut tx, live.0, identity, self.now())
            .await
            .map_err(taken)?;
        tx.commit().await.map_err(taken)?;
        Ok(true)
    }

    /// Merge two customers on an operator's evidence. The survivor is the one created first;
    /// conflicting single-valued identities (two unionids …) refuse the merge unless `force`.
    pub async fn merge_customers(
        &self,
        actor: &Actor,
        a: CustomerId,
        b: CustomerId,
        force: bool,
    ) -> Result<Merged> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let a = self.visible_customer(actor, a).await?;
        let b = self.visible_customer(actor, b).await?;
        if a == b {
            return Err(AppError::Rule {
                code: "same_customer",
                message: format!("both ids are customer {a}"),
            });
        }
        let mut tx = self.db.begin().await?;
        // Either may have been merged since it was looked up: both resolve again inside.
        let (Some(x), Some(y)) = (
            store::resolve_in(&mut tx, a.0).await?,
            store::resolve_in(&mut tx, b.0).await?,
        ) else {
            return Err(AppError::NotFound { what: "customer" });
        };
        if x.id == y.id {
            return Ok(Merged {
                survivor: x.id.0,
                loser: y.id.0,
            });
        }
        let survivor = choose_survivor(&[x, y]).unwrap_or(x.id).0;
        let loser = if survivor == x.id.0 { y.id.0 } else { x.id.0 };
        identities::merge_in(self, &mut tx, actor, survivor, loser, force, "manual")
            .await
            .map_err(|e| match e {
                AppError::NotFound { .. } => AppError::NotFound { what: "customer" },
                other => other,
            })?;
        tx.commit().await?;
        Ok(Merged { survivor, loser })
    }

    pub async fn customer_follows(&self, actor: &Actor, id: CustomerId) -> Result<Vec<FollowRow>> {
        let live = self.visible_customer(actor, id).await?;
        Ok(store::follows(&self.db, live.0).await?)
    }

    /// Record that a guide (or store manager) follows the customer, or change the relation.
    pub async fn set_follow(
        &self,
        actor: &Actor,
        id: CustomerId,
        f: &FollowChange,
    ) -> Result<Vec<FollowRow>> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let live = self.visible_customer(actor, id).await?;
        let staff = match yutang_store::staff::get(&self.db, f.staff_id.0).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => {
                return Err(
                    FieldError::new("staff_id", "unknown_staff", "no such staff member").into(),
                );
            }
            Err(e) => return Err(e.into()),
        };
        let role = Role::parse("role", &staff.role)?;
        if !matches!(role, Role::Guide | Role::StoreManager) {
            return Err(FieldError::new(
                "staff_id",
                "not_a_guide",
                "only guides and store managers follow customers",
            )
            .into());
        }
        let remark = f
            .remark
            .as_deref()
            .map(yutang_core::customers::parse_remark)
            .transpose()?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        store::upsert_follow_in(
            &mut tx,
            &FollowInput {
                customer_id: live.0,
                staff_id: f.staff_id.0,
                since: f.since.unwrap_or(now),
                remark: remark.as_deref(),
                state: f.state.as_str(),
                owner: f.owner,
            },
            now,
        )
        .await?;
        // A customer who chose this guide as consultant before they were a contact.
        if f.state.as_str() == "active" {
            crate::ratings::settle_pending_in(self, &mut tx, live.0, f.staff_id.0).await?;
        }
        tx.commit().await?;
        Ok(store::follows(&self.db, live.0).await?)
    }

    pub async fn timeline(
        &self,
        actor: &Actor,
        id: CustomerId,
        kind: Option<EventKind>,
        page: Page,
    ) -> Result<Paged<EventRow>> {
        let live = self.visible_customer(actor, id).await?;
        let (items, total) = event_store::timeline(
            &self.db,
            live.0,
            kind.map(EventKind::as_str),
            page.size,
            page.offset(),
        )
        .await?;
        Ok(Paged {
            items,
            total,
            page: page.number,
            page_size: page.size,
        })
    }

    pub async fn list_attribute_defs(&self, actor: &Actor) -> Result<Vec<AttributeDefRow>> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        Ok(store::list_attributes(&self.db).await?)
    }

    pub async fn create_attribute_def(
        &self,
        actor: &Actor,
        def: &AttributeDef,
    ) -> Result<AttributeDefRow> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let id = store::create_attribute(
            &self.db,
            &def.key,
            &def.label,
            def.kind.as_str(),
            &def.options.join("\n"),
            self.now(),
        )
        .await
        .map_err(crate::org::conflict("key", "attribute_key_taken"))?;
        // Segment expressions may use the new attribute at once.
        self.segments.reload_schema(&self.db).await?;
        store::list_attributes(&self.db)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(AppError::NotFound { what: "attribute" })
    }
}

/// A stored attribute definition as the core type.
pub fn attribute_def(d: &AttributeDefRow) -> Result<AttributeDef, FieldError> {
    let options: Vec<String> = d
        .options
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    AttributeDef::parse(&d.key, &d.label, &d.kind, &options)
}

/// A concurrent ingest of the same identity hits its unique key: retry-able, not a 500.
fn concurrent_ingest(e: AppError) -> AppError {
    match e {
        AppError::Conflict {
            code: "already_exists",
            ..
        } => AppError::Conflict {
            what: "identity",
            code: "concurrent_ingest",
        },
        other => other,
    }
}
