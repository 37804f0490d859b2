//! Who is calling and what they may see. Every use case receives a [`Caller`] explicitly and
//! asks these rules; queries that list rows apply [`Caller::data_scope`].

use serde::Serialize;

use crate::ids::{StaffId, StoreId, TokenId};
use crate::staff::{Permission, Role};

/// The authenticated principal behind a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Principal {
    Staff(StaffId),
    /// An integration's API token; tokens carry HQ roles only.
    Token(TokenId),
    /// The command line on the server itself (migrations, `yutang admin create`).
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub principal: Principal,
    pub role: Role,
    /// The store a store manager or guide belongs to.
    pub store_id: Option<StoreId>,
}

/// Which rows a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataScope {
    /// HQ roles: the whole brand.
    All,
    /// A store manager: their store.
    Store(StoreId),
    /// A guide: the customers they follow (and, for the org, their own store's roster).
    Own { staff: StaffId, store: StoreId },
    /// A store-bound role without a store (misconfigured account): sees nothing.
    Nothing,
}

impl Caller {
    pub fn system() -> Self {
        Self {
            principal: Principal::System,
            role: Role::Admin,
            store_id: None,
        }
    }

    pub fn staff_id(&self) -> Option<StaffId> {
        match self.principal {
            Principal::Staff(id) => Some(id),
            _ => None,
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role.has(p)
    }

    pub fn data_scope(&self) -> DataScope {
        if self.role.is_hq() {
            return DataScope::All;
        }
        match (self.role, self.store_id, self.staff_id()) {
            (Role::StoreManager, Some(store), _) => DataScope::Store(store),
            (Role::Guide, Some(store), Some(staff)) => DataScope::Own { staff, store },
            _ => DataScope::Nothing,
        }
    }

    /// The store whose rows a store-bound caller is limited to; `None` means all stores for
    /// HQ roles. A store-bound caller without a store gets `Some(None)`-like refusal via
    /// [`DataScope::Nothing`], so callers should check [`Self::data_scope`] first.
    pub fn store_filter(&self) -> Option<StoreId> {
        match self.data_scope() {
            DataScope::All | DataScope::Nothing => None,
            DataScope::Store(s) | DataScope::Own { store: s, .. } => Some(s),
        }
    }

    /// May the caller see a store (and its roster)?
    pub fn can_view_store(&self, store: StoreId) -> bool {
        match self.data_scope() {
            DataScope::All => true,
            DataScope::Store(s) | DataScope::Own { store: s, .. } => s == store,
            DataScope::Nothing => false,
        }
    }

    /// May the caller see a staff member who works in `store` (`None` = HQ staff)?
    pub fn can_view_staff(&self, staff_store: Option<StoreId>) -> bool {
        if !self.can(Permission::ViewStaff) {
            return false;
        }
        match (self.data_scope(), staff_store) {
            (DataScope::All, _) => true,
            (DataScope::Store(s) | DataScope::Own { store: s, .. }, Some(t)) => s == t,
            _ => false,
        }
    }

    /// May the caller create or edit a staff member with `role` in `store`? Admins manage
    /// everyone; a store manager only guides of their own store.
    pub fn can_manage_staff(&self, role: Role, store: Option<StoreId>) -> bool {
        if !self.can(Permission::ManageStaff) {
            return false;
        }
        match self.role {
            Role::Admin => true,
            Role::StoreManager => role == Role::Guide && store.is_some() && store == self.store_id,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, store: Option<i64>) -> Caller {
        Caller {
            principal: Principal::Staff(StaffId(7)),
            role,
            store_id: store.map(StoreId),
        }
    }

    #[test]
    fn scope_follows_role() {
        assert_eq!(caller(Role::Operator, None).data_scope(), DataScope::All);
        assert_eq!(caller(Role::Analyst, Some(3)).data_scope(), DataScope::All);
        assert_eq!(
            caller(Role::StoreManager, Some(3)).data_scope(),
            DataScope::Store(StoreId(3))
        );
        assert_eq!(
            caller(Role::Guide, Some(3)).data_scope(),
            DataScope::Own {
                staff: StaffId(7),
                store: StoreId(3)
            }
        );
        assert_eq!(caller(Role::Guide, None).data_scope(), DataScope::Nothing);
    }

    #[test]
    fn guide_sees_only_own_store_staff() {
        let g = caller(Role::Guide, Some(3));
        assert!(g.can_view_staff(Some(StoreId(3))));
        assert!(!g.can_view_staff(Some(StoreId(4))));
        assert!(!g.can_view_staff(None));
        assert!(!caller(Role::Guide, None).can_view_staff(Some(StoreId(3))));
    }

    #[test]
    fn store_manager_manages_only_own_guides() {
        let m = caller(Role::StoreManager, Some(3));
        assert!(m.can_manage_staff(Role::Guide, Some(StoreId(3))));
        assert!(!m.can_manage_staff(Role::Guide, Some(StoreId(4))));
        assert!(!m.can_manage_staff(Role::StoreManager, Some(StoreId(3))));
        assert!(!m.can_manage_staff(Role::Admin, None));
        assert!(caller(Role::Admin, None).can_manage_staff(Role::Admin, None));
        assert!(!caller(Role::Operator, None).can_manage_staff(Role::Guide, Some(StoreId(3))));
    }
}
