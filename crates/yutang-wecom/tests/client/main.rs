//! The real API client against the fake WeCom (feature `fake`), in one test binary:
//!
//! - `tokens`: token caching, refresh before expiry and after forced expiry, credentials errors;
//! - `retries`: backoff on 45009 / 45033 / -1, error mapping, client-side limits and rate limit;
//! - `sync`: cursor pagination of customers and groups, tags;
//! - `channels`: contact-way round trip, QR scans spread over a way's users, welcome-message
//!   rules (once, 20 s, 41096), the contact-way quota and `state` limit, mass-send tasks;
//! - `join_ways`: group join ways (加入群聊) round trip, validation, joins filling groups
//!   and creating new ones, members' `state`, the limit shared with contact ways;
//! - `acquisition`: acquisition links (获客链接) round trip, validation, attribution through
//!   `customer_channel`, quota;
//! - `moments`: attachments upload (multipart), moment tasks and their results, publishing,
//!   likes and comments, the moment list, cancelling, and the limits;
//! - `transfers`: in-service and resigned transfers, results, group transfer;
//! - `jssdk`: JS-SDK tickets (caching, single flight, refresh, the hourly limits, never
//!   logged);
//! - `callbacks`: signed, encrypted pushes decrypted by `CallbackCrypto` and parsed.

// Tests may unwrap and panic (the workspace denies it in library code only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod acquisition;
mod callbacks;
mod channels;
mod join_ways;
mod jssdk;
mod moments;
mod retries;
mod sync;
mod tokens;
mod transfers;

use std::time::Duration;

use yutang_wecom::fake::{FakeConfig, FakeWecom};
use yutang_wecom::{ClientConfig, WecomClient};

/// The demo fake and a client for it with fast backoff.
pub async fn spawn() -> (FakeWecom, WecomClient) {
    spawn_with(FakeConfig::demo(), |_| {}).await
}

/// A fake from `config` and a client whose configuration `tweak` may change.
pub async fn spawn_with(
    config: FakeConfig,
    tweak: impl FnOnce(&mut ClientConfig),
) -> (FakeWecom, WecomClient) {
    let fake = FakeWecom::start(config).await.unwrap();
    let mut client_config =
        ClientConfig::new(fake.corp_id(), fake.secret()).with_api_base(fake.base_url());
    client_config.backoff_base = Duration::from_millis(10);
    client_config.backoff_max = Duration::from_millis(40);
    client_config.request_timeout = Duration::from_secs(5);
    tweak(&mut client_config);
    let client = WecomClient::new(client_config).unwrap();
    (fake, client)
}

pub const GETTOKEN: &str = "/cgi-bin/gettoken";

/// POSTs `body` to `path` on the fake with a valid token, bypassing the client's own checks,
/// and returns WeCom's JSON answer.
pub async fn raw_post(
    fake: &FakeWecom,
    client: &WecomClient,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let token = client.access_token().await.unwrap();
    reqwest::Client::new()
        .post(format!("{}{path}", fake.base_url()))
        .query(&[("access_token", token)])
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The fields of an `add_external_contact` event with a welcome code.
#[derive(Debug, Clone)]
pub struct Added {
    pub userid: String,
    pub external_userid: String,
    pub state: Option<String>,
    pub welcome_code: String,
}

/// The fields of an add event; panics on any other event or one without a welcome code.
pub fn added(event: &yutang_wecom::fake::FakeEvent) -> Added {
    match event {
        yutang_wecom::fake::FakeEvent::AddExternalContact {
            userid,
            external_userid,
            state,
            welcome_code: Some(code),
        } => Added {
            userid: userid.clone(),
            external_userid: external_userid.clone(),
            state: state.clone(),
            welcome_code: code.clone(),
        },
        other => panic!("not an add event with a welcome code: {other:?}"),
    }
}

/// The welcome code of an add event.
pub fn welcome_code(event: &yutang_wecom::fake::FakeEvent) -> String {
    added(event).welcome_code
}
