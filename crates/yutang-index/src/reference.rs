//! The reference evaluator: customers as plain structs, expressions checked one customer at
//! a time. Slow and obviously right; the property tests compare the index with it, and the
//! benchmark measures the index against it. Its update methods mirror [`SegmentIndex`]'s,
//! errors included.
//!
//! [`SegmentIndex`]: crate::SegmentIndex

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use roaring::RoaringBitmap;
use yutang_core::segments::{Cond, Resolved, Schema, TagId};
use yutang_core::time::Millis;

use crate::{AttrKind, AttrValue, IndexError};

/// A stored attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(Box<str>),
    Int(i64),
    Time(Millis),
    Bool(bool),
}

/// One customer: its tags (sorted, no duplicates) and attribute values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    pub tags: Vec<TagId>,
    pub attrs: Vec<(Arc<str>, Value)>,
}

impl Customer {
    fn get(&self, attr: &str) -> Option<&Value> {
        self.attrs
            .iter()
            .find(|(k, _)| &**k == attr)
            .map(|(_, v)| v)
    }

    fn int(&self, attr: &str) -> Option<i64> {
        match self.get(attr) {
            Some(Value::Int(v)) => Some(*v),
            _ => None,
        }
    }

    fn text(&self, attr: &str) -> Option<&str> {
        match self.get(attr) {
            Some(Value::Text(v)) => Some(v),
            _ => None,
        }
    }
}

/// All customers, by id.
#[derive(Debug, Clone, Default)]
pub struct Population {
    kinds: HashMap<Arc<str>, AttrKind>,
    customers: BTreeMap<u32, Customer>,
}

impl Population {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_schema(schema: &Schema) -> Self {
        let mut p = Self::new();
        for (name, ty) in schema.attrs() {
            p.kinds.insert(Arc::from(name), AttrKind::of(ty));
        }
        p
    }

    pub fn define_attr(&mut self, name: &str, kind: AttrKind) -> Result<(), IndexError> {
        match self.kinds.get(name) {
            Some(k) if *k == kind => Ok(()),
            Some(k) => Err(IndexError::WrongKind {
                attr: name.to_owned(),
                expected: *k,
                found: kind,
            }),
            None => {
                self.kinds.insert(Arc::from(name), kind);
                Ok(())
            }
        }
    }

    pub fn len(&self) -> usize {
        self.customers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    pub fn customers(&self) -> impl Iterator<Item = (u32, &Customer)> {
        self.customers.iter().map(|(k, v)| (*k, v))
    }

    pub fn add_customer(&mut self, id: u32) -> bool {
        let new = !self.customers.contains_key(&id);
        self.customers.entry(id).or_default();
        new
    }

    pub fn remove_customer(&mut self, id: u32) -> bool {
        self.customers.remove(&id).is_some()
    }

    pub fn set_tag(&mut self, id: u32, tag: TagId) -> bool {
        let c = self.customers.entry(id).or_default();
        match c.tags.binary_search(&tag) {
            Ok(_) => false,
            Err(at) => {
                c.tags.insert(at, tag);
                true
            }
        }
    }

    pub fn clear_tag(&mut self, id: u32, tag: TagId) -> bool {
        let Some(c) = self.customers.get_mut(&id) else {
            return false;
        };
        match c.tags.binary_search(&tag) {
            Ok(at) => {
                c.tags.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub fn tag_many(&mut self, tag: TagId, ids: &RoaringBitmap) {
        for id in ids {
            self.set_tag(id, tag);
        }
    }

    pub fn untag_many(&mut self, tag: TagId, ids: &RoaringBitmap) {
        for id in ids {
            self.clear_tag(id, tag);
        }
    }

    pub fn drop_tag(&mut self, tag: TagId) {
        for c in self.customers.values_mut() {
            c.tags.retain(|t| *t != tag);
        }
    }

    pub fn set_attr(
        &mut self,
        id: u32,
        attr: &str,
        value: AttrValue<'_>,
    ) -> Result<(), IndexError> {
        let (key, kind) = self
            .kinds
            .get_key_value(attr)
            .ok_or_else(|| IndexError::UnknownAttribute(attr.to_owned()))?;
        if *kind != value.kind() {
            return Err(IndexError::WrongKind {
                attr: attr.to_owned(),
                expected: *kind,
                found: value.kind(),
            });
        }
        let key = Arc::clone(key);
        let v = match value {
            AttrValue::Text(s) => Value::Text(s.into()),
            AttrValue::Int(i) => Value::Int(i),
            AttrValue::Time(t) => Value::Time(t),
            AttrValue::Bool(b) => Value::Bool(b),
        };
        let c = self.customers.entry(id).or_default();
        match c.attrs.iter_mut().find(|(k, _)| **k == *attr) {
            Some(slot) => slot.1 = v,
            None => c.attrs.push((key, v)),
        }
        Ok(())
    }

    pub fn clear_attr(&mut self, id: u32, attr: &str) -> Result<bool, IndexError> {
        let kind = *self
            .kinds
            .get(attr)
            .ok_or_else(|| IndexError::UnknownAttribute(attr.to_owned()))?;
        let Some(c) = self.customers.get_mut(&id) else {
            return Ok(false);
        };
        let before = c.attrs.len();
        let mut had_true_or_value = false;
        c.attrs.retain(|(k, v)| {
            if **k == *attr {
                had_true_or_value = kind != AttrKind::Bool || *v == Value::Bool(true);
                false
            } else {
                true
            }
        });
        Ok(before != c.attrs.len() && had_true_or_value)
    }

    /// The customers matching `expr`, by scanning every customer.
    pub fn evaluate(&self, expr: &Resolved, now: Millis) -> RoaringBitmap {
        self.customers
            .iter()
            .filter(|(_, c)| self.matches(c, expr.root(), now))
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn count(&self, expr: &Resolved, now: Millis) -> u64 {
        self.customers
            .values()
            .filter(|c| self.matches(c, expr.root(), now))
            .count() as u64
    }

    /// Whether one customer matches `cond`.
    pub fn matches(&self, c: &Customer, cond: &Cond, now: Millis) -> bool {
        match cond {
            Cond::Tag(t) => c.tags.binary_search(t).is_ok(),
            Cond::TextIn { attr, values } => {
                c.text(attr).is_some_and(|v| values.iter().any(|x| x == v))
            }
            Cond::TextNotIn { attr, values } => {
                c.text(attr).is_some_and(|v| values.iter().all(|x| x != v))
            }
            Cond::IntRange { attr, lo, hi } => c.int(attr).is_some_and(|v| *lo <= v && v <= *hi),
            Cond::IntIn { attr, values } => c.int(attr).is_some_and(|v| values.contains(&v)),
            Cond::IntNotIn { attr, values } => c.int(attr).is_some_and(|v| !values.contains(&v)),
            Cond::Time { attr, pred } => match (c.get(attr), pred.bounds(now)) {
                (Some(Value::Time(t)), Some((lo, hi))) => lo <= t.0 && t.0 <= hi,
                _ => false,
            },
            Cond::Bool { attr, value } => {
                let is_true = matches!(c.get(attr), Some(Value::Bool(true)));
                is_true == *value
            }
            Cond::Exists { attr } => match self.kinds.get(attr.as_str()) {
                Some(AttrKind::Bool) => true,
                Some(_) => c.get(attr).is_some(),
                None => false,
            },
            Cond::Not(x) => !self.matches(c, x, now),
            Cond::And(xs) => xs.iter().all(|x| self.matches(c, x, now)),
            Cond::Or(xs) => xs.iter().any(|x| self.matches(c, x, now)),
        }
    }
}
