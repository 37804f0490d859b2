//! The WeCom connection as Yutang uses it: settings entered in the console (stored in
//! `wecom_settings`, secrets sealed by [`crate::secret_box`]) under the configuration file and
//! `YUTANG_WECOM_*` variables, which win field by field and lock that field in the console.
//!
//! The effective settings are cached for a few seconds, so a change made on one node reaches
//! the others without a restart; the API client is rebuilt when the corp, secret or base URL
//! changes (its token cache goes with it).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use yutang_core::FieldError;
use yutang_core::staff::Role;
use yutang_store::wecom::settings as store;
use yutang_wecom::client::DEFAULT_API_BASE;
use yutang_wecom::{ClientConfig, WecomClient, WecomError};

use super::Wecom;
use crate::Actor;
use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::secret_box::SecretBox;
use crate::settings::Secret;

/// How long the effective settings are reused before the database is read again.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// One self-built app's secret (应用 Secret), by its AgentId.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSecret {
    pub agent_id: String,
    pub secret: String,
}

/// The WeCom settings in force.
#[derive(Debug, Clone, Default)]
pub struct EffectiveWecom {
    pub corp_id: String,
    pub contact_secret: Option<Secret>,
    pub callback_token: Option<Secret>,
    pub encoding_aes_key: Option<Secret>,
    pub api_base: String,
    pub app_secrets: Vec<(String, Secret)>,
    /// The public callback URL the setup checker probes (`''`: not entered).
    pub callback_public_url: String,
    /// Fields fixed by the configuration file or environment (not editable in the console).
    pub locked: Vec<&'static str>,
    /// Stored values that could not be read (e.g. the secret key changed).
    pub problems: Vec<String>,
    pub updated_at: Option<i64>,
    pub updated_by: String,
}

/// Process-wide state: the cached effective settings and the API client made from them.
#[derive(Default)]
pub struct Live {
    cache: RwLock<Option<(Instant, Arc<EffectiveWecom>)>>,
    /// Bumped by every change before the cache is emptied: a load that began before a change
    /// (it may have read the row as it was) never puts what it read into the cache.
    generation: std::sync::atomic::AtomicU64,
    client: Mutex<Option<(String, WecomClient)>>,
    /// The self-built app's client (app messages, sign-in with WeCom), shared like `client`
    /// so its access token is cached too.
    app_client: Mutex<Option<(String, i64, WecomClient)>>,
}

/// A secret as the console and API show it: never in full.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MaskedSecret {
    /// `••••` and the last 4 characters (only `••••` for very short values).
    pub masked: String,
    /// Set in the configuration file or environment rather than in the console.
    pub from_config: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MaskedAppSecret {
    pub agent_id: String,
    pub secret: String,
}

/// The settings page's view.
#[derive(Debug, Clone, Serialize)]
pub struct WecomSettingsView {
    pub corp_id: String,
    pub api_base: String,
    pub default_api_base: &'static str,
    pub contact_secret: Option<MaskedSecret>,
    pub callback_token: Option<MaskedSecret>,
    pub encoding_aes_key: Option<MaskedSecret>,
    pub app_secrets: Vec<MaskedAppSecret>,
    /// The public callback URL the operator entered for the setup checker (`''`: none).
    pub callback_public_url: String,
    pub locked: Vec<&'static str>,
    pub problems: Vec<String>,
    pub updated_at: Option<i64>,
    pub updated_by: String,
}

impl WecomSettingsView {
    /// Whether the configuration file or environment fixes this field.
    pub fn is_locked(&self, field: &str) -> bool {
        self.locked.contains(&field)
    }
}

/// A change to the settings. `None` (or an empty secret) keeps a value; `clear` names secrets
/// to remove (`contact_secret`, `callback_token`, `encoding_aes_key`, `app_secrets`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WecomSettingsInput {
    pub corp_id: Option<String>,
    /// Empty: back to the official host.
    pub api_base: Option<String>,
    pub contact_secret: Option<String>,
    pub callback_token: Option<String>,
    pub encoding_aes_key: Option<String>,
    /// The full list of app secrets; an entry with an empty secret keeps that agent's stored one.
    pub app_secrets: Option<Vec<AppSecret>>,
    /// The public callback URL (as pasted into WeCom) for the setup checker; empty clears it.
    pub callback_public_url: Option<String>,
    pub clear: Vec<String>,
}

/// What "test connection" found.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionTest {
    pub ok: bool,
    /// WeCom's errcode when it refused.
    pub errcode: Option<i64>,
    /// In Chinese, for the operator.
    pub message: String,
    /// The technical detail (WeCom's errmsg with its hint, or the transport error).
    pub detail: String,
}

/// `••••` plus the last 4 characters.
pub fn mask(s: &str) -> String {
    let n = s.chars().count();
    if n <= 8 {
        return "••••".into();
    }
    let tail: String = s.chars().skip(n - 4).collect();
    format!("••••{tail}")
}

/// The operator's explanation of a WeCom errcode met while fetching a token (global codes,
/// developer.work.weixin.qq.com/document/path/90313).
pub fn errcode_zh(code: i64) -> &'static str {
    errcode_text(code).0
}

/// [`errcode_zh`] with its English, `(zh, en)`: what the code means and what to change in
/// WeCom's admin console (the setup checker and the console show these).
pub fn errcode_text(code: i64) -> (&'static str, &'static str) {
    match code {
        -1 => (
            "企业微信系统繁忙，请稍后重试",
            "WeCom is busy; try again shortly",
        ),
        40001 => (
            "Secret 不正确（不合法的 secret 参数）：请核对“客户联系”或应用的 Secret",
            "The secret is wrong (invalid secret): check the customer-contact or app Secret",
        ),
        40003 => (
            "成员账号（UserID）无效：该成员不在本企业，或已离职",
            "Invalid UserID: the member is not in this corp or has left",
        ),
        40013 => (
            "企业 ID（CorpID）不正确：在企业微信管理后台“我的企业”页底部查看",
            "The corp id is wrong: WeCom admin console, 我的企业, at the bottom of the page",
        ),
        40014 => (
            "access_token 不合法：已重新获取，请再试一次",
            "The access_token was rejected; a new one was fetched, try again",
        ),
        40091 => (
            "Secret 不合法：请确认 Secret 属于本企业",
            "Invalid secret: make sure it belongs to this corp",
        ),
        41002 => ("缺少企业 ID（corpid）", "The corp id is missing"),
        41004 => ("缺少 Secret", "The secret is missing"),
        42001 => (
            "access_token 已过期：已重新获取，请再试一次",
            "The access_token expired; a new one was fetched, try again",
        ),
        45009 => (
            "接口调用超过频率限制，请稍后再试",
            "WeCom's call frequency limit was reached; try again later",
        ),
        45033 => (
            "接口并发调用超过限制，请稍后再试",
            "WeCom's concurrency limit was reached; try again later",
        ),
        48002 => (
            "API 接口无权限调用：请在管理后台为该 Secret 开通相应权限（自建应用须加入 客户联系 → API → “可调用接口的应用”）",
            "The API is not allowed for this secret: grant it in the admin console (a self-built app must be added to 客户联系 → API → 可调用接口的应用)",
        ),
        60011 => (
            "成员不在应用的可见范围内：在 应用管理 → 本应用 → 可见范围 中添加该成员（或其部门）",
            "The member is outside the app's visible range: add them (or their department) under 应用管理 → the app → 可见范围",
        ),
        60020 => (
            "服务器 IP 不在企业可信 IP 列表中：请在应用的“企业可信IP”中添加本服务器的出口 IP",
            "The server's IP is not a trusted IP: add its outbound IP to the app's 企业可信IP",
        ),
        84061 => (
            "该成员与此客户之间没有好友关系（或该成员还没有客户）",
            "No contact relation between the member and this customer (or the member has no customers yet)",
        ),
        _ => (
            "企业微信拒绝了请求，请根据错误码查询原因",
            "WeCom refused the request; look the error code up",
        ),
    }
}

fn masked(s: &Option<Secret>, locked: bool) -> Option<MaskedSecret> {
    s.as_ref().map(|v| MaskedSecret {
        masked: mask(v.expose()),
        from_config: locked,
    })
}

fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> AppError {
    AppError::Invalid(FieldError::new(field, code, message))
}

pub(super) fn require_admin(actor: &Actor) -> Result<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Validate a corp id: WeCom's are `ww…` / `wx…` ASCII letters and digits.
fn check_corp_id(s: &str) -> Result<String> {
    let s = s.trim();
    if !s.is_empty() && (s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric())) {
        return Err(invalid(
            "corp_id",
            "invalid_corp_id",
            "the corp id is letters and digits (e.g. ww1234567890abcdef), at most 64",
        ));
    }
    Ok(s.to_owned())
}

/// `s` as an http(s) URL with a host and no fragment.
fn http_url(s: &str) -> Option<url::Url> {
    url::Url::parse(s).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.fragment().is_none()
    })
}

fn check_api_base(s: &str) -> Result<String> {
    let s = s.trim().trim_end_matches('/');
    if s.is_empty() {
        return Ok(DEFAULT_API_BASE.to_owned());
    }
    let ok = http_url(s).is_some_and(|u| u.query().is_none());
    if !ok {
        return Err(invalid(
            "api_base",
            "invalid_api_base",
            "the API base must be an http(s) URL such as https://qyapi.weixin.qq.com",
        ));
    }
    Ok(s.to_owned())
}

fn check_secret(field: &'static str, s: &str) -> Result<String> {
    let s = s.trim();
    if s.len() > 256 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            field,
            "invalid_secret",
            "a secret is at most 256 characters without spaces",
        ));
    }
    Ok(s.to_owned())
}

fn check_token(s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 128 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(
            "callback_token",
            "invalid_callback_token",
            "the callback Token is 1–128 visible ASCII characters (WeCom's console makes letters and digits)",
        ));
    }
    Ok(s.to_owned())
}

fn check_aes_key(s: &str) -> Result<String> {
    let s = s.trim();
    yutang_wecom::AesKey::parse(s).map_err(|e| {
        invalid(
            "encoding_aes_key",
            "invalid_encoding_aes_key",
            format!("EncodingAESKey must be the 43 letters and digits WeCom shows: {e}"),
        )
    })?;
    Ok(s.to_owned())
}

/// Validate the public callback URL: an http(s) URL with a host, no user name or password and
/// no fragment (its own query string is kept). Empty clears it.
fn check_public_url(s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    let ok = s.len() <= 2048
        && http_url(s).is_some_and(|u| u.username().is_empty() && u.password().is_none());
    if !ok {
        return Err(invalid(
            "callback_public_url",
            "invalid_callback_public_url",
            "the public callback URL must be an http(s) URL such as https://scrm.example.com/wecom/callback",
        ));
    }
    Ok(s.to_owned())
}

fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl Wecom<'_> {
    /// The WeCom settings in force (cached for a few seconds).
    pub async fn wecom_config(&self) -> Result<Arc<EffectiveWecom>> {
        if let Some((at, cfg)) = self
            .wecom_client
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return Ok(Arc::clone(cfg));
        }
        let generation = self.wecom_client.generation.load(Ordering::SeqCst);
        let cfg = Arc::new(self.load_wecom_config().await?);
        let mut cache = self
            .wecom_client
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if self.wecom_client.generation.load(Ordering::SeqCst) == generation {
            *cache = Some((Instant::now(), Arc::clone(&cfg)));
        }
        Ok(cfg)
    }

    fn forget_wecom_config(&self) {
        self.wecom_client.generation.fetch_add(1, Ordering::SeqCst);
        *self
            .wecom_client
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    async fn load_wecom_config(&self) -> Result<EffectiveWecom> {
        let row = store::get(&self.db).await?.unwrap_or_default();
        let sealed = [
            &row.contact_secret,
            &row.callback_token,
            &row.encoding_aes_key,
            &row.app_secrets,
        ]
        .iter()
        .any(|v| v.is_some());
        let mut out = EffectiveWecom {
            corp_id: row.corp_id.clone(),
            api_base: if row.api_base.is_empty() {
                DEFAULT_API_BASE.to_owned()
            } else {
                row.api_base.clone()
            },
            callback_public_url: row.callback_public_url.clone(),
            updated_at: (row.updated_at > 0).then_some(row.updated_at),
            updated_by: row.updated_by.clone(),
            ..EffectiveWecom::default()
        };
        if sealed {
            match SecretBox::resolve(&self.settings) {
                Ok(b) => {
                    let mut open = |field: &'static str, v: &Option<String>| -> Option<Secret> {
                        let v = v.as_ref()?;
                        match b.open(&format!("wecom.{field}"), v) {
                            Ok(s) => Some(Secret::new(s)),
                            Err(e) => {
                                out.problems.push(format!("{field}: {e}"));
                                None
                            }
                        }
                    };
                    let contact = open("contact_secret", &row.contact_secret);
                    let token = open("callback_token", &row.callback_token);
                    let key = open("encoding_aes_key", &row.encoding_aes_key);
                    let apps = open("app_secrets", &row.app_secrets);
                    out.contact_secret = contact;
                    out.callback_token = token;
                    out.encoding_aes_key = key;
                    if let Some(apps) = apps {
                        let list: Vec<AppSecret> =
                            serde_json::from_str(apps.expose()).unwrap_or_default();
                        out.app_secrets = list
                            .into_iter()
                            .map(|a| (a.agent_id, Secret::new(a.secret)))
                            .collect();
                    }
                }
                Err(e) => out.problems.push(e.to_string()),
            }
        }
        // The configuration file and environment win, field by field.
        let w = &self.settings.wecom;
        if !w.corp_id.is_empty() {
            out.corp_id.clone_from(&w.corp_id);
            out.locked.push("corp_id");
        }
        if let Some(s) = &w.contact_secret {
            out.contact_secret = Some(s.clone());
            out.locked.push("contact_secret");
        }
        if let Some(s) = &w.callback_token {
            out.callback_token = Some(s.clone());
            out.locked.push("callback_token");
        }
        if let Some(s) = &w.encoding_aes_key {
            out.encoding_aes_key = Some(s.clone());
            out.locked.push("encoding_aes_key");
        }
        let configured_base = w.api_base.trim_end_matches('/');
        if !configured_base.is_empty() && configured_base != DEFAULT_API_BASE {
            out.api_base = w.api_base.clone();
            out.locked.push("api_base");
        }
        Ok(out)
    }

    /// The self-built app's client and AgentId, when one is configured (corp id, an app's
    /// AgentId and secret; the first app listed): what sends app messages (`message/send`) to
    /// staff and exchanges sign-in codes (`auth/getuserinfo`). Shared while the settings stay
    /// the same, so its access token is cached.
    pub(crate) async fn app_client(&self) -> Result<Option<(i64, WecomClient)>> {
        let cfg = self.wecom().wecom_config().await?;
        if cfg.corp_id.is_empty() {
            return Ok(None);
        }
        let Some((agent, secret)) = cfg
            .app_secrets
            .iter()
            .find_map(|(a, s)| a.parse::<i64>().ok().map(|a| (a, s)))
        else {
            return Ok(None);
        };
        let key = format!(
            "{}\n{agent}\n{}\n{}",
            cfg.corp_id,
            sha(secret.expose()),
            cfg.api_base
        );
        let mut slot = self
            .wecom_client
            .app_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((k, a, c)) = slot.as_ref()
            && *k == key
        {
            return Ok(Some((*a, c.clone())));
        }
        let client = new_client(&cfg, secret)?;
        *slot = Some((key, agent, client.clone()));
        Ok(Some((agent, client)))
    }

    /// The customer-contact API client, when WeCom is configured (corp id and contact
    /// secret). Shared while the settings stay the same, so its access token is cached.
    pub async fn wecom_api(&self) -> Result<Option<WecomClient>> {
        let cfg = self.wecom_config().await?;
        let Some(secret) = cfg.contact_secret.as_ref() else {
            return Ok(None);
        };
        if cfg.corp_id.is_empty() {
            return Ok(None);
        }
        let key = format!(
            "{}\n{}\n{}",
            cfg.corp_id,
            sha(secret.expose()),
            cfg.api_base
        );
        let mut slot = self
            .wecom_client
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((k, c)) = slot.as_ref()
            && *k == key
        {
            return Ok(Some(c.clone()));
        }
        let client = new_client(&cfg, secret)?;
        *slot = Some((key, client.clone()));
        Ok(Some(client))
    }

    /// The settings page (admins).
    pub async fn wecom_settings(&self, actor: &Actor) -> Result<WecomSettingsView> {
        require_admin(actor)?;
        let cfg = self.wecom_config().await?;
        let locked = |f: &str| cfg.locked.contains(&f);
        Ok(WecomSettingsView {
            corp_id: cfg.corp_id.clone(),
            api_base: cfg.api_base.clone(),
            default_api_base: DEFAULT_API_BASE,
            contact_secret: masked(&cfg.contact_secret, locked("contact_secret")),
            callback_token: masked(&cfg.callback_token, locked("callback_token")),
            encoding_aes_key: masked(&cfg.encoding_aes_key, locked("encoding_aes_key")),
            app_secrets: cfg
                .app_secrets
                .iter()
                .map(|(a, s)| MaskedAppSecret {
                    agent_id: a.clone(),
                    secret: mask(s.expose()),
                })
                .collect(),
            callback_public_url: cfg.callback_public_url.clone(),
            locked: cfg.locked.clone(),
            problems: cfg.problems.clone(),
            updated_at: cfg.updated_at,
            updated_by: cfg.updated_by.clone(),
        })
    }

    /// Change the settings (admins; audited with the names of the fields changed, never their
    /// values). Fields set by the configuration cannot be changed here.
    pub async fn save_wecom_settings(
        &self,
        actor: &Actor,
        input: &WecomSettingsInput,
    ) -> Result<WecomSettingsView> {
        require_admin(actor)?;
        let cfg = self.load_wecom_config().await?;
        let touch = |field: &'static str, given: bool| -> Result<()> {
            if given && cfg.locked.contains(&field) {
                return Err(invalid(
                    field,
                    "locked_by_config",
                    format!(
                        "{field} is set in the configuration file or environment; change it there"
                    ),
                ));
            }
            Ok(())
        };
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        touch("corp_id", input.corp_id.is_some())?;
        touch("api_base", input.api_base.is_some())?;
        touch("contact_secret", given(&input.contact_secret))?;
        touch("callback_token", given(&input.callback_token))?;
        touch("encoding_aes_key", given(&input.encoding_aes_key))?;
        for c in &input.clear {
            match c.as_str() {
                "contact_secret" | "callback_token" | "encoding_aes_key" | "app_secrets" => {}
                _ => {
                    return Err(invalid(
                        "clear",
                        "invalid_clear",
                        format!("cannot clear {c:?}"),
                    ));
                }
            }
        }
        // Read, edit and write the row under its lock, with the audit entry in the same
        // transaction; any refusal below drops the transaction and changes nothing.
        let mut tx = self.db.begin().await?;
        let mut row = store::get_locked_in(&mut tx).await?.unwrap_or_default();
        let mut changed: Vec<&str> = Vec::new();
        if let Some(c) = &input.corp_id {
            let c = check_corp_id(c)?;
            if c != row.corp_id {
                row.corp_id = c;
                changed.push("corp_id");
            }
        }
        if let Some(b) = &input.api_base {
            let b = check_api_base(b)?;
            let b = if b == DEFAULT_API_BASE {
                String::new()
            } else {
                b
            };
            if b != row.api_base {
                row.api_base = b;
                changed.push("api_base");
            }
        }
        if let Some(u) = &input.callback_public_url {
            let u = check_public_url(u)?;
            if u != row.callback_public_url {
                row.callback_public_url = u;
                changed.push("callback_public_url");
            }
        }
        // Validate every new secret before sealing any.
        let contact = input
            .contact_secret
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| check_secret("contact_secret", s))
            .transpose()?;
        let token = input
            .callback_token
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(check_token)
            .transpose()?;
        let aes = input
            .encoding_aes_key
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(check_aes_key)
            .transpose()?;
        let apps = match &input.app_secrets {
            None => None,
            Some(list) => {
                let mut out: Vec<AppSecret> = Vec::new();
                for a in list {
                    let agent = a.agent_id.trim();
                    if agent.is_empty()
                        || agent.len() > 20
                        || !agent.chars().all(|c| c.is_ascii_digit())
                    {
                        return Err(invalid(
                            "app_secrets",
                            "invalid_agent_id",
                            "an AgentId is digits (e.g. 1000002)",
                        ));
                    }
                    if out.iter().any(|o| o.agent_id == agent) {
                        return Err(invalid(
                            "app_secrets",
                            "duplicate_agent_id",
                            format!("AgentId {agent} appears twice"),
                        ));
                    }
                    let secret = if a.secret.trim().is_empty() {
                        match cfg.app_secrets.iter().find(|(id, _)| id == agent) {
                            Some((_, s)) => s.expose().to_owned(),
                            None => {
                                return Err(invalid(
                                    "app_secrets",
                                    "secret_required",
                                    format!("enter the secret of AgentId {agent}"),
                                ));
                            }
                        }
                    } else {
                        check_secret("app_secrets", &a.secret)?
                    };
                    out.push(AppSecret {
                        agent_id: agent.to_owned(),
                        secret,
                    });
                }
                Some(out)
            }
        };
        let before: Vec<AppSecret> = cfg
            .app_secrets
            .iter()
            .map(|(a, s)| AppSecret {
                agent_id: a.clone(),
                secret: s.expose().to_owned(),
            })
            .collect();
        let apps = apps.filter(|list| *list != before);
        let needs_box = contact.is_some()
            || token.is_some()
            || aes.is_some()
            || apps.as_ref().is_some_and(|l| !l.is_empty());
        let sb = if needs_box {
            Some(SecretBox::resolve(&self.settings)?)
        } else {
            None
        };
        let seal = |field: &str, v: &str| -> Result<String> {
            sb.as_ref()
                .ok_or_else(|| AppError::Internal("no secret box".into()))?
                .seal(&format!("wecom.{field}"), v)
        };
        if let Some(v) = contact {
            row.contact_secret = Some(seal("contact_secret", &v)?);
            changed.push("contact_secret");
        }
        if let Some(v) = token {
            row.callback_token = Some(seal("callback_token", &v)?);
            changed.push("callback_token");
        }
        if let Some(v) = aes {
            row.encoding_aes_key = Some(seal("encoding_aes_key", &v)?);
            changed.push("encoding_aes_key");
        }
        if let Some(list) = apps {
            let json =
                serde_json::to_string(&list).map_err(|e| AppError::Internal(e.to_string()))?;
            row.app_secrets = (!list.is_empty())
                .then(|| seal("app_secrets", &json))
                .transpose()?;
            changed.push("app_secrets");
        }
        for c in &input.clear {
            let slot = match c.as_str() {
                "contact_secret" => &mut row.contact_secret,
                "callback_token" => &mut row.callback_token,
                "encoding_aes_key" => &mut row.encoding_aes_key,
                _ => &mut row.app_secrets,
            };
            if slot.take().is_some() {
                changed.push(match c.as_str() {
                    "contact_secret" => "contact_secret",
                    "callback_token" => "callback_token",
                    "encoding_aes_key" => "encoding_aes_key",
                    _ => "app_secrets",
                });
            }
        }
        if !changed.is_empty() {
            row.updated_at = self.now();
            row.updated_by.clone_from(&actor.name);
            store::save_in(&mut tx, &row).await?;
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::WecomSettingsChanged,
                "wecom",
                &serde_json::json!({ "fields": changed }).to_string(),
            )
            .await?;
            tx.commit().await?;
            self.forget_wecom_config();
        }
        self.wecom_settings(actor).await
    }

    /// Fetch an access token with the settings in force, bypassing any cached token, and say
    /// in Chinese what WeCom answered (admins; audited).
    pub async fn test_wecom_connection(&self, actor: &Actor) -> Result<ConnectionTest> {
        require_admin(actor)?;
        let cfg = self.wecom_config().await?;
        let result = match (&cfg.contact_secret, cfg.corp_id.is_empty()) {
            (None, _) | (_, true) => ConnectionTest {
                ok: false,
                errcode: None,
                message: "请先填写企业 ID 和“客户联系” Secret".into(),
                detail: String::new(),
            },
            (Some(secret), false) => match new_client(&cfg, secret) {
                Err(e) => ConnectionTest {
                    ok: false,
                    errcode: None,
                    message: "API 地址无效".into(),
                    detail: e.to_string(),
                },
                Ok(client) => match client.access_token().await {
                    Ok(_) => ConnectionTest {
                        ok: true,
                        errcode: Some(0),
                        message: "连接成功：已获取 access_token".into(),
                        detail: String::new(),
                    },
                    Err(e) => describe(&e),
                },
            },
        };
        audit::record(
            self,
            actor,
            Action::WecomConnectionTested,
            "wecom",
            &serde_json::json!({ "ok": result.ok, "errcode": result.errcode }).to_string(),
        )
        .await?;
        Ok(result)
    }
}

pub(super) fn new_client(cfg: &EffectiveWecom, secret: &Secret) -> Result<WecomClient> {
    let mut c = ClientConfig::new(cfg.corp_id.clone(), secret.expose().to_owned());
    c.api_base.clone_from(&cfg.api_base);
    WecomClient::new(c).map_err(|e| AppError::Internal(format!("WeCom client: {e}")))
}

fn describe(e: &WecomError) -> ConnectionTest {
    match e {
        WecomError::Api {
            errcode, errmsg, ..
        } => ConnectionTest {
            ok: false,
            errcode: Some(*errcode),
            message: format!("错误码 {errcode}：{}", errcode_zh(*errcode)),
            detail: errmsg.clone(),
        },
        WecomError::Http { .. } | WecomError::Status { .. } => ConnectionTest {
            ok: false,
            errcode: None,
            message: "无法连接企业微信 API 地址：请检查网络、代理或 API 地址".into(),
            detail: e.to_string(),
        },
        _ => ConnectionTest {
            ok: false,
            errcode: None,
            message: "企业微信的回答无法识别：请检查 API 地址是否指向企业微信".into(),
            detail: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_only_the_last_four() {
        assert_eq!(mask("abcdefghijkl"), "••••ijkl");
        assert_eq!(mask("short"), "••••");
        assert_eq!(mask("鱼塘鱼塘鱼塘鱼塘鱼塘"), "••••鱼塘鱼塘");
    }

    #[test]
    fn field_checks() {
        assert!(check_corp_id("ww1234567890abcdef").is_ok());
        assert!(check_corp_id("ww 12").is_err());
        assert_eq!(check_api_base("").unwrap(), DEFAULT_API_BASE);
        assert_eq!(
            check_api_base("http://127.0.0.1:9/").unwrap(),
            "http://127.0.0.1:9"
        );
        assert!(check_api_base("ftp://x").is_err());
        assert!(check_api_base("not a url").is_err());
        assert!(check_aes_key(&"a".repeat(42)).is_err());
        assert!(check_aes_key(&yutang_wecom::AesKey::generate().to_encoding_aes_key()).is_ok());
        assert!(check_token("tok en").is_err());
        assert!(check_secret("contact_secret", "a b").is_err());
        assert!(errcode_zh(40013).contains("企业 ID"));
        assert_eq!(
            check_public_url(" https://scrm.example.com/wecom/callback ").unwrap(),
            "https://scrm.example.com/wecom/callback"
        );
        assert_eq!(check_public_url("").unwrap(), "");
        for bad in [
            "scrm.example.com/wecom/callback",
            "ftp://scrm.example.com/x",
            "https://user:pw@scrm.example.com/wecom/callback",
            "https://scrm.example.com/wecom/callback#x",
        ] {
            assert!(check_public_url(bad).is_err(), "{bad}");
        }
    }
}
