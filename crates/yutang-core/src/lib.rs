//! Yutang's domain: the types and rules every other crate speaks.
//!
//! Nothing here does I/O or knows about sqlx, axum or WeCom. Edges (HTTP handlers, the WeCom
//! callback, importers) turn raw input into these types with `parse` constructors, so a rule
//! never has to re-check its input ("parse, don't validate").

pub mod access;
pub mod acquisition;
pub mod analytics;
pub mod churn_alerts;
pub mod customers;
pub mod error;
pub mod error_codes;
pub mod events;
pub mod export;
pub mod group_codes;
pub mod guide_tasks;
pub mod identity;
pub mod ids;
pub mod inbound;
pub mod journeys;
pub mod leaderboards;
pub mod loyalty;
pub mod materials;
pub mod media;
pub mod messaging;
pub mod moments;
pub mod money;
pub mod orders;
pub mod org;
pub mod promotions;
pub mod qr;
pub mod ratings;
pub mod segments;
pub mod sidebar;
pub mod staff;
pub mod tags;
pub mod time;
pub mod webhooks;

pub use error::FieldError;
