#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `kill -9` of a real `yutang serve` while it sends a mass message (issue #21: "kill -9 at
//! any point sends nothing twice and loses no step"), on SQLite and PostgreSQL.
//!
//! The test process serves a fake WeCom over HTTP, syncs its demo corp through the library,
//! and runs the `yutang` binary against both. A message to every synced customer is created;
//! the node prepares it and starts creating the guides' WeCom tasks; the fake holds the first
//! `add_msg_template` at a gate, and once the request is in the fake's hands the node is
//! killed with SIGKILL and started again on the same database. Two crashes:
//!
//! 1. WeCom had created the task (the fake applied the request and held the answer): the
//!    restarted node finds the guide's task `sending`, looks it up in WeCom
//!    (`get_groupmsg_list_v2`) and adopts it: no second task for that guide.
//! 2. The request never reached WeCom (held before the fake applied it, then dropped): the
//!    restarted node finds nothing in WeCom and creates the task: one task.
//!
//! After each, every guide has exactly one WeCom task for the message, every customer sent
//! is in exactly one task, and the message is `sent` with no recipient lost.
//!
//! The dead node's job lease is expired by hand (what 30 s of waiting would do) so the
//! restarted node claims the send at once; every other wait is for a state, polled with a
//! generous limit.

use std::collections::BTreeMap;
use std::time::Duration;

use yutang_app::messaging::MessageInput;
use yutang_app::settings::{Secret, Settings};
use yutang_app::staff::NewStaffInput;
use yutang_app::{Actor, App};
use yutang_core::messaging::{Audience, AudienceForm, Content};
use yutang_wecom::client::api::PATH_ADD_MSG_TEMPLATE;
use yutang_wecom::fake::{FakeConfig, FakeWecom, Hold};

mod common;
#[allow(dead_code)]
#[path = "common/drill.rs"]
mod drill;
#[path = "common/node.rs"]
mod node;
use node::{Node, wait_for};

/// The fake's active staff members, each linked to a guide.
const GUIDES: [(&str, &str); 5] = [
    ("zhangwei", "张伟"),
    ("wangfang", "王芳"),
    ("lina", "李娜"),
    ("liuyang", "刘洋"),
    ("zhaolei", "赵磊"),
];

struct World {
    url: String,
    key_hex: String,
    fake: FakeWecom,
    app: App,
    customers: Vec<i64>,
    dir: tempfile::TempDir,
}

impl World {
    async fn new(url: String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key_hex: String = (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
        let mut settings = Settings {
            database_url: url.clone(),
            secret_key: Some(Secret::new(key_hex.clone())),
            ..Settings::default()
        };
        settings.wecom.corp_id = fake.corp_id().to_owned();
        settings.wecom.contact_secret = Some(Secret::new(fake.secret()));
        settings.wecom.api_base = fake.base_url().to_owned();
        settings.auth.argon2_memory_kib = 1024;
        settings.auth.argon2_iterations = 1;
        let app = App::open(settings).await.unwrap();
        let sys = Actor::system();
        let store = app
            .org()
            .create_store(
                &sys,
                &yutang_app::org::StoreInput::parse(None, "CRASH-M", "群发演练门店", "上海", "")
                    .unwrap(),
            )
            .await
            .unwrap();
        for (userid, name) in GUIDES {
            let input = NewStaffInput::parse(
                &format!("g.{userid}"),
                name,
                "guide",
                Some(store.id),
                Some("a-long-password"),
            )
            .unwrap();
            let id = app.staff().create_staff(&sys, &input).await.unwrap().id;
            yutang_store::staff::set_wecom_userid(&app.db, id, Some(userid), app.now())
                .await
                .unwrap();
        }
        app.wecom().start_wecom_sync(&sys, None).await.unwrap();
        app.drain_jobs().await.unwrap();
        let customers = drill::column(&app.db, "SELECT id FROM customers ORDER BY id").await;
        assert!(customers.len() >= 40, "synced {}", customers.len());
        Self {
            url,
            key_hex,
            fake,
            app,
            customers,
            dir,
        }
    }

    /// A message to every synced customer, sent now: the node's job runner prepares it.
    async fn message(&self, text: &str) -> i64 {
        let input = MessageInput::parse(
            text,
            Content::parse(text, Vec::new()).unwrap(),
            Audience::parse(AudienceForm {
                customer_ids: Some(self.customers.clone()),
                ..AudienceForm::default()
            })
            .unwrap(),
            None,
            None,
        )
        .unwrap();
        self.app
            .messaging()
            .create(&Actor::system(), &input)
            .await
            .unwrap()
            .message
            .id
    }

    /// Wait until the fake holds one `add_msg_template` at its gate.
    async fn held(&self, node: &Node) {
        wait_for(
            Duration::from_secs(60),
            "an add_msg_template held by the fake",
            &node.log,
            || async { (self.fake.held(PATH_ADD_MSG_TEMPLATE) == 1).then_some(()) },
        )
        .await;
    }

    /// The dead node's lease on the send job lapses (as it would 30 s later).
    async fn lapse_leases(&self) {
        drill::exec(
            &self.app.db,
            "UPDATE jobs SET locked_until = 0 WHERE status = 'running'",
        )
        .await;
    }

    /// Wait until message `id` is `sent` with every task created: its tasks' msgids by guide.
    async fn sent(&self, node: &Node, id: i64) -> BTreeMap<String, String> {
        wait_for(
            Duration::from_secs(120),
            "the message sent after the restart",
            &node.log,
            || async {
                let m = yutang_store::messaging::get(&self.app.db, id)
                    .await
                    .unwrap();
                if m.status != "sent" {
                    return None;
                }
                let tasks = yutang_store::messaging::tasks(&self.app.db, id)
                    .await
                    .unwrap();
                for t in &tasks {
                    assert_eq!(t.state, "created", "{t:?}");
                }
                Some(
                    tasks
                        .into_iter()
                        .map(|t| (t.wecom_userid, t.msgid.unwrap()))
                        .collect(),
                )
            },
        )
        .await
    }

    /// Every guide has exactly one WeCom task with `text`, the one Yutang recorded, and every
    /// customer Yutang counts as sent is in exactly one of them.
    async fn one_task_each(&self, id: i64, text: &str, recorded: &BTreeMap<String, String>) {
        let made: Vec<_> = self
            .fake
            .msg_templates()
            .into_iter()
            .filter(|t| t.text.as_deref() == Some(text))
            .collect();
        let mut by_guide: BTreeMap<String, String> = BTreeMap::new();
        for t in &made {
            assert!(
                by_guide
                    .insert(t.creator.clone(), t.msgid.clone())
                    .is_none(),
                "two WeCom tasks for {}",
                t.creator
            );
        }
        assert_eq!(&by_guide, recorded, "Yutang's tasks are WeCom's");
        let mut targets: Vec<&str> = made
            .iter()
            .flat_map(|t| t.targets.iter().map(|x| x.recipient.as_str()))
            .collect();
        let n = targets.len();
        targets.sort_unstable();
        targets.dedup();
        assert_eq!(targets.len(), n, "a customer in two tasks");
        let sent = drill::scalar(
            &self.app.db,
            &format!(
                "SELECT COUNT(*) FROM mass_message_recipients WHERE message_id = {id} \
                 AND state = 'task_created'"
            ),
        )
        .await;
        let lost = drill::scalar(
            &self.app.db,
            &format!(
                "SELECT COUNT(*) FROM mass_message_recipients WHERE message_id = {id} \
                 AND state IN ('queued', 'failed')"
            ),
        )
        .await;
        assert_eq!(lost, 0, "no recipient left behind or failed");
        assert_eq!(usize::try_from(sent).unwrap(), n);
    }
}

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
        ],
    )
    .await
}

async fn crash_during_a_mass_send(url: String) {
    let w = World::new(url).await;
    let node = start(&w, 1).await;

    // 1. WeCom created the first guide's task; the node died before it heard back.
    w.fake.hold(PATH_ADD_MSG_TEMPLATE, Hold::AfterApplying);
    let text = "演练一：门店周年庆";
    let id = w.message(text).await;
    w.held(&node).await;
    let calls = w.fake.calls(PATH_ADD_MSG_TEMPLATE);
    node.kill9();
    w.fake.release(PATH_ADD_MSG_TEMPLATE);
    w.lapse_leases().await;
    let node = start(&w, 2).await;
    let tasks = w.sent(&node, id).await;
    assert!(tasks.len() >= 2, "{tasks:?}");
    w.one_task_each(id, text, &tasks).await;
    assert_eq!(
        w.fake.calls(PATH_ADD_MSG_TEMPLATE),
        calls + tasks.len() as u64 - 1,
        "the adopted task is not created again"
    );

    // 2. The request never reached WeCom: created once after the restart. (The first
    // message's contacts are moved a week back, so the caps let this one through.)
    drill::exec(&w.app.db, "UPDATE message_contacts SET at = 0").await;
    w.fake.hold(PATH_ADD_MSG_TEMPLATE, Hold::BeforeApplying);
    let text = "演练二：会员日提醒";
    let id = w.message(text).await;
    w.held(&node).await;
    node.kill9();
    w.fake.release(PATH_ADD_MSG_TEMPLATE);
    w.lapse_leases().await;
    let node = start(&w, 3).await;
    let tasks = w.sent(&node, id).await;
    assert!(tasks.len() >= 2, "{tasks:?}");
    w.one_task_each(id, text, &tasks).await;
    node.kill9();
    w.fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_mass_send_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    crash_during_a_mass_send(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_mass_send_on_postgres() {
    crash_during_a_mass_send(common::fresh_pg_url().await).await;
}
