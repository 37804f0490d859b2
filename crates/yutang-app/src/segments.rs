//! Segments: the live bitmap index over every customer, kept current from the database, and
//! the use cases that count, list and export the customers an expression picks.
//!
//! The index is built at start from the database and then follows the event log: every write
//! to a customer appends to their timeline, so "customers with events after the watermark"
//! is exactly the set whose facts may have changed. Those are reloaded and replaced in the
//! index. Use cases that write call [`SegmentEngine::catch_up`] before answering, and counts
//! catch up before evaluating, so a caller reads their own writes (through any node); a
//! background loop catches up every second and rebuilds hourly, which also moves the
//! clock-driven windows (`orders_90d`) forward.
//!
//! The log is followed in commit order ([`store::FeedMark`]): by id on SQLite (one writer),
//! by transaction snapshots on PostgreSQL, whose ids are handed out before commit — an id
//! watermark there skipped a transaction that committed after a larger id had been read.

use std::collections::HashMap;
use std::sync::RwLock;

use roaring::RoaringBitmap;
use serde::Serialize;
use yutang_core::access::DataScope;
use yutang_core::export::spreadsheet_text;
use yutang_core::segments::{
    AttrType, BuilderJoin, BuilderMisfit, BuilderRows, Resolved, Schema, TagId,
};
use yutang_core::staff::Permission;
use yutang_core::time::Millis;
use yutang_index::{AttrKind, AttrValue, IndexBuilder, SegmentIndex};
use yutang_store::segments::{self as store, CustomAttr, FactValue, Facts, Pick, SegmentRow};
use yutang_store::{Db, tags as tag_store};

use crate::audit::{self, Action};
use crate::customers::scope_of;
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// How many customers one load of changed customers reads.
const CHUNK: i64 = 5_000;
/// How many customers one page of a full build reads (an id range, see `load_facts`).
const BUILD_CHUNK: i64 = 20_000;
/// How many events one catch-up step reads.
const EVENT_CHUNK: i64 = 20_000;

struct State {
    index: SegmentIndex,
    schema: Schema,
    custom: Vec<CustomAttr>,
    /// The highest event id applied (for figures; the position is `mark`).
    watermark: i64,
    /// Every event up to this position in the log is reflected in the index.
    mark: Option<store::FeedMark>,
    built_at: i64,
    build_ms: i64,
    /// Customers whose facts changed since the rules last looked (see [`SegmentEngine::take_changed`]).
    changed: RoaringBitmap,
    /// The catalogue the schema was loaded from (`store::schema_stamp`): when it differs,
    /// another node (or this one) changed tags or attributes, and the schema is reloaded.
    stamp: Option<[i64; 6]>,
    /// Every channel's name and kind as the facts were read with (`channel`,
    /// `channel_type`): an edited channel writes no event for the customers it brought, so a
    /// catch-up compares and reloads those customers itself.
    channels: HashMap<i64, (String, String)>,
}

/// The segment index of one node, shared by every request.
pub struct SegmentEngine {
    state: RwLock<State>,
    /// Serialises writers (rebuild and catch-up) so they never interleave.
    writer: tokio::sync::Mutex<()>,
    /// Serialises auto-tag rule runs (scheduler, event-driven and operator-triggered), so
    /// two runs never race to create the same tag or write the same difference.
    pub(crate) rules: tokio::sync::Mutex<()>,
}

impl Default for SegmentEngine {
    fn default() -> Self {
        Self {
            state: RwLock::new(State {
                index: SegmentIndex::new(),
                schema: Schema::with_customer_attributes(),
                custom: Vec::new(),
                watermark: 0,
                mark: None,
                built_at: 0,
                build_ms: 0,
                changed: RoaringBitmap::new(),
                stamp: None,
                channels: HashMap::new(),
            }),
            writer: tokio::sync::Mutex::new(()),
            rules: tokio::sync::Mutex::new(()),
        }
    }
}

/// Index figures for the console and `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct EngineStats {
    pub customers: u64,
    pub tags: usize,
    pub memory_bytes: usize,
    pub watermark: i64,
    pub built_at: i64,
    pub build_ms: i64,
}

fn lock_err() -> AppError {
    AppError::Internal("segment index lock poisoned".into())
}

/// The schema the engine compiles against: built-in attributes, custom attributes and tags.
async fn load_schema(db: &Db) -> Result<(Schema, Vec<CustomAttr>)> {
    let mut schema = Schema::with_customer_attributes();
    let mut custom = Vec::new();
    for d in yutang_store::customers::list_attributes(db).await? {
        let ty = match d.kind.as_str() {
            "text" => AttrType::Text,
            "number" => AttrType::Int,
            "date" => AttrType::Time,
            "enum" => AttrType::Enum(d.options.lines().map(str::to_owned).collect()),
            _ => continue,
        };
        // A custom key that collides with a built-in is skipped rather than shadowing it.
        if schema.add_attr(&d.key, ty).is_ok() {
            custom.push(CustomAttr {
                id: d.id,
                key: d.key,
                kind: d.kind,
            });
        }
    }
    for t in tag_store::list_tags(db).await? {
        // Names are checked on write; a clash (impossible through the API) is skipped.
        let _ = schema.add_tag(&t.group_name, &t.name, TagId(t.id));
    }
    Ok((schema, custom))
}

fn dense(id: i64) -> Result<u32> {
    u32::try_from(id)
        .map_err(|_| AppError::Internal(format!("customer id {id} exceeds the index range")))
}

fn put(index: &mut SegmentIndex, f: &Facts) -> Result<()> {
    let id = dense(f.id)?;
    index.remove_customer(id);
    if !f.alive {
        return Ok(());
    }
    index.add_customer(id);
    for t in &f.tags {
        index.set_tag(id, TagId(*t));
    }
    for (k, v) in &f.attrs {
        let r = match v {
            FactValue::Text(s) => index.set_attr(id, k, AttrValue::Text(s)),
            FactValue::Int(i) => index.set_attr(id, k, AttrValue::Int(*i)),
            FactValue::Time(t) => index.set_attr(id, k, AttrValue::Time(Millis(*t))),
            FactValue::Bool(b) => index.set_attr(id, k, AttrValue::Bool(*b)),
        };
        // An attribute defined after the last schema load is picked up at the next one.
        if let Err(e) = r {
            tracing::debug!(customer = f.id, attr = %k, error = %e, "attribute not indexed");
        }
    }
    Ok(())
}

impl SegmentEngine {
    /// Build the index from the database and swap it in.
    pub async fn rebuild(&self, db: &Db, now: i64) -> Result<()> {
        let _w = self.writer.lock().await;
        self.rebuild_locked(db, now).await
    }

    async fn rebuild_locked(&self, db: &Db, now: i64) -> Result<()> {
        let started = std::time::Instant::now();
        // The position is taken before any fact is read: every event it covers is then in
        // the facts, and the catch-up below applies everything after it.
        let mark = store::feed_mark(db).await?;
        let watermark = store::max_event_id(db).await?;
        let stamp = store::schema_stamp(db).await?;
        let (schema, custom) = load_schema(db).await?;
        // Before the facts, like the mark: a channel edited meanwhile differs from this and
        // its customers are reloaded by the next catch-up.
        let channels = store::channel_labels(db).await?;
        let mut b = IndexBuilder::from_schema(&schema);
        // The next page is read while this one goes into the builder: the database (another
        // process, on PostgreSQL another core) and the builder work at the same time.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<Facts>>>(2);
        let reader = {
            let db = db.clone();
            let custom = custom.clone();
            tokio::spawn(async move {
                let mut after = 0;
                loop {
                    let page = store::load_facts(
                        &db,
                        Pick::After {
                            after,
                            limit: BUILD_CHUNK,
                        },
                        &custom,
                        now,
                    )
                    .await
                    .map_err(AppError::from);
                    let last = match &page {
                        Ok(facts) => facts.last().map(|f| f.id),
                        Err(_) => None,
                    };
                    let stop = last.is_none();
                    if tx.send(page).await.is_err() || stop {
                        return;
                    }
                    after = last.unwrap_or(after);
                }
            })
        };
        while let Some(page) = rx.recv().await {
            let facts = page?;
            for f in &facts {
                if !f.alive {
                    continue;
                }
                let id = dense(f.id)?;
                b.add_customer(id);
                for t in &f.tags {
                    b.add_tag(id, TagId(*t));
                }
                for (k, v) in &f.attrs {
                    let r = match v {
                        FactValue::Text(s) => b.add_attr(id, k, AttrValue::Text(s)),
                        FactValue::Int(i) => b.add_attr(id, k, AttrValue::Int(*i)),
                        FactValue::Time(t) => b.add_attr(id, k, AttrValue::Time(Millis(*t))),
                        FactValue::Bool(bv) => b.add_attr(id, k, AttrValue::Bool(*bv)),
                    };
                    r.map_err(|e| AppError::Internal(e.to_string()))?;
                }
            }
        }
        reader
            .await
            .map_err(|e| AppError::Internal(format!("index reader: {e}")))?;
        let index = b.build();
        let build_ms = started.elapsed().as_millis() as i64;
        {
            let mut s = self.state.write().map_err(|_| lock_err())?;
            *s = State {
                index,
                schema,
                custom,
                watermark,
                mark: Some(mark),
                built_at: now,
                build_ms,
                changed: RoaringBitmap::new(),
                stamp: Some(stamp),
                channels,
            };
        }
        tracing::info!(build_ms, watermark, "segment index built");
        // Events committed during the build are applied now.
        Box::pin(self.catch_up_locked(db, now, 0)).await
    }

    /// Apply every event after the index's position in the log. `slack` re-reads that many
    /// ids before the position on SQLite (kept for callers; the feed has no gaps without it).
    pub async fn catch_up(&self, db: &Db, now: i64, slack: i64) -> Result<()> {
        let _w = self.writer.lock().await;
        self.catch_up_locked(db, now, slack).await
    }

    async fn catch_up_locked(&self, db: &Db, now: i64, slack: i64) -> Result<()> {
        let (from, known) = {
            let s = self.state.read().map_err(|_| lock_err())?;
            (s.mark.clone(), s.stamp)
        };
        let Some(mut from) = from else {
            return self.rebuild_locked(db, now).await;
        };
        // The catalogue first: facts that name a tag or attribute created through another
        // node need it, and the facts below are read with the custom attributes it lists.
        let stamp = store::schema_stamp(db).await?;
        if known != Some(stamp) {
            self.reload_schema_locked(db).await?;
        }
        let custom = self.state.read().map_err(|_| lock_err())?.custom.clone();
        if let store::FeedMark::Id(id) = &mut from {
            *id = (*id - slack).max(0);
        }
        // Taken before the facts are read, like the build's.
        let to = store::feed_mark(db).await?;
        // The facts are read as of a time after every change up to `to` committed: `now` was
        // taken by the caller before it waited for the writer lock, and a change committed
        // meanwhile (a member card bought at that instant) read at the earlier time would be
        // indexed as not yet begun, with no later event to correct it.
        let now = now.max(yutang_core::time::Millis::now().0);
        self.follow_channels(db, &custom, now).await?;
        let mut after = 0;
        loop {
            let (ids, high, read) =
                store::changed_between(db, &from, &to, after, EVENT_CHUNK).await?;
            for chunk in ids.chunks(CHUNK as usize) {
                let facts = store::load_facts(db, Pick::Ids(chunk), &custom, now).await?;
                let mut s = self.state.write().map_err(|_| lock_err())?;
                for f in &facts {
                    put(&mut s.index, f)?;
                    s.changed.insert(dense(f.id)?);
                }
            }
            {
                let mut s = self.state.write().map_err(|_| lock_err())?;
                s.watermark = s.watermark.max(high);
            }
            if (read as i64) < EVENT_CHUNK {
                break;
            }
            after = high;
        }
        let mut s = self.state.write().map_err(|_| lock_err())?;
        s.mark = Some(to);
        Ok(())
    }

    /// Reload the customers whose first-touch channel was renamed or changed kind since the
    /// facts were read (no event says so: the channel is not the customer's row).
    async fn follow_channels(&self, db: &Db, custom: &[CustomAttr], now: i64) -> Result<()> {
        let channels = store::channel_labels(db).await?;
        let moved: Vec<i64> = {
            let s = self.state.read().map_err(|_| lock_err())?;
            let mut v: Vec<i64> = channels
                .iter()
                .filter(|(id, l)| s.channels.get(id) != Some(l))
                .map(|(id, _)| *id)
                .chain(
                    s.channels
                        .keys()
                        .filter(|id| !channels.contains_key(id))
                        .copied(),
                )
                .collect();
            v.sort_unstable();
            v
        };
        if !moved.is_empty() {
            let ids = store::acquired_through(db, &moved).await?;
            for chunk in ids.chunks(CHUNK as usize) {
                let facts = store::load_facts(db, Pick::Ids(chunk), custom, now).await?;
                let mut s = self.state.write().map_err(|_| lock_err())?;
                for f in &facts {
                    put(&mut s.index, f)?;
                    s.changed.insert(dense(f.id)?);
                }
            }
        }
        self.state.write().map_err(|_| lock_err())?.channels = channels;
        Ok(())
    }

    /// The customers whose facts changed since the last call; event-driven rules re-check them.
    pub fn take_changed(&self) -> Result<RoaringBitmap> {
        let mut s = self.state.write().map_err(|_| lock_err())?;
        Ok(std::mem::take(&mut s.changed))
    }

    /// Reload tags and attribute definitions (after one is created, renamed or deleted).
    pub async fn reload_schema(&self, db: &Db) -> Result<()> {
        // Under the writer lock: a catch-up in flight reads facts with the custom attributes
        // it started with, so the schema does not change under it.
        let _w = self.writer.lock().await;
        self.reload_schema_locked(db).await
    }

    async fn reload_schema_locked(&self, db: &Db) -> Result<()> {
        // Taken before the catalogue is read: a change committed meanwhile differs from it
        // and is loaded on the next catch-up.
        let stamp = store::schema_stamp(db).await?;
        let (schema, custom) = load_schema(db).await?;
        let mut s = self.state.write().map_err(|_| lock_err())?;
        s.stamp = Some(stamp);
        let gone: Vec<TagId> = s
            .schema
            .tags()
            .map(|(id, _)| id)
            .filter(|id| schema.tag_path(*id).is_none())
            .collect();
        for t in gone {
            s.index.drop_tag(t);
        }
        for (name, ty) in schema.attrs() {
            let _ = s.index.define_attr(name, AttrKind::of(ty));
        }
        s.schema = schema;
        s.custom = custom;
        Ok(())
    }

    /// Parse and type-check an expression against the current schema.
    pub fn compile(&self, src: &str) -> Result<Resolved> {
        let s = self.state.read().map_err(|_| lock_err())?;
        s.schema.compile(src).map_err(AppError::Segment)
    }

    pub fn schema(&self) -> Result<Schema> {
        Ok(self.state.read().map_err(|_| lock_err())?.schema.clone())
    }

    pub fn custom_attrs(&self) -> Result<Vec<CustomAttr>> {
        Ok(self.state.read().map_err(|_| lock_err())?.custom.clone())
    }

    /// The customers matching `expr` at `now`, optionally within `within`.
    pub fn evaluate(
        &self,
        expr: &Resolved,
        now: i64,
        within: Option<&RoaringBitmap>,
    ) -> Result<RoaringBitmap> {
        let s = self.state.read().map_err(|_| lock_err())?;
        Ok(match within {
            Some(w) => s.index.evaluate_within(expr, Millis(now), w),
            None => s.index.evaluate(expr, Millis(now)),
        })
    }

    /// The current holders of a tag.
    pub fn tag_members(&self, tag: i64) -> Result<RoaringBitmap> {
        let s = self.state.read().map_err(|_| lock_err())?;
        Ok(s.index.tag_members(TagId(tag)).cloned().unwrap_or_default())
    }

    pub fn stats(&self) -> Result<EngineStats> {
        let s = self.state.read().map_err(|_| lock_err())?;
        Ok(EngineStats {
            customers: s.index.customer_count(),
            tags: s.schema.tags().count(),
            memory_bytes: s.index.memory_bytes(),
            watermark: s.watermark,
            built_at: s.built_at,
            build_ms: s.build_ms,
        })
    }
}

/// A segment's size, and what the caller may act on.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentCount {
    /// The expression as Yutang prints it (what the visual builder reads back).
    pub canonical: String,
    /// Matching customers within the caller's data scope.
    pub count: u64,
}

/// A page of a segment's members.
#[derive(Debug, Clone, Serialize)]
pub struct MemberPage {
    pub total: u64,
    pub customer_ids: Vec<i64>,
}

/// One attribute for the visual builder.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaAttr {
    pub name: String,
    /// `text`, `enum`, `integer`, `money`, `time`, `yes/no`.
    pub kind: &'static str,
    pub options: Vec<String>,
    /// Values the builder offers for a text attribute (any other text may still be typed):
    /// channel names for `channel`, staff usernames (labelled with the display name) for
    /// `acquired_by`, within the caller's scope.
    pub suggestions: Vec<Suggestion>,
}

/// A value the builder offers, and how it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemaTag {
    pub id: i64,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentSchema {
    pub attributes: Vec<SchemaAttr>,
    pub tags: Vec<SchemaTag>,
}

/// A saved segment with its live count.
#[derive(Debug, Clone, Serialize)]
pub struct SavedSegment {
    #[serde(flatten)]
    pub row: SegmentRow,
    pub count: Option<u64>,
    pub error: Option<String>,
    /// The error's code (`segment_unknown_tag` …), for a text in the reader's language.
    #[serde(skip)]
    pub error_code: Option<&'static str>,
}

fn parse_segment_name(name: &str) -> Result<String> {
    let n = yutang_core::org::parse_label("name", name, 40)?;
    if n.is_empty() {
        return Err(
            yutang_core::FieldError::new("name", "invalid_name", "name is required").into(),
        );
    }
    Ok(n)
}

/// The segment use cases: counting and paging a segment's members in the caller's scope, the
/// saved segments, and exports.
#[derive(Clone, Copy)]
pub struct Segments<'a>(&'a App);

impl std::ops::Deref for Segments<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Segments`].
    pub fn segments(&self) -> Segments<'_> {
        Segments(self)
    }
}

impl Segments<'_> {
    /// The caller's scope as a bitmap, or `None` for the whole brand.
    pub(crate) async fn scope_bitmap(&self, actor: &Actor) -> Result<Option<RoaringBitmap>> {
        let scope = scope_of(actor).ok_or(AppError::Forbidden)?;
        if scope.store.is_none() && scope.guide.is_none() {
            return Ok(None);
        }
        let ids = store::scope_members(&self.db, scope).await?;
        let mut b = RoaringBitmap::new();
        for id in ids {
            if let Ok(i) = u32::try_from(id) {
                b.insert(i);
            }
        }
        Ok(Some(b))
    }

    /// The members of an expression within the caller's scope, after catching up.
    pub async fn segment_members(
        &self,
        actor: &Actor,
        src: &str,
    ) -> Result<(Resolved, RoaringBitmap)> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        // Caught up first: a node that has not built its index yet loads the schema too.
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        let expr = self.segments.compile(src)?;
        let scope = self.scope_bitmap(actor).await?;
        let m = self.segments.evaluate(&expr, self.now(), scope.as_ref())?;
        Ok((expr, m))
    }

    /// Count an expression within the caller's scope.
    pub async fn segment_count(&self, actor: &Actor, src: &str) -> Result<SegmentCount> {
        let (expr, m) = self.segment_members(actor, src).await?;
        let canonical = yutang_core::segments::parse(src)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| src.to_owned());
        let _ = expr;
        Ok(SegmentCount {
            canonical,
            count: m.len(),
        })
    }

    /// A page of member ids, ascending.
    pub async fn segment_page(
        &self,
        actor: &Actor,
        src: &str,
        offset: u64,
        limit: u64,
    ) -> Result<MemberPage> {
        let (_, m) = self.segment_members(actor, src).await?;
        let limit = limit.clamp(1, 500);
        let ids = m
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(i64::from)
            .collect();
        Ok(MemberPage {
            total: m.len(),
            customer_ids: ids,
        })
    }

    /// The attributes and tags an expression may use, with the values the builder offers for
    /// `channel` and `acquired_by` within the caller's scope (a store-bound caller: brand-wide
    /// channels and their store's, their store's guides; a guide: themselves).
    pub async fn segment_schema(&self, actor: &Actor) -> Result<SegmentSchema> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        let values = match actor.data_scope() {
            DataScope::All => store::first_touch_values(&self.db, None, None, None).await?,
            DataScope::Store(s) => {
                store::first_touch_values(&self.db, Some(s.0), Some(s.0), None).await?
            }
            DataScope::Own { store, staff } => {
                store::first_touch_values(&self.db, Some(store.0), None, Some(staff.0)).await?
            }
            // A store-bound account without a store sees no customers: nothing to offer.
            DataScope::Nothing => store::FirstTouchValues::default(),
        };
        let schema = self.segments.schema()?;
        let attributes = schema
            .attrs()
            .map(|(name, ty)| SchemaAttr {
                name: name.to_owned(),
                kind: match ty {
                    AttrType::Text => "text",
                    AttrType::Enum(_) => "enum",
                    AttrType::Int => "integer",
                    AttrType::Money => "money",
                    AttrType::Time => "time",
                    AttrType::Bool => "yes/no",
                },
                options: match ty {
                    AttrType::Enum(o) => o.clone(),
                    _ => Vec::new(),
                },
                suggestions: match name {
                    "channel" => values
                        .channels
                        .iter()
                        .map(|c| Suggestion {
                            value: c.clone(),
                            label: c.clone(),
                        })
                        .collect(),
                    "acquired_by" => values
                        .staff
                        .iter()
                        .map(|(user, display)| Suggestion {
                            value: user.clone(),
                            label: if display.is_empty() || display == user {
                                user.clone()
                            } else {
                                format!("{display} ({user})")
                            },
                        })
                        .collect(),
                    _ => Vec::new(),
                },
            })
            .collect();
        let tags = schema
            .tags()
            .map(|(id, path)| SchemaTag {
                id: id.0,
                path: path.to_owned(),
            })
            .collect();
        Ok(SegmentSchema { attributes, tags })
    }

    /// `src` as the console builder's rows, or why it does not fit them (`Ok(Err(…))`).
    /// Empty text is no rows; text that does not compile is the same error as a count.
    pub async fn builder_rows(
        &self,
        actor: &Actor,
        src: &str,
    ) -> Result<std::result::Result<BuilderRows, BuilderMisfit>> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        if src.trim().is_empty() {
            return Ok(Ok(BuilderRows {
                join: BuilderJoin::And,
                rows: Vec::new(),
            }));
        }
        // Caught up first, so a tag created on another node is known.
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        let schema = self.segments.schema()?;
        schema.compile(src).map_err(AppError::Segment)?;
        let expr = yutang_core::segments::parse(src).map_err(AppError::Segment)?;
        Ok(yutang_core::segments::builder_rows(&expr, &schema))
    }

    pub async fn list_segments(&self, actor: &Actor) -> Result<Vec<SavedSegment>> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        let rows = store::list(&self.db).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (count, error, error_code) = match self.segment_count(actor, &row.expression).await
            {
                Ok(c) => (Some(c.count), None, None),
                Err(AppError::Segment(e)) => (None, Some(e.to_string()), Some(e.kind.code())),
                Err(e) => return Err(e),
            };
            out.push(SavedSegment {
                row,
                count,
                error,
                error_code,
            });
        }
        Ok(out)
    }

    pub async fn get_segment(&self, actor: &Actor, id: i64) -> Result<SegmentRow> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("segment"))
    }

    /// Save a segment; the expression must compile. Admins and operators (`ManageCustomers`)
    /// write saved segments — they are shared by the whole brand, so a store-bound role may
    /// not change HQ's; everyone who views customers may use them (within their scope).
    pub async fn create_segment(&self, actor: &Actor, name: &str, expression: &str) -> Result<i64> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let name = parse_segment_name(name)?;
        self.segments.compile(expression)?;
        let mut tx = self.db.begin().await?;
        let id = store::create_in(
            &mut tx,
            &name,
            expression.trim(),
            actor.actor_id().filter(|_| actor.staff_id().is_some()),
            self.now(),
        )
        .await
        .map_err(|e| match e {
            yutang_store::StoreError::Conflict { .. } => AppError::Conflict {
                what: "segment name",
                code: "segment_exists",
            },
            e => e.into(),
        })?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::SegmentSaved,
            &format!("segment:{id}"),
            &serde_json::json!({"name": name, "expression": expression}).to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn update_segment(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        expression: &str,
    ) -> Result<()> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let name = parse_segment_name(name)?;
        self.segments.compile(expression)?;
        let mut tx = self.db.begin().await?;
        store::update_in(&mut tx, id, &name, expression.trim(), self.now())
            .await
            .map_err(AppError::not_found("segment"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::SegmentSaved,
            &format!("segment:{id}"),
            &serde_json::json!({"name": name, "expression": expression}).to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_segment(&self, actor: &Actor, id: i64) -> Result<()> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        // A promotion's audience names the segment by id: deleting it would leave that
        // audience pointing at nothing (on SQLite, before 0012, at the next segment saved).
        let mut tx = self.db.begin().await?;
        // Locked first: a campaign being saved with this segment as its audience holds the
        // same lock, so its commit is seen below (or it finds the segment gone).
        if !store::lock_in(&mut tx, id).await? {
            return Err(AppError::NotFound { what: "segment" });
        }
        let users = store::users_in(&mut tx, id).await?;
        if !users.is_empty() {
            let names: Vec<String> = users
                .iter()
                .map(|(kind, id, name)| format!("{kind} {id} ({name})"))
                .collect();
            return Err(AppError::Rule {
                code: "segment_in_use",
                message: format!("used by {}", names.join(", ")),
            });
        }
        store::delete_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("segment"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::SegmentDeleted,
            &format!("segment:{id}"),
            "{}",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Start a CSV export of a segment's members within the caller's scope: the members are
    /// fixed and the audit entry (with the row count, because it is personal data leaving
    /// the system) is written now; the rows follow chunk by chunk from
    /// [`SegmentExport::next_chunk`], so a million-row export neither sits in memory nor
    /// runs into the request timeout.
    pub async fn export_segment(&self, actor: &Actor, src: &str) -> Result<SegmentExport> {
        let (_, m) = self.segment_members(actor, src).await?;
        let reveal = actor.can(Permission::RevealPhone);
        audit::record(
            self,
            actor,
            Action::SegmentExported,
            "segment",
            &serde_json::json!({"expression": src, "rows": m.len(), "phones_revealed": reveal})
                .to_string(),
        )
        .await?;
        Ok(SegmentExport::new(
            self,
            m.iter().map(i64::from).collect(),
            reveal,
        ))
    }
}

/// The columns of a segment export, in order.
pub const EXPORT_COLUMNS: [&str; 8] = [
    "customer_id",
    "name",
    "phone",
    "city",
    "member_level",
    "order_count",
    "total_spend_yuan",
    "last_order_at",
];

/// Customers read per chunk of an export (one `IN` query each).
const EXPORT_CHUNK: usize = 1000;

/// A segment export under way (see [`Segments::export_segment`]).
pub struct SegmentExport {
    app: App,
    ids: Vec<i64>,
    next: usize,
    reveal: bool,
    header_written: bool,
}

impl SegmentExport {
    /// An export of these customers in this order (segment members by id, a customer list in
    /// its sort order); phones in full only when `reveal`.
    pub(crate) fn new(app: &App, ids: Vec<i64>, reveal: bool) -> Self {
        SegmentExport {
            app: App::clone(app),
            ids,
            next: 0,
            reveal,
            header_written: false,
        }
    }

    /// Members being exported (customers merged away meanwhile are skipped).
    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// The next piece of CSV: the header line first, then up to 1,000 customers (id, name,
    /// masked or full phone, city, level, orders, spend in yuan, last order in
    /// Asia/Shanghai); `None` when done. Free-text cells are made safe to open in a
    /// spreadsheet (`spreadsheet_text`).
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let csv_err = |e: csv::Error| AppError::Internal(e.to_string());
        let mut w = csv::Writer::from_writer(Vec::new());
        if !self.header_written {
            self.header_written = true;
            w.write_record(EXPORT_COLUMNS).map_err(csv_err)?;
        } else {
            let Some(chunk) = self.ids.get(self.next..).filter(|c| !c.is_empty()) else {
                return Ok(None);
            };
            let chunk = &chunk[..chunk.len().min(EXPORT_CHUNK)];
            self.next += chunk.len();
            // Rows come back by id; write them in the order the ids were given.
            let mut rows = yutang_store::customers::get_many(&self.app.db, chunk).await?;
            let at: std::collections::HashMap<i64, usize> =
                chunk.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            rows.sort_by_key(|c| at.get(&c.id).copied().unwrap_or(usize::MAX));
            for c in rows {
                let phone = c
                    .phone
                    .as_deref()
                    .map(|p| {
                        if self.reveal {
                            p.to_owned()
                        } else {
                            yutang_core::identity::mask_phone(p)
                        }
                    })
                    .unwrap_or_default();
                let last = c
                    .last_order_at
                    .map(|t| Millis(t).to_shanghai_string())
                    .unwrap_or_default();
                w.write_record([
                    c.id.to_string(),
                    spreadsheet_text(&c.name).into_owned(),
                    phone,
                    spreadsheet_text(&c.city).into_owned(),
                    spreadsheet_text(&c.member_level).into_owned(),
                    c.order_count.to_string(),
                    yutang_core::money::Fen(c.total_spend).to_string(),
                    last,
                ])
                .map_err(csv_err)?;
            }
        }
        w.into_inner()
            .map(Some)
            .map_err(|e| AppError::Internal(e.to_string()))
    }
}

impl Segments<'_> {
    /// Customers by id for a member page; the ids come from a scoped evaluation. Phones are
    /// masked as in every list (the full number only through the audited reveal).
    pub async fn customers_by_ids(
        &self,
        actor: &Actor,
        ids: &[i64],
    ) -> Result<Vec<yutang_store::customers::CustomerRow>> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        let mut rows = yutang_store::customers::get_many(&self.db, ids).await?;
        for r in &mut rows {
            r.phone = r.phone.as_deref().map(yutang_core::identity::mask_phone);
        }
        Ok(rows)
    }
}
