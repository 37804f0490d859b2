//! The confirmation step of every console delete (issue #18): a GET page that names what
//! will go and what it affects (in the reader's language), with the POST form that does it.
//! It works without JavaScript; the list pages link to it instead of posting directly.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Ctx, render};

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage {
    ctx: Ctx,
    title: String,
    subject: String,
    impact: Vec<String>,
    /// `delete`, `archive`, `revoke` or `rotate`: what the button will do (for tests and
    /// styling).
    outcome: &'static str,
    action: String,
    button: &'static str,
    back: String,
}

/// What a confirmation page says and where its form posts.
pub struct Confirm {
    pub subject: String,
    pub impact: Vec<String>,
    pub outcome: &'static str,
    pub action: String,
    pub back: &'static str,
}

pub fn confirm_page(mut ctx: Ctx, active: &'static str, c: Confirm) -> Response {
    ctx.active = active;
    let (title, button) = match c.outcome {
        "archive" => ("confirm.archive_title", "confirm.archive"),
        "revoke" => ("confirm.revoke_title", "tokens.revoke"),
        "rotate" => ("webhooks.rotate_title", "webhooks.rotate"),
        _ => ("confirm.delete_title", "common.delete"),
    };
    let page = ConfirmPage {
        title: ctx.tr.t(title).to_owned(),
        button: ctx.tr.t(button),
        ctx,
        subject: c.subject,
        impact: c.impact,
        outcome: c.outcome,
        action: c.action,
        back: c.back.to_owned(),
    };
    render(StatusCode::OK, &page)
}

/// `4622` → `4,622`.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(121), "121");
        assert_eq!(grouped(4622), "4,622");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(-4622), "-4,622");
    }
}
