//! Files the API and the console hand out (QR codes, posters): the bytes with their type and
//! a `Content-Disposition` naming the file, so a browser saves it under that name.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// How a browser treats the file: show it (an `<img>` source, a preview) or save it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

/// `body` as `content_type`, named `filename` (ASCII, so every browser keeps it). Private
/// to the caller's browser for a minute: the file follows the code's settings, which change.
pub fn file(
    content_type: &str,
    filename: &str,
    disposition: Disposition,
    body: Vec<u8>,
) -> Response {
    let kind = match disposition {
        Disposition::Inline => "inline",
        Disposition::Attachment => "attachment",
    };
    let disposition = HeaderValue::from_str(&format!("{kind}; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=60"),
            ),
        ],
        body,
    )
        .into_response()
}
