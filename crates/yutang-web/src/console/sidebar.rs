//! The chat sidebar page (聊天工具栏, issue #23 item 2): `/console/sidebar` is the address the
//! brand enters in WeCom's admin as the self-built app's 聊天工具栏 page. Inside the WeCom client
//! the console signs the guide in silently (OAuth); the page then registers WeCom's JS-SDK
//! (`@wecom/jssdk`, served by Yutang at `/console/assets/wecom-jssdk.js`, never from a CDN) with
//! signatures from `/console/sidebar/jssdk.json`, asks which chat it sits beside
//! (`getContext`, then `getCurExternalContact` or `getCurExternalChat`) and shows the customer
//! card or the group card.
//!
//! The page's data comes from the same use cases as `/api/v1/sidebar/…`, through JSON routes
//! here that take the console session (the API takes bearer tokens only); the routes that
//! write check the session's CSRF token in the `X-CSRF-Token` header and read strict JSON.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yutang_app::materials::MaterialQuery;
use yutang_core::ids::CustomerId;

use super::layout::{ConsoleQuery, check_csrf};
use super::{Console, Ctx, Lang, Tr, render};
use crate::auth::ApiJson;
use crate::error::WebError;
use crate::state::AppState;

/// The header the page's writes carry the session's CSRF token in.
const CSRF_HEADER: &str = "x-csrf-token";

/// The texts the page's script shows (keys under `sidebar.js.`).
const JS_TEXTS: &[&str] = &[
    "detecting",
    "not_in_wecom",
    "no_context",
    "sdk_failed",
    "not_configured",
    "not_found",
    "failed",
    "signed_out",
    "owner",
    "guides",
    "tags",
    "edit_tags",
    "save_tags",
    "tasks",
    "no_tasks",
    "due",
    "orders",
    "no_orders",
    "coupons",
    "no_coupons",
    "give_coupon",
    "choose_template",
    "coupon_given",
    "points",
    "tier",
    "notes",
    "no_notes",
    "add_note",
    "note_placeholder",
    "note_added",
    "touches",
    "materials",
    "search",
    "send",
    "sent",
    "members",
    "customers",
    "my_customers",
    "staff",
    "other",
    "spend",
    "order_count",
    "tags_saved",
    "open_profile",
];

/// The page's texts as JSON (safe inside a `<script type="application/json">`).
fn js_texts(lang: Lang) -> String {
    let tr = Tr { lang };
    let mut map: serde_json::Map<String, serde_json::Value> = JS_TEXTS
        .iter()
        .map(|k| {
            (
                (*k).to_owned(),
                serde_json::Value::from(tr.t(&format!("sidebar.js.{k}"))),
            )
        })
        .collect();
    map.insert("lang".into(), lang.code().into());
    serde_json::Value::Object(map)
        .to_string()
        .replace('<', "\\u003c")
}

#[derive(Template)]
#[template(path = "console/sidebar.html")]
struct SidebarPage {
    ctx: Ctx,
    texts: String,
}

/// `GET /console/sidebar`: the page (a compact, phone-width layout of its own).
pub async fn page(c: Console) -> Response {
    let texts = js_texts(c.ctx.lang);
    let mut res = render(StatusCode::OK, &SidebarPage { ctx: c.ctx, texts });
    // Never cached: it carries the session's CSRF token.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

/// `@wecom/jssdk`'s browser build, vendored from npm (see `assets/vendor/README.md`).
pub async fn jssdk_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../assets/vendor/wecom-jssdk.js"),
    )
        .into_response()
}

/// The page's script.
pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/sidebar.js"),
    )
        .into_response()
}

fn json_or_error<T: serde::Serialize>(r: yutang_app::Result<T>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

fn csrf_refused() -> Response {
    WebError::new(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "the page's CSRF token is missing or stale: reload the page",
    )
    .into_response()
}

fn csrf_ok(c: &Console, headers: &HeaderMap) -> bool {
    let got = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    check_csrf(c, got)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlQuery {
    url: String,
}

/// `GET /console/sidebar/jssdk.json?url=`: the page's JS-SDK signatures.
pub async fn jssdk_json(
    State(s): State<AppState>,
    c: Console,
    headers: HeaderMap,
    ConsoleQuery(q): ConsoleQuery<UrlQuery>,
) -> Response {
    let (origin, _) = super::share::origin(&s, &headers);
    json_or_error(
        s.app
            .sidebar()
            .jssdk_config(&c.session.actor, &q.url, &origin)
            .await,
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    external_userid: String,
}

/// `items[].kind` → `items[].kind_label`, in the reader's language.
fn label_kinds(tr: Tr, items: &mut serde_json::Value, prefix: &str) {
    if let Some(list) = items.as_array_mut() {
        for item in list {
            let kind = item["kind"].as_str().unwrap_or_default().to_owned();
            item["kind_label"] = super::labels::code_or_raw(tr, prefix, &kind).into();
        }
    }
}

/// `GET /console/sidebar/contact.json?external_userid=`: the customer card, its touches
/// labelled in the reader's language.
pub async fn contact_json(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<ContactQuery>,
) -> Response {
    let card = s
        .app
        .sidebar()
        .contact(&c.session.actor, &q.external_userid)
        .await
        .and_then(|card| {
            serde_json::to_value(card).map_err(|e| yutang_app::AppError::Internal(e.to_string()))
        })
        .map(|mut v| {
            label_kinds(c.ctx.tr, &mut v["touches"], "event.");
            v
        });
    json_or_error(card)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupQuery {
    chat_id: String,
}

/// `GET /console/sidebar/group.json?chat_id=`: the group card.
pub async fn group_json(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<GroupQuery>,
) -> Response {
    json_or_error(s.app.sidebar().group(&c.session.actor, &q.chat_id).await)
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MaterialsQuery {
    q: Option<String>,
}

/// `GET /console/sidebar/materials.json?q=`: active materials to send, newest first.
pub async fn materials_json(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<MaterialsQuery>,
) -> Response {
    let query = MaterialQuery {
        q: q.q,
        limit: Some(30),
        ..MaterialQuery::default()
    };
    let tr = c.ctx.tr;
    json_or_error(
        s.app
            .materials()
            .list(&c.session.actor, &query)
            .await
            .map(|p| {
                let mut v = serde_json::to_value(p.items).unwrap_or_default();
                label_kinds(tr, &mut v, "materials.kind.");
                v
            }),
    )
}

/// `GET /console/sidebar/tags.json`: the tag catalogue, for editing a customer's tags.
pub async fn tags_json(State(s): State<AppState>, c: Console) -> Response {
    json_or_error(s.app.tags().tag_catalogue(&c.session.actor).await)
}

/// `GET /console/sidebar/coupon-templates.json`: templates the caller may give.
pub async fn templates_json(State(s): State<AppState>, c: Console) -> Response {
    json_or_error(
        s.app
            .sidebar()
            .coupon_templates(&c.session.actor)
            .await
            .map(|ts| {
                ts.into_iter()
                    .map(|t| serde_json::json!({ "id": t.row.id, "name": t.spec.name }))
                    .collect::<Vec<_>>()
            }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    material_id: i64,
    external_userid: Option<String>,
}

/// `POST /console/sidebar/message.json`: the `sendChatMessage` argument for a material.
pub async fn message_json(
    State(s): State<AppState>,
    c: Console,
    headers: HeaderMap,
    ApiJson(b): ApiJson<MessageIn>,
) -> Response {
    if !csrf_ok(&c, &headers) {
        return csrf_refused();
    }
    let (origin, _) = super::share::origin(&s, &headers);
    json_or_error(
        s.app
            .sidebar()
            .message(
                &c.session.actor,
                b.material_id,
                b.external_userid.as_deref(),
                &origin,
            )
            .await,
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponIn {
    external_userid: String,
    template_id: i64,
}

/// `POST /console/sidebar/coupon.json` (with an `Idempotency-Key`): give a coupon.
pub async fn coupon_json(
    State(s): State<AppState>,
    c: Console,
    headers: HeaderMap,
    key: crate::api::idempotency::IdempotencyKey,
    ApiJson(b): ApiJson<CouponIn>,
) -> Response {
    if !csrf_ok(&c, &headers) {
        return csrf_refused();
    }
    let a = &c.session.actor;
    let r = async {
        let customer = s.app.sidebar().customer_of(a, &b.external_userid).await?;
        s.app
            .coupons()
            .issue_by_guide(a, b.template_id, customer, key.as_deref())
            .await
    }
    .await;
    match r {
        Ok((claimed, replayed)) => (
            crate::api::promotions::created(replayed),
            Json(serde_json::json!({
                "claim_id": claimed.claim_id, "coupon_ids": claimed.coupon_ids,
            })),
        )
            .into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsIn {
    customer_id: i64,
    #[serde(default)]
    add: Vec<i64>,
    #[serde(default)]
    remove: Vec<i64>,
}

/// `POST /console/sidebar/tags.json`: add and remove manual tags of a customer in scope.
pub async fn tags_change_json(
    State(s): State<AppState>,
    c: Console,
    headers: HeaderMap,
    ApiJson(b): ApiJson<TagsIn>,
) -> Response {
    if !csrf_ok(&c, &headers) {
        return csrf_refused();
    }
    let a = &c.session.actor;
    let tags = s.app.tags();
    let r = async {
        tags.change_customer_tags(a, b.customer_id, &b.add, &b.remove)
            .await?;
        tags.customer_tags(a, b.customer_id).await
    }
    .await;
    json_or_error(r)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    customer_id: i64,
    body: String,
}

/// `POST /console/sidebar/note.json`: add a note (跟进记录) to a customer in scope.
pub async fn note_json(
    State(s): State<AppState>,
    c: Console,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NoteIn>,
) -> Response {
    if !csrf_ok(&c, &headers) {
        return csrf_refused();
    }
    match s
        .app
        .customers()
        .add_note(&c.session.actor, CustomerId(b.customer_id), &b.body)
        .await
    {
        Ok(n) => (StatusCode::CREATED, Json(n)).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "sidebar.title" => ("客户助手", "Customer assistant"),
        "sidebar.js.detecting" => ("正在识别当前聊天…", "Finding the chat…"),
        "sidebar.js.not_in_wecom" => (
            "请在企业微信的聊天工具栏中打开此页面。",
            "Open this page from the chat toolbar in WeCom.",
        ),
        "sidebar.js.no_context" => (
            "此页面需要从客户聊天或客户群的工具栏打开。",
            "Open this page from the toolbar of a customer chat or a customer group chat.",
        ),
        "sidebar.js.sdk_failed" => (
            "企业微信 JS-SDK 注册失败：请检查自建应用的可信域名与客户联系权限。",
            "WeCom's JS-SDK could not register: check the app's trusted domain and its customer-contact permission.",
        ),
        "sidebar.js.not_configured" => (
            "企业微信自建应用尚未配置：请管理员在「企业微信设置」中填写应用的 AgentId 与 Secret。",
            "WeCom's self-built app is not set up: an admin enters its AgentId and Secret under WeCom settings.",
        ),
        "sidebar.js.not_found" => (
            "这位客户不在你的客户范围内（或尚未同步）。",
            "This customer is not in your scope (or not synced yet).",
        ),
        "sidebar.js.failed" => ("操作失败", "That did not work"),
        "sidebar.js.signed_out" => (
            "登录已过期，请重新打开页面。",
            "Your sign-in expired: open the page again.",
        ),
        "sidebar.js.owner" => ("专属导购", "Consultant"),
        "sidebar.js.guides" => ("跟进导购", "Guides"),
        "sidebar.js.tags" => ("标签", "Tags"),
        "sidebar.js.edit_tags" => ("编辑标签", "Edit tags"),
        "sidebar.js.save_tags" => ("保存标签", "Save tags"),
        "sidebar.js.tasks" => ("我的待办", "My tasks"),
        "sidebar.js.no_tasks" => ("没有待办", "No tasks"),
        "sidebar.js.due" => ("截止", "Due"),
        "sidebar.js.orders" => ("最近订单", "Recent orders"),
        "sidebar.js.no_orders" => ("还没有订单", "No orders yet"),
        "sidebar.js.coupons" => ("可用优惠券", "Usable coupons"),
        "sidebar.js.no_coupons" => ("没有可用优惠券", "No usable coupons"),
        "sidebar.js.give_coupon" => ("发券", "Give a coupon"),
        "sidebar.js.choose_template" => ("选择优惠券", "Choose a coupon"),
        "sidebar.js.coupon_given" => ("已发放优惠券", "Coupon given"),
        "sidebar.js.points" => ("积分", "Points"),
        "sidebar.js.tier" => ("会员等级", "Tier"),
        "sidebar.js.notes" => ("跟进记录", "Notes"),
        "sidebar.js.no_notes" => ("还没有跟进记录", "No notes yet"),
        "sidebar.js.add_note" => ("添加记录", "Add note"),
        "sidebar.js.note_placeholder" => ("记录这次沟通…", "What was said…"),
        "sidebar.js.note_added" => ("已添加记录", "Note added"),
        "sidebar.js.touches" => ("最近动态", "Recent activity"),
        "sidebar.js.materials" => ("素材与话术", "Materials and replies"),
        "sidebar.js.search" => ("搜索素材", "Search materials"),
        "sidebar.js.send" => ("发送", "Send"),
        "sidebar.js.sent" => ("已发送到聊天", "Sent to the chat"),
        "sidebar.js.members" => ("群成员", "Members"),
        "sidebar.js.customers" => ("客户", "Customers"),
        "sidebar.js.my_customers" => ("我的客户", "My customers"),
        "sidebar.js.staff" => ("员工", "Staff"),
        "sidebar.js.other" => ("其他成员", "Others"),
        "sidebar.js.spend" => ("累计消费", "Total spend"),
        "sidebar.js.order_count" => ("订单数", "Orders"),
        "sidebar.js.tags_saved" => ("标签已保存", "Tags saved"),
        "sidebar.js.open_profile" => ("查看客户详情", "Open the profile"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text the script asks for exists in both languages, and the script asks for no
    /// text the page does not send.
    #[test]
    fn script_texts_exist() {
        for k in JS_TEXTS {
            let (zh, en) = text(&format!("sidebar.js.{k}")).unwrap_or_else(|| panic!("{k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        let js = include_str!("../../assets/sidebar.js");
        // Calls of `t("…")` itself, not of `get("…")` and the like.
        for (i, _) in js.match_indices("t(\"") {
            if js[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
                continue;
            }
            let key = js[i + 3..].split('"').next().unwrap_or_default();
            assert!(JS_TEXTS.contains(&key), "sidebar.js asks for {key:?}");
        }
        let en = js_texts(Lang::En);
        assert!(en.contains("Customer") || en.contains("Consultant"));
        assert!(!en.contains('<'));
    }

    /// The vendored JS-SDK is the npm file the vendor README names, byte for byte (after the
    /// banner line), so nobody edits it by hand or swaps it unnoticed.
    #[test]
    fn the_vendored_jssdk_matches_its_recorded_checksum() {
        use sha2::{Digest, Sha256};
        let js = include_str!("../../assets/vendor/wecom-jssdk.js");
        let readme = include_str!("../../assets/vendor/README.md");
        let (banner, body) = js.split_once('\n').unwrap();
        assert!(banner.starts_with("/*! @wecom/jssdk ") && banner.contains("MIT"));
        let sha: String = Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            readme.contains(&sha),
            "{sha} is not the checksum in the README"
        );
    }
}
