//! The organisation: regions → stores → staff.

use serde::Serialize;

use crate::FieldError;

/// A store's short code as the POS and the shops know it (e.g. `SH-001`): 1–32 characters of
/// ASCII letters, digits, `-` and `_`. Unique per brand.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct StoreCode(String);

impl StoreCode {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.is_empty()
            || s.len() > 32
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(FieldError::new(
                "code",
                "invalid_store_code",
                "store code must be 1–32 characters of letters, digits, '-' or '_'",
            ));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free-text label such as a store's city or address: at most `max` characters, trimmed,
/// no control characters; empty allowed.
pub fn parse_label(field: &'static str, s: &str, max: usize) -> Result<String, FieldError> {
    let s = s.trim();
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid_text",
            format!("must be at most {max} characters without control characters"),
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_codes_are_normalised() {
        assert_eq!(
            StoreCode::parse(" sh-001 ").map(|c| c.0),
            Ok("SH-001".into())
        );
        assert!(StoreCode::parse("").is_err());
        assert!(StoreCode::parse("上海1").is_err());
        assert!(StoreCode::parse("a b").is_err());
    }

    #[test]
    fn labels() {
        assert_eq!(parse_label("city", " 上海 ", 20), Ok("上海".into()));
        assert!(parse_label("city", &"市".repeat(21), 20).is_err());
        assert!(parse_label("city", "a\nb", 20).is_err());
    }
}
