//! The WeCom setup checker (接入检查): one step at a time, what an operator must get right in
//! WeCom's admin console for callbacks and the customer-contact API to work, each failure
//! with the fix. The steps and what they need:
//!
//! 1. `callback_crypto`: Token and EncodingAESKey are set and the key parses (−40004); a
//!    request signed with them goes through this server's own verifier (−40001, −40005).
//! 2. `callback_url` (needs 1): WeCom's URL verification, sent the way WeCom sends it, through
//!    the public URL the operator entered, answered within `wecom.verify_timeout_ms` (1 s)
//!    with the bare plaintext.
//! 3. `trusted_ip`: an access token and `get_follow_user_list` — 60020 names the server's
//!    outbound IP (from WeCom's errmsg); other refusals of the token are the credentials.
//! 4. `read_customers` (needs 3): the follow users and one of them's customers.
//! 5. `contact_way` (needs 4): a test 「联系我」 for that member, deleted at once.
//!
//! The rules are in [`interpret`] (no I/O); this module does the requests. Every run is
//! audited (`wecom_connection_tested`, with the passed, failed and skipped steps).

pub mod interpret;

use std::time::{Duration, Instant};

use rand::{Rng, RngCore};
use serde::Serialize;
use yutang_wecom::client::api::AddContactWayRequest;
use yutang_wecom::crypto::RANDOM_PREFIX_LEN;
use yutang_wecom::probe;
use yutang_wecom::{AesKey, CallbackCrypto, WecomClient};

use self::interpret::{Api, Refusal, Step, StepKey, StepStatus, skipped};
use super::settings::{EffectiveWecom, new_client, require_admin};
use super::{CallbackError, Wecom};
use crate::Actor;
use crate::audit::{self, Action};
use crate::error::Result;

/// The remark of the checker's test contact way (WeCom: ≤30 characters).
const TEST_WAY_REMARK: &str = "鱼塘接入检查（自动删除）";

/// The prefix of the test contact way's `state` (the rest is random; WeCom: ≤30 characters).
pub const TEST_WAY_STATE_PREFIX: &str = "ytcheck-";

/// What the checker found.
#[derive(Debug, Clone, Serialize)]
pub struct SetupCheck {
    /// Every step passed.
    pub ok: bool,
    /// The public callback URL step 2 used (`''`: none entered).
    pub callback_public_url: String,
    pub steps: Vec<Step>,
    /// When it ran (UTC ms).
    pub checked_at: i64,
}

fn ms_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn digits(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

impl Wecom<'_> {
    /// Run the setup checker with the settings in force (admins; audited).
    pub async fn check_wecom_setup(&self, actor: &Actor) -> Result<SetupCheck> {
        require_admin(actor)?;
        let cfg = self.wecom_config().await?;
        let mut steps = Vec::with_capacity(StepKey::ALL.len());

        let (crypto_step, crypto) = self.check_callback_crypto(&cfg).await;
        steps.push(crypto_step);
        steps.push(match &crypto {
            None => skipped(StepKey::CallbackUrl, "skipped_no_crypto"),
            Some(c) => self.check_callback_url(&cfg, c).await,
        });

        let (ip_step, api) = check_trusted_ip(&cfg).await;
        steps.push(ip_step);
        let (customers_step, member) = match &api {
            None => (skipped(StepKey::ReadCustomers, "skipped_no_api"), None),
            Some((client, follow)) => check_customers(&cfg, client, follow).await,
        };
        steps.push(customers_step);
        steps.push(match (&api, member) {
            (Some((client, _)), Some(userid)) => check_contact_way(&cfg, client, &userid).await,
            _ => skipped(StepKey::ContactWay, "skipped_no_follow_user"),
        });

        let ok = steps.iter().all(Step::is_ok);
        let keys = |st: StepStatus| {
            steps
                .iter()
                .filter(|s| s.status == st)
                .map(|s| s.key.as_str())
                .collect::<Vec<_>>()
        };
        let first_failure = steps
            .iter()
            .find(|s| s.status == StepStatus::Failed)
            .map(|s| s.code);
        audit::record(
            self,
            actor,
            Action::WecomConnectionTested,
            "wecom",
            &serde_json::json!({
                "ok": ok,
                "passed": keys(StepStatus::Ok),
                "failed": keys(StepStatus::Failed),
                "skipped": keys(StepStatus::Skipped),
                "finding": first_failure,
            })
            .to_string(),
        )
        .await?;
        Ok(SetupCheck {
            ok,
            callback_public_url: cfg.callback_public_url.clone(),
            steps,
            checked_at: self.now(),
        })
    }

    /// Step 1, and the crypto step 2 signs with when it passes.
    async fn check_callback_crypto(&self, cfg: &EffectiveWecom) -> (Step, Option<CallbackCrypto>) {
        let mut missing = Vec::new();
        if cfg.corp_id.is_empty() {
            missing.push("corp_id");
        }
        if cfg.callback_token.is_none() {
            missing.push("callback_token");
        }
        if cfg.encoding_aes_key.is_none() {
            missing.push("encoding_aes_key");
        }
        let (Some(token), Some(key), true) = (
            &cfg.callback_token,
            &cfg.encoding_aes_key,
            missing.is_empty(),
        ) else {
            return (interpret::crypto_missing(&missing), None);
        };
        let key = match AesKey::parse(key.expose()) {
            Ok(k) => k,
            Err(e) => return (interpret::aes_key_invalid(e.to_string()), None),
        };
        let crypto = CallbackCrypto::new(token.expose(), key, cfg.corp_id.clone());
        let echo = probe::random_echo();
        let (timestamp, nonce) = ((self.now() / 1000).to_string(), digits(9));
        let mut random = [0u8; RANDOM_PREFIX_LEN];
        rand::thread_rng().fill_bytes(&mut random);
        // Through the callback route's own verifier, settings lookup included.
        let answer = match crypto.encrypt_payload(random, &echo) {
            Err(e) => Err(Refusal {
                code: Some(e.code()),
                detail: e.to_string(),
            }),
            Ok(echostr) => {
                let signature = crypto.signature(&timestamp, &nonce, &echostr);
                self.wecom_verify_url(&signature, &timestamp, &nonce, &echostr)
                    .await
                    .map_err(|e| Refusal {
                        code: match &e {
                            CallbackError::Crypto(c) => Some(c.code()),
                            _ => None,
                        },
                        detail: e.to_string(),
                    })
            }
        };
        let step = interpret::round_trip(&echo, &cfg.corp_id, &answer);
        let ok = step.is_ok();
        (step, ok.then_some(crypto))
    }

    /// Step 2: WeCom's verification request through the public URL.
    async fn check_callback_url(&self, cfg: &EffectiveWecom, crypto: &CallbackCrypto) -> Step {
        let url = cfg.callback_public_url.as_str();
        if url.is_empty() {
            return interpret::url_missing();
        }
        let timestamp = (self.now() / 1000).to_string();
        let request = match probe::verification_url(
            url,
            crypto,
            &probe::random_echo(),
            &timestamp,
            &digits(9),
        ) {
            Ok(r) => r,
            Err(e) => return interpret::url_invalid(url, e.to_string()),
        };
        let limit_ms = self.settings.wecom.verify_timeout_ms;
        let answer = probe::probe(&request, Duration::from_millis(limit_ms)).await;
        interpret::probe_answer(url, &request.echo, &answer, limit_ms)
    }
}

/// Step 3 with a fresh client (no cached token), and the client and follow-user list steps
/// 4 and 5 go on with when it passes.
async fn check_trusted_ip(cfg: &EffectiveWecom) -> (Step, Option<(WecomClient, Api<Vec<String>>)>) {
    let (Some(secret), false) = (&cfg.contact_secret, cfg.corp_id.is_empty()) else {
        return (interpret::api_missing(), None);
    };
    let client = match new_client(cfg, secret) {
        Ok(c) => c,
        Err(e) => {
            return (
                interpret::trusted_ip(&Api::Unexpected(e.to_string()), None, &cfg.api_base, 0),
                None,
            );
        }
    };
    let started = Instant::now();
    let token: Api<()> = client.access_token().await.map(|_| ()).into();
    let follow: Option<Api<Vec<String>>> = match token {
        Api::Ok(()) => Some(client.get_follow_user_list().await.into()),
        _ => None,
    };
    let step = interpret::trusted_ip(&token, follow.as_ref(), &cfg.api_base, ms_since(started));
    match (step.is_ok(), follow) {
        (true, Some(f)) => (step, Some((client, f))),
        _ => (step, None),
    }
}

/// Step 4, and the member step 5 creates a contact way for when it passes.
async fn check_customers(
    cfg: &EffectiveWecom,
    client: &WecomClient,
    follow: &Api<Vec<String>>,
) -> (Step, Option<String>) {
    let started = Instant::now();
    let first = match follow {
        Api::Ok(users) => users.first().cloned(),
        _ => None,
    };
    let listed: Option<Api<Vec<String>>> = match &first {
        Some(userid) => Some(client.list_external_contacts(userid).await.into()),
        None => None,
    };
    let step = interpret::customers(
        follow,
        first.as_deref().zip(listed.as_ref()),
        &cfg.api_base,
        ms_since(started),
    );
    let ok = step.is_ok();
    (step, first.filter(|_| ok))
}

/// Step 5: create a single-member QR contact way with a test `state`, then delete it.
async fn check_contact_way(cfg: &EffectiveWecom, client: &WecomClient, userid: &str) -> Step {
    let started = Instant::now();
    let state = format!("{TEST_WAY_STATE_PREFIX}{:08x}", rand::random::<u32>());
    let added: Api<String> = client
        .add_contact_way(&AddContactWayRequest {
            contact_type: 1,
            scene: 2,
            remark: Some(TEST_WAY_REMARK.to_owned()),
            skip_verify: Some(true),
            state: Some(state.clone()),
            user: vec![userid.to_owned()],
            ..AddContactWayRequest::default()
        })
        .await
        .map(|r| r.config_id)
        .into();
    let deleted: Option<Api<()>> = match &added {
        Api::Ok(config_id) => Some(client.del_contact_way(config_id).await.into()),
        _ => None,
    };
    interpret::contact_way(
        userid,
        &state,
        &added,
        deleted.as_ref(),
        &cfg.api_base,
        ms_since(started),
    )
}
