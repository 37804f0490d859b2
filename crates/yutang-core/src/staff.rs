//! Staff: roles, what each role may do, and the parsed inputs that describe a staff member.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::FieldError;

/// A staff member's role. The role decides both the permissions and the data scope
/// (see [`crate::access`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the installation: staff, tokens, audit log.
    Admin,
    /// HQ operations (运营): org structure, campaigns; sees every customer.
    Operator,
    /// 店长: their own store's customers, groups and staff.
    StoreManager,
    /// 导购 / 顾问: the customers they follow.
    Guide,
    /// Read-only HQ access for reporting.
    Analyst,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Operator,
        Role::StoreManager,
        Role::Guide,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::StoreManager => "store_manager",
            Role::Guide => "guide",
            Role::Analyst => "analyst",
        }
    }

    /// Parse the stored / wire form, naming `field` in the error.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_role",
                    format!(
                        "unknown role {s:?}; expected one of admin, operator, store_manager, guide, analyst"
                    ),
                )
            })
    }

    /// Roles that work at headquarters and see the whole brand.
    pub fn is_hq(self) -> bool {
        matches!(self, Role::Admin | Role::Operator | Role::Analyst)
    }

    /// Whether a staff member with this role must belong to a store.
    pub fn needs_store(self) -> bool {
        matches!(self, Role::StoreManager | Role::Guide)
    }

    pub fn has(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Operator => matches!(
                p,
                ViewOrg
                    | ManageOrg
                    | ViewStaff
                    | RevealPhone
                    | ViewMetrics
                    | ViewCustomers
                    | ManageCustomers
                    | TagCustomers
                    | ManagePromotions
                    | SendMessages
                    | IssueCoupons
                    | ManageIncentives
            ),
            Role::StoreManager => matches!(
                p,
                ViewOrg
                    | ViewStaff
                    | ManageStaff
                    | RevealPhone
                    | ViewCustomers
                    | TagCustomers
                    | SendMessages
                    | IssueCoupons
            ),
            Role::Guide => matches!(
                p,
                ViewOrg | ViewStaff | ViewCustomers | TagCustomers | IssueCoupons
            ),
            Role::Analyst => matches!(p, ViewOrg | ViewStaff | ViewMetrics | ViewCustomers),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::parse("role", s)
    }
}

/// What a caller may do. Data scope (which rows) is separate: see [`crate::access::DataScope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ViewOrg,
    ManageOrg,
    ViewStaff,
    /// Create and edit staff; a store manager only for guides of their own store.
    ManageStaff,
    ManageTokens,
    /// Subscribe integrations to events (outbound webhooks): admin only, since a subscription
    /// sends customer events out of the brand.
    ManageIntegrations,
    ViewAudit,
    /// See full phone numbers instead of `138****1234`; each reveal is audited.
    RevealPhone,
    ViewMetrics,
    /// See customers, their orders and timelines (always within the data scope).
    ViewCustomers,
    /// Create, update and merge customers; send events and orders (HQ and integrations).
    ManageCustomers,
    /// Add and remove manual tags on the customers one sees, one by one or in bulk (every
    /// role but the read-only analyst; always within the data scope).
    TagCustomers,
    /// Create and edit coupon templates, flash sales and group-buys; issue coupons.
    ManagePromotions,
    /// Send mass messages to customers through their guides (群发); a store manager only to
    /// their store's customers.
    SendMessages,
    /// Give one customer in one's scope a coupon of an active template from the chat sidebar
    /// (导购发券): every role but the read-only analyst. The template's own limits apply, and
    /// the issue records who gave it.
    IssueCoupons,
    /// Create, edit and settle incentive pools and export their payouts for payroll (HQ
    /// operations: admin and operator). Everyone sees the pools that cover them.
    ManageIncentives,
}

/// Whether a staff account may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Active,
    /// Left the brand (离职): cannot log in; their customers await transfer.
    Disabled,
}

impl StaffStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffStatus::Active => "active",
            StaffStatus::Disabled => "disabled",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s {
            "active" => Ok(StaffStatus::Active),
            "disabled" => Ok(StaffStatus::Disabled),
            _ => Err(FieldError::new(
                field,
                "invalid_status",
                format!("unknown status {s:?}; expected active or disabled"),
            )),
        }
    }
}

/// A login name: 3–32 characters of lower-case ASCII letters, digits, `.`, `_` and `-`.
/// ASCII keeps logins typeable on every keyboard; display names carry the Chinese name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if !(3..=32).contains(&s.len()) || !ok_chars {
            return Err(FieldError::new(
                "username",
                "invalid_username",
                "username must be 3–32 characters of a–z, 0–9, '.', '_' or '-'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A human name for display (e.g. 王小明): 1–40 characters after trimming, no control chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let n = s.chars().count();
        if n == 0 || n > 40 || s.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "invalid_name",
                "name must be 1–40 characters without control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A staff member's WeCom userid (成员 UserID): 1–64 characters of ASCII letters, digits and
/// `_ - . @`, as WeCom allows. Links callbacks (which name staff by userid) to accounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct WecomUserId(String);

impl WecomUserId {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.is_empty()
            || s.len() > 64
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
        {
            return Err(FieldError::new(
                "wecom_userid",
                "invalid_wecom_userid",
                "WeCom userid must be 1–64 characters of letters, digits, '_', '-', '.' or '@'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 10 characters, at most 256 bytes (argon2 accepts more, but an
/// unbounded password is a denial-of-service lever).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        if s.chars().count() < Self::MIN_CHARS {
            return Err(FieldError::new(
                "password",
                "password_too_short",
                format!("password must have at least {} characters", Self::MIN_CHARS),
            ));
        }
        if s.len() > 256 {
            return Err(FieldError::new(
                "password",
                "password_too_long",
                "password must be at most 256 bytes",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_round_trips_and_rejects_unknown() {
        for r in Role::ALL {
            assert_eq!(Role::parse("role", r.as_str()), Ok(r));
        }
        let e = Role::parse("role", "root").unwrap_err();
        assert_eq!(e.field, "role");
        assert_eq!(e.code, "invalid_role");
    }

    #[test]
    fn only_admin_manages_tokens_and_reads_audit() {
        for r in Role::ALL {
            assert_eq!(r.has(Permission::ManageTokens), r == Role::Admin);
            assert_eq!(r.has(Permission::ViewAudit), r == Role::Admin);
            assert_eq!(r.has(Permission::ManageIntegrations), r == Role::Admin);
        }
        assert!(!Role::Analyst.has(Permission::ManageOrg));
        assert!(!Role::Guide.has(Permission::ManageStaff));
    }

    #[test]
    fn everyone_but_the_analyst_tags_customers() {
        for r in Role::ALL {
            assert_eq!(r.has(Permission::TagCustomers), r != Role::Analyst, "{r}");
        }
    }

    #[test]
    fn usernames() {
        assert!(Username::parse("wang.xm").is_ok());
        assert_eq!(Username::parse("  admin ").map(|u| u.0), Ok("admin".into()));
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("Admin").is_err());
        assert!(Username::parse("王小明").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn display_names_count_characters_not_bytes() {
        assert!(DisplayName::parse("name", "欧阳娜娜").is_ok());
        assert!(DisplayName::parse("name", &"王".repeat(40)).is_ok());
        assert!(DisplayName::parse("name", &"王".repeat(41)).is_err());
        assert!(DisplayName::parse("name", "  ").is_err());
        assert!(DisplayName::parse("name", "a\u{0}b").is_err());
    }

    #[test]
    fn wecom_userids() {
        assert!(WecomUserId::parse("ZhangSan").is_ok());
        assert!(WecomUserId::parse("li.si@corp").is_ok());
        assert!(WecomUserId::parse("").is_err());
        assert!(WecomUserId::parse("张三").is_err());
        assert!(WecomUserId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn passwords() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("long enough pw").is_ok());
        assert!(NewPassword::parse(&"x".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("long enough pw")),
            "Ok(NewPassword(***))"
        );
    }
}
