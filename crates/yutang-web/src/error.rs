//! The one place errors become HTTP responses.
//!
//! Every error has a stable snake_case `code` (the console translates it), a human message and,
//! for input errors, the `field` it concerns:
//! `{ "error": { "code": "username_taken", "message": "…", "field": "username" } }`.
//! 5xx responses log the whole cause chain and return an opaque message.
//!
//! Every code is in the one list, `yutang_core::error_codes` (with its zh and en texts): a
//! test scans the sources for codes missing there, [`WebError::new`] asserts it in debug
//! builds, and the OpenAPI document lists the codes on `ErrorDetail.code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use yutang_app::AppError;
use yutang_core::error_codes;

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<i64>,
    pub position: Option<ErrorPosition>,
}

/// Where in a segment expression an error is: byte offsets and 1-based line and column
/// (in characters), so an editor can underline it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct ErrorPosition {
    pub start: usize,
    pub end: usize,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_username`, `forbidden` (the schema's
    /// description lists them all, from `yutang_core::error_codes`).
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    /// Human-readable explanation (English).
    pub message: String,
    /// The request field the error concerns, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For segment expressions: where the error is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<ErrorPosition>,
}

/// The OpenAPI schema of `ErrorDetail.code`: a string whose description (and `x-error-codes`)
/// lists every code of `yutang_core::error_codes`. Not a closed `enum`: a client must treat a
/// code it does not know (a newer server's) like any error of that status.
fn error_code_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let codes: Vec<&str> = error_codes::CODES.iter().map(|c| c.code).collect();
    let listed: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "Stable machine-readable snake_case code; the console translates it. Treat a code \
             you do not know like any error of the response's status. The codes: {}.",
            listed.join(", ")
        )))
        .extensions(Some(
            ExtensionsBuilder::new()
                .add("x-error-codes", serde_json::json!(codes))
                .build(),
        ))
        .build()
}

impl WebError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        debug_assert!(
            error_codes::is_known(code),
            "error code {code:?} is not in yutang_core::error_codes; add it there with its zh and en texts"
        );
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            position: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in, or send a valid `Authorization: Bearer` token",
        )
    }
}

impl From<yutang_core::FieldError> for WebError {
    fn from(e: yutang_core::FieldError) -> Self {
        AppError::from(e).into()
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(f) => {
                WebError::new(StatusCode::UNPROCESSABLE_ENTITY, f.code, f.message)
                    .with_field(f.field)
            }
            AppError::Segment(e) => {
                let loc = e
                    .location
                    .unwrap_or(yutang_core::segments::Location { line: 1, column: 1 });
                let mut w = WebError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    e.code(),
                    format!("line {}, column {}: {}", loc.line, loc.column, e.message),
                )
                .with_field("expression");
                w.position = Some(ErrorPosition {
                    start: e.span.start,
                    end: e.span.end,
                    line: loc.line,
                    column: loc.column,
                });
                w
            }
            AppError::NotFound { what } => WebError::not_found(what),
            AppError::Conflict { what, code } => {
                WebError::new(StatusCode::CONFLICT, code, format!("{what} already exists"))
                    .with_field(what)
            }
            AppError::Rule { code, message } => WebError::new(StatusCode::CONFLICT, code, message),
            AppError::Unavailable { code, message } => {
                WebError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
            }
            AppError::Unauthenticated => WebError::unauthenticated(),
            AppError::BadSignature { code } => WebError::new(
                StatusCode::UNAUTHORIZED,
                code,
                "the message's signature is missing, stale or does not match the source's secret",
            ),
            AppError::InvalidCredentials => WebError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong username or password",
            ),
            AppError::TooManyAttempts { retry_after_secs } => {
                let mut w = WebError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    format!("too many failed sign-in attempts; retry in {retry_after_secs} s"),
                );
                w.retry_after = Some(retry_after_secs);
                w
            }
            AppError::Forbidden => WebError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "your role does not allow this action",
            ),
            e @ (AppError::Store(_) | AppError::Internal(_)) => {
                internal(&e);
                WebError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                )
            }
        }
    }
}

/// Log an internal error with its whole source chain.
pub fn internal(e: &(dyn std::error::Error + 'static)) {
    let mut chain = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        src = s.source();
    }
    tracing::error!(error = %chain, "internal error");
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
                position: self.position,
            },
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"yutang\""),
            );
        }
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

pub type WebResult<T> = Result<T, WebError>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use utoipa::OpenApi;

    /// The OpenAPI document lists every code of the one list on `ErrorDetail.code`, as an open
    /// string (a closed enum would make every not-yet-listed code a schema violation).
    #[test]
    fn openapi_lists_every_error_code() {
        let doc = serde_json::to_value(crate::api::ApiDoc::openapi()).unwrap();
        let code = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"];
        assert_eq!(code["type"], "string", "{code}");
        assert!(code.get("enum").is_none(), "{code}");
        let listed: Vec<&str> = code["x-error-codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let all: Vec<&str> = error_codes::CODES.iter().map(|c| c.code).collect();
        assert_eq!(listed, all);
        let description = code["description"].as_str().unwrap();
        for c in all {
            assert!(description.contains(&format!("`{c}`")), "{c}");
        }
    }

    #[test]
    fn every_mapped_app_error_has_a_listed_code() {
        for e in [
            AppError::Unauthenticated,
            AppError::InvalidCredentials,
            AppError::TooManyAttempts {
                retry_after_secs: 3,
            },
            AppError::Forbidden,
            AppError::NotFound { what: "staff" },
            AppError::Internal("x".into()),
        ] {
            let w = WebError::from(e);
            assert!(error_codes::is_known(w.code), "{}", w.code);
        }
    }
}
