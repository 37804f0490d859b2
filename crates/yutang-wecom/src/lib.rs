//! The WeCom (企业微信) protocol: callback crypto and events, the API client, and a fake
//! WeCom server.
//!
//! The protocol half ([`crypto`], [`events`]) does no I/O and no async, so the rules that
//! decide whether a callback is genuine and what it means can be tested exhaustively (property
//! tests, independent test vectors, a fuzz run) and shared by the real callback endpoint and
//! the fake WeCom the tests run against.
//!
//! - [`crypto`]: `msg_signature`, AES-256-CBC with WeCom's 32-byte PKCS#7 padding, URL
//!   verification, decrypting callbacks and encrypting replies or pushes.
//! - [`events`]: the decrypted XML as typed external-contact, customer-group and tag events,
//!   with a deduplication key.
//! - [`client`]: an async API client for the customer-contact APIs (tokens, retries, rate
//!   limit, typed requests and responses, client-side checks of WeCom's documented limits).
//! - [`probe`]: WeCom's URL verification request sent to a callback URL the way WeCom sends
//!   it, and what came back (for the setup checker).
//! - `fake` (feature `fake`): an in-process fake WeCom HTTP server with an in-memory corp,
//!   error injection hooks, and signed, encrypted callback pushes.
//!
//! A callback endpoint uses them in this order: [`CallbackCrypto::decrypt_message`] (verify,
//! decrypt), store the raw plaintext in a durable inbox keyed by
//! [`CallbackEvent::dedup_key`], answer WeCom, then [`CallbackEvent::parse`] and process.

pub mod client;
pub mod crypto;
pub mod events;
#[cfg(feature = "fake")]
pub mod fake;
pub mod probe;
mod xml;

pub use client::{ClientConfig, RateLimit, WecomClient, WecomError};

pub use crypto::{AesKey, CallbackCrypto, CryptoError, Envelope, msg_signature};
pub use events::{
    CallbackEvent, ChatChange, ChatUpdate, ContactChange, EventError, EventKind, ExternalChatEvent,
    ExternalContactEvent, ExternalTagEvent, TagChange, TagType, UpdateDetail,
};
