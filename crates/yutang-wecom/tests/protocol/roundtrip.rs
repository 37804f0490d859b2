//! Property tests of the public crypto API.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use yutang_wecom::{AesKey, CallbackCrypto, CallbackEvent, CryptoError, Envelope};

fn any_crypto() -> impl Strategy<Value = CallbackCrypto> {
    (
        "[A-Za-z0-9]{1,32}",
        any::<[u8; 32]>(),
        prop_oneof![
            Just(String::new()),
            "ww[0-9a-f]{16}",
            // Corp ids are ASCII in practice; arbitrary text checks nothing depends on it.
            ".{0,40}",
        ],
    )
        .prop_map(|(token, key, corp)| CallbackCrypto::new(token, AesKey::from_bytes(key), corp))
}

/// Encrypts `msg` into a fresh envelope and returns its `Encrypt` text and signature.
fn sealed(crypto: &CallbackCrypto, msg: &str, timestamp: &str, nonce: &str) -> (String, String) {
    let reply = crypto.encrypt_message(msg, timestamp, nonce).unwrap();
    let env = Envelope::parse(&reply).unwrap();
    (env.encrypt, env.msg_signature.unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn encrypt_then_decrypt_round_trips(
        crypto in any_crypto(),
        msg in prop_oneof![".{0,300}", "\\PC{0,40}", Just(String::new())],
        timestamp in "[0-9]{1,12}",
        nonce in "[0-9A-Za-z]{0,16}",
    ) {
        let reply = crypto.encrypt_message(&msg, &timestamp, &nonce).unwrap();
        let env = Envelope::parse(&reply).unwrap();
        prop_assert_eq!(env.timestamp.as_deref(), Some(timestamp.as_str()));
        prop_assert_eq!(env.nonce.as_deref(), Some(nonce.as_str()));
        let sig = env.msg_signature.unwrap();
        prop_assert_eq!(sig.clone(), crypto.signature(&timestamp, &nonce, &env.encrypt));
        // The reply envelope and a callback POST body carrying the same Encrypt both decrypt.
        prop_assert_eq!(crypto.decrypt_message(&sig, &timestamp, &nonce, &reply).unwrap(), msg.clone());
        let post = format!(
            "<xml><ToUserName><![CDATA[{}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID>1</AgentID></xml>",
            "corp", env.encrypt
        );
        prop_assert_eq!(crypto.decrypt_message(&sig, &timestamp, &nonce, &post).unwrap(), msg.clone());
        prop_assert_eq!(crypto.verify_url(&sig, &timestamp, &nonce, &env.encrypt).unwrap(), msg);
    }

    #[test]
    fn same_message_encrypts_differently_each_time(crypto in any_crypto(), msg in ".{0,50}") {
        let (a, _) = sealed(&crypto, &msg, "1", "n");
        let (b, _) = sealed(&crypto, &msg, "1", "n");
        prop_assert_ne!(a, b);
    }

    /// Changing any one byte of the ciphertext without re-signing is always refused.
    #[test]
    fn tampered_ciphertext_is_rejected(
        crypto in any_crypto(),
        msg in ".{0,120}",
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let (encrypt, sig) = sealed(&crypto, &msg, "1700000000", "nonce");
        let mut bytes = STANDARD.decode(&encrypt).unwrap();
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        let tampered = STANDARD.encode(&bytes);
        let err = crypto.verify_url(&sig, "1700000000", "nonce", &tampered).unwrap_err();
        prop_assert_eq!(err, CryptoError::SignatureMismatch);
    }

    /// Changing any one character of the base64 text itself is refused too.
    #[test]
    fn tampered_encrypt_text_is_rejected(
        crypto in any_crypto(),
        msg in ".{0,60}",
        index in any::<prop::sample::Index>(),
        replacement in prop::char::range('!', '~'),
    ) {
        let (encrypt, sig) = sealed(&crypto, &msg, "1", "2");
        let i = index.index(encrypt.len());
        prop_assume!(encrypt.as_bytes()[i] != replacement as u8);
        let mut tampered = encrypt.into_bytes();
        tampered[i] = replacement as u8;
        let tampered = String::from_utf8(tampered).unwrap();
        prop_assert!(crypto.verify_url(&sig, "1", "2", &tampered).is_err());
    }

    /// Changing any one byte of the signature is refused.
    #[test]
    fn tampered_signature_is_rejected(
        crypto in any_crypto(),
        msg in ".{0,60}",
        index in 0usize..40,
        replacement in prop::sample::select(b"0123456789abcdefABCDEFxz-".to_vec()),
    ) {
        let (encrypt, sig) = sealed(&crypto, &msg, "1", "2");
        let mut bad = sig.clone().into_bytes();
        prop_assume!(!bad[index].eq_ignore_ascii_case(&replacement));
        bad[index] = replacement;
        let bad = String::from_utf8(bad).unwrap();
        prop_assert_eq!(
            crypto.verify_url(&bad, "1", "2", &encrypt).unwrap_err(),
            CryptoError::SignatureMismatch
        );
    }

    /// CBC itself is malleable: someone who knows the Token can re-sign a tampered
    /// ciphertext. Then decryption must still never panic, and never yield the original
    /// message unchanged.
    #[test]
    fn resigned_tampering_never_panics(
        crypto in any_crypto(),
        msg in ".{0,120}",
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let (encrypt, _) = sealed(&crypto, &msg, "1", "2");
        let mut bytes = STANDARD.decode(&encrypt).unwrap();
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        let tampered = STANDARD.encode(&bytes);
        let sig = crypto.signature("1", "2", &tampered);
        if let Ok(decrypted) = crypto.verify_url(&sig, "1", "2", &tampered) {
            prop_assert_ne!(decrypted, msg);
        }
    }

    /// The wrong key never yields the message; the wrong corp id is always -40005.
    #[test]
    fn wrong_key_or_corp_is_rejected(
        token in "[A-Za-z0-9]{1,32}",
        key in any::<[u8; 32]>(),
        other_key in any::<[u8; 32]>(),
        corp in "ww[0-9a-f]{16}",
        msg in ".{0,60}",
    ) {
        prop_assume!(key != other_key);
        let crypto = CallbackCrypto::new(token.clone(), AesKey::from_bytes(key), corp.clone());
        let (encrypt, sig) = sealed(&crypto, &msg, "1", "2");

        let wrong_key = CallbackCrypto::new(token.clone(), AesKey::from_bytes(other_key), corp.clone());
        let result = wrong_key.verify_url(&sig, "1", "2", &encrypt);
        prop_assert!(result.as_deref() != Ok(msg.as_str()));

        let wrong_corp = CallbackCrypto::new(token, AesKey::from_bytes(key), format!("{corp}x"));
        let err = wrong_corp.verify_url(&sig, "1", "2", &encrypt).unwrap_err();
        prop_assert_eq!(err.code(), -40005);
    }

    /// Garbage anywhere in the decrypt path never panics.
    #[test]
    fn random_input_never_panics(
        crypto in any_crypto(),
        sig in ".{0,45}",
        timestamp in ".{0,12}",
        nonce in ".{0,12}",
        body in prop_oneof![
            ".{0,400}",
            "<xml><Encrypt>[A-Za-z0-9+/=]{0,200}</Encrypt></xml>",
            "<xml><Encrypt><!\\[CDATA\\[.{0,100}\\]\\]></Encrypt><ToUserName>.{0,10}</ToUserName></xml>",
        ],
        bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let _ = crypto.decrypt_message(&sig, &timestamp, &nonce, &body);
        let _ = crypto.verify_url(&sig, &timestamp, &nonce, &body);
        let _ = crypto.decrypt_unverified(&body);
        let as_b64 = STANDARD.encode(&bytes);
        let _ = crypto.decrypt_unverified(&as_b64);
        let signed = crypto.signature(&timestamp, &nonce, &as_b64);
        let _ = crypto.verify_url(&signed, &timestamp, &nonce, &as_b64);
        let _ = Envelope::parse(&body);
        let _ = CallbackEvent::parse(&body);
        let lossy = String::from_utf8_lossy(&bytes);
        let _ = Envelope::parse(&lossy);
        let _ = CallbackEvent::parse(&lossy);
    }
}

#[test]
fn huge_inputs_do_not_panic() {
    let crypto = CallbackCrypto::new("t", AesKey::from_bytes([3u8; 32]), "ww1");
    let big_msg = "<xml>".to_owned() + &"a".repeat(2 * 1024 * 1024) + "</xml>";
    let (encrypt, sig) = sealed(&crypto, &big_msg, "1", "2");
    assert_eq!(
        crypto.verify_url(&sig, "1", "2", &encrypt).unwrap(),
        big_msg
    );

    let garbage = "A".repeat(3 * 1024 * 1024 + 1);
    assert!(crypto.decrypt_unverified(&garbage).is_err());
    let deep = "<a>".repeat(100_000) + &"</a>".repeat(100_000);
    assert!(CallbackEvent::parse(&deep).is_err());
    assert!(Envelope::parse(&deep).is_err());
}
