//! WeCom's URL verification, sent the way WeCom sends it, for a setup checker: is the public
//! callback URL an operator pasted into WeCom really answered by this server, in time and
//! with the bare plaintext?
//!
//! [`verification_url`] builds the request (pure): a fresh `echostr` plaintext encrypted and
//! signed with the app's Token, EncodingAESKey and corp id exactly as WeCom does (91144:
//! `msg_signature`, `timestamp`, `nonce`, `echostr`, URL-encoded). [`probe`] sends it (the
//! only I/O here) and reports what came back without judging it: the status, the first bytes
//! of the body and the time, or which kind of transport failure happened. Telling the operator
//! what that means is the caller's job.

use std::time::{Duration, Instant};

use rand::{Rng, RngCore};

use crate::crypto::{CallbackCrypto, CryptoError, RANDOM_PREFIX_LEN};

/// How much of an answer's body is kept (the expected plaintext is about 20 bytes; a page
/// that comes back instead only needs its start to be recognised).
pub const MAX_BODY_BYTES: usize = 4096;

/// A verification request: where to send it and the plaintext a correct server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRequest {
    /// The public URL with `msg_signature`, `timestamp`, `nonce` and `echostr` added.
    pub url: String,
    /// The plaintext inside `echostr`: the whole body a correct server answers with.
    pub echo: String,
}

/// Why the URL given to [`verification_url`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("not an http(s) URL: {0}")]
    Url(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// A random decimal string like the ones WeCom puts in `echostr` (e.g. `1616140317555161061`).
pub fn random_echo() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{}",
        rng.gen_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000u64)
    )
}

/// The verification GET for `public_url`, signed and encrypted with `crypto`, carrying `echo`
/// (see [`random_echo`]) at `timestamp` (Unix seconds, as text) with `nonce`. Parameters
/// already in the URL are kept.
pub fn verification_url(
    public_url: &str,
    crypto: &CallbackCrypto,
    echo: &str,
    timestamp: &str,
    nonce: &str,
) -> Result<VerificationRequest, RequestError> {
    let mut url =
        reqwest::Url::parse(public_url.trim()).map_err(|e| RequestError::Url(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(RequestError::Url(public_url.to_owned()));
    }
    let mut random = [0u8; RANDOM_PREFIX_LEN];
    rand::thread_rng().fill_bytes(&mut random);
    let echostr = crypto.encrypt_payload(random, echo)?;
    let signature = crypto.signature(timestamp, nonce, &echostr);
    url.query_pairs_mut()
        .append_pair("msg_signature", &signature)
        .append_pair("timestamp", timestamp)
        .append_pair("nonce", nonce)
        .append_pair("echostr", &echostr);
    Ok(VerificationRequest {
        url: url.into(),
        echo: echo.to_owned(),
    })
}

/// Which part of the exchange failed before an answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The host name does not resolve.
    Dns,
    /// The connection was refused, reset or the network is unreachable.
    Connect,
    /// The TLS handshake failed (certificate not trusted, wrong name, expired …).
    Tls,
    /// No complete answer within the time allowed.
    Timeout,
    /// Anything else (the connection closed mid-answer, a malformed answer …).
    Other,
}

/// What sending a verification request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeAnswer {
    /// An HTTP answer arrived in full.
    Answered {
        status: u16,
        /// The `Location` header of a redirect.
        location: Option<String>,
        /// The first [`MAX_BODY_BYTES`] of the body, as sent (a BOM or newline included).
        body: Vec<u8>,
        elapsed_ms: u64,
    },
    /// No (complete) answer.
    Failed {
        kind: TransportFailure,
        /// The transport error, for the operator's log.
        detail: String,
        elapsed_ms: u64,
    },
}

/// Sends `request` (a plain GET, redirects not followed, as WeCom does not follow them either
/// as far as anyone has reported) and waits at most `timeout` for the whole answer.
pub async fn probe(request: &VerificationRequest, timeout: Duration) -> ProbeAnswer {
    let started = Instant::now();
    let elapsed =
        |started: Instant| u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let client = match reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return ProbeAnswer::Failed {
                kind: TransportFailure::Other,
                detail: e.to_string(),
                elapsed_ms: 0,
            };
        }
    };
    let exchange = async {
        let mut response = client.get(&request.url).send().await?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = MAX_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_BODY_BYTES {
                break;
            }
        }
        Ok::<_, reqwest::Error>((status, location, body))
    };
    // The client's own timeout covers the body too; this one is a backstop.
    match tokio::time::timeout(timeout + Duration::from_millis(200), exchange).await {
        Ok(Ok((status, location, body))) => ProbeAnswer::Answered {
            status,
            location,
            body,
            elapsed_ms: elapsed(started),
        },
        Ok(Err(e)) => ProbeAnswer::Failed {
            kind: classify(&e),
            detail: chain(&e.without_url()),
            elapsed_ms: elapsed(started),
        },
        Err(_) => ProbeAnswer::Failed {
            kind: TransportFailure::Timeout,
            detail: format!("no answer within {} ms", timeout.as_millis()),
            elapsed_ms: elapsed(started),
        },
    }
}

/// An error with its causes, `a: b: c`.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn classify(e: &reqwest::Error) -> TransportFailure {
    if e.is_timeout() {
        return TransportFailure::Timeout;
    }
    // The causes only: reqwest's own message carries the URL, whose random `echostr` can
    // spell "tls" or "ssl" and would misname a refused connection.
    let mut text = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&s.to_string().to_ascii_lowercase());
        text.push('\n');
        source = s.source();
    }
    if text.contains("dns error") || text.contains("failed to lookup address") {
        TransportFailure::Dns
    } else if ["certificate", "tls", "handshake", "ssl"]
        .iter()
        .any(|w| text.contains(w))
    {
        TransportFailure::Tls
    } else if e.is_connect() {
        TransportFailure::Connect
    } else {
        TransportFailure::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AesKey;

    fn crypto() -> CallbackCrypto {
        CallbackCrypto::new("QDG6eK", AesKey::generate(), "ww5823bf96d3bd56c7")
    }

    #[test]
    fn the_request_verifies_like_wecom_s() {
        let c = crypto();
        let echo = random_echo();
        assert_eq!(echo.len(), 19);
        let r = verification_url(
            "https://scrm.example.com/wecom/callback?corp=1",
            &c,
            &echo,
            "1409659589",
            "263014780",
        )
        .unwrap();
        let url = reqwest::Url::parse(&r.url).unwrap();
        assert_eq!(url.path(), "/wecom/callback");
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["corp"], "1");
        // The receiver sees the decoded values: a `+` in echostr survives the encoding.
        let plain = c
            .verify_url(
                &q["msg_signature"],
                &q["timestamp"],
                &q["nonce"],
                &q["echostr"],
            )
            .unwrap();
        assert_eq!(plain, echo);
        assert_eq!(r.echo, echo);
        // Another Token refuses it.
        let other = CallbackCrypto::new("other", AesKey::generate(), "ww5823bf96d3bd56c7");
        assert!(
            other
                .verify_url(
                    &q["msg_signature"],
                    &q["timestamp"],
                    &q["nonce"],
                    &q["echostr"]
                )
                .is_err()
        );
    }

    #[test]
    fn only_http_urls() {
        let c = crypto();
        for bad in ["ftp://x/y", "not a url", "/wecom/callback", "mailto:a@b.c"] {
            assert!(
                matches!(
                    verification_url(bad, &c, "1", "1", "1"),
                    Err(RequestError::Url(_))
                ),
                "{bad}"
            );
        }
    }

    /// A request to `/wecom/callback` on a local port.
    fn local_request(port: u16) -> VerificationRequest {
        verification_url(
            &format!("http://127.0.0.1:{port}/wecom/callback"),
            &crypto(),
            "1",
            "1",
            "1",
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_failure() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let r = local_request(port);
        match probe(&r, Duration::from_secs(1)).await {
            ProbeAnswer::Failed { kind, .. } => assert_eq!(kind, TransportFailure::Connect),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_silent_server_is_a_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accept and never answer.
        let held = tokio::spawn(async move {
            let mut kept = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                kept.push(s);
            }
        });
        let r = local_request(port);
        match probe(&r, Duration::from_millis(300)).await {
            ProbeAnswer::Failed {
                kind, elapsed_ms, ..
            } => {
                assert_eq!(kind, TransportFailure::Timeout);
                assert!(elapsed_ms >= 300, "{elapsed_ms}");
            }
            other => panic!("{other:?}"),
        }
        held.abort();
    }
}
