//! Console pages for tags: the catalogue with counts, creating and deleting groups and tags,
//! auto-tag rules, and tagging one customer from the 360° page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::tags::GroupWithTags;
use yutang_app::tags::RuleRow;
use yutang_core::FieldError;
use yutang_core::tags::{AgeBucket, RuleSpec};

use super::confirm::{Confirm, confirm_page, grouped};
use super::layout::{ConsoleForm, CsrfForm, FormError, error_page, form_error};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/tags.html")]
struct TagsPage {
    ctx: Ctx,
    groups: Vec<GroupWithTags>,
    rules: Vec<RuleRow>,
    can_manage: bool,
    error: Option<FormError>,
    /// The new-rule form: as typed when its save was refused, else the defaults.
    rule: RuleForm,
    /// Why the new rule was refused, naming the rule form's field.
    rule_error: Option<FormError>,
}

impl TagsPage {
    /// The rule form's refusal when it is about `field`.
    fn rule_err(&self, field: &str) -> Option<&'static str> {
        self.rule_error
            .as_ref()
            .filter(|e| e.field == field)
            .map(|e| e.message)
    }
}

async fn page(s: &AppState, c: Console, status: StatusCode, error: Option<FormError>) -> Response {
    rule_page(s, c, status, error, None).await
}

async fn rule_page(
    s: &AppState,
    mut c: Console,
    status: StatusCode,
    error: Option<FormError>,
    refused_rule: Option<(RuleForm, FormError)>,
) -> Response {
    c.ctx.active = "tags";
    let a = &c.session.actor;
    let groups = match s.app.tags().tag_catalogue(a).await {
        Ok(g) => g,
        Err(e) => return error_page(c.ctx, e),
    };
    let rules = s.app.tags().list_tag_rules(a).await.unwrap_or_default();
    let can_manage = a.can(yutang_core::staff::Permission::ManageCustomers);
    render(
        status,
        &TagsPage {
            ctx: c.ctx,
            groups,
            rules,
            can_manage,
            error,
            rule: refused_rule
                .as_ref()
                .map_or_else(RuleForm::fresh, |(f, _)| f.clone()),
            rule_error: refused_rule.map(|(_, e)| e),
        },
    )
}

pub async fn list(State(s): State<AppState>, c: Console) -> Response {
    page(&s, c, StatusCode::OK, None).await
}

/// Run a form action, then back to the catalogue (or the page with the error).
async fn after(s: &AppState, c: Console, r: Result<(), AppError>) -> Response {
    after_with(s, c, r, "saved").await
}

/// As [`after`], the flash saying what happened (`saved`, `deleted`).
async fn after_with(s: &AppState, c: Console, r: Result<(), AppError>, ok: &str) -> Response {
    match r {
        Ok(()) => Redirect::to(&format!("/console/tags?ok={ok}")).into_response(),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            page(s, c, status, Some(err)).await
        }
    }
}

#[derive(Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    name: String,
    /// "single" or "multi".
    #[serde(default)]
    mode: String,
}

pub async fn group_create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<GroupForm>,
) -> Response {
    let r = s
        .app
        .tags()
        .create_tag_group(&c.session.actor, &f.name, f.mode != "single", 0)
        .await
        .map(drop);
    after(&s, c, r).await
}

pub async fn group_delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    let r = s
        .app
        .tags()
        .delete_tag_group(&c.session.actor, id)
        .await
        .map(drop);
    after_with(&s, c, r, "deleted").await
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    group_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    color: String,
}

pub async fn tag_create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<TagForm>,
) -> Response {
    let r = match f.group_id.trim().parse::<i64>() {
        Ok(g) => {
            let color = if f.color.trim().is_empty() {
                "#1677ff"
            } else {
                f.color.as_str()
            };
            s.app
                .tags()
                .create_tag(&c.session.actor, g, &f.name, color, 0)
                .await
                .map(drop)
        }
        Err(_) => Err(FieldError::new("group_id", "invalid_form", "choose a group").into()),
    };
    after(&s, c, r).await
}

pub async fn tag_delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    let r = s
        .app
        .tags()
        .delete_tag(&c.session.actor, id)
        .await
        .map(drop);
    after_with(&s, c, r, "deleted").await
}

/// The new auto-tag rule form, as typed: only the chosen kind's fields are read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RuleForm {
    name: String,
    kind: String,
    new_days: String,
    active_days: String,
    dormant_days: String,
    recency_days: String,
    tag: String,
    expression: String,
    attribute: String,
    /// One bucket per line: `0-6 0-6月`.
    buckets: String,
}

impl RuleForm {
    fn fresh() -> Self {
        RuleForm {
            kind: "lifecycle".into(),
            new_days: "30".into(),
            active_days: "90".into(),
            dormant_days: "180".into(),
            recency_days: "90".into(),
            ..Default::default()
        }
    }

    /// The input a refusal is about: the domain says `config` for every rule kind, which is
    /// the kind's own field here.
    fn field_of(&self, field: &str) -> &'static str {
        const INPUTS: [&str; 10] = [
            "name",
            "kind",
            "new_days",
            "active_days",
            "dormant_days",
            "recency_days",
            "tag",
            "expression",
            "attribute",
            "buckets",
        ];
        if let Some(input) = INPUTS.iter().find(|i| **i == field) {
            return input;
        }
        match self.kind.as_str() {
            "lifecycle" => "new_days",
            "rfm" => "recency_days",
            "age_months" => "buckets",
            "birthday_month" => "tag",
            "expression" => "expression",
            _ => "kind",
        }
    }
}

fn days(field: &'static str, s: &str) -> Result<u32, FieldError> {
    s.trim().parse().map_err(|_| {
        FieldError::new(
            field,
            "invalid_number",
            format!("{field} must be a whole number of days"),
        )
    })
}

fn rule_spec(f: &RuleForm) -> Result<RuleSpec, FieldError> {
    Ok(match f.kind.as_str() {
        "lifecycle" => RuleSpec::Lifecycle {
            new_days: days("new_days", &f.new_days)?,
            active_days: days("active_days", &f.active_days)?,
            dormant_days: days("dormant_days", &f.dormant_days)?,
        },
        "rfm" => RuleSpec::Rfm {
            recency_days: days("recency_days", &f.recency_days)?,
            frequency_min: 1,
            monetary_min_fen: 1,
        },
        "birthday_month" => RuleSpec::BirthdayMonth { tag: f.tag.clone() },
        "expression" => RuleSpec::Expression {
            tag: f.tag.clone(),
            expression: f.expression.clone(),
        },
        "age_months" => {
            let mut buckets = Vec::new();
            for line in f.buckets.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let bad = || {
                    FieldError::new(
                        "buckets",
                        "invalid_form",
                        "write one bucket per line, e.g. 0-6 0-6月",
                    )
                };
                let (range, tag) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
                let (a, b) = range.split_once('-').ok_or_else(bad)?;
                buckets.push(AgeBucket {
                    from_month: a.trim().parse().map_err(|_| bad())?,
                    to_month: b.trim().parse().map_err(|_| bad())?,
                    tag: tag.trim().to_owned(),
                });
            }
            RuleSpec::AgeMonths {
                attribute: f.attribute.trim().to_owned(),
                buckets,
            }
        }
        _ => {
            return Err(FieldError::new(
                "kind",
                "invalid_rule",
                "choose a rule kind",
            ));
        }
    })
}

pub async fn rule_create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<RuleForm>,
) -> Response {
    let r = match rule_spec(&f) {
        Ok(spec) => s
            .app
            .tags()
            .create_tag_rule(&c.session.actor, &f.name, &spec)
            .await
            .map(drop),
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(()) => Redirect::to("/console/tags?ok=saved").into_response(),
        Err(e) => {
            let (status, mut err) = form_error(c.ctx.tr, e);
            err.field = f.field_of(&err.field).to_owned();
            rule_page(&s, c, status, None, Some((f, err))).await
        }
    }
}

pub async fn rule_run(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    let r = s
        .app
        .tags()
        .run_tag_rule_now(&c.session.actor, id)
        .await
        .map(drop);
    after(&s, c, r).await
}

pub async fn rule_delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    let r = s
        .app
        .tags()
        .delete_tag_rule(&c.session.actor, id)
        .await
        .map(drop);
    after_with(&s, c, r, "deleted").await
}

#[derive(Deserialize)]
pub struct CustomerTagForm {
    #[serde(default)]
    add: String,
    #[serde(default)]
    remove: String,
}

/// Tag or untag one customer from the 360° page.
pub async fn customer_tags(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<CustomerTagForm>,
) -> Response {
    let parse = |s: &str| s.trim().parse::<i64>().ok();
    let add: Vec<i64> = parse(&f.add).into_iter().collect();
    let remove: Vec<i64> = parse(&f.remove).into_iter().collect();
    match s
        .app
        .tags()
        .change_customer_tags(&c.session.actor, id, &add, &remove)
        .await
    {
        Ok(_) => Redirect::to(&format!("/console/customers/{id}?ok=saved")).into_response(),
        Err(e) => error_page(c.ctx, e),
    }
}

/// The catalogue, for a confirmation page (which needs the counts it shows).
async fn catalogue(s: &AppState, c: &Console) -> Result<Vec<GroupWithTags>, AppError> {
    s.app.tags().tag_catalogue(&c.session.actor).await
}

/// Confirm deleting a tag: how many customers hold it.
pub async fn tag_delete_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    let groups = match catalogue(&s, &c).await {
        Ok(g) => g,
        Err(e) => return error_page(c.ctx, e),
    };
    let Some(t) = groups.iter().flat_map(|g| &g.tags).find(|t| t.tag.id == id) else {
        return error_page(c.ctx, AppError::NotFound { what: "tag" });
    };
    let tr = c.ctx.tr;
    let name = format!("{}/{}", t.tag.group_name, t.tag.name);
    let n = grouped(i64::try_from(t.customers).unwrap_or(i64::MAX));
    let mut impact = vec![
        tr.fill("confirm.tag_holders", &[("n", &n)]),
        tr.t("confirm.tag_history").to_owned(),
    ];
    if t.tag.wecom_id.is_some() {
        impact.push(tr.t("confirm.tag_wecom").to_owned());
    }
    let confirm = Confirm {
        subject: tr.fill("confirm.tag", &[("name", &name)]),
        impact,
        outcome: "delete",
        action: format!("/console/tags/{id}/delete"),
        back: "/console/tags",
    };
    confirm_page(c.ctx, "tags", confirm)
}

/// Confirm deleting a tag group: its tags and how many tags customers lose.
pub async fn group_delete_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    let groups = match catalogue(&s, &c).await {
        Ok(g) => g,
        Err(e) => return error_page(c.ctx, e),
    };
    let Some(g) = groups.iter().find(|g| g.group.id == id) else {
        return error_page(c.ctx, AppError::NotFound { what: "tag group" });
    };
    let tr = c.ctx.tr;
    let held: u64 = g.tags.iter().map(|t| t.customers).sum();
    let (t, n) = (
        grouped(i64::try_from(g.tags.len()).unwrap_or(i64::MAX)),
        grouped(i64::try_from(held).unwrap_or(i64::MAX)),
    );
    let confirm = Confirm {
        subject: tr.fill("confirm.group", &[("name", &g.group.name)]),
        impact: vec![
            tr.fill("confirm.group_tags", &[("t", &t), ("n", &n)]),
            tr.t("confirm.tag_history").to_owned(),
        ],
        outcome: "delete",
        action: format!("/console/tags/groups/{id}/delete"),
        back: "/console/tags",
    };
    confirm_page(c.ctx, "tags", confirm)
}

/// Confirm deleting an auto-tag rule: it stops; its tags stay.
pub async fn rule_delete_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    let rules = match s.app.tags().list_tag_rules(&c.session.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let Some(r) = rules.iter().find(|r| r.id == id) else {
        return error_page(c.ctx, AppError::NotFound { what: "rule" });
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("confirm.rule", &[("name", &r.name)]),
        impact: vec![tr.t("confirm.rule_effect").to_owned()],
        outcome: "delete",
        action: format!("/console/tags/rules/{id}/delete"),
        back: "/console/tags",
    };
    confirm_page(c.ctx, "tags", confirm)
}
