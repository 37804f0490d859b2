//! The index itself: storage, updates and evaluation.

use std::collections::HashMap;

use roaring::{MultiOps, RoaringBitmap};
use yutang_core::segments::{Cond, Resolved, Schema, TagId};
use yutang_core::time::Millis;

use crate::bsi::Bsi;
use crate::dense::{self, Derived};
use crate::words::Bits;
use crate::{AttrKind, AttrValue, IndexError};

/// A text/enum attribute: a bitmap per distinct value.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TextColumn {
    pub(crate) by_value: HashMap<String, RoaringBitmap>,
    pub(crate) exists: RoaringBitmap,
    /// Word copies of the dense values' sets (see `dense`).
    pub(crate) words: Derived<HashMap<String, Bits>>,
}

impl TextColumn {
    fn set(&mut self, id: u32, v: &str) {
        if self.exists.contains(id) {
            if self.by_value.get(v).is_some_and(|b| b.contains(id)) {
                return;
            }
            self.remove_from_values(id);
        }
        match self.by_value.get_mut(v) {
            Some(b) => {
                b.insert(id);
                if let Some(w) = self.words.0.get_mut(v) {
                    w.set(id, true);
                }
            }
            None => {
                let mut b = RoaringBitmap::new();
                b.insert(id);
                self.by_value.insert(v.to_owned(), b);
            }
        }
        self.exists.insert(id);
    }

    fn remove(&mut self, id: u32) -> bool {
        if !self.exists.remove(id) {
            return false;
        }
        self.remove_from_values(id);
        true
    }

    /// O(number of distinct values): fine for cities and levels.
    fn remove_from_values(&mut self, id: u32) {
        let mut emptied = None;
        for (value, b) in &mut self.by_value {
            if b.remove(id) {
                if let Some(w) = self.words.0.get_mut(value) {
                    w.set(id, false);
                }
                if b.is_empty() {
                    emptied = Some(value.clone());
                }
                break;
            }
        }
        if let Some(v) = emptied {
            self.by_value.remove(&v);
            self.words.0.remove(&v);
        }
    }

    /// Customers (within `f`) whose value is one of `values`.
    /// One union of the (disjoint) value sets, then one intersection: two passes over
    /// the data instead of two per value.
    fn any_of(&self, values: &[String], f: &RoaringBitmap) -> RoaringBitmap {
        let parts: Vec<&RoaringBitmap> =
            values.iter().filter_map(|v| self.by_value.get(v)).collect();
        match parts.as_slice() {
            [] => RoaringBitmap::new(),
            [one] => *one & f,
            many => many.iter().copied().union() & f,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Column {
    Text(TextColumn),
    Int(Bsi),
    Time(Bsi),
    /// The customers for whom it is true, and its word copy when dense.
    Bool(RoaringBitmap, Derived<Option<Bits>>),
}

impl Column {
    pub(crate) fn new(kind: AttrKind) -> Column {
        match kind {
            AttrKind::Text => Column::Text(TextColumn::default()),
            AttrKind::Int => Column::Int(Bsi::default()),
            AttrKind::Time => Column::Time(Bsi::default()),
            AttrKind::Bool => Column::Bool(RoaringBitmap::new(), Derived(None)),
        }
    }

    pub(crate) fn kind(&self) -> AttrKind {
        match self {
            Column::Text(_) => AttrKind::Text,
            Column::Int(_) => AttrKind::Int,
            Column::Time(_) => AttrKind::Time,
            Column::Bool(..) => AttrKind::Bool,
        }
    }

    fn remove(&mut self, id: u32) -> bool {
        match self {
            Column::Text(t) => t.remove(id),
            Column::Int(b) | Column::Time(b) => b.remove(id),
            Column::Bool(b, w) => {
                let had = b.remove(id);
                if had && let Some(w) = &mut w.0 {
                    w.set(id, false);
                }
                had
            }
        }
    }
}

/// Bytes held by the index's bitmaps, by kind of data; see [`SegmentIndex::memory`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    pub alive: usize,
    pub tags: usize,
    pub text: usize,
    pub numeric: usize,
    pub time: usize,
    pub bool: usize,
    /// The word copies of dense tags, text values and yes/no sets (see `dense`).
    pub dense: usize,
}

impl MemoryUsage {
    pub fn total(&self) -> usize {
        self.alive + self.tags + self.text + self.numeric + self.time + self.bool + self.dense
    }
}

/// A stored set and, when it is dense, its word copy (see `dense`).
#[derive(Clone, Copy)]
struct Stored<'a> {
    set: &'a RoaringBitmap,
    words: Option<&'a Bits>,
}

/// The in-memory segment index over dense `u32` customer ids.
///
/// Every set of customers it holds is a subset of [`alive`](SegmentIndex::alive): setting a
/// tag or an attribute adds the customer, removing the customer clears everything about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentIndex {
    pub(crate) alive: RoaringBitmap,
    pub(crate) tags: HashMap<TagId, RoaringBitmap>,
    /// Word copies of the dense tags (see `dense`).
    pub(crate) tag_words: Derived<HashMap<TagId, Bits>>,
    pub(crate) columns: HashMap<String, Column>,
}

impl SegmentIndex {
    /// An empty index with no attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty index with a column for each attribute of `schema`.
    pub fn from_schema(schema: &Schema) -> Self {
        let mut index = Self::new();
        for (name, ty) in schema.attrs() {
            index
                .columns
                .insert(name.to_owned(), Column::new(AttrKind::of(ty)));
        }
        index
    }

    /// A builder for loading many customers at once.
    pub fn builder() -> crate::IndexBuilder {
        crate::IndexBuilder::new()
    }

    /// Define an attribute column. Defining it again with the same kind is a no-op.
    pub fn define_attr(&mut self, name: &str, kind: AttrKind) -> Result<(), IndexError> {
        match self.columns.get(name) {
            Some(c) if c.kind() == kind => Ok(()),
            Some(c) => Err(IndexError::WrongKind {
                attr: name.to_owned(),
                expected: c.kind(),
                found: kind,
            }),
            None => {
                self.columns.insert(name.to_owned(), Column::new(kind));
                Ok(())
            }
        }
    }

    /// The kind of a defined attribute.
    pub fn attr_kind(&self, name: &str) -> Option<AttrKind> {
        self.columns.get(name).map(Column::kind)
    }

    // -------------------------------------------------------------------------------
    // Customers and tags

    /// Every customer in the index.
    pub fn alive(&self) -> &RoaringBitmap {
        &self.alive
    }

    pub fn customer_count(&self) -> u64 {
        self.alive.len()
    }

    pub fn contains_customer(&self, id: u32) -> bool {
        self.alive.contains(id)
    }

    /// Add a customer with no tags or attributes. Returns whether it was new.
    pub fn add_customer(&mut self, id: u32) -> bool {
        self.alive.insert(id)
    }

    /// Remove a customer and everything about it. Returns whether it was present.
    pub fn remove_customer(&mut self, id: u32) -> bool {
        if !self.alive.remove(id) {
            return false;
        }
        let words = &mut self.tag_words.0;
        self.tags.retain(|t, b| {
            if b.remove(id)
                && let Some(w) = words.get_mut(t)
            {
                w.set(id, false);
            }
            if b.is_empty() {
                words.remove(t);
            }
            !b.is_empty()
        });
        for c in self.columns.values_mut() {
            c.remove(id);
        }
        true
    }

    /// Tag a customer (adding the customer if new). Returns whether the tag was new.
    pub fn set_tag(&mut self, id: u32, tag: TagId) -> bool {
        self.alive.insert(id);
        let new = self.tags.entry(tag).or_default().insert(id);
        if new && let Some(w) = self.tag_words.0.get_mut(&tag) {
            w.set(id, true);
        }
        new
    }

    /// Untag a customer. Returns whether it had the tag.
    pub fn clear_tag(&mut self, id: u32, tag: TagId) -> bool {
        let Some(b) = self.tags.get_mut(&tag) else {
            return false;
        };
        let had = b.remove(id);
        if b.is_empty() {
            self.tags.remove(&tag);
            self.tag_words.0.remove(&tag);
        } else if had && let Some(w) = self.tag_words.0.get_mut(&tag) {
            w.set(id, false);
        }
        had
    }

    /// Tag many customers at once (bulk tagging a segment); they are added if new.
    pub fn tag_many(&mut self, tag: TagId, ids: &RoaringBitmap) {
        if ids.is_empty() {
            return;
        }
        self.alive |= ids;
        *self.tags.entry(tag).or_default() |= ids;
        if let Some(w) = self.tag_words.0.get_mut(&tag) {
            for id in ids {
                w.set(id, true);
            }
        }
    }

    /// Untag many customers at once.
    pub fn untag_many(&mut self, tag: TagId, ids: &RoaringBitmap) {
        if let Some(b) = self.tags.get_mut(&tag) {
            *b -= ids;
            if b.is_empty() {
                self.tags.remove(&tag);
                self.tag_words.0.remove(&tag);
            } else if let Some(w) = self.tag_words.0.get_mut(&tag) {
                for id in ids {
                    w.set(id, false);
                }
            }
        }
    }

    /// Forget a tag entirely (the tag was deleted). Returns its former members.
    pub fn drop_tag(&mut self, tag: TagId) -> Option<RoaringBitmap> {
        self.tag_words.0.remove(&tag);
        self.tags.remove(&tag)
    }

    /// Make the word copies anew: one for every tag, text value and yes/no set that holds
    /// at least 1/16 of everyone, none for the others (see `dense`). Called when the index
    /// is built; updates keep the copies in step until the next build.
    pub(crate) fn refresh_dense(&mut self) {
        self.refresh_dense_from(dense::min_dense_len(self.alive.len()));
    }

    /// [`refresh_dense`](Self::refresh_dense) with copies for the sets of at least `min_len`
    /// customers (tests mix dense and sparse sets with it).
    pub(crate) fn refresh_dense_from(&mut self, min_len: u64) {
        let dense = |b: &RoaringBitmap| !b.is_empty() && b.len() >= min_len;
        self.tag_words.0 = self
            .tags
            .iter()
            .filter(|(_, b)| dense(b))
            .map(|(t, b)| (*t, dense::words_of(b)))
            .collect();
        for c in self.columns.values_mut() {
            match c {
                Column::Text(t) => {
                    t.words.0 = t
                        .by_value
                        .iter()
                        .filter(|(_, b)| dense(b))
                        .map(|(v, b)| (v.clone(), dense::words_of(b)))
                        .collect();
                }
                Column::Bool(b, w) => w.0 = dense(b).then(|| dense::words_of(b)),
                Column::Int(_) | Column::Time(_) => {}
            }
        }
    }

    /// The customers with `tag`, if any has it.
    pub fn tag_members(&self, tag: TagId) -> Option<&RoaringBitmap> {
        self.tags.get(&tag)
    }

    // -------------------------------------------------------------------------------
    // Attributes

    /// Set one customer's attribute (adding the customer if new), replacing any old value.
    pub fn set_attr(
        &mut self,
        id: u32,
        attr: &str,
        value: AttrValue<'_>,
    ) -> Result<(), IndexError> {
        let column = self
            .columns
            .get_mut(attr)
            .ok_or_else(|| IndexError::UnknownAttribute(attr.to_owned()))?;
        match (column, value) {
            (Column::Text(t), AttrValue::Text(v)) => t.set(id, v),
            (Column::Int(b), AttrValue::Int(v)) => b.set(id, v),
            (Column::Time(b), AttrValue::Time(v)) => b.set(id, v.0),
            (Column::Bool(b, w), AttrValue::Bool(v)) => {
                let changed = if v { b.insert(id) } else { b.remove(id) };
                if changed && let Some(w) = &mut w.0 {
                    w.set(id, v);
                }
            }
            (c, v) => {
                return Err(IndexError::WrongKind {
                    attr: attr.to_owned(),
                    expected: c.kind(),
                    found: v.kind(),
                });
            }
        }
        self.alive.insert(id);
        Ok(())
    }

    /// Clear one customer's attribute (a yes/no attribute becomes false). Returns whether it
    /// had a value.
    pub fn clear_attr(&mut self, id: u32, attr: &str) -> Result<bool, IndexError> {
        let column = self
            .columns
            .get_mut(attr)
            .ok_or_else(|| IndexError::UnknownAttribute(attr.to_owned()))?;
        Ok(column.remove(id))
    }

    // -------------------------------------------------------------------------------
    // Evaluation

    /// The customers matching `expr`, with relative time predicates measured from `now`.
    pub fn evaluate(&self, expr: &Resolved, now: Millis) -> RoaringBitmap {
        self.eval_in(expr.root(), &self.alive, now)
    }

    /// The customers within `scope` matching `expr` (a guide's own customers, say). Cheaper
    /// than evaluating and intersecting: every step works inside the scope.
    pub fn evaluate_within(
        &self,
        expr: &Resolved,
        now: Millis,
        scope: &RoaringBitmap,
    ) -> RoaringBitmap {
        let scope = scope & &self.alive;
        self.eval_in(expr.root(), &scope, now)
    }

    /// How many customers match `expr`.
    pub fn count(&self, expr: &Resolved, now: Millis) -> u64 {
        self.evaluate(expr, now).len()
    }

    fn column(&self, attr: &str) -> Option<&Column> {
        self.columns.get(attr)
    }

    fn bool_true(&self, attr: &str) -> Option<&RoaringBitmap> {
        match self.column(attr) {
            Some(Column::Bool(b, _)) => Some(b),
            _ => None,
        }
    }

    /// The stored sets whose union is `c`, when `c` is a tag, a text `in` list, `x = yes`, or
    /// an `or` of those; `None` for anything that needs computing.
    fn plain_set(&self, c: &Cond) -> Option<Vec<Stored<'_>>> {
        match c {
            Cond::Or(cs) => {
                let mut all = Vec::new();
                for x in cs {
                    all.extend(self.plain_set(x)?);
                }
                Some(all)
            }
            Cond::Tag(t) => Some(
                self.tags
                    .get(t)
                    .map(|set| Stored {
                        set,
                        words: self.tag_words.0.get(t),
                    })
                    .into_iter()
                    .collect(),
            ),
            Cond::TextIn { attr, values } => match self.column(attr) {
                Some(Column::Text(t)) => Some(
                    values
                        .iter()
                        .filter_map(|v| {
                            t.by_value.get(v).map(|set| Stored {
                                set,
                                words: t.words.0.get(v),
                            })
                        })
                        .collect(),
                ),
                _ => Some(Vec::new()),
            },
            Cond::Bool { attr, value: true } => match self.column(attr) {
                Some(Column::Bool(set, w)) => Some(vec![Stored {
                    set,
                    words: w.0.as_ref(),
                }]),
                _ => Some(Vec::new()),
            },
            _ => None,
        }
    }

    /// The word copies whose union is `c` (the sets `plain_set` gives), when every one of
    /// them has a copy.
    fn dense_parts(&self, c: &Cond) -> Option<Vec<&Bits>> {
        self.plain_set(c)?.into_iter().map(|s| s.words).collect()
    }

    /// The opening of an `and` over everyone in words (see `dense`): when the planned first
    /// step is a dense stored set, every stored set and early `not` of stored sets that has
    /// word copies is intersected at once. `None` when that does not apply (a scope or an
    /// `and` inside a narrower filter, a sparse first set, fewer than two steps to merge);
    /// otherwise the result and which of `order`'s steps it took.
    fn dense_opening(
        &self,
        order: &[(&Cond, (u8, u64))],
        f: &RoaringBitmap,
    ) -> Option<(RoaringBitmap, Vec<bool>)> {
        if !std::ptr::eq(f, &self.alive) {
            return None;
        }
        let (first, (class, _)) = order.first()?;
        if *class != 0 {
            return None;
        }
        self.dense_parts(first)?;
        let mut all = Vec::new();
        let mut none = Vec::new();
        let mut used = vec![false; order.len()];
        for ((c, (class, _)), taken) in order.iter().zip(used.iter_mut()) {
            match (class, c) {
                (0, _) => {
                    if let Some(parts) = self.dense_parts(c) {
                        all.push(parts);
                        *taken = true;
                    }
                }
                (1, Cond::Not(x)) => {
                    if let Some(parts) = self.dense_parts(x) {
                        none.extend(parts);
                        *taken = true;
                    }
                }
                _ => break,
            }
        }
        if all.len() + usize::from(!none.is_empty()) < 2 {
            return None;
        }
        Some((dense::intersect(&all, &none), used))
    }

    /// `b ∩ f` for an owned `b ⊆ alive`: no work when `f` is everyone.
    fn within(&self, mut b: RoaringBitmap, f: &RoaringBitmap) -> RoaringBitmap {
        if !std::ptr::eq(f, &self.alive) {
            b &= f;
        }
        b
    }

    /// `b ∩ f` for a stored `b ⊆ alive` (every stored set is): a copy when `f` is everyone.
    fn within_ref(&self, b: &RoaringBitmap, f: &RoaringBitmap) -> RoaringBitmap {
        if std::ptr::eq(f, &self.alive) {
            b.clone()
        } else {
            b & f
        }
    }

    /// A rough size of `c`'s result, to intersect the most selective conditions first, and a
    /// class that puts cheap bitmap lookups before range queries and negations: 0 stored
    /// sets, 1 the `not` of stored sets, 2 computed `and`/`or`, 3 ranges, 4 other `not`s.
    fn plan_key(&self, c: &Cond) -> (u8, u64) {
        let len = |b: Option<&RoaringBitmap>| b.map_or(0, RoaringBitmap::len);
        match c {
            Cond::Tag(t) => (0, len(self.tags.get(t))),
            Cond::TextIn { attr, values } => match self.column(attr) {
                Some(Column::Text(t)) => (0, values.iter().map(|v| len(t.by_value.get(v))).sum()),
                _ => (0, 0),
            },
            Cond::Bool { attr, value: true } => (0, len(self.bool_true(attr))),
            Cond::Bool { attr, value: false } => (
                0,
                self.alive.len().saturating_sub(len(self.bool_true(attr))),
            ),
            Cond::Exists { attr } => match self.column(attr) {
                Some(Column::Text(t)) => (0, t.exists.len()),
                Some(Column::Int(b) | Column::Time(b)) => (0, b.exists().len()),
                Some(Column::Bool(..)) => (0, self.alive.len()),
                None => (0, 0),
            },
            // An `or` of stored sets is itself one cheap set: size at most the sum of its parts.
            Cond::Or(_) => match self.plain_set(c) {
                Some(sets) => (0, sets.iter().map(|s| s.set.len()).sum()),
                None => (2, 0),
            },
            Cond::And(_) => (2, 0),
            Cond::TextNotIn { .. }
            | Cond::IntRange { .. }
            | Cond::IntIn { .. }
            | Cond::IntNotIn { .. }
            | Cond::Time { .. } => (3, 0),
            // `not tag(…)` is one difference inside the filter, cheap whatever its size; when
            // it leaves at most half of everyone it runs right after the stored sets, so the
            // ranges after it walk fewer customers (at 10M, E4's `… and not tag("标签/t6") and
            // orders_90d = 0 …` walks 5,355 customers instead of 34,638).
            Cond::Not(x) => match self.plain_set(x) {
                Some(sets) => {
                    let largest = sets.iter().map(|s| s.set.len()).max().unwrap_or(0);
                    let rest = self.alive.len().saturating_sub(largest);
                    if rest.saturating_mul(2) <= self.alive.len() {
                        (1, rest)
                    } else {
                        (4, 0)
                    }
                }
                None => (4, 0),
            },
        }
    }

    /// `c ∩ f`, for `f ⊆ alive`. Recursion is bounded by `Resolved`'s depth limit.
    fn eval_in(&self, c: &Cond, f: &RoaringBitmap, now: Millis) -> RoaringBitmap {
        if let Some(sets) = self.plain_set(c) {
            // Stored sets (an `or` of tags, a text `in` list): one union, then one intersection
            // with the filter, instead of one intersection per part.
            return match sets.as_slice() {
                [] => RoaringBitmap::new(),
                [one] => self.within_ref(one.set, f),
                many => self.within(many.iter().map(|s| s.set).union(), f),
            };
        }
        match c {
            // Always stored sets: answered above.
            Cond::Tag(_) | Cond::TextIn { .. } => RoaringBitmap::new(),
            Cond::TextNotIn { attr, values } => match self.column(attr) {
                Some(Column::Text(t)) => {
                    let mut has = &t.exists & f;
                    has -= t.any_of(values, f);
                    has
                }
                _ => RoaringBitmap::new(),
            },
            Cond::IntRange { attr, lo, hi } => match self.column(attr) {
                Some(Column::Int(b)) => b.range(*lo, *hi, Some(f)),
                _ => RoaringBitmap::new(),
            },
            Cond::IntIn { attr, values } => match self.column(attr) {
                Some(Column::Int(b)) => b.any_of(values, Some(f)),
                _ => RoaringBitmap::new(),
            },
            Cond::IntNotIn { attr, values } => match self.column(attr) {
                Some(Column::Int(b)) => {
                    let mut has = b.exists() & f;
                    has -= b.any_of(values, Some(&has));
                    has
                }
                _ => RoaringBitmap::new(),
            },
            Cond::Time { attr, pred } => match (self.column(attr), pred.bounds(now)) {
                (Some(Column::Time(b)), Some((lo, hi))) => b.range(lo, hi, Some(f)),
                _ => RoaringBitmap::new(),
            },
            Cond::Bool { attr, value } => match (self.bool_true(attr), value) {
                (Some(b), true) => b & f,
                (None, true) => RoaringBitmap::new(),
                (Some(b), false) => f - b,
                (None, false) => f.clone(),
            },
            Cond::Exists { attr } => match self.column(attr) {
                Some(Column::Text(t)) => &t.exists & f,
                Some(Column::Int(b) | Column::Time(b)) => b.exists() & f,
                Some(Column::Bool(..)) => f.clone(),
                None => RoaringBitmap::new(),
            },
            Cond::Not(x) => f - &self.eval_in(x, f, now),
            Cond::Or(cs) => cs
                .iter()
                .map(|x| self.eval_in(x, f, now))
                .collect::<Vec<_>>()
                .union(),
            Cond::And(cs) => {
                let mut order: Vec<(&Cond, (u8, u64))> =
                    cs.iter().map(|x| (x, self.plan_key(x))).collect();
                // Without a stored set to start from, a `not` would be the first step: a
                // difference over everyone, and then the ranges walk most of the population
                // (measured slower at 10M than starting with a range), so it goes last.
                if !order.iter().any(|(_, k)| k.0 == 0) {
                    for (_, k) in &mut order {
                        if k.0 == 1 {
                            *k = (4, 0);
                        }
                    }
                }
                order.sort_by_key(|(_, k)| *k);
                let (mut acc, used) = match self.dense_opening(&order, f) {
                    Some(opening) => opening,
                    None => {
                        let Some((first, _)) = order.first() else {
                            return f.clone();
                        };
                        let mut used = vec![false; order.len()];
                        if let Some(u) = used.first_mut() {
                            *u = true;
                        }
                        (self.eval_in(first, f, now), used)
                    }
                };
                for ((x, _), taken) in order.iter().zip(used) {
                    if taken {
                        continue;
                    }
                    if acc.is_empty() {
                        break;
                    }
                    acc = match x {
                        Cond::Not(inner) => {
                            let drop = self.eval_in(inner, &acc, now);
                            acc - drop
                        }
                        _ => self.eval_in(x, &acc, now),
                    };
                }
                acc
            }
        }
    }

    // -------------------------------------------------------------------------------
    // Memory

    /// What the index's bitmaps take, measured as roaring's serialized size of each bitmap
    /// (which tracks the in-memory container payload: 2 bytes per id in sparse containers,
    /// 8 KiB per dense 65,536-id block, plus a few bytes of header per container), plus the
    /// bit-sliced columns' word pages (8 KiB each) and page tables, plus the bytes of
    /// attribute names and text values and 16 bytes per bitmap for its handle.
    /// It does not count hash-table and vector slack or allocator overhead.
    pub fn memory(&self) -> MemoryUsage {
        fn bm(b: &RoaringBitmap) -> usize {
            b.serialized_size() + 16
        }
        let mut m = MemoryUsage {
            alive: bm(&self.alive),
            tags: self
                .tags
                .values()
                .map(|b| bm(b) + std::mem::size_of::<TagId>())
                .sum(),
            ..MemoryUsage::default()
        };
        for (name, c) in &self.columns {
            match c {
                Column::Text(t) => {
                    m.text += name.len()
                        + bm(&t.exists)
                        + t.by_value
                            .iter()
                            .map(|(v, b)| v.len() + bm(b))
                            .sum::<usize>();
                    m.dense += t.words.0.values().map(Bits::bytes).sum::<usize>();
                }
                Column::Int(b) => m.numeric += name.len() + bm(b.exists()) + b.word_bytes(),
                Column::Time(b) => m.time += name.len() + bm(b.exists()) + b.word_bytes(),
                Column::Bool(b, w) => {
                    m.bool += name.len() + bm(b);
                    m.dense += w.0.as_ref().map_or(0, Bits::bytes);
                }
            }
        }
        m.dense += self.tag_words.0.values().map(Bits::bytes).sum::<usize>();
        m
    }

    /// [`memory`](SegmentIndex::memory)'s total, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory().total()
    }
}
