//! Money is integer fen (分): never a float, so sums never drift.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::FieldError;

/// An amount of money in fen (1 CNY = 100 fen). May be negative for adjustments; use
/// [`Fen::parse_non_negative`] at edges where only prices make sense.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    /// Parse a price given in fen at an edge: negative amounts are refused.
    pub fn parse_non_negative(field: &'static str, v: i64) -> Result<Self, FieldError> {
        if v < 0 {
            return Err(FieldError::new(
                field,
                "negative_amount",
                "amount must not be negative",
            ));
        }
        Ok(Self(v))
    }

    /// Sum two amounts, refusing overflow rather than wrapping.
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }
}

impl fmt::Display for Fen {
    /// Renders as yuan with two decimals, e.g. `Fen(12990)` → `129.90`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_yuan_with_two_decimals() {
        assert_eq!(Fen(12990).to_string(), "129.90");
        assert_eq!(Fen(5).to_string(), "0.05");
        assert_eq!(Fen(-10392).to_string(), "-103.92");
        assert_eq!(Fen(i64::MIN).to_string(), "-92233720368547758.08");
    }

    #[test]
    fn refuses_negative_prices_and_overflow() {
        assert!(Fen::parse_non_negative("price", -1).is_err());
        assert_eq!(Fen::parse_non_negative("price", 0), Ok(Fen(0)));
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), None);
    }
}
