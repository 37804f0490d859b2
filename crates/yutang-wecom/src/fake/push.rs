//! Callbacks the fake WeCom pushes: event XML as WeCom formats it (96361), encrypted and
//! signed with the crate's own [`crate::crypto`], POSTed like WeCom does.

use rand::RngCore as _;

use crate::crypto::{CallbackCrypto, CryptoError, RANDOM_PREFIX_LEN};

/// Where and how to deliver callbacks: the app's callback URL, Token and EncodingAESKey, and
/// the receive id (the corp id for a self-built app).
#[derive(Clone)]
pub struct CallbackTarget {
    /// The callback URL (e.g. `http://127.0.0.1:8080/wecom/callback`).
    pub url: String,
    /// The app's Token.
    pub token: String,
    /// The app's 43-character EncodingAESKey.
    pub encoding_aes_key: String,
    /// The receive id the plaintext ends with.
    pub receive_id: String,
}

impl std::fmt::Debug for CallbackTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackTarget")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("encoding_aes_key", &"<redacted>")
            .field("receive_id", &self.receive_id)
            .finish()
    }
}

/// An event the fake can push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeEvent {
    /// `change_external_contact` / `add_external_contact`.
    AddExternalContact {
        /// Staff member.
        userid: String,
        /// Customer.
        external_userid: String,
        /// The contact way's state.
        state: Option<String>,
        /// Welcome code, valid for `send_welcome_msg`.
        welcome_code: Option<String>,
    },
    /// `change_external_contact` / `edit_external_contact`.
    EditExternalContact {
        /// Staff member.
        userid: String,
        /// Customer.
        external_userid: String,
    },
    /// `change_external_contact` / `del_external_contact` (the staff member deleted the
    /// customer).
    DelExternalContact {
        /// Staff member.
        userid: String,
        /// Customer.
        external_userid: String,
    },
    /// `change_external_contact` / `del_follow_user` (the customer deleted the staff member).
    DelFollowUser {
        /// Staff member.
        userid: String,
        /// Customer.
        external_userid: String,
    },
    /// `change_external_contact` / `transfer_fail`.
    TransferFail {
        /// The taker.
        userid: String,
        /// Customer.
        external_userid: String,
        /// `customer_refused` or `customer_limit_exceed`.
        fail_reason: String,
    },
    /// `change_external_chat` / `create`.
    ChatCreate {
        /// The group.
        chat_id: String,
    },
    /// `change_external_chat` / `update`.
    ChatUpdate {
        /// The group.
        chat_id: String,
        /// `add_member`, `del_member`, `change_owner`, `change_name`, `change_notice`.
        update_detail: String,
        /// For add_member.
        join_scene: Option<i64>,
        /// For del_member.
        quit_scene: Option<i64>,
        /// How many members joined or left.
        mem_change_cnt: Option<i64>,
        /// Who joined or left (`MemChangeList`, 96361); WeCom sends it, so two joins in one
        /// second are two different callbacks.
        mem_change_list: Vec<String>,
    },
    /// `change_external_chat` / `dismiss`.
    ChatDismiss {
        /// The group.
        chat_id: String,
    },
    /// `change_external_tag` with `ChangeType` create / update / delete / shuffle.
    Tag {
        /// `create`, `update`, `delete` or `shuffle`.
        change_type: String,
        /// Tag or tag group id.
        id: String,
        /// `tag` or `tag_group`.
        tag_type: String,
    },
}

fn cdata(value: &str) -> String {
    format!("<![CDATA[{}]]>", value.replace("]]>", "]]]]><![CDATA[>"))
}

impl FakeEvent {
    /// The decrypted callback XML WeCom would send for this event.
    pub fn to_xml(&self, corp_id: &str, create_time: i64) -> String {
        let (event, change_type, fields): (&str, &str, Vec<(&str, String)>) = match self {
            Self::AddExternalContact {
                userid,
                external_userid,
                state,
                welcome_code,
            } => {
                let mut fields = vec![
                    ("UserID", userid.clone()),
                    ("ExternalUserID", external_userid.clone()),
                ];
                if let Some(state) = state {
                    fields.push(("State", state.clone()));
                }
                if let Some(code) = welcome_code {
                    fields.push(("WelcomeCode", code.clone()));
                }
                ("change_external_contact", "add_external_contact", fields)
            }
            Self::EditExternalContact {
                userid,
                external_userid,
            } => (
                "change_external_contact",
                "edit_external_contact",
                vec![
                    ("UserID", userid.clone()),
                    ("ExternalUserID", external_userid.clone()),
                ],
            ),
            Self::DelExternalContact {
                userid,
                external_userid,
            } => (
                "change_external_contact",
                "del_external_contact",
                vec![
                    ("UserID", userid.clone()),
                    ("ExternalUserID", external_userid.clone()),
                ],
            ),
            Self::DelFollowUser {
                userid,
                external_userid,
            } => (
                "change_external_contact",
                "del_follow_user",
                vec![
                    ("UserID", userid.clone()),
                    ("ExternalUserID", external_userid.clone()),
                ],
            ),
            Self::TransferFail {
                userid,
                external_userid,
                fail_reason,
            } => (
                "change_external_contact",
                "transfer_fail",
                vec![
                    ("FailReason", fail_reason.clone()),
                    ("UserID", userid.clone()),
                    ("ExternalUserID", external_userid.clone()),
                ],
            ),
            Self::ChatCreate { chat_id } => (
                "change_external_chat",
                "create",
                vec![("ChatId", chat_id.clone())],
            ),
            Self::ChatUpdate {
                chat_id,
                update_detail,
                join_scene,
                quit_scene,
                mem_change_cnt,
                ..
            } => {
                let mut fields = vec![
                    ("ChatId", chat_id.clone()),
                    ("UpdateDetail", update_detail.clone()),
                ];
                if let Some(v) = join_scene {
                    fields.push(("JoinScene", v.to_string()));
                }
                if let Some(v) = quit_scene {
                    fields.push(("QuitScene", v.to_string()));
                }
                if let Some(v) = mem_change_cnt {
                    fields.push(("MemChangeCnt", v.to_string()));
                }
                ("change_external_chat", "update", fields)
            }
            Self::ChatDismiss { chat_id } => (
                "change_external_chat",
                "dismiss",
                vec![("ChatId", chat_id.clone())],
            ),
            Self::Tag {
                change_type,
                id,
                tag_type,
            } => (
                "change_external_tag",
                change_type.as_str(),
                vec![("Id", id.clone()), ("TagType", tag_type.clone())],
            ),
        };
        let mut xml = format!(
            "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName>\
             <CreateTime>{create_time}</CreateTime><MsgType>{}</MsgType>\
             <Event>{}</Event><ChangeType>{}</ChangeType>",
            cdata(corp_id),
            cdata("sys"),
            cdata("event"),
            cdata(event),
            cdata(change_type),
        );
        for (name, value) in fields {
            xml.push_str(&format!("<{name}>{}</{name}>", cdata(&value)));
        }
        if let Self::ChatUpdate {
            mem_change_list, ..
        } = self
            && !mem_change_list.is_empty()
        {
            xml.push_str("<MemChangeList>");
            for userid in mem_change_list {
                xml.push_str(&format!("<Item>{}</Item>", cdata(userid)));
            }
            xml.push_str("</MemChangeList>");
        }
        xml.push_str("</xml>");
        xml
    }
}

/// What the callback URL answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// HTTP status.
    pub status: u16,
    /// Response body.
    pub body: String,
}

/// Why a push could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The target's EncodingAESKey is invalid, or encryption failed.
    #[error("could not encrypt the callback: {0}")]
    Crypto(#[from] CryptoError),
    /// The POST failed.
    #[error("could not deliver the callback: {0}")]
    Http(#[from] reqwest::Error),
}

/// Encrypts and signs `plain_xml` for `target` and POSTs it as WeCom does:
/// `POST url?msg_signature=…&timestamp=…&nonce=…` with body
/// `<xml><ToUserName/><Encrypt/><AgentID/></xml>`.
pub async fn push_xml(
    http: &reqwest::Client,
    target: &CallbackTarget,
    plain_xml: &str,
    timestamp: i64,
) -> Result<PushOutcome, PushError> {
    let crypto = CallbackCrypto::from_encoding_aes_key(
        target.token.clone(),
        &target.encoding_aes_key,
        target.receive_id.clone(),
    )?;
    let mut random = [0u8; RANDOM_PREFIX_LEN];
    rand::thread_rng().fill_bytes(&mut random);
    let encrypt = crypto.encrypt_payload(random, plain_xml)?;
    let timestamp = timestamp.to_string();
    let nonce = format!("{}", rand::random::<u32>());
    let signature = crypto.signature(&timestamp, &nonce, &encrypt);
    let body = format!(
        "<xml><ToUserName>{}</ToUserName><Encrypt>{}</Encrypt><AgentID>{}</AgentID></xml>",
        cdata(&target.receive_id),
        cdata(&encrypt),
        cdata(""),
    );
    let response = http
        .post(&target.url)
        .query(&[
            ("msg_signature", signature.as_str()),
            ("timestamp", timestamp.as_str()),
            ("nonce", nonce.as_str()),
        ])
        .header(reqwest::header::CONTENT_TYPE, "text/xml")
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response.text().await?;
    Ok(PushOutcome { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{CallbackEvent, ContactChange, EventKind};

    #[test]
    fn event_xml_parses_with_the_crate_parser() {
        let event = FakeEvent::AddExternalContact {
            userid: "zhangwei".into(),
            external_userid: "wmX".into(),
            state: Some("store_sh_01".into()),
            welcome_code: Some("WC1".into()),
        };
        let parsed = CallbackEvent::parse(&event.to_xml("wwcorp", 1_700_000_000)).unwrap();
        assert_eq!(parsed.corp_id, "wwcorp");
        let EventKind::ExternalContact(contact) = parsed.kind else {
            panic!("wrong kind: {:?}", parsed.kind);
        };
        assert_eq!(contact.user_id, "zhangwei");
        assert_eq!(
            contact.change,
            ContactChange::Add {
                state: Some("store_sh_01".into()),
                welcome_code: Some("WC1".into()),
            }
        );
    }
}
