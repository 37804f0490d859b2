//! Contact callbacks are applied in one transaction whatever WeCom's API does; what needs
//! WeCom (details, corp tags) runs as retried jobs; callbacks that keep failing are parked,
//! listed and replayed; failed WeCom jobs are listed and retried.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_app::wecom::{CONTACT_DETAILS_KIND, MAX_ATTEMPTS};
use yutang_wecom::fake::corp::Follow;
use yutang_wecom::fake::{FakeEvent, FakeWecom};

use crate::helpers::{Engine, TestApp, error_of};
use crate::wecom::{drain, inbox};
use crate::wecom_sync::{customer, fake_paths, guide, tag_paths, timeline_count, with_fake};

both_engines!(
    contact_callbacks_survive_a_wecom_outage,
    parked_callbacks_are_listed_and_replayed,
);

/// How many contacts add the guide in the same second.
const CONTACTS: usize = 50;
pub(crate) const CREATE_TIME: i64 = 1_700_000_000;

/// Deliver `xml` the way WeCom does, `times` times, every delivery of every event at once.
async fn deliver_all(t: &TestApp, target: &yutang_wecom::fake::CallbackTarget, xmls: &[String]) {
    let mut set = tokio::task::JoinSet::new();
    for xml in xmls {
        for _ in 0..3 {
            let (xml, target) = (xml.clone(), target.clone());
            set.spawn(async move {
                let http = reqwest::Client::new();
                yutang_wecom::fake::push::push_xml(&http, &target, &xml, CREATE_TIME)
                    .await
                    .unwrap()
            });
        }
    }
    while let Some(out) = set.join_next().await {
        let out = out.unwrap();
        assert_eq!(out.status, 200, "{out:?}");
    }
    drain(t).await;
}

async fn jobs_of_kind(t: &TestApp, kind: &str) -> Vec<yutang_store::jobs::JobRow> {
    yutang_store::jobs::list(&t.app.db, Some(kind), 10_000)
        .await
        .unwrap()
}

async fn follow_state(t: &TestApp, customer: i64, staff: i64) -> String {
    let v: Value = t
        .get(&format!("/api/v1/customers/{customer}/follows"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|f| f["staff_id"] == staff)
        .map(|f| f["state"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn add_event(external: &str) -> FakeEvent {
    FakeEvent::AddExternalContact {
        userid: "zhangwei".into(),
        external_userid: external.into(),
        state: None,
        welcome_code: None,
    }
}

/// Issue #16 item 19: 50 contacts add one guide in the same second, each callback delivered
/// 3 times, WeCom's API down. Every customer, follow and exactly one `add_friend` event
/// each; the details/tags jobs fail meanwhile and complete once WeCom is back.
async fn contact_callbacks_survive_a_wecom_outage(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("WX-OUT").await;
    let staff = guide(&t, store, "zhangwei").await;
    // The corp tags are known before the outage, so a tag on a new contact maps.
    let r = t
        .post("/api/v1/tag-groups/sync-wecom", &t.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let externals: Vec<String> = (0..CONTACTS)
        .map(
            |i| match fake.simulate_add_customer("zhangwei", &format!("新客{i}"), None) {
                FakeEvent::AddExternalContact {
                    external_userid, ..
                } => external_userid,
                other => panic!("unexpected {other:?}"),
            },
        )
        .collect();
    fake.with_corp(|c| {
        for f in c
            .follows
            .iter_mut()
            .filter(|f| f.external_userid == externals[0])
        {
            f.tag_ids = vec!["etDemoLevel2".into()];
        }
    });
    fake.set_unreachable(true);
    let xmls: Vec<String> = externals
        .iter()
        .map(|x| add_event(x).to_xml(fake.corp_id(), CREATE_TIME))
        .collect();
    deliver_all(&t, &target, &xmls).await;

    let s = inbox(&t).await;
    assert_eq!(
        (s.total, s.pending, s.failed, s.parked),
        (CONTACTS as i64, 0, 0, 0),
        "every callback applied despite the outage"
    );
    let all: Value = t
        .get(
            "/api/v1/customers?identity_kind=wecom_external&page_size=200",
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], CONTACTS as i64, "one customer per contact");
    for x in &externals {
        let id = customer(&t, x).await.expect("customer");
        assert_eq!(timeline_count(&t, id, "add_friend").await, 1, "{x}");
        assert_eq!(follow_state(&t, id, staff).await, "active", "{x}");
    }
    // One details job per callback, however often it was delivered.
    assert_eq!(jobs_of_kind(&t, CONTACT_DETAILS_KIND).await.len(), CONTACTS);

    // The customer deletes the guide and adds them again, WeCom still down.
    let again = &externals[1];
    let del = FakeEvent::DelFollowUser {
        userid: "zhangwei".into(),
        external_userid: again.clone(),
    };
    deliver_all(&t, &target, &[del.to_xml(fake.corp_id(), CREATE_TIME + 60)]).await;
    deliver_all(
        &t,
        &target,
        &[add_event(again).to_xml(fake.corp_id(), CREATE_TIME + 120)],
    )
    .await;
    let id = customer(&t, again).await.unwrap();
    assert_eq!(timeline_count(&t, id, "add_friend").await, 2);
    assert_eq!(timeline_count(&t, id, "delete_friend").await, 1);
    assert_eq!(follow_state(&t, id, staff).await, "active");
    assert_eq!(inbox(&t).await.unapplied() + inbox(&t).await.parked, 0);

    // Meanwhile the details jobs fail; played forward, they fail for good.
    let jobs = CONTACTS + 1;
    for _ in 0..20 {
        t.exec("UPDATE jobs SET run_at = 0 WHERE status = 'queued'")
            .await;
        t.app.drain_jobs().await.unwrap();
        let failed = jobs_of_kind(&t, CONTACT_DETAILS_KIND)
            .await
            .iter()
            .filter(|j| j.status == "failed")
            .count();
        if failed == jobs {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let failed: Value = t
        .get("/api/v1/wecom/jobs/failed", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let failed = failed.as_array().unwrap().clone();
    assert_eq!(failed.len(), jobs, "every details job listed as failed");
    assert!(failed.iter().all(|j| j["kind"] == CONTACT_DETAILS_KIND
        && !j["error"].as_str().unwrap_or_default().is_empty()));
    // Nothing of the adds was undone.
    assert_eq!(timeline_count(&t, id, "add_friend").await, 2);

    // WeCom is back: the failed jobs are retried and fill in the details and tags.
    fake.set_unreachable(false);
    fake.with_corp(|c| {
        if !c.follows.iter().any(|f| &f.external_userid == again) {
            c.follows.push(Follow {
                userid: "zhangwei".into(),
                external_userid: again.clone(),
                remark: String::new(),
                description: String::new(),
                createtime: CREATE_TIME + 120,
                tag_ids: Vec::new(),
                state: None,
                add_way: 1,
            });
        }
    });
    for j in &failed {
        let r = t
            .post(
                &format!("/api/v1/wecom/jobs/{}/retry", j["id"]),
                &t.admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    }
    t.settle_jobs().await;
    let jobs_now = jobs_of_kind(&t, CONTACT_DETAILS_KIND).await;
    assert!(
        jobs_now.iter().all(|j| j.status == "done"),
        "{:?}",
        jobs_now
            .iter()
            .map(|j| (&j.status, &j.last_error))
            .collect::<Vec<_>>()
    );
    let first = customer(&t, &externals[0]).await.unwrap();
    let v: Value = t
        .get(&format!("/api/v1/customers/{first}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["customer"]["name"], "新客0", "{v}");
    let want = fake_paths(&fake, &externals[0]);
    assert!(!want.is_empty());
    assert_eq!(tag_paths(&t, first).await, want);
    // Still exactly one add per callback.
    assert_eq!(timeline_count(&t, first, "add_friend").await, 1);
    assert!(
        t.audit_actions()
            .await
            .iter()
            .any(|a| a == "wecom_job_retried")
    );
    // A job that is not failed is not retried.
    let r = t
        .post(
            &format!("/api/v1/wecom/jobs/{}/retry", failed[0]["id"]),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "job_not_failed");
    fake.shutdown().await;
}

/// Park a callback that needs WeCom (a group change) during an outage.
pub(crate) async fn park_one(
    t: &TestApp,
    fake: &FakeWecom,
    target: &yutang_wecom::fake::CallbackTarget,
    at: i64,
) {
    fake.set_unreachable(true);
    let ev = FakeEvent::ChatUpdate {
        chat_id: "wrDemoGroup0001".into(),
        update_detail: "add_member".into(),
        join_scene: Some(1),
        quit_scene: None,
        mem_change_cnt: Some(1),
        mem_change_list: vec![],
    };
    let xml = ev.to_xml(fake.corp_id(), at);
    let out = yutang_wecom::fake::push::push_xml(&reqwest::Client::new(), target, &xml, at)
        .await
        .unwrap();
    assert_eq!(out.status, 200);
    for _ in 0..(MAX_ATTEMPTS * 4) {
        t.app.wecom().process_wecom_inbox(100).await.unwrap();
        if inbox(t).await.parked == 1 {
            return;
        }
    }
    panic!("callback not parked: {:?}", inbox(t).await);
}

async fn parked_callbacks_are_listed_and_replayed(e: Engine) {
    use crate::console::{console_login, csrf_in, page};
    let (t, fake, target) = with_fake(e).await;
    park_one(&t, &fake, &target, CREATE_TIME).await;

    let r = t
        .get("/api/v1/wecom/callbacks?status=parked", &t.admin)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["counts"]["parked"], 1, "{v}");
    assert_eq!(v["counts"]["pending"], 0, "{v}");
    assert_eq!(v["total"], 1, "{v}");
    let item = &v["items"][0];
    assert_eq!(item["status"], "parked");
    assert_eq!(item["event"], "change_external_chat");
    assert_eq!(item["attempts"], MAX_ATTEMPTS);
    assert!(!item["error"].as_str().unwrap().is_empty(), "{item}");
    let id = item["id"].as_i64().unwrap();
    // The sweep leaves a parked callback alone.
    t.app.wecom().process_wecom_inbox(100).await.unwrap();
    assert_eq!(inbox(&t).await.parked, 1);
    // An unknown state is refused; guides may not look.
    let r = t.get("/api/v1/wecom/callbacks?status=lost", &t.admin).await;
    assert_eq!(error_of(r).await.1, "invalid_status");
    let store = t.store("WX-PK").await;
    guide(&t, store, "zhangwei").await;
    let g = t.login("g.zhangwei").await;
    assert_eq!(
        t.get("/api/v1/wecom/callbacks", &g).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.post(
            &format!("/api/v1/wecom/callbacks/{id}/replay"),
            &g,
            json!({})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    // The endpoints are in the OpenAPI document.
    let doc: Value = t
        .client
        .get(t.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/wecom/callbacks",
        "/api/v1/wecom/callbacks/{id}/replay",
        "/api/v1/wecom/jobs/failed",
        "/api/v1/wecom/jobs/{id}/retry",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing in OpenAPI");
    }
    // The gauge is exported.
    let m = t.get("/metrics", &t.admin).await.text().await.unwrap();
    assert!(
        m.contains("wecom_inbox_callbacks{status=\"parked\"}"),
        "{m}"
    );
    // The console lists it with a replay button.
    t.staff("pk.admin", "admin", None).await;
    let cookie = console_login(&t, "pk.admin").await;
    let (status, html) = page(&t, &cookie, "/console/settings/wecom").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("data-callback=\"{id}\"")), "{html}");
    assert!(html.contains("<span data-k=\"parked\">1</span>"), "{html}");
    assert!(html.contains(&format!("/console/settings/wecom/callbacks/{id}/replay")));

    // WeCom is back; a replay applies it.
    fake.set_unreachable(false);
    // Without the form's token the console does nothing.
    let r = t
        .client
        .post(t.url(&format!("/console/settings/wecom/callbacks/{id}/replay")))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(inbox(&t).await.parked, 1);
    let r = t
        .client
        .post(t.url(&format!("/console/settings/wecom/callbacks/{id}/replay")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf_in(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("status=processed")
    );
    let s = inbox(&t).await;
    assert_eq!((s.pending, s.failed, s.parked), (0, 0, 0));
    let groups: Value = t
        .get("/api/v1/wecom/groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(groups["total"], 1, "{groups}");
    // Replaying it again is refused.
    let r = t
        .post(
            &format!("/api/v1/wecom/callbacks/{id}/replay"),
            &t.admin,
            json!({}),
        )
        .await;
    let (status, code, _) = error_of(r).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "callback_already_applied")
    );

    // And through the API: another parked callback, replayed by an operator.
    park_one(&t, &fake, &target, CREATE_TIME + 1).await;
    let v: Value = t
        .get("/api/v1/wecom/callbacks?status=parked", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let id2 = v["items"][0]["id"].as_i64().unwrap();
    assert_ne!(id2, id);
    fake.set_unreachable(false);
    t.staff("pk.operator", "operator", None).await;
    let op = t.login("pk.operator").await;
    let r = t
        .post(
            &format!("/api/v1/wecom/callbacks/{id2}/replay"),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "processed", "{v}");
    assert_eq!(inbox(&t).await.parked, 0);
    let audit = t.audit_actions().await;
    assert_eq!(
        audit
            .iter()
            .filter(|a| *a == "wecom_callback_replayed")
            .count(),
        2
    );
    fake.shutdown().await;
}
