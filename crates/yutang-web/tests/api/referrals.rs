//! Invite-a-friend (issue #19 item 5) through the HTTP API and the fake WeCom: programs,
//! personal links carried into WeCom as `customer_channel`, bindings on add and on the page,
//! the fraud rules, the hold, and both sides' rewards exactly once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_wecom::fake::{CallbackTarget, FakeEvent, FakeWecom};

use crate::acquisition::{add, deliver, run_sql, scalar};
use crate::helpers::{Engine, TestApp, error_of};
use crate::promotions::{created_id, template, token};
use crate::wecom::drain;
use crate::wecom_sync::{customer, guide, with_fake};

both_engines!(
    link_adds_bind_friends_and_reward_both_sides_once,
    page_bindings_qualify_on_add_and_refuse_fraud,
    concurrent_qualifications_keep_the_inviters_daily_cap,
    bad_programs_are_refused_naming_the_field,
);

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

/// A channel with one acquisition-link code (guide `g`): (code id, WeCom link id).
async fn link_code(t: &TestApp, g: i64, state: &str) -> (i64, String) {
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "老带新", "kind": "other"}),
        )
        .await,
    )
    .await;
    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": "邀请链接", "kind": "link", "state": state,
                "guides": [{"staff_id": g, "daily_cap": 500}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = json_of(r).await;
    (
        v["id"].as_i64().unwrap(),
        v["config_id"].as_str().unwrap().to_owned(),
    )
}

/// A coupon a customer may be given up to 50 times (an inviter is rewarded per friend).
async fn coupon(t: &TestApp) -> i64 {
    created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
            .await,
    )
    .await
}

fn program(code: i64, invitee: i64, inviter: i64, hold: i64, cap: i64) -> Value {
    json!({
        "name": "邀好友 得50元券", "live_code_id": code,
        "description": "好友首单满50元，双方各得一张券",
        "qualification": {"kind": "first_order", "min_order_fen": 5000, "hold_days": hold},
        "invitee_reward_template_id": invitee, "inviter_reward_template_id": inviter,
        "inviter_daily_cap": cap,
    })
}

/// A friend opens the inviter's link and adds the guide: the callback as delivered.
async fn open_link(
    t: &TestApp,
    fake: &FakeWecom,
    target: &CallbackTarget,
    link_id: &str,
    state: &str,
    name: &str,
) -> (i64, String) {
    let ev = fake
        .simulate_open_acquisition_link(link_id, Some(state), name)
        .unwrap();
    let FakeEvent::AddExternalContact {
        external_userid, ..
    } = &ev
    else {
        panic!("unexpected {ev:?}")
    };
    let xml = ev.to_xml(fake.corp_id(), chrono::Utc::now().timestamp());
    deliver(t, target, &xml).await;
    (customer(t, external_userid).await.unwrap(), xml)
}

async fn order(t: &TestApp, id: &str, customer: i64, fen: i64) -> i64 {
    order_at(t, id, customer, fen, &chrono::Utc::now().to_rfc3339()).await
}

/// An order paid at `paid_at` (a replay sends the same body).
async fn order_at(t: &TestApp, id: &str, customer: i64, fen: i64, paid_at: &str) -> i64 {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": id, "customer_id": customer, "channel": "mini_program",
                "paid_at": paid_at,
                "lines": [{"sku": "A", "name": "礼盒", "quantity": 1, "unit_price_fen": fen}]}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    json_of(r).await["order"]["id"].as_i64().unwrap()
}

/// The program's attempts: (invitee, status, reason, invitee reward, inviter reward).
async fn attempts(t: &TestApp, program: i64) -> Vec<(i64, String, String, String, String)> {
    let v = json_of(
        t.get(
            &format!("/api/v1/referral-programs/{program}/referrals?page_size=200"),
            &t.admin,
        )
        .await,
    )
    .await;
    let mut out: Vec<_> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["invitee_id"].as_i64().unwrap(),
                r["status"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
                r["invitee_reward"].as_str().unwrap().to_owned(),
                r["inviter_reward"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A customer created through the API (new to the pool: no guide, no order).
async fn new_customer(t: &TestApp, body: Value) -> i64 {
    let r = t.post("/api/v1/customers", &t.admin, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    json_of(r).await["customer"]["id"].as_i64().unwrap()
}

async fn coupons_of(t: &TestApp, customer: i64) -> usize {
    json_of(
        t.get(&format!("/api/v1/customers/{customer}/coupons"), &t.admin)
            .await,
    )
    .await
    .as_array()
    .map_or(0, Vec::len)
}

/// The hold is over: what a week passing does to the referrals and their queued jobs.
async fn hold_passes(t: &TestApp) {
    run_sql(
        t,
        "UPDATE referrals SET qualifies_at = 0 WHERE status = 'qualifying'",
    )
    .await;
    run_sql(
        t,
        "UPDATE jobs SET run_at = 0 WHERE kind = 'referral_qualify' AND status = 'queued'",
    )
    .await;
    t.settle_jobs().await;
}

async fn link_adds_bind_friends_and_reward_both_sides_once(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("REF-1").await;
    let g = guide(&t, store, "zhangwei").await;
    let (code, link_id) = link_code(&t, g, "invite-1").await;
    let (gift, thanks) = (coupon(&t).await, coupon(&t).await);
    // The inviter: a customer already in the pool.
    let (ext, _) = add(&t, &fake, &target, "zhangwei", "老客户", None).await;
    let inviter = customer(&t, &ext).await.unwrap();
    // WeCom's details of the contact (their name) arrive through a side job.
    t.settle_jobs().await;

    let r = t
        .post(
            "/api/v1/referral-programs",
            &t.admin,
            program(code, gift, thanks, 7, 20),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p = json_of(r).await;
    assert_eq!(p["code_kind"], "link");
    let pid = p["id"].as_i64().unwrap();

    // The inviter's link: made once, the same on every ask.
    let path = format!("/api/v1/referral-programs/{pid}/links");
    let r = t
        .post(&path, &t.admin, json!({"customer_id": inviter}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let link = json_of(r).await;
    let r = t
        .post(&path, &t.admin, json!({"customer_id": inviter}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["code"], link["code"]);
    // The customer asks for their own link with their token: the same one.
    let tok = token(&t, inviter).await;
    let r = t
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/public/referral-programs/{pid}/link"),
            Some(&tok),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["code"], link["code"]);
    let code_str = link["code"].as_str().unwrap().to_owned();
    let state = link["state"].as_str().unwrap().to_owned();
    assert_eq!(state, format!("rf-{code_str}"));
    assert!(
        link["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/h5/invite/{code_str}"))
    );

    // The invite as a friend sees it: the inviter masked, the link carrying their state.
    let r = t
        .req(
            reqwest::Method::GET,
            &format!("/api/v1/public/invites/{code_str}"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let inv = json_of(r).await;
    assert_eq!(inv["inviter"], "老**");
    assert!(
        inv["add_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("customer_channel={state}")),
        "{inv}"
    );
    assert_eq!(inv["running"], true);

    // Two friends add through the link; WeCom retries the first callback.
    let (f1, xml1) = open_link(&t, &fake, &target, &link_id, &state, "好友一").await;
    deliver(&t, &target, &xml1).await;
    let (f2, _) = open_link(&t, &fake, &target, &link_id, &state, "好友二").await;
    // The inviter follows their own link: refused, recorded.
    let r = t
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/public/invites/{code_str}/accept"),
            Some(&tok),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let out = json_of(r).await;
    assert_eq!(out["status"], "refused");
    assert_eq!(out["reason"], "self_invite");
    let mut want = vec![
        (f1, "bound".into(), "".into(), "".into(), "".into()),
        (f2, "bound".into(), "".into(), "".into(), "".into()),
        (
            inviter,
            "refused".into(),
            "self_invite".into(),
            "".into(),
            "".into(),
        ),
    ];
    want.sort();
    assert_eq!(attempts(&t, pid).await, want);
    // The adds count against the program's code and channel.
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT COUNT(*) FROM channel_adds WHERE code_id = {code}")
        )
        .await,
        2
    );
    // The friend's segment attribute and timeline entry name the inviter.
    let v = json_of(
        t.post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": format!("invited_by = \"customer:{inviter}\"")}),
        )
        .await,
    )
    .await;
    assert_eq!(v["count"], 2, "{v}");
    assert_eq!(
        crate::wecom_sync::timeline_count(&t, f1, "referred").await,
        1
    );

    // f1's first order (60 CNY) starts the hold; a smaller order of f2 does not count.
    let paid = chrono::Utc::now().to_rfc3339();
    let o1 = order_at(&t, "REF-O-1", f1, 6000, &paid).await;
    order(&t, "REF-O-2", f2, 4000).await;
    // A replayed order changes nothing.
    assert_eq!(order_at(&t, "REF-O-1", f1, 6000, &paid).await, o1);
    t.settle_jobs().await;
    let a = attempts(&t, pid).await;
    assert!(
        a.contains(&(f1, "qualifying".into(), "".into(), "".into(), "".into())),
        "{a:?}"
    );
    assert!(
        a.contains(&(f2, "bound".into(), "".into(), "".into(), "".into())),
        "{a:?}"
    );
    // A week later, not refunded: both sides rewarded.
    hold_passes(&t).await;
    let a = attempts(&t, pid).await;
    assert!(
        a.contains(&(
            f1,
            "rewarded".into(),
            "".into(),
            "issued".into(),
            "issued".into()
        )),
        "{a:?}"
    );
    assert_eq!(coupons_of(&t, f1).await, 1);
    assert_eq!(coupons_of(&t, inviter).await, 1);
    // The job run again (a redelivery) issues nothing more.
    let rid = scalar(
        &t,
        &format!("SELECT id FROM referrals WHERE invitee_id = {f1} AND status = 'rewarded'"),
    )
    .await;
    t.app
        .acquisition()
        .run_qualify_job(&json!({"referral_id": rid}).to_string())
        .await
        .unwrap();
    assert_eq!(coupons_of(&t, f1).await, 1);
    assert_eq!(coupons_of(&t, inviter).await, 1);
    // A refund later changes nothing for a rewarded friend.
    let r = t
        .post(
            &format!("/api/v1/orders/{o1}/refunds"),
            &t.admin,
            json!({"refund_id": "REF-R-1", "amount_fen": 6000}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());

    // f2 orders enough now, then refunds part of it inside the hold: disqualified.
    let o2 = order(&t, "REF-O-3", f2, 8000).await;
    let r = t
        .post(
            &format!("/api/v1/orders/{o2}/refunds"),
            &t.admin,
            json!({"refund_id": "REF-R-2", "amount_fen": 100}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    hold_passes(&t).await;
    let a = attempts(&t, pid).await;
    assert!(
        a.contains(&(
            f2,
            "disqualified".into(),
            "order_refunded".into(),
            "".into(),
            "".into()
        )),
        "{a:?}"
    );
    assert_eq!(coupons_of(&t, f2).await, 0);

    // The numbers: one visit, three attempts, one refusal, one reward each side, f1's and
    // f2's orders after binding (net of refunds).
    let p = json_of(
        t.get(&format!("/api/v1/referral-programs/{pid}"), &t.admin)
            .await,
    )
    .await;
    let tot = &p["totals"];
    assert_eq!(tot["visits"], 1, "{tot}");
    assert_eq!(tot["bound"], 2);
    assert_eq!(tot["rewarded"], 1);
    assert_eq!(tot["disqualified"], 1);
    assert_eq!(tot["refused"], json!([["self_invite", 1]]));
    assert_eq!(tot["invitee_rewards_issued"], 1);
    assert_eq!(tot["inviter_rewards_issued"], 1);
    assert_eq!(tot["orders"], 3);
    assert_eq!(tot["gmv_fen"], 4000 + 8000 - 100);
    let inv = json_of(
        t.get(
            &format!("/api/v1/referral-programs/{pid}/inviters"),
            &t.admin,
        )
        .await,
    )
    .await;
    assert_eq!(inv[0]["bound"], 2, "{inv}");
    assert_eq!(inv[0]["rewarded"], 1);
    // Another store's manager sees the (brand-wide) program but not this store's inviter.
    let other = t.store("REF-1B").await;
    t.staff("mgr.ref1b", "store_manager", Some(other)).await;
    let mtok = t.login("mgr.ref1b").await;
    let r = t
        .get(&format!("/api/v1/referral-programs/{pid}/inviters"), &mtok)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await, json!([]));

    // f1 spends the friend's coupon (满50减10) on a later order: the program's reward cost.
    let coupons = json_of(
        t.get(&format!("/api/v1/customers/{f1}/coupons"), &t.admin)
            .await,
    )
    .await;
    let coupon_id = coupons[0]["id"].as_i64().unwrap();
    let o9 = order(&t, "REF-O-9", f1, 6000).await;
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon_id}/redeem"),
            &t.admin,
            json!({"order_id": o9}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let p = json_of(
        t.get(&format!("/api/v1/referral-programs/{pid}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(p["totals"]["rewards_used"], 1, "{p}");
    assert_eq!(p["totals"]["reward_cost_fen"], 1000);

    // Archived: the page says so, and a new friend through the link is refused.
    let r = t
        .post(
            &format!("/api/v1/referral-programs/{pid}/archive"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (f3, _) = open_link(&t, &fake, &target, &link_id, &state, "好友三").await;
    let a = attempts(&t, pid).await;
    assert!(
        a.contains(&(
            f3,
            "refused".into(),
            "program_not_running".into(),
            "".into(),
            "".into()
        )),
        "{a:?}"
    );
}

/// A friend signed in on the page (a mini-program web-view) is bound there; an `added` rule
/// counts their add through the code afterwards. Refused: a customer already in the pool, a
/// friend bound twice, and one person behind two friends (their accounts merged).
async fn page_bindings_qualify_on_add_and_refuse_fraud(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("REF-2").await;
    let g = guide(&t, store, "wangfang").await;
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "小程序邀请", "kind": "other"}),
        )
        .await,
    )
    .await;
    let code = created_id(
        t.post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": "门店码", "state": "mp-invite",
                "guides": [{"staff_id": g, "daily_cap": 500}]}),
        )
        .await,
    )
    .await;
    let gift = coupon(&t).await;
    let pid = created_id(
        t.post(
            "/api/v1/referral-programs",
            &t.admin,
            json!({"name": "邀请好友下单", "live_code_id": code,
                "qualification": {"kind": "first_order", "hold_days": 0},
                "invitee_reward_template_id": gift}),
        )
        .await,
    )
    .await;
    // A guide's own link (a guide may ask for theirs).
    let gtok = t.login("g.wangfang").await;
    let r = t
        .post(
            &format!("/api/v1/referral-programs/{pid}/links"),
            &gtok,
            json!({"staff_id": g}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let link = json_of(r).await;
    let code_str = link["code"].as_str().unwrap().to_owned();
    // … but not another guide's.
    let other = guide(&t, store, "lina").await;
    let r = t
        .post(
            &format!("/api/v1/referral-programs/{pid}/links"),
            &gtok,
            json!({"staff_id": other}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The invite of a QR-code program shows the code's image, the same for everyone.
    let inv = json_of(
        t.req(
            reqwest::Method::GET,
            &format!("/api/v1/public/invites/{code_str}"),
            None,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(inv["code_kind"], "contact_way");
    assert!(!inv["inviter"].as_str().unwrap().is_empty(), "{inv}");

    let accept = |tok: String| {
        let t = &t;
        let code_str = code_str.clone();
        async move {
            let r = t
                .req(
                    reqwest::Method::POST,
                    &format!("/api/v1/public/invites/{code_str}/accept"),
                    Some(&tok),
                )
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, json_of(r).await)
        }
    };
    let new_customer = |ids: Value| new_customer(&t, json!({ "identities": ids }));
    // A mini-program user, new to the pool: bound on the page; a repeat answers the same.
    let k = new_customer(json!([{"kind": "unionid", "value": "uK"}])).await;
    let friend = new_customer(json!([{"kind": "phone", "value": "139 0000 0007"}])).await;
    let (st, out) = accept(token(&t, friend).await).await;
    assert_eq!(
        (st, out["status"].as_str()),
        (StatusCode::CREATED, Some("bound"))
    );
    let (st, out) = accept(token(&t, friend).await).await;
    assert_eq!(
        (st, out["created"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    // A customer already in the pool (a WeCom contact of a guide): refused.
    let (ext, _) = add(&t, &fake, &target, "wangfang", "老朋友", None).await;
    let old = customer(&t, &ext).await.unwrap();
    let (_, out) = accept(token(&t, old).await).await;
    assert_eq!(out["reason"], "already_in_pool");
    // The friend's phone turns up on K's record: the two are one person, merged into K.
    // K following the same link is one person behind two friends: refused.
    let r = t
        .post(
            "/api/v1/customers",
            &t.admin,
            json!({"identities": [{"kind": "unionid", "value": "uK"},
                {"kind": "phone", "value": "139 0000 0007"}]}),
        )
        .await;
    assert!(r.status().is_success());
    let (_, out) = accept(token(&t, k).await).await;
    assert_eq!(out["reason"], "identity_reused", "{out}");

    // A fresh friend bound on the page orders in the mini-program: with no hold, rewarded
    // at once (a guide's link: the friend's side only).
    let f = new_customer(json!([{"kind": "unionid", "value": "uF"}])).await;
    let (_, out) = accept(token(&t, f).await).await;
    assert_eq!(out["status"], "bound");
    order(&t, "REF2-O-1", f, 100).await;
    t.settle_jobs().await;
    let a = attempts(&t, pid).await;
    assert!(
        a.contains(&(f, "rewarded".into(), "".into(), "issued".into(), "".into())),
        "{a:?}"
    );
    assert_eq!(coupons_of(&t, f).await, 1);
    // The guide's link counts on their page of inviters.
    let inv = json_of(
        t.get(&format!("/api/v1/referral-programs/{pid}/inviters"), &gtok)
            .await,
    )
    .await;
    assert_eq!(inv[0]["staff_id"], g, "{inv}");
    assert_eq!(inv[0]["rewarded"], 1);
}

/// Six friends of one inviter add the guide through the link (an `added` rule with a day's
/// hold) and their judging jobs run concurrently: the inviter's daily cap of 2 holds exactly
/// (the link row lock), every friend gets theirs.
async fn concurrent_qualifications_keep_the_inviters_daily_cap(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("REF-3").await;
    let g = guide(&t, store, "zhaolei").await;
    let (code, link_id) = link_code(&t, g, "invite-3").await;
    let (gift, thanks) = (coupon(&t).await, coupon(&t).await);
    let inviter = new_customer(
        &t,
        json!({"identities": [{"kind": "unionid", "value": "uInviter"}], "name": "李娜"}),
    )
    .await;
    let pid = created_id(
        t.post(
            "/api/v1/referral-programs",
            &t.admin,
            json!({"name": "邀请好友加导购", "live_code_id": code,
                "qualification": {"kind": "added", "hold_days": 1},
                "invitee_reward_template_id": gift, "inviter_reward_template_id": thanks,
                "inviter_daily_cap": 2}),
        )
        .await,
    )
    .await;
    let link = json_of(
        t.post(
            &format!("/api/v1/referral-programs/{pid}/links"),
            &t.admin,
            json!({"customer_id": inviter}),
        )
        .await,
    )
    .await;
    let state = link["state"].as_str().unwrap().to_owned();
    let mut friends = Vec::new();
    for i in 0..6 {
        let (f, _) = open_link(&t, &fake, &target, &link_id, &state, &format!("好友{i}")).await;
        friends.push(f);
    }
    // A seventh friend adds, then deletes the guide before the day is over.
    let ev = fake
        .simulate_open_acquisition_link(&link_id, Some(&state), "好友7")
        .unwrap();
    let FakeEvent::AddExternalContact {
        external_userid, ..
    } = &ev
    else {
        panic!("unexpected {ev:?}")
    };
    assert_eq!(fake.push(&target, &ev).await.unwrap().status, 200);
    drain(&t).await;
    let gone = fake.simulate_customer_deletes_staff("zhaolei", external_userid);
    assert_eq!(fake.push(&target, &gone).await.unwrap().status, 200);
    drain(&t).await;
    let f7 = customer(&t, external_userid).await.unwrap();
    friends.push(f7);
    // Each add qualified them (the `added` rule); the day's hold passes, then every judging
    // job runs at once.
    run_sql(
        &t,
        "UPDATE referrals SET qualifies_at = 0 WHERE status = 'qualifying'",
    )
    .await;
    let mut ids = Vec::new();
    for f in &friends {
        ids.push(
            scalar(
                &t,
                &format!(
                    "SELECT id FROM referrals WHERE invitee_id = {f} AND status = 'qualifying'"
                ),
            )
            .await,
        );
    }
    let runs = ids.iter().map(|id| {
        let app = t.app.clone();
        let payload = json!({"referral_id": id}).to_string();
        tokio::spawn(async move { app.acquisition().run_qualify_job(&payload).await })
    });
    for r in futures_util::future::join_all(runs).await {
        r.unwrap().unwrap();
    }
    let mut a = attempts(&t, pid).await;
    let deleted = a.iter().position(|x| x.0 == f7).unwrap();
    assert_eq!(
        a.remove(deleted),
        (
            f7,
            "disqualified".into(),
            "contact_deleted".into(),
            "".into(),
            "".into()
        )
    );
    let issued = a.iter().filter(|x| x.4 == "issued").count();
    let withheld = a
        .iter()
        .filter(|x| x.4 == "withheld" && x.2 == "inviter_daily_cap")
        .count();
    assert_eq!((issued, withheld), (2, 4), "{a:?}");
    assert!(
        a.iter().all(|x| x.1 == "rewarded" && x.3 == "issued"),
        "{a:?}"
    );
    assert_eq!(coupons_of(&t, inviter).await, 2);
}

async fn bad_programs_are_refused_naming_the_field(e: Engine) {
    let (t, _fake, _target) = with_fake(e).await;
    let store = t.store("REF-4").await;
    let g = guide(&t, store, "sunli").await;
    let (code, _) = link_code(&t, g, "invite-4").await;
    let gift = coupon(&t).await;
    let good = program(code, gift, gift, 7, 20);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            {
                let mut v = good.clone();
                v.as_object_mut().unwrap().remove("qualification");
                v
            },
            "required",
            "qualification",
        ),
        (
            {
                let mut v = good.clone();
                v["qualification"]["hold_days"] = json!(31);
                v
            },
            "invalid_count",
            "qualification.hold_days",
        ),
        (
            {
                let mut v = good.clone();
                v["inviter_daily_cap"] = json!(0);
                v
            },
            "invalid_count",
            "inviter_daily_cap",
        ),
        (
            {
                let mut v = good.clone();
                v["live_code_id"] = json!(999_999);
                v
            },
            "unknown_reference",
            "live_code_id",
        ),
        (
            {
                let mut v = good.clone();
                v["name"] = json!("邀请\u{7}有礼");
                v
            },
            "invalid_characters",
            "name",
        ),
        (
            {
                let mut v = good.clone();
                v["surprise"] = json!(1);
                v
            },
            "unknown_field",
            "surprise",
        ),
    ];
    for (body, code_want, field) in cases {
        let r = t.post("/api/v1/referral-programs", &t.admin, body).await;
        let (status, c, f) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!((c.as_str(), f.as_deref()), (code_want, Some(field)));
    }
    // An archived coupon cannot be a reward.
    run_sql(
        &t,
        &format!("UPDATE coupon_templates SET status = 'archived' WHERE id = {gift}"),
    )
    .await;
    let (status, c, f) = error_of(
        t.post("/api/v1/referral-programs", &t.admin, good.clone())
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (c.as_str(), f.as_deref()),
        ("promotion_archived", Some("invitee_reward_template_id"))
    );
    // A live code's state may not look like a referral link's.
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "x", "kind": "ad"}),
        )
        .await,
    )
    .await;
    let (status, c, f) = error_of(
        t.post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": "y", "state": "rf-abc",
                "guides": [{"staff_id": g, "daily_cap": 5}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (c.as_str(), f.as_deref()),
        ("state_reserved", Some("state"))
    );
    // A link request names exactly one inviter.
    let pid = created_id(
        t.post(
            "/api/v1/referral-programs",
            &t.admin,
            program(code, coupon(&t).await, coupon(&t).await, 7, 20),
        )
        .await,
    )
    .await;
    let (status, c, _) = error_of(
        t.post(
            &format!("/api/v1/referral-programs/{pid}/links"),
            &t.admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, c.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "one_inviter")
    );
    // Unknown links are 404, whatever their shape.
    for code in ["abc", "abcdefghjkmn", "../../etc"] {
        let r = t
            .req(
                reqwest::Method::GET,
                &format!("/api/v1/public/invites/{code}"),
                None,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{code}");
    }
}
