//! Yutang's in-memory segment engine: customers as dense `u32` ids, every tag and every
//! attribute value as a roaring bitmap, so a segment's count is a handful of bitmap
//! operations instead of a scan.
//!
//! - **Tags**: one bitmap per tag.
//! - **Text and enum attributes** (city, member level): one bitmap per distinct value, plus
//!   the bitmap of customers that have a value.
//! - **Integer, money and time attributes**: a bit-sliced index per attribute (one bitmap per
//!   bit of `value - min`); a range costs one pass over the slices, on bitmaps that shrink as
//!   the pass goes, and starts from the customers still in play in an `and`.
//! - **Yes/no attributes**: the bitmap of customers for whom it is true.
//! - **`alive`**: every customer; `not` is the complement within it.
//! - **Word copies of the dense sets** (tags, text values and yes/no sets holding at least
//!   1/16 of everyone at build time), so an `and` that opens with several of them is one
//!   pass over plain words instead of pairwise roaring intersections (module `dense`).
//!
//! The index holds no clock: [`SegmentIndex::evaluate`] takes "now" for relative time
//! predicates (`last_order within 30d`). It does no I/O either: the application builds it at
//! start from the database with an [`IndexBuilder`] and applies every committed change with
//! the update methods.
//!
//! The semantics are those documented on [`yutang_core::segments::Resolved`]; the
//! [`reference`](mod@reference) module implements them the slow, obvious way, and the
//! property tests check that both agree.

mod bsi;
mod builder;
mod dense;
mod index;
pub mod reference;
mod sink;
mod words;

#[cfg(test)]
mod tests;

use std::fmt;

use yutang_core::segments::AttrType;
use yutang_core::time::Millis;

pub use builder::{IndexBuilder, Row};
pub use index::{MemoryUsage, SegmentIndex};

/// How the index stores an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrKind {
    /// Text and enum attributes: a bitmap per value.
    Text,
    /// Integer and money attributes: a bit-sliced index.
    Int,
    /// Time attributes (epoch milliseconds): a bit-sliced index.
    Time,
    /// Yes/no attributes: the bitmap of `true`.
    Bool,
}

impl AttrKind {
    /// The storage for a schema type.
    pub fn of(ty: &AttrType) -> AttrKind {
        match ty {
            AttrType::Text | AttrType::Enum(_) => AttrKind::Text,
            AttrType::Int | AttrType::Money => AttrKind::Int,
            AttrType::Time => AttrKind::Time,
            AttrType::Bool => AttrKind::Bool,
        }
    }
}

impl fmt::Display for AttrKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttrKind::Text => "text",
            AttrKind::Int => "integer",
            AttrKind::Time => "time",
            AttrKind::Bool => "yes/no",
        })
    }
}

/// A value to store for one customer's attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrValue<'a> {
    Text(&'a str),
    Int(i64),
    Time(Millis),
    Bool(bool),
}

impl AttrValue<'_> {
    pub fn kind(&self) -> AttrKind {
        match self {
            AttrValue::Text(_) => AttrKind::Text,
            AttrValue::Int(_) => AttrKind::Int,
            AttrValue::Time(_) => AttrKind::Time,
            AttrValue::Bool(_) => AttrKind::Bool,
        }
    }
}

/// An update the index refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("attribute `{0}` is not defined in the index")]
    UnknownAttribute(String),
    #[error("attribute `{attr}` holds {expected} values, not {found}")]
    WrongKind {
        attr: String,
        expected: AttrKind,
        found: AttrKind,
    },
}
