//! The real API client against the fake WeCom (feature `fake`), in one test binary:
//!
//! - `tokens`: token caching, refresh before expiry and after forced expiry, credentials errors;
//! - `retries`: backoff on 45009 / 45033 / -1, error mapping, client-side limits and rate limit;
//! - `sync`: cursor pagination of customers and groups, tags;
//! - `channels`: contact-way round trip, welcome message, mass-send tasks;
//! - `transfers`: in-service and resigned transfers, results, group transfer;
//! - `callbacks`: signed, encrypted pushes decrypted by `CallbackCrypto` and parsed.

// Tests may unwrap and panic (the workspace denies it in library code only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod callbacks;
mod channels;
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
