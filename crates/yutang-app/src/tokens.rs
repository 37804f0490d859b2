//! API tokens for integrations (POS, shops, mini-program back end).

/// The row this area hands to its callers (a read model; defined by the store).
pub use yutang_store::tokens::TokenRow;

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::ids::TokenId;
use yutang_core::staff::{DisplayName, Permission, Role};
use yutang_store::tokens as store;

use crate::audit::{self, Action};
use crate::auth::{TOKEN_PREFIX, random_secret, secret_hash};
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// A token request, parsed. Tokens carry HQ roles only (admin, operator, analyst): an
/// integration is not a store employee, and store-bound scopes need a person behind them.
#[derive(Debug, Clone)]
pub struct NewTokenInput {
    pub name: DisplayName,
    pub role: Role,
    pub expires_in_days: Option<i64>,
}

impl NewTokenInput {
    pub fn parse(name: &str, role: &str, expires_in_days: Option<i64>) -> Result<Self, FieldError> {
        let role = Role::parse("role", role)?;
        if !role.is_hq() {
            return Err(FieldError::new(
                "role",
                "token_role_not_allowed",
                "API tokens can have the role admin, operator or analyst",
            ));
        }
        if let Some(d) = expires_in_days
            && !(1..=3650).contains(&d)
        {
            return Err(FieldError::new(
                "expires_in_days",
                "invalid_expiry",
                "expires_in_days must be between 1 and 3650",
            ));
        }
        Ok(Self {
            name: DisplayName::parse("name", name)?,
            role,
            expires_in_days,
        })
    }
}

/// A created token: the secret is returned this once and never again.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenRow,
}

/// The API-token use cases: creating, listing and revoking the tokens HQ roles call the API
/// with.
#[derive(Clone, Copy)]
pub struct Tokens<'a>(&'a App);

impl std::ops::Deref for Tokens<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Tokens`].
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens(self)
    }
}

impl Tokens<'_> {
    pub async fn create_token(&self, actor: &Actor, input: &NewTokenInput) -> Result<CreatedToken> {
        if !actor.can(Permission::ManageTokens) {
            return Err(AppError::Forbidden);
        }
        let secret = random_secret(TOKEN_PREFIX);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let id = store::create_in(
            &mut tx,
            &store::NewToken {
                name: input.name.as_str(),
                prefix: &secret[..TOKEN_PREFIX.len() + 6],
                token_hash: &secret_hash(&secret),
                role: input.role.as_str(),
                created_by: actor.staff_id().map(|s| s.0),
                now,
                expires_at: input.expires_in_days.map(|d| now + d * 86_400_000),
            },
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TokenCreated,
            &format!("token:{id}"),
            &serde_json::json!({"name": input.name.as_str(), "role": input.role.as_str()})
                .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedToken {
            token: secret,
            info: store::get(&self.db, id).await?,
        })
    }

    pub async fn list_tokens(&self, actor: &Actor) -> Result<Vec<TokenRow>> {
        if !actor.can(Permission::ManageTokens) {
            return Err(AppError::Forbidden);
        }
        Ok(store::list(&self.db).await?)
    }

    /// Revoke a token; revoking a revoked token is a no-op that still answers the token.
    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> Result<TokenRow> {
        if !actor.can(Permission::ManageTokens) {
            return Err(AppError::Forbidden);
        }
        store::get(&self.db, id.0)
            .await
            .map_err(AppError::not_found("token"))?;
        let mut tx = self.db.begin().await?;
        if store::revoke_in(&mut tx, id.0, self.now()).await? {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::TokenRevoked,
                &format!("token:{}", id.0),
                "",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(store::get(&self.db, id.0).await?)
    }
}
