//! WeCom's local state, one module per part: the callback inbox with its apply lock and
//! side jobs ([`inbox`]), customer groups and members ([`groups`]), the connection settings
//! row ([`settings`]) and staff transfers ([`transfers`]).

pub mod groups;
pub mod inbox;
pub mod settings;
pub mod transfers;
