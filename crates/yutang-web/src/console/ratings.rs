//! `/console/ratings` (服务评价, issue #23 item 5): the customers' ratings of their guides'
//! service — each with the customer, the guide and store, what was rated (a task or an
//! order), the stars and the comment — filtered by score and period, and the ranking of guides
//! (or stores) by average. The staff page shows one guide's average and latest comments
//! ([`staff_block`]).
//!
//! Everything goes through `app.ratings()`: a guide sees their own ratings, a store manager
//! their store's, headquarters and analysts every rating.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::Actor;
use yutang_app::ratings::{By, RatingQuery, RatingView, SummaryLine};
use yutang_core::ratings::{average_text, stars};

use super::layout::{ConsoleQuery, error_page, link};
use super::{Console, Ctx, render};
use crate::state::AppState;

const LIST_PATH: &str = "/console/ratings";
const ACTIVE: &str = "ratings";
/// Ratings on one page of the list.
const PAGE: i64 = 50;
/// Comments the staff page shows.
const STAFF_COMMENTS: i64 = 5;

/// The page's filters, as in its address.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    /// `1`–`5`: only scores at or under it; empty for all.
    max_score: String,
    /// `7`, `30`, `90`; empty for all time.
    days: String,
    /// The ranking: `staff` (default) or `store`.
    by: String,
    /// The last id of the previous page.
    before: Option<i64>,
}

impl PageQuery {
    fn max_score(&self) -> Option<i64> {
        self.max_score.trim().parse().ok()
    }
    fn days(&self) -> Option<i64> {
        self.days.trim().parse().ok()
    }
    fn by(&self) -> By {
        match self.by.trim() {
            "store" => By::Store,
            _ => By::Staff,
        }
    }
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("max_score", self.max_score.trim().to_owned()),
            ("days", self.days.trim().to_owned()),
            ("by", self.by.trim().to_owned()),
        ]
    }
}

#[derive(Template)]
#[template(path = "console/ratings.html")]
struct RatingsPage {
    ctx: Ctx,
    rows: Vec<RatingView>,
    ranking: Vec<SummaryLine>,
    q: PageQuery,
    next: Option<String>,
    first: Option<String>,
}

impl RatingsPage {
    fn stars(&self, s: &i64) -> String {
        stars(*s)
    }
    fn avg(&self, m: &i64) -> String {
        average_text(*m)
    }
    fn subject(&self, r: &RatingView) -> String {
        super::labels::code_or_raw(self.ctx.tr, "ratings.subject.", &r.subject_kind)
    }
    /// `(value, label, selected)` of the score filter.
    fn score_options(&self) -> Vec<(&'static str, String, bool)> {
        ["1", "2", "3", "4"]
            .into_iter()
            .map(|n| {
                let label = self.ctx.tr.fill("ratings.max_score_n", &[("n", n)]);
                (n, label, self.q.max_score.trim() == n)
            })
            .collect()
    }
    /// `(value, label, selected)` of the period filter.
    fn day_options(&self) -> Vec<(&'static str, String, bool)> {
        ["7", "30", "90"]
            .into_iter()
            .map(|d| {
                let label = self.ctx.tr.fill("ratings.last_days", &[("n", d)]);
                (d, label, self.q.days.trim() == d)
            })
            .collect()
    }
    fn by_store(&self) -> bool {
        self.q.by() == By::Store
    }
}

pub async fn list(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<PageQuery>,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let query = RatingQuery {
        max_score: q.max_score(),
        days: q.days(),
        before: q.before,
        limit: Some(PAGE),
        ..RatingQuery::default()
    };
    let list = match s.app.ratings().list(a, &query).await {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let rank_query = RatingQuery {
        days: q.days(),
        ..RatingQuery::default()
    };
    let ranking = match s.app.ratings().summary(a, q.by(), &rank_query).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let params = q.params();
    let next = list
        .next_before
        .map(|n| link(LIST_PATH, &params, &[("before", n.to_string())]));
    let first = q.before.map(|_| link(LIST_PATH, &params, &[]));
    render(
        StatusCode::OK,
        &RatingsPage {
            ctx: c.ctx,
            rows: list.items,
            ranking,
            q,
            next,
            first,
        },
    )
}

/// A guide's ratings on the staff page: the average, the count and the latest comments.
pub(crate) struct StaffRatings {
    /// `4.3`; empty without ratings.
    pub average: String,
    pub count: i64,
    pub low_count: i64,
    /// The latest ratings with a comment.
    pub latest: Vec<Comment>,
}

/// One comment on the staff page.
pub(crate) struct Comment {
    pub stars: String,
    pub comment: String,
    pub at: i64,
}

/// The block for staff member `staff`, within the viewer's scope (`None` when the viewer
/// sees none of their ratings, or on error).
pub(crate) async fn staff_block(s: &AppState, actor: &Actor, staff: i64) -> Option<StaffRatings> {
    let r = s.app.ratings();
    let q = RatingQuery {
        staff_id: Some(staff),
        ..RatingQuery::default()
    };
    let line = r
        .summary(actor, By::Staff, &q)
        .await
        .ok()?
        .into_iter()
        .find(|l| l.id == Some(staff));
    let page = r
        .list(
            actor,
            &RatingQuery {
                limit: Some(50),
                ..q
            },
        )
        .await
        .ok()?;
    let latest = page
        .items
        .into_iter()
        .filter(|v| !v.comment.is_empty())
        .take(STAFF_COMMENTS as usize)
        .map(|v| Comment {
            stars: stars(v.score),
            comment: v.comment,
            at: v.created_at,
        })
        .collect();
    Some(match line {
        Some(l) => StaffRatings {
            average: average_text(l.average_milli),
            count: l.count,
            low_count: l.low_count,
            latest,
        },
        None => StaffRatings {
            average: String::new(),
            count: 0,
            low_count: 0,
            latest,
        },
    })
}

// ---------------------------------------------------------------- texts

pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "ratings.nav" => ("服务评价", "Service ratings"),
        "ratings.title" => ("服务评价", "Service ratings"),
        "ratings.intro" => (
            "客户在 H5 对已完成的导购待办和订单打分（1–5 星）并留言。低分评价会通过企业微信应用消息提醒导购所在门店的店长。右侧为导购（或门店）按平均分的排行。",
            "Customers rate done guide tasks and their orders (1–5 stars) with a comment on the H5 page. A low rating alerts the guide's store managers through a WeCom app message. The ranking orders guides (or stores) by average.",
        ),
        "ratings.when" => ("时间", "When"),
        "ratings.customer" => ("客户", "Customer"),
        "ratings.guide" => ("导购", "Guide"),
        "ratings.store" => ("门店", "Store"),
        "ratings.subject" => ("评价对象", "Rated"),
        "ratings.subject.task" => ("服务待办", "Guide task"),
        "ratings.subject.order" => ("订单", "Order"),
        "ratings.score" => ("评分", "Score"),
        "ratings.comment" => ("评语", "Comment"),
        "ratings.low" => ("低分", "Low"),
        "ratings.all_scores" => ("全部评分", "Every score"),
        "ratings.max_score_n" => ("≤ {n} 星", "≤ {n} stars"),
        "ratings.all_time" => ("全部时间", "All time"),
        "ratings.last_days" => ("近 {n} 天", "Last {n} days"),
        "ratings.ranking" => ("排行", "Ranking"),
        "ratings.by_staff" => ("按导购", "By guide"),
        "ratings.by_store" => ("按门店", "By store"),
        "ratings.rank" => ("名次", "Rank"),
        "ratings.name" => ("名称", "Name"),
        "ratings.average" => ("平均分", "Average"),
        "ratings.count" => ("评价数", "Ratings"),
        "ratings.low_count" => ("低分数", "Low"),
        "ratings.empty" => ("没有符合条件的评价。", "No rating matches."),
        "ratings.ranking_empty" => ("还没有评价。", "No ratings yet."),
        "ratings.more" => ("下一页", "Next page"),
        "ratings.first_page" => ("回到第一页", "First page"),
        "ratings.staff_title" => ("服务评价", "Service ratings"),
        "ratings.staff_summary" => (
            "平均 {avg} 分，共 {n} 条评价（低分 {low} 条）",
            "Average {avg} from {n} ratings ({low} low)",
        ),
        "ratings.staff_none" => ("还没有客户评价。", "No customer has rated them yet."),
        "ratings.staff_comments" => ("最新评语", "Latest comments"),
        // The customer's page (/h5/consultant).
        "ratings.h5.title" => ("我的专属顾问", "My consultant"),
        "ratings.h5.subtitle" => (
            "查看您的专属顾问，可在本门店内更换，并为服务打分",
            "See your consultant, choose another in your store, and rate our service",
        ),
        "ratings.h5.current" => ("当前顾问", "Your consultant"),
        "ratings.h5.none" => ("您还没有专属顾问", "You have no consultant yet"),
        "ratings.h5.choose_title" => ("更换顾问", "Choose another consultant"),
        "ratings.h5.no_choices" => ("本门店暂无其他导购", "No other guide in your store"),
        "ratings.h5.choose" => ("选TA", "Choose"),
        "ratings.h5.chosen_done" => ("已更换专属顾问", "Your consultant has changed"),
        "ratings.h5.chosen_pending" => (
            "已通知导购添加您为好友，添加后即成为您的专属顾问",
            "The guide was asked to add you; they become your consultant once they have",
        ),
        "ratings.h5.chosen_unchanged" => {
            ("TA 已是您的专属顾问", "They are your consultant already")
        }
        "ratings.h5.pending" => (
            "等待 {name} 添加您为好友后生效",
            "Waiting for {name} to add you as a contact",
        ),
        "ratings.h5.average" => ("{avg} 分 · {n} 条评价", "{avg} · {n} ratings"),
        "ratings.h5.no_ratings" => ("暂无评价", "No ratings yet"),
        "ratings.h5.rate_title" => ("服务评价", "Rate our service"),
        "ratings.h5.nothing_to_rate" => ("暂无待评价的服务", "Nothing to rate"),
        "ratings.h5.task" => ("服务", "Service"),
        "ratings.h5.order" => ("订单 {no}", "Order {no}"),
        "ratings.h5.comment" => ("说说您的感受（选填）", "Tell us more (optional)"),
        "ratings.h5.submit" => ("提交评价", "Submit"),
        "ratings.h5.thanks" => ("感谢您的评价", "Thank you for your rating"),
        "ratings.h5.pick_score" => ("请选择 1–5 星", "Pick 1 to 5 stars"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_has_both_languages() {
        for k in yutang_core::ratings::SubjectKind::ALL {
            let key = format!("ratings.subject.{}", k.as_str());
            let (zh, en) = text(&key).unwrap_or_else(|| panic!("{key}"));
            assert!(!zh.is_empty() && !en.is_empty());
        }
    }

    #[test]
    fn the_filters_parse() {
        let q = PageQuery {
            max_score: " 2 ".into(),
            days: "x".into(),
            by: "store".into(),
            before: None,
        };
        assert_eq!(q.max_score(), Some(2));
        assert_eq!(q.days(), None);
        assert_eq!(q.by(), By::Store);
        assert_eq!(PageQuery::default().by(), By::Staff);
    }
}
