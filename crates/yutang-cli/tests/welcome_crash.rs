#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `kill -9` of a real `yutang serve` between an add and its welcome (issue #19: "after
//! restart the welcome is sent if the 20 s window is still open, skipped and recorded if not;
//! never twice"), on SQLite and PostgreSQL.
//!
//! The test process serves a fake WeCom over HTTP and runs the `yutang` binary against it. A
//! signed `add_external_contact` callback with a live code's state reaches the node, which
//! sends the welcome at once; the fake holds that `send_welcome_msg` at a gate, and once the
//! request is in the fake's hands the node is killed with SIGKILL and started again on the same
//! database. Three crashes, one after the other:
//!
//! 1. WeCom had taken the welcome (the fake applied the request and held the answer): the
//!    restarted node takes over the dead claim, WeCom answers 41051, and the welcome is
//!    recorded as `already_sent`: one welcome, no second.
//! 2. The request never reached WeCom (held before the fake applied it, then dropped): the
//!    restarted node sends it inside the window: one welcome.
//! 3. The window passed while the node was down: the restarted node closes it as `expired`
//!    without calling WeCom. WeCom's window runs from the add event's `CreateTime`, so the add
//!    is dated 8 s back (as a callback WeCom delivers late is) instead of the test sleeping
//!    through 20 s; the fake's clock is moved the same 8 s, so its welcome code is as old.
//!
//! Every wait is for a state (a request held, a node answering, a welcome settled, a deadline
//! passed), polled with a generous limit; nothing asserts a duration.

use std::time::Duration;

use serde_json::json;
use yutang_app::settings::{Secret, Settings};
use yutang_app::staff::NewStaffInput;
use yutang_app::{Actor, App};
use yutang_store::acquisition::WelcomeRow;
use yutang_wecom::AesKey;
use yutang_wecom::fake::{CallbackTarget, FakeConfig, FakeEvent, FakeWecom, Hold};

mod common;
#[path = "common/node.rs"]
mod node;
use node::{Node, wait_for};

const WELCOME: &str = "/cgi-bin/externalcontact/send_welcome_msg";
const TOKEN: &str = "CrashDrillToken";
const STATE: &str = "crash-drill";
/// How far back the third add is dated: leaves the node 12 s of WeCom's 20 to send.
const LATE_BY: Duration = Duration::from_secs(8);

fn now_ms() -> i64 {
    yutang_core::time::Millis::now().0
}

/// The database, the fake WeCom and a channel with a welcome behind a live code, set up
/// through the library; the test keeps this handle to read what the nodes leave (it runs no
/// background loop of its own).
struct World {
    url: String,
    key_hex: String,
    aes_key: String,
    fake: FakeWecom,
    app: App,
    channel: i64,
    dir: tempfile::TempDir,
}

impl World {
    async fn new(url: String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key_hex: String = (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
        let aes_key = AesKey::generate().to_encoding_aes_key();
        let mut settings = Settings {
            database_url: url.clone(),
            secret_key: Some(Secret::new(key_hex.clone())),
            ..Settings::default()
        };
        settings.wecom.corp_id = fake.corp_id().to_owned();
        settings.wecom.contact_secret = Some(Secret::new(fake.secret()));
        settings.wecom.api_base = fake.base_url().to_owned();
        settings.wecom.callback_token = Some(Secret::new(TOKEN));
        settings.wecom.encoding_aes_key = Some(Secret::new(aes_key.clone()));
        settings.auth.argon2_memory_kib = 1024;
        settings.auth.argon2_iterations = 1;
        let app = App::open(settings).await.unwrap();
        let sys = Actor::system();
        let store = app
            .org()
            .create_store(
                &sys,
                &yutang_app::org::StoreInput::parse(None, "CRASH-1", "演练门店", "上海", "")
                    .unwrap(),
            )
            .await
            .unwrap();
        let input = NewStaffInput::parse(
            "g.zhangwei",
            "张伟",
            "guide",
            Some(store.id),
            Some("a-long-password"),
        )
        .unwrap();
        let guide = app.staff().create_staff(&sys, &input).await.unwrap().id;
        yutang_store::staff::set_wecom_userid(&app.db, guide, Some("zhangwei"), app.now())
            .await
            .unwrap();
        let acq = app.acquisition();
        let channel = acq
            .create_channel(
                &sys,
                serde_json::from_value(json!({
                    "name": "断电演练", "kind": "event",
                    "welcome": {"text": "{customer_name} 你好，我是{guide_name}"}
                }))
                .unwrap(),
            )
            .await
            .unwrap()
            .id;
        let code = acq
            .create_live_code(
                &sys,
                serde_json::from_value(json!({
                    "channel_id": channel, "name": "演练码", "state": STATE,
                    "guides": [{"staff_id": guide, "daily_cap": 100}]
                }))
                .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(code.sync_status, "synced", "{code:?}");
        Self {
            url,
            key_hex,
            aes_key,
            fake,
            app,
            channel,
            dir,
        }
    }

    /// A new customer adds the guide through the code: the fake issues the welcome code and
    /// the signed callback (its `CreateTime` `late` in the past) is POSTed to `node`, which
    /// answers 200 once the callback is stored. Returns the welcome code.
    async fn add(&self, node: &Node, name: &str, late: Duration) -> String {
        let ev = self
            .fake
            .simulate_add_customer("zhangwei", name, Some(STATE));
        let FakeEvent::AddExternalContact {
            welcome_code: Some(code),
            ..
        } = &ev
        else {
            panic!("the fake issued no welcome code: {ev:?}")
        };
        // The fake's code is as old as the add says.
        self.fake.advance_clock(late);
        let now = now_ms() / 1000;
        let created = now - i64::try_from(late.as_secs()).unwrap();
        let xml = ev.to_xml(self.fake.corp_id(), created);
        let target = CallbackTarget {
            url: format!("http://{}/wecom/callback", node.addr),
            token: TOKEN.into(),
            encoding_aes_key: self.aes_key.clone(),
            receive_id: self.fake.corp_id().to_owned(),
        };
        let out = yutang_wecom::fake::push::push_xml(&reqwest::Client::new(), &target, &xml, now)
            .await
            .unwrap();
        assert_eq!(out.status, 200, "{out:?}");
        code.clone()
    }

    /// The welcome row of `code`, once the node wrote it.
    async fn welcome(&self, code: &str) -> Option<WelcomeRow> {
        yutang_store::acquisition::welcomes_of_channel(&self.app.db, self.channel, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|w| w.welcome_code == code)
    }

    /// Wait until the fake holds one welcome request at its gate.
    async fn held(&self, node: &Node) {
        wait_for(
            Duration::from_secs(30),
            "a welcome request held by the fake",
            &node.log,
            || async { (self.fake.held(WELCOME) == 1).then_some(()) },
        )
        .await;
    }

    /// Wait until `code`'s welcome left `pending` and `sending`: the row as it ended.
    async fn settled(&self, node: &Node, code: &str) -> WelcomeRow {
        wait_for(
            Duration::from_secs(60),
            "the welcome settling after the restart",
            &node.log,
            || async {
                self.welcome(code)
                    .await
                    .filter(|w| w.status != "pending" && w.status != "sending")
            },
        )
        .await
    }

    /// What a crash left: the welcome claimed by the dead node and not finished.
    async fn assert_left_claimed(&self, code: &str) {
        let w = self.welcome(code).await.unwrap();
        assert_eq!(w.status, "sending", "{w:?}");
        assert!(w.finished_at.is_some(), "the claim's time: {w:?}");
    }
}

/// A `yutang serve` process on the world's database, with the fake WeCom.
async fn start(w: &World, n: usize) -> Node {
    Node::start(
        &w.url,
        w.dir.path(),
        n,
        &[
            ("YUTANG_SECRET_KEY", &w.key_hex),
            ("YUTANG_WECOM_CORP_ID", w.fake.corp_id()),
            ("YUTANG_WECOM_CONTACT_SECRET", w.fake.secret()),
            ("YUTANG_WECOM_API_BASE", w.fake.base_url()),
            ("YUTANG_WECOM_CALLBACK_TOKEN", TOKEN),
            ("YUTANG_WECOM_ENCODING_AES_KEY", &w.aes_key),
        ],
    )
    .await
}

async fn crash_between_add_and_welcome(url: String) {
    let w = World::new(url).await;
    let used = |code: &str| w.fake.welcome_code(code).is_some_and(|c| c.used());
    let mut node = start(&w, 1).await;

    // 1. WeCom took the welcome; the node died before it heard back.
    let calls = w.fake.calls(WELCOME);
    w.fake.hold(WELCOME, Hold::AfterApplying);
    let code = w.add(&node, "取走客", Duration::ZERO).await;
    w.held(&node).await;
    assert!(used(&code), "the fake applied the held request");
    let sent_at = w.fake.welcome_code(&code).unwrap().used_at_ms;
    node.kill9();
    w.fake.release(WELCOME);
    w.assert_left_claimed(&code).await;
    node = start(&w, 2).await;
    let row = w.settled(&node, &code).await;
    assert_eq!(row.status, "already_sent", "{row:?}");
    assert!(row.error.contains("41051"), "{row:?}");
    assert_eq!(
        w.fake.calls(WELCOME),
        calls + 2,
        "the held send, then one 41051"
    );
    assert_eq!(
        w.fake.welcome_code(&code).unwrap().used_at_ms,
        sent_at,
        "one welcome reached the customer, the first"
    );

    // 2. The request never reached WeCom: sent after the restart, inside the window.
    let calls = w.fake.calls(WELCOME);
    w.fake.hold(WELCOME, Hold::BeforeApplying);
    let code = w.add(&node, "未达客", Duration::ZERO).await;
    w.held(&node).await;
    assert!(!used(&code));
    node.kill9();
    w.fake.release(WELCOME);
    w.assert_left_claimed(&code).await;
    node = start(&w, 3).await;
    let row = w.settled(&node, &code).await;
    assert_eq!(row.status, "sent", "{row:?}");
    assert!(row.finished_at.unwrap() <= row.deadline, "{row:?}");
    assert!(used(&code), "the customer got the welcome");
    assert_eq!(
        w.fake.calls(WELCOME),
        calls + 2,
        "the lost send, then one that landed"
    );
    let text = w.fake.welcome_code(&code).unwrap().message.unwrap()["text"].clone();
    assert_eq!(text, "未达客 你好，我是张伟");

    // 3. The node stays down past the window: closed as expired, WeCom not called again.
    let calls = w.fake.calls(WELCOME);
    w.fake.hold(WELCOME, Hold::BeforeApplying);
    let code = w.add(&node, "迟到客", LATE_BY).await;
    w.held(&node).await;
    node.kill9();
    w.fake.release(WELCOME);
    w.assert_left_claimed(&code).await;
    let deadline = w.welcome(&code).await.unwrap().deadline;
    wait_for(
        Duration::from_secs(30),
        "WeCom's window closing",
        &w.dir.path().join("node-3.log"),
        || async { (now_ms() > deadline).then_some(()) },
    )
    .await;
    node = start(&w, 4).await;
    let row = w.settled(&node, &code).await;
    assert_eq!(row.status, "expired", "{row:?}");
    assert!(row.error.contains("20 秒"), "{row:?}");
    assert!(!used(&code), "no welcome after the window");
    assert_eq!(w.fake.calls(WELCOME), calls + 1, "only the lost send");
    node.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_add_and_welcome_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    crash_between_add_and_welcome(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_add_and_welcome_on_postgres() {
    crash_between_add_and_welcome(common::fresh_pg_url().await).await;
}
