//! Regions and stores.

/// The rows this area hands to its callers (read models; defined by the store).
pub use yutang_store::org::{RegionRow, StoreRow};

use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::ids::{RegionId, StoreId};
use yutang_core::org::{StoreCode, parse_label};
use yutang_core::staff::{DisplayName, Permission};
use yutang_store::org::{self as store, StoreFields};

use crate::audit::{Page, Paged};
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// A store as an operator describes it, parsed.
#[derive(Debug, Clone)]
pub struct StoreInput {
    pub region_id: Option<RegionId>,
    pub code: StoreCode,
    pub name: DisplayName,
    pub city: String,
    pub address: String,
}

impl StoreInput {
    pub fn parse(
        region_id: Option<i64>,
        code: &str,
        name: &str,
        city: &str,
        address: &str,
    ) -> Result<Self, FieldError> {
        Ok(Self {
            region_id: region_id.map(RegionId),
            code: StoreCode::parse(code)?,
            name: DisplayName::parse("name", name)?,
            city: parse_label("city", city, 20)?,
            address: parse_label("address", address, 120)?,
        })
    }

    fn fields(&self) -> StoreFields<'_> {
        StoreFields {
            region_id: self.region_id.map(|r| r.0),
            code: self.code.as_str(),
            name: self.name.as_str(),
            city: &self.city,
            address: &self.address,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct StoreQuery {
    pub region_id: Option<RegionId>,
    pub q: Option<String>,
    pub page: Page,
}

/// The org use cases: regions and stores.
#[derive(Clone, Copy)]
pub struct Org<'a>(&'a App);

impl std::ops::Deref for Org<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Org`].
    pub fn org(&self) -> Org<'_> {
        Org(self)
    }
}

impl Org<'_> {
    pub async fn list_regions(&self, actor: &Actor) -> Result<Vec<RegionRow>> {
        if !actor.can(Permission::ViewOrg) {
            return Err(AppError::Forbidden);
        }
        match actor.data_scope() {
            DataScope::All => Ok(store::list_regions(&self.db, None).await?),
            DataScope::Store(s) | DataScope::Own { store: s, .. } => {
                Ok(store::list_regions(&self.db, Some(s.0)).await?)
            }
            DataScope::Nothing => Ok(Vec::new()),
        }
    }

    pub async fn create_region(&self, actor: &Actor, name: &str) -> Result<RegionRow> {
        if !actor.can(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        let name = DisplayName::parse("name", name)?;
        let id = store::create_region(&self.db, name.as_str(), self.now())
            .await
            .map_err(conflict("name", "region_name_taken"))?;
        Ok(store::get_region(&self.db, id).await?)
    }

    pub async fn rename_region(
        &self,
        actor: &Actor,
        id: RegionId,
        name: &str,
    ) -> Result<RegionRow> {
        if !actor.can(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        let name = DisplayName::parse("name", name)?;
        store::rename_region(&self.db, id.0, name.as_str())
            .await
            .map_err(conflict("name", "region_name_taken"))
            .map_err(not_found("region"))?;
        Ok(store::get_region(&self.db, id.0).await?)
    }

    pub async fn list_stores(&self, actor: &Actor, q: &StoreQuery) -> Result<Paged<StoreRow>> {
        if !actor.can(Permission::ViewOrg) {
            return Err(AppError::Forbidden);
        }
        let only_store = match actor.data_scope() {
            DataScope::All => None,
            DataScope::Store(s) | DataScope::Own { store: s, .. } => Some(s.0),
            DataScope::Nothing => {
                return Ok(Paged {
                    items: vec![],
                    total: 0,
                    page: q.page.number,
                    page_size: q.page.size,
                });
            }
        };
        let (items, total) = store::list_stores(
            &self.db,
            &store::StoreFilter {
                only_store,
                region_id: q.region_id.map(|r| r.0),
                q: q.q
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(str::trim),
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

    /// A store the caller may see; others answer `NotFound` so ids cannot be probed.
    pub async fn get_store(&self, actor: &Actor, id: StoreId) -> Result<StoreRow> {
        if !actor.can(Permission::ViewOrg) || !actor.can_view_store(id) {
            return Err(AppError::NotFound { what: "store" });
        }
        store::get_store(&self.db, id.0)
            .await
            .map_err(AppError::not_found("store"))
    }

    pub async fn create_store(&self, actor: &Actor, input: &StoreInput) -> Result<StoreRow> {
        if !actor.can(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        self.check_region(input.region_id).await?;
        let id = store::create_store(&self.db, &input.fields(), self.now())
            .await
            .map_err(conflict("code", "store_code_taken"))?;
        Ok(store::get_store(&self.db, id).await?)
    }

    pub async fn update_store(
        &self,
        actor: &Actor,
        id: StoreId,
        input: &StoreInput,
    ) -> Result<StoreRow> {
        if !actor.can(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        self.check_region(input.region_id).await?;
        store::update_store(&self.db, id.0, &input.fields(), self.now())
            .await
            .map_err(conflict("code", "store_code_taken"))
            .map_err(not_found("store"))?;
        Ok(store::get_store(&self.db, id.0).await?)
    }

    async fn check_region(&self, region: Option<RegionId>) -> Result<()> {
        if let Some(r) = region {
            match store::get_region(&self.db, r.0).await {
                Ok(_) => {}
                Err(yutang_store::StoreError::NotFound) => {
                    return Err(
                        FieldError::new("region_id", "unknown_region", "no such region").into(),
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Map a store conflict to a domain conflict with its own code.
pub(crate) fn conflict(
    what: &'static str,
    code: &'static str,
) -> impl Fn(yutang_store::StoreError) -> AppError {
    move |e| match e {
        yutang_store::StoreError::Conflict { .. } => AppError::Conflict { what, code },
        other => AppError::from(other),
    }
}

pub(crate) fn not_found(what: &'static str) -> impl Fn(AppError) -> AppError {
    move |e| match e {
        AppError::NotFound { .. } => AppError::NotFound { what },
        other => other,
    }
}
