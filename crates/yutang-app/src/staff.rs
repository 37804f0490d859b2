//! Staff accounts: who works where, with which role.

/// The row this area hands to its callers (a read model; defined by the store).
pub use yutang_store::staff::StaffRow;

use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::ids::{StaffId, StoreId};
use yutang_core::staff::{
    DisplayName, NewPassword, Permission, Role, StaffStatus, Username, WecomUserId,
};
use yutang_store::staff as store;

use crate::audit::{self, Action, Page, Paged};
use crate::auth::hash_password;
use crate::error::{AppError, Result};
use crate::org::conflict;
use crate::{Actor, App};

/// A new staff member, parsed.
#[derive(Debug, Clone)]
pub struct NewStaffInput {
    pub username: Username,
    pub display_name: DisplayName,
    pub role: Role,
    pub store_id: Option<StoreId>,
    pub password: Option<NewPassword>,
}

impl NewStaffInput {
    pub fn parse(
        username: &str,
        display_name: &str,
        role: &str,
        store_id: Option<i64>,
        password: Option<&str>,
    ) -> Result<Self, FieldError> {
        let role = Role::parse("role", role)?;
        let store_id = store_id.map(StoreId);
        check_store_for_role(role, store_id)?;
        Ok(Self {
            username: Username::parse(username)?,
            display_name: DisplayName::parse("display_name", display_name)?,
            role,
            store_id,
            password: password.map(NewPassword::parse).transpose()?,
        })
    }
}

/// Store managers and guides belong to exactly one store; HQ roles to none.
fn check_store_for_role(role: Role, store: Option<StoreId>) -> Result<(), FieldError> {
    match (role.needs_store(), store) {
        (true, None) => Err(FieldError::new(
            "store_id",
            "store_required",
            format!("a {role} must belong to a store"),
        )),
        (false, Some(_)) => Err(FieldError::new(
            "store_id",
            "store_not_allowed",
            format!("a {role} works at headquarters and has no store"),
        )),
        _ => Ok(()),
    }
}

/// Changes to a staff member; `None` keeps the current value. `store_id: Some(None)` moves
/// the account to headquarters.
#[derive(Debug, Clone, Default)]
pub struct StaffPatch {
    pub display_name: Option<DisplayName>,
    pub role: Option<Role>,
    pub store_id: Option<Option<StoreId>>,
    pub status: Option<StaffStatus>,
    /// `Some(None)` unlinks the WeCom account.
    pub wecom_userid: Option<Option<WecomUserId>>,
}

#[derive(Debug, Clone, Default)]
pub struct StaffQuery {
    pub store_id: Option<StoreId>,
    pub role: Option<Role>,
    pub status: Option<StaffStatus>,
    pub q: Option<String>,
    pub page: Page,
}

/// The staff use cases: listing, creating and editing staff accounts, password resets and the
/// first admin.
#[derive(Clone, Copy)]
pub struct Staff<'a>(&'a App);

impl std::ops::Deref for Staff<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Staff`].
    pub fn staff(&self) -> Staff<'_> {
        Staff(self)
    }
}

impl Staff<'_> {
    pub async fn list_staff(&self, actor: &Actor, q: &StaffQuery) -> Result<Paged<StaffRow>> {
        if !actor.can(Permission::ViewStaff) {
            return Err(AppError::Forbidden);
        }
        let empty = || Paged {
            items: vec![],
            total: 0,
            page: q.page.number,
            page_size: q.page.size,
        };
        let (store_id, bound) = match actor.data_scope() {
            DataScope::All => (q.store_id, false),
            DataScope::Store(s) | DataScope::Own { store: s, .. } => {
                if q.store_id.is_some_and(|asked| asked != s) {
                    return Ok(empty());
                }
                (Some(s), true)
            }
            DataScope::Nothing => return Ok(empty()),
        };
        let (items, total) = store::list(
            &self.db,
            &store::StaffFilter {
                store_id: store_id.map(|s| s.0),
                store_bound_only: bound,
                role: q.role.map(Role::as_str),
                status: q.status.map(StaffStatus::as_str),
                q: q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()),
                limit: q.page.size,
                offset: q.page.offset(),
            },
        )
        .await?;
        Ok(Paged {
            items,
            total,
            page: q.page.number,
            page_size: q.page.size,
        })
    }

    /// A staff member the caller may see; anyone else is `NotFound`, so ids cannot be probed.
    pub async fn get_staff(&self, actor: &Actor, id: StaffId) -> Result<StaffRow> {
        let row = store::get(&self.db, id.0)
            .await
            .map_err(AppError::not_found("staff"))?;
        if !actor.can_view_staff(row.store_id.map(StoreId)) && actor.staff_id() != Some(id) {
            return Err(AppError::NotFound { what: "staff" });
        }
        Ok(row)
    }

    pub async fn create_staff(&self, actor: &Actor, input: &NewStaffInput) -> Result<StaffRow> {
        if !actor.can_manage_staff(input.role, input.store_id) {
            return Err(AppError::Forbidden);
        }
        if let Some(s) = input.store_id {
            self.require_store(s).await?;
        }
        let hash = match &input.password {
            Some(p) => Some(hash_password(&self.settings.auth, p)?),
            None => None,
        };
        let mut tx = self.db.begin().await?;
        let id = store::create_in(
            &mut tx,
            &store::NewStaff {
                username: input.username.as_str(),
                display_name: input.display_name.as_str(),
                role: input.role.as_str(),
                store_id: input.store_id.map(|s| s.0),
                password_hash: hash.as_deref(),
                wecom_userid: None,
            },
            self.now(),
        )
        .await
        .map_err(conflict("username", "username_taken"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::StaffCreated,
            &format!("staff:{id}"),
            &serde_json::json!({"username": input.username.as_str(), "role": input.role.as_str()})
                .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(store::get(&self.db, id).await?)
    }

    pub async fn update_staff(
        &self,
        actor: &Actor,
        id: StaffId,
        patch: &StaffPatch,
    ) -> Result<StaffRow> {
        let current = self.get_staff(actor, id).await?;
        let cur_role = Role::parse("role", &current.role)?;
        let cur_store = current.store_id.map(StoreId);
        let cur_status = StaffStatus::parse("status", &current.status)?;
        let role = patch.role.unwrap_or(cur_role);
        let store_id = patch.store_id.unwrap_or(cur_store);
        let status = patch.status.unwrap_or(cur_status);
        let display_name = patch
            .display_name
            .clone()
            .map(|d| d.as_str().to_owned())
            .unwrap_or(current.display_name.clone());
        if !actor.can_manage_staff(cur_role, cur_store) || !actor.can_manage_staff(role, store_id) {
            return Err(AppError::Forbidden);
        }
        check_store_for_role(role, store_id)?;
        if let Some(s) = store_id {
            self.require_store(s).await?;
        }
        let loses_admin = cur_role == Role::Admin
            && cur_status == StaffStatus::Active
            && (role != Role::Admin || status != StaffStatus::Active);
        // The change, its WeCom link and its audit entries commit together (a taken WeCom
        // userid undoes the whole change); the admins are locked so two concurrent demotions
        // cannot both pass the last-admin check.
        let mut tx = self.db.begin().await?;
        if loses_admin && store::lock_active_admins_in(&mut tx).await? <= 1 {
            return Err(AppError::Rule {
                code: "last_admin",
                message: "this is the last active admin; create another admin first".into(),
            });
        }
        store::update_in(
            &mut tx,
            id.0,
            &store::StaffUpdate {
                display_name: &display_name,
                role: role.as_str(),
                store_id: store_id.map(|s| s.0),
                status: status.as_str(),
            },
            self.now(),
        )
        .await?;
        if store_id != cur_store {
            // The dashboard's store figures follow a guide's current store: recompute them.
            yutang_store::rollups::request_rebuild_in(&mut tx).await?;
        }
        let target = format!("staff:{}", id.0);
        if let Some(w) = &patch.wecom_userid {
            let new = w.as_ref().map(WecomUserId::as_str);
            if new != current.wecom_userid.as_deref() {
                store::set_wecom_userid_in(&mut tx, id.0, new, self.now())
                    .await
                    .map_err(conflict("wecom_userid", "wecom_userid_taken"))?;
                audit::record_in(
                    self,
                    &mut tx,
                    actor,
                    Action::StaffUpdated,
                    &target,
                    &serde_json::json!({
                        "field": "wecom_userid", "before": current.wecom_userid, "after": new,
                    })
                    .to_string(),
                )
                .await?;
            }
        }
        if role != cur_role {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::RoleChanged,
                &target,
                &serde_json::json!({
                    "field": "role", "before": cur_role.as_str(), "after": role.as_str(),
                })
                .to_string(),
            )
            .await?;
        }
        if status != cur_status {
            let a = if status == StaffStatus::Active {
                Action::StaffEnabled
            } else {
                Action::StaffDisabled
            };
            audit::record_in(self, &mut tx, actor, a, &target, "").await?;
        }
        if store_id != cur_store || display_name != current.display_name {
            let detail = serde_json::json!({
                "before_store_id": cur_store.map(|s| s.0), "store_id": store_id.map(|s| s.0),
                "display_name": display_name,
            })
            .to_string();
            audit::record_in(self, &mut tx, actor, Action::StaffUpdated, &target, &detail).await?;
        }
        tx.commit().await?;
        Ok(store::get(&self.db, id.0).await?)
    }

    /// An admin (or a store manager for their guides) sets someone's password.
    pub async fn reset_password(&self, actor: &Actor, id: StaffId, password: &str) -> Result<()> {
        let current = self.get_staff(actor, id).await?;
        let role = Role::parse("role", &current.role)?;
        if !actor.can_manage_staff(role, current.store_id.map(StoreId)) {
            return Err(AppError::Forbidden);
        }
        let pw = NewPassword::parse(password)?;
        let hash = hash_password(&self.settings.auth, &pw)?;
        let mut tx = self.db.begin().await?;
        store::set_password_in(&mut tx, id.0, &hash, self.now()).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::PasswordReset,
            &format!("staff:{}", id.0),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn require_store(&self, s: StoreId) -> Result<()> {
        match yutang_store::org::get_store(&self.db, s.0).await {
            Ok(_) => Ok(()),
            Err(yutang_store::StoreError::NotFound) => {
                Err(FieldError::new("store_id", "unknown_store", "no such store").into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Create the first admin if the installation has none; returns the one-time password.
    pub async fn bootstrap_admin(&self) -> Result<Option<(String, String)>> {
        if store::count_active_admins(&self.db).await? > 0 {
            return Ok(None);
        }
        let password = crate::auth::random_secret("")[..20].to_owned();
        let pw = NewPassword::parse(&password)?;
        let hash = hash_password(&self.settings.auth, &pw)?;
        let username = "admin";
        let new = store::NewStaff {
            username,
            display_name: "管理员",
            role: Role::Admin.as_str(),
            store_id: None,
            password_hash: Some(&hash),
            wecom_userid: None,
        };
        // The admin and its audit entry commit together.
        let mut tx = self.db.begin().await?;
        let id = match store::create_in(&mut tx, &new, self.now()).await {
            Ok(id) => id,
            // An `admin` account exists but is disabled or not an admin: reactivate it as admin
            // with the new password rather than leave the installation locked. The failed
            // insert aborted the transaction (on PostgreSQL): start another.
            Err(yutang_store::StoreError::Conflict { .. }) => {
                drop(tx);
                let c = store::credentials_by_username(&self.db, username).await?;
                tx = self.db.begin().await?;
                store::update_in(
                    &mut tx,
                    c.id,
                    &store::StaffUpdate {
                        display_name: "管理员",
                        role: Role::Admin.as_str(),
                        store_id: None,
                        status: StaffStatus::Active.as_str(),
                    },
                    self.now(),
                )
                .await?;
                store::set_password_in(&mut tx, c.id, &hash, self.now()).await?;
                c.id
            }
            Err(e) => return Err(e.into()),
        };
        audit::record_in(
            self,
            &mut tx,
            &Actor::system(),
            Action::AdminBootstrapped,
            &format!("staff:{id}"),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(Some((username.to_owned(), password)))
    }
}
