//! WeCom's local state, one module per part: the callback inbox with its apply lock and
//! side jobs ([`inbox`]), customer groups and members ([`groups`]), the connection settings
//! row ([`settings`]), staff transfers ([`transfers`]) and the codes of WeCom sign-ins
//! ([`login_codes`]).

pub mod groups;
pub mod inbox;
pub mod login_codes;
pub mod settings;
pub mod transfers;
