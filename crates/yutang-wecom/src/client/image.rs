//! Downloading the QR image of a contact way (`qr_code` of `add_contact_way`, 96348), so Yutang
//! keeps it and serves it itself.
//!
//! Only from where WeCom puts such images: HTTPS on `*.qpic.cn` (WeCom's image host), or the
//! origin of [`ClientConfig::api_base`] (a proxy in front of WeCom, or the fake WeCom, which
//! serves its images on its own address). Anything else is refused unsent: the URL comes from
//! an answer, and the server must not be made to fetch arbitrary addresses. The answer must
//! be a PNG or a JPEG (read from its first bytes) of at most [`MAX_QR_IMAGE_BYTES`].
//!
//! [`ClientConfig::api_base`]: super::ClientConfig::api_base

use super::{WecomClient, WecomError, new_trace_id};

/// The largest QR image accepted (WeCom's are tens of KB).
pub const MAX_QR_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// Used as the `path` of errors about a download.
const PATH: &str = "qr_code";

/// A downloaded image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrImage {
    /// `image/png` or `image/jpeg`, from the bytes.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The format of an image from its first bytes: PNG or JPEG, else `None`.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// `scheme://host:port` of a URL (the port spelled out), for comparing origins.
fn origin(u: &reqwest::Url) -> Option<String> {
    Some(format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str()?,
        u.port_or_known_default()?
    ))
}

impl WecomClient {
    /// Whether Yutang may download `url` as a QR image (see the module doc).
    pub fn may_download(&self, url: &str) -> bool {
        let Ok(u) = reqwest::Url::parse(url) else {
            return false;
        };
        let qpic = u.scheme() == "https"
            && u.host_str()
                .is_some_and(|h| h == "qpic.cn" || h.ends_with(".qpic.cn"));
        let api = reqwest::Url::parse(&self.inner.api_base)
            .ok()
            .and_then(|b| origin(&b));
        qpic || (api.is_some() && api == origin(&u))
    }

    /// Download the QR image at `url` (a contact way's `qr_code`).
    pub async fn download_qr_image(&self, url: &str) -> Result<QrImage, WecomError> {
        if !self.may_download(url) {
            return Err(WecomError::InvalidRequest {
                path: PATH,
                field: "qr_code",
                reason: "is neither on WeCom's image host (*.qpic.cn) nor on the API's address"
                    .to_owned(),
            });
        }
        let trace_id = new_trace_id();
        let http = |source| WecomError::Http {
            path: PATH.to_owned(),
            trace_id: trace_id.clone(),
            source,
        };
        let decode = |message: String| WecomError::Decode {
            path: PATH.to_owned(),
            message,
            trace_id: trace_id.clone(),
        };
        let started = std::time::Instant::now();
        let mut res = self.inner.http.get(url).send().await.map_err(http)?;
        let status = res.status().as_u16();
        if status != 200 {
            tracing::warn!(target: "yutang_wecom::client", status, trace_id = %trace_id, "QR image download failed");
            return Err(WecomError::Status {
                path: PATH.to_owned(),
                status,
                trace_id: trace_id.clone(),
            });
        }
        if res
            .content_length()
            .is_some_and(|n| n > MAX_QR_IMAGE_BYTES as u64)
        {
            return Err(decode(format!("larger than {MAX_QR_IMAGE_BYTES} bytes")));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(http)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_QR_IMAGE_BYTES {
                return Err(decode(format!("larger than {MAX_QR_IMAGE_BYTES} bytes")));
            }
        }
        let content_type =
            sniff_image(&bytes).ok_or_else(|| decode("not a PNG or JPEG image".to_owned()))?;
        tracing::info!(
            target: "yutang_wecom::client",
            bytes = bytes.len(),
            content_type,
            ms = started.elapsed().as_millis() as u64,
            trace_id = %trace_id,
            "QR image downloaded"
        );
        Ok(QrImage {
            content_type,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::ClientConfig;
    use super::*;

    #[test]
    fn only_wecoms_image_host_and_the_api_origin_are_downloaded() {
        let c =
            WecomClient::new(ClientConfig::new("ww1", "s").with_api_base("http://127.0.0.1:4010"))
                .unwrap();
        assert!(c.may_download("https://wework.qpic.cn/wwpic/abc/0"));
        assert!(c.may_download("https://p.qpic.cn/x"));
        assert!(c.may_download("http://127.0.0.1:4010/wwpic/fake/cw1/0"));
        assert!(!c.may_download("http://wework.qpic.cn/wwpic/abc/0"));
        assert!(!c.may_download("https://qpic.cn.example.com/x"));
        assert!(!c.may_download("https://evilqpic.cn/x"));
        assert!(!c.may_download("http://127.0.0.1:4011/wwpic/x"));
        assert!(!c.may_download("http://169.254.169.254/latest"));
        assert!(!c.may_download("not a url"));
        let official = WecomClient::new(ClientConfig::new("ww1", "s")).unwrap();
        assert!(official.may_download("https://qyapi.weixin.qq.com/x"));
        assert!(!official.may_download("http://127.0.0.1:4010/wwpic/fake/cw1/0"));
    }

    #[test]
    fn images_are_known_by_their_first_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"<html>"), None);
        assert_eq!(sniff_image(b""), None);
    }
}
