//! The fake server's request handling: one dispatcher over the request path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State as AxumState};
use axum::http::Uri;
use serde_json::{Value, json};

use super::corp::{
    AcquisitionLink, ContactWay, Corp, JoinWay, Media, Moment, MomentJob, MsgTarget, MsgTemplate,
    Tag, TagGroup, Transfer,
};
use super::{Hold, IssuedTicket, IssuedToken, State, lock, now_secs};
use crate::client::api::{
    ATTACHMENT_TYPE_MOMENT, MAX_ATTACHMENT_BYTES, MAX_MOMENT_IMAGES, MAX_MOMENT_LINK_TITLE_BYTES,
    MAX_MOMENT_LIST_LIMIT, MAX_MOMENT_LIST_SPAN_SECS, MAX_MOMENT_SENDERS, MAX_MOMENT_TASK_LIMIT,
    MAX_MOMENT_TEXT_CHARS, MIN_ATTACHMENT_BYTES, PATH_ADD_MOMENT_TASK, PATH_CANCEL_MOMENT_TASK,
    PATH_GET_MOMENT_COMMENTS, PATH_GET_MOMENT_LIST, PATH_GET_MOMENT_TASK,
    PATH_GET_MOMENT_TASK_RESULT, PATH_UPLOAD_ATTACHMENT, is_mp4,
};
use crate::client::api::{
    DEFAULT_DUPLICATE_CHECK_INTERVAL_SECS, ERR_INVALID_AGENTID, ERR_NO_APP_PRIVILEGE,
    ERR_NO_VALID_RECIPIENT, MAX_DUPLICATE_CHECK_INTERVAL_SECS, MAX_MESSAGE_USERS,
    PATH_MESSAGE_SEND,
};
use crate::client::api::{
    ERR_API_FORBIDDEN, JSAPI_TICKET_TTL_SECS, MAX_TICKET_FETCHES_PER_APP_PER_HOUR,
    MAX_TICKET_FETCHES_PER_CORP_PER_HOUR, PATH_GET_JSAPI_TICKET, PATH_TICKET_GET,
    TICKET_TYPE_AGENT_CONFIG,
};
use crate::client::api::{
    ERR_INVALID_OAUTH_CODE, OAUTH_CODE_TTL_SECS, PATH_AUTH_GETUSERINFO, PATH_OAUTH_AUTHORIZE,
    PATH_WEB_LOGIN, is_valid_oauth_state,
};
use crate::client::api::{
    MAX_ACQUISITION_LINK_NAME_CHARS, MAX_ACQUISITION_LINK_USERS, MAX_ACQUISITION_PRIORITY_USERS,
    MAX_ATTACHMENTS, MAX_CONTACT_WAY_REMARK_CHARS, MAX_CONTACT_WAY_USERS, MAX_GROUPCHAT_LIST_LIMIT,
    MAX_MSG_TEMPLATE_CHATS, MAX_MSG_TEMPLATE_CUSTOMERS, MAX_MSG_TEMPLATE_TEXT_BYTES,
    MAX_REMINDS_PER_DAY, MAX_STATE_CHARS, MAX_TRANSFER_CUSTOMERS, PATH_ACQUISITION_CREATE_LINK,
    PATH_ACQUISITION_DELETE_LINK, PATH_ACQUISITION_GET, PATH_ACQUISITION_LIST_LINK,
    PATH_ACQUISITION_QUOTA, PATH_ACQUISITION_UPDATE_LINK, PATH_ADD_CONTACT_WAY, PATH_ADD_CORP_TAG,
    PATH_ADD_MSG_TEMPLATE, PATH_BATCH_GET_BY_USER, PATH_CANCEL_GROUPMSG_SEND, PATH_DEL_CONTACT_WAY,
    PATH_DEL_CORP_TAG, PATH_EDIT_CORP_TAG, PATH_GET, PATH_GET_CORP_TAG_LIST,
    PATH_GET_FOLLOW_USER_LIST, PATH_GET_GROUPMSG_LIST_V2, PATH_GET_GROUPMSG_SEND_RESULT,
    PATH_GET_GROUPMSG_TASK, PATH_GROUPCHAT_GET, PATH_GROUPCHAT_LIST, PATH_GROUPCHAT_ONJOB_TRANSFER,
    PATH_GROUPCHAT_TRANSFER, PATH_LIST, PATH_MARK_TAG, PATH_REMIND_GROUPMSG_SEND,
    PATH_RESIGNED_TRANSFER_CUSTOMER, PATH_RESIGNED_TRANSFER_RESULT, PATH_SEND_WELCOME_MSG,
    PATH_TRANSFER_CUSTOMER, PATH_TRANSFER_RESULT, PATH_UPDATE_CONTACT_WAY,
};
use crate::client::api::{
    MAX_JOIN_WAY_CHATS, MAX_JOIN_WAY_REMARK_CHARS, MAX_ROOM_BASE_NAME_CHARS, PATH_ADD_JOIN_WAY,
    PATH_DEL_JOIN_WAY, PATH_GET_JOIN_WAY, PATH_UPDATE_JOIN_WAY,
};
use crate::client::codes;
use crate::client::image::sniff_image;

type Answer = Result<Value, (i64, String)>;

/// The caller's IP as WeCom's errmsg names it (`…, from ip: 1.2.3.4, more info at …`): the
/// fake listens on 127.0.0.1 only, so that is where every caller comes from.
const FAKE_CLIENT_IP: &str = "127.0.0.1";

pub(super) fn router(state: Arc<State>) -> axum::Router {
    axum::Router::new()
        .route(
            "/cgi-bin/{*rest}",
            axum::routing::get(dispatch).post(dispatch),
        )
        .route(QR_IMAGE_ROUTE, axum::routing::get(qr_image))
        .route(
            JOIN_WAY_QR_IMAGE_ROUTE,
            axum::routing::get(join_way_qr_image),
        )
        .route(PATH_WEB_LOGIN, axum::routing::get(web_login))
        .route(PATH_OAUTH_AUTHORIZE, axum::routing::get(oauth_authorize))
        // Above axum's 2 MB default, so an upload over WeCom's 10 MB reaches the fake and gets
        // WeCom's answer (40009 / 40011) rather than HTTP 413.
        .layer(axum::extract::DefaultBodyLimit::max(FAKE_BODY_LIMIT))
        .with_state(state)
}

/// The largest request body the fake reads.
const FAKE_BODY_LIMIT: usize = 4 * MAX_ATTACHMENT_BYTES;

/// Where the fake serves its contact ways' QR images: the path WeCom's image host uses
/// (`https://wework.qpic.cn/wwpic/…`), on the fake's own address, so the client downloads
/// them like WeCom's.
const QR_IMAGE_ROUTE: &str = "/wwpic/fake/{config_id}/0";

/// Where the fake serves its group join ways' QR images (scene 2), beside the contact ways'.
const JOIN_WAY_QR_IMAGE_ROUTE: &str = "/wwpic/fakejoin/{config_id}/0";

/// The key [`super::FakeWecom::calls`] counts the image downloads under.
pub(crate) const QR_IMAGE_CALLS: &str = "/wwpic";

/// What a contact way's QR image encodes (WeCom's encode a `work.weixin.qq.com/u/…` address).
pub fn contact_way_qr_text(config_id: &str) -> String {
    format!("https://work.weixin.qq.com/u/{config_id}")
}

/// What a group join way's QR image encodes (the fake's choice of address).
pub fn join_way_qr_text(config_id: &str) -> String {
    format!("https://work.weixin.qq.com/gm/{config_id}")
}

/// A contact way's QR image, as a PNG: 404 once the way is deleted, 503 while the fake is
/// unreachable or told to fail the next downloads.
async fn qr_image(
    AxumState(state): AxumState<Arc<State>>,
    axum::extract::Path(config_id): axum::extract::Path<String>,
) -> axum::response::Response {
    serve_qr(&state, |corp| {
        corp.contact_way(&config_id)
            .map(|_| contact_way_qr_text(&config_id))
    })
}

/// A group join way's QR image, as a PNG, like [`qr_image`]: 404 once the way is deleted or
/// while it is a mini-program way (scene 1).
async fn join_way_qr_image(
    AxumState(state): AxumState<Arc<State>>,
    axum::extract::Path(config_id): axum::extract::Path<String>,
) -> axum::response::Response {
    serve_qr(&state, |corp| {
        corp.join_way(&config_id)
            .filter(|w| w.scene == 2)
            .map(|_| join_way_qr_text(&config_id))
    })
}

/// Counts the download, fails it as told, and answers the PNG of what `text` gives (404 for
/// `None`).
fn serve_qr(state: &State, text: impl FnOnce(&Corp) -> Option<String>) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    *lock(&state.calls)
        .entry(QR_IMAGE_CALLS.to_owned())
        .or_insert(0) += 1;
    let failing = state
        .failing_images
        .fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| n.checked_sub(1),
        )
        .is_ok();
    if failing || state.unreachable.load(std::sync::atomic::Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let Some(text) = text(&lock(&state.corp)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match yutang_core::qr::Matrix::new(&text).map(|m| m.png()) {
        Ok(Ok(png)) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn fail(code: i64, message: impl Into<String>) -> (i64, String) {
    (code, message.into())
}

async fn dispatch(
    AxumState(state): AxumState<Arc<State>>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path().to_owned();
    *lock(&state.calls).entry(path.clone()).or_insert(0) += 1;
    let _inside = Inside::enter(&state, &path, &body);
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    if state.unreachable.load(std::sync::atomic::Ordering::SeqCst) {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let gate = lock(&state.gates).get(&path).cloned();
    if let Some(gate) = &gate
        && gate.at == Hold::BeforeApplying
    {
        gate.pass().await;
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    // The one multipart path: read the file here (multer is async), judge it in `answer`
    // after the token checks, like WeCom.
    let upload = if path == PATH_UPLOAD_ATTACHMENT {
        Some(read_upload(&headers, body.clone()).await)
    } else {
        None
    };
    let answer = answer(&state, &path, &query, &body, upload);
    if let Some(gate) = &gate {
        gate.pass().await;
    }
    let value = match answer {
        Ok(mut value) => {
            if let Some(object) = value.as_object_mut() {
                object.insert("errcode".into(), json!(0));
                object.insert("errmsg".into(), json!("ok"));
            }
            value
        }
        Err((code, message)) => {
            let hint = {
                let mut hint = lock(&state.hint);
                *hint += 1;
                *hint
            };
            json!({
                "errcode": code,
                "errmsg": format!(
                    "{message}, hint: [fake-{hint}], from ip: {FAKE_CLIENT_IP}, more info at \
                     https://open.work.weixin.qq.com/devtool/query?e={code}"
                ),
            })
        }
    };
    Json(value).into_response()
}

/// A request inside the fake for one object (the `config_id` or `link_id` of its body),
/// counted in [`State::in_flight`] until it is answered or dropped.
struct Inside<'a> {
    state: &'a State,
    key: Option<(String, String)>,
}

impl<'a> Inside<'a> {
    fn enter(state: &'a State, path: &str, body: &[u8]) -> Self {
        let id = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            ["config_id", "link_id"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
        });
        let key = id.map(|id| (path.to_owned(), id));
        if let Some(key) = &key {
            let mut in_flight = lock(&state.in_flight);
            let (now, max) = in_flight.entry(key.clone()).or_insert((0, 0));
            *now += 1;
            *max = (*max).max(*now);
        }
        Self { state, key }
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        if let Some(key) = &self.key
            && let Some((now, _)) = lock(&self.state.in_flight).get_mut(key)
        {
            *now = now.saturating_sub(1);
        }
    }
}

fn answer(
    state: &State,
    path: &str,
    query: &HashMap<String, String>,
    body: &[u8],
    upload: Option<Result<UploadedFile, (i64, String)>>,
) -> Answer {
    if let Some(code) = lock(&state.injected)
        .get_mut(path)
        .and_then(std::collections::VecDeque::pop_front)
    {
        return Err(fail(code, "injected failure"));
    }
    if let Some(limit) = state.per_minute_limit {
        let mut quotas = lock(&state.quotas);
        let quota = quotas.entry(path.to_owned()).or_default();
        let now = Instant::now();
        if quota
            .window_start
            .is_none_or(|start| now.duration_since(start) >= Duration::from_secs(60))
        {
            quota.window_start = Some(now);
            quota.calls = 0;
        }
        quota.calls += 1;
        if quota.calls > limit {
            return Err(fail(codes::FREQUENCY_LIMIT, "api freq out of limit"));
        }
    }
    if path == "/cgi-bin/gettoken" {
        return gettoken(state, query);
    }
    check_token(state, query)?;
    if let Some(upload) = upload {
        return upload_attachment(&mut lock(&state.corp), query, upload);
    }
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| fail(codes::INVALID_PARAMETER, format!("invalid json: {e}")))?
    };
    let mut corp = lock(&state.corp);
    let corp = &mut *corp;
    if corp.takeover_after_secs.is_some() {
        corp.complete_transfers(now_secs(), true);
    }
    match path {
        PATH_GET => get_contact(corp, query),
        PATH_BATCH_GET_BY_USER => batch_get_by_user(corp, &body),
        PATH_LIST => list_contacts(corp, query),
        PATH_GET_FOLLOW_USER_LIST => Ok(json!({
            "follow_user": corp.staff.iter().filter(|s| !s.resigned).map(|s| &s.userid).collect::<Vec<_>>(),
        })),
        PATH_GET_CORP_TAG_LIST => get_corp_tag_list(corp, &body),
        PATH_ADD_CORP_TAG => add_corp_tag(corp, &body),
        PATH_EDIT_CORP_TAG => edit_corp_tag(corp, &body),
        PATH_DEL_CORP_TAG => del_corp_tag(corp, &body),
        PATH_MARK_TAG => mark_tag(corp, &body),
        PATH_GROUPCHAT_LIST => groupchat_list(corp, &body),
        PATH_GROUPCHAT_GET => groupchat_get(corp, &body),
        PATH_ADD_CONTACT_WAY => add_contact_way(corp, &body, &state.base_url),
        PATH_UPDATE_CONTACT_WAY => update_contact_way(corp, &body),
        PATH_DEL_CONTACT_WAY => del_contact_way(corp, &body),
        PATH_ADD_JOIN_WAY => add_join_way(corp, &body, &state.base_url),
        PATH_GET_JOIN_WAY => get_join_way(corp, &body),
        PATH_UPDATE_JOIN_WAY => update_join_way(corp, &body, &state.base_url),
        PATH_DEL_JOIN_WAY => del_join_way(corp, &body),
        PATH_ACQUISITION_LIST_LINK => list_acquisition_links(corp, &body),
        PATH_ACQUISITION_GET => get_acquisition_link(corp, &body),
        PATH_ACQUISITION_CREATE_LINK => create_acquisition_link(corp, &body),
        PATH_ACQUISITION_UPDATE_LINK => update_acquisition_link(corp, &body),
        PATH_ACQUISITION_DELETE_LINK => delete_acquisition_link(corp, &body),
        PATH_ACQUISITION_QUOTA => acquisition_quota(corp),
        PATH_SEND_WELCOME_MSG => send_welcome_msg(corp, &body),
        PATH_ADD_MSG_TEMPLATE => add_msg_template(corp, &body),
        PATH_GET_GROUPMSG_LIST_V2 => get_groupmsg_list(corp, &body),
        PATH_GET_GROUPMSG_TASK => get_groupmsg_task(corp, &body),
        PATH_GET_GROUPMSG_SEND_RESULT => get_groupmsg_send_result(corp, &body),
        PATH_REMIND_GROUPMSG_SEND => remind_groupmsg_send(corp, &body),
        PATH_CANCEL_GROUPMSG_SEND => cancel_groupmsg_send(corp, &body),
        PATH_TRANSFER_CUSTOMER => transfer_customer(corp, &body, false),
        PATH_RESIGNED_TRANSFER_CUSTOMER => transfer_customer(corp, &body, true),
        PATH_TRANSFER_RESULT => transfer_result(corp, &body, false),
        PATH_RESIGNED_TRANSFER_RESULT => transfer_result(corp, &body, true),
        PATH_GROUPCHAT_TRANSFER => groupchat_transfer(corp, &body, true),
        PATH_GROUPCHAT_ONJOB_TRANSFER => groupchat_transfer(corp, &body, false),
        PATH_MESSAGE_SEND => message_send(state, corp, query, &body),
        PATH_AUTH_GETUSERINFO => auth_getuserinfo(state, corp, query),
        PATH_GET_JSAPI_TICKET => jsapi_ticket(state, corp, query, false),
        PATH_TICKET_GET => jsapi_ticket(state, corp, query, true),
        PATH_ADD_MOMENT_TASK => add_moment_task(corp, &body),
        PATH_GET_MOMENT_TASK_RESULT => get_moment_task_result(corp, query),
        PATH_GET_MOMENT_LIST => get_moment_list(corp, &body),
        PATH_GET_MOMENT_TASK => get_moment_task(corp, &body),
        PATH_GET_MOMENT_COMMENTS => get_moment_comments(corp, &body),
        PATH_CANCEL_MOMENT_TASK => cancel_moment_task(corp, &body),
        _ => Err(fail(
            codes::INVALID_PARAMETER,
            format!("fake WeCom does not implement {path}"),
        )),
    }
}

fn gettoken(state: &State, query: &HashMap<String, String>) -> Answer {
    if query.get("corpid").map(String::as_str) != Some(state.corp_id.as_str()) {
        return Err(fail(codes::INVALID_CORPID, "invalid corpid"));
    }
    let secret = query.get("corpsecret").map(String::as_str).unwrap_or("");
    // The contact secret, or a self-built app's ([`super::FakeWecom::add_app`]).
    let agent = if secret == state.secret.as_str() {
        None
    } else {
        match lock(&state.apps).get(secret) {
            Some(agentid) => Some(*agentid),
            None => return Err(fail(codes::INVALID_SECRET, "invalid credential")),
        }
    };
    let now = Instant::now();
    let mut tokens = lock(&state.tokens);
    // Like WeCom: the same token (per secret) while it is valid.
    if let Some((token, issued)) = tokens
        .iter()
        .find(|(_, t)| !t.expired && t.expires_at > now && t.agent == agent)
    {
        return Ok(json!({
            "access_token": token,
            "expires_in": issued.expires_at.duration_since(now).as_secs(),
        }));
    }
    let token = format!(
        "fake-token-{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    );
    tokens.insert(
        token.clone(),
        IssuedToken {
            expires_at: now + state.token_ttl,
            expired: false,
            agent,
        },
    );
    Ok(json!({ "access_token": token, "expires_in": state.token_ttl.as_secs() }))
}

fn check_token(state: &State, query: &HashMap<String, String>) -> Result<(), (i64, String)> {
    let Some(token) = query.get("access_token").filter(|t| !t.is_empty()) else {
        return Err(fail(codes::MISSING_ACCESS_TOKEN, "access_token missing"));
    };
    match lock(&state.tokens).get(token) {
        None => Err(fail(codes::INVALID_ACCESS_TOKEN, "invalid access_token")),
        Some(issued) if issued.expired || issued.expires_at <= Instant::now() => {
            Err(fail(codes::ACCESS_TOKEN_EXPIRED, "access_token expired"))
        }
        Some(_) => Ok(()),
    }
}

fn str_field<'a>(body: &'a Value, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or("")
}

fn str_list(body: &Value, name: &str) -> Vec<String> {
    body.get(name)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn int_field(body: &Value, name: &str) -> Option<i64> {
    body.get(name).and_then(Value::as_i64)
}

fn require_staff(corp: &Corp, userid: &str) -> Result<(), (i64, String)> {
    if corp.staff_member(userid).is_some() {
        Ok(())
    } else {
        Err(fail(
            codes::INVALID_USERID,
            format!("invalid userid {userid}"),
        ))
    }
}

/// Decodes a cursor of ours (`c` + offset); empty is the start.
fn parse_cursor(cursor: &str) -> Result<usize, (i64, String)> {
    if cursor.is_empty() {
        return Ok(0);
    }
    cursor
        .strip_prefix('c')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| fail(codes::INVALID_PARAMETER, "invalid cursor"))
}

/// One page of `items` from `cursor`, and the next cursor (empty at the end).
fn page<T: Clone>(
    items: &[T],
    cursor: &str,
    limit: usize,
) -> Result<(Vec<T>, String), (i64, String)> {
    let start = parse_cursor(cursor)?.min(items.len());
    let end = start.saturating_add(limit).min(items.len());
    let next = if end < items.len() {
        format!("c{end}")
    } else {
        String::new()
    };
    Ok((items[start..end].to_vec(), next))
}

fn contact_json(corp: &Corp, external_userid: &str) -> Value {
    match corp.customers.get(external_userid) {
        Some(c) => {
            let mut value = json!({
                "external_userid": c.external_userid,
                "name": c.name,
                "avatar": c.avatar,
                "type": c.contact_type,
                "gender": c.gender,
            });
            if let Some(unionid) = &c.unionid {
                value["unionid"] = json!(unionid);
            }
            value
        }
        None => json!({ "external_userid": external_userid }),
    }
}

fn get_contact(corp: &Corp, query: &HashMap<String, String>) -> Answer {
    let external_userid = query
        .get("external_userid")
        .map(String::as_str)
        .unwrap_or("");
    if !corp.customers.contains_key(external_userid) {
        return Err(fail(
            codes::INVALID_EXTERNAL_USERID,
            "invalid external userid",
        ));
    }
    let follow_user: Vec<Value> = corp
        .follows
        .iter()
        .filter(|f| f.external_userid == external_userid)
        .map(|f| {
            let tags: Vec<Value> = f
                .tag_ids
                .iter()
                .filter_map(|id| corp.find_tag(id))
                .map(|(group, tag)| {
                    json!({ "group_name": group.group_name, "tag_name": tag.name, "type": 1, "tag_id": tag.id })
                })
                .collect();
            let mut value = json!({
                "userid": f.userid,
                "remark": f.remark,
                "description": f.description,
                "createtime": f.createtime,
                "tags": tags,
                "remark_mobiles": [],
                "add_way": f.add_way,
                "oper_userid": f.userid,
            });
            if let Some(state) = &f.state {
                value["state"] = json!(state);
            }
            value
        })
        .collect();
    Ok(json!({
        "external_contact": contact_json(corp, external_userid),
        "follow_user": follow_user,
        "next_cursor": "",
    }))
}

fn batch_get_by_user(corp: &Corp, body: &Value) -> Answer {
    let userids = str_list(body, "userid_list");
    if userids.is_empty() || userids.len() > 100 {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "userid_list must hold 1..=100 userids",
        ));
    }
    for userid in &userids {
        require_staff(corp, userid)?;
    }
    // "最大值100,默认值50,超过最大值时取最大值"
    let limit = int_field(body, "limit").map_or(50, |l| l.clamp(1, 100));
    let mut entries = Vec::new();
    for userid in &userids {
        let mut follows: Vec<_> = corp
            .follows
            .iter()
            .filter(|f| &f.userid == userid)
            .collect();
        follows.sort_by(|a, b| a.external_userid.cmp(&b.external_userid));
        for f in follows {
            let mut follow_info = json!({
                "userid": f.userid,
                "remark": f.remark,
                "description": f.description,
                "createtime": f.createtime,
                "tag_id": f.tag_ids,
                "remark_mobiles": [],
                "add_way": f.add_way,
                "oper_userid": f.userid,
            });
            if let Some(state) = &f.state {
                follow_info["state"] = json!(state);
            }
            entries.push(json!({
                "external_contact": contact_json(corp, &f.external_userid),
                "follow_info": follow_info,
            }));
        }
    }
    let (items, next_cursor) = page(
        &entries,
        str_field(body, "cursor"),
        usize::try_from(limit).unwrap_or(50),
    )?;
    Ok(json!({ "external_contact_list": items, "next_cursor": next_cursor }))
}

fn list_contacts(corp: &Corp, query: &HashMap<String, String>) -> Answer {
    let userid = query.get("userid").map(String::as_str).unwrap_or("");
    require_staff(corp, userid)?;
    let ids: Vec<&String> = corp
        .follows
        .iter()
        .filter(|f| f.userid == userid)
        .map(|f| &f.external_userid)
        .collect();
    Ok(json!({ "external_userid": ids }))
}

fn tag_group_json(group: &TagGroup, only: Option<&[String]>) -> Value {
    let tags: Vec<Value> = group
        .tags
        .iter()
        .filter(|t| only.is_none_or(|ids| ids.contains(&t.id)))
        .map(|t| json!({ "id": t.id, "name": t.name, "create_time": t.create_time, "order": t.order, "deleted": false }))
        .collect();
    json!({
        "group_id": group.group_id,
        "group_name": group.group_name,
        "create_time": group.create_time,
        "order": group.order,
        "deleted": false,
        "tag": tags,
    })
}

fn get_corp_tag_list(corp: &Corp, body: &Value) -> Answer {
    let tag_ids = str_list(body, "tag_id");
    let group_ids = str_list(body, "group_id");
    let groups: Vec<Value> = if !group_ids.is_empty() {
        corp.tag_groups
            .iter()
            .filter(|g| group_ids.contains(&g.group_id))
            .map(|g| tag_group_json(g, None))
            .collect()
    } else if !tag_ids.is_empty() {
        corp.tag_groups
            .iter()
            .filter(|g| g.tags.iter().any(|t| tag_ids.contains(&t.id)))
            .map(|g| tag_group_json(g, Some(&tag_ids)))
            .collect()
    } else {
        corp.tag_groups
            .iter()
            .map(|g| tag_group_json(g, None))
            .collect()
    };
    Ok(json!({ "tag_group": groups }))
}

fn add_corp_tag(corp: &mut Corp, body: &Value) -> Answer {
    let now = now_secs();
    let names: Vec<(String, i64)> = body
        .get("tag")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .map(|t| {
                    (
                        str_field(t, "name").to_owned(),
                        int_field(t, "order").unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty()
        || names
            .iter()
            .any(|(n, _)| n.is_empty() || n.chars().count() > 30)
    {
        return Err(fail(codes::INVALID_PARAMETER, "invalid tag name"));
    }
    let group_id = str_field(body, "group_id").to_owned();
    let index = if group_id.is_empty() {
        let group_name = str_field(body, "group_name");
        if group_name.is_empty() {
            return Err(fail(codes::INVALID_PARAMETER, "group_name missing"));
        }
        match corp
            .tag_groups
            .iter()
            .position(|g| g.group_name == group_name)
        {
            Some(index) => index,
            None => {
                let group_id = corp.new_id("etFakeGroup");
                corp.tag_groups.push(TagGroup {
                    group_id,
                    group_name: group_name.to_owned(),
                    create_time: now,
                    order: int_field(body, "order").unwrap_or(0),
                    tags: Vec::new(),
                });
                corp.tag_groups.len() - 1
            }
        }
    } else {
        corp.tag_groups
            .iter()
            .position(|g| g.group_id == group_id)
            .ok_or_else(|| fail(40068, "invalid tag group id"))?
    };
    let mut created = Vec::new();
    for (name, order) in names {
        let id = corp.new_id("etFakeTag");
        created.push(id.clone());
        if let Some(group) = corp.tag_groups.get_mut(index) {
            group.tags.push(Tag {
                id,
                name,
                create_time: now,
                order,
            });
        }
    }
    let group = corp
        .tag_groups
        .get(index)
        .ok_or_else(|| fail(-1, "system busy"))?;
    Ok(json!({ "tag_group": tag_group_json(group, Some(&created)) }))
}

fn edit_corp_tag(corp: &mut Corp, body: &Value) -> Answer {
    let id = str_field(body, "id");
    let name = body.get("name").and_then(Value::as_str);
    let order = int_field(body, "order");
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 30) {
        return Err(fail(codes::INVALID_PARAMETER, "invalid name"));
    }
    for group in &mut corp.tag_groups {
        if group.group_id == id {
            if let Some(name) = name {
                group.group_name = name.to_owned();
            }
            if let Some(order) = order {
                group.order = order;
            }
            return Ok(json!({}));
        }
        if let Some(tag) = group.tags.iter_mut().find(|t| t.id == id) {
            if let Some(name) = name {
                tag.name = name.to_owned();
            }
            if let Some(order) = order {
                tag.order = order;
            }
            return Ok(json!({}));
        }
    }
    Err(fail(40068, "invalid tag id"))
}

fn del_corp_tag(corp: &mut Corp, body: &Value) -> Answer {
    let tag_ids = str_list(body, "tag_id");
    let group_ids = str_list(body, "group_id");
    if tag_ids.is_empty() && group_ids.is_empty() {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "tag_id and group_id both empty",
        ));
    }
    for id in &tag_ids {
        if corp.find_tag(id).is_none() {
            return Err(fail(40068, format!("invalid tag id {id}")));
        }
    }
    corp.tag_groups.retain(|g| !group_ids.contains(&g.group_id));
    for group in &mut corp.tag_groups {
        group.tags.retain(|t| !tag_ids.contains(&t.id));
    }
    // A group without tags is deleted with its last tag.
    corp.tag_groups.retain(|g| !g.tags.is_empty());
    for follow in &mut corp.follows {
        follow.tag_ids.retain(|t| corp_has_tag(&corp.tag_groups, t));
    }
    Ok(json!({}))
}

fn corp_has_tag(groups: &[TagGroup], id: &str) -> bool {
    groups.iter().any(|g| g.tags.iter().any(|t| t.id == id))
}

fn mark_tag(corp: &mut Corp, body: &Value) -> Answer {
    let userid = str_field(body, "userid");
    let external_userid = str_field(body, "external_userid");
    let add = str_list(body, "add_tag");
    let remove = str_list(body, "remove_tag");
    if add.is_empty() && remove.is_empty() {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "add_tag and remove_tag both empty",
        ));
    }
    require_staff(corp, userid)?;
    for id in add.iter().chain(&remove) {
        if corp.find_tag(id).is_none() {
            return Err(fail(40068, format!("invalid tag id {id}")));
        }
    }
    let follow = corp
        .follows
        .iter_mut()
        .find(|f| f.userid == userid && f.external_userid == external_userid)
        .ok_or_else(|| fail(codes::INVALID_EXTERNAL_USERID, "invalid external userid"))?;
    follow.tag_ids.retain(|t| !remove.contains(t));
    for id in add {
        if !follow.tag_ids.contains(&id) {
            follow.tag_ids.push(id);
        }
    }
    Ok(json!({}))
}

fn groupchat_list(corp: &Corp, body: &Value) -> Answer {
    let limit = int_field(body, "limit").unwrap_or(0);
    let max = i64::from(MAX_GROUPCHAT_LIST_LIMIT);
    if !(1..=max).contains(&limit) {
        return Err(fail(codes::INVALID_PARAMETER, "limit must be 1..=1000"));
    }
    let status_filter = int_field(body, "status_filter").unwrap_or(0);
    let owners = body
        .get("owner_filter")
        .map(|filter| str_list(filter, "userid_list"));
    if owners.as_ref().is_some_and(|o| o.len() > 100) {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "owner_filter.userid_list too long",
        ));
    }
    let mut groups: Vec<Value> = corp
        .groups
        .iter()
        .filter(|g| match &owners {
            Some(owners) => owners.contains(&g.owner),
            // "当群主为离职成员时,必须要指定群主过滤才可拉取对应数据"
            None => !corp.staff_member(&g.owner).is_some_and(|s| s.resigned),
        })
        .filter(|g| status_filter == 0 || g.status == status_filter)
        .map(|g| json!({ "chat_id": g.chat_id, "status": g.status }))
        .collect();
    groups.sort_by(|a, b| a["chat_id"].as_str().cmp(&b["chat_id"].as_str()));
    let (items, next_cursor) = page(
        &groups,
        str_field(body, "cursor"),
        usize::try_from(limit).unwrap_or(1),
    )?;
    Ok(json!({ "group_chat_list": items, "next_cursor": next_cursor }))
}

fn groupchat_get(corp: &Corp, body: &Value) -> Answer {
    let chat_id = str_field(body, "chat_id");
    let need_name = int_field(body, "need_name") == Some(1);
    let group = corp
        .groups
        .iter()
        .find(|g| g.chat_id == chat_id)
        .ok_or_else(|| fail(codes::NOT_EXTERNAL_CHAT, "chat is not external group chat"))?;
    let members: Vec<Value> = group
        .members
        .iter()
        .map(|m| {
            let mut value = json!({
                "userid": m.userid,
                "type": m.member_type,
                "join_time": m.join_time,
                "join_scene": m.join_scene,
                "group_nickname": m.group_nickname,
            });
            if let Some(invitor) = &m.invitor {
                value["invitor"] = json!({ "userid": invitor });
            }
            if need_name {
                value["name"] = json!(m.name);
            }
            if !m.state.is_empty() {
                value["state"] = json!(m.state);
            }
            if m.member_type == 2
                && let Some(unionid) = corp
                    .customers
                    .get(&m.userid)
                    .and_then(|c| c.unionid.as_ref())
            {
                value["unionid"] = json!(unionid);
            }
            value
        })
        .collect();
    Ok(json!({
        "group_chat": {
            "chat_id": group.chat_id,
            "name": group.name,
            "owner": group.owner,
            "create_time": group.create_time,
            "notice": group.notice,
            "member_list": members,
            "admin_list": group.admins.iter().map(|a| json!({ "userid": a })).collect::<Vec<_>>(),
            "member_version": format!("{:032x}", group.member_version),
        }
    }))
}

/// `state` and `remark` of a contact way: at most 30 characters each (96348).
fn check_state(body: &Value) -> Result<(), (i64, String)> {
    if str_field(body, "state").chars().count() > MAX_STATE_CHARS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "state exceeds 30 characters",
        ));
    }
    if str_field(body, "remark").chars().count() > MAX_CONTACT_WAY_REMARK_CHARS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "remark exceeds 30 characters",
        ));
    }
    Ok(())
}

/// Userids of a contact way: at most 100 (41041), each a staff member (40003).
fn check_way_users(corp: &Corp, users: &[String]) -> Result<(), (i64, String)> {
    if users.len() > MAX_CONTACT_WAY_USERS {
        return Err(fail(
            codes::CONTACT_WAY_TOO_MANY_USERS,
            "contact way user count exceeds the limit",
        ));
    }
    for user in users {
        require_staff(corp, user)?;
    }
    Ok(())
}

/// `type` and `scene` of a contact way: 1 or 2; `missing` when absent, `invalid` otherwise.
fn one_or_two(body: &Value, field: &str, missing: i64, invalid: i64) -> Result<i64, (i64, String)> {
    match int_field(body, field) {
        None => Err(fail(missing, format!("missing contact way {field}"))),
        Some(value @ (1 | 2)) => Ok(value),
        Some(_) => Err(fail(invalid, format!("invalid contact way {field}"))),
    }
}

fn add_contact_way(corp: &mut Corp, body: &Value, base_url: &str) -> Answer {
    let contact_type = one_or_two(
        body,
        "type",
        codes::MISSING_CONTACT_WAY_TYPE,
        codes::INVALID_CONTACT_WAY_TYPE,
    )?;
    let scene = one_or_two(
        body,
        "scene",
        codes::MISSING_CONTACT_WAY_SCENE,
        codes::INVALID_CONTACT_WAY_SCENE,
    )?;
    check_state(body)?;
    let users = str_list(body, "user");
    if contact_type == 1 && users.len() != 1 {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "type 1 needs exactly one user",
        ));
    }
    check_way_users(corp, &users)?;
    let is_temp = body
        .get("is_temp")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if is_temp && contact_type != 1 {
        // "临时会话模式…仅支持单人" (96348); the code WeCom answers is undocumented.
        return Err(fail(
            codes::INVALID_PARAMETER,
            "temporary contact ways are single-user only",
        ));
    }
    // Temporary ways do not count ("临时会话模式不占用「联系我」数量", 96348).
    if !is_temp && corp.counted_contact_ways() >= corp.contact_way_limit {
        return Err(fail(
            codes::CONTACT_WAY_LIMIT_REACHED,
            "contact way count reaches the limit",
        ));
    }
    let config_id = corp.new_id("cwFake");
    let qr_code = format!(
        "{base_url}{}",
        QR_IMAGE_ROUTE.replace("{config_id}", &config_id)
    );
    corp.contact_ways.insert(
        config_id.clone(),
        ContactWay {
            config_id: config_id.clone(),
            contact_type,
            scene,
            remark: str_field(body, "remark").to_owned(),
            state: str_field(body, "state").to_owned(),
            users,
            party: body
                .get("party")
                .and_then(Value::as_array)
                .map(|p| p.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default(),
            skip_verify: body
                .get("skip_verify")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            qr_code: qr_code.clone(),
            is_temp,
            adds: BTreeMap::new(),
        },
    );
    let mut answer = json!({ "config_id": config_id });
    if scene == 2 {
        answer["qr_code"] = json!(qr_code);
    }
    Ok(answer)
}

fn unknown_config_id() -> (i64, String) {
    fail(codes::INVALID_CONFIG_ID, "invalid config_id")
}

fn update_contact_way(corp: &mut Corp, body: &Value) -> Answer {
    check_state(body)?;
    let users = body.get("user").map(|_| str_list(body, "user"));
    if let Some(users) = &users {
        check_way_users(corp, users)?;
    }
    let config_id = str_field(body, "config_id");
    let way = corp
        .contact_ways
        .get_mut(config_id)
        .ok_or_else(unknown_config_id)?;
    if let Some(users) = users {
        if way.contact_type == 1 && users.len() != 1 {
            return Err(fail(
                codes::INVALID_PARAMETER,
                "type 1 needs exactly one user",
            ));
        }
        way.users = users;
    }
    if let Some(remark) = body.get("remark").and_then(Value::as_str) {
        remark.clone_into(&mut way.remark);
    }
    if let Some(state) = body.get("state").and_then(Value::as_str) {
        state.clone_into(&mut way.state);
    }
    if let Some(skip) = body.get("skip_verify").and_then(Value::as_bool) {
        way.skip_verify = skip;
    }
    Ok(json!({}))
}

fn del_contact_way(corp: &mut Corp, body: &Value) -> Answer {
    corp.contact_ways
        .remove(str_field(body, "config_id"))
        .map(|_| json!({}))
        .ok_or_else(unknown_config_id)
}

/// The fields of a group join way as `groupchat/add_join_way` and `update_join_way` send them
/// (99547), checked: `scene` 1 or 2, `auto_create_room` 0 or 1 (default 1), 1 ~ 5 chat ids,
/// `state` at most 30 characters and `room_base_name` at most 40 (40058 each; WeCom's codes
/// for these are undocumented, the fake's choice), every chat id an existing customer group
/// of the corp (90501 "chat is not external group chat", the code `groupchat/get` and the
/// transfers answer for an unknown group; the fake's choice for join ways). A longer `remark`
/// is cut to 30 characters, as WeCom does. `config_id`, `qr_code`, `auto_rooms` and `joins`
/// are left empty.
fn parse_join_way(corp: &Corp, body: &Value) -> Result<JoinWay, (i64, String)> {
    let scene = match int_field(body, "scene") {
        Some(scene @ (1 | 2)) => scene,
        _ => return Err(fail(codes::INVALID_PARAMETER, "invalid scene")),
    };
    let auto_create_room = match body.get("auto_create_room") {
        None => true,
        Some(value) => match value.as_i64() {
            Some(0) => false,
            Some(1) => true,
            _ => return Err(fail(codes::INVALID_PARAMETER, "invalid auto_create_room")),
        },
    };
    let chat_id_list = str_list(body, "chat_id_list");
    if chat_id_list.is_empty() {
        return Err(fail(codes::INVALID_PARAMETER, "chat_id_list is empty"));
    }
    if chat_id_list.len() > MAX_JOIN_WAY_CHATS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "chat_id_list exceeds 5 chats",
        ));
    }
    let state = str_field(body, "state");
    if state.chars().count() > MAX_STATE_CHARS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "state exceeds 30 characters",
        ));
    }
    let room_base_name = str_field(body, "room_base_name");
    if room_base_name.chars().count() > MAX_ROOM_BASE_NAME_CHARS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "room_base_name exceeds 40 characters",
        ));
    }
    if let Some(unknown) = chat_id_list.iter().find(|c| corp.group(c).is_none()) {
        return Err(fail(
            codes::NOT_EXTERNAL_CHAT,
            format!("chat is not external group chat: {unknown}"),
        ));
    }
    Ok(JoinWay {
        config_id: String::new(),
        scene,
        remark: str_field(body, "remark")
            .chars()
            .take(MAX_JOIN_WAY_REMARK_CHARS)
            .collect(),
        auto_create_room,
        room_base_name: room_base_name.to_owned(),
        room_base_id: int_field(body, "room_base_id").unwrap_or(1),
        chat_id_list,
        state: state.to_owned(),
        mark_source: body
            .get("mark_source")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        qr_code: String::new(),
        auto_rooms: Vec::new(),
        joins: 0,
    })
}

/// The QR code URL of a join way on the fake's address (scene 2), or '' (scene 1).
fn join_way_qr_code(base_url: &str, config_id: &str, scene: i64) -> String {
    if scene == 2 {
        format!(
            "{base_url}{}",
            JOIN_WAY_QR_IMAGE_ROUTE.replace("{config_id}", config_id)
        )
    } else {
        String::new()
    }
}

/// `groupchat/add_join_way` (99547): [`parse_join_way`]'s checks, then 41045 past
/// [`Corp::contact_way_limit`] (shared with contact ways).
fn add_join_way(corp: &mut Corp, body: &Value, base_url: &str) -> Answer {
    let mut way = parse_join_way(corp, body)?;
    if corp.counted_contact_ways() >= corp.contact_way_limit {
        return Err(fail(
            codes::CONTACT_WAY_LIMIT_REACHED,
            "contact way count reaches the limit",
        ));
    }
    let config_id = corp.new_id("jwFake");
    way.qr_code = join_way_qr_code(base_url, &config_id, way.scene);
    way.config_id.clone_from(&config_id);
    corp.join_ways.insert(config_id.clone(), way);
    Ok(json!({ "config_id": config_id }))
}

/// `groupchat/get_join_way` (99547); 41044 for an unknown (or deleted) config_id.
fn get_join_way(corp: &Corp, body: &Value) -> Answer {
    let way = corp
        .join_way(str_field(body, "config_id"))
        .ok_or_else(unknown_config_id)?;
    Ok(json!({
        "join_way": {
            "config_id": way.config_id,
            "scene": way.scene,
            "remark": way.remark,
            "auto_create_room": i64::from(way.auto_create_room),
            "room_base_name": way.room_base_name,
            "room_base_id": way.room_base_id,
            "chat_id_list": way.chat_id_list,
            "qr_code": way.qr_code,
            "state": way.state,
        }
    }))
}

/// `groupchat/update_join_way` (99547): replaces every field (the groups the way created and
/// its join count stay); 41044 for an unknown config_id, else [`parse_join_way`]'s checks.
fn update_join_way(corp: &mut Corp, body: &Value, base_url: &str) -> Answer {
    let config_id = str_field(body, "config_id");
    if corp.join_way(config_id).is_none() {
        return Err(unknown_config_id());
    }
    let mut new = parse_join_way(corp, body)?;
    let way = corp
        .join_ways
        .get_mut(config_id)
        .ok_or_else(unknown_config_id)?;
    new.config_id = config_id.to_owned();
    new.qr_code = join_way_qr_code(base_url, config_id, new.scene);
    new.auto_rooms = std::mem::take(&mut way.auto_rooms);
    new.joins = way.joins;
    *way = new;
    Ok(json!({}))
}

/// `groupchat/del_join_way` (99547); 41044 for an unknown config_id.
fn del_join_way(corp: &mut Corp, body: &Value) -> Answer {
    corp.join_ways
        .remove(str_field(body, "config_id"))
        .map(|_| json!({}))
        .ok_or_else(unknown_config_id)
}

/// `send_welcome_msg` (92599): 41049 without a code; 41050 for a code the fake never issued or
/// one past [`Corp::welcome_code_ttl`]; 41051 once a message was sent with it; 41096 while
/// [`super::FakeWecom::welcome_being_sent`] says another app is sending (the code stays
/// unused).
fn send_welcome_msg(corp: &mut Corp, body: &Value) -> Answer {
    let code = str_field(body, "welcome_code");
    if code.is_empty() {
        return Err(fail(codes::MISSING_WELCOME_CODE, "missing welcome_code"));
    }
    let attachments = body
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(fail(codes::INVALID_PARAMETER, "at most 9 attachments"));
    }
    let text = body.get("text").and_then(|t| t.get("content")).cloned();
    if text.is_none() && attachments.is_empty() {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "text and attachments are both empty",
        ));
    }
    let Some(entry) = corp.welcome_codes.get(code) else {
        return Err(fail(codes::INVALID_WELCOME_CODE, "invalid welcome_code"));
    };
    let expired = corp.welcome_code_expired(entry);
    let now_ms = corp.now_ms();
    let Some(entry) = corp.welcome_codes.get_mut(code) else {
        return Err(fail(codes::INVALID_WELCOME_CODE, "invalid welcome_code"));
    };
    if entry.used() {
        return Err(fail(
            codes::WELCOME_ALREADY_SENT,
            "externaluser has started chatting",
        ));
    }
    if entry.busy_answers > 0 {
        entry.busy_answers -= 1;
        return Err(fail(
            codes::WELCOME_BEING_SENT,
            "welcome msg is being distributed",
        ));
    }
    if expired {
        return Err(fail(
            codes::INVALID_WELCOME_CODE,
            "invalid welcome_code: older than the 20 s window",
        ));
    }
    entry.message = Some(json!({ "text": text, "attachments": attachments }));
    entry.used_at_ms = Some(now_ms);
    Ok(json!({}))
}

// ---------------------------------------------------------------------------------------------
// Acquisition links (97297). The page documents no error codes: an unknown link and invalid
// parameters answer 40058, unknown userids 40003.

fn unknown_link() -> (i64, String) {
    fail(codes::INVALID_PARAMETER, "invalid link_id")
}

/// The users and departments of an acquisition link's `range`.
type LinkRange = (Vec<String>, Vec<i64>);

fn parse_link_range(corp: &Corp, range: &Value) -> Result<LinkRange, (i64, String)> {
    let users = str_list(range, "user_list");
    let departments: Vec<i64> = range
        .get("department_list")
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    if users.is_empty() && departments.is_empty() {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "range.user_list and range.department_list are both empty",
        ));
    }
    if users.len() > MAX_ACQUISITION_LINK_USERS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "range covers more than 500 users",
        ));
    }
    for user in &users {
        require_staff(corp, user)?;
    }
    Ok((users, departments))
}

/// `priority_option` of an acquisition link: the priority type and its users.
type Priority = (i64, Vec<String>);

fn parse_priority(corp: &Corp, body: &Value) -> Result<Option<Priority>, (i64, String)> {
    let Some(option) = body.get("priority_option").filter(|o| o.is_object()) else {
        return Ok(None);
    };
    let priority_type = int_field(option, "priority_type").unwrap_or(0);
    if !matches!(priority_type, 1 | 2) {
        return Err(fail(codes::INVALID_PARAMETER, "invalid priority_type"));
    }
    let users = str_list(option, "priority_userid_list");
    if users.len() > MAX_ACQUISITION_PRIORITY_USERS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "priority_userid_list exceeds 1000",
        ));
    }
    for user in &users {
        require_staff(corp, user)?;
    }
    Ok(Some((priority_type, users)))
}

fn check_link_name(name: &str) -> Result<(), (i64, String)> {
    if name.trim().is_empty() {
        return Err(fail(codes::INVALID_PARAMETER, "missing link_name"));
    }
    if name.chars().count() > MAX_ACQUISITION_LINK_NAME_CHARS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "link_name exceeds 30 characters",
        ));
    }
    Ok(())
}

fn link_json(link: &AcquisitionLink) -> Value {
    json!({
        "link_id": link.link_id,
        "link_name": link.link_name,
        "url": link.url,
        "create_time": link.create_time,
        "skip_verify": link.skip_verify,
        "mark_source": link.mark_source,
    })
}

fn list_acquisition_links(corp: &Corp, body: &Value) -> Answer {
    // "最大值100"; what WeCom does with a larger value is undocumented: clamp.
    let limit = int_field(body, "limit").map_or(100, |l| l.clamp(1, 100));
    let ids: Vec<String> = corp.acquisition_links.keys().cloned().collect();
    let (items, next_cursor) = page(
        &ids,
        str_field(body, "cursor"),
        usize::try_from(limit).unwrap_or(100),
    )?;
    Ok(json!({ "link_id_list": items, "next_cursor": next_cursor }))
}

fn get_acquisition_link(corp: &Corp, body: &Value) -> Answer {
    let link = corp
        .acquisition_link(str_field(body, "link_id"))
        .ok_or_else(unknown_link)?;
    let mut answer = json!({
        "link": link_json(link),
        "range": { "user_list": link.users, "department_list": link.departments },
    });
    if let Some(priority_type) = link.priority_type {
        answer["priority_option"] = json!({
            "priority_type": priority_type,
            "priority_userid_list": link.priority_userids,
        });
    }
    Ok(answer)
}

fn create_acquisition_link(corp: &mut Corp, body: &Value) -> Answer {
    let link_name = str_field(body, "link_name").to_owned();
    check_link_name(&link_name)?;
    let range = body.get("range").cloned().unwrap_or_else(|| json!({}));
    let (users, departments) = parse_link_range(corp, &range)?;
    let priority = parse_priority(corp, body)?;
    let link_id = corp.new_id("cawcdeFake");
    let link = AcquisitionLink {
        url: format!("https://work.weixin.qq.com/ca/{link_id}"),
        link_id: link_id.clone(),
        link_name,
        create_time: corp.now_ms() / 1000,
        skip_verify: body
            .get("skip_verify")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        mark_source: body
            .get("mark_source")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        users,
        departments,
        priority_type: priority.as_ref().map(|(t, _)| *t),
        priority_userids: priority.map(|(_, u)| u).unwrap_or_default(),
        adds: BTreeMap::new(),
    };
    // create_link answers link_id, link_name, url and create_time (97297).
    let answer = json!({
        "link": {
            "link_id": link.link_id,
            "link_name": link.link_name,
            "url": link.url,
            "create_time": link.create_time,
        }
    });
    corp.acquisition_links.insert(link_id, link);
    Ok(answer)
}

fn update_acquisition_link(corp: &mut Corp, body: &Value) -> Answer {
    let link_id = str_field(body, "link_id");
    if corp.acquisition_link(link_id).is_none() {
        return Err(unknown_link());
    }
    let name = body.get("link_name").and_then(Value::as_str);
    if let Some(name) = name {
        check_link_name(name)?;
    }
    let range = match body.get("range") {
        Some(range) => Some(parse_link_range(corp, range)?),
        None => None,
    };
    let priority = parse_priority(corp, body)?;
    let link = corp
        .acquisition_links
        .get_mut(link_id)
        .ok_or_else(unknown_link)?;
    if let Some(name) = name {
        name.clone_into(&mut link.link_name);
    }
    // "range为覆盖更新".
    if let Some((users, departments)) = range {
        link.users = users;
        link.departments = departments;
    }
    if let Some((priority_type, users)) = priority {
        link.priority_type = Some(priority_type);
        link.priority_userids = users;
    }
    if let Some(skip) = body.get("skip_verify").and_then(Value::as_bool) {
        link.skip_verify = skip;
    }
    if let Some(mark) = body.get("mark_source").and_then(Value::as_bool) {
        link.mark_source = mark;
    }
    Ok(json!({}))
}

fn delete_acquisition_link(corp: &mut Corp, body: &Value) -> Answer {
    corp.acquisition_links
        .remove(str_field(body, "link_id"))
        .map(|_| json!({}))
        .ok_or_else(unknown_link)
}

fn acquisition_quota(corp: &Corp) -> Answer {
    let quota = corp.acquisition_quota;
    let quota_list: Vec<Value> = if quota.balance > 0 && quota.expire_date > 0 {
        vec![json!({ "expire_date": quota.expire_date, "balance": quota.balance })]
    } else {
        Vec::new()
    };
    Ok(json!({
        "total": quota.total,
        "balance": quota.balance,
        "quota_list": quota_list,
    }))
}

fn add_msg_template(corp: &mut Corp, body: &Value) -> Answer {
    let chat_type = body
        .get("chat_type")
        .and_then(Value::as_str)
        .unwrap_or("single")
        .to_owned();
    let sender = str_field(body, "sender").to_owned();
    if !sender.is_empty() {
        require_staff(corp, &sender)?;
    }
    if str_list(body, "external_userid").len() > MAX_MSG_TEMPLATE_CUSTOMERS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            format!("external_userid exceeds {MAX_MSG_TEMPLATE_CUSTOMERS} customers"),
        ));
    }
    if str_list(body, "chat_id_list").len() > MAX_MSG_TEMPLATE_CHATS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            format!("chat_id_list exceeds {MAX_MSG_TEMPLATE_CHATS} groups"),
        ));
    }
    if body
        .pointer("/text/content")
        .and_then(Value::as_str)
        .is_some_and(|c| c.len() > MAX_MSG_TEMPLATE_TEXT_BYTES)
    {
        return Err(fail(
            codes::INVALID_PARAMETER,
            format!("text.content exceeds {MAX_MSG_TEMPLATE_TEXT_BYTES} bytes"),
        ));
    }
    if body
        .get("attachments")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() > MAX_ATTACHMENTS)
    {
        return Err(fail(
            codes::INVALID_PARAMETER,
            format!("attachments exceed {MAX_ATTACHMENTS}"),
        ));
    }
    let mut targets = Vec::new();
    let mut fail_list = Vec::new();
    if chat_type == "group" {
        if sender.is_empty() {
            return Err(fail(codes::INVALID_PARAMETER, "sender required for group"));
        }
        let chat_ids = str_list(body, "chat_id_list");
        let chosen: Vec<String> = if chat_ids.is_empty() {
            corp.groups
                .iter()
                .filter(|g| g.owner == sender)
                .map(|g| g.chat_id.clone())
                .collect()
        } else {
            chat_ids
        };
        for chat_id in chosen {
            if corp
                .groups
                .iter()
                .any(|g| g.chat_id == chat_id && g.owner == sender)
            {
                targets.push(MsgTarget {
                    sender: sender.clone(),
                    recipient: chat_id,
                    status: 0,
                    send_time: 0,
                });
            } else {
                fail_list.push(chat_id);
            }
        }
    } else {
        for external_userid in str_list(body, "external_userid") {
            let follower = corp
                .follows
                .iter()
                .find(|f| {
                    f.external_userid == external_userid
                        && (sender.is_empty() || f.userid == sender)
                })
                .map(|f| f.userid.clone());
            match follower {
                Some(userid) => targets.push(MsgTarget {
                    sender: userid,
                    recipient: external_userid,
                    status: 0,
                    send_time: 0,
                }),
                None => fail_list.push(external_userid),
            }
        }
    }
    let msgid = corp.new_id("msgFake");
    corp.msg_templates.push(MsgTemplate {
        msgid: msgid.clone(),
        creator: sender,
        create_type: 0,
        chat_type,
        create_time: now_secs(),
        text: body
            .get("text")
            .and_then(|t| t.get("content"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        attachments: body
            .get("attachments")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        targets,
        cancelled: false,
        reminders_ms: Vec::new(),
    });
    Ok(json!({ "fail_list": fail_list, "msgid": msgid }))
}

fn get_groupmsg_list(corp: &Corp, body: &Value) -> Answer {
    let chat_type = body
        .get("chat_type")
        .and_then(Value::as_str)
        .unwrap_or("single");
    let start = int_field(body, "start_time").unwrap_or(0);
    let end = int_field(body, "end_time").unwrap_or(0);
    if end < start || end - start > 31 * 86_400 {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "time range exceeds one month",
        ));
    }
    let creator = str_field(body, "creator");
    let limit = int_field(body, "limit").map_or(50, |l| if l > 100 { 50 } else { l.max(1) });
    let list: Vec<Value> = corp
        .msg_templates
        .iter()
        .filter(|t| t.chat_type == chat_type)
        .filter(|t| (start..=end).contains(&t.create_time))
        .filter(|t| creator.is_empty() || t.creator == creator)
        .map(|t| {
            let mut value = json!({
                "msgid": t.msgid,
                "creator": t.creator,
                "create_time": t.create_time.to_string(),
                "create_type": t.create_type,
                "attachments": t.attachments,
            });
            if let Some(text) = &t.text {
                value["text"] = json!({ "content": text });
            }
            value
        })
        .collect();
    let (items, next_cursor) = page(
        &list,
        str_field(body, "cursor"),
        usize::try_from(limit).unwrap_or(50),
    )?;
    Ok(json!({ "group_msg_list": items, "next_cursor": next_cursor }))
}

fn find_template<'a>(corp: &'a Corp, body: &Value) -> Result<&'a MsgTemplate, (i64, String)> {
    let msgid = str_field(body, "msgid");
    corp.msg_templates
        .iter()
        .find(|t| t.msgid == msgid)
        .ok_or_else(|| fail(codes::INVALID_PARAMETER, "invalid msgid"))
}

fn find_template_mut<'a>(
    corp: &'a mut Corp,
    body: &Value,
) -> Result<&'a mut MsgTemplate, (i64, String)> {
    let msgid = str_field(body, "msgid");
    corp.msg_templates
        .iter_mut()
        .find(|t| t.msgid == msgid)
        .ok_or_else(|| fail(codes::INVALID_PARAMETER, "invalid msgid"))
}

/// `remind_groupmsg_send` (97610): "24小时内每个群发最多触发三次提醒". WeCom documents no error
/// code for a fourth reminder; the fake's choice is 45009 (`codes::FREQUENCY_LIMIT`, WeCom's
/// generic 接口调用超过限制), counted on the corp's clock over the last 24 hours. Only accepted
/// reminders are recorded ([`super::FakeWecom::reminders`]). A cancelled task may still be
/// reminded (undocumented; the fake does not refuse it).
fn remind_groupmsg_send(corp: &mut Corp, body: &Value) -> Answer {
    let now = corp.now_ms();
    let template = find_template_mut(corp, body)?;
    let window_start = now - 24 * 3600 * 1000;
    let recent = template
        .reminders_ms
        .iter()
        .filter(|&&at| at > window_start)
        .count();
    if recent >= usize::try_from(MAX_REMINDS_PER_DAY).unwrap_or(usize::MAX) {
        return Err(fail(
            codes::FREQUENCY_LIMIT,
            format!(
                "api freq out of limit: at most {MAX_REMINDS_PER_DAY} reminders of a msgid in 24 hours"
            ),
        ));
    }
    template.reminders_ms.push(now);
    Ok(json!({}))
}

/// `cancel_groupmsg_send` (97611): the task stops; targets not sent stay unsent (status 0)
/// for good, sent ones stay sent. Cancelling twice is fine.
fn cancel_groupmsg_send(corp: &mut Corp, body: &Value) -> Answer {
    find_template_mut(corp, body)?.cancelled = true;
    Ok(json!({}))
}

fn get_groupmsg_task(corp: &Corp, body: &Value) -> Answer {
    let template = find_template(corp, body)?;
    let mut senders: Vec<&str> = template.targets.iter().map(|t| t.sender.as_str()).collect();
    senders.sort_unstable();
    senders.dedup();
    let tasks: Vec<Value> = senders
        .into_iter()
        .map(|sender| {
            let mine: Vec<&MsgTarget> = template
                .targets
                .iter()
                .filter(|t| t.sender == sender)
                .collect();
            let sent = mine.iter().all(|t| t.status != 0);
            let send_time = mine.iter().map(|t| t.send_time).max().unwrap_or(0);
            let mut value = json!({ "userid": sender, "status": if sent { 2 } else { 0 } });
            if sent {
                value["send_time"] = json!(send_time);
            }
            value
        })
        .collect();
    let limit = int_field(body, "limit").map_or(500, |l| l.clamp(1, 1000));
    let (items, next_cursor) = page(
        &tasks,
        str_field(body, "cursor"),
        usize::try_from(limit).unwrap_or(500),
    )?;
    Ok(json!({ "task_list": items, "next_cursor": next_cursor }))
}

fn get_groupmsg_send_result(corp: &Corp, body: &Value) -> Answer {
    let template = find_template(corp, body)?;
    let userid = str_field(body, "userid");
    let key = if template.chat_type == "group" {
        "chat_id"
    } else {
        "external_userid"
    };
    let list: Vec<Value> = template
        .targets
        .iter()
        .filter(|t| t.sender == userid)
        .map(|t| {
            let mut value = json!({ "userid": t.sender, "status": t.status, key: t.recipient });
            if t.status == 1 {
                value["send_time"] = json!(t.send_time);
            }
            value
        })
        .collect();
    let limit = int_field(body, "limit").map_or(500, |l| l.clamp(1, 1000));
    let (items, next_cursor) = page(
        &list,
        str_field(body, "cursor"),
        usize::try_from(limit).unwrap_or(500),
    )?;
    Ok(json!({ "send_list": items, "next_cursor": next_cursor }))
}

fn transfer_customer(corp: &mut Corp, body: &Value, resigned: bool) -> Answer {
    let handover = str_field(body, "handover_userid").to_owned();
    let takeover = str_field(body, "takeover_userid").to_owned();
    require_staff(corp, &handover)?;
    require_staff(corp, &takeover)?;
    let customers = str_list(body, "external_userid");
    if customers.is_empty() || customers.len() > MAX_TRANSFER_CUSTOMERS {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "external_userid must hold 1..=100 customers",
        ));
    }
    let takeover_time = now_secs() + corp.takeover_after_secs.unwrap_or(86_400);
    let mut results = Vec::new();
    for external_userid in customers {
        let errcode = if corp.follows(&handover, &external_userid) {
            corp.transfers.push(Transfer {
                handover_userid: handover.clone(),
                takeover_userid: takeover.clone(),
                external_userid: external_userid.clone(),
                status: 2,
                takeover_time,
                resigned,
            });
            0
        } else {
            codes::INVALID_EXTERNAL_USERID
        };
        results.push(json!({ "external_userid": external_userid, "errcode": errcode }));
    }
    Ok(json!({ "customer": results }))
}

fn transfer_result(corp: &Corp, body: &Value, resigned: bool) -> Answer {
    let handover = str_field(body, "handover_userid");
    let takeover = str_field(body, "takeover_userid");
    let list: Vec<Value> = corp
        .transfers
        .iter()
        .filter(|t| {
            t.resigned == resigned && t.handover_userid == handover && t.takeover_userid == takeover
        })
        .map(|t| {
            json!({
                "external_userid": t.external_userid,
                "status": t.status,
                "takeover_time": if t.status == 3 { 0 } else { t.takeover_time },
            })
        })
        .collect();
    // "每个分页返回的数据不会超过1000条"
    let (items, next_cursor) = page(&list, str_field(body, "cursor"), 1000)?;
    Ok(json!({ "customer": items, "next_cursor": next_cursor }))
}

/// `groupchat/transfer` (`resigned`, 92127) and `groupchat/onjob_transfer` (95703): unknown
/// chats fail one by one with 90501 (as in WeCom's example), the others get the new owner
/// at once. A group whose owner stays, given through `onjob_transfer`, keeps status 0.
fn groupchat_transfer(corp: &mut Corp, body: &Value, resigned_route: bool) -> Answer {
    let chat_ids = str_list(body, "chat_id_list");
    if chat_ids.is_empty() || chat_ids.len() > 100 {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "chat_id_list must hold 1..=100 ids",
        ));
    }
    let new_owner = str_field(body, "new_owner").to_owned();
    require_staff(corp, &new_owner)?;
    let owner_name = corp
        .staff_member(&new_owner)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let resigned: Vec<String> = corp
        .staff
        .iter()
        .filter(|s| s.resigned)
        .map(|s| s.userid.clone())
        .collect();
    let now = now_secs();
    let mut failed = Vec::new();
    for chat_id in chat_ids {
        let Some(group) = corp.groups.iter_mut().find(|g| g.chat_id == chat_id) else {
            failed.push(json!({
                "chat_id": chat_id,
                "errcode": codes::NOT_EXTERNAL_CHAT,
                "errmsg": "chat is not external group chat",
            }));
            continue;
        };
        let inherited = resigned_route && resigned.contains(&group.owner);
        group.owner.clone_from(&new_owner);
        group.status = if inherited { 3 } else { 0 };
        if !group.members.iter().any(|m| m.userid == new_owner) {
            group.members.push(super::corp::Member {
                userid: new_owner.clone(),
                member_type: 1,
                join_time: now,
                join_scene: 1,
                invitor: None,
                group_nickname: String::new(),
                name: owner_name.clone(),
                state: String::new(),
            });
            group.member_version += 1;
        }
    }
    Ok(json!({ "failed_chat_list": failed }))
}

/// `message/send` (90236): a text app message from the app whose secret the token was issued
/// for. Unknown AgentId 40056, another secret's token 301002; recipients that are not (active)
/// staff are answered in `invaliduser` (lower-cased), none valid is 81013. With
/// `enable_duplicate_check` a request with the same `touser` and content as one delivered
/// within the interval answers ok with that message's `msgid` and delivers nothing.
fn message_send(
    state: &State,
    corp: &mut Corp,
    query: &HashMap<String, String>,
    body: &Value,
) -> Answer {
    let agentid = body.get("agentid").and_then(Value::as_i64).unwrap_or(0);
    let token_agent = query
        .get("access_token")
        .and_then(|t| lock(&state.tokens).get(t).and_then(|i| i.agent));
    if !lock(&state.apps).values().any(|a| *a == agentid) {
        return Err(fail(ERR_INVALID_AGENTID, "invalid agentid"));
    }
    if token_agent != Some(agentid) {
        return Err(fail(ERR_NO_APP_PRIVILEGE, "no privilege to access app"));
    }
    let msgtype = str_field(body, "msgtype");
    if msgtype != "text" {
        return Err(fail(
            codes::INVALID_PARAMETER,
            format!("fake WeCom sends text app messages only, not {msgtype:?}"),
        ));
    }
    let content = body
        .pointer("/text/content")
        .and_then(Value::as_str)
        .unwrap_or("");
    if content.is_empty() {
        return Err(fail(codes::INVALID_PARAMETER, "empty content"));
    }
    let touser_raw = str_field(body, "touser");
    let users: Vec<&str> = touser_raw.split('|').filter(|u| !u.is_empty()).collect();
    if users.is_empty() || users.len() > MAX_MESSAGE_USERS {
        return Err(fail(codes::INVALID_PARAMETER, "invalid touser"));
    }
    let check = body
        .get("enable_duplicate_check")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        == 1;
    let interval = body
        .get("duplicate_check_interval")
        .and_then(Value::as_i64)
        .unwrap_or(i64::from(DEFAULT_DUPLICATE_CHECK_INTERVAL_SECS));
    if check && !(1..=i64::from(MAX_DUPLICATE_CHECK_INTERVAL_SECS)).contains(&interval) {
        return Err(fail(
            codes::INVALID_PARAMETER,
            "invalid duplicate_check_interval",
        ));
    }
    let (valid, invalid): (Vec<&str>, Vec<&str>) = users.iter().partition(|u| {
        corp.staff
            .iter()
            .any(|s| !s.resigned && s.userid.eq_ignore_ascii_case(u))
    });
    let invaliduser = invalid
        .iter()
        .map(|u| u.to_lowercase())
        .collect::<Vec<_>>()
        .join("|");
    if valid.is_empty() {
        return Err(fail(ERR_NO_VALID_RECIPIENT, "no valid recipient"));
    }
    let now = corp.now_ms();
    let mut sent = lock(&state.app_messages);
    if check
        && let Some(first) = sent.iter().rev().find(|m| {
            m.agentid == agentid
                && m.touser_raw == touser_raw
                && m.content == content
                && now - m.sent_at_ms < interval * 1000
        })
    {
        state
            .duplicate_messages
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        return Ok(json!({ "invaliduser": invaliduser, "msgid": first.msgid }));
    }
    corp.next_id += 1;
    let msgid = format!("fake-msg-{}", corp.next_id);
    sent.push(super::AppMessage {
        msgid: msgid.clone(),
        agentid,
        touser: valid.iter().map(|u| (*u).to_owned()).collect(),
        touser_raw: touser_raw.to_owned(),
        msgtype: msgtype.to_owned(),
        content: content.to_owned(),
        sent_at_ms: now,
        dedupe_secs: check.then_some(interval),
    });
    Ok(json!({ "invaliduser": invaliduser, "msgid": msgid }))
}

// ---------------------------------------------------------------------------------------------
// Sign-in with WeCom: `auth/getuserinfo` (96442) and the two browser-facing pages

/// `auth/getuserinfo` (96442): who a sign-in code is of. Needs an app's token (301002 for the
/// contact secret's); a code is answered once, within [`OAUTH_CODE_TTL_SECS`] of the corp's
/// clock; unknown, used or expired: 40029.
fn auth_getuserinfo(state: &State, corp: &mut Corp, query: &HashMap<String, String>) -> Answer {
    let token_agent = query
        .get("access_token")
        .and_then(|t| lock(&state.tokens).get(t).and_then(|i| i.agent));
    if token_agent.is_none() {
        return Err(fail(ERR_NO_APP_PRIVILEGE, "no privilege to access app"));
    }
    let now = corp.now_ms();
    let ttl_ms = i64::try_from(OAUTH_CODE_TTL_SECS * 1000).unwrap_or(i64::MAX);
    let code = query.get("code").map(String::as_str).unwrap_or("");
    let Some(issued) = corp.oauth_codes.get_mut(code) else {
        return Err(fail(ERR_INVALID_OAUTH_CODE, "invalid code"));
    };
    if issued.used || now.saturating_sub(issued.issued_at_ms) >= ttl_ms {
        return Err(fail(ERR_INVALID_OAUTH_CODE, "invalid code"));
    }
    issued.used = true;
    match issued.userid.clone() {
        Some(userid) => Ok(json!({ "userid": userid })),
        None => Ok(json!({
            "openid": corp.new_id("oFakeOpenid"),
            "external_userid": corp.new_id("wmFakeOutsider"),
        })),
    }
}

/// `get_jsapi_ticket` (`agent` false) and `ticket/get?type=agent_config` (`agent` true), 96909:
/// an app token only (48002 otherwise, the fake's choice); at most 400 answered fetches per
/// corp and 100 per app in the last hour of the corp's clock (45009 past them, not counted);
/// the same ticket while it is valid, with the seconds it has left.
fn jsapi_ticket(
    state: &State,
    corp: &mut Corp,
    query: &HashMap<String, String>,
    agent: bool,
) -> Answer {
    let Some(agentid) = query
        .get("access_token")
        .and_then(|t| lock(&state.tokens).get(t).and_then(|i| i.agent))
    else {
        return Err(fail(ERR_API_FORBIDDEN, "api forbidden"));
    };
    if agent && query.get("type").map(String::as_str) != Some(TICKET_TYPE_AGENT_CONFIG) {
        return Err(fail(codes::INVALID_PARAMETER, "invalid type"));
    }
    let now = corp.now_ms();
    let hour_ms = 3_600_000;
    let mut tickets = lock(&state.jsapi);
    let tickets = &mut *tickets;
    while tickets
        .recent
        .front()
        .is_some_and(|&(at, _)| now.saturating_sub(at) >= hour_ms)
    {
        tickets.recent.pop_front();
    }
    let by_app = tickets
        .recent
        .iter()
        .filter(|&&(_, a)| a == agentid)
        .count();
    if tickets.recent.len() >= MAX_TICKET_FETCHES_PER_CORP_PER_HOUR
        || by_app >= MAX_TICKET_FETCHES_PER_APP_PER_HOUR
    {
        return Err(fail(codes::FREQUENCY_LIMIT, "api freq out of limit"));
    }
    let slot = if agent {
        tickets.agents.get_mut(&agentid)
    } else {
        tickets.corp.as_mut()
    };
    let ticket = match slot {
        Some(issued) if issued.expires_at_ms > now => issued.clone(),
        _ => {
            let ttl_ms = i64::try_from(JSAPI_TICKET_TTL_SECS * 1000).unwrap_or(i64::MAX);
            let issued = IssuedTicket {
                ticket: format!(
                    "fake-{}-ticket-{:016x}{:016x}",
                    if agent { "agent" } else { "corp" },
                    rand::random::<u64>(),
                    rand::random::<u64>()
                ),
                expires_at_ms: now.saturating_add(ttl_ms),
            };
            if agent {
                tickets.agents.insert(agentid, issued.clone());
            } else {
                tickets.corp = Some(issued.clone());
            }
            issued
        }
    };
    tickets.recent.push_back((now, agentid));
    tickets.answered += 1;
    // Whole seconds left, rounded up so a fresh ticket says 7200.
    let left_ms = u64::try_from(ticket.expires_at_ms.saturating_sub(now)).unwrap_or(0);
    Ok(json!({
        "ticket": ticket.ticket,
        "expires_in": left_ms.div_ceil(1000),
    }))
}

/// A 400 page, as WeCom shows one for a sign-in it refuses.
fn login_refused(reason: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::BAD_REQUEST,
        axum::response::Html(format!(
            "<!doctype html><meta charset=\"utf-8\"><title>企业微信</title><p>fake WeCom: {reason}</p>"
        )),
    )
        .into_response()
}

/// `redirect_uri?code=…&state=…` for the member of [`super::FakeWecom::set_web_login_user`],
/// after the checks both sign-in pages make.
fn sign_in_redirect(
    state: &State,
    path: &str,
    query: &HashMap<String, String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    *lock(&state.calls).entry(path.to_owned()).or_insert(0) += 1;
    if state.unreachable.load(std::sync::atomic::Ordering::SeqCst) {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let param = |k: &str| query.get(k).map(String::as_str).unwrap_or("");
    if param("appid") != state.corp_id {
        return login_refused("appid is not the corp id");
    }
    let agent_known = param("agentid")
        .parse::<i64>()
        .is_ok_and(|a| lock(&state.apps).values().any(|x| *x == a));
    if !agent_known {
        return login_refused("unknown agentid");
    }
    let redirect = param("redirect_uri");
    if !(redirect.starts_with("http://") || redirect.starts_with("https://")) {
        return login_refused("redirect_uri must be an http(s) URL");
    }
    let st = param("state");
    if !st.is_empty() && !is_valid_oauth_state(st) {
        return login_refused("state must be at most 128 letters and digits");
    }
    let Some(userid) = lock(&state.web_login_user).clone() else {
        return login_refused("nobody confirmed the sign-in");
    };
    let code = lock(&state.corp).issue_oauth_code(Some(userid.as_str()));
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let location = format!("{redirect}{sep}code={code}&state={st}");
    match axum::http::HeaderValue::from_str(&location) {
        Ok(v) => (
            axum::http::StatusCode::FOUND,
            [(axum::http::header::LOCATION, v)],
        )
            .into_response(),
        Err(_) => login_refused("redirect_uri is not a valid address"),
    }
}

/// The web-login (QR) page (98151): `login_type=CorpApp`; the member of
/// [`super::FakeWecom::set_web_login_user`] has scanned and confirmed.
async fn web_login(
    AxumState(state): AxumState<Arc<State>>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::response::Response {
    if query.get("login_type").map(String::as_str) != Some("CorpApp") {
        return login_refused("login_type must be CorpApp");
    }
    sign_in_redirect(&state, PATH_WEB_LOGIN, &query)
}

/// The OAuth page inside the WeCom client (91022): `response_type=code`, `scope` snsapi_base
/// (or snsapi_privateinfo); the member of [`super::FakeWecom::set_web_login_user`] is the one
/// signed in to the client.
async fn oauth_authorize(
    AxumState(state): AxumState<Arc<State>>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::response::Response {
    if query.get("response_type").map(String::as_str) != Some("code") {
        return login_refused("response_type must be code");
    }
    if !matches!(
        query.get("scope").map(String::as_str),
        Some("snsapi_base" | "snsapi_privateinfo")
    ) {
        return login_refused("scope must be snsapi_base or snsapi_privateinfo");
    }
    sign_in_redirect(&state, PATH_OAUTH_AUTHORIZE, &query)
}

// ---------------------------------------------------------------------------------------------
// Moments (客户朋友圈, 95094 / 93443 / 97612) and attachments (96347)

/// The `media` part of an `upload_attachment` request.
pub(super) struct UploadedFile {
    file_name: String,
    bytes: Bytes,
}

/// Reads the `media` part of a `multipart/form-data` body: 40058 for a body that is not
/// multipart, 44001 (多媒体文件为空) without a `media` part.
async fn read_upload(
    headers: &axum::http::HeaderMap,
    body: Bytes,
) -> Result<UploadedFile, (i64, String)> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|e| {
        fail(
            codes::INVALID_PARAMETER,
            format!("invalid multipart body: {e}"),
        )
    })?;
    let stream = futures_util::stream::iter([Ok::<Bytes, std::convert::Infallible>(body)]);
    let mut multipart = multer::Multipart::new(stream, boundary);
    let malformed = |e: multer::Error| {
        fail(
            codes::INVALID_PARAMETER,
            format!("invalid multipart body: {e}"),
        )
    };
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        if field.name() != Some("media") {
            continue;
        }
        let file_name = field.file_name().unwrap_or("").to_owned();
        let bytes = field.bytes().await.map_err(malformed)?;
        return Ok(UploadedFile { file_name, bytes });
    }
    Err(fail(codes::EMPTY_MEDIA, "empty media data: no media part"))
}

/// `media/upload_attachment` (96347): `attachment_type` 1 (the fake implements moments only,
/// 40058 otherwise), `media_type` image or video (40004), more than 5 bytes (40006), an image
/// JPG/PNG (40005) of at most 10 MB (40009), a video MP4 (40005) of at most 10 MB (40011). The
/// media id is valid 3 days on the corp's clock.
fn upload_attachment(
    corp: &mut Corp,
    query: &HashMap<String, String>,
    upload: Result<UploadedFile, (i64, String)>,
) -> Answer {
    let attachment_type = query.get("attachment_type").map_or("", String::as_str);
    if attachment_type != ATTACHMENT_TYPE_MOMENT.to_string() {
        return Err(fail(
            codes::INVALID_PARAMETER,
            format!("invalid attachment_type {attachment_type:?}: the fake implements 1 (moments)"),
        ));
    }
    let media_type = query.get("media_type").map_or("", String::as_str);
    if !matches!(media_type, "image" | "video") {
        return Err(fail(
            codes::INVALID_MEDIA_TYPE,
            format!("invalid media type {media_type:?}: moments accept image and video"),
        ));
    }
    let file = upload?;
    let size = file.bytes.len();
    if size == 0 {
        return Err(fail(codes::EMPTY_MEDIA, "empty media data"));
    }
    if size <= MIN_ATTACHMENT_BYTES {
        return Err(fail(
            codes::INVALID_FILE_SIZE,
            "invalid file size: must be more than 5 bytes",
        ));
    }
    let (format_ok, size_code) = if media_type == "image" {
        (
            sniff_image(&file.bytes).is_some(),
            codes::INVALID_IMAGE_SIZE,
        )
    } else {
        (is_mp4(&file.bytes), codes::INVALID_VIDEO_SIZE)
    };
    if size > MAX_ATTACHMENT_BYTES {
        return Err(fail(
            size_code,
            format!("invalid {media_type} size: at most 10MB"),
        ));
    }
    if !format_ok {
        return Err(fail(
            codes::INVALID_FILE_TYPE,
            format!("invalid file type: a {media_type} must be JPG/PNG or MP4"),
        ));
    }
    let media_id = corp.new_id("mediaFakeAttachment");
    let created_at = corp.now_secs();
    corp.media.insert(
        media_id.clone(),
        Media {
            kind: media_type.to_owned(),
            created_at,
            file_name: file.file_name,
            bytes: size,
        },
    );
    Ok(json!({ "type": media_type, "media_id": media_id, "created_at": created_at }))
}

/// `add_moment_task` (95094). Refused at once (40058 with WeCom's errmsg): text over 2,000
/// characters (`invalid text size`), text and attachments both empty, an unknown or mixed
/// `msgtype` (`invalid attachments msgtype`), more than 9 images or 1 video or 1 link
/// (`invalid attachments size`), a link without title (or over 64 bytes) or url, more than
/// 100,000 userids; 41006 for an attachment without a media id. Media ids are checked by the
/// job, as WeCom does: unknown, expired (3 days) or of the wrong kind (a link's cover must be
/// an image) make the job fail with `result.errcode` 40007. Senders that are not active staff
/// and every department (the fake has none) go to `invalid_sender_list`, tags that are not
/// corp tags to `invalid_external_contact_list`; without `sender_list` every active member is
/// a sender.
fn add_moment_task(corp: &mut Corp, body: &Value) -> Answer {
    let bad = |message: &str| Err(fail(codes::INVALID_PARAMETER, message));
    let text = body
        .pointer("/text/content")
        .and_then(Value::as_str)
        .unwrap_or("");
    if text.chars().count() > MAX_MOMENT_TEXT_CHARS {
        return bad("invalid text size");
    }
    let attachments = body
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if text.is_empty() && attachments.is_empty() {
        return bad("text and attachments are both empty");
    }
    let mut kinds: Vec<&str> = Vec::new();
    let mut media: Vec<(&'static str, String)> = Vec::new();
    for attachment in &attachments {
        let (msgtype, needs, pointer) = match str_field(attachment, "msgtype") {
            "image" => ("image", "image", "/image/media_id"),
            "video" => ("video", "video", "/video/media_id"),
            "link" => {
                let title = attachment
                    .pointer("/link/title")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if title.is_empty() || title.len() > MAX_MOMENT_LINK_TITLE_BYTES {
                    return bad("invalid link title");
                }
                let url = attachment
                    .pointer("/link/url")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if url.is_empty() {
                    return bad("invalid link url");
                }
                ("link", "image", "/link/media_id")
            }
            _ => return bad("invalid attachments msgtype"),
        };
        let media_id = attachment
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("");
        if media_id.is_empty() {
            return Err(fail(codes::MISSING_MEDIA_ID, "media_id missing"));
        }
        if !kinds.contains(&msgtype) {
            kinds.push(msgtype);
        }
        media.push((needs, media_id.to_owned()));
    }
    if kinds.len() > 1 {
        return bad("invalid attachments msgtype");
    }
    let max = if kinds == ["image"] {
        MAX_MOMENT_IMAGES
    } else {
        1
    };
    if attachments.len() > max {
        return bad("invalid attachments size");
    }
    let range = body.get("visible_range");
    let sender_list = range.and_then(|r| r.get("sender_list"));
    let (senders, invalid_users, invalid_departments) = match sender_list {
        None => (
            corp.staff
                .iter()
                .filter(|s| !s.resigned)
                .map(|s| s.userid.clone())
                .collect(),
            Vec::new(),
            Vec::new(),
        ),
        Some(list) => {
            let users = str_list(list, "user_list");
            if users.len() > MAX_MOMENT_SENDERS {
                return bad("invalid user_list size");
            }
            let mut senders: Vec<String> = Vec::new();
            let mut invalid: Vec<String> = Vec::new();
            for user in users {
                let active = corp.staff_member(&user).is_some_and(|s| !s.resigned);
                let seen = senders.contains(&user) || invalid.contains(&user);
                if seen {
                    continue;
                }
                if active {
                    senders.push(user);
                } else {
                    invalid.push(user);
                }
            }
            let departments: Vec<i64> = list
                .get("department_list")
                .and_then(Value::as_array)
                .map(|d| d.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            (senders, invalid, departments)
        }
    };
    let tags = range
        .and_then(|r| r.get("external_contact_list"))
        .map(|l| str_list(l, "tag_list"))
        .unwrap_or_default();
    let (tag_list, invalid_tags): (Vec<String>, Vec<String>) =
        tags.into_iter().partition(|t| corp.find_tag(t).is_some());
    let now = corp.now_secs();
    let jobid = corp.new_id("jobFakeMoment");
    let bad_media = media
        .iter()
        .find(|(needs, id)| corp.valid_media(id).is_none_or(|m| m.kind != *needs));
    let outcome = if let Some((_, id)) = bad_media {
        Err((codes::INVALID_MEDIA_ID, format!("invalid media_id {id}")))
    } else {
        let moment_id = corp.new_id("momFake");
        corp.moments.push(Moment {
            moment_id: moment_id.clone(),
            jobid: jobid.clone(),
            text: text.to_owned(),
            attachments: Value::Array(attachments),
            senders,
            tag_list,
            create_time: now,
            published: BTreeMap::new(),
            cancelled: false,
            likes: Vec::new(),
            comments: Vec::new(),
        });
        Ok(moment_id)
    };
    corp.moment_jobs.insert(
        jobid.clone(),
        MomentJob {
            created_at: now,
            outcome,
            invalid_users,
            invalid_departments,
            invalid_tags,
        },
    );
    Ok(json!({ "jobid": jobid }))
}

/// `get_moment_task_result` (95094): 40058 for an unknown jobid or one older than 24 hours;
/// status 2 without a result while [`Corp::moment_job_delays`] lasts, else status 3 with the
/// job's result.
fn get_moment_task_result(corp: &mut Corp, query: &HashMap<String, String>) -> Answer {
    let jobid = query.get("jobid").map_or("", String::as_str);
    let job = corp
        .moment_jobs
        .get(jobid)
        .cloned()
        .ok_or_else(|| fail(codes::INVALID_PARAMETER, "invalid jobid"))?;
    if corp.now_secs() - job.created_at >= 86_400 {
        return Err(fail(codes::INVALID_PARAMETER, "jobid expired"));
    }
    if corp.moment_job_delays > 0 {
        corp.moment_job_delays -= 1;
        return Ok(json!({ "status": 2, "type": "add_moment_task" }));
    }
    let result = match job.outcome {
        Ok(moment_id) => json!({
            "errcode": 0,
            "errmsg": "ok",
            "moment_id": moment_id,
            "invalid_sender_list": {
                "user_list": job.invalid_users,
                "department_list": job.invalid_departments,
            },
            "invalid_external_contact_list": { "tag_list": job.invalid_tags },
        }),
        Err((errcode, errmsg)) => json!({ "errcode": errcode, "errmsg": errmsg }),
    };
    Ok(json!({ "status": 3, "type": "add_moment_task", "result": result }))
}

/// A moment as `get_moment_list` shows it (93443): API-created, so `create_type` 0 and no
/// `creator`; `visible_type` 0 (some customers) with tags, else 1.
fn moment_json(moment: &Moment) -> Value {
    let mut value = json!({
        "moment_id": moment.moment_id,
        "create_type": 0,
        "visible_type": if moment.tag_list.is_empty() { 1 } else { 0 },
        "create_time": moment.create_time,
    });
    if !moment.text.is_empty() {
        value["text"] = json!({ "content": moment.text });
    }
    let mut images = Vec::new();
    for attachment in moment.attachments.as_array().into_iter().flatten() {
        match str_field(attachment, "msgtype") {
            "image" => images.push(json!({ "media_id": attachment.pointer("/image/media_id") })),
            "video" => {
                value["video"] = json!({
                    "media_id": attachment.pointer("/video/media_id"),
                    "thumb_media_id": "",
                });
            }
            "link" => {
                value["link"] = json!({
                    "title": attachment.pointer("/link/title"),
                    "url": attachment.pointer("/link/url"),
                });
            }
            _ => {}
        }
    }
    if !images.is_empty() {
        value["image"] = Value::Array(images);
    }
    value
}

/// `get_moment_list` (93443): moments created in [start_time, end_time] (at most 30 days
/// apart, 40058), `limit` 1..=20 (default 20, 40058 outside), `filter_type` 0 / 2 include the
/// API's moments and 1 (personal) does not, a `creator` matches none of them.
fn get_moment_list(corp: &Corp, body: &Value) -> Answer {
    let start = int_field(body, "start_time").unwrap_or(0);
    let end = int_field(body, "end_time").unwrap_or(0);
    if end < start || end - start > MAX_MOMENT_LIST_SPAN_SECS {
        return Err(fail(codes::INVALID_PARAMETER, "time range exceeds 30 days"));
    }
    let limit = int_field(body, "limit").unwrap_or(MAX_MOMENT_LIST_LIMIT);
    if !(1..=MAX_MOMENT_LIST_LIMIT).contains(&limit) {
        return Err(fail(codes::INVALID_PARAMETER, "invalid limit"));
    }
    let filter_type = int_field(body, "filter_type").unwrap_or(2);
    if !(0..=2).contains(&filter_type) {
        return Err(fail(codes::INVALID_PARAMETER, "invalid filter_type"));
    }
    let by_creator = !str_field(body, "creator").is_empty();
    let list: Vec<Value> = corp
        .moments
        .iter()
        .filter(|_| filter_type != 1 && !by_creator)
        .filter(|m| (start..=end).contains(&m.create_time))
        .map(moment_json)
        .collect();
    let (items, next_cursor) = page(
        &list,
        str_field(body, "cursor"),
        usize::try_from(limit).unwrap_or(20),
    )?;
    Ok(json!({ "moment_list": items, "next_cursor": next_cursor }))
}

fn find_moment<'a>(corp: &'a Corp, body: &Value) -> Result<&'a Moment, (i64, String)> {
    let moment_id = str_field(body, "moment_id");
    corp.moments
        .iter()
        .find(|m| m.moment_id == moment_id)
        .ok_or_else(|| fail(codes::INVALID_PARAMETER, "invalid moment_id"))
}

/// `get_moment_task` (93443): every sender with `publish_status` 0 / 1, paged (`limit`
/// 1..=1000, default 500).
fn get_moment_task(corp: &Corp, body: &Value) -> Answer {
    let moment = find_moment(corp, body)?;
    let limit = int_field(body, "limit").unwrap_or(500);
    if !(1..=MAX_MOMENT_TASK_LIMIT).contains(&limit) {
        return Err(fail(codes::INVALID_PARAMETER, "invalid limit"));
    }
    let tasks: Vec<Value> = moment
        .senders
        .iter()
        .map(|userid| {
            json!({
                "userid": userid,
                "publish_status": i64::from(moment.published.contains_key(userid)),
            })
        })
        .collect();
    let (items, next_cursor) = page(
        &tasks,
        str_field(body, "cursor"),
        usize::try_from(limit).unwrap_or(500),
    )?;
    Ok(json!({ "task_list": items, "next_cursor": next_cursor }))
}

/// `get_moment_comments` (93443): the likes and comments on `userid`'s post, each by a customer
/// (`external_userid`) or, when the one who interacted is a member, by `userid`; never both.
/// 40003 for a userid that is not staff.
fn get_moment_comments(corp: &Corp, body: &Value) -> Answer {
    let moment = find_moment(corp, body)?;
    let userid = str_field(body, "userid");
    require_staff(corp, userid)?;
    let entries = |list: &[(String, String, i64)]| -> Vec<Value> {
        list.iter()
            .filter(|(poster, _, _)| poster == userid)
            .map(|(_, who, at)| {
                let key = if corp.staff_member(who).is_some() {
                    "userid"
                } else {
                    "external_userid"
                };
                json!({ key: who, "create_time": at })
            })
            .collect()
    };
    Ok(json!({
        "comment_list": entries(&moment.comments),
        "like_list": entries(&moment.likes),
    }))
}

/// `cancel_moment_task` (97612): nobody publishes it any more; published posts stay.
/// Cancelling twice is fine.
fn cancel_moment_task(corp: &mut Corp, body: &Value) -> Answer {
    let moment_id = str_field(body, "moment_id");
    let moment = corp
        .moments
        .iter_mut()
        .find(|m| m.moment_id == moment_id)
        .ok_or_else(|| fail(codes::INVALID_PARAMETER, "invalid moment_id"))?;
    moment.cancelled = true;
    Ok(json!({}))
}
