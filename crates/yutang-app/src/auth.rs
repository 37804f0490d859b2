//! Authentication: passwords (argon2id), login throttling, sessions and API-token checks.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use yutang_core::access::{Caller, Principal};
use yutang_core::ids::{StaffId, StoreId, TokenId};
use yutang_core::staff::{NewPassword, Role, Username};
use yutang_store::{Tx, login_attempts, sessions, staff as staff_store, tokens as token_store};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::settings::AuthSettings;
use crate::{Actor, App};

/// Prefix of console/API session tokens.
pub const SESSION_PREFIX: &str = "yts_";
/// Prefix of integration API tokens.
pub const TOKEN_PREFIX: &str = "ytk_";

/// 256 random bits, hex-encoded, behind a prefix that says what the secret is.
pub fn random_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

/// SHA-256 of a high-entropy secret, as stored in the database.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn argon2(s: &AuthSettings) -> Result<Argon2<'static>> {
    let params = Params::new(s.argon2_memory_kib, s.argon2_iterations, 1, None)
        .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hash a password into a PHC string (`$argon2id$v=19$…`), which records its own parameters so
/// stronger settings later still verify old hashes.
pub fn hash_password(s: &AuthSettings, pw: &NewPassword) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(s)?
        .hash_password(pw.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing password: {e}")))
}

fn verify_password(s: &AuthSettings, hash: &str, candidate: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    match argon2(s) {
        Ok(a) => a.verify_password(candidate.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A session handed to a client that logged in. `token` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub staff_id: StaffId,
}

/// The account a successful sign-in opens a session for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedIn<'a> {
    pub staff_id: i64,
    pub role: &'a str,
    pub store_id: Option<i64>,
    /// The username, as the audit log names the actor.
    pub name: &'a str,
}

/// A session found for a presented token.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub id: i64,
    pub actor: Actor,
    pub csrf_token: String,
    pub display_name: String,
    pub expires_at: i64,
}

/// The sign-in use cases: console sessions (sign-in, the session, sign-out), API bearer tokens
/// and changing one's own password.
#[derive(Clone, Copy)]
pub struct Auth<'a>(&'a App);

impl std::ops::Deref for Auth<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Auth`].
    pub fn auth(&self) -> Auth<'_> {
        Auth(self)
    }
}

impl Auth<'_> {
    /// Check a username and password and open a session. Throttled per username and per
    /// address; every outcome is recorded, failures in the audit log too.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ip: &str,
        user_agent: &str,
    ) -> Result<IssuedSession> {
        let a = &self.settings.auth;
        let now = self.now();
        // Normalise for throttling even when the name does not parse, so garbage is throttled
        // as well; cap the length stored.
        let name_key: String = username
            .trim()
            .to_ascii_lowercase()
            .chars()
            .take(64)
            .collect();
        let window_start = now - a.login_window_minutes * 60_000;
        let lock_ms = a.lockout_minutes * 60_000;

        for (n, last, max) in [
            {
                let (n, last) =
                    login_attempts::failures_for_user(&self.db, &name_key, window_start).await?;
                (n, last, a.login_max_failures)
            },
            {
                let (n, last) = login_attempts::failures_for_ip(&self.db, ip, window_start).await?;
                (n, last, a.login_max_failures_per_ip)
            },
        ] {
            if n >= max {
                let until = last.unwrap_or(now) + lock_ms;
                if until > now {
                    return Err(AppError::TooManyAttempts {
                        retry_after_secs: ((until - now) / 1000).max(1),
                    });
                }
            }
        }

        let creds = match Username::parse(&name_key) {
            Ok(u) => match staff_store::credentials_by_username(&self.db, u.as_str()).await {
                Ok(c) => Some(c),
                Err(yutang_store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => None,
        };
        let ok = match &creds {
            Some(c) => {
                let matches = c
                    .password_hash
                    .as_deref()
                    .is_some_and(|h| verify_password(a, h, password));
                matches && c.status == "active"
            }
            None => {
                // Spend the same time as a real check so response time does not reveal
                // which usernames exist.
                let _ = verify_password(a, DUMMY_HASH, password);
                false
            }
        };
        login_attempts::record(&self.db, &name_key, ip, now, ok).await?;

        let Some(c) = creds.filter(|_| ok) else {
            let who = Actor {
                caller: Caller::system(),
                name: name_key.clone(),
                ip: ip.to_owned(),
            };
            audit::record(
                self,
                &who,
                Action::LoginFailed,
                &format!("staff:{name_key}"),
                "",
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        };

        let mut tx = self.db.begin().await?;
        let issued = self
            .open_session_in(
                &mut tx,
                &SignedIn {
                    staff_id: c.id,
                    role: &c.role,
                    store_id: c.store_id,
                    name: &name_key,
                },
                ip,
                user_agent,
                "",
            )
            .await?;
        tx.commit().await?;
        Ok(issued)
    }

    /// Open a session for an account whose sign-in succeeded (a password, or WeCom), with its
    /// `login` audit entry (`detail` says how, empty for a password), in the caller's
    /// transaction. Every way of signing in ends here.
    pub(crate) async fn open_session_in(
        &self,
        tx: &mut Tx,
        who: &SignedIn<'_>,
        ip: &str,
        user_agent: &str,
        detail: &str,
    ) -> Result<IssuedSession> {
        let now = self.now();
        let token = random_secret(SESSION_PREFIX);
        let csrf = random_secret("");
        let expires_at = now + self.settings.auth.session_idle_minutes * 60_000;
        let ua: String = user_agent.chars().take(200).collect();
        sessions::create_in(
            tx,
            &sessions::NewSession {
                token_hash: &secret_hash(&token),
                staff_id: who.staff_id,
                csrf_token: &csrf,
                now,
                expires_at,
                ip,
                user_agent: &ua,
            },
        )
        .await?;
        let role = Role::parse("role", who.role)?;
        let actor = Actor {
            caller: Caller {
                principal: Principal::Staff(StaffId(who.staff_id)),
                role,
                store_id: who.store_id.map(StoreId),
            },
            name: who.name.to_owned(),
            ip: ip.to_owned(),
        };
        audit::record_in(
            self,
            tx,
            &actor,
            Action::Login,
            &format!("staff:{}", who.staff_id),
            detail,
        )
        .await?;
        Ok(IssuedSession {
            token,
            csrf_token: csrf,
            expires_at,
            staff_id: StaffId(who.staff_id),
        })
    }

    /// The live session for a presented session token, sliding its idle expiry forward.
    pub async fn session(&self, token: &str, ip: &str) -> Result<LiveSession> {
        if !token.starts_with(SESSION_PREFIX) || token.len() > 128 {
            return Err(AppError::Unauthenticated);
        }
        let now = self.now();
        let row = sessions::find_live(&self.db, &secret_hash(token), now)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if row.status != "active" {
            return Err(AppError::Unauthenticated);
        }
        let role = Role::parse("role", &row.role)?;
        let idle = self.settings.auth.session_idle_minutes * 60_000;
        // Write at most once a minute per session.
        if now - row.last_seen_at > 60_000 {
            sessions::touch(&self.db, row.id, now, now + idle).await?;
        }
        Ok(LiveSession {
            id: row.id,
            actor: Actor {
                caller: Caller {
                    principal: Principal::Staff(StaffId(row.staff_id)),
                    role,
                    store_id: row.store_id.map(StoreId),
                },
                name: row.username,
                ip: ip.to_owned(),
            },
            csrf_token: row.csrf_token,
            display_name: row.display_name,
            expires_at: row.expires_at,
        })
    }

    pub async fn logout(&self, session: &LiveSession) -> Result<()> {
        sessions::delete(&self.db, session.id).await?;
        audit::record(
            self,
            &session.actor,
            Action::Logout,
            &format!("staff:{}", session.actor.actor_id().unwrap_or_default()),
            "",
        )
        .await?;
        Ok(())
    }

    /// The actor behind an integration API token, if it is live.
    pub async fn api_token(&self, token: &str, ip: &str) -> Result<Actor> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Err(AppError::Unauthenticated);
        }
        let now = self.now();
        let row = token_store::find_by_hash(&self.db, &secret_hash(token))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if row.revoked_at.is_some() || row.expires_at.is_some_and(|e| e <= now) {
            return Err(AppError::Unauthenticated);
        }
        // Write at most once a minute per token, decided on the row just read: an UPDATE
        // that matches nothing still takes SQLite's writer lock, so every API call queued
        // behind whatever job was writing (10 s under the demo's jobs, then a pool timeout).
        if row
            .last_used_at
            .is_none_or(|t| now - t >= token_store::TOUCH_EVERY_MS)
        {
            token_store::touch(&self.db, row.id, now).await?;
        }
        Ok(Actor {
            caller: Caller {
                principal: Principal::Token(TokenId(row.id)),
                role: Role::parse("role", &row.role)?,
                store_id: None,
            },
            name: format!("token:{}", row.name),
            ip: ip.to_owned(),
        })
    }

    /// Resolve any bearer credential: a session token or an API token.
    pub async fn bearer(&self, token: &str, ip: &str) -> Result<Actor> {
        if token.starts_with(SESSION_PREFIX) {
            Ok(self.session(token, ip).await?.actor)
        } else {
            self.api_token(token, ip).await
        }
    }

    /// Change one's own password, proving the current one. Ends every session of the account.
    pub async fn change_own_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        let id = actor.staff_id().ok_or(AppError::Forbidden)?;
        let row = staff_store::get(&self.db, id.0)
            .await
            .map_err(AppError::not_found("staff"))?;
        let creds = staff_store::credentials_by_username(&self.db, &row.username).await?;
        let ok = creds
            .password_hash
            .as_deref()
            .is_some_and(|h| verify_password(&self.settings.auth, h, current));
        if !ok {
            return Err(AppError::Invalid(yutang_core::FieldError::new(
                "current_password",
                "wrong_password",
                "the current password is wrong",
            )));
        }
        let pw = NewPassword::parse(new)?;
        let hash = hash_password(&self.settings.auth, &pw)?;
        let mut tx = self.db.begin().await?;
        staff_store::set_password_in(&mut tx, id.0, &hash, self.now()).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::PasswordChanged,
            &format!("staff:{}", id.0),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A valid argon2id hash of a random string, verified against when the username is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0y0+5hM5mZkN9YJ8xYQ6bU6m1Xc8Q0mQ2y0m7b0y9Fo";

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> AuthSettings {
        AuthSettings {
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            ..AuthSettings::default()
        }
    }

    #[test]
    fn hashes_verify_and_wrong_passwords_do_not() {
        let pw = NewPassword::parse("correct horse battery").unwrap();
        let h = hash_password(&fast(), &pw).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&fast(), &h, "correct horse battery"));
        assert!(!verify_password(&fast(), &h, "correct horse batterx"));
        assert!(!verify_password(&fast(), "not a hash", "x"));
        assert!(!verify_password(&fast(), DUMMY_HASH, "anything"));
    }

    #[test]
    fn secrets_are_prefixed_and_hashes_stable() {
        let s = random_secret(TOKEN_PREFIX);
        assert!(s.starts_with("ytk_"));
        assert_eq!(s.len(), 4 + 64);
        assert_ne!(s, random_secret(TOKEN_PREFIX));
        assert_eq!(secret_hash("abc"), secret_hash("abc"));
        assert_eq!(secret_hash("abc").len(), 64);
    }
}
