//! Customer tokens for the public API (`/api/v1/public/…`, the H5 pages, the brand's
//! mini-program): `yct_{customer}.{expires}.{hmac}` where the HMAC-SHA256 is over
//! `{customer}.{expires}` with a 32-byte secret generated on first start and kept in the
//! database, so every node (and a restart) verifies the same tokens. Stateless: verifying
//! needs no lookup beyond the cached secret.

use rand::RngCore;
use sha2::{Digest, Sha256};
use yutang_core::ids::CustomerId;
use yutang_core::staff::Permission;
use yutang_store::promotions as store;

use crate::error::{AppError, Result};
use crate::{Actor, App};

pub const PREFIX: &str = "yct_";
/// The longest a minted token may live: 30 days.
pub const MAX_TTL_SECS: i64 = 30 * 86_400;
/// Default lifetime: 2 hours (a mini-program session).
pub const DEFAULT_TTL_SECS: i64 = 2 * 3600;
const SECRET_KEY: &str = "customer_token_secret";
/// `promo_settings` key that enables `POST /api/v1/public/demo-login` (set by the demo).
pub const DEMO_LOGIN_KEY: &str = "demo_login";

/// HMAC-SHA256 (RFC 2104) over sha2's SHA-256.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for i in 0..BLOCK {
        ipad[i] ^= k[i];
        opad[i] ^= k[i];
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Sign a token for `customer` valid until `expires_ms`.
pub fn sign(secret: &[u8], customer: i64, expires_ms: i64) -> String {
    let body = format!("{customer}.{expires_ms}");
    let mac = hmac_sha256(secret, body.as_bytes());
    format!("{PREFIX}{body}.{}", hex::encode(mac))
}

/// Why a token was refused (all answer 401; the code tells the client what to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Malformed,
    BadSignature,
    Expired,
}

/// Verify a token: its signature, then its expiry.
pub fn verify(secret: &[u8], token: &str, now_ms: i64) -> Result<CustomerId, TokenRefusal> {
    let rest = token.strip_prefix(PREFIX).ok_or(TokenRefusal::Malformed)?;
    let mut parts = rest.split('.');
    let (Some(c), Some(e), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenRefusal::Malformed);
    };
    let customer: i64 = c.parse().map_err(|_| TokenRefusal::Malformed)?;
    let expires: i64 = e.parse().map_err(|_| TokenRefusal::Malformed)?;
    let sig = hex::decode(sig).map_err(|_| TokenRefusal::Malformed)?;
    let want = hmac_sha256(secret, format!("{c}.{e}").as_bytes());
    if !same(&sig, &want) {
        return Err(TokenRefusal::BadSignature);
    }
    if expires <= now_ms {
        return Err(TokenRefusal::Expired);
    }
    Ok(CustomerId(customer))
}

/// A minted token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MintedToken {
    pub token: String,
    pub customer_id: i64,
    pub expires_at: i64,
}

/// The customer-token use cases: minting and checking the tokens the H5 pages and the public
/// API know a customer by, and the demo sign-in.
#[derive(Clone, Copy)]
pub struct CustomerTokens<'a>(&'a App);

impl std::ops::Deref for CustomerTokens<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`CustomerTokens`].
    pub fn customer_tokens(&self) -> CustomerTokens<'_> {
        CustomerTokens(self)
    }
}

impl CustomerTokens<'_> {
    /// The signing secret: generated and stored on first use, then cached.
    pub(crate) async fn customer_token_secret(&self) -> Result<Vec<u8>> {
        if let Some(s) = self.customer_token_secret.get() {
            return Ok(s.clone());
        }
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let stored = store::setting_or_init(&self.db, SECRET_KEY, &hex::encode(fresh)).await?;
        let secret = hex::decode(stored.trim())
            .map_err(|_| AppError::Internal("customer token secret is not hex".into()))?;
        let _ = self.customer_token_secret.set(secret.clone());
        Ok(secret)
    }

    /// Verify a customer token from the public API.
    pub async fn customer_from_token(&self, token: &str) -> Result<CustomerId, TokenRefusal> {
        let secret = self
            .customer_token_secret()
            .await
            .map_err(|_| TokenRefusal::Malformed)?;
        verify(&secret, token, self.now())
    }

    /// Mint a token for a customer (the brand's mini-program backend calls this after its
    /// own login).
    pub async fn mint_customer_token(
        &self,
        actor: &Actor,
        customer: CustomerId,
        ttl_secs: Option<i64>,
    ) -> Result<MintedToken> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        self.mint_unchecked(customer, ttl_secs).await
    }

    pub(crate) async fn mint_unchecked(
        &self,
        customer: CustomerId,
        ttl_secs: Option<i64>,
    ) -> Result<MintedToken> {
        let ttl = ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
        if !(60..=MAX_TTL_SECS).contains(&ttl) {
            return Err(yutang_core::FieldError::new(
                "ttl_secs",
                "invalid_ttl",
                format!("ttl_secs must be 60–{MAX_TTL_SECS}"),
            )
            .into());
        }
        yutang_store::customers::get(&self.db, customer.0, Default::default())
            .await
            .map_err(|_| {
                yutang_core::FieldError::new("customer_id", "unknown_customer", "no such customer")
            })?;
        let secret = self.customer_token_secret().await?;
        let expires_at = self.now() + ttl * 1000;
        Ok(MintedToken {
            token: sign(&secret, customer.0, expires_at),
            customer_id: customer.0,
            expires_at,
        })
    }

    /// Whether `POST /api/v1/public/demo-login` is on (only in a database the demo seeded).
    pub async fn demo_login_enabled(&self) -> Result<bool> {
        Ok(store::setting(&self.db, DEMO_LOGIN_KEY).await?.as_deref() == Some("1"))
    }

    /// Demo only: a token for a demo customer, without a brand backend.
    pub async fn demo_login(&self, customer: Option<CustomerId>) -> Result<MintedToken> {
        if !self.demo_login_enabled().await? {
            return Err(AppError::NotFound { what: "demo login" });
        }
        let id = match customer {
            Some(c) => c,
            None => CustomerId(1),
        };
        self.mint_unchecked(id, Some(DEFAULT_TTL_SECS)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tokens_verify_and_refuse() {
        let k = b"0123456789abcdef0123456789abcdef";
        let t = sign(k, 42, 10_000);
        assert_eq!(verify(k, &t, 9_999), Ok(CustomerId(42)));
        assert_eq!(verify(k, &t, 10_000), Err(TokenRefusal::Expired));
        assert_eq!(
            verify(b"another secret", &t, 0),
            Err(TokenRefusal::BadSignature)
        );
        let forged = t.replacen("yct_42.", "yct_43.", 1);
        assert_eq!(verify(k, &forged, 0), Err(TokenRefusal::BadSignature));
        assert_eq!(verify(k, "ytk_abc", 0), Err(TokenRefusal::Malformed));
        assert_eq!(verify(k, "yct_1.2", 0), Err(TokenRefusal::Malformed));
    }
}
