//! Checks the crate against independently generated vectors (see
//! `tests/vectors/gen_vectors.py` and the crate README for how they were made).

use yutang_wecom::{AesKey, CallbackCrypto, CallbackEvent, EventKind, msg_signature};

/// One positive vector: a message encrypted with a known random prefix.
pub struct Vector {
    pub name: &'static str,
    pub token: &'static str,
    pub encoding_aes_key: &'static str,
    pub receive_id: &'static str,
    pub random_hex: &'static str,
    pub msg: &'static str,
    pub timestamp: &'static str,
    pub nonce: &'static str,
    /// base64 ciphertext (`Encrypt` / `echostr`).
    pub encrypt: &'static str,
    pub msg_signature: &'static str,
    /// The expected output of `encrypt_with_random`.
    pub envelope: &'static str,
    /// A callback POST body carrying `encrypt`.
    pub post_body: &'static str,
}

/// One negative vector: correctly signed, broken payload.
pub struct NegativeVector {
    pub name: &'static str,
    pub token: &'static str,
    pub encoding_aes_key: &'static str,
    pub receive_id: &'static str,
    pub timestamp: &'static str,
    pub nonce: &'static str,
    pub encrypt: &'static str,
    pub msg_signature: &'static str,
    pub expected_code: i32,
}

include!("../vectors/wecom_vectors.rs");

fn crypto(token: &str, key: &str, receive_id: &str) -> CallbackCrypto {
    CallbackCrypto::from_encoding_aes_key(token, key, receive_id).unwrap()
}

fn random(v: &Vector) -> [u8; 16] {
    hex::decode(v.random_hex).unwrap().try_into().unwrap()
}

#[test]
fn there_are_vectors() {
    assert!(VECTORS.len() >= 5);
    assert!(NEGATIVE_VECTORS.len() >= 10);
    assert_eq!(VECTORS[0].name, "wecom_documentation_echostr");
}

#[test]
fn signatures_match() {
    for v in VECTORS {
        assert_eq!(
            msg_signature(v.token, v.timestamp, v.nonce, v.encrypt),
            v.msg_signature,
            "{}",
            v.name
        );
        let c = crypto(v.token, v.encoding_aes_key, v.receive_id);
        assert_eq!(
            c.signature(v.timestamp, v.nonce, v.encrypt),
            v.msg_signature
        );
        c.verify_signature(v.msg_signature, v.timestamp, v.nonce, v.encrypt)
            .unwrap();
    }
}

#[test]
fn verify_url_returns_the_known_plaintext() {
    for v in VECTORS {
        let c = crypto(v.token, v.encoding_aes_key, v.receive_id);
        assert_eq!(
            c.verify_url(v.msg_signature, v.timestamp, v.nonce, v.encrypt)
                .unwrap(),
            v.msg,
            "{}",
            v.name
        );
    }
}

#[test]
fn decrypt_message_of_known_post_bodies() {
    for v in VECTORS {
        let c = crypto(v.token, v.encoding_aes_key, v.receive_id);
        assert_eq!(
            c.decrypt_message(v.msg_signature, v.timestamp, v.nonce, v.post_body)
                .unwrap(),
            v.msg,
            "{}",
            v.name
        );
        // The reply envelope carries the same Encrypt, so it decrypts the same way.
        assert_eq!(
            c.decrypt_message(v.msg_signature, v.timestamp, v.nonce, v.envelope)
                .unwrap(),
            v.msg
        );
    }
}

#[test]
fn encrypt_with_fixed_random_reproduces_the_vectors() {
    for v in VECTORS {
        let c = crypto(v.token, v.encoding_aes_key, v.receive_id);
        assert_eq!(
            c.encrypt_payload(random(v), v.msg).unwrap(),
            v.encrypt,
            "{}",
            v.name
        );
        assert_eq!(
            c.encrypt_with_random(random(v), v.msg, v.timestamp, v.nonce)
                .unwrap(),
            v.envelope,
            "{}",
            v.name
        );
    }
}

#[test]
fn keys_parse_to_32_bytes() {
    for v in VECTORS {
        let key = AesKey::parse(v.encoding_aes_key).unwrap();
        assert_eq!(key.as_bytes().len(), 32);
    }
}

#[test]
fn decrypted_events_parse() {
    let events: Vec<_> = VECTORS
        .iter()
        .filter(|v| v.msg.contains("<Event>"))
        .map(|v| (v, CallbackEvent::parse(v.msg).unwrap()))
        .collect();
    assert!(events.len() >= 2);
    for (v, event) in events {
        assert_eq!(event.corp_id, v.receive_id);
        assert!(
            !matches!(event.kind, EventKind::Unknown { .. }),
            "{}",
            v.name
        );
    }
}

#[test]
fn negative_vectors_fail_with_the_official_codes() {
    for v in NEGATIVE_VECTORS {
        let c = crypto(v.token, v.encoding_aes_key, v.receive_id);
        let err = c
            .verify_url(v.msg_signature, v.timestamp, v.nonce, v.encrypt)
            .unwrap_err();
        assert_eq!(err.code(), v.expected_code, "{}: {err}", v.name);
    }
}
