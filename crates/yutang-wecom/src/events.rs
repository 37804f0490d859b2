//! Typed external-contact callback events ("事件格式", developer.work.weixin.qq.com document path
//! 96361, for self-built apps). The third-party variant (92277) wraps the same changes in
//! `SuiteId` / `AuthCorpId` / `InfoType` / `TimeStamp` instead of the common fields below and is
//! not handled here (it fails with a missing `ToUserName`).
//!
//! Input is the *decrypted* callback XML (what [`crate::CallbackCrypto::decrypt_message`]
//! returns). Three families matter to an SCRM: customers (`change_external_contact`), customer
//! groups (`change_external_chat`) and corp tags (`change_external_tag`).
//!
//! Design choices:
//! - An `Event` or `ChangeType` this crate does not know parses into [`EventKind::Unknown`]
//!   with the raw XML, never into an error: WeCom adds event types over time, and the inbox
//!   must keep them rather than reject them. Malformed XML, a missing common field or a
//!   missing identifier of a known event is an [`EventError`].
//! - Values that are open-ended on WeCom's side (`UpdateDetail`, `TagType`) have an `Other`
//!   arm instead of failing.
//! - Every event carries a [`CallbackEvent::dedup_key`] computed from the whole payload; see
//!   there for why.
//!
//! What was verified against the official text (96361) and what was not: the common fields
//! (`ToUserName` = corp id, `FromUserName` = `sys`, `CreateTime`, `MsgType` = `event`) and the
//! `add_external_contact` fields (`UserID`, `ExternalUserID`, `State`, `WelcomeCode`) were read
//! in the official page. The list of event kinds (add/edit/add_half/del_external_contact,
//! del_follow_user, transfer_fail, chat create/update/dismiss, tag create/update/delete/shuffle)
//! was read in the page's table of contents. The fields of the other events (`Source` on
//! `del_external_contact`, `FailReason`, `ChatId`, `UpdateDetail` and its values `add_member`,
//! `del_member`, `change_owner`, `change_name`, `change_notice`, `JoinScene`, `QuitScene`,
//! `MemChangeCnt`, `MemChangeList`/`Item`, `LastMemVer`, `CurMemVer`, and the tag fields `Id`,
//! `TagType` = `tag` | `tag_group`, `StrategyId`) could not be read in the official text
//! available to us; they come from maintained SDKs (WxJava, SKIT.FlurlHttpClient.Wechat,
//! go-workwx and others) and WeCom's developer forum, and are parsed leniently: optional where
//! the SDKs disagree or mark them optional.

use crate::xml::Document;

/// How much of a bad value an error message repeats.
const ERROR_EXCERPT_CHARS: usize = 64;

/// Why a decrypted callback could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not well-formed XML (or a `<!DOCTYPE>`, which WeCom never sends).
    #[error("malformed callback XML: {0}")]
    Malformed(String),
    /// A field every callback of this kind carries is absent or empty.
    #[error("required field <{0}> is missing or empty")]
    MissingField(&'static str),
    /// A field has a value of the wrong shape (a non-numeric `CreateTime`, …).
    #[error("field <{field}> has an invalid value {value:?}")]
    InvalidField {
        /// The field's XML name.
        field: &'static str,
        /// The start of the offending value.
        value: String,
    },
}

impl EventError {
    /// A stable snake_case name for logs, metrics and the console's translations.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "wecom_event_malformed",
            Self::MissingField(_) => "wecom_event_missing_field",
            Self::InvalidField { .. } => "wecom_event_invalid_field",
        }
    }
}

/// A decrypted WeCom callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEvent {
    /// `ToUserName`: the corp id.
    pub corp_id: String,
    /// `FromUserName`: `sys` for these system events.
    pub from_user_name: String,
    /// `CreateTime`: seconds since the Unix epoch, as WeCom stamped it.
    pub create_time: i64,
    /// `MsgType`: `event` for these events.
    pub msg_type: String,
    /// What happened.
    pub kind: EventKind,
    dedup_key: String,
}

/// What a callback reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `Event=change_external_contact`: a customer relationship changed.
    ExternalContact(ExternalContactEvent),
    /// `Event=change_external_chat`: a customer group changed.
    ExternalChat(ExternalChatEvent),
    /// `Event=change_external_tag`: a corp tag or tag group changed.
    ExternalTag(ExternalTagEvent),
    /// Any other `Event` / `ChangeType` (or a plain message without `Event`). Kept, not
    /// refused, so new WeCom events are stored and can be handled later.
    Unknown {
        /// The `Event` value, if any.
        event: Option<String>,
        /// The `ChangeType` value, if any.
        change_type: Option<String>,
        /// The whole decrypted XML.
        raw: String,
    },
}

/// `change_external_contact`: between a staff member (`UserID`) and a customer
/// (`ExternalUserID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalContactEvent {
    /// `UserID`: the staff member.
    pub user_id: String,
    /// `ExternalUserID`: the customer.
    pub external_user_id: String,
    /// The `ChangeType` and its own fields.
    pub change: ContactChange,
}

/// The `ChangeType` of a `change_external_contact` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    /// `add_external_contact`: the staff member added the customer.
    Add {
        /// `State`: the `state` of the contact way (or the acquisition link's
        /// `customer_channel`) the customer came through; identifies the channel.
        state: Option<String>,
        /// `WelcomeCode`: lets `send_welcome_msg` greet the customer, once and only within
        /// 20 s. Absent when the pair already chatted, a welcome was already sent, or the admin
        /// console has a welcome message configured.
        welcome_code: Option<String>,
    },
    /// `add_half_external_contact`: the customer added the staff member without verification
    /// (the staff member has not accepted yet). Same fields as `Add`.
    AddHalf {
        /// `State`, as for `Add`.
        state: Option<String>,
        /// `WelcomeCode`, as for `Add`.
        welcome_code: Option<String>,
    },
    /// `edit_external_contact`: remark or tags edited in the client.
    Edit,
    /// `del_external_contact`: the staff member deleted the customer.
    Delete {
        /// `Source`, e.g. `DELETE_BY_TRANSFER` when the deletion came from a transfer
        /// (unverified field, see the module docs).
        source: Option<String>,
    },
    /// `del_follow_user`: the customer deleted the staff member.
    DeleteFollowUser,
    /// `transfer_fail`: a customer transfer to this staff member failed.
    TransferFail {
        /// `FailReason`: `customer_refused` or `customer_limit_exceed` in the SDKs we checked
        /// (unverified, see the module docs).
        fail_reason: Option<String>,
    },
}

/// `change_external_chat`: a customer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalChatEvent {
    /// `ChatId`: the group.
    pub chat_id: String,
    /// The `ChangeType` and its own fields.
    pub change: ChatChange,
}

/// The `ChangeType` of a `change_external_chat` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatChange {
    /// `create`: a group was created.
    Create,
    /// `update`: members, owner, name or notice changed.
    Update(ChatUpdate),
    /// `dismiss`: the group was dismissed.
    Dismiss,
}

/// The fields of a `change_external_chat` / `update` event.
///
/// A member-quit event does not say who left unless `MemChangeList` is present: re-fetch the
/// group and diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatUpdate {
    /// `UpdateDetail`: what changed.
    pub detail: UpdateDetail,
    /// `JoinScene`: how members joined (`add_member` only).
    pub join_scene: Option<i64>,
    /// `QuitScene`: how members left (`del_member` only).
    pub quit_scene: Option<i64>,
    /// `MemChangeCnt`: how many members joined or left.
    pub mem_change_cnt: Option<i64>,
    /// `MemChangeList`: who joined or left, when WeCom sends it. Read from `<Item>` children,
    /// or from a comma-separated text as older payloads had it.
    pub mem_change_list: Vec<String>,
    /// `LastMemVer`: member-list version before the change.
    pub last_mem_ver: Option<String>,
    /// `CurMemVer`: member-list version after the change.
    pub cur_mem_ver: Option<String>,
}

/// `UpdateDetail` of a group update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateDetail {
    /// `add_member`: members joined.
    AddMember,
    /// `del_member`: members left or were removed.
    DelMember,
    /// `change_owner`: the owner changed.
    ChangeOwner,
    /// `change_name`: the name changed.
    ChangeName,
    /// `change_notice`: the notice (announcement) changed.
    ChangeNotice,
    /// Any other value, kept as sent.
    Other(String),
}

impl UpdateDetail {
    fn parse(value: &str) -> Self {
        match value {
            "add_member" => Self::AddMember,
            "del_member" => Self::DelMember,
            "change_owner" => Self::ChangeOwner,
            "change_name" => Self::ChangeName,
            "change_notice" => Self::ChangeNotice,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// `change_external_tag`: a corp tag or tag group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalTagEvent {
    /// `StrategyId`: the rule group the tag belongs to, for rule-group tags.
    pub strategy_id: Option<i64>,
    /// The `ChangeType` and its own fields.
    pub change: TagChange,
}

/// The `ChangeType` of a `change_external_tag` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagChange {
    /// `create`: a tag or tag group was created. Creating a group with several tags sends one
    /// event per tag (no MsgId), which is why the dedup key covers `Id`.
    Create {
        /// `Id`: the tag or tag group.
        id: String,
        /// `TagType`.
        tag_type: Option<TagType>,
    },
    /// `update`: a tag or tag group was renamed or edited.
    Update {
        /// `Id`: the tag or tag group.
        id: String,
        /// `TagType`.
        tag_type: Option<TagType>,
    },
    /// `delete`: a tag or tag group was deleted.
    Delete {
        /// `Id`: the tag or tag group.
        id: String,
        /// `TagType`.
        tag_type: Option<TagType>,
    },
    /// `shuffle`: tags or tag groups were reordered.
    Shuffle {
        /// `Id`: the tag group whose tags were reordered; absent or empty when the groups
        /// themselves were reordered.
        id: Option<String>,
    },
}

/// `TagType` of a tag event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagType {
    /// `tag`: a single tag.
    Tag,
    /// `tag_group`: a tag group.
    TagGroup,
    /// Any other value, kept as sent.
    Other(String),
}

impl TagType {
    fn parse(value: &str) -> Self {
        match value {
            "tag" => Self::Tag,
            "tag_group" => Self::TagGroup,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl CallbackEvent {
    /// Parses a decrypted callback.
    pub fn parse(xml: &str) -> Result<Self, EventError> {
        let doc = Document::parse(xml).map_err(|e| EventError::Malformed(e.to_string()))?;
        let corp_id = required(&doc, "ToUserName")?.to_owned();
        let from_user_name = required(&doc, "FromUserName")?.to_owned();
        let create_time = required_i64(&doc, "CreateTime")?;
        let msg_type = required(&doc, "MsgType")?.to_owned();
        let event = optional(&doc, "Event");
        let change_type = optional(&doc, "ChangeType");

        let known = match (event.as_deref(), change_type.as_deref()) {
            (Some("change_external_contact"), Some(ct)) => {
                contact_change(&doc, ct)?.map(EventKind::ExternalContact)
            }
            (Some("change_external_chat"), Some(ct)) => {
                chat_change(&doc, ct)?.map(EventKind::ExternalChat)
            }
            (Some("change_external_tag"), Some(ct)) => {
                tag_change(&doc, ct)?.map(EventKind::ExternalTag)
            }
            _ => None,
        };
        let kind = known.unwrap_or_else(|| EventKind::Unknown {
            event,
            change_type,
            raw: xml.to_owned(),
        });

        Ok(Self {
            corp_id,
            from_user_name,
            create_time,
            msg_type,
            kind,
            dedup_key: format!("v1:{}", hex::encode(doc.canonical_digest())),
        })
    }

    /// A key under which retries of this callback collide and distinct callbacks do not.
    ///
    /// It is `v1:` followed by the hex SHA-1 of a canonical form of **the whole decrypted
    /// payload**: every field, known to this crate or not, sorted by name, with whitespace,
    /// CDATA-versus-text and entity spelling normalised away.
    ///
    /// Why the whole payload rather than a chosen list of fields (corp, Event, ChangeType,
    /// UserID, ExternalUserID/ChatId/Id, CreateTime, …): a key that is too coarse silently
    /// loses real events, which is worse than processing a duplicate, and every hand-picked
    /// list so far has been too coarse somewhere (the documented FromUserName + CreateTime
    /// merged two customers adding one staff member in the same second; tag-group creation
    /// sends one event per tag without a MsgId; group updates differ only in
    /// `MemChangeList`/`CurMemVer`). Hashing everything is never coarser than any such list,
    /// and stays right when WeCom adds fields. The canonical form keeps it from being too fine:
    /// a retry that re-serialises the same event differently still collides.
    ///
    /// Two genuinely separate callbacks with identical content in the same second (the same
    /// customer re-adding the same staff member twice in one second) do collide; they describe
    /// the same state, so processing one is enough. Keep keys for at least 7 days: late
    /// duplicates arrive hours later.
    pub fn dedup_key(&self) -> String {
        self.dedup_key.clone()
    }
}

fn optional(doc: &Document, name: &str) -> Option<String> {
    doc.field(name)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

fn required<'a>(doc: &'a Document, name: &'static str) -> Result<&'a str, EventError> {
    doc.field(name)
        .filter(|value| !value.is_empty())
        .ok_or(EventError::MissingField(name))
}

fn parse_i64(name: &'static str, value: &str) -> Result<i64, EventError> {
    value.trim().parse().map_err(|_| EventError::InvalidField {
        field: name,
        value: value.chars().take(ERROR_EXCERPT_CHARS).collect(),
    })
}

fn required_i64(doc: &Document, name: &'static str) -> Result<i64, EventError> {
    parse_i64(name, required(doc, name)?)
}

fn optional_i64(doc: &Document, name: &'static str) -> Result<Option<i64>, EventError> {
    match doc.field(name).map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => parse_i64(name, value).map(Some),
        None => Ok(None),
    }
}

fn contact_change(
    doc: &Document,
    change_type: &str,
) -> Result<Option<ExternalContactEvent>, EventError> {
    let change = match change_type {
        "add_external_contact" => ContactChange::Add {
            state: optional(doc, "State"),
            welcome_code: optional(doc, "WelcomeCode"),
        },
        "add_half_external_contact" => ContactChange::AddHalf {
            state: optional(doc, "State"),
            welcome_code: optional(doc, "WelcomeCode"),
        },
        "edit_external_contact" => ContactChange::Edit,
        "del_external_contact" => ContactChange::Delete {
            source: optional(doc, "Source"),
        },
        "del_follow_user" => ContactChange::DeleteFollowUser,
        "transfer_fail" => ContactChange::TransferFail {
            fail_reason: optional(doc, "FailReason"),
        },
        _ => return Ok(None),
    };
    Ok(Some(ExternalContactEvent {
        user_id: required(doc, "UserID")?.to_owned(),
        external_user_id: required(doc, "ExternalUserID")?.to_owned(),
        change,
    }))
}

fn chat_change(doc: &Document, change_type: &str) -> Result<Option<ExternalChatEvent>, EventError> {
    let change = match change_type {
        "create" => ChatChange::Create,
        "dismiss" => ChatChange::Dismiss,
        "update" => ChatChange::Update(ChatUpdate {
            detail: UpdateDetail::parse(required(doc, "UpdateDetail")?),
            join_scene: optional_i64(doc, "JoinScene")?,
            quit_scene: optional_i64(doc, "QuitScene")?,
            mem_change_cnt: optional_i64(doc, "MemChangeCnt")?,
            mem_change_list: member_list(doc),
            last_mem_ver: optional(doc, "LastMemVer"),
            cur_mem_ver: optional(doc, "CurMemVer"),
        }),
        _ => return Ok(None),
    };
    Ok(Some(ExternalChatEvent {
        chat_id: required(doc, "ChatId")?.to_owned(),
        change,
    }))
}

fn member_list(doc: &Document) -> Vec<String> {
    let items = doc.children("MemChangeList", "Item");
    if !items.is_empty() {
        return items
            .into_iter()
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect();
    }
    doc.field("MemChangeList")
        .map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn tag_change(doc: &Document, change_type: &str) -> Result<Option<ExternalTagEvent>, EventError> {
    let tag_type = || optional(doc, "TagType").map(|t| TagType::parse(&t));
    let id = || required(doc, "Id").map(str::to_owned);
    let change = match change_type {
        "create" => TagChange::Create {
            id: id()?,
            tag_type: tag_type(),
        },
        "update" => TagChange::Update {
            id: id()?,
            tag_type: tag_type(),
        },
        "delete" => TagChange::Delete {
            id: id()?,
            tag_type: tag_type(),
        },
        "shuffle" => TagChange::Shuffle {
            id: optional(doc, "Id"),
        },
        _ => return Ok(None),
    };
    Ok(Some(ExternalTagEvent {
        strategy_id: optional_i64(doc, "StrategyId")?,
        change,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(body: &str) -> String {
        format!(
            "<xml>\n\t<ToUserName><![CDATA[ww0123456789abcdef]]></ToUserName>\n\
             \t<FromUserName><![CDATA[sys]]></FromUserName>\n\
             \t<CreateTime>1403610513</CreateTime>\n\
             \t<MsgType><![CDATA[event]]></MsgType>\n{body}\n</xml>"
        )
    }

    fn contact(change_type: &str, extra: &str) -> String {
        wrap(&format!(
            "\t<Event><![CDATA[change_external_contact]]></Event>\n\
             \t<ChangeType><![CDATA[{change_type}]]></ChangeType>\n\
             \t<UserID><![CDATA[zhangsan]]></UserID>\n\
             \t<ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID>\n{extra}"
        ))
    }

    fn parse(xml: &str) -> CallbackEvent {
        CallbackEvent::parse(xml).unwrap()
    }

    /// The `add_external_contact` example of the official page (96361), verbatim.
    const DOC_ADD_EXTERNAL_CONTACT: &str = "<xml>\n\
        \t<ToUserName><![CDATA[toUser]]></ToUserName>\n\
        \t<FromUserName><![CDATA[sys]]></FromUserName> \n\
        \t<CreateTime>1403610513</CreateTime>\n\
        \t<MsgType><![CDATA[event]]></MsgType>\n\
        \t<Event><![CDATA[change_external_contact]]></Event>\n\
        \t<ChangeType><![CDATA[add_external_contact]]></ChangeType>\n\
        \t<UserID><![CDATA[zhangsan]]></UserID>\n\
        \t<ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID>\n\
        \t<State><![CDATA[teststate]]></State>\n\
        \t<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>\n\
        </xml>";

    #[test]
    fn official_add_external_contact_example() {
        let event = parse(DOC_ADD_EXTERNAL_CONTACT);
        assert_eq!(event.corp_id, "toUser");
        assert_eq!(event.from_user_name, "sys");
        assert_eq!(event.create_time, 1_403_610_513);
        assert_eq!(event.msg_type, "event");
        assert_eq!(
            event.kind,
            EventKind::ExternalContact(ExternalContactEvent {
                user_id: "zhangsan".to_owned(),
                external_user_id: "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA".to_owned(),
                change: ContactChange::Add {
                    state: Some("teststate".to_owned()),
                    welcome_code: Some("WELCOMECODE".to_owned()),
                },
            })
        );
        assert!(event.dedup_key().starts_with("v1:"));
        assert_eq!(event.dedup_key().len(), 43);
    }

    #[test]
    fn contact_change_types() {
        let change = |xml: &str| match parse(xml).kind {
            EventKind::ExternalContact(c) => c.change,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            change(&contact("add_external_contact", "")),
            ContactChange::Add {
                state: None,
                welcome_code: None
            }
        );
        assert_eq!(
            change(&contact(
                "add_half_external_contact",
                "<State>渠道A</State><WelcomeCode>W</WelcomeCode>"
            )),
            ContactChange::AddHalf {
                state: Some("渠道A".to_owned()),
                welcome_code: Some("W".to_owned())
            }
        );
        assert_eq!(
            change(&contact("edit_external_contact", "")),
            ContactChange::Edit
        );
        assert_eq!(
            change(&contact(
                "del_external_contact",
                "<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>"
            )),
            ContactChange::Delete {
                source: Some("DELETE_BY_TRANSFER".to_owned())
            }
        );
        assert_eq!(
            change(&contact("del_follow_user", "")),
            ContactChange::DeleteFollowUser
        );
        assert_eq!(
            change(&contact(
                "transfer_fail",
                "<FailReason><![CDATA[customer_refused]]></FailReason>"
            )),
            ContactChange::TransferFail {
                fail_reason: Some("customer_refused".to_owned())
            }
        );
    }

    #[test]
    fn chat_update_with_item_list() {
        let xml = wrap(
            "<Event><![CDATA[change_external_chat]]></Event>\
             <ChatId><![CDATA[wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA]]></ChatId>\
             <ChangeType><![CDATA[update]]></ChangeType>\
             <UpdateDetail><![CDATA[add_member]]></UpdateDetail>\
             <JoinScene>1</JoinScene><QuitScene>0</QuitScene><MemChangeCnt>2</MemChangeCnt>\
             <MemChangeList><Item><![CDATA[Jack]]></Item><Item>Rose</Item></MemChangeList>\
             <LastMemVer>9c3f97c2ada667dfb5f6d03308d963e1</LastMemVer>\
             <CurMemVer>71217227bbd112ecfe3a49c482195cb4</CurMemVer>",
        );
        let EventKind::ExternalChat(chat) = parse(&xml).kind else {
            panic!("not a chat event");
        };
        assert_eq!(chat.chat_id, "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA");
        assert_eq!(
            chat.change,
            ChatChange::Update(ChatUpdate {
                detail: UpdateDetail::AddMember,
                join_scene: Some(1),
                quit_scene: Some(0),
                mem_change_cnt: Some(2),
                mem_change_list: vec!["Jack".to_owned(), "Rose".to_owned()],
                last_mem_ver: Some("9c3f97c2ada667dfb5f6d03308d963e1".to_owned()),
                cur_mem_ver: Some("71217227bbd112ecfe3a49c482195cb4".to_owned()),
            })
        );
    }

    #[test]
    fn chat_update_details_and_old_list_format() {
        let update = |detail: &str, extra: &str| {
            let xml = wrap(&format!(
                "<Event>change_external_chat</Event><ChatId>c1</ChatId>\
                 <ChangeType>update</ChangeType><UpdateDetail>{detail}</UpdateDetail>{extra}"
            ));
            match parse(&xml).kind {
                EventKind::ExternalChat(ExternalChatEvent {
                    change: ChatChange::Update(u),
                    ..
                }) => u,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(update("del_member", "").detail, UpdateDetail::DelMember);
        assert_eq!(update("change_owner", "").detail, UpdateDetail::ChangeOwner);
        assert_eq!(update("change_name", "").detail, UpdateDetail::ChangeName);
        assert_eq!(
            update("change_notice", "").detail,
            UpdateDetail::ChangeNotice
        );
        assert_eq!(
            update("brand_new", "").detail,
            UpdateDetail::Other("brand_new".to_owned())
        );
        let old = update(
            "del_member",
            "<QuitScene>1</QuitScene><MemChangeList><![CDATA[a, b,,c]]></MemChangeList>",
        );
        assert_eq!(old.mem_change_list, vec!["a", "b", "c"]);
        assert_eq!(old.quit_scene, Some(1));
        assert_eq!(old.join_scene, None);
    }

    #[test]
    fn chat_create_and_dismiss() {
        for (ct, expected) in [
            ("create", ChatChange::Create),
            ("dismiss", ChatChange::Dismiss),
        ] {
            let xml = wrap(&format!(
                "<Event>change_external_chat</Event><ChatId>c1</ChatId><ChangeType>{ct}</ChangeType>"
            ));
            assert_eq!(
                parse(&xml).kind,
                EventKind::ExternalChat(ExternalChatEvent {
                    chat_id: "c1".to_owned(),
                    change: expected
                })
            );
        }
    }

    #[test]
    fn tag_events() {
        let tag = |ct: &str, extra: &str| {
            let xml = wrap(&format!(
                "<Event><![CDATA[change_external_tag]]></Event>\
                 <ChangeType><![CDATA[{ct}]]></ChangeType>{extra}"
            ));
            match parse(&xml).kind {
                EventKind::ExternalTag(t) => t,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(
            tag(
                "create",
                "<Id><![CDATA[TAG_ID]]></Id><TagType><![CDATA[tag]]></TagType><StrategyId>1</StrategyId>"
            ),
            ExternalTagEvent {
                strategy_id: Some(1),
                change: TagChange::Create {
                    id: "TAG_ID".to_owned(),
                    tag_type: Some(TagType::Tag)
                }
            }
        );
        assert_eq!(
            tag("update", "<Id>G</Id><TagType>tag_group</TagType>").change,
            TagChange::Update {
                id: "G".to_owned(),
                tag_type: Some(TagType::TagGroup)
            }
        );
        assert_eq!(
            tag("delete", "<Id>G</Id><TagType>odd</TagType>").change,
            TagChange::Delete {
                id: "G".to_owned(),
                tag_type: Some(TagType::Other("odd".to_owned()))
            }
        );
        assert_eq!(
            tag("shuffle", "<Id>G</Id>").change,
            TagChange::Shuffle {
                id: Some("G".to_owned())
            }
        );
        assert_eq!(
            tag("shuffle", "<Id></Id>").change,
            TagChange::Shuffle { id: None }
        );
    }

    #[test]
    fn unknown_events_are_kept_not_refused() {
        let cases = [
            (
                "<Event>change_contact</Event><ChangeType>create_user</ChangeType>",
                Some("change_contact"),
                Some("create_user"),
            ),
            (
                "<Event>change_external_contact</Event><ChangeType>msg_audit_approved</ChangeType>",
                Some("change_external_contact"),
                Some("msg_audit_approved"),
            ),
            (
                "<Event>change_external_chat</Event><ChangeType>rename</ChangeType>",
                Some("change_external_chat"),
                Some("rename"),
            ),
            (
                "<Event>change_external_tag</Event>",
                Some("change_external_tag"),
                None,
            ),
            ("<Content>hello</Content>", None, None),
        ];
        for (body, event, change_type) in cases {
            let xml = wrap(body);
            assert_eq!(
                parse(&xml).kind,
                EventKind::Unknown {
                    event: event.map(str::to_owned),
                    change_type: change_type.map(str::to_owned),
                    raw: xml.clone(),
                },
                "{body}"
            );
        }
    }

    #[test]
    fn errors() {
        assert!(matches!(
            CallbackEvent::parse("<xml><ToUserName>"),
            Err(EventError::Malformed(_))
        ));
        assert_eq!(
            CallbackEvent::parse("<xml><FromUserName>sys</FromUserName></xml>"),
            Err(EventError::MissingField("ToUserName"))
        );
        assert_eq!(
            CallbackEvent::parse(&DOC_ADD_EXTERNAL_CONTACT.replace("1403610513", "soon")),
            Err(EventError::InvalidField {
                field: "CreateTime",
                value: "soon".to_owned()
            })
        );
        assert_eq!(
            CallbackEvent::parse(&contact("add_external_contact", "").replace("zhangsan", "")),
            Err(EventError::MissingField("UserID"))
        );
        let chat_without_id =
            wrap("<Event>change_external_chat</Event><ChangeType>create</ChangeType>");
        assert_eq!(
            CallbackEvent::parse(&chat_without_id),
            Err(EventError::MissingField("ChatId"))
        );
        let bad_scene = wrap(
            "<Event>change_external_chat</Event><ChatId>c</ChatId><ChangeType>update</ChangeType>\
             <UpdateDetail>add_member</UpdateDetail><JoinScene>x</JoinScene>",
        );
        assert!(matches!(
            CallbackEvent::parse(&bad_scene),
            Err(EventError::InvalidField {
                field: "JoinScene",
                ..
            })
        ));
        let tag_without_id =
            wrap("<Event>change_external_tag</Event><ChangeType>delete</ChangeType>");
        assert_eq!(
            CallbackEvent::parse(&tag_without_id),
            Err(EventError::MissingField("Id"))
        );
    }

    #[test]
    fn dedup_key_separates_what_coarse_keys_merged() {
        // WxJava #3002: two customers add the same staff member in the same second.
        let a = parse(&contact("add_external_contact", ""));
        let b = parse(&contact("add_external_contact", "").replace(
            "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA",
            "woAJ2GCAAAXtWyujaWJHDDGi0mBBBB",
        ));
        assert_ne!(a.dedup_key(), b.dedup_key());

        // WxJava #2314: one tag group created with several tags, same second, no MsgId.
        let tag = |id: &str| {
            parse(&wrap(&format!(
                "<Event>change_external_tag</Event><ChangeType>create</ChangeType>\
                 <Id>{id}</Id><TagType>tag</TagType>"
            )))
        };
        assert_ne!(tag("t1").dedup_key(), tag("t2").dedup_key());

        // Two add_member updates of one group in the same second.
        let update = |ver: &str| {
            parse(&wrap(&format!(
                "<Event>change_external_chat</Event><ChatId>c</ChatId><ChangeType>update</ChangeType>\
                 <UpdateDetail>add_member</UpdateDetail><CurMemVer>{ver}</CurMemVer>"
            )))
        };
        assert_ne!(update("v1").dedup_key(), update("v2").dedup_key());

        // Same change type, different corp.
        let other_corp = parse(&contact("add_external_contact", "").replace("ww0123", "ww9999"));
        assert_ne!(a.dedup_key(), other_corp.dedup_key());
    }

    #[test]
    fn dedup_key_is_stable_across_reserialisation() {
        let compact = "<xml><ToUserName>toUser</ToUserName><FromUserName>sys</FromUserName>\
            <CreateTime>1403610513</CreateTime><MsgType>event</MsgType>\
            <Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType>\
            <UserID>zhangsan</UserID><ExternalUserID>woAJ2GCAAAXtWyujaWJHDDGi0mAAAA</ExternalUserID>\
            <WelcomeCode>WELCOMECODE</WelcomeCode><State>teststate</State></xml>";
        assert_eq!(
            parse(DOC_ADD_EXTERNAL_CONTACT).dedup_key(),
            parse(compact).dedup_key()
        );
    }
}
