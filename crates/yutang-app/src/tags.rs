//! Tags: the catalogue (groups and tags), tagging customers by hand or in bulk, and auto-tag
//! rules that keep rule-owned groups true.

/// The rows this area hands to its callers (read models; defined by the store).
pub use yutang_store::tags::{CustomerTagRow, RuleRow};

use std::collections::BTreeSet;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::staff::Permission;
use yutang_core::tags::{RuleSpec, TagSource, parse_color, parse_name};
use yutang_store::Tx;
use yutang_store::customers as customer_store;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::tags::{self as store, TagChange, TagChangeCount, TagGroupRow, TagRow};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::{Actor, App, idempotency};

/// The most customers one bulk request may name by id.
pub const MAX_BULK_IDS: usize = 100_000;
/// Customers per transaction in a bulk job.
const BULK_CHUNK: usize = 500;

/// A group with its tags and how many customers hold each.
#[derive(Debug, Clone, Serialize)]
pub struct GroupWithTags {
    #[serde(flatten)]
    pub group: TagGroupRow,
    pub rule_id: Option<i64>,
    pub tags: Vec<TagWithCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagWithCount {
    #[serde(flatten)]
    pub tag: TagRow,
    pub customers: u64,
}

/// What a bulk tagging job does, stored as its payload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BulkTagJob {
    pub add: Vec<i64>,
    pub remove: Vec<i64>,
    /// The customers, resolved and scope-checked when the job was created.
    pub customers: Vec<i64>,
    pub staff_id: Option<i64>,
    pub by: String,
}

/// Who a bulk tagging applies to.
#[derive(Debug, Clone)]
pub enum Audience {
    /// A segment expression (members within the caller's scope).
    Expression(String),
    /// A saved segment.
    Segment(i64),
    /// Customer ids (every one must be within the caller's scope).
    Ids(Vec<i64>),
}

/// The fingerprint of a bulk tagging request as sent (the audience as given, not resolved).
fn bulk_tag_fingerprint(audience: &Audience, add: &[i64], remove: &[i64]) -> String {
    let list = |ids: &[i64]| serde_json::to_string(ids).unwrap_or_default();
    let (by, who) = match audience {
        Audience::Expression(e) => ("expression", e.clone()),
        Audience::Segment(id) => ("segment", id.to_string()),
        Audience::Ids(ids) => ("ids", list(ids)),
    };
    idempotency::fingerprint(&[BULK_TAG_KIND, by, &who, &list(add), &list(remove)])
}

pub const BULK_TAG_KIND: &str = "bulk_tag";
pub const RULE_RUN_KIND: &str = "tag_rule_run";

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(BULK_TAG_KIND, |app, job| {
        Box::pin(async move {
            app.tags()
                .run_bulk_tag(job.id, &job.payload, job.progress_done)
                .await
        })
    });
    reg.register(RULE_RUN_KIND, |app, job| {
        Box::pin(async move {
            let id: i64 = job
                .payload
                .parse()
                .map_err(|_| AppError::Internal("bad rule id".into()))?;
            app.tags()
                .run_tag_rule(id, None)
                .await
                .map(|n| serde_json::json!({"changes": n}).to_string())
        })
    });
}

fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManageCustomers) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn rule_group_refused() -> AppError {
    AppError::Rule {
        code: "group_owned_by_rule",
        message: "an auto-tag rule keeps this group's tags; change the rule instead".into(),
    }
}

/// The tag use cases: the catalogue (groups and tags), tagging customers by hand or in bulk,
/// and the auto-tag rules that keep rule-owned tags current.
#[derive(Clone, Copy)]
pub struct Tags<'a>(&'a App);

impl std::ops::Deref for Tags<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Tags`].
    pub fn tags(&self) -> Tags<'_> {
        Tags(self)
    }
}

impl Tags<'_> {
    /// The whole catalogue, with counts from the index.
    pub async fn tag_catalogue(&self, actor: &Actor) -> Result<Vec<GroupWithTags>> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        let groups = store::list_groups(&self.db).await?;
        let tags = store::list_tags(&self.db).await?;
        let rules = store::list_rules(&self.db).await?;
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        let scope = self.segments().scope_bitmap(actor).await?;
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let mut ts = Vec::new();
            for t in tags.iter().filter(|t| t.group_id == g.id) {
                let mut m = self.segments.tag_members(t.id)?;
                if let Some(s) = &scope {
                    m &= s;
                }
                ts.push(TagWithCount {
                    tag: t.clone(),
                    customers: m.len(),
                });
            }
            out.push(GroupWithTags {
                rule_id: rules.iter().find(|r| r.group_id == g.id).map(|r| r.id),
                group: g,
                tags: ts,
            });
        }
        Ok(out)
    }

    pub async fn create_tag_group(
        &self,
        actor: &Actor,
        name: &str,
        multi: bool,
        sort: i64,
    ) -> Result<i64> {
        manage(actor)?;
        let name = parse_name("name", name, true)?;
        let mut tx = self.db.begin().await?;
        let id = store::create_group_in(&mut tx, &name, multi, sort, "manual", self.now())
            .await
            .map_err(conflict("tag group", "tag_group_exists"))?;
        self.catalogue_changed(
            tx,
            actor,
            &format!("tag_group:{id}"),
            serde_json::json!({"created": name}),
        )
        .await?;
        Ok(id)
    }

    pub async fn update_tag_group(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        multi: bool,
        sort: i64,
    ) -> Result<()> {
        manage(actor)?;
        let name = parse_name("name", name, true)?;
        let g = store::get_group(&self.db, id)
            .await
            .map_err(AppError::not_found("tag group"))?;
        // A rule's group keeps its name and kind (the rule and expressions name it); only the
        // display order may change.
        if g.source == "rule" && (g.name != name || g.multi != multi) {
            return Err(rule_group_refused());
        }
        let mut tx = self.db.begin().await?;
        store::update_group_in(&mut tx, id, &name, multi, sort, self.now())
            .await
            .map_err(conflict("tag group", "tag_group_exists"))?;
        self.catalogue_changed(
            tx,
            actor,
            &format!("tag_group:{id}"),
            serde_json::json!({"renamed": name}),
        )
        .await
    }

    pub async fn delete_tag_group(&self, actor: &Actor, id: i64) -> Result<u64> {
        manage(actor)?;
        let mut tx = self.db.begin().await?;
        let n = store::delete_group_in(
            &mut tx,
            id,
            &actor.name,
            actor.staff_id().map(|s| s.0),
            self.now(),
        )
        .await
        .map_err(AppError::not_found("tag group"))?;
        self.catalogue_changed(
            tx,
            actor,
            &format!("tag_group:{id}"),
            serde_json::json!({"deleted": true, "untagged": n}),
        )
        .await?;
        Ok(n)
    }

    pub async fn create_tag(
        &self,
        actor: &Actor,
        group_id: i64,
        name: &str,
        color: &str,
        sort: i64,
    ) -> Result<i64> {
        manage(actor)?;
        let name = parse_name("name", name, false)?;
        let color = parse_color("color", color)?;
        let g = store::get_group(&self.db, group_id)
            .await
            .map_err(|e| match e {
                yutang_store::StoreError::NotFound => {
                    FieldError::new("group_id", "unknown_reference", "no such tag group").into()
                }
                e => AppError::from(e),
            })?;
        if g.source == "rule" {
            return Err(rule_group_refused());
        }
        // A WeCom group's tags are created in WeCom first, so both sides hold the same tag.
        let wecom_id = match (&g.source[..], &g.wecom_id) {
            ("wecom", Some(gw)) => Some(self.wecom().push_corp_tag(gw, &name, sort).await?),
            _ => None,
        };
        let mut tx = self.db.begin().await?;
        let id = store::create_tag_in(&mut tx, group_id, &name, &color, sort, self.now())
            .await
            .map_err(conflict("tag", "tag_exists"))?;
        if let Some(w) = wecom_id {
            store::set_tag_wecom_id_in(&mut tx, id, &w).await?;
        }
        self.catalogue_changed(
            tx,
            actor,
            &format!("tag:{id}"),
            serde_json::json!({"created": format!("{}/{name}", g.name)}),
        )
        .await?;
        Ok(id)
    }

    pub async fn update_tag(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        color: &str,
        sort: i64,
    ) -> Result<()> {
        manage(actor)?;
        let name = parse_name("name", name, false)?;
        let color = parse_color("color", color)?;
        let t = store::get_tag(&self.db, id)
            .await
            .map_err(AppError::not_found("tag"))?;
        // A rule re-creates its tags by name, so a rule's tag cannot be renamed; its colour
        // and order are cosmetic and may change.
        if t.name != name && store::get_group(&self.db, t.group_id).await?.source == "rule" {
            return Err(rule_group_refused());
        }
        let mut tx = self.db.begin().await?;
        store::update_tag_in(&mut tx, id, &name, &color, sort, self.now())
            .await
            .map_err(conflict("tag", "tag_exists"))?;
        self.catalogue_changed(
            tx,
            actor,
            &format!("tag:{id}"),
            serde_json::json!({"renamed": name, "color": color}),
        )
        .await
    }

    pub async fn delete_tag(&self, actor: &Actor, id: i64) -> Result<u64> {
        manage(actor)?;
        let t = store::get_tag(&self.db, id)
            .await
            .map_err(AppError::not_found("tag"))?;
        if store::get_group(&self.db, t.group_id).await?.source == "rule" {
            return Err(rule_group_refused());
        }
        if let Some(w) = &t.wecom_id {
            self.wecom().delete_corp_tag(w).await?;
        }
        // The delete, its holders' timeline events and its audit entry commit together.
        let mut tx = self.db.begin().await?;
        let n = store::delete_tag_in(
            &mut tx,
            id,
            &actor.name,
            actor.staff_id().map(|s| s.0),
            self.now(),
        )
        .await?;
        let detail =
            serde_json::json!({"deleted": format!("{}/{}", t.group_name, t.name), "untagged": n});
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TagCatalogChanged,
            &format!("tag:{id}"),
            &detail.to_string(),
        )
        .await?;
        tx.commit().await?;
        self.segments.reload_schema(&self.db).await?;
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        Ok(n)
    }

    /// Finish a catalogue change: its audit entry goes into the change's transaction, which
    /// commits; then the segment schema and index learn the new catalogue.
    async fn catalogue_changed(
        &self,
        mut tx: Tx,
        actor: &Actor,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TagCatalogChanged,
            target,
            &detail.to_string(),
        )
        .await?;
        tx.commit().await?;
        self.segments.reload_schema(&self.db).await?;
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        Ok(())
    }

    /// A customer's tags, if the caller may see the customer.
    pub async fn customer_tags(&self, actor: &Actor, customer: i64) -> Result<Vec<CustomerTagRow>> {
        let id = self
            .customers()
            .visible_customer(actor, yutang_core::ids::CustomerId(customer))
            .await?
            .0;
        Ok(store::customer_tags(&self.db, id).await?)
    }

    async fn check_tags_manual(&self, ids: &[i64], field: &'static str) -> Result<()> {
        for id in ids {
            let t = store::get_tag(&self.db, *id).await.map_err(|e| match e {
                yutang_store::StoreError::NotFound => AppError::Invalid(FieldError::new(
                    field,
                    "unknown_tag",
                    format!("tag {id} does not exist"),
                )),
                e => e.into(),
            })?;
            if store::get_group(&self.db, t.group_id).await?.source == "rule" {
                return Err(rule_group_refused());
            }
        }
        Ok(())
    }

    /// Tag and untag one customer by hand. Any role that tags customers (not the read-only
    /// analyst) may, for a customer it sees; the change goes to the customer's timeline with
    /// who did it.
    pub async fn change_customer_tags(
        &self,
        actor: &Actor,
        customer: i64,
        add: &[i64],
        remove: &[i64],
    ) -> Result<TagChangeCount> {
        let id = self
            .customers()
            .visible_customer(actor, yutang_core::ids::CustomerId(customer))
            .await?
            .0;
        if !actor.can(Permission::TagCustomers) {
            return Err(AppError::Forbidden);
        }
        if add.is_empty() && remove.is_empty() {
            return Err(
                FieldError::new("add", "empty_change", "name tags to add or remove").into(),
            );
        }
        if let Some(t) = add.iter().find(|t| remove.contains(t)) {
            return Err(FieldError::new(
                "remove",
                "conflicting_change",
                format!("tag {t} is both added and removed"),
            )
            .into());
        }
        self.check_tags_manual(add, "add").await?;
        self.check_tags_manual(remove, "remove").await?;
        // The change, its timeline events and its audit entry commit together.
        let mut tx = self.db.begin().await?;
        let n = store::change_in(
            &mut tx,
            &TagChange {
                customers: &[id],
                add,
                remove,
                source: TagSource::Manual.as_str(),
                staff_id: actor.staff_id().map(|s| s.0),
                by: &actor.name,
            },
            self.now(),
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TagsChanged,
            &format!("customer:{id}"),
            &serde_json::json!({"add": add, "remove": remove}).to_string(),
        )
        .await?;
        tx.commit().await?;
        self.wecom().queue_mark_tag(&[id], add, remove).await;
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        Ok(n)
    }

    /// Start a bulk tagging job. The audience is resolved now, within the caller's scope; an
    /// id list that names anyone outside the scope is refused as a whole.
    pub async fn bulk_tag(
        &self,
        actor: &Actor,
        audience: Audience,
        add: &[i64],
        remove: &[i64],
        idempotency_key: Option<&str>,
    ) -> Result<i64> {
        // Refused before anything is resolved, written or queued.
        if !actor.can(Permission::ViewCustomers) || !actor.can(Permission::TagCustomers) {
            return Err(AppError::Forbidden);
        }
        // A retry under the same key is the job it started (another body: 422).
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "bulk_tag:{}:{}",
                actor.name,
                idempotency::parse_idempotency_key(k)?
            )),
            None => None,
        };
        let fp = bulk_tag_fingerprint(&audience, add, remove);
        if let Some(k) = &key
            && let Some(id) = idempotency::job_replay(&self.db, k, &fp).await?
        {
            return Ok(id);
        }
        if add.is_empty() && remove.is_empty() {
            return Err(
                FieldError::new("add", "empty_change", "name tags to add or remove").into(),
            );
        }
        self.check_tags_manual(add, "add").await?;
        self.check_tags_manual(remove, "remove").await?;
        let customers: Vec<i64> = match audience {
            Audience::Expression(src) => self
                .segments()
                .segment_members(actor, &src)
                .await?
                .1
                .iter()
                .map(i64::from)
                .collect(),
            Audience::Segment(id) => {
                let row = self.segments().get_segment(actor, id).await?;
                self.segments()
                    .segment_members(actor, &row.expression)
                    .await?
                    .1
                    .iter()
                    .map(i64::from)
                    .collect()
            }
            Audience::Ids(ids) => self.resolve_ids_in_scope(actor, &ids).await?,
        };
        let job = BulkTagJob {
            add: add.to_vec(),
            remove: remove.to_vec(),
            customers,
            staff_id: actor.staff_id().map(|s| s.0),
            by: actor.name.clone(),
        };
        let payload = serde_json::to_string(&job).map_err(|e| AppError::Internal(e.to_string()))?;
        // The job (with its key) and its audit entry commit together; a replay writes neither.
        let mut tx = self.db.begin().await?;
        let (id, replayed) = idempotency::enqueue_job_in(
            &mut tx,
            &NewJob {
                kind: BULK_TAG_KIND,
                payload: &payload,
                run_at: self.now(),
                idempotency_key: key.as_deref(),
                // Staff only: a token's id lives in another table.
                created_by: actor.staff_id().map(|s| s.0),
            },
            &fp,
            self.now(),
        )
        .await?;
        if replayed {
            return Ok(id);
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TagsBulkChanged,
            &format!("job:{id}"),
            &serde_json::json!({"add": add, "remove": remove, "customers": job.customers.len()})
                .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Run (the rest of) a bulk tagging job, recording progress after each chunk. Chunks
    /// already applied are skipped by `progress_done`, and re-applying is harmless anyway
    /// (tagging is idempotent).
    pub(crate) async fn run_bulk_tag(
        &self,
        job_id: i64,
        payload: &str,
        done: i64,
    ) -> Result<String> {
        let job: BulkTagJob = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("bad job payload: {e}")))?;
        let total = job.customers.len() as i64;
        let mut count = TagChangeCount::default();
        let start = (done.max(0) as usize).min(job.customers.len());
        let mut at = start;
        for chunk in job.customers[start..].chunks(BULK_CHUNK) {
            let n = store::change(
                &self.db,
                &TagChange {
                    customers: chunk,
                    add: &job.add,
                    remove: &job.remove,
                    source: TagSource::Bulk.as_str(),
                    staff_id: job.staff_id,
                    by: &job.by,
                },
                self.now(),
            )
            .await?;
            count.added += n.added;
            count.removed += n.removed;
            self.wecom()
                .queue_mark_tag(chunk, &job.add, &job.remove)
                .await;
            at += chunk.len();
            job_store::progress(
                &self.db,
                job_id,
                at as i64,
                total,
                self.now(),
                crate::jobs::LEASE_MS,
            )
            .await?;
        }
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        Ok(
            serde_json::json!({"customers": total, "added": count.added, "removed": count.removed})
                .to_string(),
        )
    }

    // --- auto-tag rules ---

    pub async fn list_tag_rules(&self, actor: &Actor) -> Result<Vec<RuleRow>> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        Ok(store::list_rules(&self.db).await?)
    }

    /// Create a rule with its own (rule-owned) group and run it once.
    pub async fn create_tag_rule(&self, actor: &Actor, name: &str, spec: &RuleSpec) -> Result<i64> {
        manage(actor)?;
        let name = parse_name("name", name, true)?;
        spec.validate()?;
        for (_, expr) in spec.plan(yutang_core::time::Millis(self.now())) {
            self.segments.compile(&expr)?;
        }
        let multi = false;
        let config = serde_json::to_string(spec).map_err(|e| AppError::Internal(e.to_string()))?;
        // The rule and its group exist together or not at all.
        let mut tx = self.db.begin().await?;
        let group = store::create_group_in(&mut tx, &name, multi, 1000, "rule", self.now())
            .await
            .map_err(conflict("tag group", "tag_group_exists"))?;
        let id = store::create_rule_in(&mut tx, &name, group, spec.kind(), &config, self.now())
            .await
            .map_err(conflict("rule", "tag_rule_exists"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TagRuleChanged,
            &format!("tag_rule:{id}"),
            &serde_json::json!({"created": name, "config": spec}).to_string(),
        )
        .await?;
        tx.commit().await?;
        self.run_tag_rule(id, None).await?;
        Ok(id)
    }

    pub async fn set_tag_rule_enabled(&self, actor: &Actor, id: i64, enabled: bool) -> Result<()> {
        manage(actor)?;
        let mut tx = self.db.begin().await?;
        store::set_rule_enabled_in(&mut tx, id, enabled, self.now())
            .await
            .map_err(AppError::not_found("rule"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TagRuleChanged,
            &format!("tag_rule:{id}"),
            &serde_json::json!({"enabled": enabled}).to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_tag_rule(&self, actor: &Actor, id: i64) -> Result<()> {
        manage(actor)?;
        let mut tx = self.db.begin().await?;
        store::delete_rule_in(&mut tx, id, self.now())
            .await
            .map_err(AppError::not_found("rule"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TagRuleChanged,
            &format!("tag_rule:{id}"),
            "{\"deleted\":true}",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Customer ids an operator named (a pasted list, the rows ticked on a list page),
    /// followed to their survivors when merged: refused as a whole when one is unknown or
    /// outside the caller's data scope, so nothing is half applied.
    pub(crate) async fn resolve_ids_in_scope(
        &self,
        actor: &Actor,
        ids: &[i64],
    ) -> Result<Vec<i64>> {
        if ids.is_empty() || ids.len() > MAX_BULK_IDS {
            return Err(FieldError::new(
                "customer_ids",
                "invalid_ids",
                format!("name 1–{MAX_BULK_IDS} customers"),
            )
            .into());
        }
        let mut resolved = BTreeSet::new();
        let mut unknown = Vec::new();
        for chunk in ids.chunks(1000) {
            let map = customer_store::resolve_many(&self.db, chunk).await?;
            for id in chunk {
                match map.get(id) {
                    Some(r) => {
                        resolved.insert(*r);
                    }
                    None => unknown.push(*id),
                }
            }
        }
        if !unknown.is_empty() {
            return Err(FieldError::new(
                "customer_ids",
                "unknown_customer",
                format!(
                    "{} unknown customer ids, e.g. {}",
                    unknown.len(),
                    unknown[0]
                ),
            )
            .into());
        }
        if let Some(scope) = self.segments().scope_bitmap(actor).await? {
            let outside = resolved
                .iter()
                .filter(|id| u32::try_from(**id).map_or(true, |i| !scope.contains(i)))
                .count();
            if outside > 0 {
                return Err(AppError::Rule {
                    code: "outside_scope",
                    message: format!(
                        "{outside} of these customers are outside your data scope; nothing was done"
                    ),
                });
            }
        }
        Ok(resolved.into_iter().collect())
    }

    /// Run a rule now (by an operator); returns the number of tag changes.
    pub async fn run_tag_rule_now(&self, actor: &Actor, id: i64) -> Result<u64> {
        manage(actor)?;
        store::get_rule(&self.db, id)
            .await
            .map_err(AppError::not_found("rule"))?;
        self.run_tag_rule(id, None).await
    }

    /// Re-evaluate a rule, for everyone or only for `only` (customers whose facts changed),
    /// and write the difference.
    pub async fn run_tag_rule(&self, id: i64, only: Option<&RoaringBitmap>) -> Result<u64> {
        let _one_at_a_time = self.segments.rules.lock().await;
        let rule = store::get_rule(&self.db, id).await?;
        if !rule.enabled {
            return Ok(0);
        }
        let mut spec: RuleSpec = serde_json::from_str(&rule.config)
            .map_err(|e| AppError::Internal(format!("bad rule config: {e}")))?;
        let now = self.now();
        if let RuleSpec::Rfm {
            recency_days: _,
            frequency_min,
            monetary_min_fen,
        } = &mut spec
        {
            // Split high/low at the medians of who ordered in the window.
            let inputs =
                store::rfm_inputs(&self.db, now - 365 * yutang_store::segments::DAY_MS).await?;
            let mut f: Vec<i64> = inputs.iter().map(|x| x.0).collect();
            let mut m: Vec<i64> = inputs.iter().map(|x| x.1).collect();
            *frequency_min = yutang_core::tags::median(&mut f).unwrap_or(1).max(1);
            *monetary_min_fen = yutang_core::tags::median(&mut m).unwrap_or(1).max(1);
        }
        self.segments.catch_up(&self.db, now, 0).await?;
        let plan = spec.plan(yutang_core::time::Millis(now));
        // Make sure the rule's group has exactly the planned tags.
        let existing: Vec<TagRow> = store::list_tags(&self.db)
            .await?
            .into_iter()
            .filter(|t| t.group_id == rule.group_id)
            .collect();
        let mut created = false;
        let mut targets = Vec::with_capacity(plan.len());
        for (i, (name, expr)) in plan.iter().enumerate() {
            let tag = match existing.iter().find(|t| &t.name == name) {
                Some(t) => t.id,
                None => {
                    created = true;
                    store::create_tag(
                        &self.db,
                        rule.group_id,
                        name,
                        RULE_COLORS[i % RULE_COLORS.len()],
                        i as i64,
                        now,
                    )
                    .await?
                }
            };
            targets.push((tag, expr.clone()));
        }
        if created {
            self.segments.reload_schema(&self.db).await?;
        }
        let by = format!("rule:{}", rule.name);
        let mut changes = 0u64;
        // Tags the plan no longer has lose everyone.
        for t in existing
            .iter()
            .filter(|t| !targets.iter().any(|(id, _)| *id == t.id))
        {
            let members: Vec<i64> = self
                .segments
                .tag_members(t.id)?
                .iter()
                .map(i64::from)
                .collect();
            changes += self.apply_rule_diff(&[], &members, t.id, &by).await?;
        }
        for (tag, src) in &targets {
            let expr = self.segments.compile(src)?;
            let want = self.segments.evaluate(&expr, now, only)?;
            let mut have = self.segments.tag_members(*tag)?;
            if let Some(o) = only {
                have &= o;
            }
            let add: Vec<i64> = (&want - &have).iter().map(i64::from).collect();
            let remove: Vec<i64> = (&have - &want).iter().map(i64::from).collect();
            changes += self.apply_rule_diff(&add, &remove, *tag, &by).await?;
        }
        store::rule_ran(&self.db, id, changes as i64, now).await?;
        if changes > 0 {
            self.segments.catch_up(&self.db, self.now(), 0).await?;
        }
        Ok(changes)
    }

    async fn apply_rule_diff(
        &self,
        add: &[i64],
        remove: &[i64],
        tag: i64,
        by: &str,
    ) -> Result<u64> {
        let mut n = 0;
        for chunk in remove.chunks(BULK_CHUNK) {
            let c = store::change(
                &self.db,
                &TagChange {
                    customers: chunk,
                    add: &[],
                    remove: &[tag],
                    source: TagSource::Rule.as_str(),
                    staff_id: None,
                    by,
                },
                self.now(),
            )
            .await?;
            n += c.removed;
        }
        for chunk in add.chunks(BULK_CHUNK) {
            let c = store::change(
                &self.db,
                &TagChange {
                    customers: chunk,
                    add: &[tag],
                    remove: &[],
                    source: TagSource::Rule.as_str(),
                    staff_id: None,
                    by,
                },
                self.now(),
            )
            .await?;
            n += c.added + c.removed;
        }
        Ok(n)
    }

    /// Run every enabled rule (the scheduler calls this; `only` limits to changed customers).
    pub async fn run_all_tag_rules(&self, only: Option<&RoaringBitmap>) -> Result<u64> {
        let mut n = 0;
        for r in store::list_rules(&self.db)
            .await?
            .into_iter()
            .filter(|r| r.enabled)
        {
            match self.run_tag_rule(r.id, only).await {
                Ok(c) => n += c,
                Err(e) => tracing::warn!(rule = r.id, error = %e, "auto-tag rule failed"),
            }
        }
        Ok(n)
    }
}

const RULE_COLORS: [&str; 8] = [
    "#1677ff", "#52c41a", "#faad14", "#f5222d", "#722ed1", "#13c2c2", "#eb2f96", "#8c8c8c",
];

fn conflict(
    what: &'static str,
    code: &'static str,
) -> impl Fn(yutang_store::StoreError) -> AppError {
    move |e| match e {
        yutang_store::StoreError::Conflict { .. } => AppError::Conflict { what, code },
        yutang_store::StoreError::NotFound => AppError::NotFound { what },
        e => e.into(),
    }
}
