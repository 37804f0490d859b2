//! `/wecom/callback`: the URL a brand pastes into its WeCom self-built app as the receive-message
//! URL. GET answers WeCom's URL verification; POST receives events, stores them durably and
//! answers at once (WeCom gives up after 5 s and retries three times).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yutang_app::wecom::{CallbackError, Delivery};

use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    msg_signature: String,
    timestamp: String,
    nonce: String,
    /// Only on URL verification.
    echostr: Option<String>,
}

fn plain(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Refusals are logged with WeCom's error code, so the setup checker and the log tell an
/// operator which of token, key or corp id is wrong.
fn refuse(e: CallbackError) -> Response {
    let outcome = match &e {
        CallbackError::NotConfigured(_) => "not_configured",
        CallbackError::Crypto(_) => "refused",
        CallbackError::Payload(_) => "bad_payload",
        CallbackError::Store(_) => "store_error",
    };
    metrics::counter!("wecom_callbacks_total", "outcome" => outcome).increment(1);
    match e {
        CallbackError::NotConfigured(m) => {
            tracing::warn!(reason = %m, "WeCom callback while not configured");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not configured: {m}"),
            )
        }
        CallbackError::Crypto(c) => {
            tracing::warn!(code = c.code(), error = %c, "WeCom callback refused");
            plain(StatusCode::FORBIDDEN, format!("{} {}", c.code(), c.slug()))
        }
        CallbackError::Payload(m) => {
            tracing::warn!(error = %m, "WeCom callback payload unreadable");
            plain(StatusCode::BAD_REQUEST, "bad payload".into())
        }
        CallbackError::Store(s) => {
            crate::error::internal(&s);
            // A 5xx makes WeCom retry, so the event is not lost.
            plain(StatusCode::INTERNAL_SERVER_ERROR, "retry later".into())
        }
    }
}

/// URL verification: answer the decrypted `echostr`, bare (no quotes, BOM or newline).
pub async fn verify(
    State(s): State<AppState>,
    q: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return plain(
            StatusCode::BAD_REQUEST,
            "missing msg_signature, timestamp, nonce or echostr".into(),
        );
    };
    let Some(echostr) = q.echostr.as_deref() else {
        return plain(StatusCode::BAD_REQUEST, "missing echostr".into());
    };
    match s
        .app
        .wecom()
        .wecom_verify_url(&q.msg_signature, &q.timestamp, &q.nonce, echostr)
        .await
    {
        Ok(plaintext) => {
            metrics::counter!("wecom_callbacks_total", "outcome" => "verified").increment(1);
            plain(StatusCode::OK, plaintext)
        }
        Err(e) => refuse(e),
    }
}

/// An event delivery: verified, decrypted and stored before the 200 goes out; duplicates are
/// acknowledged and change nothing.
pub async fn receive(
    State(s): State<AppState>,
    q: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Response {
    let Ok(Query(q)) = q else {
        return plain(
            StatusCode::BAD_REQUEST,
            "missing msg_signature, timestamp or nonce".into(),
        );
    };
    let Ok(body) = std::str::from_utf8(&body) else {
        return refuse(CallbackError::Payload("body is not UTF-8".into()));
    };
    match s
        .app
        .wecom()
        .wecom_receive(&q.msg_signature, &q.timestamp, &q.nonce, body)
        .await
    {
        Ok(d) => {
            let outcome = match d {
                Delivery::Stored => {
                    // Apply it right after answering; the periodic sweep retries failures.
                    let app = s.app.clone();
                    tokio::spawn(async move {
                        if let Err(e) = app.wecom().process_wecom_inbox(100).await {
                            tracing::warn!(error = %e, "processing the WeCom inbox");
                        }
                    });
                    "stored"
                }
                Delivery::Duplicate => "duplicate",
            };
            metrics::counter!("wecom_callbacks_total", "outcome" => outcome).increment(1);
            plain(StatusCode::OK, String::new())
        }
        Err(e) => refuse(e),
    }
}
