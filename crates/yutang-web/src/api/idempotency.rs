//! The `Idempotency-Key` header, read the same way by every endpoint that takes one.
//!
//! [`IdempotencyKey`] extracts it (a malformed key is 422 `invalid_idempotency_key` naming the
//! field `Idempotency-Key`, before the body is read) and documents it in the OpenAPI document
//! (`params(IdempotencyKey)`); [`CONFLICT`] and [`INVALID`] describe the 409 and 422 answers.
//! What a key means is the app's ([`yutang_app::idempotency`]): the same key with the same
//! request replays the stored answer, with another request it is 422
//! `idempotency_key_reused`, and while the first request is still being written it is 409
//! `request_in_progress`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use yutang_app::AppError;
use yutang_app::idempotency::{HEADER, MAX_LEN, malformed, parse_idempotency_key};

use crate::error::WebError;

/// The 409 of an endpoint that takes `Idempotency-Key`.
pub const CONFLICT: &str = "request_in_progress (field Idempotency-Key): the first request with \
    this key is still being written, retry it; or a rule refused the request";
/// The 422 of an endpoint that takes `Idempotency-Key`.
pub const INVALID: &str = "invalid_idempotency_key (not 1–100 printable ASCII characters) or \
    idempotency_key_reused (the key came with a different request before), both naming the \
    field Idempotency-Key; or invalid input naming the field";

/// The client's `Idempotency-Key`, parsed; `None` when the header is absent.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        let Some(v) = parts.headers.get(HEADER) else {
            return Ok(Self(None));
        };
        let key = v
            .to_str()
            .map_err(|_| malformed())
            .and_then(parse_idempotency_key)
            .map_err(|e| WebError::from(AppError::Invalid(e)))?;
        Ok(Self(Some(key)))
    }
}

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name(HEADER)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes a retry safe: the same key with the same request replays the first \
                     answer; with a different request it is 422 idempotency_key_reused; while \
                     the first is still being written, 409 request_in_progress. 1–100 printable \
                     ASCII characters (else 422 invalid_idempotency_key), kept per caller.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(MAX_LEN)),
                ))
                .build(),
        ]
    }
}
