//! The customer-contact endpoints, as methods of [`WecomClient`], with typed requests and
//! responses.
//!
//! Sources. Paths, field names and limits were checked against WeCom's official pages
//! (developer.work.weixin.qq.com/document/path/N) as far as their text was available to us;
//! each item says which page, and what came only from maintained SDKs (WxJava, go-workwx,
//! wechat_sdk, zsmhub/workweixin) is marked *unverified*. Unknown response fields are ignored
//! and most response fields default when absent, so a WeCom that adds or omits fields does
//! not break decoding.

use serde::{Deserialize, Deserializer, Serialize};

use super::{Empty, WecomClient, WecomError};

// ---------------------------------------------------------------------------------------------
// Paths

/// `GET /cgi-bin/externalcontact/get` (92114).
pub const PATH_GET: &str = "/cgi-bin/externalcontact/get";
/// `POST /cgi-bin/externalcontact/batch/get_by_user` (92994).
pub const PATH_BATCH_GET_BY_USER: &str = "/cgi-bin/externalcontact/batch/get_by_user";
/// `GET /cgi-bin/externalcontact/list` (92113).
pub const PATH_LIST: &str = "/cgi-bin/externalcontact/list";
/// `GET /cgi-bin/externalcontact/get_follow_user_list` (92571).
pub const PATH_GET_FOLLOW_USER_LIST: &str = "/cgi-bin/externalcontact/get_follow_user_list";
/// `POST /cgi-bin/externalcontact/get_corp_tag_list` (92117).
pub const PATH_GET_CORP_TAG_LIST: &str = "/cgi-bin/externalcontact/get_corp_tag_list";
/// `POST /cgi-bin/externalcontact/add_corp_tag` (92117).
pub const PATH_ADD_CORP_TAG: &str = "/cgi-bin/externalcontact/add_corp_tag";
/// `POST /cgi-bin/externalcontact/edit_corp_tag` (92117).
pub const PATH_EDIT_CORP_TAG: &str = "/cgi-bin/externalcontact/edit_corp_tag";
/// `POST /cgi-bin/externalcontact/del_corp_tag` (92117).
pub const PATH_DEL_CORP_TAG: &str = "/cgi-bin/externalcontact/del_corp_tag";
/// `POST /cgi-bin/externalcontact/mark_tag` (92118 / 92697).
pub const PATH_MARK_TAG: &str = "/cgi-bin/externalcontact/mark_tag";
/// `POST /cgi-bin/externalcontact/groupchat/list` (92120 / 93414).
pub const PATH_GROUPCHAT_LIST: &str = "/cgi-bin/externalcontact/groupchat/list";
/// `POST /cgi-bin/externalcontact/groupchat/get` (92122 / 96338).
pub const PATH_GROUPCHAT_GET: &str = "/cgi-bin/externalcontact/groupchat/get";
/// `POST /cgi-bin/externalcontact/add_contact_way` (92228 / 96348).
pub const PATH_ADD_CONTACT_WAY: &str = "/cgi-bin/externalcontact/add_contact_way";
/// `POST /cgi-bin/externalcontact/update_contact_way` (92228 / 96348).
pub const PATH_UPDATE_CONTACT_WAY: &str = "/cgi-bin/externalcontact/update_contact_way";
/// `POST /cgi-bin/externalcontact/del_contact_way` (92228 / 96348).
pub const PATH_DEL_CONTACT_WAY: &str = "/cgi-bin/externalcontact/del_contact_way";
/// `POST /cgi-bin/externalcontact/groupchat/add_join_way` (99547).
pub const PATH_ADD_JOIN_WAY: &str = "/cgi-bin/externalcontact/groupchat/add_join_way";
/// `POST /cgi-bin/externalcontact/groupchat/get_join_way` (99547).
pub const PATH_GET_JOIN_WAY: &str = "/cgi-bin/externalcontact/groupchat/get_join_way";
/// `POST /cgi-bin/externalcontact/groupchat/update_join_way` (99547).
pub const PATH_UPDATE_JOIN_WAY: &str = "/cgi-bin/externalcontact/groupchat/update_join_way";
/// `POST /cgi-bin/externalcontact/groupchat/del_join_way` (99547).
pub const PATH_DEL_JOIN_WAY: &str = "/cgi-bin/externalcontact/groupchat/del_join_way";
/// `POST /cgi-bin/externalcontact/send_welcome_msg` (92599).
pub const PATH_SEND_WELCOME_MSG: &str = "/cgi-bin/externalcontact/send_welcome_msg";
/// `POST /cgi-bin/externalcontact/add_msg_template` (92135).
pub const PATH_ADD_MSG_TEMPLATE: &str = "/cgi-bin/externalcontact/add_msg_template";
/// `POST /cgi-bin/externalcontact/get_groupmsg_list_v2` (93338 / 96355).
pub const PATH_GET_GROUPMSG_LIST_V2: &str = "/cgi-bin/externalcontact/get_groupmsg_list_v2";
/// `POST /cgi-bin/externalcontact/get_groupmsg_task` (93338 / 96355).
pub const PATH_GET_GROUPMSG_TASK: &str = "/cgi-bin/externalcontact/get_groupmsg_task";
/// `POST /cgi-bin/externalcontact/get_groupmsg_send_result` (93338 / 96355).
pub const PATH_GET_GROUPMSG_SEND_RESULT: &str = "/cgi-bin/externalcontact/get_groupmsg_send_result";
/// `POST /cgi-bin/externalcontact/remind_groupmsg_send` (97610): notify the staff members of
/// a mass-send task again, at most [`MAX_REMINDS_PER_DAY`] times per task in 24 hours.
pub const PATH_REMIND_GROUPMSG_SEND: &str = "/cgi-bin/externalcontact/remind_groupmsg_send";
/// `POST /cgi-bin/externalcontact/cancel_groupmsg_send` (97611): stop a mass-send task the
/// staff members have not sent yet (what was sent stays sent).
pub const PATH_CANCEL_GROUPMSG_SEND: &str = "/cgi-bin/externalcontact/cancel_groupmsg_send";
/// `POST /cgi-bin/externalcontact/transfer_customer` (92125 / 96325).
pub const PATH_TRANSFER_CUSTOMER: &str = "/cgi-bin/externalcontact/transfer_customer";
/// `POST /cgi-bin/externalcontact/transfer_result` (94088; path *unverified*: from SDKs, the
/// resigned variant's page was read).
pub const PATH_TRANSFER_RESULT: &str = "/cgi-bin/externalcontact/transfer_result";
/// `POST /cgi-bin/externalcontact/resigned/transfer_customer` (94081 / 96331).
pub const PATH_RESIGNED_TRANSFER_CUSTOMER: &str =
    "/cgi-bin/externalcontact/resigned/transfer_customer";
/// `POST /cgi-bin/externalcontact/resigned/transfer_result` (94082 / 96333).
pub const PATH_RESIGNED_TRANSFER_RESULT: &str = "/cgi-bin/externalcontact/resigned/transfer_result";
/// `POST /cgi-bin/externalcontact/groupchat/transfer` (92127).
pub const PATH_GROUPCHAT_TRANSFER: &str = "/cgi-bin/externalcontact/groupchat/transfer";
/// `POST /cgi-bin/externalcontact/groupchat/onjob_transfer` (95703): groups of a staff member
/// who stays (在职继承).
pub const PATH_GROUPCHAT_ONJOB_TRANSFER: &str = "/cgi-bin/externalcontact/groupchat/onjob_transfer";
/// `POST /cgi-bin/externalcontact/customer_acquisition/list_link` (97297).
pub const PATH_ACQUISITION_LIST_LINK: &str =
    "/cgi-bin/externalcontact/customer_acquisition/list_link";
/// `POST /cgi-bin/externalcontact/customer_acquisition/get` (97297).
pub const PATH_ACQUISITION_GET: &str = "/cgi-bin/externalcontact/customer_acquisition/get";
/// `POST /cgi-bin/externalcontact/customer_acquisition/create_link` (97297).
pub const PATH_ACQUISITION_CREATE_LINK: &str =
    "/cgi-bin/externalcontact/customer_acquisition/create_link";
/// `POST /cgi-bin/externalcontact/customer_acquisition/update_link` (97297 / 97394).
pub const PATH_ACQUISITION_UPDATE_LINK: &str =
    "/cgi-bin/externalcontact/customer_acquisition/update_link";
/// `POST /cgi-bin/externalcontact/customer_acquisition/delete_link` (97297).
pub const PATH_ACQUISITION_DELETE_LINK: &str =
    "/cgi-bin/externalcontact/customer_acquisition/delete_link";
/// `GET /cgi-bin/externalcontact/customer_acquisition_quota` (97375 / 97400).
pub const PATH_ACQUISITION_QUOTA: &str = "/cgi-bin/externalcontact/customer_acquisition_quota";

// ---------------------------------------------------------------------------------------------
// Documented limits (defaults as WeCom states them; they are checked before sending)

/// `userid_list` of `batch/get_by_user`: at most 100 (92994).
pub const MAX_BATCH_USERIDS: usize = 100;
/// `limit` of `batch/get_by_user`: at most 100, default 50 (92994).
pub const MAX_BATCH_LIMIT: u32 = 100;
/// `limit` of `groupchat/list`: 1 ~ 1000 (93414).
pub const MAX_GROUPCHAT_LIST_LIMIT: u32 = 1000;
/// `owner_filter.userid_list` of `groupchat/list`: at most 100 (93414).
pub const MAX_GROUPCHAT_OWNER_FILTER: usize = 100;
/// `state` of a contact way: at most 30 characters (96348).
pub const MAX_STATE_CHARS: usize = 30;
/// `remark` of a contact way: at most 30 characters (96348).
pub const MAX_CONTACT_WAY_REMARK_CHARS: usize = 30;
/// Customers per transfer call: at most 100 (96325, 96331).
pub const MAX_TRANSFER_CUSTOMERS: usize = 100;
/// `transfer_success_msg`: at most 200 characters (96325).
pub const MAX_TRANSFER_MSG_CHARS: usize = 200;
/// Groups per `groupchat/transfer` (92127) and `groupchat/onjob_transfer` (95703) call:
/// 1 ~ 100.
pub const MAX_GROUPCHAT_TRANSFER: usize = 100;
/// Attachments of a welcome message or a mass-send task: at most 9 (92599, 92135).
pub const MAX_ATTACHMENTS: usize = 9;
/// `chat_id_list` of `add_msg_template`: at most 2000 (*unverified*: the field's description
/// in WxJava, which quotes the official text; WECOM.md).
pub const MAX_MSG_TEMPLATE_CHATS: usize = 2000;
/// `external_userid` of `add_msg_template` (chat_type `single`): at most 10,000 customers per
/// task (*unverified*: "最多可一次指定1万个客户", the field's description as SDKs copy it from
/// 92135; the part of the official page available to us stops before its parameter table).
pub const MAX_MSG_TEMPLATE_CUSTOMERS: usize = 10_000;
/// `text.content` of `add_msg_template`: at most 4,000 bytes (*unverified*: "消息文本内容，最多
/// 4000个字节", the field's description as SDKs copy it from 92135).
pub const MAX_MSG_TEMPLATE_TEXT_BYTES: usize = 4000;
/// `remind_groupmsg_send`: at most three reminders per task within 24 hours (97610: "24小时内
/// 每个群发最多触发三次提醒"). What WeCom answers to a fourth is undocumented; count them and do
/// not send it.
pub const MAX_REMINDS_PER_DAY: u32 = 3;
/// `limit` of `get_groupmsg_list_v2`: at most 100 (96355).
pub const MAX_GROUPMSG_LIST_LIMIT: u32 = 100;
/// `end_time - start_time` of `get_groupmsg_list_v2`: "不能超过1个月" (96355); taken as
/// 31 days.
pub const MAX_GROUPMSG_LIST_SPAN_SECS: i64 = 31 * 24 * 3600;
/// Corp tag and tag group names: at most 30 characters (*unverified*: SDK documentation of
/// `edit_corp_tag`).
pub const MAX_TAG_NAME_CHARS: usize = 30;
/// Users (成员) a contact way may name, departments expanded: at most 100 (global error code
/// 41041 "「联系我」使用人数超过限制 / 默认限制不超过100人(包括部门展开后的人数)"; *unverified*: the
/// row as WxJava's `WxCpErrorMsgEnum` copies WeCom's global code table, 90313 / 90455).
pub const MAX_CONTACT_WAY_USERS: usize = 100;
/// Contact ways created through the API per corp: 500,000, shared with group join ways
/// (96348: "每个企业可通过API最多配置50万个「联系我」"; temporary-session ways do not count).
/// Past it WeCom answers [`codes::CONTACT_WAY_LIMIT_REACHED`](super::codes::CONTACT_WAY_LIMIT_REACHED).
pub const DEFAULT_CONTACT_WAY_LIMIT: usize = 500_000;
/// `chat_id_list` of a group join way (加入群聊): 1 ~ 5 customer groups (99547).
pub const MAX_JOIN_WAY_CHATS: usize = 5;
/// `room_base_name` of a group join way (the name prefix of the groups WeCom creates when the
/// listed ones are full): at most 40 UTF-8 characters (99547).
pub const MAX_ROOM_BASE_NAME_CHARS: usize = 40;
/// `remark` of a group join way: WeCom cuts a longer one to 30 characters rather than
/// refusing it (99547), so the client sends it as it is.
pub const MAX_JOIN_WAY_REMARK_CHARS: usize = 30;
/// Members of a customer group (external group chat): at most 500 (WeCom's help center on
/// 客户群; 99547 / 96338 do not repeat it).
pub const MAX_GROUP_MEMBERS: i64 = 500;
/// Past this many members a customer group can no longer be joined by scanning its QR code
/// (a join way's included): members must be invited (WeCom's help center: "群人数超过200人后
/// 需要群成员邀请才能加入"). A join way moves on to its next group, or creates one with
/// `auto_create_room`, when a group has this many.
pub const QR_JOIN_MEMBER_LIMIT: i64 = 200;
/// How long a `WelcomeCode` can be used: 20 s after the add event (92599: "企业仅可在收到相关事件
/// 后20秒内调用,且只可调用一次").
pub const WELCOME_CODE_TTL_SECS: u64 = 20;
/// `limit` of `customer_acquisition/list_link`: at most 100 (97297: "最大值100").
pub const MAX_ACQUISITION_LIST_LIMIT: u32 = 100;
/// `link_name` of an acquisition link: at most 30 characters (97394, `update_link`: "最长为30个
/// 字符"; the `create_link` text we read only says "链接名称", so the same limit is applied to
/// both).
pub const MAX_ACQUISITION_LINK_NAME_CHARS: usize = 30;
/// `range.user_list` of an acquisition link: at most 500 userids, and the whole range (departments
/// expanded) at most 500 people (97297: "range覆盖的总用户数不得超过500人").
pub const MAX_ACQUISITION_LINK_USERS: usize = 500;
/// `priority_option.priority_userid_list`: at most 1000 (97394: "最多1000个").
pub const MAX_ACQUISITION_PRIORITY_USERS: usize = 1000;
/// `customer_channel` appended to an acquisition link URL: at most 64 bytes; WeCom truncates a
/// longer one (97298: "字符串不超过64字节,超过会被截断"), which would lose the attribution, so
/// [`acquisition_link_url`] refuses it instead.
pub const MAX_CUSTOMER_CHANNEL_BYTES: usize = 64;

fn invalid(path: &'static str, field: &'static str, reason: impl Into<String>) -> WecomError {
    WecomError::InvalidRequest {
        path,
        field,
        reason: reason.into(),
    }
}

fn check_len<T>(
    path: &'static str,
    field: &'static str,
    items: &[T],
    min: usize,
    max: usize,
) -> Result<(), WecomError> {
    if items.len() < min || items.len() > max {
        return Err(invalid(
            path,
            field,
            format!("must have {min}..={max} entries, has {}", items.len()),
        ));
    }
    Ok(())
}

/// A listing's time window (`end_time - start_time` within `0..=max_span` seconds, `span_words`
/// saying the limit) and its optional page size (`1..=max_limit`).
fn check_window(
    path: &'static str,
    span: i64,
    max_span: i64,
    span_words: &str,
    limit: Option<i64>,
    max_limit: i64,
) -> Result<(), WecomError> {
    if !(0..=max_span).contains(&span) {
        return Err(invalid(
            path,
            "end_time",
            format!("must be after start_time and at most {span_words} later"),
        ));
    }
    if let Some(limit) = limit
        && !(1..=max_limit).contains(&limit)
    {
        return Err(invalid(
            path,
            "limit",
            format!("must be 1..={max_limit}, is {limit}"),
        ));
    }
    Ok(())
}

fn check_chars(
    path: &'static str,
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<(), WecomError> {
    if let Some(value) = value {
        let chars = value.chars().count();
        if chars > max {
            return Err(invalid(
                path,
                field,
                format!("must be at most {max} characters, has {chars}"),
            ));
        }
    }
    Ok(())
}

/// WeCom sends some numbers as JSON strings (e.g. `create_time` of group messages); accept
/// both.
fn lenient_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        Int(i64),
        Str(String),
    }
    match Option::<Num>::deserialize(deserializer)? {
        None => Ok(0),
        Some(Num::Int(n)) => Ok(n),
        Some(Num::Str(s)) if s.is_empty() => Ok(0),
        Some(Num::Str(s)) => s.parse().map_err(serde::de::Error::custom),
    }
}

// ---------------------------------------------------------------------------------------------
// Customers (external contacts)

/// A customer as `get` and `batch/get_by_user` return it (`external_contact`, 92114 / 92994).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExternalContact {
    /// The customer's id in this corp.
    pub external_userid: String,
    /// WeChat nickname, or the WeCom user's name.
    pub name: String,
    /// Avatar URL.
    pub avatar: String,
    /// 1 = WeChat user, 2 = WeCom user.
    #[serde(rename = "type")]
    pub contact_type: i64,
    /// 0 unknown, 1 male, 2 female.
    #[serde(deserialize_with = "lenient_i64")]
    pub gender: i64,
    /// The WeChat unionid, when the corp has bound a WeChat developer account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    /// Position, for WeCom users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Short corp name, for WeCom users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corp_name: Option<String>,
    /// Full corp name, for WeCom users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corp_full_name: Option<String>,
}

/// A tag on a follow relation, as `get` returns it (`follow_user[].tags`, 92114; field names
/// from the official example as quoted in WeCom's forum).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowTag {
    /// Tag group name.
    pub group_name: String,
    /// Tag name.
    pub tag_name: String,
    /// Tag id (corp tags only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_id: Option<String>,
    /// 1 corp tag, 2 personal tag, 3 rule-group tag.
    #[serde(rename = "type")]
    pub tag_type: i64,
}

/// A staff member following a customer, as `get` returns it (`follow_user[]`, 92114).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowUser {
    /// The staff member.
    pub userid: String,
    /// The staff member's remark for the customer.
    pub remark: String,
    /// Description.
    pub description: String,
    /// When the staff member added the customer (Unix seconds).
    pub createtime: i64,
    /// Tags this staff member put on the customer.
    pub tags: Vec<FollowTag>,
    /// Remark mobiles.
    pub remark_mobiles: Vec<String>,
    /// How the customer was added (0 unknown, 1 QR scan, …; 201 transfer, 202 assigned).
    pub add_way: i64,
    /// The contact way's `state`, when added through one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Who initiated the add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oper_userid: Option<String>,
}

/// `GET externalcontact/get` answer (92114).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ExternalContactDetail {
    /// The customer.
    pub external_contact: ExternalContact,
    /// The staff members following them (paged through `next_cursor` when there are many).
    pub follow_user: Vec<FollowUser>,
    /// Cursor of the next page of `follow_user`; empty on the last page.
    pub next_cursor: String,
}

/// One staff member's relation in `batch/get_by_user` (`follow_info`, 92994).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowInfo {
    /// The staff member.
    pub userid: String,
    /// Remark.
    pub remark: String,
    /// Description.
    pub description: String,
    /// When added (Unix seconds).
    pub createtime: i64,
    /// Corp tag ids on the customer.
    pub tag_id: Vec<String>,
    /// Remark corp name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark_corp_name: Option<String>,
    /// Remark mobiles.
    pub remark_mobiles: Vec<String>,
    /// Who initiated the add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oper_userid: Option<String>,
    /// How the customer was added.
    pub add_way: i64,
    /// The contact way's `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// One entry of `external_contact_list` (92994).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactWithFollow {
    /// The customer.
    pub external_contact: ExternalContact,
    /// The relation with one of the requested staff members.
    pub follow_info: FollowInfo,
}

/// `batch/get_by_user` request (92994).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchGetByUserRequest {
    /// Staff userids, 1..=100.
    pub userid_list: Vec<String>,
    /// Cursor from the previous page; empty for the first.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
    /// Page size, 1..=100 (WeCom's default 50 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `batch/get_by_user` answer (92994).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct BatchGetByUserResponse {
    /// Customers with one follow relation each (a customer followed by two requested staff
    /// members appears twice).
    pub external_contact_list: Vec<ContactWithFollow>,
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
}

#[derive(Deserialize)]
struct ListResponse {
    #[serde(default)]
    external_userid: Vec<String>,
}

#[derive(Deserialize)]
struct FollowUserListResponse {
    #[serde(default)]
    follow_user: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Corp tags

/// A corp tag (92117).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorpTag {
    /// Tag id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time (Unix seconds).
    pub create_time: i64,
    /// Order; larger sorts first.
    pub order: i64,
    /// Whether the tag was deleted (returned by `get_corp_tag_list` only).
    pub deleted: bool,
}

/// A corp tag group with its tags (92117).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorpTagGroup {
    /// Group id.
    pub group_id: String,
    /// Group name.
    pub group_name: String,
    /// Creation time (Unix seconds).
    pub create_time: i64,
    /// Order; larger sorts first.
    pub order: i64,
    /// Whether the group was deleted.
    pub deleted: bool,
    /// The tags.
    pub tag: Vec<CorpTag>,
}

/// `get_corp_tag_list` request (92117): both empty = all tags; with `group_id`, `tag_id` is
/// ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GetCorpTagListRequest {
    /// Tag ids to fetch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_id: Vec<String>,
    /// Tag group ids to fetch (with all their tags).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_id: Vec<String>,
}

#[derive(Deserialize)]
struct TagListResponse {
    #[serde(default)]
    tag_group: Vec<CorpTagGroup>,
}

/// A tag to create with `add_corp_tag`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewCorpTag {
    /// Name, at most 30 characters.
    pub name: String,
    /// Order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
}

/// `add_corp_tag` request (92117): adds tags to the group `group_id`, or creates the group
/// `group_name` with them. Request field names *unverified* beyond the section title: from
/// WxJava / go-workwx.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddCorpTagRequest {
    /// Existing group to add to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Name of the group (new group, or ignored when `group_id` is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// Group order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    /// Tags to create, at least one.
    pub tag: Vec<NewCorpTag>,
    /// Agent id, for a self-built app's secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

#[derive(Deserialize)]
struct AddCorpTagResponse {
    #[serde(default)]
    tag_group: CorpTagGroup,
}

/// `edit_corp_tag` request (92117): renames or reorders a tag or a tag group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EditCorpTagRequest {
    /// Tag or tag group id.
    pub id: String,
    /// New name, at most 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    /// Agent id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

/// `del_corp_tag` request (92117): not both empty. Deleting every tag of a group deletes the
/// group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DelCorpTagRequest {
    /// Tags to delete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_id: Vec<String>,
    /// Tag groups to delete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_id: Vec<String>,
    /// Agent id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
}

/// `mark_tag` request (92118 / 92697): `add_tag` and `remove_tag` not both empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MarkTagRequest {
    /// The staff member whose customer it is.
    pub userid: String,
    /// The customer.
    pub external_userid: String,
    /// Tag ids to add.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add_tag: Vec<String>,
    /// Tag ids to remove.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove_tag: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Customer groups

/// `owner_filter` of `groupchat/list` (93414).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OwnerFilter {
    /// Owner userids, at most 100.
    pub userid_list: Vec<String>,
}

/// `groupchat/list` request (93414). Without `owner_filter` WeCom answers 81017 when the
/// app's visible range exceeds 1000 people, and groups of resigned owners need the filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupChatListRequest {
    /// 0 all (default), 1 owner resigned, 2 being inherited, 3 inherited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_filter: Option<i64>,
    /// Only groups of these owners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_filter: Option<OwnerFilter>,
    /// Cursor from the previous page; empty for the first.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
    /// Page size, 1..=1000 (required).
    pub limit: u32,
}

/// One group in `groupchat/list` (93414).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChatStatus {
    /// The group.
    pub chat_id: String,
    /// 0 owner normal, 1 owner resigned, 2 being inherited, 3 inherited.
    pub status: i64,
}

/// `groupchat/list` answer (93414).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GroupChatListResponse {
    /// The groups of this page.
    pub group_chat_list: Vec<GroupChatStatus>,
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
}

/// `invitor` of a group member (96338).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Invitor {
    /// The staff member who invited.
    pub userid: String,
}

/// A member of a customer group (96338).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupMember {
    /// Staff userid (type 1) or external userid (type 2).
    pub userid: String,
    /// 1 staff member, 2 external contact.
    #[serde(rename = "type")]
    pub member_type: i64,
    /// WeChat unionid, for external members when available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    /// Join time (Unix seconds).
    pub join_time: i64,
    /// 1 invited directly, 2 invited by link, 3 scanned the group QR code.
    pub join_scene: i64,
    /// Who invited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitor: Option<Invitor>,
    /// Nickname in the group.
    pub group_nickname: String,
    /// Name (only with `need_name`).
    pub name: String,
    /// The `state` of the group join way (加入群聊) the member joined through (99547,
    /// appendix; 96338): only for members who joined through a join way that has a state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// A group admin (96338).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupAdmin {
    /// The admin's userid.
    pub userid: String,
}

/// A customer group (`group_chat`, 96338).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupChat {
    /// The group.
    pub chat_id: String,
    /// Name.
    pub name: String,
    /// Owner userid.
    pub owner: String,
    /// Creation time (Unix seconds).
    pub create_time: i64,
    /// Notice.
    pub notice: String,
    /// Members.
    pub member_list: Vec<GroupMember>,
    /// Admins.
    pub admin_list: Vec<GroupAdmin>,
    /// Member list version (changes with every membership change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_version: Option<String>,
}

#[derive(Serialize)]
struct GroupChatGetRequest<'a> {
    chat_id: &'a str,
    need_name: u8,
}

#[derive(Deserialize)]
struct GroupChatGetResponse {
    #[serde(default)]
    group_chat: GroupChat,
}

// ---------------------------------------------------------------------------------------------
// Contact ways (「联系我」)

/// `add_contact_way` request (96348). `contact_type` 1 single (exactly one `user`), 2 multi;
/// `scene` 1 mini-program, 2 QR code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddContactWayRequest {
    /// 1 single, 2 multi.
    #[serde(rename = "type")]
    pub contact_type: i64,
    /// 1 in a mini-program, 2 QR code.
    pub scene: i64,
    /// Mini-program button style.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<i64>,
    /// Remark, at most 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Add without verification (WeCom's default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify: Option<bool>,
    /// Channel marker, at most 30 characters; comes back as `State` on add events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Staff userids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<String>,
    /// Department ids (type 2 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub party: Vec<i64>,
    /// Temporary-session mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_temp: Option<bool>,
    /// QR code validity in temporary mode (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Session validity in temporary mode (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_expires_in: Option<i64>,
    /// Restrict a temporary code to this unionid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    /// Exclusive mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_exclusive: Option<bool>,
}

/// `add_contact_way` answer (96348; `qr_code` *unverified*: not in the excerpt read, from
/// SDKs). Keep `config_id`: without it the code cannot be edited or deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AddContactWayResponse {
    /// The contact way's id.
    pub config_id: String,
    /// The QR code URL (scene 2).
    pub qr_code: String,
}

/// `update_contact_way` request (96348): only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateContactWayRequest {
    /// The contact way.
    pub config_id: String,
    /// Remark, at most 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Add without verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify: Option<bool>,
    /// Mini-program button style.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<i64>,
    /// Channel marker, at most 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Replaces the staff userids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Vec<String>>,
    /// Replaces the department ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<Vec<i64>>,
    /// QR code validity in temporary mode (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Session validity in temporary mode (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_expires_in: Option<i64>,
    /// Restrict a temporary code to this unionid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
}

#[derive(Serialize)]
struct ConfigIdRequest<'a> {
    config_id: &'a str,
}

// ---------------------------------------------------------------------------------------------
// Group join ways (客户群「加入群聊」, 99547)
//
// A join way is a QR code (scene 2) or mini-program plugin (scene 1) for up to 5 customer
// groups: a scan puts the WeChat user into the first of them that still takes QR joins (fewer
// than QR_JOIN_MEMBER_LIMIT members), and with `auto_create_room` WeCom creates a new group
// (`room_base_name` + a number counting from `room_base_id`) when all are full. Join ways
// share the 500,000 API-created ways per corp with contact ways (DEFAULT_CONTACT_WAY_LIMIT).
// A member who joined through a way with a `state` carries it in `groupchat/get`.

/// `groupchat/add_join_way` request (99547). Note `auto_create_room` defaults to 0 here
/// (WeCom's default when the field is absent is 1); it is always sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddJoinWayRequest {
    /// 1 mini-program plugin, 2 QR code.
    pub scene: i64,
    /// Remark; WeCom cuts it to 30 characters ([`MAX_JOIN_WAY_REMARK_CHARS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// 1: when the listed groups are full, create a new one; 0: do not.
    pub auto_create_room: i64,
    /// Name prefix of the auto-created groups, at most 40 characters; required with
    /// `auto_create_room` 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_base_name: Option<String>,
    /// Number of the first auto-created group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_base_id: Option<i64>,
    /// The groups, 1 ~ 5 chat ids.
    pub chat_id_list: Vec<String>,
    /// Channel marker, at most 30 characters; comes back as the members' `state` in
    /// `groupchat/get`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Mark the source of the joins as this app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark_source: Option<bool>,
}

/// `groupchat/update_join_way` request (99547): replaces the whole way (send every field, not
/// only the changed ones).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateJoinWayRequest {
    /// The join way.
    pub config_id: String,
    /// 1 mini-program plugin, 2 QR code.
    pub scene: i64,
    /// Remark; WeCom cuts it to 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// 1: when the listed groups are full, create a new one; 0: do not.
    pub auto_create_room: i64,
    /// Name prefix of the auto-created groups, at most 40 characters; required with
    /// `auto_create_room` 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_base_name: Option<String>,
    /// Number of the first auto-created group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_base_id: Option<i64>,
    /// The groups, 1 ~ 5 chat ids.
    pub chat_id_list: Vec<String>,
    /// Channel marker, at most 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Mark the source of the joins as this app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark_source: Option<bool>,
}

/// A group join way as `groupchat/get_join_way` answers it (`join_way`, 99547).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JoinWay {
    /// The join way's id.
    pub config_id: String,
    /// 1 mini-program plugin, 2 QR code.
    pub scene: i64,
    /// Remark.
    pub remark: String,
    /// 1: new groups are created when the listed ones are full.
    pub auto_create_room: i64,
    /// Name prefix of the auto-created groups.
    pub room_base_name: String,
    /// Number of the first auto-created group.
    pub room_base_id: i64,
    /// The groups.
    pub chat_id_list: Vec<String>,
    /// The QR code URL (scene 2 only).
    pub qr_code: String,
    /// Channel marker.
    pub state: String,
}

#[derive(Deserialize)]
struct AddJoinWayResponse {
    #[serde(default)]
    config_id: String,
}

#[derive(Deserialize)]
struct GetJoinWayResponse {
    #[serde(default)]
    join_way: JoinWay,
}

/// The checks `add_join_way` and `update_join_way` share (99547).
fn check_join_way(
    path: &'static str,
    scene: i64,
    auto_create_room: i64,
    room_base_name: Option<&str>,
    chat_id_list: &[String],
    state: Option<&str>,
) -> Result<(), WecomError> {
    if !matches!(scene, 1 | 2) {
        return Err(invalid(
            path,
            "scene",
            format!("must be 1 or 2, is {scene}"),
        ));
    }
    if !matches!(auto_create_room, 0 | 1) {
        return Err(invalid(
            path,
            "auto_create_room",
            format!("must be 0 or 1, is {auto_create_room}"),
        ));
    }
    check_len(path, "chat_id_list", chat_id_list, 1, MAX_JOIN_WAY_CHATS)?;
    if chat_id_list.iter().any(String::is_empty) {
        return Err(invalid(
            path,
            "chat_id_list",
            "must not hold empty chat ids",
        ));
    }
    check_chars(path, "state", state, MAX_STATE_CHARS)?;
    check_chars(
        path,
        "room_base_name",
        room_base_name,
        MAX_ROOM_BASE_NAME_CHARS,
    )?;
    if auto_create_room == 1 && room_base_name.is_none_or(str::is_empty) {
        return Err(invalid(
            path,
            "room_base_name",
            "is required with auto_create_room 1",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Acquisition links (获客链接, 获客助手)
//
// Page 97297 (获客链接管理; the service-provider copy is 97398, `update_link` alone 97394).
// Only a self-built app configured in "可调用应用" may call these; the customer-contact system
// app may not ("不支持客户联系系统应用调用"), and a link can only be read or changed by the app
// that created it ("需要是当前应用创建").
//
// Attribution: the link URL accepts `?customer_channel=…` (at most 64 bytes, 97298). A customer
// who adds a staff member through such a URL arrives as an `add_external_contact` event whose
// `State` is that string (96361: "State: 添加此用户的「联系我」方式配置的state参数,或在获客链接中
// 指定的customer_channel参数"), and `externalcontact/get` returns it as the follow's `state`
// with `add_way` 16 ("通过获客链接添加"). The event does not name the link: keep a
// `customer_channel` per link (or per placement) to know which link it was.
//
// Error codes: 97297 documents none. An unknown `link_id`, an empty range, a name that is too
// long are therefore not mapped to specific codes here; the fake answers 40058 (invalid
// parameter) and 40003 (unknown userid) for them, and a real WeCom may answer other codes.
// An exhausted quota is not an API error either: `customer_acquisition_quota` shows
// `balance` 0, WeCom sends `customer_acquisition` / `balance_exhausted` (and `balance_low`
// under 20), and the links stop adding customers.

/// Who an acquisition link hands customers to (`range`, 97297): userids and department ids,
/// not both empty, at most 500 people in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AcquisitionRange {
    /// Staff userids, at most 500.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_list: Vec<String>,
    /// Department ids (their members count toward the 500).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub department_list: Vec<i64>,
}

/// `priority_option` of an acquisition link (97394): prefer a staff member the customer is
/// already friends with. 1 = anyone in the corp, 2 = only `priority_userid_list` (at most
/// 1000). WeCom offers it only to some industries ("仅部分经营类目企业支持", as SDKs quote the
/// page; *unverified*).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AcquisitionPriorityOption {
    /// 1 whole corp, 2 the listed staff members.
    pub priority_type: i64,
    /// The staff members for type 2, at most 1000.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub priority_userid_list: Vec<String>,
}

/// `customer_acquisition/create_link` request (97297).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateAcquisitionLinkRequest {
    /// Name, required, at most 30 characters.
    pub link_name: String,
    /// Who receives the customers.
    pub range: AcquisitionRange,
    /// Add without verification (WeCom's default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify: Option<bool>,
    /// Prefer existing friends (some industries only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_option: Option<AcquisitionPriorityOption>,
    /// Mark the customers' source as this app's link (default true; only effective for the
    /// 「营销获客」 app, 97394).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark_source: Option<bool>,
}

/// `customer_acquisition/update_link` request (97297 / 97394): only the fields given change;
/// `range` **replaces** the whole range ("range为覆盖更新").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateAcquisitionLinkRequest {
    /// The link.
    pub link_id: String,
    /// New name, at most 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_name: Option<String>,
    /// New range (replaces the old one), at most 500 people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<AcquisitionRange>,
    /// Add without verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify: Option<bool>,
    /// Prefer existing friends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_option: Option<AcquisitionPriorityOption>,
    /// Mark the customers' source as this app's link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark_source: Option<bool>,
}

/// An acquisition link (`link`, 97297): what `create_link` returns and the first half of
/// `get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AcquisitionLink {
    /// The link's id. `get` did not return it in the page's older example; the client fills it
    /// in from the request then.
    pub link_id: String,
    /// Name.
    pub link_name: String,
    /// The URL to publish (`https://work.weixin.qq.com/ca/…`); see [`acquisition_link_url`]
    /// to add a `customer_channel`.
    pub url: String,
    /// Creation time (Unix seconds).
    pub create_time: i64,
    /// Add without verification (returned by `get`; absent from `create_link`'s answer, where
    /// WeCom's default is true).
    pub skip_verify: bool,
    /// Whether the source is marked as this app's (returned by `get` in newer versions of the
    /// page, *unverified*: SDKs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark_source: Option<bool>,
}

/// `customer_acquisition/get` answer (97297).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AcquisitionLinkDetail {
    /// The link.
    pub link: AcquisitionLink,
    /// Who receives the customers.
    pub range: AcquisitionRange,
    /// Prefer existing friends, when configured.
    pub priority_option: Option<AcquisitionPriorityOption>,
}

/// `customer_acquisition/list_link` request (97297).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AcquisitionLinkListRequest {
    /// Page size, 1..=100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page; empty for the first.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
}

/// `customer_acquisition/list_link` answer (97297): the links still valid that this app
/// created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AcquisitionLinkListResponse {
    /// Link ids of this page.
    pub link_id_list: Vec<String>,
    /// Cursor of the next page; empty on the last page (the page does not say so explicitly
    /// for this API; it does for `customer_acquisition/customer`, 97298).
    pub next_cursor: String,
}

/// Quota that expires on one day (`quota_list[]`, 97375 / 97400).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AcquisitionQuotaExpiry {
    /// Expiry date (Unix seconds, midnight of that day; "实际过期时间取决于额度的购买时间").
    pub expire_date: i64,
    /// How much of the balance expires then.
    pub balance: i64,
}

/// `customer_acquisition_quota` answer (97375 / 97400): one unit is used per customer added
/// through a link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AcquisitionQuota {
    /// Used so far (历史累计使用量).
    pub total: i64,
    /// Left (剩余使用量); at 0 the links stop adding customers.
    pub balance: i64,
    /// Parts of the balance by expiry date.
    pub quota_list: Vec<AcquisitionQuotaExpiry>,
}

#[derive(Serialize)]
struct LinkIdRequest<'a> {
    link_id: &'a str,
}

#[derive(Deserialize)]
struct CreateAcquisitionLinkResponse {
    #[serde(default)]
    link: AcquisitionLink,
}

/// The acquisition link `url` with `customer_channel` appended for attribution (97297 /
/// 97298): the customers who add staff through the result arrive with `State` =
/// `customer_channel` on the `add_external_contact` event (96361).
///
/// Refuses an empty channel and one over 64 bytes (WeCom would truncate it and the
/// attribution would no longer match), and a `url` that is not an absolute URL. Which
/// characters WeCom allows in the channel is undocumented; the value is percent-encoded.
pub fn acquisition_link_url(url: &str, customer_channel: &str) -> Result<String, WecomError> {
    let path = PATH_ACQUISITION_CREATE_LINK;
    if customer_channel.is_empty() {
        return Err(invalid(path, "customer_channel", "must not be empty"));
    }
    if customer_channel.len() > MAX_CUSTOMER_CHANNEL_BYTES {
        return Err(invalid(
            path,
            "customer_channel",
            format!(
                "must be at most {MAX_CUSTOMER_CHANNEL_BYTES} bytes, has {}",
                customer_channel.len()
            ),
        ));
    }
    let mut parsed = reqwest::Url::parse(url)
        .map_err(|e| invalid(path, "url", format!("is not an absolute URL: {e}")))?;
    parsed
        .query_pairs_mut()
        .append_pair("customer_channel", customer_channel);
    Ok(parsed.into())
}

/// The `weixin://` scheme of an acquisition link with a `customer_channel`, for a smoother jump
/// from a web page inside WeChat (97297: "scheme = weixin://biz/ww/profile/{urlencode(LINK_URL?
/// customer_channel=STATE)}"). Same checks as [`acquisition_link_url`].
pub fn acquisition_link_scheme(url: &str, customer_channel: &str) -> Result<String, WecomError> {
    let full = acquisition_link_url(url, customer_channel)?;
    let mut encoded = String::with_capacity(full.len() * 2);
    for byte in full.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(format!("weixin://biz/ww/profile/{encoded}"))
}

// ---------------------------------------------------------------------------------------------
// Messages

/// Text of a welcome message or a mass-send task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Text {
    /// The text.
    pub content: String,
}

/// An attachment (92599 / 92135): `{"msgtype": "image", "image": {…}}` and so on. Kept as
/// JSON so every attachment type WeCom supports (image, link, miniprogram, video, file) passes
/// through unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment(pub serde_json::Value);

impl Attachment {
    /// A link attachment.
    pub fn link(title: &str, url: &str, picurl: Option<&str>, desc: Option<&str>) -> Self {
        let mut link = serde_json::json!({ "title": title, "url": url });
        if let Some(picurl) = picurl {
            link["picurl"] = serde_json::Value::from(picurl);
        }
        if let Some(desc) = desc {
            link["desc"] = serde_json::Value::from(desc);
        }
        Self(serde_json::json!({ "msgtype": "link", "link": link }))
    }

    /// An image attachment by media id.
    pub fn image(media_id: &str) -> Self {
        Self(serde_json::json!({ "msgtype": "image", "image": { "media_id": media_id } }))
    }
}

/// `send_welcome_msg` request (92599): only within 20 s of the add event, once; text and
/// attachments not both empty, at most 9 attachments.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SendWelcomeMsgRequest {
    /// `WelcomeCode` of the `add_external_contact` event.
    pub welcome_code: String,
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Attachments, at most 9.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// `add_msg_template` request (92135). `chat_type` `single` (default) sends to customers,
/// `group` to customer groups (then `sender` is required, *unverified*: WxJava's field doc).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AddMsgTemplateRequest {
    /// `single` or `group`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_type: Option<String>,
    /// Target customers (single), at most [`MAX_MSG_TEMPLATE_CUSTOMERS`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_userid: Vec<String>,
    /// Target groups (group), at most 2000.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chat_id_list: Vec<String>,
    /// The staff member who sends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Whether the staff member may change the selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_select: Option<bool>,
    /// Text, at most [`MAX_MSG_TEMPLATE_TEXT_BYTES`] bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Attachments, at most 9.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// `add_msg_template` answer (92135; fields *unverified*: from SDKs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AddMsgTemplateResponse {
    /// Customers the task could not include (not customers, or over their receipt cap).
    pub fail_list: Vec<String>,
    /// The task id, for the result queries.
    pub msgid: String,
}

/// `get_groupmsg_list_v2` request (96355): span at most one month, `limit` at most 100.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupMsgListRequest {
    /// `single` (default) or `group`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_type: Option<String>,
    /// Start (Unix seconds).
    pub start_time: i64,
    /// End (Unix seconds).
    pub end_time: i64,
    /// Only tasks created by this staff member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// 0 corp-created, 1 personal, 2 all (default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_type: Option<i64>,
    /// Page size, at most 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
}

/// A mass-send task in `get_groupmsg_list_v2` (answer fields *unverified*: from SDKs).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct GroupMsg {
    /// Task id.
    pub msgid: String,
    /// Creator userid.
    pub creator: String,
    /// Creation time (Unix seconds; WeCom sends it as a string).
    #[serde(deserialize_with = "lenient_i64")]
    pub create_time: i64,
    /// 0 corp-created, 1 personal.
    pub create_type: i64,
    /// Text.
    pub text: Option<Text>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
}

/// `get_groupmsg_list_v2` answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct GroupMsgListResponse {
    /// Tasks of this page.
    pub group_msg_list: Vec<GroupMsg>,
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
}

/// `get_groupmsg_task` request (96355; `limit` up to 1000 per SDKs, *unverified*).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupMsgTaskRequest {
    /// Task id.
    pub msgid: String,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
}

/// One staff member's share of a mass-send task (*unverified* field names, from SDKs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GroupMsgTask {
    /// The staff member.
    pub userid: String,
    /// 0 not sent (未发送), 2 sent (已发送) (*unverified*: "发送状态：0-未发送 2-已发送" as SDKs
    /// copy 93338 / 96355). A cancelled task's unsent shares stay 0.
    pub status: i64,
    /// When sent (Unix seconds).
    pub send_time: i64,
}

/// `get_groupmsg_task` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GroupMsgTaskResponse {
    /// Per-staff status.
    pub task_list: Vec<GroupMsgTask>,
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
}

/// `get_groupmsg_send_result` request (96355).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupMsgSendResultRequest {
    /// Task id.
    pub msgid: String,
    /// The sending staff member.
    pub userid: String,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
}

/// One recipient's result (*unverified* field names, from SDKs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GroupMsgSendResult {
    /// The customer (single).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_userid: Option<String>,
    /// The group (group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// The sending staff member.
    pub userid: String,
    /// 0 not sent (未发送), 1 sent (已发送), 2 failed because the customer is no longer a
    /// contact (因客户不是好友导致发送失败), 3 failed because the customer already received
    /// their quota of mass messages (因客户已经收到其他群发消息导致发送失败) (*unverified*: the
    /// wording as SDKs copy 93338 / 96355).
    pub status: i64,
    /// When sent (Unix seconds); only with status 1.
    pub send_time: i64,
}

/// `get_groupmsg_send_result` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GroupMsgSendResultResponse {
    /// Per-recipient results.
    pub send_list: Vec<GroupMsgSendResult>,
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
}

// ---------------------------------------------------------------------------------------------
// Transfers

/// `transfer_customer` / `resigned/transfer_customer` request (96325 / 96331): at most 100
/// customers; `transfer_success_msg` (in-service only) at most 200 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransferCustomerRequest {
    /// The staff member handing over.
    pub handover_userid: String,
    /// The staff member taking over.
    pub takeover_userid: String,
    /// Customers, 1..=100.
    pub external_userid: Vec<String>,
    /// Message to the customers (in-service transfers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_success_msg: Option<String>,
}

/// Per-customer outcome of a transfer call (96325): errcode 0 means the takeover **started**
/// (it completes after 24 h unless the customer refuses), not that it succeeded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TransferCustomerResult {
    /// The customer.
    pub external_userid: String,
    /// 0 started; otherwise a global error code (e.g. 40096).
    pub errcode: i64,
}

#[derive(Deserialize)]
struct TransferCustomerResponse {
    #[serde(default)]
    customer: Vec<TransferCustomerResult>,
}

/// `transfer_result` / `resigned/transfer_result` request (96333).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransferResultRequest {
    /// The staff member who handed over.
    pub handover_userid: String,
    /// The staff member taking over.
    pub takeover_userid: String,
    /// Cursor from the previous page (pages hold at most 1000).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
}

/// Takeover status of one customer (96333).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    /// 1: takeover completed.
    Completed,
    /// 2: waiting for the automatic takeover.
    Waiting,
    /// 3: the customer refused.
    Refused,
    /// 4: the taker is at their customer limit.
    TakerAtLimit,
    /// Any other value (e.g. 5 "no transfer record", seen in WeCom's forum).
    Other(i64),
}

impl From<i64> for TransferStatus {
    fn from(value: i64) -> Self {
        match value {
            1 => Self::Completed,
            2 => Self::Waiting,
            3 => Self::Refused,
            4 => Self::TakerAtLimit,
            other => Self::Other(other),
        }
    }
}

/// One customer in `transfer_result` (96333).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TransferResultCustomer {
    /// The customer.
    pub external_userid: String,
    /// 1 done, 2 waiting, 3 refused, 4 taker at limit; see [`TransferResultCustomer::status`].
    #[serde(rename = "status")]
    pub status_code: i64,
    /// Takeover time, or the future automatic takeover time while waiting (Unix seconds).
    pub takeover_time: i64,
}

impl TransferResultCustomer {
    /// The status as an enum.
    pub fn status(&self) -> TransferStatus {
        TransferStatus::from(self.status_code)
    }
}

/// `transfer_result` answer (96333).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TransferResultResponse {
    /// Customers of this page.
    pub customer: Vec<TransferResultCustomer>,
    /// Cursor of the next page; empty on the last page.
    pub next_cursor: String,
}

/// `groupchat/transfer` (92127, resigned owners) and `groupchat/onjob_transfer` (95703,
/// owners who stay) request: 1..=100 groups; at most 300 groups of one person per day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupChatTransferRequest {
    /// Groups, 1..=100.
    pub chat_id_list: Vec<String>,
    /// The new owner.
    pub new_owner: String,
}

/// A group that could not be transferred (92127).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FailedChat {
    /// The group.
    pub chat_id: String,
    /// Why (e.g. 90501 not an external group).
    pub errcode: i64,
    /// WeCom's message.
    pub errmsg: String,
}

/// A request naming one mass-send task (`remind_groupmsg_send`, `cancel_groupmsg_send`).
#[derive(Serialize)]
struct MsgIdRequest<'a> {
    msgid: &'a str,
}

#[derive(Deserialize)]
struct GroupChatTransferResponse {
    #[serde(default)]
    failed_chat_list: Vec<FailedChat>,
}

// ---------------------------------------------------------------------------------------------
// Endpoints

impl WecomClient {
    /// A customer and the staff members following them (`GET externalcontact/get`, 92114).
    /// `cursor` pages `follow_user` when there are many; `None` for the first page.
    pub async fn get_external_contact(
        &self,
        external_userid: &str,
        cursor: Option<&str>,
    ) -> Result<ExternalContactDetail, WecomError> {
        if external_userid.is_empty() {
            return Err(invalid(PATH_GET, "external_userid", "must not be empty"));
        }
        let mut query = vec![("external_userid", external_userid)];
        if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
            query.push(("cursor", cursor));
        }
        self.get(PATH_GET, &query).await
    }

    /// One page of the customers of up to 100 staff members, with details and follow info
    /// (`batch/get_by_user`, 92994). Loop while `next_cursor` is not empty.
    pub async fn batch_get_by_user(
        &self,
        request: &BatchGetByUserRequest,
    ) -> Result<BatchGetByUserResponse, WecomError> {
        let path = PATH_BATCH_GET_BY_USER;
        check_len(
            path,
            "userid_list",
            &request.userid_list,
            1,
            MAX_BATCH_USERIDS,
        )?;
        if let Some(limit) = request.limit
            && !(1..=MAX_BATCH_LIMIT).contains(&limit)
        {
            return Err(invalid(
                path,
                "limit",
                format!("must be 1..={MAX_BATCH_LIMIT}, is {limit}"),
            ));
        }
        self.post(path, request).await
    }

    /// The external userids of one staff member's customers (`GET externalcontact/list`,
    /// 92113).
    pub async fn list_external_contacts(&self, userid: &str) -> Result<Vec<String>, WecomError> {
        if userid.is_empty() {
            return Err(invalid(PATH_LIST, "userid", "must not be empty"));
        }
        let response: ListResponse = self.get(PATH_LIST, &[("userid", userid)]).await?;
        Ok(response.external_userid)
    }

    /// The staff members with the customer-contact feature (`get_follow_user_list`, 92571).
    pub async fn get_follow_user_list(&self) -> Result<Vec<String>, WecomError> {
        let response: FollowUserListResponse = self.get(PATH_GET_FOLLOW_USER_LIST, &[]).await?;
        Ok(response.follow_user)
    }

    /// Corp tag groups with their tags (`get_corp_tag_list`, 92117).
    pub async fn get_corp_tag_list(
        &self,
        request: &GetCorpTagListRequest,
    ) -> Result<Vec<CorpTagGroup>, WecomError> {
        let response: TagListResponse = self.post(PATH_GET_CORP_TAG_LIST, request).await?;
        Ok(response.tag_group)
    }

    /// Creates tags, in an existing group or a new one (`add_corp_tag`, 92117). WeCom allows
    /// 3000 corp tags per corp.
    pub async fn add_corp_tag(
        &self,
        request: &AddCorpTagRequest,
    ) -> Result<CorpTagGroup, WecomError> {
        let path = PATH_ADD_CORP_TAG;
        if request.tag.is_empty() {
            return Err(invalid(path, "tag", "must name at least one tag"));
        }
        if request.group_id.is_none() && request.group_name.as_deref().unwrap_or("").is_empty() {
            return Err(invalid(path, "group_name", "is required without group_id"));
        }
        check_chars(
            path,
            "group_name",
            request.group_name.as_deref(),
            MAX_TAG_NAME_CHARS,
        )?;
        for tag in &request.tag {
            if tag.name.is_empty() {
                return Err(invalid(path, "tag.name", "must not be empty"));
            }
            check_chars(path, "tag.name", Some(&tag.name), MAX_TAG_NAME_CHARS)?;
        }
        let response: AddCorpTagResponse = self.post(path, request).await?;
        Ok(response.tag_group)
    }

    /// Renames or reorders a tag or tag group (`edit_corp_tag`, 92117).
    pub async fn edit_corp_tag(&self, request: &EditCorpTagRequest) -> Result<(), WecomError> {
        let path = PATH_EDIT_CORP_TAG;
        if request.id.is_empty() {
            return Err(invalid(path, "id", "must not be empty"));
        }
        if request.name.is_none() && request.order.is_none() {
            return Err(invalid(path, "name", "or order must be given"));
        }
        check_chars(path, "name", request.name.as_deref(), MAX_TAG_NAME_CHARS)?;
        let _: Empty = self.post(path, request).await?;
        Ok(())
    }

    /// Deletes tags or tag groups (`del_corp_tag`, 92117).
    pub async fn del_corp_tag(&self, request: &DelCorpTagRequest) -> Result<(), WecomError> {
        if request.tag_id.is_empty() && request.group_id.is_empty() {
            return Err(invalid(
                PATH_DEL_CORP_TAG,
                "tag_id",
                "and group_id must not both be empty",
            ));
        }
        let _: Empty = self.post(PATH_DEL_CORP_TAG, request).await?;
        Ok(())
    }

    /// Adds and removes corp tags on one staff member's customer (`mark_tag`, 92118).
    pub async fn mark_tag(&self, request: &MarkTagRequest) -> Result<(), WecomError> {
        if request.add_tag.is_empty() && request.remove_tag.is_empty() {
            return Err(invalid(
                PATH_MARK_TAG,
                "add_tag",
                "and remove_tag must not both be empty",
            ));
        }
        let _: Empty = self.post(PATH_MARK_TAG, request).await?;
        Ok(())
    }

    /// One page of customer groups (`groupchat/list`, 93414). Loop while `next_cursor` is not
    /// empty.
    pub async fn groupchat_list(
        &self,
        request: &GroupChatListRequest,
    ) -> Result<GroupChatListResponse, WecomError> {
        let path = PATH_GROUPCHAT_LIST;
        if !(1..=MAX_GROUPCHAT_LIST_LIMIT).contains(&request.limit) {
            return Err(invalid(
                path,
                "limit",
                format!(
                    "must be 1..={MAX_GROUPCHAT_LIST_LIMIT}, is {}",
                    request.limit
                ),
            ));
        }
        if let Some(filter) = &request.owner_filter {
            check_len(
                path,
                "owner_filter.userid_list",
                &filter.userid_list,
                0,
                MAX_GROUPCHAT_OWNER_FILTER,
            )?;
        }
        self.post(path, request).await
    }

    /// A customer group with its members (`groupchat/get`, 96338). `need_name` adds member
    /// names.
    pub async fn groupchat_get(
        &self,
        chat_id: &str,
        need_name: bool,
    ) -> Result<GroupChat, WecomError> {
        if chat_id.is_empty() {
            return Err(invalid(PATH_GROUPCHAT_GET, "chat_id", "must not be empty"));
        }
        let request = GroupChatGetRequest {
            chat_id,
            need_name: u8::from(need_name),
        };
        let response: GroupChatGetResponse = self.post(PATH_GROUPCHAT_GET, &request).await?;
        Ok(response.group_chat)
    }

    /// Creates a contact way (channel live code) (`add_contact_way`, 96348). WeCom allows
    /// 500,000 API-created ways per corp ([`DEFAULT_CONTACT_WAY_LIMIT`]); past it the answer
    /// is [`codes::CONTACT_WAY_LIMIT_REACHED`](super::codes::CONTACT_WAY_LIMIT_REACHED).
    pub async fn add_contact_way(
        &self,
        request: &AddContactWayRequest,
    ) -> Result<AddContactWayResponse, WecomError> {
        let path = PATH_ADD_CONTACT_WAY;
        match request.contact_type {
            1 => {
                if request.user.len() != 1 {
                    return Err(invalid(
                        path,
                        "user",
                        "must hold exactly one userid for type 1",
                    ));
                }
            }
            2 => {
                if request.user.is_empty() && request.party.is_empty() {
                    return Err(invalid(path, "user", "or party is required for type 2"));
                }
            }
            other => return Err(invalid(path, "type", format!("must be 1 or 2, is {other}"))),
        }
        check_len(path, "user", &request.user, 0, MAX_CONTACT_WAY_USERS)?;
        if !matches!(request.scene, 1 | 2) {
            return Err(invalid(
                path,
                "scene",
                format!("must be 1 or 2, is {}", request.scene),
            ));
        }
        check_chars(path, "state", request.state.as_deref(), MAX_STATE_CHARS)?;
        check_chars(
            path,
            "remark",
            request.remark.as_deref(),
            MAX_CONTACT_WAY_REMARK_CHARS,
        )?;
        self.post(path, request).await
    }

    /// Changes a contact way (`update_contact_way`, 96348).
    pub async fn update_contact_way(
        &self,
        request: &UpdateContactWayRequest,
    ) -> Result<(), WecomError> {
        let path = PATH_UPDATE_CONTACT_WAY;
        if request.config_id.is_empty() {
            return Err(invalid(path, "config_id", "must not be empty"));
        }
        if let Some(users) = &request.user {
            check_len(path, "user", users, 0, MAX_CONTACT_WAY_USERS)?;
        }
        check_chars(path, "state", request.state.as_deref(), MAX_STATE_CHARS)?;
        check_chars(
            path,
            "remark",
            request.remark.as_deref(),
            MAX_CONTACT_WAY_REMARK_CHARS,
        )?;
        let _: Empty = self.post(path, request).await?;
        Ok(())
    }

    /// Deletes a contact way (`del_contact_way`, 96348).
    pub async fn del_contact_way(&self, config_id: &str) -> Result<(), WecomError> {
        if config_id.is_empty() {
            return Err(invalid(
                PATH_DEL_CONTACT_WAY,
                "config_id",
                "must not be empty",
            ));
        }
        let _: Empty = self
            .post(PATH_DEL_CONTACT_WAY, &ConfigIdRequest { config_id })
            .await?;
        Ok(())
    }

    /// Creates a group join way (`groupchat/add_join_way`, 99547) and returns its
    /// `config_id`. Join ways count toward the corp's 500,000 API-created contact ways
    /// ([`DEFAULT_CONTACT_WAY_LIMIT`]); past it the answer is
    /// [`codes::CONTACT_WAY_LIMIT_REACHED`](super::codes::CONTACT_WAY_LIMIT_REACHED).
    pub async fn add_join_way(&self, request: &AddJoinWayRequest) -> Result<String, WecomError> {
        check_join_way(
            PATH_ADD_JOIN_WAY,
            request.scene,
            request.auto_create_room,
            request.room_base_name.as_deref(),
            &request.chat_id_list,
            request.state.as_deref(),
        )?;
        let response: AddJoinWayResponse = self.post(PATH_ADD_JOIN_WAY, request).await?;
        Ok(response.config_id)
    }

    /// A group join way with its QR code (`groupchat/get_join_way`, 99547).
    pub async fn get_join_way(&self, config_id: &str) -> Result<JoinWay, WecomError> {
        if config_id.is_empty() {
            return Err(invalid(PATH_GET_JOIN_WAY, "config_id", "must not be empty"));
        }
        let response: GetJoinWayResponse = self
            .post(PATH_GET_JOIN_WAY, &ConfigIdRequest { config_id })
            .await?;
        Ok(response.join_way)
    }

    /// Replaces a group join way (`groupchat/update_join_way`, 99547).
    pub async fn update_join_way(&self, request: &UpdateJoinWayRequest) -> Result<(), WecomError> {
        let path = PATH_UPDATE_JOIN_WAY;
        if request.config_id.is_empty() {
            return Err(invalid(path, "config_id", "must not be empty"));
        }
        check_join_way(
            path,
            request.scene,
            request.auto_create_room,
            request.room_base_name.as_deref(),
            &request.chat_id_list,
            request.state.as_deref(),
        )?;
        let _: Empty = self.post(path, request).await?;
        Ok(())
    }

    /// Deletes a group join way (`groupchat/del_join_way`, 99547).
    pub async fn del_join_way(&self, config_id: &str) -> Result<(), WecomError> {
        if config_id.is_empty() {
            return Err(invalid(PATH_DEL_JOIN_WAY, "config_id", "must not be empty"));
        }
        let _: Empty = self
            .post(PATH_DEL_JOIN_WAY, &ConfigIdRequest { config_id })
            .await?;
        Ok(())
    }

    /// One page of the acquisition links this app created that are still valid
    /// (`customer_acquisition/list_link`, 97297). Loop while `next_cursor` is not empty.
    pub async fn list_acquisition_links(
        &self,
        request: &AcquisitionLinkListRequest,
    ) -> Result<AcquisitionLinkListResponse, WecomError> {
        let path = PATH_ACQUISITION_LIST_LINK;
        if let Some(limit) = request.limit
            && !(1..=MAX_ACQUISITION_LIST_LIMIT).contains(&limit)
        {
            return Err(invalid(
                path,
                "limit",
                format!("must be 1..={MAX_ACQUISITION_LIST_LIMIT}, is {limit}"),
            ));
        }
        self.post(path, request).await
    }

    /// An acquisition link with its range (`customer_acquisition/get`, 97297). Only links this
    /// app created can be read.
    pub async fn get_acquisition_link(
        &self,
        link_id: &str,
    ) -> Result<AcquisitionLinkDetail, WecomError> {
        let path = PATH_ACQUISITION_GET;
        if link_id.is_empty() {
            return Err(invalid(path, "link_id", "must not be empty"));
        }
        let mut detail: AcquisitionLinkDetail = self.post(path, &LinkIdRequest { link_id }).await?;
        if detail.link.link_id.is_empty() {
            link_id.clone_into(&mut detail.link.link_id);
        }
        Ok(detail)
    }

    /// Creates an acquisition link (`customer_acquisition/create_link`, 97297). Keep the
    /// returned `link_id`: only this app can change or delete the link.
    pub async fn create_acquisition_link(
        &self,
        request: &CreateAcquisitionLinkRequest,
    ) -> Result<AcquisitionLink, WecomError> {
        let path = PATH_ACQUISITION_CREATE_LINK;
        if request.link_name.trim().is_empty() {
            return Err(invalid(path, "link_name", "must not be empty"));
        }
        check_chars(
            path,
            "link_name",
            Some(&request.link_name),
            MAX_ACQUISITION_LINK_NAME_CHARS,
        )?;
        check_acquisition_range(path, &request.range)?;
        check_priority_option(path, request.priority_option.as_ref())?;
        let response: CreateAcquisitionLinkResponse = self.post(path, request).await?;
        let mut link = response.link;
        if !link.skip_verify {
            // Absent from create_link's answer: what was asked, or WeCom's default.
            link.skip_verify = request.skip_verify.unwrap_or(true);
        }
        Ok(link)
    }

    /// Changes an acquisition link (`customer_acquisition/update_link`, 97297 / 97394): name,
    /// range (replaced as a whole), verification, priority.
    pub async fn update_acquisition_link(
        &self,
        request: &UpdateAcquisitionLinkRequest,
    ) -> Result<(), WecomError> {
        let path = PATH_ACQUISITION_UPDATE_LINK;
        if request.link_id.is_empty() {
            return Err(invalid(path, "link_id", "must not be empty"));
        }
        if let Some(name) = &request.link_name {
            if name.trim().is_empty() {
                return Err(invalid(path, "link_name", "must not be empty"));
            }
            check_chars(
                path,
                "link_name",
                Some(name),
                MAX_ACQUISITION_LINK_NAME_CHARS,
            )?;
        }
        if let Some(range) = &request.range {
            check_acquisition_range(path, range)?;
        }
        check_priority_option(path, request.priority_option.as_ref())?;
        let _: Empty = self.post(path, request).await?;
        Ok(())
    }

    /// Deletes an acquisition link (`customer_acquisition/delete_link`, 97297): "删除后的获客
    /// 链接将无法继续使用".
    pub async fn delete_acquisition_link(&self, link_id: &str) -> Result<(), WecomError> {
        let path = PATH_ACQUISITION_DELETE_LINK;
        if link_id.is_empty() {
            return Err(invalid(path, "link_id", "must not be empty"));
        }
        let _: Empty = self.post(path, &LinkIdRequest { link_id }).await?;
        Ok(())
    }

    /// The acquisition quota: used so far, left, and what expires when
    /// (`GET customer_acquisition_quota`, 97375 / 97400).
    pub async fn get_acquisition_quota(&self) -> Result<AcquisitionQuota, WecomError> {
        self.get(PATH_ACQUISITION_QUOTA, &[]).await
    }

    /// Greets a new customer (`send_welcome_msg`, 92599). Only within 20 s of the add event
    /// ([`WELCOME_CODE_TTL_SECS`]) and once. Errors the caller must tell apart
    /// ([`super::codes`]): 41051 already delivered (done, do not retry), 41096 another app is
    /// sending (may retry within the window), 41050 the code is unknown or expired (give up).
    pub async fn send_welcome_msg(
        &self,
        request: &SendWelcomeMsgRequest,
    ) -> Result<(), WecomError> {
        let path = PATH_SEND_WELCOME_MSG;
        if request.welcome_code.is_empty() {
            return Err(invalid(path, "welcome_code", "must not be empty"));
        }
        if request.text.is_none() && request.attachments.is_empty() {
            return Err(invalid(
                path,
                "text",
                "and attachments must not both be empty",
            ));
        }
        check_len(
            path,
            "attachments",
            &request.attachments,
            0,
            MAX_ATTACHMENTS,
        )?;
        let _: Empty = self.post(path, request).await?;
        Ok(())
    }

    /// Creates a mass-send task the staff member confirms in their client
    /// (`add_msg_template`, 92135). Each customer (and each customer group) receives at most
    /// as many mass messages a month as the month has days, or 7 a week or 1 a day when the
    /// corp set 群发规则 so (92135); over it a recipient's result is status 3. Refused here:
    /// more than [`MAX_MSG_TEMPLATE_CUSTOMERS`] customers, more than
    /// [`MAX_MSG_TEMPLATE_CHATS`] groups, text over [`MAX_MSG_TEMPLATE_TEXT_BYTES`] bytes,
    /// more than [`MAX_ATTACHMENTS`] attachments.
    pub async fn add_msg_template(
        &self,
        request: &AddMsgTemplateRequest,
    ) -> Result<AddMsgTemplateResponse, WecomError> {
        let path = PATH_ADD_MSG_TEMPLATE;
        let chat_type = request.chat_type.as_deref().unwrap_or("single");
        match chat_type {
            "single" => {
                if !request.chat_id_list.is_empty() {
                    return Err(invalid(
                        path,
                        "chat_id_list",
                        "is only valid for chat_type group",
                    ));
                }
                check_len(
                    path,
                    "external_userid",
                    &request.external_userid,
                    0,
                    MAX_MSG_TEMPLATE_CUSTOMERS,
                )?;
            }
            "group" => {
                if request.sender.as_deref().unwrap_or("").is_empty() {
                    return Err(invalid(path, "sender", "is required for chat_type group"));
                }
                check_len(
                    path,
                    "chat_id_list",
                    &request.chat_id_list,
                    0,
                    MAX_MSG_TEMPLATE_CHATS,
                )?;
            }
            other => {
                return Err(invalid(
                    path,
                    "chat_type",
                    format!("must be single or group, is {other:?}"),
                ));
            }
        }
        if request.text.is_none() && request.attachments.is_empty() {
            return Err(invalid(
                path,
                "text",
                "and attachments must not both be empty",
            ));
        }
        if let Some(text) = &request.text
            && text.content.len() > MAX_MSG_TEMPLATE_TEXT_BYTES
        {
            return Err(invalid(
                path,
                "text.content",
                format!(
                    "must be at most {MAX_MSG_TEMPLATE_TEXT_BYTES} bytes, has {}",
                    text.content.len()
                ),
            ));
        }
        check_len(
            path,
            "attachments",
            &request.attachments,
            0,
            MAX_ATTACHMENTS,
        )?;
        self.post(path, request).await
    }

    /// Notifies the staff members of a mass-send task again (`remind_groupmsg_send`, 97610):
    /// WeCom allows [`MAX_REMINDS_PER_DAY`] reminders per task within 24 hours; what it
    /// answers past them is undocumented, so the caller counts its reminders and stops at
    /// three. `msgid` is the task's id from `add_msg_template` / `get_groupmsg_list_v2`.
    pub async fn remind_groupmsg_send(&self, msgid: &str) -> Result<(), WecomError> {
        let path = PATH_REMIND_GROUPMSG_SEND;
        if msgid.is_empty() {
            return Err(invalid(path, "msgid", "must not be empty"));
        }
        let _: Empty = self.post(path, &MsgIdRequest { msgid }).await?;
        Ok(())
    }

    /// Stops a mass-send task (`cancel_groupmsg_send`, 97611): the staff members who have not
    /// sent it no longer can; what was already sent is not recalled ("此接口无法撤回已经群发给
    /// 客户的消息").
    pub async fn cancel_groupmsg_send(&self, msgid: &str) -> Result<(), WecomError> {
        let path = PATH_CANCEL_GROUPMSG_SEND;
        if msgid.is_empty() {
            return Err(invalid(path, "msgid", "must not be empty"));
        }
        let _: Empty = self.post(path, &MsgIdRequest { msgid }).await?;
        Ok(())
    }

    /// One page of mass-send tasks (`get_groupmsg_list_v2`, 96355).
    pub async fn get_groupmsg_list_v2(
        &self,
        request: &GroupMsgListRequest,
    ) -> Result<GroupMsgListResponse, WecomError> {
        let path = PATH_GET_GROUPMSG_LIST_V2;
        check_window(
            path,
            request.end_time - request.start_time,
            MAX_GROUPMSG_LIST_SPAN_SECS,
            "one month",
            request.limit.map(i64::from),
            i64::from(MAX_GROUPMSG_LIST_LIMIT),
        )?;
        self.post(path, request).await
    }

    /// Per-staff status of a mass-send task (`get_groupmsg_task`, 96355).
    pub async fn get_groupmsg_task(
        &self,
        request: &GroupMsgTaskRequest,
    ) -> Result<GroupMsgTaskResponse, WecomError> {
        if request.msgid.is_empty() {
            return Err(invalid(
                PATH_GET_GROUPMSG_TASK,
                "msgid",
                "must not be empty",
            ));
        }
        self.post(PATH_GET_GROUPMSG_TASK, request).await
    }

    /// Per-recipient results of one staff member's share of a task
    /// (`get_groupmsg_send_result`, 96355).
    pub async fn get_groupmsg_send_result(
        &self,
        request: &GroupMsgSendResultRequest,
    ) -> Result<GroupMsgSendResultResponse, WecomError> {
        let path = PATH_GET_GROUPMSG_SEND_RESULT;
        if request.msgid.is_empty() || request.userid.is_empty() {
            return Err(invalid(path, "msgid", "and userid must not be empty"));
        }
        self.post(path, request).await
    }

    /// Transfers customers of an in-service staff member (在职继承, `transfer_customer`,
    /// 96325). Each customer can be transferred at most twice per 90 days.
    pub async fn transfer_customer(
        &self,
        request: &TransferCustomerRequest,
    ) -> Result<Vec<TransferCustomerResult>, WecomError> {
        let path = PATH_TRANSFER_CUSTOMER;
        check_transfer(path, request)?;
        check_chars(
            path,
            "transfer_success_msg",
            request.transfer_success_msg.as_deref(),
            MAX_TRANSFER_MSG_CHARS,
        )?;
        let response: TransferCustomerResponse = self.post(path, request).await?;
        Ok(response.customer)
    }

    /// Takeover status of in-service transfers (`transfer_result`, 94088).
    pub async fn transfer_result(
        &self,
        request: &TransferResultRequest,
    ) -> Result<TransferResultResponse, WecomError> {
        check_transfer_result(PATH_TRANSFER_RESULT, request)?;
        self.post(PATH_TRANSFER_RESULT, request).await
    }

    /// Assigns customers of a resigned staff member (离职继承, `resigned/transfer_customer`,
    /// 96331). `transfer_success_msg` is not part of this API and must be `None`.
    pub async fn resigned_transfer_customer(
        &self,
        request: &TransferCustomerRequest,
    ) -> Result<Vec<TransferCustomerResult>, WecomError> {
        let path = PATH_RESIGNED_TRANSFER_CUSTOMER;
        check_transfer(path, request)?;
        if request.transfer_success_msg.is_some() {
            return Err(invalid(
                path,
                "transfer_success_msg",
                "is not supported for resigned staff",
            ));
        }
        let response: TransferCustomerResponse = self.post(path, request).await?;
        Ok(response.customer)
    }

    /// Takeover status of resigned-staff transfers (`resigned/transfer_result`, 96333).
    pub async fn resigned_transfer_result(
        &self,
        request: &TransferResultRequest,
    ) -> Result<TransferResultResponse, WecomError> {
        check_transfer_result(PATH_RESIGNED_TRANSFER_RESULT, request)?;
        self.post(PATH_RESIGNED_TRANSFER_RESULT, request).await
    }

    /// Gives groups of a resigned owner to a new owner (`groupchat/transfer`, 92127). Returns
    /// the groups that failed.
    pub async fn groupchat_transfer(
        &self,
        request: &GroupChatTransferRequest,
    ) -> Result<Vec<FailedChat>, WecomError> {
        let path = PATH_GROUPCHAT_TRANSFER;
        check_len(
            path,
            "chat_id_list",
            &request.chat_id_list,
            1,
            MAX_GROUPCHAT_TRANSFER,
        )?;
        if request.new_owner.is_empty() {
            return Err(invalid(path, "new_owner", "must not be empty"));
        }
        let response: GroupChatTransferResponse = self.post(path, request).await?;
        Ok(response.failed_chat_list)
    }

    /// Give groups of a staff member who stays to another one (在职继承,
    /// `groupchat/onjob_transfer`, 95703): 1..=100 groups per call, at most 300 groups of one
    /// person a day, each group at most twice in 90 days. The answer lists the groups that
    /// could not be transferred, with their errcode; the others have their new owner at once.
    pub async fn groupchat_onjob_transfer(
        &self,
        request: &GroupChatTransferRequest,
    ) -> Result<Vec<FailedChat>, WecomError> {
        let path = PATH_GROUPCHAT_ONJOB_TRANSFER;
        check_len(
            path,
            "chat_id_list",
            &request.chat_id_list,
            1,
            MAX_GROUPCHAT_TRANSFER,
        )?;
        if request.new_owner.is_empty() {
            return Err(invalid(path, "new_owner", "must not be empty"));
        }
        let response: GroupChatTransferResponse = self.post(path, request).await?;
        Ok(response.failed_chat_list)
    }
}

fn check_acquisition_range(path: &'static str, range: &AcquisitionRange) -> Result<(), WecomError> {
    if range.user_list.is_empty() && range.department_list.is_empty() {
        return Err(invalid(
            path,
            "range",
            "user_list and department_list must not both be empty",
        ));
    }
    if range.user_list.iter().any(String::is_empty) {
        return Err(invalid(
            path,
            "range.user_list",
            "must not hold empty userids",
        ));
    }
    check_len(
        path,
        "range.user_list",
        &range.user_list,
        0,
        MAX_ACQUISITION_LINK_USERS,
    )
}

fn check_priority_option(
    path: &'static str,
    option: Option<&AcquisitionPriorityOption>,
) -> Result<(), WecomError> {
    let Some(option) = option else {
        return Ok(());
    };
    if !matches!(option.priority_type, 1 | 2) {
        return Err(invalid(
            path,
            "priority_option.priority_type",
            format!("must be 1 or 2, is {}", option.priority_type),
        ));
    }
    check_len(
        path,
        "priority_option.priority_userid_list",
        &option.priority_userid_list,
        0,
        MAX_ACQUISITION_PRIORITY_USERS,
    )
}

fn check_transfer(path: &'static str, request: &TransferCustomerRequest) -> Result<(), WecomError> {
    if request.handover_userid.is_empty() || request.takeover_userid.is_empty() {
        return Err(invalid(
            path,
            "handover_userid",
            "and takeover_userid must not be empty",
        ));
    }
    if request.handover_userid == request.takeover_userid {
        return Err(invalid(
            path,
            "takeover_userid",
            "must differ from handover_userid",
        ));
    }
    check_len(
        path,
        "external_userid",
        &request.external_userid,
        1,
        MAX_TRANSFER_CUSTOMERS,
    )
}

fn check_transfer_result(
    path: &'static str,
    request: &TransferResultRequest,
) -> Result<(), WecomError> {
    if request.handover_userid.is_empty() || request.takeover_userid.is_empty() {
        return Err(invalid(
            path,
            "handover_userid",
            "and takeover_userid must not be empty",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_numbers() {
        let msg: GroupMsg =
            serde_json::from_str(r#"{"msgid":"m","create_time":"1605172726"}"#).unwrap();
        assert_eq!(msg.create_time, 1_605_172_726);
        let msg: GroupMsg = serde_json::from_str(r#"{"msgid":"m","create_time":12}"#).unwrap();
        assert_eq!(msg.create_time, 12);
        let contact: ExternalContact =
            serde_json::from_str(r#"{"external_userid":"wm1","gender":"2","type":1}"#).unwrap();
        assert_eq!(contact.gender, 2);
    }

    #[test]
    fn requests_omit_empty_fields() {
        let request = BatchGetByUserRequest {
            userid_list: vec!["zhangsan".into()],
            cursor: String::new(),
            limit: Some(100),
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({"userid_list": ["zhangsan"], "limit": 100})
        );
        let way = AddContactWayRequest {
            contact_type: 1,
            scene: 2,
            user: vec!["zhangsan".into()],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&way).unwrap(),
            serde_json::json!({"type": 1, "scene": 2, "user": ["zhangsan"]})
        );
    }

    #[test]
    fn acquisition_shapes_match_the_pages_examples() {
        // create_link request of 97297.
        let request = CreateAcquisitionLinkRequest {
            link_name: "获客链接1号".into(),
            range: AcquisitionRange {
                user_list: vec!["zhangsan".into(), "lisi".into()],
                department_list: vec![2, 3],
            },
            skip_verify: Some(true),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({
                "link_name": "获客链接1号",
                "range": {"user_list": ["zhangsan", "lisi"], "department_list": [2, 3]},
                "skip_verify": true
            })
        );
        // get answer of 97297 (without its trailing comma).
        let detail: AcquisitionLinkDetail = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","link":{"link_name":"LINK_NAME",
            "url":"https://work.weixin.qq.com/ca/xxxxxx","create_time":1672502400,
            "skip_verify":true},"range":{"user_list":["rocky","sam"],"department_list":[1]}}"#,
        )
        .unwrap();
        assert_eq!(detail.link.url, "https://work.weixin.qq.com/ca/xxxxxx");
        assert!(detail.link.skip_verify);
        assert_eq!(detail.range.department_list, [1]);
        assert_eq!(detail.priority_option, None);
        // customer_acquisition_quota answer of 97400.
        let quota: AcquisitionQuota = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","total":1000,"balance":500,"quota_list":
            [{"expire_date":1689350400,"balance":200},{"expire_date":1692028800,"balance":300}]}"#,
        )
        .unwrap();
        assert_eq!((quota.total, quota.balance), (1000, 500));
        assert_eq!(quota.quota_list[1].expire_date, 1_692_028_800);
        // update_link with only a name sends only the name.
        let update = UpdateAcquisitionLinkRequest {
            link_id: "LINK_ID".into(),
            link_name: Some("新名".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            serde_json::json!({"link_id": "LINK_ID", "link_name": "新名"})
        );
    }

    fn join_way_error(
        scene: i64,
        auto_create_room: i64,
        room_base_name: Option<&str>,
        chats: usize,
        state: Option<&str>,
    ) -> Option<&'static str> {
        let chat_id_list: Vec<String> = (0..chats).map(|i| format!("wrChat{i}")).collect();
        match check_join_way(
            PATH_ADD_JOIN_WAY,
            scene,
            auto_create_room,
            room_base_name,
            &chat_id_list,
            state,
        ) {
            Ok(()) => None,
            Err(WecomError::InvalidRequest { field, .. }) => Some(field),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn join_way_checks() {
        let thirty = "渠".repeat(30);
        let forty = "群".repeat(40);
        assert_eq!(join_way_error(2, 0, None, 1, None), None);
        assert_eq!(join_way_error(1, 1, Some(&forty), 5, Some(&thirty)), None);
        assert_eq!(join_way_error(3, 0, None, 1, None), Some("scene"));
        assert_eq!(join_way_error(0, 0, None, 1, None), Some("scene"));
        assert_eq!(
            join_way_error(2, 2, None, 1, None),
            Some("auto_create_room")
        );
        assert_eq!(join_way_error(2, 0, None, 0, None), Some("chat_id_list"));
        assert_eq!(join_way_error(2, 0, None, 6, None), Some("chat_id_list"));
        let long_state = "渠".repeat(31);
        assert_eq!(
            join_way_error(2, 0, None, 1, Some(&long_state)),
            Some("state")
        );
        let long_name = "群".repeat(41);
        assert_eq!(
            join_way_error(2, 1, Some(&long_name), 1, None),
            Some("room_base_name")
        );
        // With auto_create_room the prefix is required; without it, it may be absent.
        assert_eq!(join_way_error(2, 1, None, 1, None), Some("room_base_name"));
        assert_eq!(
            join_way_error(2, 1, Some(""), 1, None),
            Some("room_base_name")
        );
        assert_eq!(join_way_error(2, 0, Some(""), 1, None), None);
        let empty_chat = check_join_way(PATH_ADD_JOIN_WAY, 2, 0, None, &[String::new()], None);
        assert!(
            matches!(
                empty_chat,
                Err(WecomError::InvalidRequest {
                    field: "chat_id_list",
                    ..
                })
            ),
            "{empty_chat:?}"
        );
    }

    #[test]
    fn join_way_shapes() {
        let request = AddJoinWayRequest {
            scene: 2,
            auto_create_room: 1,
            room_base_name: Some("鱼塘福利群".into()),
            room_base_id: Some(10),
            chat_id_list: vec!["wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA".into()],
            state: Some("klsdup3kj3s1".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({
                "scene": 2,
                "auto_create_room": 1,
                "room_base_name": "鱼塘福利群",
                "room_base_id": 10,
                "chat_id_list": ["wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"],
                "state": "klsdup3kj3s1"
            })
        );
        let update = UpdateJoinWayRequest {
            config_id: "9ad7fa5cdaa6511298498f979c472aaa".into(),
            scene: 1,
            chat_id_list: vec!["wrChat".into()],
            mark_source: Some(true),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            serde_json::json!({
                "config_id": "9ad7fa5cdaa6511298498f979c472aaa",
                "scene": 1,
                "auto_create_room": 0,
                "chat_id_list": ["wrChat"],
                "mark_source": true
            })
        );
        // get_join_way answer of 99547.
        let answer: GetJoinWayResponse = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","join_way":{"config_id":"9ad7fa5cdaa6511298498f979c472aaa",
            "scene":2,"remark":"aa_remark","auto_create_room":1,"room_base_name":"xxxx",
            "room_base_id":10,"chat_id_list":["wrOgQhDgAAH2Yy-CTZ6POca8mlBEdaaa"],
            "qr_code":"http://p.qpic.cn/wwhead/nMl9ssowtibVGyrmvBiaibzDtp/0","state":"klsdup3kj3s1"}}"#,
        )
        .unwrap();
        let way = answer.join_way;
        assert_eq!(way.room_base_id, 10);
        assert_eq!(way.chat_id_list.len(), 1);
        assert_eq!(way.state, "klsdup3kj3s1");
        // A member who joined through a way with a state (96338).
        let member: GroupMember = serde_json::from_str(
            r#"{"userid":"wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA","type":2,"join_time":1572505491,
            "join_scene":3,"state":"klsdup3kj3s1"}"#,
        )
        .unwrap();
        assert_eq!(member.state.as_deref(), Some("klsdup3kj3s1"));
        let member: GroupMember =
            serde_json::from_str(r#"{"userid":"zhangsan","type":1}"#).unwrap();
        assert_eq!(member.state, None);
        assert!(
            serde_json::to_value(&member)
                .unwrap()
                .get("state")
                .is_none()
        );
    }

    #[test]
    fn transfer_status_mapping() {
        assert_eq!(TransferStatus::from(1), TransferStatus::Completed);
        assert_eq!(TransferStatus::from(4), TransferStatus::TakerAtLimit);
        assert_eq!(TransferStatus::from(5), TransferStatus::Other(5));
    }
}

// ---------------------------------------------------------------------------------------------
// App messages (发送应用消息, 90236)
//
// Sources: page 90236 as quoted by the apifox mirror of WeCom's documentation (touser `|`
// separated; `enable_duplicate_check` "表示在一定时间间隔内，同样内容（请求json）的消息，不会重复
// 收到", `duplicate_check_interval` default 1800 s; "如果全部接收人无权限或不存在，则本次调用返回
// 失败，errcode为81013"; the answer's `invaliduser`, `invalidparty`, `invalidtag`,
// `unlicenseduser`, `msgid`, userids lower-cased). The 1,000-user cap of `touser` and the 4-hour
// cap of the interval ("最大不超过4小时") are from the field comments of SDKs that quote the
// page (*unverified* against the page itself); the 2,048-byte cap of a text message is from
// the same SDKs (*unverified*).

/// `POST /cgi-bin/message/send` (90236): an app message to members, with a self-built app's
/// token (its own secret) and its AgentId.
pub const PATH_MESSAGE_SEND: &str = "/cgi-bin/message/send";
/// Userids in `touser`: at most 1,000 (90236, *unverified*: SDK field comments).
pub const MAX_MESSAGE_USERS: usize = 1000;
/// `duplicate_check_interval`: at most 4 hours, in seconds (90236, *unverified*: SDK field
/// comments "最大不超过4小时").
pub const MAX_DUPLICATE_CHECK_INTERVAL_SECS: u32 = 4 * 3600;
/// `duplicate_check_interval` when not given: 1,800 s (90236).
pub const DEFAULT_DUPLICATE_CHECK_INTERVAL_SECS: u32 = 1800;
/// `text.content`: at most 2,048 bytes (*unverified*: SDK field comments).
pub const MAX_TEXT_MESSAGE_BYTES: usize = 2048;
/// `81013`: none of the recipients exists or may receive the app's messages (90236). Not
/// transient: retrying sends nothing.
pub const ERR_NO_VALID_RECIPIENT: i64 = 81013;
/// `40056` 不合法的agentid (global error codes, 90313).
pub const ERR_INVALID_AGENTID: i64 = 40056;
/// `301002` 无权操作指定的应用 (global error codes): the token is not the app's (another
/// secret's token with this AgentId).
pub const ERR_NO_APP_PRIVILEGE: i64 = 301002;

/// `message/send` request for a text message (90236).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MessageSendRequest {
    /// Member userids joined by `|` (at most 1,000), or `@all`.
    pub touser: String,
    /// `text`.
    pub msgtype: String,
    /// The self-built app's AgentId.
    pub agentid: i64,
    /// The text.
    pub text: Text,
    /// 1: WeCom drops a message whose request JSON equals one sent within
    /// `duplicate_check_interval` (the recipients do not receive it twice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_duplicate_check: Option<u8>,
    /// Seconds, at most 4 hours; WeCom's default 1,800.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_check_interval: Option<u32>,
}

impl MessageSendRequest {
    /// A text message to `userids` from app `agentid`, with WeCom's duplicate check over
    /// `dedupe_secs` (a retry within it of the same request is not delivered again).
    pub fn text(agentid: i64, userids: &[String], content: &str, dedupe_secs: u32) -> Self {
        Self {
            touser: userids.join("|"),
            msgtype: "text".into(),
            agentid,
            text: Text {
                content: content.to_owned(),
            },
            enable_duplicate_check: Some(1),
            duplicate_check_interval: Some(dedupe_secs),
        }
    }
}

/// `message/send` answer (90236). A partly delivered message is a success that names the
/// refused recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MessageSendResponse {
    /// Userids that do not exist or are outside the app's visible range, joined by `|`
    /// (lower-cased by WeCom).
    pub invaliduser: String,
    pub invalidparty: String,
    pub invalidtag: String,
    /// Userids in the visible range without a basic interface licence, joined by `|`.
    pub unlicenseduser: String,
    /// The message id (to recall it).
    pub msgid: String,
}

impl WecomClient {
    /// Send an app message (`message/send`, 90236). The client must hold the app's own
    /// secret. Errors: [`ERR_NO_VALID_RECIPIENT`] (81013) when nobody could receive it;
    /// [`ERR_INVALID_AGENTID`] / [`ERR_NO_APP_PRIVILEGE`] for an AgentId the secret is not
    /// of.
    pub async fn message_send(
        &self,
        request: &MessageSendRequest,
    ) -> Result<MessageSendResponse, WecomError> {
        let path = PATH_MESSAGE_SEND;
        let users: Vec<&str> = request.touser.split('|').collect();
        if request.touser.is_empty() || users.iter().any(|u| u.is_empty()) {
            return Err(invalid(path, "touser", "must name userids joined by |"));
        }
        check_len(path, "touser", &users, 1, MAX_MESSAGE_USERS)?;
        if request.agentid <= 0 {
            return Err(invalid(path, "agentid", "must be the app's AgentId"));
        }
        if request.msgtype != "text" {
            return Err(invalid(path, "msgtype", "only text is supported"));
        }
        if request.text.content.is_empty() || request.text.content.len() > MAX_TEXT_MESSAGE_BYTES {
            return Err(invalid(
                path,
                "text.content",
                format!("must be 1..={MAX_TEXT_MESSAGE_BYTES} bytes"),
            ));
        }
        if let Some(secs) = request.duplicate_check_interval
            && (secs == 0 || secs > MAX_DUPLICATE_CHECK_INTERVAL_SECS)
        {
            return Err(invalid(
                path,
                "duplicate_check_interval",
                format!("must be 1..={MAX_DUPLICATE_CHECK_INTERVAL_SECS} seconds"),
            ));
        }
        self.post(path, request).await
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-in with WeCom (企业微信登录): web login (98151 / 98171) and OAuth inside the client
// (91022 / 96441) both end with a `code` exchanged by `auth/getuserinfo` (91023 / 96442 /
// 98177).
//
// Sources: the official pages as quoted in the task brief: the code "只能使用一次，5分钟未被使用
// 自动过期", at most 512 bytes; a member's answer carries `userid` (and `user_ticket` for
// `snsapi_privateinfo`), a non-member's `openid` (and `external_userid` when they are a
// customer of the corp); 40029 invalid code; 50001 redirect_uri not on the app's trusted domain.

/// `GET /cgi-bin/auth/getuserinfo?access_token=…&code=…`: who a sign-in code is of, with the
/// token of the self-built app the sign-in was for.
pub const PATH_AUTH_GETUSERINFO: &str = "/cgi-bin/auth/getuserinfo";
/// A sign-in `code`: at most 512 bytes (96442).
pub const MAX_OAUTH_CODE_BYTES: usize = 512;
/// A sign-in code expires 5 minutes after it was issued, used or not (96442).
pub const OAUTH_CODE_TTL_SECS: u64 = 300;
/// OAuth `state`: letters and digits, at most 128 bytes (91022).
pub const MAX_OAUTH_STATE_BYTES: usize = 128;
/// `40029` invalid code: unknown, used or expired.
pub const ERR_INVALID_OAUTH_CODE: i64 = 40029;
/// `50001` redirect_uri 未授权: its domain is not the app's trusted domain (可信域名).
pub const ERR_UNTRUSTED_REDIRECT: i64 = 50001;
/// The default host of the web-login (QR) page.
pub const DEFAULT_LOGIN_BASE: &str = "https://login.work.weixin.qq.com";
/// The default host of the OAuth authorize page opened inside the WeCom client.
pub const DEFAULT_OAUTH_BASE: &str = "https://open.weixin.qq.com";
/// The web-login page's path (98151): `?login_type=CorpApp&appid=…&agentid=…&redirect_uri=…&state=…`.
pub const PATH_WEB_LOGIN: &str = "/wwlogin/sso/login";
/// The OAuth authorize page's path (91022): `?appid=…&redirect_uri=…&response_type=code&scope=snsapi_base&state=…&agentid=…#wechat_redirect`.
pub const PATH_OAUTH_AUTHORIZE: &str = "/connect/oauth2/authorize";

/// Whether `state` is one WeCom carries through: 1..=128 letters and digits.
pub fn is_valid_oauth_state(state: &str) -> bool {
    !state.is_empty()
        && state.len() <= MAX_OAUTH_STATE_BYTES
        && state.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Percent-encode everything but RFC 3986's unreserved characters (a query value).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The web-login (QR, 扫码登录) address for a desktop browser (98151): `login_base` is
/// [`DEFAULT_LOGIN_BASE`] or a proxy's (the fake's in tests).
pub fn web_login_url(
    login_base: &str,
    corp_id: &str,
    agent_id: i64,
    redirect_uri: &str,
    state: &str,
) -> String {
    format!(
        "{}{PATH_WEB_LOGIN}?login_type=CorpApp&appid={}&agentid={agent_id}&redirect_uri={}&state={}",
        login_base.trim_end_matches('/'),
        url_encode(corp_id),
        url_encode(redirect_uri),
        url_encode(state),
    )
}

/// The OAuth address for a page opened inside the WeCom client (91022), silent
/// (`snsapi_base`): `oauth_base` is [`DEFAULT_OAUTH_BASE`] or a proxy's.
pub fn oauth_authorize_url(
    oauth_base: &str,
    corp_id: &str,
    agent_id: i64,
    redirect_uri: &str,
    state: &str,
) -> String {
    format!(
        "{}{PATH_OAUTH_AUTHORIZE}?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}&agentid={agent_id}#wechat_redirect",
        oauth_base.trim_end_matches('/'),
        url_encode(corp_id),
        url_encode(redirect_uri),
        url_encode(state),
    )
}

/// `auth/getuserinfo` answer: a member's `userid`, or for someone outside the corp `openid`
/// (and `external_userid` when they are the corp's customer) without a userid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AuthUserInfo {
    /// The member's userid; empty for a non-member.
    pub userid: String,
    /// For `snsapi_privateinfo` only (unused by `snsapi_base`).
    pub user_ticket: String,
    /// A non-member's openid.
    pub openid: String,
    /// A non-member who is the corp's customer.
    pub external_userid: String,
}

impl WecomClient {
    /// Who a sign-in `code` (web login or OAuth) is of (`auth/getuserinfo`, 96442). The
    /// client must hold the self-built app's secret. The code is checked before it is sent:
    /// 1..=512 bytes of visible ASCII. Errors: [`ERR_INVALID_OAUTH_CODE`] (40029) for an
    /// unknown, used or expired code.
    pub async fn auth_getuserinfo(&self, code: &str) -> Result<AuthUserInfo, WecomError> {
        let path = PATH_AUTH_GETUSERINFO;
        if code.is_empty()
            || code.len() > MAX_OAUTH_CODE_BYTES
            || !code.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(invalid(
                path,
                "code",
                format!("must be 1..={MAX_OAUTH_CODE_BYTES} bytes of visible ASCII"),
            ));
        }
        self.get(path, &[("code", code)]).await
    }
}

// ---------------------------------------------------------------------------------------------
// JS-SDK tickets and signatures, for pages in the chat sidebar (聊天工具栏)
//
// Source: developer.work.weixin.qq.com/document/path/96909 "JS-SDK 签名算法" (as stored in the
// `search` docs corpus, last updated 2024/11/14):
// - the signature is the hex SHA-1 of
//   `jsapi_ticket=JSAPI_TICKET&noncestr=NONCESTR&timestamp=TIMESTAMP&url=URL`, in that order,
//   "不要改变参数顺序，不要进行 URL encode"; `url` is the page's URL "不包含「#」及后面部分";
//   the page's example (noncestr `Wm3WZYTPz0wzccnW`, timestamp 1414587457, url
//   `http://mp.weixin.qq.com?params=value`) gives `0f9de62fce790f9a083d5c99e95740ceb90c27ed`;
// - the corp ticket (企业 jsapi_ticket, `getConfigSignature` / `wx.config`) and the app ticket
//   (应用 jsapi_ticket, `getAgentConfigSignature` / `wx.agentConfig`) are both valid 7200 s
//   "具体过期时间需要参考接口返回的 expires_in", and fetching them is strictly limited: "一小时
//   内，一个企业最多可获取 400 次，且单个应用不能超过 100 次", so they must be cached.
//
// The paths and the answer `{errcode, errmsg, ticket, expires_in}` are the same as in WeCom's
// older page 90506 (as SDKs and WeCom's community answers quote it). WeCom documents no errcode
// for a fetch over the hourly limit: its global code for a frequency limit is 45009 ("api freq
// out of limit", 90313), which is what the fake answers. Both endpoints are called with the
// **self-built app's** access token (the app whose AgentId the page registers with); the fake
// refuses another token (the customer-contact secret's) with 48002 `api forbidden`, the global
// code for "API 接口无权限调用" (the fake's choice: WeCom documents no code for this case).

/// `GET /cgi-bin/get_jsapi_ticket?access_token=…`: the corp's JS-SDK ticket, for the
/// `wx.config` / `getConfigSignature` signature (96909).
pub const PATH_GET_JSAPI_TICKET: &str = "/cgi-bin/get_jsapi_ticket";
/// `GET /cgi-bin/ticket/get?access_token=…&type=agent_config`: the app's JS-SDK ticket, for the
/// `wx.agentConfig` / `getAgentConfigSignature` signature (96909).
pub const PATH_TICKET_GET: &str = "/cgi-bin/ticket/get";
/// The `type` of [`PATH_TICKET_GET`] for the app ticket.
pub const TICKET_TYPE_AGENT_CONFIG: &str = "agent_config";
/// A ticket's usual lifetime, 7200 s (96909); the answer's `expires_in` rules.
pub const JSAPI_TICKET_TTL_SECS: u64 = 7200;
/// Ticket fetches a corp may make in an hour, both kinds and all apps together (96909).
pub const MAX_TICKET_FETCHES_PER_CORP_PER_HOUR: usize = 400;
/// Ticket fetches one app (one app's access token) may make in an hour, both kinds (96909).
pub const MAX_TICKET_FETCHES_PER_APP_PER_HOUR: usize = 100;
/// `48002` api forbidden (global error codes, 90313): the token's secret may not call this API.
/// The fake's answer to a ticket fetch with a token that is not a self-built app's.
pub const ERR_API_FORBIDDEN: i64 = 48002;

/// Which JS-SDK ticket (96909).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketKind {
    /// The corp ticket (企业 jsapi_ticket): signs `wx.config` (`getConfigSignature` of
    /// `ww.register`), [`PATH_GET_JSAPI_TICKET`].
    Corp,
    /// The app ticket (应用 jsapi_ticket): signs `wx.agentConfig` (`getAgentConfigSignature`),
    /// [`PATH_TICKET_GET`] with `type=agent_config`. Needed by the sidebar's
    /// `getCurExternalContact` (96918) and `getCurExternalChat` (98531), which "必须使用应用身份
    /// 进行注册", and `sendChatMessage` (96935: "必须先成功调用agentConfig").
    Agent,
}

impl TicketKind {
    /// The API path the ticket is fetched from.
    pub fn path(self) -> &'static str {
        match self {
            Self::Corp => PATH_GET_JSAPI_TICKET,
            Self::Agent => PATH_TICKET_GET,
        }
    }

    /// The query parameters of the fetch, besides the access token.
    pub(crate) fn query(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Corp => &[],
            Self::Agent => &[("type", TICKET_TYPE_AGENT_CONFIG)],
        }
    }
}

/// `url` without `#` and what follows it: the URL a JS-SDK signature is over (96909: "不包含
/// 「#」及后面部分").
pub fn strip_fragment(url: &str) -> &str {
    url.split_once('#').map_or(url, |(before, _)| before)
}

/// The JS-SDK signature (96909): the lowercase hex SHA-1 of
/// `jsapi_ticket={ticket}&noncestr={nonce_str}&timestamp={timestamp}&url={url}`, in that order
/// and without URL-encoding, `url` cut at its `#` ([`strip_fragment`]). The same function signs
/// `wx.config` (with the corp ticket) and `wx.agentConfig` (with the app ticket); `nonce_str`
/// and `timestamp` (Unix seconds) must be the ones the page passes to `ww.register`.
pub fn jssdk_signature(ticket: &str, nonce_str: &str, timestamp: i64, url: &str) -> String {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(b"jsapi_ticket=");
    hasher.update(ticket.as_bytes());
    hasher.update(b"&noncestr=");
    hasher.update(nonce_str.as_bytes());
    hasher.update(b"&timestamp=");
    hasher.update(timestamp.to_string().as_bytes());
    hasher.update(b"&url=");
    hasher.update(strip_fragment(url).as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod jssdk_tests {
    use super::*;

    /// The example of 96909.
    const DOC_TICKET: &str =
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";

    #[test]
    fn signature_matches_the_doc_example() {
        assert_eq!(
            jssdk_signature(
                DOC_TICKET,
                "Wm3WZYTPz0wzccnW",
                1_414_587_457,
                "http://mp.weixin.qq.com?params=value"
            ),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
        );
    }

    #[test]
    fn signature_ignores_the_fragment() {
        let plain = jssdk_signature(
            DOC_TICKET,
            "Wm3WZYTPz0wzccnW",
            1_414_587_457,
            "http://mp.weixin.qq.com?params=value",
        );
        let with_fragment = jssdk_signature(
            DOC_TICKET,
            "Wm3WZYTPz0wzccnW",
            1_414_587_457,
            "http://mp.weixin.qq.com?params=value#/sidebar?tab=1#again",
        );
        assert_eq!(plain, with_fragment);
        // Not URL-encoded, and every part counts.
        assert_ne!(
            plain,
            jssdk_signature(
                DOC_TICKET,
                "Wm3WZYTPz0wzccnW",
                1_414_587_457,
                "http://mp.weixin.qq.com?params%3Dvalue"
            )
        );
        assert_ne!(
            plain,
            jssdk_signature(
                DOC_TICKET,
                "Wm3WZYTPz0wzccnW",
                1_414_587_458,
                "http://mp.weixin.qq.com?params=value"
            )
        );
    }

    #[test]
    fn strip_fragment_cuts_at_the_first_hash() {
        assert_eq!(
            strip_fragment("https://a.example/s?x=1#/chat#b"),
            "https://a.example/s?x=1"
        );
        assert_eq!(
            strip_fragment("https://a.example/s?x=1"),
            "https://a.example/s?x=1"
        );
        assert_eq!(strip_fragment("https://a.example/#"), "https://a.example/");
        assert_eq!(strip_fragment(""), "");
    }

    #[test]
    fn ticket_kinds_fetch_from_their_paths() {
        assert_eq!(TicketKind::Corp.path(), "/cgi-bin/get_jsapi_ticket");
        assert!(TicketKind::Corp.query().is_empty());
        assert_eq!(TicketKind::Agent.path(), "/cgi-bin/ticket/get");
        assert_eq!(TicketKind::Agent.query(), [("type", "agent_config")]);
    }
}

// ---------------------------------------------------------------------------------------------
// Moments (客户朋友圈) and attachments (上传附件资源)
//
// Sources: 95094 / 96351 (企业发表内容到客户的朋友圈: `add_moment_task`, `get_moment_task_result`),
// 93443 (the records: `get_moment_list`, `get_moment_task`, `get_moment_comments`), 97612
// (`cancel_moment_task`), 96347 (`media/upload_attachment`).
//
// A moment is created in two steps: `add_moment_task` only **starts** a job and answers a
// `jobid` (valid 24 h); `get_moment_task_result` says when the job is done (status 3) and
// whether it succeeded (`result.errcode`, e.g. 40007 for a media id WeCom no longer knows), with
// the `moment_id` and the senders and tags WeCom dropped. Like a mass-send task, a moment is
// then published by each staff member in their client; `cancel_moment_task` stops the members
// who have not published it yet (what was published stays).
//
// Images and videos are attached by `media_id`, from `upload_attachment` with
// `attachment_type` 1 (not from `media/upload`): such an id is valid for three days
// ([`MEDIA_TTL_SECS`]), so upload just before creating the task, and again when a task is
// retried after that.
//
// Error codes: the pages name the errmsgs `invalid text size`, `invalid attachments msgtype` and
// `invalid attachments size` without their errcode; the fake answers 40058 with those texts.

/// `POST /cgi-bin/media/upload_attachment` (96347): upload an image or a video as
/// `multipart/form-data` (field `media`), for moments (`attachment_type` 1).
pub const PATH_UPLOAD_ATTACHMENT: &str = "/cgi-bin/media/upload_attachment";
/// `POST /cgi-bin/externalcontact/add_moment_task` (95094 / 96351): start a job that creates a
/// moment for staff members to publish.
pub const PATH_ADD_MOMENT_TASK: &str = "/cgi-bin/externalcontact/add_moment_task";
/// `GET /cgi-bin/externalcontact/get_moment_task_result` (95094 / 96351): the outcome of that
/// job.
pub const PATH_GET_MOMENT_TASK_RESULT: &str = "/cgi-bin/externalcontact/get_moment_task_result";
/// `POST /cgi-bin/externalcontact/get_moment_list` (93443): moments created in a time window.
pub const PATH_GET_MOMENT_LIST: &str = "/cgi-bin/externalcontact/get_moment_list";
/// `POST /cgi-bin/externalcontact/get_moment_task` (93443): who has published a moment.
pub const PATH_GET_MOMENT_TASK: &str = "/cgi-bin/externalcontact/get_moment_task";
/// `POST /cgi-bin/externalcontact/get_moment_comments` (93443): likes and comments on one
/// member's post of a moment.
pub const PATH_GET_MOMENT_COMMENTS: &str = "/cgi-bin/externalcontact/get_moment_comments";
/// `POST /cgi-bin/externalcontact/cancel_moment_task` (97612): stop a moment the members have
/// not all published.
pub const PATH_CANCEL_MOMENT_TASK: &str = "/cgi-bin/externalcontact/cancel_moment_task";

/// `text.content` of a moment: at most 2,000 characters (95094; WeCom answers `invalid text
/// size`).
pub const MAX_MOMENT_TEXT_CHARS: usize = 2000;
/// Images of a moment: at most 9; or else one video, or one link, never mixed (95094:
/// `invalid attachments size` / `invalid attachments msgtype`).
pub const MAX_MOMENT_IMAGES: usize = 9;
/// `visible_range.sender_list.user_list`: at most 100,000 userids (95094).
pub const MAX_MOMENT_SENDERS: usize = 100_000;
/// `end_time - start_time` of `get_moment_list`: at most 30 days (93443).
pub const MAX_MOMENT_LIST_SPAN_SECS: i64 = 30 * 86_400;
/// `limit` of `get_moment_list`: at most 20 (93443).
pub const MAX_MOMENT_LIST_LIMIT: i64 = 20;
/// `limit` of `get_moment_task`: at most 1,000 (93443).
pub const MAX_MOMENT_TASK_LIMIT: i64 = 1000;
/// `link.title` of a moment: at most 64 bytes (95094).
pub const MAX_MOMENT_LINK_TITLE_BYTES: usize = 64;
/// How long a `media_id` from `upload_attachment` stays valid: 3 days (96347).
pub const MEDIA_TTL_SECS: i64 = 3 * 86_400;
/// `attachment_type` 1: an attachment for moments (96347; 2 is for product albums, which
/// Yutang does not use).
pub const ATTACHMENT_TYPE_MOMENT: u8 = 1;
/// An uploaded file must be **more than** 5 bytes (96347).
pub const MIN_ATTACHMENT_BYTES: usize = 5;
/// An image (JPG or PNG) or a video (MP4) for a moment: at most 10 MB (96347).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// `upload_attachment` answer (96347). The `media_id` is valid for [`MEDIA_TTL_SECS`] from
/// `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UploadedMedia {
    /// `image` or `video`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The id to attach.
    pub media_id: String,
    /// Upload time (Unix seconds).
    #[serde(default)]
    pub created_at: i64,
}

/// `add_moment_task` request (95094): text and attachments not both empty. Without
/// `visible_range.sender_list` every member in the app's visible range receives the task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddMomentTaskRequest {
    /// Text, at most [`MAX_MOMENT_TEXT_CHARS`] characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// At most 9 images, or 1 video, or 1 link; never mixed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<MomentAttachment>,
    /// Who publishes it and which customers see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visible_range: Option<VisibleRange>,
}

/// An attachment of a moment (95094): `{"msgtype": "image", "image": {"media_id": …}}` and so
/// on. The media ids come from [`WecomClient::upload_attachment`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "msgtype", rename_all = "snake_case")]
pub enum MomentAttachment {
    /// An image (JPG/PNG).
    Image { image: MediaRef },
    /// A video (MP4).
    Video { video: MediaRef },
    /// A link with a cover image.
    Link { link: MomentLink },
}

/// A media id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// From `upload_attachment`, or as `get_moment_list` returns it.
    pub media_id: String,
}

/// A link attachment of a moment (95094).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MomentLink {
    /// Title, at most [`MAX_MOMENT_LINK_TITLE_BYTES`] bytes.
    pub title: String,
    /// The URL.
    pub url: String,
    /// The cover: an **image** media id from `upload_attachment` (required).
    pub media_id: String,
}

/// `visible_range` of a moment (95094).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VisibleRange {
    /// The members who publish it; none = every member in the app's visible range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_list: Option<SenderList>,
    /// Which of their customers see it (by corp tag); none = all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_contact_list: Option<ExternalContactList>,
}

/// `visible_range.sender_list` (95094).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SenderList {
    /// Member userids, at most [`MAX_MOMENT_SENDERS`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_list: Vec<String>,
    /// Department ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub department_list: Vec<i64>,
}

/// `visible_range.external_contact_list` (95094).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExternalContactList {
    /// Corp tag ids only (personal tags are not accepted).
    pub tag_list: Vec<String>,
}

#[derive(Deserialize)]
struct AddMomentTaskResponse {
    #[serde(default)]
    jobid: String,
}

/// `get_moment_task_result` answer (95094): `status` 1 started, 2 creating, 3 done; `result`
/// only means something at 3.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MomentTaskResult {
    /// 1 started, 2 creating, 3 done.
    pub status: i64,
    /// The outcome, at status 3.
    #[serde(default)]
    pub result: Option<MomentTaskOutcome>,
}

/// `result` of `get_moment_task_result` (95094): `errcode` non-zero means the job failed (no
/// moment), e.g. 40007 for an invalid or expired media id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MomentTaskOutcome {
    /// 0 = the moment was created.
    #[serde(default)]
    pub errcode: i64,
    /// WeCom's message.
    #[serde(default)]
    pub errmsg: String,
    /// The moment, when created.
    #[serde(default)]
    pub moment_id: String,
    /// Senders WeCom dropped (not members, or outside the app's visible range).
    #[serde(default)]
    pub invalid_sender_list: InvalidSenders,
    /// Tags WeCom dropped (not corp tags).
    #[serde(default)]
    pub invalid_external_contact_list: InvalidTags,
}

/// `invalid_sender_list` (95094).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct InvalidSenders {
    #[serde(default)]
    pub user_list: Vec<String>,
    #[serde(default)]
    pub department_list: Vec<i64>,
}

/// `invalid_external_contact_list` (95094).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct InvalidTags {
    #[serde(default)]
    pub tag_list: Vec<String>,
}

/// `get_moment_list` request (93443): span at most [`MAX_MOMENT_LIST_SPAN_SECS`], `limit` at
/// most [`MAX_MOMENT_LIST_LIMIT`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MomentListRequest {
    /// Start (Unix seconds).
    pub start_time: i64,
    /// End (Unix seconds).
    pub end_time: i64,
    /// Only moments of this member (moments created through the API have no creator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// 0 corp-created (API included), 1 personal, 2 all (default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_type: Option<i64>,
    /// Cursor from the previous page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
    /// Page size, 1..=20.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `get_moment_list` answer (93443).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MomentListResponse {
    /// Cursor of the next page; empty on the last page.
    #[serde(default)]
    pub next_cursor: String,
    /// Moments of this page.
    #[serde(default)]
    pub moment_list: Vec<MomentSummary>,
}

/// A moment in `get_moment_list` (93443).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MomentSummary {
    /// The moment.
    pub moment_id: String,
    /// Creation time (Unix seconds).
    #[serde(default)]
    pub create_time: i64,
    /// 0 corp-created (the API's), 1 personal.
    #[serde(default)]
    pub create_type: i64,
    /// Text.
    #[serde(default)]
    pub text: Option<Text>,
    /// Images.
    #[serde(default)]
    pub image: Vec<MediaRef>,
    /// Video.
    #[serde(default)]
    pub video: Option<MediaRef>,
    /// Link.
    #[serde(default)]
    pub link: Option<LinkSummary>,
}

/// `link` of a moment in `get_moment_list` (93443).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LinkSummary {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub url: String,
}

#[derive(Serialize)]
struct MomentTaskRequest<'a> {
    moment_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    cursor: &'a str,
    limit: i64,
}

/// `get_moment_task` answer (93443).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MomentTaskPage {
    /// Cursor of the next page; empty on the last page.
    #[serde(default)]
    pub next_cursor: String,
    /// The members of this page.
    #[serde(default)]
    pub task_list: Vec<MomentPublisher>,
}

/// One member of a moment (93443).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MomentPublisher {
    /// The member.
    pub userid: String,
    /// 0 not published, 1 published.
    #[serde(default)]
    pub publish_status: i64,
}

#[derive(Serialize)]
struct MomentCommentsRequest<'a> {
    moment_id: &'a str,
    userid: &'a str,
}

/// `get_moment_comments` answer (93443): interactions on one member's post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MomentComments {
    #[serde(default)]
    pub comment_list: Vec<MomentInteraction>,
    #[serde(default)]
    pub like_list: Vec<MomentInteraction>,
}

/// A like or a comment (93443): by a customer (`external_userid`) or by a member (`userid`),
/// never both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MomentInteraction {
    #[serde(default)]
    pub external_userid: String,
    #[serde(default)]
    pub userid: String,
    /// When (Unix seconds).
    #[serde(default)]
    pub create_time: i64,
}

#[derive(Serialize)]
struct MomentIdRequest<'a> {
    moment_id: &'a str,
}

/// Whether `bytes` look like an MP4 (an ISO base media file: `ftyp` box first).
pub(crate) fn is_mp4(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"ftyp")
}

/// The checks of `add_moment_task` (95094), before sending.
fn check_moment_task(request: &AddMomentTaskRequest) -> Result<(), WecomError> {
    let path = PATH_ADD_MOMENT_TASK;
    let text = request.text.as_ref().map_or("", |t| t.content.as_str());
    if text.is_empty() && request.attachments.is_empty() {
        return Err(invalid(
            path,
            "text",
            "and attachments must not both be empty",
        ));
    }
    check_chars(path, "text.content", Some(text), MAX_MOMENT_TEXT_CHARS)?;
    let (mut images, mut videos, mut links) = (0usize, 0usize, 0usize);
    for attachment in &request.attachments {
        let media_id = match attachment {
            MomentAttachment::Image { image } => {
                images += 1;
                &image.media_id
            }
            MomentAttachment::Video { video } => {
                videos += 1;
                &video.media_id
            }
            MomentAttachment::Link { link } => {
                links += 1;
                if link.title.is_empty() || link.title.len() > MAX_MOMENT_LINK_TITLE_BYTES {
                    return Err(invalid(
                        path,
                        "attachments.link.title",
                        format!(
                            "must be 1..={MAX_MOMENT_LINK_TITLE_BYTES} bytes, has {}",
                            link.title.len()
                        ),
                    ));
                }
                if link.url.is_empty() {
                    return Err(invalid(path, "attachments.link.url", "must not be empty"));
                }
                &link.media_id
            }
        };
        if media_id.is_empty() {
            return Err(invalid(
                path,
                "attachments.media_id",
                "must not be empty (a link needs a cover image)",
            ));
        }
    }
    if [images, videos, links].iter().filter(|&&n| n > 0).count() > 1 {
        return Err(invalid(
            path,
            "attachments",
            "must not mix images, a video and a link",
        ));
    }
    check_len(
        path,
        "attachments",
        &request.attachments,
        0,
        MAX_MOMENT_IMAGES,
    )?;
    if videos > 1 || links > 1 {
        return Err(invalid(
            path,
            "attachments",
            "may hold only one video or one link",
        ));
    }
    if let Some(senders) = request
        .visible_range
        .as_ref()
        .and_then(|r| r.sender_list.as_ref())
    {
        check_len(
            path,
            "visible_range.sender_list.user_list",
            &senders.user_list,
            0,
            MAX_MOMENT_SENDERS,
        )?;
    }
    Ok(())
}

impl WecomClient {
    /// Uploads an image or a video for a moment (`media/upload_attachment`, 96347), as
    /// `multipart/form-data` through the usual token refresh and retries. The `media_id` is
    /// valid for [`MEDIA_TTL_SECS`] (3 days).
    ///
    /// Refused here: `attachment_type` other than 1, `media_type` other than `image` /
    /// `video`, a file of 5 bytes or less or over [`MAX_ATTACHMENT_BYTES`], an image that is
    /// not a JPG or PNG, a video that is not an MP4 (by their first bytes), a `content_type`
    /// that is not a MIME type.
    pub async fn upload_attachment(
        &self,
        media_type: &str,
        attachment_type: u8,
        file_name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<UploadedMedia, WecomError> {
        let path = PATH_UPLOAD_ATTACHMENT;
        if attachment_type != ATTACHMENT_TYPE_MOMENT {
            return Err(invalid(
                path,
                "attachment_type",
                format!("must be {ATTACHMENT_TYPE_MOMENT} (moments), is {attachment_type}"),
            ));
        }
        let format_ok = match media_type {
            "image" => super::image::sniff_image(&bytes).is_some(),
            "video" => is_mp4(&bytes),
            other => {
                return Err(invalid(
                    path,
                    "media_type",
                    format!("must be image or video for moments, is {other:?}"),
                ));
            }
        };
        if bytes.len() <= MIN_ATTACHMENT_BYTES || bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(invalid(
                path,
                "media",
                format!(
                    "must be more than {MIN_ATTACHMENT_BYTES} bytes and at most \
                     {MAX_ATTACHMENT_BYTES}, has {}",
                    bytes.len()
                ),
            ));
        }
        if !format_ok {
            return Err(invalid(
                path,
                "media",
                if media_type == "image" {
                    "must be a JPG or PNG image"
                } else {
                    "must be an MP4 video"
                },
            ));
        }
        if file_name.is_empty() {
            return Err(invalid(path, "file_name", "must not be empty"));
        }
        if content_type
            .parse::<reqwest::header::HeaderValue>()
            .is_err()
            || !content_type.contains('/')
        {
            return Err(invalid(path, "content_type", "must be a MIME type"));
        }
        let file = super::FilePart {
            field: "media",
            file_name: file_name.to_owned(),
            content_type: content_type.to_owned(),
            bytes,
        };
        let attachment_type = attachment_type.to_string();
        let query = [
            ("media_type", media_type),
            ("attachment_type", attachment_type.as_str()),
        ];
        self.post_file(path, &query, &file).await
    }

    /// Starts a job that creates a moment (`add_moment_task`, 95094) and returns its `jobid`
    /// (valid 24 h): poll [`WecomClient::get_moment_task_result`] for the moment id. Refused
    /// here: no text and no attachment, text over [`MAX_MOMENT_TEXT_CHARS`] characters, more
    /// than [`MAX_MOMENT_IMAGES`] images, more than one video or link, mixed attachment
    /// types, an empty media id, a link title over [`MAX_MOMENT_LINK_TITLE_BYTES`] bytes, more
    /// than [`MAX_MOMENT_SENDERS`] userids.
    pub async fn add_moment_task(
        &self,
        request: &AddMomentTaskRequest,
    ) -> Result<String, WecomError> {
        check_moment_task(request)?;
        let response: AddMomentTaskResponse = self.post(PATH_ADD_MOMENT_TASK, request).await?;
        Ok(response.jobid)
    }

    /// The state of a moment job (`GET get_moment_task_result`, 95094). At status 3 check
    /// `result.errcode`: the call succeeds even when the job failed.
    pub async fn get_moment_task_result(
        &self,
        jobid: &str,
    ) -> Result<MomentTaskResult, WecomError> {
        if jobid.is_empty() {
            return Err(invalid(
                PATH_GET_MOMENT_TASK_RESULT,
                "jobid",
                "must not be empty",
            ));
        }
        self.get(PATH_GET_MOMENT_TASK_RESULT, &[("jobid", jobid)])
            .await
    }

    /// One page of moments created between `start_time` and `end_time` (`get_moment_list`,
    /// 93443). Loop while `next_cursor` is not empty.
    pub async fn get_moment_list(
        &self,
        request: &MomentListRequest,
    ) -> Result<MomentListResponse, WecomError> {
        let path = PATH_GET_MOMENT_LIST;
        check_window(
            path,
            request.end_time - request.start_time,
            MAX_MOMENT_LIST_SPAN_SECS,
            "30 days",
            request.limit,
            MAX_MOMENT_LIST_LIMIT,
        )?;
        if let Some(filter_type) = request.filter_type
            && !(0..=2).contains(&filter_type)
        {
            return Err(invalid(
                path,
                "filter_type",
                format!("must be 0, 1 or 2, is {filter_type}"),
            ));
        }
        self.post(path, request).await
    }

    /// One page of a moment's members and whether each has published it (`get_moment_task`,
    /// 93443); `limit` 1..=1000.
    pub async fn get_moment_task(
        &self,
        moment_id: &str,
        cursor: &str,
        limit: i64,
    ) -> Result<MomentTaskPage, WecomError> {
        let path = PATH_GET_MOMENT_TASK;
        if moment_id.is_empty() {
            return Err(invalid(path, "moment_id", "must not be empty"));
        }
        if !(1..=MAX_MOMENT_TASK_LIMIT).contains(&limit) {
            return Err(invalid(
                path,
                "limit",
                format!("must be 1..={MAX_MOMENT_TASK_LIMIT}, is {limit}"),
            ));
        }
        self.post(
            path,
            &MomentTaskRequest {
                moment_id,
                cursor,
                limit,
            },
        )
        .await
    }

    /// Likes and comments on `userid`'s post of a moment (`get_moment_comments`, 93443).
    pub async fn get_moment_comments(
        &self,
        moment_id: &str,
        userid: &str,
    ) -> Result<MomentComments, WecomError> {
        let path = PATH_GET_MOMENT_COMMENTS;
        if moment_id.is_empty() || userid.is_empty() {
            return Err(invalid(path, "moment_id", "and userid must not be empty"));
        }
        self.post(path, &MomentCommentsRequest { moment_id, userid })
            .await
    }

    /// Stops a moment (`cancel_moment_task`, 97612): members who have not published it no
    /// longer can; what was published is not recalled.
    pub async fn cancel_moment_task(&self, moment_id: &str) -> Result<(), WecomError> {
        let path = PATH_CANCEL_MOMENT_TASK;
        if moment_id.is_empty() {
            return Err(invalid(path, "moment_id", "must not be empty"));
        }
        let _: Empty = self.post(path, &MomentIdRequest { moment_id }).await?;
        Ok(())
    }
}

#[cfg(test)]
mod moment_tests {
    use super::*;

    #[test]
    fn moment_request_matches_the_pages_shape() {
        let request = AddMomentTaskRequest {
            text: Some(Text {
                content: "新品上市".into(),
            }),
            attachments: vec![
                MomentAttachment::Image {
                    image: MediaRef {
                        media_id: "m1".into(),
                    },
                },
                MomentAttachment::Link {
                    link: MomentLink {
                        title: "t".into(),
                        url: "https://example.com".into(),
                        media_id: "m2".into(),
                    },
                },
            ],
            visible_range: Some(VisibleRange {
                sender_list: Some(SenderList {
                    user_list: vec!["zhangsan".into()],
                    department_list: vec![],
                }),
                external_contact_list: Some(ExternalContactList {
                    tag_list: vec!["et1".into()],
                }),
            }),
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({
                "text": {"content": "新品上市"},
                "attachments": [
                    {"msgtype": "image", "image": {"media_id": "m1"}},
                    {"msgtype": "link", "link": {"title": "t", "url": "https://example.com", "media_id": "m2"}},
                ],
                "visible_range": {
                    "sender_list": {"user_list": ["zhangsan"]},
                    "external_contact_list": {"tag_list": ["et1"]},
                },
            })
        );
        // Mixed: refused.
        assert!(matches!(
            check_moment_task(&request),
            Err(WecomError::InvalidRequest {
                field: "attachments",
                ..
            })
        ));
    }

    #[test]
    fn moment_answers_decode() {
        let result: MomentTaskResult = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","status":3,"type":"add_moment_task","result":
            {"errcode":0,"errmsg":"ok","moment_id":"mom1","invalid_sender_list":
            {"user_list":["zhangsan"],"department_list":[2]},
            "invalid_external_contact_list":{"tag_list":["xxx"]}}}"#,
        )
        .unwrap();
        let outcome = result.result.unwrap();
        assert_eq!((result.status, outcome.moment_id.as_str()), (3, "mom1"));
        assert_eq!(outcome.invalid_sender_list.department_list, [2]);
        assert_eq!(outcome.invalid_external_contact_list.tag_list, ["xxx"]);
        let pending: MomentTaskResult = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","status":1,"type":"add_moment_task"}"#,
        )
        .unwrap();
        assert_eq!(pending.result, None);
        let list: MomentListResponse = serde_json::from_str(
            r#"{"errcode":0,"errmsg":"ok","next_cursor":"CURSOR","moment_list":[{"moment_id":"m",
            "creator":"zhangsan","create_time":1605172726,"create_type":1,"visible_type":1,
            "text":{"content":"test"},"image":[{"media_id":"WWCISP_x"}],
            "video":{"media_id":"WWCISP_y","thumb_media_id":"WWCISP_z"},
            "link":{"title":"腾讯网-QQ.COM","url":"https://www.qq.com"},
            "location":{"latitude":"23.10647","longitude":"113.32446","name":"广州"}}]}"#,
        )
        .unwrap();
        let moment = &list.moment_list[0];
        assert_eq!(moment.video.as_ref().unwrap().media_id, "WWCISP_y");
        assert_eq!(moment.link.as_ref().unwrap().url, "https://www.qq.com");
        assert_eq!(moment.image.len(), 1);
    }

    #[test]
    fn only_mp4_is_a_video() {
        assert!(is_mp4(b"\0\0\0\x18ftypmp42"));
        assert!(!is_mp4(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_mp4(b"ftyp"));
    }
}
