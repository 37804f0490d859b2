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
/// `limit` of `get_groupmsg_list_v2`: at most 100 (96355).
pub const MAX_GROUPMSG_LIST_LIMIT: u32 = 100;
/// `end_time - start_time` of `get_groupmsg_list_v2`: "不能超过1个月" (96355); taken as
/// 31 days.
pub const MAX_GROUPMSG_LIST_SPAN_SECS: i64 = 31 * 24 * 3600;
/// Corp tag and tag group names: at most 30 characters (*unverified*: SDK documentation of
/// `edit_corp_tag`).
pub const MAX_TAG_NAME_CHARS: usize = 30;

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
    /// Target customers (single).
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
    /// Text.
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
    /// 0 not sent, 2 sent.
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
    /// 0 not sent, 1 sent, 2 not a customer, 3 over the receipt cap.
    pub status: i64,
    /// When sent (Unix seconds).
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
    /// 500,000 API-created ways per corp.
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

    /// Greets a new customer (`send_welcome_msg`, 92599). Only within 20 s of the add event
    /// and once: 41051 means already sent (do not retry), 41096 another app is sending (may
    /// retry).
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
    /// (`add_msg_template`, 92135).
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
        check_len(
            path,
            "attachments",
            &request.attachments,
            0,
            MAX_ATTACHMENTS,
        )?;
        self.post(path, request).await
    }

    /// One page of mass-send tasks (`get_groupmsg_list_v2`, 96355).
    pub async fn get_groupmsg_list_v2(
        &self,
        request: &GroupMsgListRequest,
    ) -> Result<GroupMsgListResponse, WecomError> {
        let path = PATH_GET_GROUPMSG_LIST_V2;
        let span = request.end_time - request.start_time;
        if !(0..=MAX_GROUPMSG_LIST_SPAN_SECS).contains(&span) {
            return Err(invalid(
                path,
                "end_time",
                "must be after start_time and at most one month later",
            ));
        }
        if let Some(limit) = request.limit
            && !(1..=MAX_GROUPMSG_LIST_LIMIT).contains(&limit)
        {
            return Err(invalid(
                path,
                "limit",
                format!("must be 1..={MAX_GROUPMSG_LIST_LIMIT}, is {limit}"),
            ));
        }
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
    fn transfer_status_mapping() {
        assert_eq!(TransferStatus::from(1), TransferStatus::Completed);
        assert_eq!(TransferStatus::from(4), TransferStatus::TakerAtLimit);
        assert_eq!(TransferStatus::from(5), TransferStatus::Other(5));
    }
}
