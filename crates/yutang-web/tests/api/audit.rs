use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::console::{console_login, csrf_in, page};
use crate::helpers::{Engine, TestApp, csv_download, error_of, spawn_app};

both_engines!(
    audit_log_records_security_actions,
    audit_log_export_is_filtered_translated_and_audited,
    audit_entries_commit_with_the_change_they_record,
);

async fn audit_log_records_security_actions(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("audited", "operator", None).await;
    let _ = t
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": "audited", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    t.login("audited").await;
    let v: Value = t
        .get("/api/v1/audit?page_size=2", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["page_size"], 2);
    assert!(v["total"].as_i64().unwrap() >= 3, "{v}");
    let first = &v["items"][0];
    assert_eq!(first["action"], "login");
    assert_eq!(first["actor_name"], "audited");
    assert_eq!(first["ip"], "127.0.0.1");
    let failed = entries(&t, "login_failed").await;
    assert_eq!(failed["total"], 1);
    assert_eq!(failed["items"][0]["actor_name"], "audited");
    assert_eq!(
        t.get("/api/v1/audit", &t.login("audited").await)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

/// Make writing an audit entry of `action` fail (a trigger on the audit table), as a failure
/// between a change and its entry would.
async fn refuse_audit(t: &TestApp, action: &str) {
    let mut sql = Vec::new();
    match &t.app.db {
        yutang_store::Db::Sqlite(_) => sql.push(format!(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log WHEN NEW.action = '{action}' \
             BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END"
        )),
        yutang_store::Db::Postgres(_) => {
            sql.push(
                "CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$"
                    .into(),
            );
            sql.push(format!(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW \
                 WHEN (NEW.action = '{action}') EXECUTE FUNCTION refuse_audit()"
            ));
        }
    }
    for q in sql {
        exec(t, q).await;
    }
}

/// Let audit entries through again.
async fn allow_audit(t: &TestApp) {
    exec(
        t,
        match &t.app.db {
            yutang_store::Db::Sqlite(_) => "DROP TRIGGER refuse_audit".into(),
            yutang_store::Db::Postgres(_) => "DROP TRIGGER refuse_audit ON audit_log".into(),
        },
    )
    .await;
}

pub(crate) async fn exec(t: &TestApp, sql: String) {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(p)
                .await
                .unwrap();
        }
        yutang_store::Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(p)
                .await
                .unwrap();
        }
    }
}

async fn count(t: &TestApp, sql: String) -> i64 {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(p)
            .await
            .unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

/// The targets of the audit entries of `action`, newest first.
async fn targets(t: &TestApp, action: &str) -> Vec<String> {
    let v: Value = t
        .get(&format!("/api/v1/audit?action={action}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["target"].as_str().unwrap().to_owned())
        .collect()
}

/// POST with an `Idempotency-Key`; the status and the body.
async fn keyed(t: &TestApp, path: &str, key: &str, body: Option<Value>) -> (StatusCode, Value) {
    let r = t
        .req(Method::POST, path, Some(&t.admin))
        .header("Idempotency-Key", key);
    let r = match body {
        Some(b) => r.json(&b),
        None => r,
    }
    .send()
    .await
    .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Each change that writes an audit entry writes it in its own transaction: when the entry
/// cannot be written, the change is not made either (and a retry is not mistaken for a
/// replay of a change that did happen); when it is, there is exactly one entry naming it.
async fn audit_entries_commit_with_the_change_they_record(e: Engine) {
    use crate::import::{CUSTOMERS_CSV, start, upload, wait};
    use crate::wecom_inbox::{CREATE_TIME, park_one};
    use crate::wecom_sync::{customer, guide, with_fake};

    let (t, fake, callback_target) = with_fake(e).await;
    const ERROR: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;

    // The first admin (before any other admin exists).
    refuse_audit(&t, "admin_bootstrapped").await;
    assert!(t.app.staff().bootstrap_admin().await.is_err());
    let admins = "SELECT COUNT(*) FROM staff WHERE username = 'admin'";
    assert_eq!(count(&t, admins.into()).await, 0);
    allow_audit(&t).await;
    assert!(t.app.staff().bootstrap_admin().await.unwrap().is_some());
    let admin: i64 = count(&t, "SELECT id FROM staff WHERE username = 'admin'".into()).await;
    assert_eq!(
        targets(&t, "admin_bootstrapped").await,
        [format!("staff:{admin}")]
    );

    // Bulk tagging under an Idempotency-Key: a failed request leaves neither the job nor the
    // key behind, so the retry starts the job (with its entry) instead of replaying a job
    // nobody audited; a replay then writes no second entry.
    let group: Value = t
        .post(
            "/api/v1/tag-groups",
            &t.admin,
            json!({"name": "活动", "multi": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let tag: Value = t
        .post(
            "/api/v1/tags",
            &t.admin,
            json!({"group_id": group["id"], "name": "双十二", "color": "#FF0000"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let c = crate::customers::customer_with_phone(&t, "13900000001", "顾客").await;
    let bulk = json!({"add": [tag["id"]], "customer_ids": [c]});
    let bulk_jobs = "SELECT COUNT(*) FROM jobs WHERE kind = 'bulk_tag'";
    refuse_audit(&t, "tags_bulk_changed").await;
    let (s, v) = keyed(&t, "/api/v1/tags/bulk", "k-1", Some(bulk.clone())).await;
    assert_eq!(s, ERROR, "{v}");
    assert_eq!(count(&t, bulk_jobs.into()).await, 0);
    allow_audit(&t).await;
    let (s, one) = keyed(&t, "/api/v1/tags/bulk", "k-1", Some(bulk.clone())).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{one}");
    let (s, two) = keyed(&t, "/api/v1/tags/bulk", "k-1", Some(bulk)).await;
    assert_eq!((s, &two["id"]), (StatusCode::ACCEPTED, &one["id"]));
    assert_eq!(count(&t, bulk_jobs.into()).await, 1);
    assert_eq!(
        targets(&t, "tags_bulk_changed").await,
        [format!("job:{}", one["id"])]
    );
    // Requests racing under one new key: one job, one entry, every answer that job.
    let remove = json!({"remove": [tag["id"]], "customer_ids": [c]});
    let answers = futures_util::future::join_all(
        (0..4).map(|_| keyed(&t, "/api/v1/tags/bulk", "k-2", Some(remove.clone()))),
    )
    .await;
    let (s, raced) = &answers[0];
    assert_eq!(*s, StatusCode::ACCEPTED, "{raced}");
    for (s, v) in &answers {
        assert_eq!((*s, &v["id"]), (StatusCode::ACCEPTED, &raced["id"]), "{v}");
    }
    assert_eq!(count(&t, bulk_jobs.into()).await, 2);
    assert_eq!(
        targets(&t, "tags_bulk_changed").await,
        [format!("job:{}", raced["id"]), format!("job:{}", one["id"])]
    );

    // A full WeCom sync.
    let store = t.store("WX-AU").await;
    let zhang = guide(&t, store, "zhangwei").await;
    let wang = guide(&t, store, "wangfang").await;
    let syncs = "SELECT COUNT(*) FROM jobs WHERE kind = 'wecom_full_sync'";
    refuse_audit(&t, "wecom_sync_started").await;
    let (s, v) = keyed(&t, "/api/v1/wecom/sync", "s-1", None).await;
    assert_eq!(s, ERROR, "{v}");
    assert_eq!(count(&t, syncs.into()).await, 0);
    allow_audit(&t).await;
    let (s, sync) = keyed(&t, "/api/v1/wecom/sync", "s-1", None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{sync}");
    let sync = sync["id"].as_i64().unwrap();
    assert_eq!(
        targets(&t, "wecom_sync_started").await,
        [format!("job:{sync}")]
    );
    assert_eq!(
        crate::idempotency::wait_sync(&t, sync).await["status"],
        "done"
    );

    // A transfer: neither the transfer nor its first round's job without the entry.
    let c1 = customer(&t, "wmDemoCustomer0001").await.unwrap();
    let body = json!({
        "kind": "in_service", "handover_staff_id": zhang, "takeover_staff_id": wang,
        "customer_ids": [c1],
    });
    let transfers = "SELECT COUNT(*) FROM wecom_transfers";
    let rounds = "SELECT COUNT(*) FROM jobs WHERE kind = 'wecom_transfer'";
    refuse_audit(&t, "wecom_transfer_started").await;
    let (s, v) = keyed(&t, "/api/v1/wecom/transfers", "t-1", Some(body.clone())).await;
    assert_eq!(s, ERROR, "{v}");
    assert_eq!(count(&t, transfers.into()).await, 0);
    assert_eq!(count(&t, rounds.into()).await, 0);
    allow_audit(&t).await;
    let (s, v) = keyed(&t, "/api/v1/wecom/transfers", "t-1", Some(body)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(count(&t, rounds.into()).await, 1);
    assert_eq!(
        targets(&t, "wecom_transfer_started").await,
        [format!("transfer:{}", v["id"])]
    );

    // Retrying a failed WeCom side job.
    let job = count(
        &t,
        format!(
            "INSERT INTO jobs (kind, payload, run_at, status, attempts, last_error, created_at, \
             updated_at) VALUES ('{}', '{{}}', 0, 'failed', 8, 'boom', 0, 0) RETURNING id",
            yutang_app::wecom::CONTACT_DETAILS_KIND
        ),
    )
    .await;
    let status = format!("SELECT COUNT(*) FROM jobs WHERE id = {job} AND status = 'failed'");
    let retry = format!("/api/v1/wecom/jobs/{job}/retry");
    refuse_audit(&t, "wecom_job_retried").await;
    assert_eq!(t.post(&retry, &t.admin, json!({})).await.status(), ERROR);
    assert_eq!(count(&t, status.clone()).await, 1);
    allow_audit(&t).await;
    assert_eq!(
        t.post(&retry, &t.admin, json!({})).await.status(),
        StatusCode::OK
    );
    assert_eq!(count(&t, status).await, 0);
    assert_eq!(
        targets(&t, "wecom_job_retried").await,
        [format!("job:{job}")]
    );

    // Replaying a parked callback: its attempts are not given back without the entry.
    park_one(&t, &fake, &callback_target, CREATE_TIME).await;
    let parked: Value = t
        .get("/api/v1/wecom/callbacks?status=parked", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let parked = parked["items"][0]["id"].as_i64().unwrap();
    let attempts = format!("SELECT attempts FROM wecom_inbox WHERE id = {parked}");
    let before = count(&t, attempts.clone()).await;
    assert!(before > 0);
    fake.set_unreachable(false);
    let replay = format!("/api/v1/wecom/callbacks/{parked}/replay");
    refuse_audit(&t, "wecom_callback_replayed").await;
    assert_eq!(t.post(&replay, &t.admin, json!({})).await.status(), ERROR);
    assert_eq!(count(&t, attempts).await, before);
    allow_audit(&t).await;
    let r = t.post(&replay, &t.admin, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        targets(&t, "wecom_callback_replayed").await,
        [format!("wecom_callback:{parked}")]
    );
    fake.shutdown().await;

    // Starting an import: the run is not claimed without its entry; the run then finishes
    // with its entry.
    t.staff("au.boss", "admin", None).await;
    let cookie = crate::console::console_login(&t, "au.boss").await;
    let run = upload(
        &t,
        &cookie,
        "customers",
        "客户.csv",
        CUSTOMERS_CSV.as_bytes(),
    )
    .await;
    let state = format!("SELECT COUNT(*) FROM import_runs WHERE id = {run} AND state = 'uploaded'");
    refuse_audit(&t, "import_started").await;
    let (s, _) = start(&t, &cookie, run, "run", &[]).await;
    assert_eq!(s, ERROR);
    assert_eq!(count(&t, state).await, 1);
    allow_audit(&t).await;
    let (s, html) = start(&t, &cookie, run, "run", &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(wait(&t, &cookie, run).await["state"], "done");
    assert_eq!(
        targets(&t, "import_started").await,
        [format!("import:{run}")]
    );
    assert_eq!(
        targets(&t, "import_finished").await,
        [format!("import:{run}")]
    );
}

/// The lines of a CSV download.
async fn csv_lines(r: reqwest::Response) -> Vec<String> {
    csv_download(r).await.lines().map(str::to_owned).collect()
}

/// Post the console's export form.
async fn console_export(t: &TestApp, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    t.client
        .post(t.url("/console/audit/export"))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The audit entries of one action (newest first) as the API lists them.
async fn entries(t: &TestApp, action: &str) -> Value {
    t.get(&format!("/api/v1/audit?action={action}"), &t.admin)
        .await
        .json()
        .await
        .unwrap()
}

async fn audit_log_export_is_filtered_translated_and_audited(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("exported", "operator", None).await;
    t.staff("auditor", "admin", None).await;
    for _ in 0..2 {
        let _ = t
            .req(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"username": "exported", "password": "not-the-password"}))
            .send()
            .await
            .unwrap();
    }
    let operator = t.login("exported").await;
    let listed = entries(&t, "login_failed").await;
    assert_eq!(listed["total"], 2, "{listed}");
    let at =
        yutang_core::time::Millis::parse_rfc3339("at", listed["items"][0]["at"].as_str().unwrap())
            .unwrap();

    // The API export: the filter holds, times in Asia/Shanghai, Chinese headers by default.
    let lines = csv_lines(
        t.get("/api/v1/audit/export?action=login_failed", &t.admin)
            .await,
    )
    .await;
    assert_eq!(lines[0], "时间,操作人,动作,对象,详情,IP");
    assert_eq!(lines.len(), 3, "{lines:?}");
    let shanghai = at.to_shanghai_string();
    assert!(lines[1].starts_with(&format!("{shanghai},")), "{lines:?}");
    assert!(lines[1].contains(",登录失败,staff:exported,"), "{lines:?}");
    assert!(lines[1].ends_with(",127.0.0.1"), "{lines:?}");
    // English headers and action names on request; no filter is every entry.
    let lines = csv_lines(t.get("/api/v1/audit/export?lang=en", &t.admin).await).await;
    assert_eq!(lines[0], "Time,Actor,Action,Target,Detail,IP");
    assert!(
        lines.iter().any(|l| l.contains(",Failed sign-in,")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains(",Exported audit log,")),
        "{lines:?}"
    );

    // Each export is recorded with its filter and row count.
    let v = entries(&t, "audit_exported").await;
    assert_eq!(v["total"], 2, "{v}");
    let first: Value = serde_json::from_str(v["items"][1]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(first["action"], "login_failed");
    assert_eq!(first["rows"], 2);

    // Refused: a role that cannot read the audit log, bad filters.
    let r = t.get("/api/v1/audit/export", &operator).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, code, _) = error_of(t.get("/api/v1/audit/export?lang=fr", &t.admin).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_lang")
    );
    let (s, code, _) = error_of(t.get("/api/v1/audit/export?action=nope", &t.admin).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_action")
    );
    let refused = entries(&t, "audit_exported").await;
    assert_eq!(refused["total"], 2, "a refused export is not recorded");

    // The console: the button posts the page's filter; the download is audited too.
    let cookie = console_login(&t, "auditor").await;
    let (s, html) = page(&t, &cookie, "/console/audit?action=login_failed").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"export-audit\""), "{html}");
    assert!(
        html.contains("name=\"action\" value=\"login_failed\""),
        "{html}"
    );
    let r = console_export(
        &t,
        &cookie,
        &[
            ("csrf", csrf_in(&html).as_str()),
            ("action", "login_failed"),
        ],
    )
    .await;
    let lines = csv_lines(r).await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1..].iter().all(|l| l.contains(",登录失败,")),
        "{lines:?}"
    );
    let v = entries(&t, "audit_exported").await;
    assert_eq!(v["total"], 3, "{v}");
    assert_eq!(v["items"][0]["actor_name"], "auditor");
    // Without the CSRF token: refused, nothing recorded.
    let r = console_export(&t, &cookie, &[("action", "login_failed")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // An operator has no audit page and cannot export.
    let op_cookie = console_login(&t, "exported").await;
    let (_, html) = page(&t, &op_cookie, "/console").await;
    let r = console_export(&t, &op_cookie, &[("csrf", csrf_in(&html).as_str())]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v = entries(&t, "audit_exported").await;
    assert_eq!(v["total"], 3, "{v}");

    // A log longer than one piece of the stream (1,000 entries) comes out whole, newest first.
    let sql = match &t.app.db {
        yutang_store::Db::Sqlite(_) => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2345) \
             INSERT INTO audit_log (at, actor_kind, actor_name, action, target) \
             SELECT 1767225600000 + i, 'system', 'bulk', 'tags_changed', 'customer:' || i FROM n"
        }
        yutang_store::Db::Postgres(_) => {
            "INSERT INTO audit_log (at, actor_kind, actor_name, action, target) \
             SELECT 1767225600000 + i, 'system', 'bulk', 'tags_changed', 'customer:' || i \
             FROM generate_series(1, 2345) AS i"
        }
    };
    exec(&t, sql.into()).await;
    let lines = csv_lines(
        t.get("/api/v1/audit/export?action=tags_changed&lang=en", &t.admin)
            .await,
    )
    .await;
    assert_eq!(lines.len(), 1 + 2345);
    let targets: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    let expected: Vec<String> = (1..=2345).rev().map(|i| format!("customer:{i}")).collect();
    assert_eq!(targets, expected);
    let v = entries(&t, "audit_exported").await;
    let last: Value = serde_json::from_str(v["items"][0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(last["rows"], 2345);
}
