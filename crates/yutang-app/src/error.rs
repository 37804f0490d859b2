use thiserror::Error;
use yutang_core::FieldError;
use yutang_store::StoreError;

/// What a use case can answer besides success. `yutang-web` maps each variant once to an HTTP
/// status and a stable `code`.
#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{what} already exists")]
    Conflict {
        what: &'static str,
        code: &'static str,
    },
    /// A rule refused the request although it was well-formed (e.g. disabling the last admin).
    #[error("{message}")]
    Rule { code: &'static str, message: String },
    /// Something the server itself lacks, which the operator can fix (a font for the
    /// posters): the request may succeed once it is there. The message says what to do.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// A segment expression that does not parse or type-check; carries the position.
    #[error(transparent)]
    Segment(#[from] yutang_core::segments::SegmentError),
    #[error("not signed in")]
    Unauthenticated,
    /// A pushed message whose signature is missing, stale or wrong (`code` says which).
    #[error("bad signature: {code}")]
    BadSignature { code: &'static str },
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("not allowed")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound { what: "record" },
            StoreError::Conflict { what } => AppError::Conflict {
                what,
                code: "already_exists",
            },
            StoreError::Dangling { what } => AppError::Invalid(FieldError::new(
                what,
                "unknown_reference",
                format!("{what} refers to something that does not exist"),
            )),
            StoreError::Invalid(f) => AppError::Invalid(f),
            StoreError::Refused { code, message } => AppError::Rule { code, message },
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    /// Turn a store `NotFound` into a `NotFound` naming the thing.
    pub fn not_found(what: &'static str) -> impl Fn(StoreError) -> AppError {
        move |e| match e {
            StoreError::NotFound => AppError::NotFound { what },
            other => AppError::from(other),
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
