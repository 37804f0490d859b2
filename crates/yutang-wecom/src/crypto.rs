//! WeCom callback crypto ("加解密方案说明", developer.work.weixin.qq.com document paths 91144
//! and 96466).
//!
//! Every callback WeCom sends to an app is signed and encrypted, and every reply (or, for the
//! fake WeCom in our tests, every push) must be too. The scheme, as documented:
//!
//! - The app is configured with a `Token`, a 43-character `EncodingAESKey` and a receive id (the
//!   corp id for a self-built app; the suite id for third-party suite callbacks; empty for a
//!   personal third-party app).
//! - `AESKey = Base64_Decode(EncodingAESKey + "=")`, 32 bytes. AES-256-CBC with
//!   `IV = AESKey[..16]`, PKCS#7 padding to a multiple of **32** bytes (not AES's 16).
//! - Plaintext: `random(16) ‖ msg_len (u32, big-endian) ‖ msg ‖ receive_id`; the ciphertext is
//!   sent base64-encoded.
//! - `msg_signature = hex(SHA1(concat(sort([token, timestamp, nonce, encrypt]))))`.
//!
//! CBC has no integrity of its own: the signature is what authenticates a message, so every
//! entry point here checks it (in constant time) before touching the ciphertext. Nothing in this
//! module panics on any input; every failure is a [`CryptoError`] whose [`CryptoError::code`] is
//! the matching error code of WeCom's official sample libraries, so logs and the setup checker
//! can speak the same language as WeCom's own documentation.
//!
//! Not checked here: the freshness of `timestamp` (replay protection belongs to the caller,
//! which owns the clock and the dedup store) and request size limits (the HTTP layer's job).

use std::fmt;
use std::str::FromStr;

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rand::RngCore as _;
use sha1::{Digest, Sha1};

use crate::xml::Document;

/// Length of an `EncodingAESKey` as shown in the WeCom admin console.
pub const ENCODING_AES_KEY_LEN: usize = 43;
/// Length of the decoded AES-256 key.
pub const AES_KEY_LEN: usize = 32;
/// Length of the random prefix of every plaintext.
pub const RANDOM_PREFIX_LEN: usize = 16;
/// WeCom pads to a multiple of 32 bytes, so valid PKCS#7 pad values are `1..=32`.
pub const PAD_BLOCK_LEN: usize = 32;
/// AES block length: every ciphertext is a whole number of these.
const AES_BLOCK_LEN: usize = 16;
/// Length of the big-endian message length that follows the random prefix.
const MSG_LEN_LEN: usize = 4;
/// How much of a foreign receive id an error message repeats.
const ERROR_EXCERPT_CHARS: usize = 64;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Base64 as WeCom's own decoders read it: padding optional, and non-zero trailing bits
/// accepted. The second matters: a 43-character `EncodingAESKey` plus `"="` leaves two spare
/// bits in its last character, and keys the console generates (including the one in WeCom's
/// documentation, `jWmY…B2C`) often have them set, which a strict decoder refuses.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a callback could not be verified, decrypted or encrypted.
///
/// Each variant maps to the error code of WeCom's official sample libraries (see
/// [`CryptoError::code`]) and to a stable snake_case name ([`CryptoError::slug`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// `msg_signature` does not match: wrong Token, or the parameters were altered on the way
    /// (a proxy rewriting the query, `+` in `echostr` decoded as a space, …). Code -40001.
    #[error(
        "msg_signature does not match (check the Token, and that timestamp, nonce and the \
         encrypted text reached us unmodified)"
    )]
    SignatureMismatch,
    /// The callback body is not the expected XML envelope. Code -40002.
    #[error("callback XML could not be parsed: {0}")]
    ParseXml(String),
    /// The `EncodingAESKey` is not 43 base64 characters decoding to 32 bytes. Code -40004.
    #[error("EncodingAESKey is invalid: {0}")]
    InvalidAesKey(String),
    /// The plaintext ends with another receive id (corp id): the message is for someone else,
    /// or the app is configured with the wrong corp id. Code -40005.
    #[error("receive id mismatch: configured {expected:?}, message carries {found:?}")]
    ReceiveIdMismatch {
        /// The receive id this crypto was configured with.
        expected: String,
        /// The receive id found in the message (lossily decoded, shortened).
        found: String,
    },
    /// The message could not be encrypted (longer than the 4-byte length field allows).
    /// Code -40006.
    #[error("message could not be encrypted: {0}")]
    Encrypt(&'static str),
    /// AES decryption failed: the ciphertext is empty or not whole blocks, or the PKCS#7
    /// padding is invalid (wrong EncodingAESKey, or damaged data). Code -40007.
    #[error("AES decryption failed: {0}")]
    Decrypt(&'static str),
    /// The decrypted buffer does not have the documented layout, or the message is not UTF-8.
    /// Code -40008.
    #[error("decrypted buffer is malformed: {0}")]
    IllegalBuffer(&'static str),
    /// The encrypted text is not valid base64. Code -40010.
    #[error("encrypted text is not valid base64: {0}")]
    Base64(String),
}

impl CryptoError {
    /// The error code WeCom's official sample libraries use for this failure.
    pub fn code(&self) -> i32 {
        match self {
            Self::SignatureMismatch => -40001,
            Self::ParseXml(_) => -40002,
            Self::InvalidAesKey(_) => -40004,
            Self::ReceiveIdMismatch { .. } => -40005,
            Self::Encrypt(_) => -40006,
            Self::Decrypt(_) => -40007,
            Self::IllegalBuffer(_) => -40008,
            Self::Base64(_) => -40010,
        }
    }

    /// A stable snake_case name for logs, metrics and the console's translations.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::SignatureMismatch => "wecom_signature_mismatch",
            Self::ParseXml(_) => "wecom_xml_parse_error",
            Self::InvalidAesKey(_) => "wecom_invalid_aes_key",
            Self::ReceiveIdMismatch { .. } => "wecom_receive_id_mismatch",
            Self::Encrypt(_) => "wecom_encrypt_error",
            Self::Decrypt(_) => "wecom_decrypt_error",
            Self::IllegalBuffer(_) => "wecom_illegal_buffer",
            Self::Base64(_) => "wecom_base64_error",
        }
    }
}

/// The 32-byte AES key behind an `EncodingAESKey`.
///
/// Parsed once from configuration, so everything after holds a key that is known to be valid.
/// `Debug` never prints the key.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; AES_KEY_LEN]);

impl AesKey {
    /// Parses the 43-character `EncodingAESKey` from the WeCom console.
    ///
    /// Surrounding whitespace (a common copy-paste accident) is ignored. The documented
    /// alphabet is `a-z A-Z 0-9`; `+` and `/` are accepted too because WeCom's own decoders
    /// are plain base64 decoders.
    pub fn parse(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        let key = encoding_aes_key.trim();
        let chars = key.chars().count();
        if chars != ENCODING_AES_KEY_LEN {
            return Err(CryptoError::InvalidAesKey(format!(
                "must be {ENCODING_AES_KEY_LEN} characters, got {chars}"
            )));
        }
        if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(CryptoError::InvalidAesKey(
                "must contain only the characters a-z, A-Z and 0-9".to_owned(),
            ));
        }
        let mut padded = String::with_capacity(ENCODING_AES_KEY_LEN + 1);
        padded.push_str(key);
        padded.push('=');
        let bytes = LENIENT_BASE64
            .decode(padded)
            .map_err(|e| CryptoError::InvalidAesKey(format!("not base64: {e}")))?;
        let bytes: [u8; AES_KEY_LEN] = bytes.try_into().map_err(|_| {
            CryptoError::InvalidAesKey(format!("does not decode to {AES_KEY_LEN} bytes"))
        })?;
        Ok(Self(bytes))
    }

    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; AES_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A fresh random key, for fakes and tests (a real key comes from the WeCom console).
    pub fn generate() -> Self {
        let mut bytes = [0u8; AES_KEY_LEN];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; AES_KEY_LEN] {
        &self.0
    }

    /// The 43-character `EncodingAESKey` for this key (canonical form: spare bits zero, so a
    /// console key whose last character carries spare bits re-encodes differently but parses
    /// to the same key).
    pub fn to_encoding_aes_key(&self) -> String {
        let mut encoded = STANDARD.encode(self.0);
        // 32 bytes encode to 44 characters ending in exactly one '='.
        encoded.truncate(ENCODING_AES_KEY_LEN);
        encoded
    }

    /// The CBC IV: the first 16 bytes of the key, as the scheme prescribes.
    fn iv(&self) -> [u8; AES_BLOCK_LEN] {
        let mut iv = [0u8; AES_BLOCK_LEN];
        iv.copy_from_slice(&self.0[..AES_BLOCK_LEN]);
        iv
    }
}

impl FromStr for AesKey {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(<redacted>)")
    }
}

/// `msg_signature`: the hex SHA-1 of the four values sorted (byte order) and concatenated.
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    let mut parts = [token, timestamp, nonce, encrypt];
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Compares two byte strings in time that depends only on their lengths, so a forger cannot
/// learn a valid signature byte by byte from response timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The fields of a callback or reply envelope.
///
/// A callback POST body is `<xml><ToUserName/><Encrypt/><AgentID/></xml>`; a reply (and what
/// our fake WeCom pushes) is `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`. One
/// reader serves both: only `Encrypt` is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `ToUserName`: the corp id (suite id for suite callbacks). Not authenticated: the
    /// receive id inside the ciphertext is what counts.
    pub to_user_name: Option<String>,
    /// `AgentID`: the app the callback is for, when WeCom sends it.
    pub agent_id: Option<String>,
    /// `Encrypt`: the base64 ciphertext, exactly as received.
    pub encrypt: String,
    /// `MsgSignature` (reply envelopes only).
    pub msg_signature: Option<String>,
    /// `TimeStamp` (reply envelopes only).
    pub timestamp: Option<String>,
    /// `Nonce` (reply envelopes only).
    pub nonce: Option<String>,
}

impl Envelope {
    /// Reads an envelope. Malformed XML or a missing `<Encrypt>` is [`CryptoError::ParseXml`].
    pub fn parse(xml: &str) -> Result<Self, CryptoError> {
        let doc = Document::parse(xml).map_err(|e| CryptoError::ParseXml(e.to_string()))?;
        let encrypt = doc
            .field("Encrypt")
            .ok_or_else(|| CryptoError::ParseXml("no <Encrypt> element".to_owned()))?
            .to_owned();
        let opt = |name: &str| doc.field(name).map(str::to_owned);
        Ok(Self {
            to_user_name: opt("ToUserName"),
            agent_id: opt("AgentID"),
            encrypt,
            msg_signature: opt("MsgSignature"),
            timestamp: opt("TimeStamp"),
            nonce: opt("Nonce"),
        })
    }
}

/// Verifies, decrypts and encrypts the callbacks of one WeCom app.
///
/// `Debug` never prints the token or the key.
#[derive(Clone)]
pub struct CallbackCrypto {
    token: String,
    aes_key: AesKey,
    receive_id: String,
}

impl fmt::Debug for CallbackCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackCrypto")
            .field("token", &"<redacted>")
            .field("aes_key", &self.aes_key)
            .field("receive_id", &self.receive_id)
            .finish()
    }
}

impl CallbackCrypto {
    /// Crypto for an app with this Token, key and receive id (the corp id for a self-built
    /// app).
    pub fn new(token: impl Into<String>, aes_key: AesKey, receive_id: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            aes_key,
            receive_id: receive_id.into(),
        }
    }

    /// Like [`CallbackCrypto::new`], parsing the console's `EncodingAESKey`.
    pub fn from_encoding_aes_key(
        token: impl Into<String>,
        encoding_aes_key: &str,
        receive_id: impl Into<String>,
    ) -> Result<Self, CryptoError> {
        Ok(Self::new(
            token,
            AesKey::parse(encoding_aes_key)?,
            receive_id,
        ))
    }

    /// The receive id messages must carry.
    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// The `msg_signature` this app's Token gives for these values.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        msg_signature(&self.token, timestamp, nonce, encrypt)
    }

    /// Checks `msg_signature` in constant time. Hex case is ignored.
    pub fn verify_signature(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<(), CryptoError> {
        let expected = self.signature(timestamp, nonce, encrypt);
        let given = msg_signature.to_ascii_lowercase();
        if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            Ok(())
        } else {
            Err(CryptoError::SignatureMismatch)
        }
    }

    /// URL verification (the GET WeCom sends when the callback URL is saved): checks the
    /// signature over `echostr`, decrypts it and returns the plaintext, which must be answered
    /// as the bare response body (no quotes, BOM or newline) within about a second.
    ///
    /// `echostr` must already be URL-decoded, and decoded as a query value: a `+` that turned
    /// into a space shows up here as a signature mismatch.
    pub fn verify_url(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        echostr: &str,
    ) -> Result<String, CryptoError> {
        self.verify_signature(msg_signature, timestamp, nonce, echostr)?;
        self.decrypt_unverified(echostr)
    }

    /// Verifies and decrypts a callback POST body (`<xml><ToUserName/><Encrypt/><AgentID/>`)
    /// and returns the inner XML (the event or message).
    pub fn decrypt_message(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        post_body_xml: &str,
    ) -> Result<String, CryptoError> {
        let envelope = Envelope::parse(post_body_xml)?;
        self.verify_signature(msg_signature, timestamp, nonce, &envelope.encrypt)?;
        self.decrypt_unverified(&envelope.encrypt)
    }

    /// Encrypts `plain_xml` with a fresh random prefix and wraps it in the signed envelope
    /// `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`: a passive reply, or a push
    /// from a fake WeCom.
    pub fn encrypt_message(
        &self,
        plain_xml: &str,
        timestamp: &str,
        nonce: &str,
    ) -> Result<String, CryptoError> {
        let mut random = [0u8; RANDOM_PREFIX_LEN];
        rand::thread_rng().fill_bytes(&mut random);
        self.encrypt_with_random(random, plain_xml, timestamp, nonce)
    }

    /// [`CallbackCrypto::encrypt_message`] with a caller-chosen random prefix, so that known
    /// test vectors can be reproduced byte for byte. Outside tests use `encrypt_message`: a
    /// fixed prefix makes equal messages encrypt equally.
    pub fn encrypt_with_random(
        &self,
        random: [u8; RANDOM_PREFIX_LEN],
        plain_xml: &str,
        timestamp: &str,
        nonce: &str,
    ) -> Result<String, CryptoError> {
        let encrypt = self.encrypt_payload(random, plain_xml)?;
        let signature = self.signature(timestamp, nonce, &encrypt);
        Ok(format!(
            "<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>\
             <MsgSignature><![CDATA[{signature}]]></MsgSignature>\
             <TimeStamp>{timestamp}</TimeStamp>\
             <Nonce>{nonce}</Nonce></xml>",
            timestamp = quick_xml::escape::escape(timestamp),
            nonce = cdata_or_escaped(nonce),
        ))
    }

    /// Encrypts `msg` into the base64 text that goes into `<Encrypt>` (or `echostr`), without
    /// an envelope or signature.
    pub fn encrypt_payload(
        &self,
        random: [u8; RANDOM_PREFIX_LEN],
        msg: &str,
    ) -> Result<String, CryptoError> {
        let msg_len = u32::try_from(msg.len())
            .map_err(|_| CryptoError::Encrypt("message longer than 4 GiB"))?;
        let unpadded = RANDOM_PREFIX_LEN + MSG_LEN_LEN + msg.len() + self.receive_id.len();
        let pad = PAD_BLOCK_LEN - unpadded % PAD_BLOCK_LEN;
        let mut buf = Vec::with_capacity(unpadded + pad);
        buf.extend_from_slice(&random);
        buf.extend_from_slice(&msg_len.to_be_bytes());
        buf.extend_from_slice(msg.as_bytes());
        buf.extend_from_slice(self.receive_id.as_bytes());
        // `pad` is in 1..=32, so it fits a byte.
        buf.resize(unpadded + pad, pad as u8);
        let ciphertext = self.encrypt_blocks(&mut buf)?;
        Ok(STANDARD.encode(ciphertext))
    }

    /// Decrypts `<Encrypt>` / `echostr` text and checks the receive id, **without** checking
    /// any signature.
    ///
    /// For diagnostics only (telling a wrong Token from a wrong EncodingAESKey in a setup
    /// checker): CBC is malleable, so the result of this call is not authenticated.
    pub fn decrypt_unverified(&self, encrypt: &str) -> Result<String, CryptoError> {
        let mut ciphertext = LENIENT_BASE64
            .decode(encrypt)
            .map_err(|e| CryptoError::Base64(e.to_string()))?;
        let frame = self.decrypt_blocks(&mut ciphertext)?;
        let (msg, receive_id) = split_frame(frame)?;
        if receive_id != self.receive_id.as_bytes() {
            return Err(CryptoError::ReceiveIdMismatch {
                expected: self.receive_id.clone(),
                found: excerpt(receive_id),
            });
        }
        String::from_utf8(msg.to_vec())
            .map_err(|_| CryptoError::IllegalBuffer("message is not UTF-8"))
    }

    /// AES-256-CBC over an already padded buffer, in place.
    fn encrypt_blocks<'a>(&self, buf: &'a mut [u8]) -> Result<&'a [u8], CryptoError> {
        let len = buf.len();
        Aes256CbcEnc::new(self.aes_key.as_bytes().into(), &self.aes_key.iv().into())
            .encrypt_padded_mut::<NoPadding>(buf, len)
            .map_err(|_| CryptoError::Encrypt("buffer is not a whole number of AES blocks"))
    }

    /// AES-256-CBC decryption in place, then PKCS#7 (block 32) removal.
    fn decrypt_blocks<'a>(&self, buf: &'a mut [u8]) -> Result<&'a [u8], CryptoError> {
        if buf.is_empty() {
            return Err(CryptoError::Decrypt("ciphertext is empty"));
        }
        if !buf.len().is_multiple_of(AES_BLOCK_LEN) {
            return Err(CryptoError::Decrypt(
                "ciphertext is not a whole number of AES blocks",
            ));
        }
        let plain = Aes256CbcDec::new(self.aes_key.as_bytes().into(), &self.aes_key.iv().into())
            .decrypt_padded_mut::<NoPadding>(buf)
            .map_err(|_| CryptoError::Decrypt("ciphertext is not a whole number of AES blocks"))?;
        unpad(plain)
    }
}

/// Removes PKCS#7 padding with WeCom's block of 32: the last byte `n` must be in `1..=32` and
/// the last `n` bytes must all equal `n`.
fn unpad(plain: &[u8]) -> Result<&[u8], CryptoError> {
    let Some(&last) = plain.last() else {
        return Err(CryptoError::Decrypt("plaintext is empty"));
    };
    let pad = usize::from(last);
    if pad == 0 || pad > PAD_BLOCK_LEN || pad > plain.len() {
        return Err(CryptoError::Decrypt(
            "invalid PKCS#7 padding (wrong EncodingAESKey?)",
        ));
    }
    let (body, padding) = plain.split_at(plain.len() - pad);
    if padding.iter().any(|&b| b != last) {
        return Err(CryptoError::Decrypt(
            "invalid PKCS#7 padding (wrong EncodingAESKey?)",
        ));
    }
    Ok(body)
}

/// Splits `random(16) ‖ msg_len ‖ msg ‖ receive_id` into `(msg, receive_id)`.
fn split_frame(body: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    let rest = body
        .get(RANDOM_PREFIX_LEN..)
        .ok_or(CryptoError::IllegalBuffer(
            "shorter than the 16-byte random prefix",
        ))?;
    let (len, rest) = rest
        .split_first_chunk::<MSG_LEN_LEN>()
        .ok_or(CryptoError::IllegalBuffer("no room for the 4-byte length"))?;
    let msg_len = usize::try_from(u32::from_be_bytes(*len))
        .map_err(|_| CryptoError::IllegalBuffer("message length does not fit in memory"))?;
    if msg_len > rest.len() {
        return Err(CryptoError::IllegalBuffer(
            "message length is larger than the decrypted buffer",
        ));
    }
    Ok(rest.split_at(msg_len))
}

/// The start of a foreign value, for an error message.
fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(ERROR_EXCERPT_CHARS)
        .collect()
}

/// The nonce goes in CDATA as in WeCom's samples, unless it would close the section early.
fn cdata_or_escaped(value: &str) -> String {
    if value.contains("]]>") {
        quick_xml::escape::escape(value).into_owned()
    } else {
        format!("<![CDATA[{value}]]>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The worked example of the official documentation and sample code (91144).
    const DOC_TOKEN: &str = "QDG6eK";
    const DOC_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    const DOC_CORP_ID: &str = "wx5823bf96d3bd56c7";
    const DOC_SIGNATURE: &str = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3";
    const DOC_TIMESTAMP: &str = "1409659589";
    const DOC_NONCE: &str = "263014780";
    const DOC_ECHOSTR: &str =
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
    const DOC_ECHO_PLAIN: &str = "1616140317555161061";

    fn doc_crypto() -> CallbackCrypto {
        CallbackCrypto::from_encoding_aes_key(DOC_TOKEN, DOC_KEY, DOC_CORP_ID).unwrap()
    }

    /// Encrypts a raw (already framed and padded) plaintext, bypassing the framing code, so
    /// tests can build every kind of broken frame.
    fn encrypt_raw(crypto: &CallbackCrypto, plain: &[u8]) -> String {
        let mut buf = plain.to_vec();
        let ct = crypto.encrypt_blocks(&mut buf).unwrap().to_vec();
        STANDARD.encode(ct)
    }

    fn frame(msg: &[u8], receive_id: &[u8]) -> Vec<u8> {
        let mut buf = vec![7u8; RANDOM_PREFIX_LEN];
        buf.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(receive_id);
        buf
    }

    fn pad32(mut buf: Vec<u8>) -> Vec<u8> {
        let pad = PAD_BLOCK_LEN - buf.len() % PAD_BLOCK_LEN;
        buf.resize(buf.len() + pad, pad as u8);
        buf
    }

    #[test]
    fn parses_the_documented_key() {
        let key = AesKey::parse(DOC_KEY).unwrap();
        assert_eq!(key.as_bytes().len(), AES_KEY_LEN);
        assert_eq!(key.iv(), key.as_bytes()[..16]);
        // Spare bits in the last character are ignored, so re-encoding canonicalises it.
        assert_eq!(AesKey::parse(&key.to_encoding_aes_key()).unwrap(), key);
        assert_eq!(format!(" {DOC_KEY}\n").parse::<AesKey>().unwrap(), key);
    }

    #[test]
    fn refuses_bad_keys() {
        for bad in [
            "",
            &DOC_KEY[..42],
            &format!("{DOC_KEY}A"),
            &format!("{}=", &DOC_KEY[..42]),
            &format!("{}-", &DOC_KEY[..42]),
            &format!("{}é", &DOC_KEY[..41]),
            "中文中文中文中文中文中文中文中文中文中文中文中文中文中文中文中文中文中文中文中文中文中文中",
        ] {
            let err = AesKey::parse(bad).unwrap_err();
            assert_eq!(err.code(), -40004, "{bad:?}");
        }
    }

    #[test]
    fn generated_keys_round_trip_through_the_console_form() {
        for _ in 0..16 {
            let key = AesKey::generate();
            let text = key.to_encoding_aes_key();
            assert_eq!(text.len(), ENCODING_AES_KEY_LEN);
            assert_eq!(AesKey::parse(&text).unwrap(), key);
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let crypto = doc_crypto();
        let shown = format!("{crypto:?}");
        assert!(!shown.contains(DOC_TOKEN));
        assert!(!shown.contains(DOC_KEY));
        assert!(shown.contains(DOC_CORP_ID));
    }

    #[test]
    fn documented_signature_and_url_verification() {
        assert_eq!(
            msg_signature(DOC_TOKEN, DOC_TIMESTAMP, DOC_NONCE, DOC_ECHOSTR),
            DOC_SIGNATURE
        );
        let crypto = doc_crypto();
        assert_eq!(
            crypto
                .verify_url(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_ECHOSTR)
                .unwrap(),
            DOC_ECHO_PLAIN
        );
        // Upper-case hex from a client is still the same signature.
        assert!(
            crypto
                .verify_url(
                    &DOC_SIGNATURE.to_uppercase(),
                    DOC_TIMESTAMP,
                    DOC_NONCE,
                    DOC_ECHOSTR
                )
                .is_ok()
        );
    }

    #[test]
    fn documented_echostr_is_reproduced_from_its_random_prefix() {
        // The documented echostr decrypts to the ASCII prefix "c41b64491c2468d0".
        let crypto = doc_crypto();
        let encrypt = crypto
            .encrypt_payload(*b"c41b64491c2468d0", DOC_ECHO_PLAIN)
            .unwrap();
        assert_eq!(encrypt, DOC_ECHOSTR);
    }

    #[test]
    fn signature_failures_are_40001() {
        let crypto = doc_crypto();
        for (sig, ts, nonce, echo) in [
            ("", DOC_TIMESTAMP, DOC_NONCE, DOC_ECHOSTR),
            (&DOC_SIGNATURE[..39], DOC_TIMESTAMP, DOC_NONCE, DOC_ECHOSTR),
            (DOC_SIGNATURE, "1409659590", DOC_NONCE, DOC_ECHOSTR),
            (DOC_SIGNATURE, DOC_TIMESTAMP, "263014781", DOC_ECHOSTR),
            (
                DOC_SIGNATURE,
                DOC_TIMESTAMP,
                DOC_NONCE,
                &DOC_ECHOSTR.replace('+', " "),
            ),
        ] {
            let err = crypto.verify_url(sig, ts, nonce, echo).unwrap_err();
            assert_eq!(err, CryptoError::SignatureMismatch);
            assert_eq!(err.code(), -40001);
        }
        let wrong_token =
            CallbackCrypto::from_encoding_aes_key("other", DOC_KEY, DOC_CORP_ID).unwrap();
        assert_eq!(
            wrong_token
                .verify_url(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_ECHOSTR)
                .unwrap_err()
                .code(),
            -40001
        );
    }

    #[test]
    fn wrong_corp_id_is_40005() {
        let crypto =
            CallbackCrypto::from_encoding_aes_key(DOC_TOKEN, DOC_KEY, "wwsomeoneelse").unwrap();
        let err = crypto
            .verify_url(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_ECHOSTR)
            .unwrap_err();
        assert_eq!(err.code(), -40005);
        assert_eq!(
            err,
            CryptoError::ReceiveIdMismatch {
                expected: "wwsomeoneelse".to_owned(),
                found: DOC_CORP_ID.to_owned(),
            }
        );
    }

    #[test]
    fn wrong_key_is_a_decrypt_or_buffer_error() {
        let crypto = CallbackCrypto::new(DOC_TOKEN, AesKey::from_bytes([9u8; 32]), DOC_CORP_ID);
        let err = crypto
            .verify_url(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_ECHOSTR)
            .unwrap_err();
        assert!(
            matches!(err.code(), -40007 | -40008 | -40005),
            "unexpected {err:?}"
        );
    }

    #[test]
    fn broken_payloads_map_to_the_sample_codes() {
        let crypto = doc_crypto();
        let corp = DOC_CORP_ID.as_bytes();
        let mut bad_pad_value = pad32(frame(b"hello", corp));
        *bad_pad_value.last_mut().unwrap() = 0;
        let mut pad_33 = frame(b"hello", corp);
        let pad = PAD_BLOCK_LEN - pad_33.len() % PAD_BLOCK_LEN;
        pad_33.resize(pad_33.len() + pad + PAD_BLOCK_LEN, 33);
        let mut inconsistent = pad32(frame(b"hello!", corp));
        let n = inconsistent.len();
        inconsistent[n - 2] ^= 1;
        let mut huge_len = pad32(frame(b"hello", corp));
        huge_len[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        let mut one_too_long = pad32(frame(b"hello", corp));
        let claimed = (5 + corp.len() + 1) as u32;
        one_too_long[16..20].copy_from_slice(&claimed.to_be_bytes());

        let cases: Vec<(&str, String, i32)> = vec![
            ("not base64", "***".to_owned(), -40010),
            ("dangling base64", "QUJD=Q".to_owned(), -40010),
            ("empty", String::new(), -40007),
            ("half a block", STANDARD.encode([0u8; 8]), -40007),
            ("one and a half blocks", STANDARD.encode([0u8; 24]), -40007),
            ("pad byte 0", encrypt_raw(&crypto, &bad_pad_value), -40007),
            ("pad byte 33", encrypt_raw(&crypto, &pad_33), -40007),
            (
                "inconsistent pad",
                encrypt_raw(&crypto, &inconsistent),
                -40007,
            ),
            ("only padding", encrypt_raw(&crypto, &[32u8; 32]), -40008),
            (
                "no length",
                encrypt_raw(&crypto, &pad32(vec![1u8; 18])),
                -40008,
            ),
            ("huge msg_len", encrypt_raw(&crypto, &huge_len), -40008),
            ("msg_len + 1", encrypt_raw(&crypto, &one_too_long), -40008),
            (
                "not UTF-8",
                encrypt_raw(&crypto, &pad32(frame(&[0xff, 0xfe], corp))),
                -40008,
            ),
            (
                "no receive id",
                encrypt_raw(&crypto, &pad32(frame(b"hello", b""))),
                -40005,
            ),
        ];
        for (name, encrypt, code) in cases {
            // Signed correctly, so the failure is the payload's own.
            let sig = crypto.signature("1", "2", &encrypt);
            let err = crypto.verify_url(&sig, "1", "2", &encrypt).unwrap_err();
            assert_eq!(err.code(), code, "{name}: {err:?}");
        }
    }

    #[test]
    fn sixteen_byte_padding_is_accepted() {
        // WeCom pads to 32, but a payload padded to 16 is still valid PKCS#7 with n <= 32.
        let crypto = doc_crypto();
        let mut plain = frame(b"<xml/>", DOC_CORP_ID.as_bytes());
        let pad = 16 - plain.len() % 16;
        plain.resize(plain.len() + pad, pad as u8);
        let encrypt = encrypt_raw(&crypto, &plain);
        assert_eq!(crypto.decrypt_unverified(&encrypt).unwrap(), "<xml/>");
    }

    #[test]
    fn full_block_of_padding_round_trips() {
        let crypto = doc_crypto();
        // 16 + 4 + 10 + 18 = 48 bytes: needs 16 bytes of padding. 26 bytes of message: 64,
        // a whole block of 32 bytes of padding.
        for msg in ["0123456789", "01234567890123456789012345"] {
            let encrypt = crypto.encrypt_payload([1; 16], msg).unwrap();
            assert_eq!(STANDARD.decode(&encrypt).unwrap().len() % PAD_BLOCK_LEN, 0);
            assert_eq!(crypto.decrypt_unverified(&encrypt).unwrap(), msg);
        }
    }

    #[test]
    fn envelope_round_trip_and_errors() {
        let crypto = doc_crypto();
        let reply = crypto
            .encrypt_message("<xml><A>1</A></xml>", "1700000000", "n]]>ce")
            .unwrap();
        let env = Envelope::parse(&reply).unwrap();
        assert_eq!(env.timestamp.as_deref(), Some("1700000000"));
        assert_eq!(env.nonce.as_deref(), Some("n]]>ce"));
        let sig = env.msg_signature.unwrap();
        assert_eq!(
            crypto
                .decrypt_message(&sig, "1700000000", "n]]>ce", &reply)
                .unwrap(),
            "<xml><A>1</A></xml>"
        );

        for bad in [
            "",
            "<xml>",
            "<xml><ToUserName>x</ToUserName></xml>",
            "Encrypt",
        ] {
            let err = crypto.decrypt_message("x", "1", "2", bad).unwrap_err();
            assert_eq!(err.code(), -40002, "{bad:?}");
        }
    }

    #[test]
    fn error_codes_and_slugs_are_stable() {
        let all = [
            (CryptoError::SignatureMismatch, -40001),
            (CryptoError::ParseXml(String::new()), -40002),
            (CryptoError::InvalidAesKey(String::new()), -40004),
            (
                CryptoError::ReceiveIdMismatch {
                    expected: String::new(),
                    found: String::new(),
                },
                -40005,
            ),
            (CryptoError::Encrypt(""), -40006),
            (CryptoError::Decrypt(""), -40007),
            (CryptoError::IllegalBuffer(""), -40008),
            (CryptoError::Base64(String::new()), -40010),
        ];
        let mut slugs = std::collections::HashSet::new();
        for (err, code) in all {
            assert_eq!(err.code(), code);
            assert!(slugs.insert(err.slug()));
        }
    }

    #[test]
    fn constant_time_eq_behaves() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn long_foreign_receive_ids_are_shortened_in_errors() {
        let crypto = doc_crypto();
        let long_id = "x".repeat(10_000);
        let encrypt = encrypt_raw(&crypto, &pad32(frame(b"m", long_id.as_bytes())));
        match crypto.decrypt_unverified(&encrypt).unwrap_err() {
            CryptoError::ReceiveIdMismatch { found, .. } => {
                assert_eq!(found.chars().count(), ERROR_EXCERPT_CHARS);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary whole-block ciphertexts reach the padding and framing code (the signature
        /// is bypassed): never a panic, and success only with a self-consistent frame.
        #[test]
        fn arbitrary_ciphertext_never_panics(blocks in prop::collection::vec(any::<[u8; 16]>(), 0..12)) {
            let crypto = doc_crypto();
            let bytes: Vec<u8> = blocks.concat();
            let _ = crypto.decrypt_unverified(&STANDARD.encode(&bytes));
        }

        /// Arbitrary plaintext frames, encrypted as they are: every claimed length, padding
        /// byte and tail is either decoded consistently or refused.
        #[test]
        fn arbitrary_frames_are_decoded_or_refused(
            random in any::<[u8; 16]>(),
            claimed_len in prop_oneof![any::<u32>(), 0u32..64],
            body in prop::collection::vec(any::<u8>(), 0..80),
            pad in any::<u8>(),
            pad_count in 0usize..40,
        ) {
            let crypto = doc_crypto();
            let mut plain = random.to_vec();
            plain.extend_from_slice(&claimed_len.to_be_bytes());
            plain.extend_from_slice(&body);
            plain.extend(std::iter::repeat_n(pad, pad_count));
            let rem = plain.len() % 16;
            if rem != 0 {
                plain.extend(std::iter::repeat_n(pad, 16 - rem));
            }
            let encrypt = encrypt_raw(&crypto, &plain);
            if let Ok(msg) = crypto.decrypt_unverified(&encrypt) {
                prop_assert_eq!(msg.len(), claimed_len as usize);
                let last = *plain.last().unwrap();
                prop_assert!((1..=32).contains(&last));
            }
        }

        /// Arbitrary text in place of the base64 ciphertext never panics.
        #[test]
        fn arbitrary_encrypt_text_never_panics(text in ".{0,200}") {
            let crypto = doc_crypto();
            let _ = crypto.decrypt_unverified(&text);
            let sig = crypto.signature("t", "n", &text);
            let _ = crypto.verify_url(&sig, "t", "n", &text);
        }

        /// Arbitrary strings as an EncodingAESKey never panic.
        #[test]
        fn arbitrary_keys_never_panic(text in ".{0,60}") {
            let _ = AesKey::parse(&text);
        }
    }
}
