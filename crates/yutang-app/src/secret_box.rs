//! Secrets at rest: values such as WeCom secrets that operators type into the console are
//! stored encrypted with AES-256-GCM (a fresh 96-bit nonce per value, the field name as
//! associated data so a value cannot be moved to another field). See
//! docs/decisions/0008-secrets-at-rest.md.
//!
//! The 32-byte key comes from, in order:
//! 1. the `secret_key` setting (`YUTANG_SECRET_KEY`, or `YUTANG_SECRET_KEY_FILE` naming a file
//!    that holds it): 64 hex digits or standard base64 of 32 bytes;
//! 2. for SQLite, the key file `yutang-secret.key` beside the database file, generated on first
//!    use with mode 0600.
//!
//! PostgreSQL deployments must set the key (there is no natural local directory, and several
//! nodes must share it); saving a secret without one is refused with `secret_key_required`.
//! Losing the key loses the stored secrets (re-enter them); the database alone never reveals
//! them.

use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use crate::Settings;
use crate::error::{AppError, Result};

/// Prefix of a sealed value, naming the scheme so it can change later.
const PREFIX: &str = "v1:";
/// Name of the generated key file beside a SQLite database.
pub const KEY_FILE: &str = "yutang-secret.key";

/// Seals and opens secrets with the deployment's key.
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

fn key_required(message: impl Into<String>) -> AppError {
    AppError::Rule {
        code: "secret_key_required",
        message: message.into(),
    }
}

/// Parse a key: 64 hex digits, or base64 of exactly 32 bytes.
pub fn parse_key(s: &str) -> Result<[u8; 32]> {
    let s = s.trim();
    let bytes = if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(s).map_err(|e| key_required(format!("secret key: {e}")))?
    } else {
        STANDARD
            .decode(s)
            .map_err(|_| key_required("secret key must be 64 hex digits or base64 of 32 bytes"))?
    };
    bytes
        .try_into()
        .map_err(|_| key_required("secret key must be 32 bytes (64 hex digits)"))
}

/// The key file for a SQLite database URL (`sqlite://path`), if there is one.
pub fn key_file_for(database_url: &str) -> Option<PathBuf> {
    let path = database_url.strip_prefix("sqlite://")?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let dir = Path::new(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Some(dir.join(KEY_FILE))
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        }
    }

    /// The deployment's box: from the `secret_key` setting, else the SQLite key file (made if
    /// missing).
    pub fn resolve(settings: &Settings) -> Result<Self> {
        if let Some(k) = settings.secret_key.as_ref() {
            return Ok(Self::new(parse_key(k.expose())?));
        }
        let Some(file) = key_file_for(&settings.database_url) else {
            return Err(key_required(
                "set YUTANG_SECRET_KEY (64 hex digits) to store secrets in this database",
            ));
        };
        Ok(Self::new(load_or_create_key_file(&file)?))
    }

    /// Encrypt `plain` for the field `field`.
    pub fn seal(&self, field: &str, plain: &str) -> Result<String> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| AppError::Internal("sealing a secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypt a value sealed for `field`; fails on another key, another field or tampering.
    pub fn open(&self, field: &str, sealed: &str) -> Result<String> {
        let bad = || AppError::Rule {
            code: "secret_unreadable",
            message: format!(
                "the stored {field} cannot be decrypted with this secret key (was the key changed?); enter it again"
            ),
        };
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or_else(bad)?;
        if raw.len() < 12 + 16 {
            return Err(bad());
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }
}

fn load_or_create_key_file(path: &Path) -> Result<[u8; 32]> {
    let io =
        |e: std::io::Error| AppError::Internal(format!("secret key file {}: {e}", path.display()));
    match std::fs::read_to_string(path) {
        Ok(s) => {
            warn_if_open(path);
            parse_key(&s)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(path) {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                        .map_err(io)?;
                    f.sync_all().map_err(io)?;
                    tracing::info!(file = %path.display(), "generated the secret key file");
                    Ok(key)
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    parse_key(&std::fs::read_to_string(path).map_err(io)?)
                }
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(unix)]
fn warn_if_open(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(file = %path.display(), "the secret key file is readable by others; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_open(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let b = SecretBox::new([7u8; 32]);
        let s = b.seal("wecom.contact_secret", "s3cr3t-鱼塘").unwrap();
        assert!(s.starts_with("v1:") && !s.contains("s3cr3t"));
        assert_eq!(b.open("wecom.contact_secret", &s).unwrap(), "s3cr3t-鱼塘");
        // Same plaintext, different nonce.
        assert_ne!(b.seal("wecom.contact_secret", "s3cr3t-鱼塘").unwrap(), s);
        // Another field, another key, a flipped byte: refused.
        assert!(b.open("wecom.callback_token", &s).is_err());
        assert!(
            SecretBox::new([8u8; 32])
                .open("wecom.contact_secret", &s)
                .is_err()
        );
        let mut raw = STANDARD.decode(&s[3..]).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let forged = format!("v1:{}", STANDARD.encode(raw));
        assert!(b.open("wecom.contact_secret", &forged).is_err());
        assert!(b.open("wecom.contact_secret", "garbage").is_err());
        assert!(b.open("wecom.contact_secret", "v1:AAAA").is_err());
    }

    #[test]
    fn keys_parse_from_hex_or_base64() {
        let hex_key = "00".repeat(32);
        assert_eq!(parse_key(&hex_key).unwrap(), [0u8; 32]);
        assert_eq!(parse_key(&STANDARD.encode([1u8; 32])).unwrap(), [1u8; 32]);
        assert!(parse_key("short").is_err());
        assert!(parse_key(&STANDARD.encode([1u8; 16])).is_err());
    }

    #[test]
    fn key_file_is_made_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("y.db").display());
        let file = key_file_for(&url).unwrap();
        assert_eq!(file, dir.path().join(KEY_FILE));
        let a = load_or_create_key_file(&file).unwrap();
        let b = load_or_create_key_file(&file).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(key_file_for("postgres://u@h/db").is_none());
    }
}
