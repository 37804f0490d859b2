//! Sign in with WeCom (企业微信登录): the console's QR web login and the silent OAuth sign-in of
//! pages opened inside the WeCom client both end with a single-use `code` that the self-built
//! app exchanges (`auth/getuserinfo`) for the member's userid; the staff account linked to that
//! userid (`staff.wecom_userid`, active only) gets the same session a password opens.
//!
//! Every refusal is audited (`login_failed`, detail `{"method":"wecom","reason":…}`) and
//! counted with the password failures of its address (so a flood of forged codes is throttled
//! like password guessing), and nothing else is written. A code opens at most one session: its
//! SHA-256 is recorded (`wecom_login_codes`) in the transaction that creates the session, and a
//! code seen before is refused even if WeCom would accept it. The `state` that binds the
//! sign-in to the browser is checked by the web layer (a cookie), which reports a mismatch
//! through [`Auth::refuse_wecom_login`].

use serde_json::json;
use yutang_core::access::Caller;
use yutang_store::wecom::login_codes;
use yutang_store::{login_attempts, staff as staff_store};
use yutang_wecom::client::api::{
    ERR_INVALID_OAUTH_CODE, ERR_UNTRUSTED_REDIRECT, MAX_OAUTH_CODE_BYTES, is_valid_oauth_state,
    oauth_authorize_url, web_login_url,
};

use crate::Actor;
use crate::audit::{self, Action};
use crate::auth::{Auth, IssuedSession, SignedIn, secret_hash};
use crate::error::{AppError, Result};

/// How long a used code is remembered. WeCom's codes expire after 5 minutes, so a day is
/// ample; older rows are pruned by later sign-ins.
const REMEMBER_CODES_MS: i64 = 24 * 3600 * 1000;

/// Why a sign-in with WeCom was refused. Each has a stable audit `reason` and an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WecomLoginRefusal {
    /// The code is malformed (empty, over 512 bytes, not visible ASCII), missing, or WeCom
    /// does not know it (40029: unknown, used or expired).
    InvalidCode,
    /// Yutang has opened a session with this code already.
    ReplayedCode,
    /// WeCom says the person is not a member of the corp (an openid, no userid).
    NotMember,
    /// No staff account is linked to the member's userid.
    UnknownWecomUser,
    /// The linked staff account is disabled.
    AccountDisabled,
    /// The `state` the browser came back with is not the one its sign-in started with.
    ForgedState,
    /// WeCom, or its self-built app, is not configured.
    NotConfigured,
    /// WeCom refused the redirect address (50001: not on the app's trusted domain).
    UntrustedDomain,
    /// WeCom could not be asked (unreachable, or another error).
    WecomUnavailable,
}

impl WecomLoginRefusal {
    /// The audit log's `reason`.
    pub fn reason(self) -> &'static str {
        match self {
            Self::InvalidCode => "invalid_code",
            Self::ReplayedCode => "replayed_code",
            Self::NotMember => "not_member",
            Self::UnknownWecomUser => "unknown_wecom_user",
            Self::AccountDisabled => "account_disabled",
            Self::ForgedState => "forged_state",
            Self::NotConfigured => "not_configured",
            Self::UntrustedDomain => "untrusted_domain",
            Self::WecomUnavailable => "wecom_unavailable",
        }
    }

    /// The error code the console translates.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidCode => "wecom_login_invalid_code",
            Self::ReplayedCode => "wecom_login_replayed_code",
            Self::NotMember => "wecom_login_not_member",
            Self::UnknownWecomUser => "wecom_login_unknown_user",
            Self::AccountDisabled => "wecom_login_account_disabled",
            Self::ForgedState => "wecom_login_forged_state",
            Self::NotConfigured => "wecom_login_not_configured",
            Self::UntrustedDomain => "wecom_login_untrusted_domain",
            Self::WecomUnavailable => "wecom_login_unavailable",
        }
    }

    /// The refusal a [`AppError::Rule`] carries: `Some` when `e` is one.
    pub fn of(e: &AppError) -> Option<Self> {
        const ALL: [WecomLoginRefusal; 9] = [
            WecomLoginRefusal::InvalidCode,
            WecomLoginRefusal::ReplayedCode,
            WecomLoginRefusal::NotMember,
            WecomLoginRefusal::UnknownWecomUser,
            WecomLoginRefusal::AccountDisabled,
            WecomLoginRefusal::ForgedState,
            WecomLoginRefusal::NotConfigured,
            WecomLoginRefusal::UntrustedDomain,
            WecomLoginRefusal::WecomUnavailable,
        ];
        match e {
            AppError::Rule { code, .. } => ALL.into_iter().find(|r| r.code() == *code),
            _ => None,
        }
    }

    fn error(self) -> AppError {
        AppError::Rule {
            code: self.code(),
            message: format!("sign-in with WeCom refused: {}", self.reason()),
        }
    }
}

/// Whether `code` may be a WeCom sign-in code: 1..=512 bytes of visible ASCII.
pub fn is_well_formed_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_OAUTH_CODE_BYTES
        && code.bytes().all(|b| b.is_ascii_graphic())
}

impl Auth<'_> {
    /// Whether sign-in with WeCom is configured: the corp id and a self-built app's AgentId
    /// and secret (the first app listed, the one that sends app messages).
    pub async fn wecom_login_available(&self) -> Result<bool> {
        Ok(self.wecom().app_client().await?.is_some())
    }

    /// Where to send the browser to sign in with WeCom: the QR web login for a desktop
    /// browser, or the OAuth page (`snsapi_base`, silent) for a page opened inside the WeCom
    /// client (`in_wecom_client`). WeCom comes back to `redirect_uri?code=…&state=…`.
    /// `state` must be 1..=128 letters and digits. Refused (and audited) when not configured.
    pub async fn wecom_login_url(
        &self,
        redirect_uri: &str,
        state: &str,
        in_wecom_client: bool,
        ip: &str,
    ) -> Result<String> {
        if !is_valid_oauth_state(state) {
            return Err(AppError::Internal(
                "the sign-in state must be 1-128 letters and digits".into(),
            ));
        }
        let Some((agent, client)) = self.wecom().app_client().await? else {
            return Err(self
                .refuse_wecom_login(WecomLoginRefusal::NotConfigured, ip, "", None)
                .await);
        };
        let w = &self.settings.wecom;
        let corp = &client.config().corp_id;
        Ok(if in_wecom_client {
            oauth_authorize_url(&w.oauth_base, corp, agent, redirect_uri, state)
        } else {
            web_login_url(&w.login_base, corp, agent, redirect_uri, state)
        })
    }

    /// Sign in with the `code` WeCom handed the browser (the web layer has checked the
    /// `state`): exchange it for the member's userid and open a session for the active staff
    /// account linked to it. Refusals are audited and answer [`AppError::Rule`] with a
    /// [`WecomLoginRefusal`] code; too many failures from `ip` answer
    /// [`AppError::TooManyAttempts`] as for passwords.
    pub async fn login_wecom(
        &self,
        code: &str,
        ip: &str,
        user_agent: &str,
    ) -> Result<IssuedSession> {
        use WecomLoginRefusal as R;
        let a = &self.settings.auth;
        let now = self.now();
        let window_start = now - a.login_window_minutes * 60_000;
        let (n, last) = login_attempts::failures_for_ip(&self.db, ip, window_start).await?;
        if n >= a.login_max_failures_per_ip {
            let until = last.unwrap_or(now) + a.lockout_minutes * 60_000;
            if until > now {
                return Err(AppError::TooManyAttempts {
                    retry_after_secs: ((until - now) / 1000).max(1),
                });
            }
        }
        if !is_well_formed_code(code) {
            return Err(self.refuse_wecom_login(R::InvalidCode, ip, "", None).await);
        }
        let Some((_, client)) = self.wecom().app_client().await? else {
            return Err(self
                .refuse_wecom_login(R::NotConfigured, ip, "", None)
                .await);
        };
        let code_hash = secret_hash(code);
        if login_codes::seen(&self.db, &code_hash).await? {
            return Err(self.refuse_wecom_login(R::ReplayedCode, ip, "", None).await);
        }
        let info = match client.auth_getuserinfo(code).await {
            Ok(info) => info,
            Err(e) => {
                let refusal = match e.errcode() {
                    Some(ERR_INVALID_OAUTH_CODE) => R::InvalidCode,
                    Some(ERR_UNTRUSTED_REDIRECT) => R::UntrustedDomain,
                    _ => {
                        tracing::warn!(error = %e, "sign-in with WeCom: auth/getuserinfo failed");
                        R::WecomUnavailable
                    }
                };
                return Err(self.refuse_wecom_login(refusal, ip, "", None).await);
            }
        };
        let userid = info.userid.trim();
        if userid.is_empty() {
            return Err(self.refuse_wecom_login(R::NotMember, ip, "", None).await);
        }
        let Some(staff) = staff_store::by_wecom_userid(&self.db, userid).await? else {
            return Err(self
                .refuse_wecom_login(R::UnknownWecomUser, ip, userid, None)
                .await);
        };
        if staff.status != "active" {
            return Err(self
                .refuse_wecom_login(R::AccountDisabled, ip, userid, Some(staff.id))
                .await);
        }

        let mut tx = self.db.begin().await?;
        if !login_codes::claim_in(&mut tx, &code_hash, staff.id, now).await? {
            drop(tx);
            return Err(self
                .refuse_wecom_login(R::ReplayedCode, ip, userid, Some(staff.id))
                .await);
        }
        login_codes::prune_in(&mut tx, now - REMEMBER_CODES_MS).await?;
        let detail = json!({"method": "wecom", "userid": userid}).to_string();
        let issued = self
            .open_session_in(
                &mut tx,
                &SignedIn {
                    staff_id: staff.id,
                    role: &staff.role,
                    store_id: staff.store_id,
                    name: &staff.username,
                },
                ip,
                user_agent,
                &detail,
            )
            .await?;
        tx.commit().await?;
        login_attempts::record(&self.db, &attempt_key(userid), ip, now, true).await?;
        Ok(issued)
    }

    /// Record a refused sign-in with WeCom (the audit log and the address's failure count)
    /// and return the error to answer. `userid` is the member's when known (empty otherwise);
    /// the code itself is never recorded. When recording fails, that error is returned.
    pub async fn refuse_wecom_login(
        &self,
        refusal: WecomLoginRefusal,
        ip: &str,
        userid: &str,
        staff_id: Option<i64>,
    ) -> AppError {
        let key = attempt_key(userid);
        let who = Actor {
            caller: Caller::system(),
            name: key.clone(),
            ip: ip.to_owned(),
        };
        let mut detail = json!({"method": "wecom", "reason": refusal.reason()});
        if !userid.is_empty() {
            detail["userid"] = json!(userid);
        }
        if let Some(id) = staff_id {
            detail["staff_id"] = json!(id);
        }
        let recorded = async {
            login_attempts::record(&self.db, &key, ip, self.now(), false).await?;
            audit::record(self, &who, Action::LoginFailed, &key, &detail.to_string()).await
        }
        .await;
        match recorded {
            Ok(()) => refusal.error(),
            Err(e) => e,
        }
    }
}

/// The name a WeCom sign-in is recorded under (login attempts, the audit actor and target):
/// `wecom:<userid>`, or `wecom` before the member is known. A username cannot contain `:`,
/// so it never counts against a password account.
fn attempt_key(userid: &str) -> String {
    if userid.is_empty() {
        "wecom".to_owned()
    } else {
        let short: String = userid.chars().take(64).collect();
        format!("wecom:{short}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_at_the_edge() {
        assert!(is_well_formed_code("abcDEF123-_."));
        assert!(!is_well_formed_code(""));
        assert!(!is_well_formed_code(&"a".repeat(513)));
        assert!(is_well_formed_code(&"a".repeat(512)));
        assert!(!is_well_formed_code("a b"));
        assert!(!is_well_formed_code("a\u{7f}"));
        assert!(!is_well_formed_code("码"));
    }

    #[test]
    fn refusals_round_trip_through_their_error() {
        let r = WecomLoginRefusal::UnknownWecomUser;
        assert_eq!(WecomLoginRefusal::of(&r.error()), Some(r));
        assert_eq!(WecomLoginRefusal::of(&AppError::Forbidden), None);
        assert_eq!(attempt_key(""), "wecom");
        assert_eq!(attempt_key("zhangwei"), "wecom:zhangwei");
    }
}
