//! The leaderboard and incentive pool pages (排行榜与激励, issue #23 item 6) through HTTP:
//! the board in the menu, ranked, with the caller's own rank for a guide; 新建激励池 for
//! headquarters only, a refusal under its field with nothing written; a pool's split shown,
//! settled once from the page and exported for payroll; a guide sees only their own row; the
//! pages read in English too.

use reqwest::StatusCode;

use crate::acquisition::scalar;
use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form, refused};
use crate::dashboard::order;
use crate::helpers::{Engine, spawn_with};

both_engines!(console_leaderboards_by_role);

const DAY_MS: i64 = 86_400_000;

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

async fn console_leaderboards_by_role(e: Engine) {
    let t = spawn_with(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let store = t.store("CLB-A").await;
    let g1 = t.staff("clb.guide1", "guide", Some(store)).await;
    let g2 = t.staff("clb.guide2", "guide", Some(store)).await;
    t.staff("clb.admin", "admin", None).await;
    let c = crate::customers::customer_with_phone(&t, "13812345678", "李女士").await;
    // 40 days ago: g1 sold 300 yuan, g2 100 yuan.
    let then_ms = t.app.now() - 40 * DAY_MS;
    order(&t, "CLB-1", c, 30_000, then_ms, Some(store), Some(g1)).await;
    order(&t, "CLB-2", c, 10_000, then_ms, Some(store), Some(g2)).await;
    t.app.analytics().follow().await.unwrap();
    let then = chrono::DateTime::from_timestamp_millis(then_ms + 8 * 3_600_000)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();

    // The board in the menu; by GMV on that day, g1 first.
    let admin = console_login(&t, "clb.admin").await;
    let (status, html) = page(
        &t,
        &admin,
        &format!("/console/leaderboards?metric=gmv&period=day&date={then}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<a href="/console/leaderboards" class="on">排行榜与激励</a>"#));
    let first = html
        .find(&format!(r#"data-id="{g1}" data-rank="1""#))
        .expect("g1 first");
    let second = html
        .find(&format!(r#"data-id="{g2}" data-rank="2""#))
        .expect("g2 second");
    assert!(first < second);
    assert!(html.contains("300.00") && html.contains(r#"id="new-pool""#));
    assert!(html.contains("还没有激励池"));

    // 新建激励池: shares not summing to 100% come back under their field; nothing written.
    let (status, html) = page(&t, &admin, "/console/incentive-pools/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"value="80""#) && html.contains(r#"value="20""#));
    let csrf = csrf_in(&html);
    let form = |individual: &str, team: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "业绩激励".to_owned()),
            ("period", "month".to_owned()),
            ("date", then.clone()),
            ("level", "brand".to_owned()),
            ("store_id", String::new()),
            ("region_id", String::new()),
            ("metric", "gmv".to_owned()),
            ("amount", "1000".to_owned()),
            ("individual_pct", individual.to_owned()),
            ("team_pct", team.to_owned()),
        ]
    };
    let r = post_form(&t, &admin, "/console/incentive-pools", &form("80", "30")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("team_pct", zh("invalid_shares"))),
        "{html}"
    );
    assert!(
        html.contains(r#"value="业绩激励""#),
        "what was typed is kept"
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM incentive_pools").await, 0);

    // Created: the split shown live (800 by 300 : 100; 200 equally in the one store).
    let r = post_form(&t, &admin, "/console/incentive-pools", &form("80", "20")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = location(&r);
    let (status, html) = page(&t, &admin, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-state="draft""#));
    assert!(
        html.contains(&format!(r#"data-staff="{g1}" data-total="70000""#)),
        "{html}"
    );
    assert!(html.contains(&format!(r#"data-staff="{g2}" data-total="30000""#)));
    // 结算 from the page; a second post changes nothing; then the payroll download.
    let csrf = csrf_in(&html);
    for _ in 0..2 {
        let r = post_form(
            &t,
            &admin,
            &format!("{loc}/settle"),
            &[("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (_, html) = page(&t, &admin, &loc).await;
    assert!(html.contains(r#"data-state="settled""#) && html.contains(r#"id="export-xlsx""#));
    assert!(
        !html.contains(r#"id="pool-form""#),
        "a settled pool has no form"
    );
    let id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT COUNT(*) FROM incentive_payouts WHERE pool_id = {id}")
        )
        .await,
        2
    );
    let r = t
        .client
        .get(t.url(&format!("{loc}/export")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    let csv = crate::helpers::csv_download(r).await;
    assert!(
        csv.contains("clb.guide1") && csv.contains("600.00,100.00,700.00"),
        "{csv}"
    );

    // A guide: their rank on the board, the pool with their own row only, no pool form.
    let guide = console_login(&t, "clb.guide2").await;
    let (status, html) = page(
        &t,
        &guide,
        &format!("/console/leaderboards?metric=gmv&period=day&date={then}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<p id="my-rank">我的名次：2</p>"#),
        "{html}"
    );
    assert!(!html.contains(r#"id="new-pool""#));
    let (_, html) = page(&t, &guide, &loc).await;
    assert!(html.contains(&format!(r#"data-staff="{g2}""#)));
    assert!(!html.contains(&format!(r#"data-staff="{g1}""#)));
    let (status, _) = page(&t, &guide, "/console/incentive-pools/new").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = post_form(&t, &guide, "/console/incentive-pools", &form("80", "20")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // In English.
    let en = format!("{admin}; yutang_lang=en");
    let (_, html) = page(&t, &en, "/console/leaderboards").await;
    assert!(
        html.contains("Leaderboards") && html.contains("Incentive pools"),
        "{html}"
    );
}
