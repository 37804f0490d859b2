//! `/api/v1`: the JSON API for integrations and the brand's own apps, described by the
//! OpenAPI document at `/api/v1/openapi.json` (generated from these handlers).

pub mod acquisition;
pub mod acquisition_settings;
pub mod acquisition_stats;
pub mod audit;
pub mod auth;
pub mod cards;
pub mod churn_alerts;
pub mod coupons;
pub mod customers;
pub mod dashboard;
pub mod dto;
pub mod events;
pub mod flash_sales;
pub mod gifts;
pub mod group_buys;
pub mod group_codes;
pub mod guide_tasks;
pub mod idempotency;
pub mod inbound;
pub mod journeys;
pub mod leaderboards;
pub mod mall;
pub mod mass_messages;
pub mod materials;
pub mod media;
pub mod metrics;
pub mod moments;
pub mod notes;
pub mod orders;
pub mod org;
pub mod points;
pub mod promotion_stats;
pub mod promotions;
pub mod radar;
pub mod ratings;
pub mod referrals;
pub mod reports;
pub mod segments;
pub mod sidebar;
pub mod spreadsheet;
pub mod staff;
pub mod stored_value;
pub mod tags;
pub mod tiers;
pub mod tokens;
pub mod webhooks;
pub mod wecom;
pub mod wecom_inbox;

use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;
use promotions::CustomerTokenScheme;

#[derive(OpenApi)]
#[openapi(
    info(title = "Yutang API", description = "Private-domain operations platform (私域运营平台). \
        Authenticate with `Authorization: Bearer <token>`: an API token created by an admin \
        (`ytk_…`) or a session token from `POST /api/v1/auth/login` (`yts_…`). Errors are \
        `{\"error\": {\"code\", \"message\", \"field\"}}` with a stable snake_case code."),
    paths(
        auth::login, auth::logout, auth::me, auth::change_password,
        staff::list, staff::create, staff::get, staff::update, staff::reset_password,
        org::list_regions, org::create_region, org::rename_region,
        org::list_stores, org::create_store, org::get_store, org::update_store,
        tokens::list, tokens::create, tokens::revoke,
        webhooks::list, webhooks::kinds, webhooks::create, webhooks::get_one, webhooks::update,
        webhooks::delete, webhooks::pause, webhooks::resume, webhooks::rotate_secret,
        webhooks::test, webhooks::deliveries, webhooks::replay, webhooks::replay_failed,
        inbound::list, inbound::create, inbound::get_one, inbound::update, inbound::delete,
        inbound::rotate_secret, inbound::messages, inbound::retry,
        inbound::receive_generic, inbound::receive_youzan,
        audit::list,
        audit::export,
        customers::list, customers::create, customers::export, customers::get, customers::update,
        customers::identities, customers::add_identity, customers::merge,
        customers::follows, customers::set_follow, customers::timeline, customers::reveal_phone,
        customers::list_attributes, customers::create_attribute,
        notes::list, notes::create,
        events::ingest,
        orders::create, orders::list, orders::get, orders::set_status, orders::refund,
        tags::catalogue, tags::create_group, tags::update_group, tags::delete_group,
        tags::create_tag, tags::update_tag, tags::delete_tag,
        tags::customer_tags, tags::change_customer_tags, tags::bulk, tags::job,
        tags::sync_wecom, tags::rules, tags::create_rule, tags::run_rule, tags::patch_rule, tags::delete_rule,
        segments::schema, segments::count, segments::rows, segments::members, segments::export,
        segments::list, segments::create, segments::get, segments::update, segments::delete,
        segments::saved_members, segments::saved_export,
        wecom::start_sync, wecom::get_sync, wecom::groups, wecom::group,
        wecom::get_settings, wecom::put_settings, wecom::test_settings, wecom::check,
        wecom::start_transfer, wecom::transfers, wecom::transfer, wecom::refresh_transfer,
        wecom_inbox::callbacks, wecom_inbox::replay, wecom_inbox::failed_jobs, wecom_inbox::retry_job,
        coupons::list_templates, coupons::create_template, coupons::get_template,
        coupons::update_template, coupons::delete_template, coupons::issue, coupons::publish_template,
        coupons::redeem, coupons::revoke, coupons::customer_coupons,
        flash_sales::list_flash_sales, flash_sales::create_flash_sale, flash_sales::get_flash_sale,
        flash_sales::update_flash_sale, flash_sales::delete_flash_sale, flash_sales::flash_paid,
        flash_sales::publish_flash_sale,
        group_buys::list_group_buys, group_buys::create_group_buy, group_buys::get_group_buy,
        group_buys::update_group_buy, group_buys::delete_group_buy, group_buys::group_buy_teams,
        group_buys::publish_group_buy,
        media::upload_media, promotions::mint_token,
        promotions::demo_login, coupons::public_claimable, coupons::public_claim,
        coupons::public_mine, coupons::public_my_coupon, flash_sales::public_flash_sales,
        flash_sales::public_flash_sale, flash_sales::public_flash_claim, group_buys::public_group_buy,
        group_buys::public_open_team, group_buys::public_join_team, group_buys::public_team,
        promotion_stats::coupon_stats, promotion_stats::flash_sale_stats,
        promotion_stats::group_buy_stats,
        acquisition::list_channels, acquisition::create_channel, acquisition::get_channel,
        acquisition::update_channel, acquisition::archive_channel, acquisition::list_codes,
        acquisition::create_code, acquisition::get_code, acquisition::update_code,
        acquisition::archive_code, acquisition::sync_code, acquisition::code_changes,
        acquisition::link_quota,
        group_codes::list, group_codes::create, group_codes::get, group_codes::update,
        group_codes::archive, group_codes::sync, group_codes::joins, group_codes::qr,
        acquisition::code_qr, acquisition::code_poster,
        acquisition_stats::channel_stats, acquisition_stats::channel_stats_export,
        acquisition_stats::acquisition_stats, acquisition_stats::acquisition_stats_export,
        dashboard::dashboard, dashboard::dashboard_export, metrics::metrics, metrics::metrics_export,
        reports::list, reports::create, reports::get_one, reports::update, reports::delete, reports::send, reports::deliveries,
        mass_messages::get_settings, mass_messages::put_settings, mass_messages::preview,
        mass_messages::list, mass_messages::create, mass_messages::get_one, mass_messages::recipients,
        mass_messages::groups,
        mass_messages::cancel, mass_messages::remind, mass_messages::refresh, mass_messages::uplift,
        moments::list, moments::senders, moments::create, moments::get_one, moments::cancel,
        moments::refresh,
        materials::list_folders, materials::create_folder, materials::update_folder,
        materials::delete_folder, materials::list, materials::create, materials::get_one,
        materials::update, materials::archive, materials::restore,
        radar::link, radar::stats,
        guide_tasks::list, guide_tasks::create, guide_tasks::stats, guide_tasks::get_one,
        guide_tasks::done, guide_tasks::skip,
        churn_alerts::list, churn_alerts::get_one, churn_alerts::handle,
        ratings::list, ratings::summary, ratings::public_consultant, ratings::public_choose,
        ratings::public_ratable, ratings::public_rate,
        leaderboards::board, leaderboards::me, leaderboards::list, leaderboards::create,
        leaderboards::get, leaderboards::update, leaderboards::delete, leaderboards::settle,
        leaderboards::export,
        sidebar::jssdk, sidebar::contact, sidebar::group, sidebar::message,
        sidebar::coupon_templates, sidebar::give_coupon,
        journeys::list, journeys::create, journeys::get_one, journeys::update,
        journeys::activate, journeys::pause, journeys::archive, journeys::trace,
        journeys::calendar,
        referrals::list_programs, referrals::create_program, referrals::get_program,
        referrals::update_program, referrals::archive_program, referrals::list_referrals,
        referrals::list_inviters, referrals::create_link, referrals::public_my_link,
        referrals::public_invite, referrals::public_accept,
        acquisition_settings::get_settings, acquisition_settings::put_settings,
        points::get_settings, points::put_settings, points::liability, points::start_expiry,
        points::earn_batch,
        points::account, points::entries, points::adjust, points::earn, points::redeem,
        points::redemptions, points::cancel, points::public_account, points::public_entries,
        points::public_redeem, points::public_cancel,
        tiers::get_program, tiers::put_program, tiers::members, tiers::customer_tier, tiers::public_tier,
        stored_value::account, stored_value::entries, stored_value::top_up,
        stored_value::refund_top_up, stored_value::spend, stored_value::refund_spend,
        stored_value::liability, stored_value::list_rules, stored_value::create_rule,
        stored_value::update_rule, stored_value::archive_rule, stored_value::public_account, stored_value::public_entries,
        gifts::list_rules, gifts::create_rule, gifts::update_rule, gifts::archive_rule,
        gifts::grants, gifts::start_run, gifts::public_gifts,
        mall::list_items, mall::create_item, mall::get_item, mall::update_item,
        mall::archive_item, mall::list_exchanges, mall::get_exchange, mall::pay, mall::ship,
        mall::deliver, mall::fulfil, mall::cancel, mall::customer_exchanges, mall::exchange,
        mall::public_items, mall::public_exchanges, mall::public_exchange, mall::public_cancel,
        cards::list, cards::create, cards::get, cards::update, cards::archive, cards::members,
        cards::purchase, cards::refund_purchase, cards::customer_card, cards::refunds,
        cards::acknowledge, cards::start_settlement, cards::public_card,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail, events::EventIn)),
    modifiers(&BearerAuth, &CustomerTokenScheme, &CommonErrors),
    tags(
        (name = "auth", description = "Sessions and identity"),
        (name = "staff", description = "Staff accounts and roles"),
        (name = "org", description = "Regions and stores"),
        (name = "tokens", description = "API tokens for integrations"),
        (name = "webhooks", description = "Outbound webhooks: signed event deliveries to integrations"),
        (name = "inbound", description = "Inbound order and member sync: signed pushes from shops and order systems"),
        (name = "audit", description = "Security audit log"),
        (name = "analytics", description = "The dashboard (概览): daily rollups of the pool, contacts, groups, orders and coupons; the retail metrics, funnels and cohorts (指标) from monthly cells; scoped to the caller"),
        (name = "reports", description = "Scheduled reports (定时报表): daily and weekly dashboard summaries sent to staff as WeCom app messages, and their delivery log"),
        (name = "messaging", description = "Mass messages to customers through their guides (群发): reach preview with exclusions and holdout, per-customer results, reminders; the messaging rules (frequency caps, WeCom receipt rule, opt-out tag); moments tasks (客户朋友圈) with who published, likes and comments"),
        (name = "materials", description = "The material library (素材库): posters, images, copy, link and mini-program cards in folders with labels, for guides to send; every role reads, admins and operators write"),
        (name = "guide_tasks", description = "The guide task inbox (导购待办): tasks for guides set by store managers and headquarters or made by customer journeys, done or skipped, reminded through WeCom when due, with completion figures per guide and per store; a guide sees their own, a store manager their store's"),
        (name = "churn_alerts", description = "Churn alerts (流失提醒): a customer deleting their guide or a guide deleting a customer, with the customer's value then, told to the guide and the store's managers as WeCom app messages and marked handled with a note; a guide sees their own customer_deleted alerts, a store manager their store's"),
        (name = "sidebar", description = "The chat sidebar (聊天工具栏) WeCom opens beside a customer chat or a customer group chat: JS-SDK signatures for its page, the customer card and the group card in the caller's scope, materials as sendChatMessage arguments through the guide's tracked link, and coupons given from the card"),
        (name = "ratings", description = "Service ratings (服务评价): customers rate done guide tasks and orders 1–5 with a comment; low ratings alert the store's managers; the list and the ranking of guides and stores by average, scoped (a guide their own, a store manager their store's)"),
        (name = "leaderboards", description = "Leaderboards and incentive pools (排行榜与激励池): guides and stores ranked by adds, net adds, first-order rate, attributed GMV, tasks done and ratings per day, week or month within a store, a region or the brand; incentive pools split by a rule (individual by contribution, team per store), settled once and exported for payroll, each guide seeing their own breakdown"),
        (name = "journeys", description = "The journey engine (自动化旅程 / SOP): a trigger (an event, a schedule, a customer date, entering or leaving a segment) and steps (wait, branch, tag, coupon, guide task, message, notification, webhook) each enrolled customer walks; versions, pause and resume, live counts per step and a per-customer trace. Group SOPs (群 SOP): a schedule over customer groups posting a group message, as a WeCom group mass message or a task per group owner, and the SOP calendar's week view"),
        (name = "customers", description = "Customer pool: identities, merges, profile, follows, timeline, notes (跟进记录)"),
        (name = "events", description = "Event ingest (timelines)"),
        (name = "orders", description = "Orders, status changes and refunds"),
        (name = "tags", description = "Tag groups, tags, tagging (manual and bulk jobs) and auto-tag rules"),
        (name = "segments", description = "Segment expressions: count, members, export, saved segments"),
        (name = "wecom", description = "WeCom (企业微信): full sync and customer groups"),
        (name = "acquisition", description = "Channels and channel live codes (渠道活码): attribution, rotation, welcomes, first-add rewards, channel statistics (渠道统计), attribution settings, invite-a-friend referral programs (邀请有礼)"),
        (name = "community", description = "Community (社群): group live codes (群活码) — one WeCom join way per code over up to five customer groups, moved on to the next group at a member cap (or to a group WeCom opens), joins attributed to the code's channel"),
        (name = "loyalty", description = "Membership (会员): tier program, members per tier, a customer's tier"),
        (name = "promotions", description = "Coupon templates and coupons, flash sales, group-buys, customer tokens"),
        (name = "loyalty", description = "Membership and loyalty (会员): the points ledger (积分) — settings, accounts, ledger entries, adjustments, earnings, redemptions, liability, expiry; the points mall (积分商城) — items, exchanges, payment, fulfilment"),
        (name = "public", description = "Customer-facing API (customer token `yct_…`): claim coupons, flash sales, group-buys, invite links, the member centre's points, the consultant (专属顾问) and service ratings"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The error answers any operation can give, documented on every operation that does not
/// document them itself (generated clients and Schemathesis check every status against the
/// document): 401/403 with a security requirement, 404 with a path parameter, 409 on writes,
/// 400/413/415 with a body, 422 with a body or parameters, 408 for a request over the time
/// limit.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let add = |op: &mut Operation, writes: bool| {
            let mut codes = vec![("408", "request_timeout: the request took too long")];
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            if secured {
                codes.push(("401", "unauthenticated: no valid bearer token"));
                codes.push(("403", "forbidden: the role does not allow this"));
            }
            let params = op.parameters.as_deref().unwrap_or_default();
            if params
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Path))
            {
                codes.push(("404", "not_found"));
            }
            if op.request_body.is_some() {
                codes.push(("400", "malformed_json or unreadable_body"));
                codes.push(("413", "body_too_large"));
                codes.push(("415", "unsupported_media_type: send application/json"));
            }
            if writes {
                codes.push((
                    "409",
                    "a conflict: already exists, or a rule refused the change",
                ));
            }
            if op.request_body.is_some() || !params.is_empty() {
                codes.push((
                    "422",
                    "invalid input, naming the field: invalid_field, unknown_field, \
                     missing_field, invalid_query, invalid_characters …",
                ));
            }
            for (code, description) in codes {
                op.responses
                    .responses
                    .entry(code.to_owned())
                    .or_insert_with(|| error(description).into());
            }
        };
        for item in openapi.paths.paths.values_mut() {
            for (op, writes) in [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ] {
                if let Some(op) = op {
                    add(op, writes);
                }
            }
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/password", post(auth::change_password))
        .route("/staff", get(staff::list).post(staff::create))
        .route("/staff/{id}", get(staff::get).patch(staff::update))
        .route("/staff/{id}/password", post(staff::reset_password))
        .route("/regions", get(org::list_regions).post(org::create_region))
        .route("/regions/{id}", patch(org::rename_region))
        .route("/stores", get(org::list_stores).post(org::create_store))
        .route("/stores/{id}", get(org::get_store).put(org::update_store))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/inbound-sources", get(inbound::list).post(inbound::create))
        .route(
            "/inbound-sources/{id}",
            get(inbound::get_one)
                .put(inbound::update)
                .delete(inbound::delete),
        )
        .route(
            "/inbound-sources/{id}/rotate-secret",
            post(inbound::rotate_secret),
        )
        .route("/inbound-sources/{id}/messages", get(inbound::messages))
        .route(
            "/inbound-sources/{id}/messages/{message_id}/retry",
            post(inbound::retry),
        )
        .route("/inbound/generic/{key}", post(inbound::receive_generic))
        .route("/inbound/youzan/{key}", post(inbound::receive_youzan))
        .route("/webhooks/kinds", get(webhooks::kinds))
        .route(
            "/webhooks/{id}",
            get(webhooks::get_one)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/pause", post(webhooks::pause))
        .route("/webhooks/{id}/resume", post(webhooks::resume))
        .route(
            "/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/webhooks/{id}/test", post(webhooks::test))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}/replay",
            post(webhooks::replay),
        )
        .route(
            "/webhooks/{id}/replay-failed",
            post(webhooks::replay_failed),
        )
        .route("/audit", get(audit::list))
        .route("/audit/export", get(audit::export))
        .route("/customers", get(customers::list).post(customers::create))
        .route("/customers/export", post(customers::export))
        .route(
            "/customers/{id}",
            get(customers::get).patch(customers::update),
        )
        .route(
            "/customers/{id}/identities",
            get(customers::identities).post(customers::add_identity),
        )
        .route("/customers/{id}/merge", post(customers::merge))
        .route(
            "/customers/{id}/follows",
            get(customers::follows).post(customers::set_follow),
        )
        .route("/customers/{id}/timeline", get(customers::timeline))
        .route(
            "/customers/{id}/notes",
            get(notes::list).post(notes::create),
        )
        .route(
            "/customers/{id}/reveal-phone",
            post(customers::reveal_phone),
        )
        .route(
            "/customer-attributes",
            get(customers::list_attributes).post(customers::create_attribute),
        )
        .route("/events", post(events::ingest))
        .route("/orders", get(orders::list).post(orders::create))
        .route("/orders/{id}", get(orders::get))
        .route("/orders/{id}/status", post(orders::set_status))
        .route("/orders/{id}/refunds", post(orders::refund))
        .route("/tag-groups", get(tags::catalogue).post(tags::create_group))
        .route("/tag-groups/sync-wecom", post(tags::sync_wecom))
        .route(
            "/tag-groups/{id}",
            axum::routing::put(tags::update_group).delete(tags::delete_group),
        )
        .route("/tags", post(tags::create_tag))
        .route("/tags/bulk", post(tags::bulk))
        .route(
            "/tags/{id}",
            axum::routing::put(tags::update_tag).delete(tags::delete_tag),
        )
        .route(
            "/customers/{id}/tags",
            get(tags::customer_tags).post(tags::change_customer_tags),
        )
        .route("/jobs/{id}", get(tags::job))
        .route("/tag-rules", get(tags::rules).post(tags::create_rule))
        .route(
            "/tag-rules/{id}",
            patch(tags::patch_rule).delete(tags::delete_rule),
        )
        .route("/tag-rules/{id}/run", post(tags::run_rule))
        .route("/segments", get(segments::list).post(segments::create))
        .route("/segments/schema", get(segments::schema))
        .route("/segments/count", post(segments::count))
        .route("/segments/rows", post(segments::rows))
        .route("/segments/members", post(segments::members))
        .route("/segments/export", post(segments::export))
        .route(
            "/segments/{id}",
            get(segments::get)
                .put(segments::update)
                .delete(segments::delete),
        )
        .route("/segments/{id}/members", get(segments::saved_members))
        .route("/segments/{id}/export", get(segments::saved_export))
        .route("/wecom/sync", post(wecom::start_sync))
        .route("/wecom/sync/{id}", get(wecom::get_sync))
        .route("/wecom/groups", get(wecom::groups))
        .route("/wecom/groups/{id}", get(wecom::group))
        .route(
            "/wecom/settings",
            get(wecom::get_settings).put(wecom::put_settings),
        )
        .route("/wecom/settings/test", post(wecom::test_settings))
        .route("/wecom/check", post(wecom::check))
        .route(
            "/wecom/transfers",
            get(wecom::transfers).post(wecom::start_transfer),
        )
        .route("/wecom/transfers/{id}", get(wecom::transfer))
        .route(
            "/wecom/transfers/{id}/refresh",
            post(wecom::refresh_transfer),
        )
        .route("/wecom/callbacks", get(wecom_inbox::callbacks))
        .route("/wecom/callbacks/{id}/replay", post(wecom_inbox::replay))
        .route("/wecom/jobs/failed", get(wecom_inbox::failed_jobs))
        .route("/wecom/jobs/{id}/retry", post(wecom_inbox::retry_job))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/dashboard/export", get(dashboard::dashboard_export))
        .route("/metrics", get(metrics::metrics))
        .route("/metrics/export", get(metrics::metrics_export))
        .route(
            "/reports/schedules",
            get(reports::list).post(reports::create),
        )
        .route(
            "/reports/schedules/{id}",
            get(reports::get_one)
                .put(reports::update)
                .delete(reports::delete),
        )
        .route("/reports/schedules/{id}/send", post(reports::send))
        .route("/reports/deliveries", get(reports::deliveries))
        .route(
            "/messaging/settings",
            get(mass_messages::get_settings).put(mass_messages::put_settings),
        )
        .route("/mass-messages/preview", post(mass_messages::preview))
        .route(
            "/mass-messages",
            get(mass_messages::list).post(mass_messages::create),
        )
        .route("/mass-messages/{id}", get(mass_messages::get_one))
        .route(
            "/mass-messages/{id}/recipients",
            get(mass_messages::recipients),
        )
        .route("/mass-messages/{id}/groups", get(mass_messages::groups))
        .route("/mass-messages/{id}/cancel", post(mass_messages::cancel))
        .route("/mass-messages/{id}/remind", post(mass_messages::remind))
        .route("/mass-messages/{id}/refresh", post(mass_messages::refresh))
        .route("/mass-messages/{id}/uplift", get(mass_messages::uplift))
        .route("/journeys", get(journeys::list).post(journeys::create))
        .route("/journeys/calendar", get(journeys::calendar))
        .route(
            "/journeys/{id}",
            get(journeys::get_one).put(journeys::update),
        )
        .route("/journeys/{id}/activate", post(journeys::activate))
        .route("/journeys/{id}/pause", post(journeys::pause))
        .route("/journeys/{id}/archive", post(journeys::archive))
        .route("/journeys/{id}/trace", get(journeys::trace))
        .route("/moments", get(moments::list).post(moments::create))
        .route("/moments/senders", get(moments::senders))
        .route("/moments/{id}", get(moments::get_one))
        .route("/moments/{id}/cancel", post(moments::cancel))
        .route("/moments/{id}/refresh", post(moments::refresh))
        .route(
            "/material-folders",
            get(materials::list_folders).post(materials::create_folder),
        )
        .route(
            "/material-folders/{id}",
            put(materials::update_folder).delete(materials::delete_folder),
        )
        .route("/materials", get(materials::list).post(materials::create))
        .route(
            "/materials/{id}",
            get(materials::get_one).put(materials::update),
        )
        .route("/materials/{id}/archive", post(materials::archive))
        .route("/materials/{id}/restore", post(materials::restore))
        .route("/materials/{id}/links", post(radar::link))
        .route("/materials/{id}/stats", get(radar::stats))
        .route(
            "/guide-tasks",
            get(guide_tasks::list).post(guide_tasks::create),
        )
        .route("/guide-tasks/stats", get(guide_tasks::stats))
        .route("/guide-tasks/{id}", get(guide_tasks::get_one))
        .route("/guide-tasks/{id}/done", post(guide_tasks::done))
        .route("/guide-tasks/{id}/skip", post(guide_tasks::skip))
        .route("/churn-alerts", get(churn_alerts::list))
        .route("/churn-alerts/{id}", get(churn_alerts::get_one))
        .route("/churn-alerts/{id}/handle", post(churn_alerts::handle))
        .route("/ratings", get(ratings::list))
        .route("/ratings/summary", get(ratings::summary))
        .route("/leaderboards", get(leaderboards::board))
        .route("/leaderboards/me", get(leaderboards::me))
        .route(
            "/incentive-pools",
            get(leaderboards::list).post(leaderboards::create),
        )
        .route(
            "/incentive-pools/{id}",
            get(leaderboards::get)
                .put(leaderboards::update)
                .delete(leaderboards::delete),
        )
        .route("/incentive-pools/{id}/settle", post(leaderboards::settle))
        .route("/incentive-pools/{id}/export", get(leaderboards::export))
        .route(
            "/public/me/consultant",
            get(ratings::public_consultant).post(ratings::public_choose),
        )
        .route("/public/me/ratable", get(ratings::public_ratable))
        .route("/public/me/ratings", post(ratings::public_rate))
        .route("/sidebar/jssdk", get(sidebar::jssdk))
        .route("/sidebar/contacts/{external_userid}", get(sidebar::contact))
        .route(
            "/sidebar/contacts/{external_userid}/coupons",
            post(sidebar::give_coupon),
        )
        .route("/sidebar/groups/{chat_id}", get(sidebar::group))
        .route("/sidebar/messages", post(sidebar::message))
        .route("/sidebar/coupon-templates", get(sidebar::coupon_templates))
        .merge(promotions_router())
        .merge(acquisition_router())
        .route(
            "/acquisition/settings",
            get(acquisition_settings::get_settings).put(acquisition_settings::put_settings),
        )
        .merge(referrals_router())
        .merge(points_router())
        .merge(stored_value_router())
        .merge(mall_router())
}

/// Stored value (储值) and member gifts (会员礼).
fn stored_value_router() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/stored-value", get(stored_value::account))
        .route(
            "/customers/{id}/stored-value/entries",
            get(stored_value::entries),
        )
        .route(
            "/customers/{id}/stored-value/top-ups",
            post(stored_value::top_up),
        )
        .route(
            "/customers/{id}/stored-value/spends",
            post(stored_value::spend),
        )
        .route(
            "/stored-value/top-ups/{order_no}/refund",
            post(stored_value::refund_top_up),
        )
        .route(
            "/stored-value/spends/{id}/refund",
            post(stored_value::refund_spend),
        )
        .route("/stored-value/liability", get(stored_value::liability))
        .route(
            "/stored-value/top-up-gifts",
            get(stored_value::list_rules).post(stored_value::create_rule),
        )
        .route(
            "/stored-value/top-up-gifts/{id}",
            put(stored_value::update_rule).delete(stored_value::archive_rule),
        )
        .route("/public/me/stored-value", get(stored_value::public_account))
        .route(
            "/public/me/stored-value/entries",
            get(stored_value::public_entries),
        )
        .route("/public/me/gifts", get(gifts::public_gifts))
        .route(
            "/loyalty/gifts",
            get(gifts::list_rules).post(gifts::create_rule),
        )
        .route("/loyalty/gifts/grants", get(gifts::grants))
        .route("/loyalty/gifts/runs", post(gifts::start_run))
        .route(
            "/loyalty/gifts/{id}",
            put(gifts::update_rule).delete(gifts::archive_rule),
        )
}

/// The points mall.
fn mall_router() -> Router<AppState> {
    Router::new()
        .route("/mall/items", get(mall::list_items).post(mall::create_item))
        .route(
            "/mall/items/{id}",
            get(mall::get_item)
                .put(mall::update_item)
                .delete(mall::archive_item),
        )
        .route("/mall/exchanges", get(mall::list_exchanges))
        .route("/mall/exchanges/{id}", get(mall::get_exchange))
        .route("/mall/exchanges/{id}/payment", post(mall::pay))
        .route("/mall/exchanges/{id}/ship", post(mall::ship))
        .route("/mall/exchanges/{id}/deliver", post(mall::deliver))
        .route("/mall/exchanges/{id}/fulfil", post(mall::fulfil))
        .route("/mall/exchanges/{id}/cancel", post(mall::cancel))
        .route(
            "/customers/{id}/mall/exchanges",
            get(mall::customer_exchanges).post(mall::exchange),
        )
        .route("/public/mall/items", get(mall::public_items))
        .route(
            "/public/me/mall/exchanges",
            get(mall::public_exchanges).post(mall::public_exchange),
        )
        .route(
            "/public/me/mall/exchanges/{id}/cancel",
            post(mall::public_cancel),
        )
}

/// The points ledger.
fn points_router() -> Router<AppState> {
    Router::new()
        .route(
            "/points/settings",
            get(points::get_settings).put(points::put_settings),
        )
        .route("/points/liability", get(points::liability))
        .route("/points/expiry-runs", post(points::start_expiry))
        .route("/points/earnings", post(points::earn_batch))
        .route("/points/redemptions/{id}/cancel", post(points::cancel))
        .route("/customers/{id}/points", get(points::account))
        .route("/customers/{id}/points/entries", get(points::entries))
        .route("/customers/{id}/points/adjustments", post(points::adjust))
        .route("/customers/{id}/points/earnings", post(points::earn))
        .route(
            "/customers/{id}/points/redemptions",
            get(points::redemptions).post(points::redeem),
        )
        .route("/public/me/points", get(points::public_account))
        .route("/public/me/tier", get(tiers::public_tier))
        .route("/public/me/points/entries", get(points::public_entries))
        .route("/public/me/points/redemptions", post(points::public_redeem))
        .route(
            "/public/me/points/redemptions/{id}/cancel",
            post(points::public_cancel),
        )
        .route(
            "/loyalty/tiers",
            get(tiers::get_program).put(tiers::put_program),
        )
        .route("/loyalty/tiers/{id}/members", get(tiers::members))
        .route("/customers/{id}/tier", get(tiers::customer_tier))
        .merge(cards_router())
}

/// Paid member cards.
fn cards_router() -> Router<AppState> {
    Router::new()
        .route("/loyalty/cards", get(cards::list).post(cards::create))
        .route("/loyalty/cards/{id}", get(cards::get).put(cards::update))
        .route("/loyalty/cards/{id}/archive", post(cards::archive))
        .route("/loyalty/cards/{id}/members", get(cards::members))
        .route("/member-cards/purchases", post(cards::purchase))
        .route(
            "/member-cards/purchases/{order_no}/refund",
            post(cards::refund_purchase),
        )
        .route("/member-cards/refunds", get(cards::refunds))
        .route(
            "/member-cards/refunds/{id}/acknowledge",
            post(cards::acknowledge),
        )
        .route(
            "/member-cards/settlement-runs",
            post(cards::start_settlement),
        )
        .route("/customers/{id}/card", get(cards::customer_card))
        .route("/public/me/card", get(cards::public_card))
}

/// Invite-a-friend: referral programs, links, attempts; the public invite.
fn referrals_router() -> Router<AppState> {
    Router::new()
        .route(
            "/referral-programs",
            get(referrals::list_programs).post(referrals::create_program),
        )
        .route(
            "/referral-programs/{id}",
            get(referrals::get_program).put(referrals::update_program),
        )
        .route(
            "/referral-programs/{id}/archive",
            post(referrals::archive_program),
        )
        .route(
            "/referral-programs/{id}/referrals",
            get(referrals::list_referrals),
        )
        .route(
            "/referral-programs/{id}/inviters",
            get(referrals::list_inviters),
        )
        .route(
            "/referral-programs/{id}/links",
            post(referrals::create_link),
        )
        .route(
            "/public/referral-programs/{id}/link",
            post(referrals::public_my_link),
        )
        .route("/public/invites/{code}", get(referrals::public_invite))
        .route(
            "/public/invites/{code}/accept",
            post(referrals::public_accept),
        )
}

/// Acquisition: channels and live codes.
fn acquisition_router() -> Router<AppState> {
    Router::new()
        .route(
            "/channels",
            get(acquisition::list_channels).post(acquisition::create_channel),
        )
        .route(
            "/channels/{id}",
            get(acquisition::get_channel).put(acquisition::update_channel),
        )
        .route("/channels/{id}/archive", post(acquisition::archive_channel))
        .route(
            "/live-codes",
            get(acquisition::list_codes).post(acquisition::create_code),
        )
        .route(
            "/live-codes/{id}",
            get(acquisition::get_code).put(acquisition::update_code),
        )
        .route(
            "/group-codes",
            get(group_codes::list).post(group_codes::create),
        )
        .route(
            "/group-codes/{id}",
            get(group_codes::get).put(group_codes::update),
        )
        .route("/group-codes/{id}/archive", post(group_codes::archive))
        .route("/group-codes/{id}/sync", post(group_codes::sync))
        .route("/group-codes/{id}/joins", get(group_codes::joins))
        .route("/group-codes/{id}/qr.png", get(group_codes::qr))
        .route("/live-codes/{id}/archive", post(acquisition::archive_code))
        .route("/live-codes/{id}/sync", post(acquisition::sync_code))
        .route("/live-codes/{id}/changes", get(acquisition::code_changes))
        .route("/acquisition/link-quota", get(acquisition::link_quota))
        .route("/live-codes/{id}/qr.png", get(acquisition::code_qr))
        .route("/live-codes/{id}/poster.png", get(acquisition::code_poster))
        .route(
            "/channels/{id}/stats",
            get(acquisition_stats::channel_stats),
        )
        .route(
            "/channels/{id}/stats/export",
            get(acquisition_stats::channel_stats_export),
        )
        .route(
            "/acquisition/stats",
            get(acquisition_stats::acquisition_stats),
        )
        .route(
            "/acquisition/stats/export",
            get(acquisition_stats::acquisition_stats_export),
        )
}

/// Promotions (staff and public), in one block so it merges cleanly with other areas.
fn promotions_router() -> Router<AppState> {
    Router::new()
        .route(
            "/promotions/coupons/{id}/stats",
            get(promotion_stats::coupon_stats),
        )
        .route(
            "/promotions/flash-sales/{id}/stats",
            get(promotion_stats::flash_sale_stats),
        )
        .route(
            "/promotions/group-buys/{id}/stats",
            get(promotion_stats::group_buy_stats),
        )
        .route(
            "/coupon-templates",
            get(coupons::list_templates).post(coupons::create_template),
        )
        .route(
            "/coupon-templates/{id}",
            get(coupons::get_template)
                .put(coupons::update_template)
                .delete(coupons::delete_template),
        )
        .route("/coupon-templates/{id}/issue", post(coupons::issue))
        .route(
            "/coupon-templates/{id}/publish",
            post(coupons::publish_template),
        )
        .route(
            "/flash-sales/{id}/publish",
            post(flash_sales::publish_flash_sale),
        )
        .route(
            "/group-buys/{id}/publish",
            post(group_buys::publish_group_buy),
        )
        .route("/coupons/{id}/redeem", post(coupons::redeem))
        .route("/coupons/{id}/revoke", post(coupons::revoke))
        .route("/customers/{id}/coupons", get(coupons::customer_coupons))
        .route(
            "/flash-sales",
            get(flash_sales::list_flash_sales).post(flash_sales::create_flash_sale),
        )
        .route(
            "/flash-sales/{id}",
            get(flash_sales::get_flash_sale)
                .put(flash_sales::update_flash_sale)
                .delete(flash_sales::delete_flash_sale),
        )
        .route(
            "/flash-sale-claims/{id}/paid",
            post(flash_sales::flash_paid),
        )
        .route(
            "/group-buys",
            get(group_buys::list_group_buys).post(group_buys::create_group_buy),
        )
        .route(
            "/group-buys/{id}",
            get(group_buys::get_group_buy)
                .put(group_buys::update_group_buy)
                .delete(group_buys::delete_group_buy),
        )
        .route("/group-buys/{id}/teams", get(group_buys::group_buy_teams))
        .route("/media", post(media::upload_media))
        .route("/customer-tokens", post(promotions::mint_token))
        .route("/public/demo-login", post(promotions::demo_login))
        .route("/public/coupons", get(coupons::public_claimable))
        .route("/public/coupons/mine", get(coupons::public_mine))
        .route("/public/coupons/mine/{id}", get(coupons::public_my_coupon))
        .route("/public/coupons/{id}/claim", post(coupons::public_claim))
        .route("/public/flash-sales", get(flash_sales::public_flash_sales))
        .route(
            "/public/flash-sales/{id}",
            get(flash_sales::public_flash_sale),
        )
        .route(
            "/public/flash-sales/{id}/claim",
            post(flash_sales::public_flash_claim),
        )
        .route("/public/group-buys/{id}", get(group_buys::public_group_buy))
        .route(
            "/public/group-buys/{id}/open",
            post(group_buys::public_open_team),
        )
        .route("/public/group-buy-teams/{id}", get(group_buys::public_team))
        .route(
            "/public/group-buy-teams/{id}/join",
            post(group_buys::public_join_team),
        )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// utoipa names a schema component after its type (or its `#[schema(as = …)]`) and a
    /// second type of the same name silently replaces the first in the document, so a
    /// client generated from it reads one endpoint's answer with another's shape. Every
    /// `ToSchema` type under `src/` must have its own name.
    #[test]
    fn schema_component_names_are_unique() {
        fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, files);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            for (i, l) in lines.iter().enumerate() {
                if !(l.starts_with("#[derive(") && l.contains("ToSchema")) {
                    continue;
                }
                let mut alias = None;
                for next in &lines[i + 1..] {
                    if let Some(rest) = next.strip_prefix("#[schema(as = ") {
                        alias = rest.split(')').next().map(str::to_owned);
                    } else if let Some(rest) = next
                        .strip_prefix("pub struct ")
                        .or_else(|| next.strip_prefix("pub enum "))
                    {
                        let ty: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        seen.entry(alias.take().unwrap_or(ty))
                            .or_default()
                            .push(f.display().to_string());
                        break;
                    } else if !next.starts_with("#[") && !next.starts_with("///") {
                        break;
                    }
                }
            }
        }
        assert!(
            seen.len() > 50,
            "the scan found {} schema types",
            seen.len()
        );
        let dups: Vec<_> = seen.iter().filter(|(_, v)| v.len() > 1).collect();
        assert!(dups.is_empty(), "schema names used twice: {dups:?}");
    }
}
