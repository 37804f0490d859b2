//! Bulk loading: collect rows, then build every bitmap in one sorted pass.

use std::collections::HashMap;

use yutang_core::segments::{Schema, TagId};

use crate::bsi::Bsi;
use crate::dense::Derived;
use crate::index::{Column, SegmentIndex, TextColumn};
use crate::sink::Sink;
use crate::{AttrKind, AttrValue, IndexError};

/// One customer's data for [`IndexBuilder::add_row`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub id: u32,
    pub tags: &'a [TagId],
    pub attrs: &'a [(&'a str, AttrValue<'a>)],
}

enum Pending {
    Text {
        values: HashMap<String, u32>,
        rows: Vec<(u32, u32)>,
    },
    Int(Vec<(u32, i64)>),
    Time(Vec<(u32, i64)>),
    Bool(Vec<(u32, bool)>),
}

impl Pending {
    fn kind(&self) -> AttrKind {
        match self {
            Pending::Text { .. } => AttrKind::Text,
            Pending::Int(_) => AttrKind::Int,
            Pending::Time(_) => AttrKind::Time,
            Pending::Bool(_) => AttrKind::Bool,
        }
    }
}

/// Builds a [`SegmentIndex`] from a stream of customers, in any id order.
///
/// Tags go straight into their bitmaps; attribute values are collected and sorted by id at
/// [`build`](IndexBuilder::build), which then appends to each bitmap in id order. When the
/// same customer's attribute is given twice, the last value wins, as with
/// [`SegmentIndex::set_attr`]. Temporary memory: 8 bytes per text value and 16 per
/// number, time or yes/no value until `build`.
#[derive(Default)]
pub struct IndexBuilder {
    alive: Sink,
    last_alive: Option<u32>,
    tags: HashMap<TagId, Sink>,
    columns: HashMap<String, Pending>,
}

impl IndexBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with a column for each attribute of `schema`.
    pub fn from_schema(schema: &Schema) -> Self {
        let mut b = Self::new();
        for (name, ty) in schema.attrs() {
            b.columns
                .insert(name.to_owned(), Self::pending(AttrKind::of(ty)));
        }
        b
    }

    fn pending(kind: AttrKind) -> Pending {
        match kind {
            AttrKind::Text => Pending::Text {
                values: HashMap::new(),
                rows: Vec::new(),
            },
            AttrKind::Int => Pending::Int(Vec::new()),
            AttrKind::Time => Pending::Time(Vec::new()),
            AttrKind::Bool => Pending::Bool(Vec::new()),
        }
    }

    /// Define an attribute column; the same kind again is a no-op.
    pub fn define_attr(&mut self, name: &str, kind: AttrKind) -> Result<(), IndexError> {
        match self.columns.get(name) {
            Some(p) if p.kind() == kind => Ok(()),
            Some(p) => Err(IndexError::WrongKind {
                attr: name.to_owned(),
                expected: p.kind(),
                found: kind,
            }),
            None => {
                self.columns.insert(name.to_owned(), Self::pending(kind));
                Ok(())
            }
        }
    }

    pub fn add_customer(&mut self, id: u32) {
        if self.last_alive != Some(id) {
            self.alive.add(id);
            self.last_alive = Some(id);
        }
    }

    pub fn add_tag(&mut self, id: u32, tag: TagId) {
        self.add_customer(id);
        self.tags.entry(tag).or_default().add(id);
    }

    pub fn add_attr(
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
            (Pending::Text { values, rows }, AttrValue::Text(v)) => {
                let next = u32::try_from(values.len()).unwrap_or(u32::MAX);
                let vid = match values.get(v) {
                    Some(vid) => *vid,
                    None => {
                        values.insert(v.to_owned(), next);
                        next
                    }
                };
                rows.push((id, vid));
            }
            (Pending::Int(rows), AttrValue::Int(v)) => rows.push((id, v)),
            (Pending::Time(rows), AttrValue::Time(v)) => rows.push((id, v.0)),
            (Pending::Bool(rows), AttrValue::Bool(v)) => rows.push((id, v)),
            (p, v) => {
                return Err(IndexError::WrongKind {
                    attr: attr.to_owned(),
                    expected: p.kind(),
                    found: v.kind(),
                });
            }
        }
        self.add_customer(id);
        Ok(())
    }

    /// Add a customer with its tags and attributes. On an error nothing after the offending
    /// attribute is added.
    pub fn add_row(&mut self, row: &Row<'_>) -> Result<(), IndexError> {
        self.add_customer(row.id);
        for t in row.tags {
            self.add_tag(row.id, *t);
        }
        for (attr, v) in row.attrs {
            self.add_attr(row.id, attr, *v)?;
        }
        Ok(())
    }

    pub fn build(self) -> SegmentIndex {
        let columns = self
            .columns
            .into_iter()
            .map(|(name, p)| {
                let column = match p {
                    Pending::Text { values, rows } => Column::Text(build_text(values, rows)),
                    Pending::Int(rows) => Column::Int(Bsi::from_pairs(&last_per_id(rows))),
                    Pending::Time(rows) => Column::Time(Bsi::from_pairs(&last_per_id(rows))),
                    Pending::Bool(rows) => {
                        let mut b = Sink::default();
                        for (id, v) in last_per_id(rows) {
                            if v {
                                b.add(id);
                            }
                        }
                        Column::Bool(b.finish(), Derived(None))
                    }
                };
                (name, column)
            })
            .collect();
        let tags = self
            .tags
            .into_iter()
            .map(|(t, s)| (t, s.finish()))
            .filter(|(_, b)| !b.is_empty())
            .collect();
        let mut index = SegmentIndex {
            alive: self.alive.finish(),
            tags,
            tag_words: Derived::default(),
            columns,
        };
        index.refresh_dense();
        index
    }
}

/// Sort by id, keeping the last value given for each id.
fn last_per_id<T: Copy>(mut rows: Vec<(u32, T)>) -> Vec<(u32, T)> {
    // A stable sort keeps rows of one id in the order they were added.
    rows.sort_by_key(|r| r.0);
    let mut out: Vec<(u32, T)> = Vec::with_capacity(rows.len());
    for r in rows {
        match out.last_mut() {
            Some(last) if last.0 == r.0 => *last = r,
            _ => out.push(r),
        }
    }
    out
}

fn build_text(values: HashMap<String, u32>, rows: Vec<(u32, u32)>) -> TextColumn {
    let rows = last_per_id(rows);
    let mut sinks: Vec<Option<Sink>> = (0..values.len()).map(|_| Some(Sink::default())).collect();
    let mut exists = Sink::default();
    for (id, vid) in rows {
        exists.add(id);
        if let Some(Some(b)) = sinks.get_mut(vid as usize) {
            b.add(id);
        }
    }
    let mut by_value = HashMap::with_capacity(values.len());
    for (v, vid) in values {
        if let Some(b) = sinks.get_mut(vid as usize).and_then(Option::take) {
            let b = b.finish();
            if !b.is_empty() {
                by_value.insert(v, b);
            }
        }
    }
    TextColumn {
        by_value,
        exists: exists.finish(),
        words: Derived::default(),
    }
}
