//! `/console`: the operators' web console, server-rendered (askama), Simplified Chinese by
//! default with an English switch. Sessions live in an HttpOnly, SameSite=Lax cookie; every
//! form carries the session's CSRF token (the login form a double-submit cookie).

mod acquisition;
mod acquisition_settings;
mod acquisition_stats;
mod audit;
mod auth;
mod bulk_tags;
mod cards;
mod churn_alerts;
mod confirm;
mod customers;
mod group_codes;
mod guide_tasks;
mod home;
pub(crate) mod i18n;
pub(crate) mod import;
mod inbound;
mod journeys;
pub(crate) mod labels;
mod layout;
mod leaderboards;
mod mall;
mod materials;
mod messaging;
mod metrics;
mod moments;
mod org;
pub(crate) mod points;
mod promotion_stats;
mod promotions;
mod ratings;
pub(crate) mod referrals;
mod reports;
mod segments;
pub(crate) mod share;
mod sidebar;
mod staff;
pub(crate) mod stored_value;
mod tags;
mod tiers;
mod tokens;
mod webhooks;
mod wecom;
pub(crate) mod wecom_check;
mod wecom_login;
mod workbench;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use yutang_app::auth::LiveSession;
use yutang_core::staff::Permission;
use yutang_core::time::Millis;

pub use i18n::{Lang, Tr};

use crate::auth::{ConsoleSession, LANG_COOKIE, cookie};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/dashboard/export", get(home::export))
        .route("/metrics", get(metrics::page))
        .route("/metrics/export", get(metrics::export))
        .route("/reports", get(reports::list).post(reports::create))
        .route("/reports/{id}", get(reports::show).post(reports::update))
        .route("/reports/{id}/send", post(reports::send))
        .route(
            "/reports/{id}/delete",
            get(reports::delete_confirm).post(reports::delete),
        )
        .route("/messages", get(messaging::list))
        .route("/messages/new", get(messaging::new).post(messaging::submit))
        .route("/messages/settings", post(messaging::save_rules))
        .route("/messages/{id}", get(messaging::show))
        .route("/messages/{id}/cancel", post(messaging::cancel))
        .route("/messages/{id}/remind", post(messaging::remind))
        .route("/messages/{id}/refresh", post(messaging::refresh))
        .route("/moments", get(moments::list))
        // The composer carries its images: its body limit is theirs (ConsoleFiles reads it).
        .route(
            "/moments/new",
            get(moments::new)
                .post(moments::submit)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/moments/{id}", get(moments::show))
        .route(
            "/moments/{id}/cancel",
            get(moments::cancel_confirm).post(moments::cancel),
        )
        .route("/moments/{id}/refresh", post(moments::refresh))
        .route("/journeys", get(journeys::list))
        .route("/journeys/new", get(journeys::new).post(journeys::create))
        .route("/journeys/calendar", get(journeys::calendar))
        .route("/journeys/{id}", get(journeys::show))
        .route(
            "/journeys/{id}/edit",
            get(journeys::edit).post(journeys::update),
        )
        .route("/journeys/{id}/activate", post(journeys::activate))
        .route("/journeys/{id}/pause", post(journeys::pause))
        .route(
            "/journeys/{id}/archive",
            get(journeys::archive_confirm).post(journeys::archive),
        )
        .route("/materials", get(materials::list))
        // The material form carries its image: its body limit is the image limit's.
        .route(
            "/materials/new",
            get(materials::new)
                .post(materials::create)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/materials/folders", post(materials::folder_create))
        .route("/materials/folders/{id}", post(materials::folder_rename))
        .route(
            "/materials/folders/{id}/delete",
            get(materials::folder_delete_confirm).post(materials::folder_delete),
        )
        .route("/materials/{id}", get(materials::show))
        .route(
            "/materials/{id}/edit",
            get(materials::edit)
                .post(materials::update)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/materials/{id}/link", post(materials::make_link))
        .route("/materials/{id}/archive", post(materials::archive))
        .route("/materials/{id}/restore", post(materials::restore))
        .route(
            "/guide-tasks",
            get(guide_tasks::list).post(guide_tasks::create),
        )
        .route("/guide-tasks/{id}/done", post(guide_tasks::done))
        .route("/guide-tasks/{id}/skip", post(guide_tasks::skip))
        .route("/churn-alerts", get(churn_alerts::list))
        .route("/churn-alerts/{id}/handle", post(churn_alerts::handle))
        .route("/ratings", get(ratings::list))
        // leaderboards and incentive pools
        .route("/leaderboards", get(leaderboards::board))
        .route("/incentive-pools", post(leaderboards::create))
        .route("/incentive-pools/new", get(leaderboards::new_pool))
        .route(
            "/incentive-pools/{id}",
            get(leaderboards::show).post(leaderboards::update),
        )
        .route("/incentive-pools/{id}/settle", post(leaderboards::settle))
        .route("/incentive-pools/{id}/delete", post(leaderboards::delete))
        .route("/incentive-pools/{id}/export", get(leaderboards::export))
        // workbench
        .route("/workbench", get(workbench::page))
        .route("/workbench/tasks/{id}/done", post(workbench::done))
        .route("/workbench/tasks/{id}/skip", post(workbench::skip))
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/login/wecom", get(wecom_login::start))
        .route("/login/wecom/callback", get(wecom_login::callback))
        .route("/logout", post(auth::logout))
        .route("/lang", get(auth::switch_lang))
        .route("/staff", get(staff::staff_list).post(staff::staff_create))
        .route("/staff/new", get(staff::staff_new))
        .route(
            "/staff/{id}",
            get(staff::staff_edit).post(staff::staff_update),
        )
        .route("/staff/{id}/password", post(staff::staff_password))
        .route("/stores", get(org::stores_list).post(org::store_create))
        .route("/stores/new", get(org::store_new))
        .route("/stores/{id}", get(org::store_edit).post(org::store_update))
        .route("/regions", get(org::regions).post(org::region_create))
        .route("/regions/{id}", post(org::region_rename))
        .route("/tokens", get(tokens::tokens).post(tokens::token_create))
        .route(
            "/tokens/{id}/revoke",
            get(tokens::token_revoke_confirm).post(tokens::token_revoke),
        )
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", get(webhooks::show).post(webhooks::update))
        .route("/webhooks/{id}/test", post(webhooks::test))
        .route("/webhooks/{id}/pause", post(webhooks::pause))
        .route("/webhooks/{id}/resume", post(webhooks::resume))
        .route(
            "/webhooks/{id}/rotate",
            get(webhooks::rotate_confirm).post(webhooks::rotate),
        )
        .route(
            "/webhooks/{id}/delete",
            get(webhooks::delete_confirm).post(webhooks::delete),
        )
        .route(
            "/webhooks/{id}/replay-failed",
            post(webhooks::replay_failed),
        )
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}/replay",
            post(webhooks::replay),
        )
        .route("/inbound", get(inbound::list).post(inbound::create))
        .route("/inbound/{id}", get(inbound::show).post(inbound::update))
        .route(
            "/inbound/{id}/rotate",
            get(inbound::rotate_confirm).post(inbound::rotate),
        )
        .route(
            "/inbound/{id}/delete",
            get(inbound::delete_confirm).post(inbound::delete),
        )
        .route(
            "/inbound/{id}/messages/{message_id}/retry",
            post(inbound::retry),
        )
        .route("/audit", get(audit::audit))
        .route("/audit/export", post(audit::export))
        .route("/customers", get(customers::list))
        .route("/customers/export", post(customers::export))
        .route("/customers/bulk", post(customers::bulk))
        .route("/customers/filters", post(customers::save_filter))
        .route(
            "/customers/filters/{id}/delete",
            post(customers::delete_filter),
        )
        .route("/customers/{id}", get(customers::view))
        .route("/customers/{id}/reveal", post(customers::reveal))
        .route("/customers/{id}/tags", post(tags::customer_tags))
        .route("/customers/{id}/notes", post(customers::add_note))
        .route("/tags", get(tags::list).post(tags::tag_create))
        .route(
            "/tags/{id}/delete",
            get(tags::tag_delete_confirm).post(tags::tag_delete),
        )
        .route("/tags/groups", post(tags::group_create))
        .route(
            "/tags/groups/{id}/delete",
            get(tags::group_delete_confirm).post(tags::group_delete),
        )
        .route("/tags/rules", post(tags::rule_create))
        .route(
            "/tags/bulk",
            get(bulk_tags::form)
                .post(bulk_tags::start)
                .layer(bulk_tags::body_limit()),
        )
        .route("/jobs/{id}", get(bulk_tags::job))
        .route("/tags/rules/{id}/run", post(tags::rule_run))
        .route(
            "/tags/rules/{id}/delete",
            get(tags::rule_delete_confirm).post(tags::rule_delete),
        )
        .route("/segments", get(segments::list).post(segments::create))
        .route("/segments/new", get(segments::new))
        .route("/segments/count.json", get(segments::count_json))
        .route("/segments/schema.json", get(segments::schema_json))
        .route("/segments/rows.json", get(segments::rows_json))
        .route("/segments/{id}", get(segments::edit).post(segments::update))
        .route(
            "/segments/{id}/delete",
            get(segments::delete_confirm).post(segments::delete),
        )
        .route("/segments/{id}/members", get(segments::members))
        .route("/segments/{id}/export", post(segments::export))
        .route("/assets/segments.js", get(segments::script))
        .route("/assets/forms.js", get(segments::forms_script))
        .route("/sidebar", get(sidebar::page))
        .route("/sidebar/jssdk.json", get(sidebar::jssdk_json))
        .route("/sidebar/contact.json", get(sidebar::contact_json))
        .route("/sidebar/group.json", get(sidebar::group_json))
        .route("/sidebar/materials.json", get(sidebar::materials_json))
        .route(
            "/sidebar/tags.json",
            get(sidebar::tags_json).post(sidebar::tags_change_json),
        )
        .route(
            "/sidebar/coupon-templates.json",
            get(sidebar::templates_json),
        )
        .route("/sidebar/message.json", post(sidebar::message_json))
        .route("/sidebar/coupon.json", post(sidebar::coupon_json))
        .route("/sidebar/note.json", post(sidebar::note_json))
        .route("/assets/sidebar.js", get(sidebar::script))
        .route("/assets/wecom-jssdk.js", get(sidebar::jssdk_script))
        .route(
            "/import",
            get(import::index)
                .post(import::upload)
                .layer(import::upload_body_limit()),
        )
        .route("/import/templates/{file}", get(import::template))
        .route("/import/{id}", get(import::show))
        .route("/import/{id}/check", post(import::start_check))
        .route("/import/{id}/run", post(import::start_run))
        .route("/import/{id}/status", get(import::status))
        .route("/import/{id}/errors.csv", get(import::errors_csv))
        .route("/promotions", get(promotions::list))
        .route(
            "/promotions/{what}/{id}/delete",
            get(promotions::delete_confirm).post(promotions::delete),
        )
        .route("/promotions/{what}/{id}/publish", post(promotions::publish))
        // The flash-sale and group-buy forms carry an image: their body limit is the
        // image limit's (ConsoleUpload reads it).
        .route(
            "/promotions/{what}",
            post(promotions::create).layer(DefaultBodyLimit::disable()),
        )
        .route("/promotions/coupons/{id}/issue", post(promotions::issue))
        .route("/promotions/{what}/new", get(promotions::new_form))
        .route("/promotions/{what}/{id}/stats", get(promotion_stats::page))
        .route("/acquisition/stats", get(acquisition_stats::overview_page))
        .route(
            "/acquisition/settings",
            get(acquisition_settings::page).post(acquisition_settings::save),
        )
        .route(
            "/acquisition/stats.csv",
            get(acquisition_stats::overview_csv_file),
        )
        .route(
            "/acquisition/stats.xlsx",
            get(acquisition_stats::overview_xlsx_file),
        )
        .route("/channels/{id}/stats", get(acquisition_stats::channel_page))
        .route(
            "/channels/{id}/stats.csv",
            get(acquisition_stats::channel_csv_file),
        )
        .route(
            "/channels/{id}/stats.xlsx",
            get(acquisition_stats::channel_xlsx_file),
        )
        .route("/promotions/{what}/{id}/share", get(share::page))
        // qr.svg, qr.png, poster.svg
        .route("/promotions/{what}/{id}/{file}", get(share::file))
        .route(
            "/promotions/{what}/{id}",
            get(promotions::edit_form)
                .post(promotions::update)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/channels",
            get(acquisition::list).post(acquisition::channel_create),
        )
        .route("/channels/new", get(acquisition::channel_new))
        .route("/channels/{id}", get(acquisition::view))
        .route(
            "/channels/{id}/edit",
            get(acquisition::channel_edit).post(acquisition::channel_update),
        )
        .route(
            "/channels/{id}/archive",
            get(acquisition::channel_archive_confirm).post(acquisition::channel_archive),
        )
        .route("/channels/{id}/live-codes", post(acquisition::code_create))
        .route("/channels/{id}/live-codes/new", get(acquisition::code_new))
        .route("/live-codes/{id}", get(acquisition::code_view))
        .route("/live-codes/{id}/qr.png", get(acquisition::code_qr))
        .route("/live-codes/{id}/poster.png", get(acquisition::code_poster))
        .route(
            "/live-codes/{id}/edit",
            get(acquisition::code_edit).post(acquisition::code_update),
        )
        .route("/live-codes/{id}/sync", post(acquisition::code_sync))
        .route(
            "/live-codes/{id}/archive",
            get(acquisition::code_archive_confirm).post(acquisition::code_archive),
        )
        .route(
            "/group-codes",
            get(group_codes::list).post(group_codes::create),
        )
        .route("/group-codes/new", get(group_codes::new))
        .route("/group-codes/{id}", get(group_codes::view))
        .route(
            "/group-codes/{id}/edit",
            get(group_codes::edit).post(group_codes::update),
        )
        .route("/group-codes/{id}/sync", post(group_codes::sync))
        .route("/group-codes/{id}/qr.png", get(group_codes::qr))
        .route(
            "/group-codes/{id}/archive",
            get(group_codes::archive_confirm).post(group_codes::archive),
        )
        .route("/loyalty/tiers", get(tiers::page).post(tiers::save))
        .route("/loyalty/mall", get(mall::page).post(mall::create))
        .route("/loyalty/mall/new", get(mall::new_item))
        .route("/loyalty/mall/{id}", post(mall::update))
        .route("/loyalty/mall/{id}/edit", get(mall::edit_item))
        .route(
            "/loyalty/mall/{id}/archive",
            get(mall::archive_confirm).post(mall::archive),
        )
        .route("/loyalty/mall/exchanges/{id}/{step}", post(mall::step))
        .route("/loyalty/tiers/{id}", get(tiers::members))
        .route("/loyalty/cards", get(cards::page).post(cards::create))
        .route(
            "/loyalty/cards/{id}",
            get(cards::members).post(cards::update),
        )
        .route(
            "/loyalty/cards/{id}/archive",
            get(cards::archive_confirm).post(cards::archive),
        )
        .route(
            "/loyalty/cards/refunds/{id}/acknowledge",
            post(cards::acknowledge),
        )
        .route("/referrals", get(referrals::list).post(referrals::create))
        .route("/referrals/new", get(referrals::new))
        .route("/referrals/{id}", get(referrals::view))
        .route(
            "/referrals/{id}/edit",
            get(referrals::edit).post(referrals::update),
        )
        .route(
            "/referrals/{id}/archive",
            get(referrals::archive_confirm).post(referrals::archive),
        )
        .route("/referrals/{id}/links", post(referrals::link_create))
        .route("/referrals/{id}/link", get(referrals::link_page))
        // qr.svg, qr.png
        .route("/referrals/{id}/link/{file}", get(referrals::link_file))
        .route(
            "/loyalty/points",
            get(points::settings).post(points::save_settings),
        )
        .route("/loyalty/points/expiry", post(points::start_expiry))
        .route(
            "/loyalty/points/redemptions/{id}/cancel",
            post(points::cancel_redemption),
        )
        .route("/loyalty/stored-value", get(stored_value::page))
        .route("/loyalty/gifts", get(stored_value::gifts))
        .route("/loyalty/gifts/run", post(stored_value::run))
        .route(
            "/loyalty/stored-value/rules",
            post(stored_value::rule_create),
        )
        .route(
            "/loyalty/stored-value/rules/{id}",
            post(stored_value::rule_update),
        )
        .route(
            "/loyalty/stored-value/rules/{id}/archive",
            get(stored_value::rule_archive_confirm).post(stored_value::rule_archive),
        )
        .route("/loyalty/gifts/rules", post(stored_value::gift_create))
        .route("/loyalty/gifts/rules/{id}", post(stored_value::gift_update))
        .route(
            "/loyalty/gifts/rules/{id}/archive",
            get(stored_value::gift_archive_confirm).post(stored_value::gift_archive),
        )
        .route("/customers/{id}/stored-value", get(stored_value::customer))
        .route("/customers/{id}/points", get(points::customer))
        .route("/customers/{id}/points/adjust", post(points::adjust))
        .route("/account", get(auth::account))
        .route("/account/password", post(auth::account_password))
        .route("/settings/wecom", get(wecom::show).post(wecom::save))
        .route("/settings/wecom/test", post(wecom::test))
        .route("/settings/wecom/check", post(wecom_check::check))
        .route("/settings/wecom/sync", post(wecom::sync))
        .route(
            "/settings/wecom/callbacks/{id}/replay",
            post(wecom::replay_callback),
        )
        .route("/settings/wecom/jobs/{id}/retry", post(wecom::retry_job))
        .route(
            "/wecom/transfers",
            get(wecom::transfers).post(wecom::transfer_create),
        )
        .route("/wecom/transfers/{id}", get(wecom::transfer_show))
        .route(
            "/wecom/transfers/{id}/refresh",
            post(wecom::transfer_refresh),
        )
        .layer(axum::middleware::from_fn(crate::auth::refuse_control_text))
        .layer(axum::middleware::map_response(console_headers))
}

/// Console pages may not be framed and load nothing from elsewhere (deployments are often on
/// intranets without internet access, and a CDN would leak usage). A page that shows WeCom's
/// own images (a live code's QR) sets its own, equally strict, policy naming WeCom's image
/// host; it is kept.
async fn console_headers(mut res: Response) -> Response {
    if !res.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
            ),
        );
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The language of this request: the `yutang_lang` cookie, else the configured default.
pub fn lang_of(parts: &Parts, state: &AppState) -> Lang {
    cookie(parts, LANG_COOKIE)
        .and_then(|c| Lang::parse(&c))
        .or_else(|| Lang::parse(&state.app.settings.console.default_lang))
        .unwrap_or(Lang::Zh)
}

/// What every signed-in page's layout needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tr: Tr,
    pub lang: Lang,
    pub display_name: String,
    pub role: String,
    pub csrf: String,
    /// The current path with query, for the language switch to come back to.
    pub here: String,
    pub active: &'static str,
    pub can_manage_org: bool,
    pub can_manage_staff: bool,
    pub can_tokens: bool,
    /// Manages outbound webhooks (admins).
    pub can_webhooks: bool,
    pub can_audit: bool,
    pub can_customers: bool,
    pub can_reveal: bool,
    pub can_import: bool,
    /// Sees channels and live codes (every role that sees the org).
    pub can_channels: bool,
    pub flash: Option<&'static str>,
}

impl Ctx {
    pub fn time(&self, ms: &i64) -> String {
        Millis(*ms).to_shanghai_string()
    }

    pub fn opt_time(&self, ms: &Option<i64>) -> String {
        ms.map(|m| Millis(m).to_shanghai_string())
            .unwrap_or_else(|| "-".into())
    }

    /// Fen as yuan with two decimals (`12990` → `129.90`).
    pub fn yuan(&self, fen: &i64) -> String {
        yutang_core::money::Fen(*fen).to_string()
    }

    /// The segment builder preset to `tag("group/name")`.
    pub fn tag_segment_href(&self, group: &str, tag: &str) -> String {
        let expr = format!("tag({:?})", format!("{group}/{tag}"));
        format!(
            "/console/segments/new?expression={}",
            url::form_urlencoded::byte_serialize(expr.as_bytes()).collect::<String>()
        )
    }

    pub fn lang_href(&self) -> String {
        let other = match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        };
        format!(
            "/console/lang?to={other}&back={}",
            url::form_urlencoded::byte_serialize(self.here.as_bytes()).collect::<String>()
        )
    }
}

/// A signed-in console request: the session plus the page context.
pub struct Console {
    pub session: LiveSession,
    pub ctx: Ctx,
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ConsoleSession(session) = ConsoleSession::from_request_parts(parts, state).await?;
        let lang = lang_of(parts, state);
        let a = &session.actor;
        let flash = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "ok")
                .and_then(|(_, v)| match v.as_ref() {
                    "saved" => Some("common.saved"),
                    "created" => Some("common.created"),
                    "deleted" => Some("common.deleted"),
                    "archived" => Some("common.archived"),
                    "published" => Some("common.published"),
                    "synced" => Some("acq.synced_done"),
                    "revoked" => Some("tokens.revoked_done"),
                    "password_reset" => Some("staff.password_reset_done"),
                    "tested" => Some("webhooks.tested"),
                    "report_queued" => Some("reports.queued_done"),
                    "report_already" => Some("reports.already_done"),
                    "paused" => Some("webhooks.paused_done"),
                    "resumed" => Some("webhooks.resumed_done"),
                    "replayed" => Some("webhooks.replayed_done"),
                    _ => None,
                })
        });
        let ctx = Ctx {
            tr: Tr { lang },
            lang,
            display_name: session.display_name.clone(),
            role: a.role.as_str().to_owned(),
            csrf: session.csrf_token.clone(),
            here: crate::auth::original_path(parts),
            active: "",
            can_manage_org: a.can(Permission::ManageOrg),
            can_manage_staff: a.can(Permission::ManageStaff),
            can_tokens: a.can(Permission::ManageTokens),
            can_webhooks: a.can(Permission::ManageIntegrations),
            can_audit: a.can(Permission::ViewAudit),
            can_customers: a.can(Permission::ViewCustomers),
            can_reveal: a.can(Permission::RevealPhone),
            can_import: a.can(Permission::ManageCustomers),
            can_channels: a.can(Permission::ViewOrg),
            flash,
        };
        Ok(Console { session, ctx })
    }
}

/// Render a template, or a plain 500 if rendering fails (a bug, logged).
pub fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            crate::error::internal(&e);
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}
