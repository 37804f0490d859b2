//! Which staff-owned rows a caller sees — guide tasks, churn alerts, ratings: rows that belong
//! to a guide and to the guide's store when the row was made. Headquarters sees every row, a
//! store manager their store's, a guide their own; a store-bound account without a store sees
//! nothing (403). The modules add their own rules on top (a guide sees only the
//! `customer_deleted` churn alerts about them).

use yutang_core::access::DataScope;

use crate::Actor;
use crate::error::{AppError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaffScope {
    All,
    Store(i64),
    Guide(i64),
}

impl StaffScope {
    /// The caller's scope, from their data scope.
    pub(crate) fn of(actor: &Actor) -> Result<Self> {
        match actor.caller.data_scope() {
            DataScope::All => Ok(Self::All),
            DataScope::Store(s) => Ok(Self::Store(s.0)),
            DataScope::Own { staff, .. } => Ok(Self::Guide(staff.0)),
            DataScope::Nothing => Err(AppError::Forbidden),
        }
    }

    /// Whether a row of guide `staff_id`, made in store `store_id`, is in scope.
    pub(crate) fn covers(self, staff_id: i64, store_id: Option<i64>) -> bool {
        match self {
            Self::All => true,
            Self::Store(s) => store_id == Some(s),
            Self::Guide(g) => staff_id == g,
        }
    }

    /// The guide the scope is limited to.
    pub(crate) fn staff(self) -> Option<i64> {
        match self {
            Self::Guide(g) => Some(g),
            _ => None,
        }
    }

    /// The store the scope is limited to.
    pub(crate) fn store(self) -> Option<i64> {
        match self {
            Self::Store(s) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StaffScope;

    #[test]
    fn each_scope_covers_its_rows() {
        assert!(StaffScope::All.covers(7, None));
        assert!(StaffScope::Store(2).covers(7, Some(2)));
        assert!(!StaffScope::Store(2).covers(7, Some(3)) && !StaffScope::Store(2).covers(7, None));
        assert!(StaffScope::Guide(7).covers(7, Some(3)));
        assert!(!StaffScope::Guide(7).covers(8, Some(3)));
        assert_eq!(StaffScope::Guide(7).staff(), Some(7));
        assert_eq!(StaffScope::Store(2).store(), Some(2));
        assert_eq!(
            (StaffScope::All.staff(), StaffScope::All.store()),
            (None, None)
        );
    }
}
