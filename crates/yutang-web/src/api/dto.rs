//! Wire shapes of the API. Times are RFC 3339 UTC strings; ids are integers.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use yutang_app::{
    audit::AuditRow, org::RegionRow, org::StoreRow, staff::StaffRow, tokens::TokenRow,
};
use yutang_core::time::Millis;

/// When something happened, as a client reports it: an RFC 3339 string, bounded to
/// 2000-01-01 … now + `limits.future_skew_minutes` (422 `time_out_of_range` naming the field).
pub fn occurred(
    field: &'static str,
    raw: &str,
    now: i64,
    skew_minutes: i64,
) -> Result<i64, yutang_core::FieldError> {
    let t = Millis::parse_rfc3339(field, raw)?;
    Ok(
        yutang_core::time::Occurred::parse(field, t, Millis(now), skew_minutes)?
            .millis()
            .0,
    )
}

/// [`occurred`] for an optional field.
pub fn opt_occurred(
    field: &'static str,
    raw: &Option<String>,
    now: i64,
    skew_minutes: i64,
) -> Result<Option<i64>, yutang_core::FieldError> {
    raw.as_deref()
        .map(|s| occurred(field, s, now, skew_minutes))
        .transpose()
}

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// admin, operator, store_manager, guide or analyst.
    pub role: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// active or disabled.
    pub status: String,
    pub wecom_userid: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<StaffRow> for StaffOut {
    fn from(r: StaffRow) -> Self {
        Self {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            role: r.role,
            store_id: r.store_id,
            store_name: r.store_name,
            status: r.status,
            wecom_userid: r.wecom_userid,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffPage {
    pub items: Vec<StaffOut>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionOut {
    pub id: i64,
    pub name: String,
    pub store_count: i64,
    pub created_at: String,
}

impl From<RegionRow> for RegionOut {
    fn from(r: RegionRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            store_count: r.store_count,
            created_at: ts(r.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreOut {
    pub id: i64,
    pub region_id: Option<i64>,
    pub region_name: Option<String>,
    pub code: String,
    pub name: String,
    pub city: String,
    pub address: String,
    pub staff_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<StoreRow> for StoreOut {
    fn from(r: StoreRow) -> Self {
        Self {
            id: r.id,
            region_id: r.region_id,
            region_name: r.region_name,
            code: r.code,
            name: r.name,
            city: r.city,
            address: r.address,
            staff_count: r.staff_count,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StorePage {
    pub items: Vec<StoreOut>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: i64,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub role: String,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<TokenRow> for TokenOut {
    fn from(r: TokenRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            role: r.role,
            created_by: r.created_by,
            created_at: ts(r.created_at),
            expires_at: r.expires_at.map(ts),
            last_used_at: r.last_used_at.map(ts),
            revoked_at: r.revoked_at.map(ts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenOut {
    /// The bearer secret. Shown this once; store it now.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    pub id: i64,
    pub at: String,
    /// staff, token or system.
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

impl From<AuditRow> for AuditOut {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            at: ts(r.at),
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: r.action,
            target: r.target,
            detail: r.detail,
            ip: r.ip,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditOut>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

/// Distinguish an absent field (`None`) from an explicit `null` (`Some(None)`) in PATCH bodies.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
