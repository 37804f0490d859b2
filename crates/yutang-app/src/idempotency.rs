//! Client idempotency keys (the `Idempotency-Key` header), one path for every endpoint that
//! takes one: the key is parsed by [`parse_idempotency_key`], the request it came with is
//! identified by a [`fingerprint`], and the answers are the same everywhere:
//!
//! - a malformed key: 422 `invalid_idempotency_key` (field `Idempotency-Key`);
//! - the same key with the same request: the stored answer (the first job, transfer or claim);
//! - the same key with another request: 422 `idempotency_key_reused` ([`reused`]);
//! - the same key while the first request is still being written: 409 `request_in_progress`
//!   ([`in_progress`]).
//!
//! Keys are namespaced by the caller before they are stored (per customer, per staff member
//! and per kind of request), so two callers never share one.

use sha2::{Digest, Sha256};
use yutang_core::FieldError;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::{Db, Tx};

use crate::error::{AppError, Result};

/// The header, and the field errors about it name.
pub const HEADER: &str = "Idempotency-Key";
/// The longest key accepted.
pub const MAX_LEN: usize = 100;

/// A client's idempotency key: 1–100 printable ASCII characters (surrounding blanks trimmed).
pub fn parse_idempotency_key(k: &str) -> Result<String, FieldError> {
    let k = k.trim();
    if k.is_empty() || k.len() > MAX_LEN || !k.chars().all(|c| c.is_ascii_graphic()) {
        return Err(malformed());
    }
    Ok(k.to_owned())
}

/// A key that is not 1–100 printable ASCII characters (also: a header that is not text).
pub fn malformed() -> FieldError {
    FieldError::new(
        HEADER,
        "invalid_idempotency_key",
        "Idempotency-Key must be 1–100 printable ASCII characters",
    )
}

/// The same key was used for a different request (422).
pub fn reused() -> AppError {
    AppError::Invalid(FieldError::new(
        HEADER,
        "idempotency_key_reused",
        "this Idempotency-Key was used for a different request",
    ))
}

/// The first request with this key is still being written (409); retry later.
pub fn in_progress() -> AppError {
    AppError::Conflict {
        what: HEADER,
        code: "request_in_progress",
    }
}

/// The fingerprint of a request (its kind first, then its parts as sent), for replays.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// Whether a request stored under a key with `stored` as its fingerprint answers a request
/// with `fingerprint`: the same one (or an unknown one, `""`: stored before fingerprints were
/// kept) is a replay; another is [`reused`].
pub fn check_replay(stored: &str, fingerprint: &str) -> Result<()> {
    if stored.is_empty() || stored == fingerprint {
        Ok(())
    } else {
        Err(reused())
    }
}

/// The job a client's (namespaced) key already started, if any; another request under the
/// key is [`reused`].
pub(crate) async fn job_replay(db: &Db, key: &str, fingerprint: &str) -> Result<Option<i64>> {
    match job_store::by_key_fingerprint(db, key).await? {
        Some((id, stored)) => {
            check_replay(&stored, fingerprint)?;
            Ok(Some(id))
        }
        None => Ok(None),
    }
}

/// Enqueue a job a client asked for inside the caller's transaction, keeping the request's
/// fingerprint with its key, so the job (which is also the key's record) commits together
/// with whatever else the transaction writes (its audit entry). Returns the job id and whether
/// it is a replay (the key had started it already, maybe concurrently): then nothing was
/// written, and the caller drops the transaction and writes no audit entry.
pub(crate) async fn enqueue_job_in(
    tx: &mut Tx,
    job: &NewJob<'_>,
    fingerprint: &str,
    now: i64,
) -> Result<(i64, bool)> {
    let Some(key) = job.idempotency_key else {
        return Ok((job_store::enqueue_in(tx, job, now).await?, false));
    };
    if let Some(id) = job_replay_in(tx, key, fingerprint).await? {
        return Ok((id, true));
    }
    match job_store::enqueue_fingerprinted_in(tx, job, fingerprint, now).await? {
        Some(id) => Ok((id, false)),
        // A concurrent request with the same key won.
        None => job_replay_in(tx, key, fingerprint)
            .await?
            .map(|id| (id, true))
            .ok_or_else(in_progress),
    }
}

/// [`job_replay`] inside the caller's transaction.
async fn job_replay_in(tx: &mut Tx, key: &str, fingerprint: &str) -> Result<Option<i64>> {
    match job_store::by_key_fingerprint_in(tx, key).await? {
        Some((id, stored)) => {
            check_replay(&stored, fingerprint)?;
            Ok(Some(id))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_a_hundred_printable_ascii() {
        assert_eq!(parse_idempotency_key(" k-1 ").unwrap(), "k-1");
        assert_eq!(parse_idempotency_key(&"x".repeat(100)).unwrap().len(), 100);
        for bad in ["", "   ", "a b", "钥匙", "tab\there", &"x".repeat(101)] {
            let e = parse_idempotency_key(bad).unwrap_err();
            assert_eq!((e.field, e.code), (HEADER, "invalid_idempotency_key"));
        }
    }

    #[test]
    fn replays_match_on_the_fingerprint_or_an_unknown_one() {
        let fp = fingerprint(&["bulk_tag", "a"]);
        assert_ne!(fp, fingerprint(&["bulk_tag", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        assert!(check_replay(&fp, &fp).is_ok());
        assert!(check_replay("", &fp).is_ok());
        assert!(matches!(
            check_replay(&fingerprint(&["other"]), &fp),
            Err(AppError::Invalid(f)) if f.code == "idempotency_key_reused"
        ));
    }
}
