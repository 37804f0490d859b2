//! Saved filters of the console's lists (客户列表的常用筛选): a staff member names the filters
//! they keep applying and opens them again in one click. Each person sees only their own; a
//! saved filter is a query string the list parses again on every use, so it cannot widen
//! anyone's data scope.

/// The row this area hands to its callers (a read model; defined by the store).
pub use yutang_store::saved_filters::SavedFilterRow;

use yutang_core::FieldError;
use yutang_core::staff::DisplayName;
use yutang_store::saved_filters as store;

use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Filters one person may keep per list page.
pub const MAX_PER_PAGE: i64 = 20;

/// The longest query string kept (the customer list's filters fit in far less).
const MAX_QUERY: usize = 1000;

/// The list pages that have saved filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListPage {
    Customers,
}

impl ListPage {
    fn as_str(self) -> &'static str {
        match self {
            ListPage::Customers => "customers",
        }
    }
}

/// The saved-filter use cases.
#[derive(Clone, Copy)]
pub struct SavedFilters<'a>(&'a App);

impl App {
    /// The use cases of [`SavedFilters`].
    pub fn saved_filters(&self) -> SavedFilters<'_> {
        SavedFilters(self)
    }
}

/// Only a signed-in person has saved filters (an API token has no console).
fn owner(actor: &Actor) -> Result<i64> {
    actor.staff_id().map(|s| s.0).ok_or(AppError::Forbidden)
}

impl SavedFilters<'_> {
    pub async fn list(&self, actor: &Actor, page: ListPage) -> Result<Vec<SavedFilterRow>> {
        Ok(store::list(&self.0.db, owner(actor)?, page.as_str()).await?)
    }

    /// Save `query` (the list's query string, as the list page builds it) under `name`; the
    /// same name again replaces it. Returns the filter's id.
    pub async fn save(
        &self,
        actor: &Actor,
        page: ListPage,
        name: &str,
        query: &str,
    ) -> Result<i64> {
        let staff = owner(actor)?;
        let name = DisplayName::parse("name", name)?;
        if query.len() > MAX_QUERY || query.chars().any(char::is_control) {
            return Err(FieldError::new("query", "invalid_text", "the filter is too long").into());
        }
        store::save(
            &self.0.db,
            staff,
            page.as_str(),
            name.as_str(),
            query,
            MAX_PER_PAGE,
            self.0.now(),
        )
        .await
        .map_err(|e| match e {
            yutang_store::StoreError::Conflict { .. } => AppError::Rule {
                code: "saved_filters_full",
                message: format!("keep at most {MAX_PER_PAGE} saved filters; delete one first"),
            },
            other => other.into(),
        })
    }

    pub async fn delete(&self, actor: &Actor, id: i64) -> Result<()> {
        store::delete(&self.0.db, owner(actor)?, id)
            .await
            .map_err(AppError::not_found("saved_filter"))
    }
}
