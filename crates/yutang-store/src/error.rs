use thiserror::Error;

/// Storage errors, classified by kind rather than by constraint name (SQLite reports none).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `what` names the field from the call site.
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    /// A foreign key refused the write: the referenced row does not exist.
    #[error("{what} refers to a row that does not exist")]
    Dangling { what: &'static str },
    /// Input that a rule inside the transaction refused (e.g. a refund above the paid amount).
    #[error(transparent)]
    Invalid(#[from] yutang_core::FieldError),
    /// A rule refused a well-formed request (e.g. merging two customers with different
    /// unionids); `code` is stable.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("invalid database URL: {0}")]
    Url(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// Classify a sqlx error; `what` names the unique field a conflict would concern.
    pub fn classify(e: sqlx::Error, what: &'static str) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict { what },
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::Dangling { what }
            }
            _ => StoreError::Database(e),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::classify(e, "record")
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// `NotFound` when an UPDATE or DELETE by id touched no row.
pub(crate) fn touched(rows: u64) -> Result<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
