//! Console pages of the customer pool: the list (search and filters, within the caller's
//! scope) and the 360° view with its notes (跟进记录) and a paged, filterable timeline.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::customers::CustomerRow;
use yutang_app::customers::{Customer360, CustomerQuery, NoteView};
use yutang_app::events::EventRow;
use yutang_app::org::StoreQuery;
use yutang_app::org::StoreRow;
use yutang_app::saved_filters::{ListPage as ListPage_, SavedFilterRow};
use yutang_app::staff::StaffQuery;
use yutang_app::staff::StaffRow;
use yutang_core::FieldError;
use yutang_core::customers::{CustomerSort, Keyset, ListCursor, SortKey};
use yutang_core::events::EventKind;
use yutang_core::ids::{CustomerId, StaffId, StoreId};
use yutang_core::staff::{Permission, Role};

use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, Pager, check_csrf, csrf_failed, error_page, form_error,
    link, nonempty, opt_id, pager, see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/customers_list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<CustomerRow>,
    stores: Vec<StoreRow>,
    guides: Vec<StaffRow>,
    q: String,
    city: String,
    member_level: String,
    guide_id: String,
    store_id: String,
    sort: CustomerSort,
    /// The filters as a query string (no sort, no page): the base of the sort links, what
    /// "save this filter" keeps and what the export re-reads.
    filter_query: String,
    saved: Vec<SavedFilterRow>,
    /// Active coupon templates the caller may issue from the list (empty: no 发券 action).
    templates: Vec<(i64, String)>,
    /// Whether the caller may start WeCom transfers (the 转接 action).
    can_transfer: bool,
    pager: Pager,
}

impl ListPage {
    /// A column header's link: by this key, descending first; the current key flips.
    fn sort_link(&self, key: &str) -> String {
        let next = match SortKey::ALL.into_iter().find(|k| k.as_str() == key) {
            Some(k) if k == self.sort.key => self.sort.flipped(),
            Some(k) => CustomerSort { key: k, desc: true },
            None => CustomerSort::NEWEST,
        };
        let mut q = url::form_urlencoded::Serializer::new(self.filter_query.clone());
        q.append_pair("sort", &next.as_param());
        format!("/console/customers?{}", q.finish())
    }

    /// ▼ / ▲ beside the header the list is sorted by.
    fn sort_mark(&self, key: &str) -> &'static str {
        match (self.sort.key.as_str() == key, self.sort.desc) {
            (false, _) => "",
            (true, true) => " ▼",
            (true, false) => " ▲",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    city: Option<String>,
    member_level: Option<String>,
    guide_id: Option<String>,
    store_id: Option<String>,
    sort: Option<String>,
    page: Option<i64>,
    /// The position the page is read after (the 下一页 link) or before (上一页): pages deep
    /// in a large pool are read from the index instead of skipping every row before them.
    after: Option<String>,
    before: Option<String>,
}

impl ListQuery {
    /// The filters, parsed; `Err` names the field.
    fn parse(&self, page: Page) -> Result<CustomerQuery, FieldError> {
        let sort = CustomerSort::parse("sort", self.sort.as_deref().unwrap_or(""))?;
        let keyset = match (nonempty(&self.after), nonempty(&self.before)) {
            (Some(a), _) => Some(Keyset::After(ListCursor::parse("after", a, sort)?)),
            (None, Some(b)) => Some(Keyset::Before(ListCursor::parse("before", b, sort)?)),
            (None, None) => None,
        };
        Ok(CustomerQuery {
            q: nonempty(&self.q).map(str::to_owned),
            city: nonempty(&self.city).map(str::to_owned),
            member_level: nonempty(&self.member_level).map(str::to_owned),
            guide_id: opt_id("guide_id", self.guide_id.as_deref().unwrap_or(""))?.map(StaffId),
            store_id: opt_id("store_id", self.store_id.as_deref().unwrap_or(""))?.map(StoreId),
            sort,
            page,
            keyset,
            ..Default::default()
        })
    }

    /// The filters that are set, as a query string (without sort and page).
    fn filter_query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("city", &self.city),
            ("member_level", &self.member_level),
            ("guide_id", &self.guide_id),
            ("store_id", &self.store_id),
        ] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                q.append_pair(k, v);
            }
        }
        q.finish()
    }
}

pub async fn list(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<ListQuery>,
) -> Response {
    c.ctx.active = "customers";
    let a = &c.session.actor;
    let query = match Page::parse(q.page, Some(50)).and_then(|page| q.parse(page)) {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    let (p, total_exact, next_after, prev_before) =
        match s.app.customers().list_customers(a, &query).await {
            Ok(l) => (l.page, l.total_exact, l.next_after, l.prev_before),
            Err(e) => return error_page(c.ctx, e),
        };
    let all = Page {
        number: 1,
        size: 200,
    };
    let stores = s
        .app
        .org()
        .list_stores(
            a,
            &StoreQuery {
                page: all,
                ..Default::default()
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    // A guide filters nothing by guide: they see only their own customers.
    let guides = if a.role == Role::Guide {
        Vec::new()
    } else {
        s.app
            .staff()
            .list_staff(
                a,
                &StaffQuery {
                    role: Some(Role::Guide),
                    page: all,
                    ..Default::default()
                },
            )
            .await
            .map(|p| p.items)
            .unwrap_or_default()
    };
    let saved = s
        .app
        .saved_filters()
        .list(a, ListPage_::Customers)
        .await
        .unwrap_or_default();
    let templates = if a.can(Permission::ManagePromotions) {
        s.app
            .coupons()
            .coupon_templates(a)
            .await
            .map(|v| {
                v.into_iter()
                    .filter(|t| t.row.status == "active")
                    .map(|t| (t.row.id, t.row.name))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let filter_query = q.filter_query();
    let mut params: Vec<(&str, String)> = url::form_urlencoded::parse(filter_query.as_bytes())
        .filter_map(|(k, v)| {
            ["q", "city", "member_level", "guide_id", "store_id"]
                .into_iter()
                .find(|n| *n == k)
                .map(|n| (n, v.into_owned()))
        })
        .collect();
    params.push(("sort", query.sort.as_param()));
    let mut pager = pager("/console/customers", &params, p.page, p.page_size, p.total);
    // Counting stopped at the cap: "10000+" and "/ 200+" (a keyset page past the cap is
    // at least as far as its own number: "/ 1250+").
    pager.more = !total_exact;
    if pager.more {
        pager.pages = pager.pages.max(p.page);
    }
    // 下一页 and 上一页 read from the page's own first and last rows (keyset pages); the
    // first page needs no position.
    let href = |extra: &[(&str, String)]| link("/console/customers", &params, extra);
    pager.next = next_after.map(|n| href(&[("after", n), ("page", (p.page + 1).to_string())]));
    pager.prev = prev_before.map(|b| {
        if p.page <= 2 {
            href(&[])
        } else {
            href(&[("before", b), ("page", (p.page - 1).to_string())])
        }
    });
    render(
        StatusCode::OK,
        &ListPage {
            ctx: c.ctx,
            rows: p.items,
            stores,
            guides,
            q: q.q.unwrap_or_default(),
            city: q.city.unwrap_or_default(),
            member_level: q.member_level.unwrap_or_default(),
            guide_id: q.guide_id.unwrap_or_default(),
            store_id: q.store_id.unwrap_or_default(),
            sort: query.sort,
            filter_query,
            saved,
            templates,
            can_transfer: c.session.actor.can(Permission::ManageCustomers),
            pager,
        },
    )
}

/// The export form: the list's filters and sort, with the CSRF field.
#[derive(Deserialize)]
pub struct ExportForm {
    #[allow(dead_code)]
    csrf: String,
    q: Option<String>,
    city: Option<String>,
    member_level: Option<String>,
    guide_id: Option<String>,
    store_id: Option<String>,
    sort: Option<String>,
}

/// The audited CSV export of the list as filtered and sorted (every page).
pub async fn export(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<ExportForm>,
) -> Response {
    let list = ListQuery {
        q: f.q,
        city: f.city,
        member_level: f.member_level,
        guide_id: f.guide_id,
        store_id: f.store_id,
        sort: f.sort,
        page: None,
        after: None,
        before: None,
    };
    let query = match list.parse(Page { number: 1, size: 1 }) {
        Ok(q) => q,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    match s
        .app
        .customers()
        .export_customers(&c.session.actor, &query)
        .await
    {
        Ok(export) => crate::api::segments::csv_response(export),
        Err(e) => error_page(c.ctx, e),
    }
}

/// Save the list's current filters under a name (the same name replaces).
#[derive(Deserialize)]
pub struct SaveFilterForm {
    #[allow(dead_code)]
    csrf: String,
    name: String,
    query: String,
}

pub async fn save_filter(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<SaveFilterForm>,
) -> Response {
    // Only the list's own filters are kept, re-serialised: nothing else rides along.
    let kept = match serde_urlencoded::from_str::<ListQuery>(&f.query) {
        Ok(q) => {
            let mut base = q.filter_query();
            if let Some(sort) = nonempty(&q.sort) {
                let mut ser = url::form_urlencoded::Serializer::new(base);
                ser.append_pair("sort", sort);
                base = ser.finish();
            }
            base
        }
        Err(_) => {
            return error_page(
                c.ctx,
                AppError::Invalid(FieldError::new(
                    "query",
                    "invalid_query",
                    "not a list filter",
                )),
            );
        }
    };
    match s
        .app
        .saved_filters()
        .save(&c.session.actor, ListPage_::Customers, &f.name, &kept)
        .await
    {
        Ok(_) => see_other(&format!(
            "/console/customers?{}{}ok=saved",
            kept,
            if kept.is_empty() { "" } else { "&" }
        )),
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn delete_filter(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.saved_filters().delete(&c.session.actor, id).await {
        Ok(()) => see_other("/console/customers?ok=deleted"),
        Err(e) => error_page(c.ctx, e),
    }
}

/// What the list's bulk form asks for, parsed.
enum BulkAction {
    Tag(Vec<i64>),
    Coupon {
        template: i64,
        ids: Vec<i64>,
    },
    /// `guide`: the guide the list was filtered by, whose customers they are.
    Transfer {
        ids: Vec<i64>,
        guide: Option<i64>,
    },
}

/// Parse the bulk form's pairs (checkboxes repeat `ids`); `Err` names the field to fix.
fn bulk_action(pairs: &[(String, String)]) -> Result<BulkAction, FieldError> {
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let ids = pairs
        .iter()
        .filter(|(n, _)| n == "ids")
        .map(|(_, v)| match v.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => Err(FieldError::new("ids", "invalid_ids", "not a customer id")),
        })
        .collect::<Result<Vec<i64>, _>>()?;
    if ids.is_empty() {
        return Err(FieldError::new(
            "ids",
            "invalid_ids",
            "tick at least one customer",
        ));
    }
    match field("action") {
        "tag" => Ok(BulkAction::Tag(ids)),
        "transfer" => Ok(BulkAction::Transfer {
            ids,
            guide: match field("guide_id").trim() {
                "" => None,
                g => Some(
                    g.parse::<i64>()
                        .map_err(|_| FieldError::new("guide_id", "invalid_id", "not a staff id"))?,
                ),
            },
        }),
        "coupon" => {
            let template = field("template_id")
                .trim()
                .parse::<i64>()
                .map_err(|_| FieldError::new("template_id", "invalid_form", "choose a coupon"))?;
            Ok(BulkAction::Coupon { template, ids })
        }
        _ => Err(FieldError::new(
            "action",
            "invalid_form",
            "choose an action",
        )),
    }
}

/// The list's bulk actions on the ticked rows: 打标签 opens bulk tagging with the ids filled
/// in; 发券 issues the chosen coupon template to them as a job and shows its progress; 转接
/// opens the WeCom transfer form with their guide and the ids filled in.
pub async fn bulk(State(s): State<AppState>, c: Console, body: axum::body::Bytes) -> Response {
    // Checkboxes repeat `ids`, which a derived form cannot take: read the pairs directly.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let csrf = pairs
        .iter()
        .find(|(n, _)| n == "csrf")
        .map_or("", |(_, v)| v.as_str());
    if !check_csrf(&c, csrf) {
        return csrf_failed(c.ctx);
    }
    match bulk_action(&pairs) {
        Err(e) => error_page(c.ctx, AppError::Invalid(e)),
        Ok(BulkAction::Tag(ids)) => {
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            see_other(&format!("/console/tags/bulk?ids={list}"))
        }
        Ok(BulkAction::Coupon { template, ids }) => match s
            .app
            .coupons()
            .issue_coupon_to_customers(&c.session.actor, template, &ids)
            .await
        {
            Ok(job) => see_other(&format!("/console/jobs/{job}")),
            Err(e) => error_page(c.ctx, e),
        },
        Ok(BulkAction::Transfer { ids, guide }) => {
            match s
                .app
                .wecom()
                .handover_of(&c.session.actor, &ids, guide)
                .await
            {
                Ok(h) => {
                    let list = h
                        .ids
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",");
                    see_other(&format!(
                        "/console/wecom/transfers?handover_staff_id={}&customer_ids={list}&skipped={}",
                        h.guide, h.skipped
                    ))
                }
                Err(e) => error_page(c.ctx, e),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "console/customer_view.html")]
struct ViewPage {
    ctx: Ctx,
    v: Customer360,
    events: Vec<EventRow>,
    kinds: Vec<&'static str>,
    kind: String,
    revealed: Option<Vec<String>>,
    pager: Pager,
    tags: Vec<yutang_app::tags::CustomerTagRow>,
    /// Tags staff may set by hand, as `(id, "group/name")`.
    tag_options: Vec<(i64, String)>,
    /// The customer's points balance (the link to their points page).
    points: Option<i64>,
    /// The membership tier block's lines (none without a tier program).
    tier: Option<Vec<String>>,
    /// The paid member card block (none: never bought one).
    card: Option<Vec<String>>,
    /// The latest notes (跟进记录), newest first.
    notes: Vec<NoteView>,
    /// Whether the caller may write a note (the 跟进记录 form).
    can_note: bool,
    /// A note the caller tried to write, kept with the reason it was refused.
    note: NoteDraft,
}

/// The notes the customer page lists.
const NOTES_SHOWN: i64 = 20;

/// The 跟进记录 form's state: empty, or a refused note with its error.
#[derive(Debug, Default)]
struct NoteDraft {
    body: String,
    error: Option<&'static str>,
    status: Option<StatusCode>,
}

impl ViewPage {
    /// The longest note, for the form's `maxlength`.
    fn note_max(&self) -> usize {
        yutang_core::customers::MAX_NOTE_CHARS
    }
}

#[derive(Deserialize, Default)]
pub struct ViewQuery {
    kind: Option<String>,
    page: Option<i64>,
}

async fn render_view(
    s: &AppState,
    mut c: Console,
    id: i64,
    q: ViewQuery,
    revealed: Option<Vec<String>>,
    note: NoteDraft,
) -> Response {
    c.ctx.active = "customers";
    let a = &c.session.actor;
    let parsed = (|| -> Result<(Option<EventKind>, Page), FieldError> {
        Ok((
            nonempty(&q.kind)
                .map(|k| EventKind::parse_any("kind", k))
                .transpose()?,
            Page::parse(q.page, Some(20))?,
        ))
    })();
    let (kind, page) = match parsed {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    let v = match s.app.customers().customer_360(a, CustomerId(id)).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let t = match s
        .app
        .customers()
        .timeline(a, CustomerId(v.customer.id), kind, page)
        .await
    {
        Ok(t) => t,
        Err(e) => return error_page(c.ctx, e),
    };
    let tags = s
        .app
        .tags()
        .customer_tags(a, v.customer.id)
        .await
        .unwrap_or_default();
    let tag_options = s
        .app
        .tags()
        .tag_catalogue(a)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|g| g.group.source != "rule")
        .flat_map(|g| {
            let group = g.group.name;
            g.tags
                .into_iter()
                .map(move |t| (t.tag.id, format!("{group}/{}", t.tag.name)))
        })
        .filter(|(id, _)| !tags.iter().any(|t| t.tag_id == *id))
        .collect();
    let points = super::points::balance_of(s, &c, v.customer.id).await;
    let tier = super::tiers::customer_lines(s, &c.ctx, a, v.customer.id).await;
    let card = super::cards::customer_lines(s, &c.ctx, a, v.customer.id).await;
    let notes = s
        .app
        .customers()
        .notes(a, CustomerId(v.customer.id), NOTES_SHOWN, None)
        .await
        .unwrap_or_default();
    let can_note = a.can(Permission::TagCustomers);
    let base = format!("/console/customers/{}", v.customer.id);
    let params = [("kind", q.kind.clone().unwrap_or_default())];
    let pager = pager(&base, &params, t.page, t.page_size, t.total);
    render(
        note.status.unwrap_or(StatusCode::OK),
        &ViewPage {
            ctx: c.ctx,
            v,
            events: t.items,
            kinds: EventKind::CLIENT
                .into_iter()
                .chain(EventKind::SYSTEM)
                .map(EventKind::as_str)
                .collect(),
            kind: q.kind.unwrap_or_default(),
            revealed,
            pager,
            tags,
            tag_options,
            points,
            tier,
            card,
            notes,
            can_note,
            note,
        },
    )
}

pub async fn view(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<ViewQuery>,
) -> Response {
    render_view(&s, c, id, q, None, NoteDraft::default()).await
}

/// Show the full phone numbers (audited) on the 360° page.
pub async fn reveal(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, _): ConsoleForm<CsrfForm>,
) -> Response {
    c.ctx.active = "customers";
    match s
        .app
        .customers()
        .reveal_phones(&c.session.actor, CustomerId(id))
        .await
    {
        Ok(phones) => {
            render_view(
                &s,
                c,
                id,
                ViewQuery::default(),
                Some(phones),
                NoteDraft::default(),
            )
            .await
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// The 跟进记录 form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    body: String,
}

/// Write a note from the customer page: back to the page on success; a refused note is
/// shown again in the form with the reason.
pub async fn add_note(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<NoteForm>,
) -> Response {
    let body = f.body.replace("\r\n", "\n").replace('\r', "\n");
    match s
        .app
        .customers()
        .add_note(&c.session.actor, CustomerId(id), &body)
        .await
    {
        Ok(n) => see_other(&format!(
            "/console/customers/{}?ok=saved#customer-notes",
            n.customer_id
        )),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            let note = NoteDraft {
                body,
                error: Some(err.message),
                status: Some(status),
            };
            render_view(&s, c, id, ViewQuery::default(), None, note).await
        }
    }
}
