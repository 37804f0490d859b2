//! Sending welcomes (page 92599): once per welcome code, only within 20 s of the add.
//!
//! The welcome row is written with the add (one per welcome code). A sender claims it with a
//! guarded update (one claimer wins); past the deadline it is closed as `expired` without a
//! call; 41051 (a welcome already reached the customer) closes it as `already_sent` and is
//! never retried; 41096 (another app is sending) and transient failures put it back for the
//! per-second sweep while the window is open. A sender that died holding a claim is taken
//! over after [`STALE_MS`]: if its call had gone through, WeCom answers 41051, so a welcome is
//! never sent twice.

use yutang_core::acquisition::{ChannelSpec, WelcomeAttachment};
use yutang_store::acquisition as store;
use yutang_wecom::WecomError;
use yutang_wecom::client::api::{Attachment, SendWelcomeMsgRequest, Text};

use super::Acquisition;
use super::live_codes::describe_wecom;
use crate::error::{AppError, Result};

/// A claim older than this is taken over by the sweep (the claimer died).
pub const STALE_MS: i64 = 5_000;
/// Tries of one welcome (41096 and transient failures) before it is closed as failed.
const MAX_TRIES: i64 = 5;

/// WeCom's answer to a welcome that already reached the customer.
const ALREADY_SENT: i64 = 41051;
/// WeCom's answer while another app is sending the welcome (may be retried).
const BEING_SENT: i64 = 41096;

/// A JSON object of the present (non-empty) fields.
fn object(fields: &[(&str, Option<&str>)]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| ((*k).to_owned(), v.into()))
        })
        .collect();
    serde_json::Value::Object(map)
}

/// An attachment in WeCom's shape: `{"msgtype": kind, kind: {…}}`.
fn attachment(a: &WelcomeAttachment) -> Attachment {
    let (kind, body) = match a {
        WelcomeAttachment::Image { media_id, pic_url } => (
            "image",
            object(&[
                ("media_id", media_id.as_deref()),
                ("pic_url", pic_url.as_deref()),
            ]),
        ),
        WelcomeAttachment::Link {
            title,
            url,
            picurl,
            desc,
        } => (
            "link",
            object(&[
                ("title", Some(title)),
                ("url", Some(url)),
                ("picurl", picurl.as_deref()),
                ("desc", desc.as_deref()),
            ]),
        ),
        WelcomeAttachment::Miniprogram {
            title,
            pic_media_id,
            appid,
            page,
        } => (
            "miniprogram",
            object(&[
                ("title", Some(title)),
                ("pic_media_id", Some(pic_media_id)),
                ("appid", Some(appid)),
                ("page", Some(page)),
            ]),
        ),
        WelcomeAttachment::Video { media_id } => ("video", object(&[("media_id", Some(media_id))])),
        WelcomeAttachment::File { media_id } => ("file", object(&[("media_id", Some(media_id))])),
    };
    let mut outer = serde_json::Map::new();
    outer.insert("msgtype".into(), kind.into());
    outer.insert(kind.into(), body);
    Attachment(serde_json::Value::Object(outer))
}

impl Acquisition<'_> {
    /// Send one welcome if it is still to send (see the module doc).
    pub async fn send_welcome(&self, id: i64) -> Result<()> {
        let now = self.now();
        let Some(w) = store::claim_welcome(&self.db, id, now, now - STALE_MS).await? else {
            return Ok(());
        };
        let finish = |status: &'static str, error: String, text: String| async move {
            store::finish_welcome(&self.db, id, status, &error, &text, self.now()).await
        };
        if now > w.deadline {
            finish(
                "expired",
                "企业微信的 20 秒欢迎语窗口已过，未发送".into(),
                String::new(),
            )
            .await?;
            return Ok(());
        }
        let ctx = store::welcome_context(&self.db, w.add_id).await?;
        let welcome = match ctx.channel_spec.as_deref() {
            Some(s) => {
                serde_json::from_str::<ChannelSpec>(s)
                    .map_err(|e| AppError::Internal(format!("channel spec: {e}")))?
                    .welcome
            }
            None => None,
        };
        let Some(welcome) = welcome else {
            finish("failed", "渠道已没有欢迎语".into(), String::new()).await?;
            return Ok(());
        };
        let Some(api) = self.wecom().wecom_api().await? else {
            finish("failed", "企业微信 API 尚未配置".into(), String::new()).await?;
            return Ok(());
        };
        // A new contact's name arrives with the details read after the add; inside the
        // window it may not be there yet, so it is read from WeCom (one call).
        let mut name = ctx.customer_name.clone();
        if name.is_empty()
            && let Some(x) = ctx.external_userid.as_deref()
            && let Ok(d) = api.get_external_contact(x, None).await
        {
            name = d.external_contact.name;
        }
        let text = welcome.render(&name, ctx.staff_name.as_deref().unwrap_or(""));
        let req = SendWelcomeMsgRequest {
            welcome_code: w.welcome_code.clone(),
            text: (!text.is_empty()).then(|| Text {
                content: text.clone(),
            }),
            attachments: welcome.attachments.iter().map(attachment).collect(),
        };
        match api.send_welcome_msg(&req).await {
            Ok(()) => finish("sent", String::new(), text).await?,
            Err(WecomError::Api { errcode, .. }) if errcode == ALREADY_SENT => {
                finish(
                    "already_sent",
                    "41051：客户已收到欢迎语（其他应用或管理后台已发送），不再重发".into(),
                    text,
                )
                .await?;
            }
            Err(e) => {
                let retry = match &e {
                    WecomError::Api { errcode, .. } => {
                        *errcode == BEING_SENT
                            || *errcode == -1
                            || *errcode == 45009
                            || *errcode == 45033
                    }
                    WecomError::Http { .. } | WecomError::Status { .. } => true,
                    _ => false,
                };
                let status = if retry && w.attempts < MAX_TRIES && self.now() < w.deadline {
                    "pending"
                } else {
                    "failed"
                };
                finish(status, describe_wecom(&e), text).await?;
            }
        }
        Ok(())
    }

    /// Send or close every open welcome (the per-second sweep: restarts, 41096, a sender that
    /// died), concurrently.
    pub async fn sweep_welcomes(&self) -> Result<usize> {
        let ids = store::open_welcomes(&self.db, self.now() - STALE_MS, 200).await?;
        let n = ids.len();
        // All at once: each waits on WeCom, and the window is short.
        for r in
            futures_util::future::join_all(ids.into_iter().map(|id| self.send_welcome(id))).await
        {
            r?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_take_wecom_shapes() {
        let a = attachment(&WelcomeAttachment::Link {
            title: "新人礼".into(),
            url: "https://x.example/a".into(),
            picurl: None,
            desc: Some("领 50 元".into()),
        });
        assert_eq!(a.0["msgtype"], "link");
        assert_eq!(a.0["link"]["desc"], "领 50 元");
        assert!(a.0["link"].get("picurl").is_none());
        let a = attachment(&WelcomeAttachment::Image {
            media_id: None,
            pic_url: Some("https://p.qpic.cn/x".into()),
        });
        assert_eq!(a.0["image"]["pic_url"], "https://p.qpic.cn/x");
    }
}
