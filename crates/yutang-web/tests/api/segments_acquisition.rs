//! The first-touch segment attributes (issue #19): `channel`, `channel_type`, `acquired_by`
//! and `acquired_at`, from adds pushed through the fake WeCom's signed callbacks, counted
//! through the API and checked against the SQL baselines.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_core::time::Millis;

use crate::acquisition::add;
use crate::customers::ingest;
use crate::helpers::{Engine, TestApp};
use crate::segments::{count, json_ok, members_three_ways};
use crate::wecom_sync::{guide, with_fake};

both_engines!(first_touch_attributes_count_adds_through_channels);

/// A channel (`store`: its store, `None` brand-wide) with one live code behind `guide`.
async fn channel_with_code(
    t: &TestApp,
    name: &str,
    kind: &str,
    store: Option<i64>,
    state: &str,
    guide: i64,
) -> i64 {
    let r = t
        .post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": name, "kind": kind, "store_id": store}),
        )
        .await;
    let channel = json_ok(r, StatusCode::CREATED).await["id"]
        .as_i64()
        .unwrap();
    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": state, "state": state,
                "guides": [{"staff_id": guide, "daily_cap": 100}]}),
        )
        .await;
    let code = json_ok(r, StatusCode::CREATED).await;
    assert_eq!(code["sync_status"], "synced", "{code}");
    channel
}

/// The count of `src` through the API, after checking that the index and the SQL baseline
/// (and on PostgreSQL the benchmark's facts table) pick the same customers.
async fn agreed_count(t: &TestApp, src: &str) -> u64 {
    // The API count catches the index up first.
    let n = count(t, &t.admin, src).await;
    let (index, sql, facts) = members_three_ways(&t.app, src, Millis::now()).await;
    assert_eq!(index, sql, "index vs SQL: {src}");
    if t.app.db.engine() == yutang_store::Engine::Postgres {
        assert_eq!(Some(&index), facts.as_ref(), "index vs facts table: {src}");
    }
    assert_eq!(n, index.len() as u64, "API vs index: {src}");
    n
}

async fn first_touch_attributes_count_adds_through_channels(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("SEG-ACQ-1").await;
    let other_store = t.store("SEG-ACQ-2").await;
    let zhang = guide(&t, store, "zhangwei").await;
    let wang = guide(&t, store, "wangfang").await;
    let _li = guide(&t, other_store, "lina").await;
    let stand = channel_with_code(
        &t,
        "门店台卡 上海一店",
        "store_stand",
        Some(store),
        "seg-stand",
        zhang,
    )
    .await;
    channel_with_code(&t, "双11直播", "live_stream", None, "seg-live", wang).await;
    // A customer who never came through WeCom: no first touch at all.
    ingest(
        &t,
        json!({"identities": [{"kind": "app_user", "value": "seg-acq-app"}], "city": "上海"}),
    )
    .await;
    // The index is built before any add, so what follows reaches it through the event log.
    assert_eq!(count(&t, &t.admin, "exists(acquired_at)").await, 0);

    let (x1, _) = add(&t, &fake, &target, "zhangwei", "小林", Some("seg-stand")).await;
    add(&t, &fake, &target, "zhangwei", "小周", Some("seg-stand")).await;
    add(&t, &fake, &target, "wangfang", "小吴", Some("seg-live")).await;
    // An unknown state and no state: in the pool, credited to the guide, no channel.
    add(&t, &fake, &target, "zhangwei", "小陈", Some("no-such-code")).await;
    add(&t, &fake, &target, "wangfang", "小郑", None).await;

    assert_eq!(
        agreed_count(&t, r#"channel = "门店台卡 上海一店""#).await,
        2
    );
    assert_eq!(agreed_count(&t, r#"channel_type = "store_stand""#).await, 2);
    assert_eq!(agreed_count(&t, r#"channel_type = "live_stream""#).await, 1);
    assert_eq!(agreed_count(&t, "exists(channel)").await, 3);
    assert_eq!(agreed_count(&t, "exists(channel_type)").await, 3);
    assert_eq!(agreed_count(&t, "acquired_at within 7d").await, 5);
    assert_eq!(agreed_count(&t, "acquired_at before 7d ago").await, 0);
    assert_eq!(agreed_count(&t, "not exists(acquired_at)").await, 1);
    assert_eq!(agreed_count(&t, r#"acquired_by = "g.zhangwei""#).await, 3);
    assert_eq!(
        agreed_count(&t, r#"acquired_by = "g.wangfang" and not exists(channel)"#).await,
        1
    );
    assert_eq!(
        agreed_count(
            &t,
            r#"channel_type != "store_stand" and acquired_at within 1d"#
        )
        .await,
        1
    );
    // A kind that is not a channel type is refused, naming the expression.
    let r = t
        .post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": r#"channel_type = "门店台卡""#}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The first customer adds a second guide through the live code: the first touch stays.
    let again = yutang_wecom::fake::FakeEvent::AddExternalContact {
        userid: "wangfang".into(),
        external_userid: x1,
        state: Some("seg-live".into()),
        welcome_code: None,
    };
    assert_eq!(fake.push(&target, &again).await.unwrap().status, 200);
    crate::wecom::drain(&t).await;
    assert_eq!(agreed_count(&t, r#"channel_type = "live_stream""#).await, 1);
    assert_eq!(agreed_count(&t, r#"acquired_by = "g.zhangwei""#).await, 3);
    assert_eq!(agreed_count(&t, "acquired_at within 7d").await, 5);

    // Renaming the channel and changing its kind writes no customer event; the index follows
    // the channel table itself.
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/channels/{stand}"),
            &t.admin,
            json!({"name": "包裹卡 上海一店", "kind": "package_card", "store_id": store}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        agreed_count(&t, r#"channel = "门店台卡 上海一店""#).await,
        0
    );
    assert_eq!(agreed_count(&t, r#"channel = "包裹卡 上海一店""#).await, 2);
    assert_eq!(agreed_count(&t, r#"channel_type = "store_stand""#).await, 0);
    assert_eq!(
        agreed_count(&t, r#"channel_type = "package_card""#).await,
        2
    );

    // The builder offers the channel names and the staff usernames, within the caller's scope.
    let schema = json_ok(
        t.get("/api/v1/segments/schema", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    let suggested = |schema: &Value, attr: &str| -> Vec<String> {
        schema["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == attr)
            .unwrap_or_else(|| panic!("{attr} in {schema}"))["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["value"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        suggested(&schema, "channel"),
        ["包裹卡 上海一店", "双11直播"]
    );
    assert_eq!(
        suggested(&schema, "acquired_by"),
        ["g.lina", "g.wangfang", "g.zhangwei"]
    );
    let kinds = schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "channel_type")
        .unwrap();
    assert_eq!(kinds["kind"], "enum");
    assert_eq!(kinds["options"].as_array().unwrap().len(), 7);
    // A guide of the other store: brand-wide channels only, and themselves.
    let li = t.login("g.lina").await;
    let schema = json_ok(t.get("/api/v1/segments/schema", &li).await, StatusCode::OK).await;
    assert_eq!(suggested(&schema, "channel"), ["双11直播"]);
    assert_eq!(suggested(&schema, "acquired_by"), ["g.lina"]);
    // Counts stay within the caller's data scope: lina follows none of these customers.
    assert_eq!(count(&t, &li, "exists(acquired_at)").await, 0);
    let wang_token = t.login("g.wangfang").await;
    assert_eq!(count(&t, &wang_token, "exists(acquired_at)").await, 3);
}
