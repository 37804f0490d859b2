//! Typed ids. Every id is an `i64` in storage (portable across SQLite and PostgreSQL); the
//! newtypes keep a `StoreId` from being passed where a `StaffId` is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                Self(v)
            }
        }
    };
}

id_type!(
    /// A member of the brand's staff (HQ operator, store manager, guide …).
    StaffId
);
id_type!(
    /// A physical or virtual store.
    StoreId
);
id_type!(
    /// A region grouping stores.
    RegionId
);
id_type!(
    /// An API token for integrations.
    TokenId
);
id_type!(
    /// A customer of the brand. Dense ids (the segment index keeps bitmaps of them).
    CustomerId
);
id_type!(
    /// An order.
    OrderId
);
id_type!(
    /// An operator-defined custom attribute.
    AttributeId
);
