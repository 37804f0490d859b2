//! The demo's WeCom part: connect the demo brand to a (fake) WeCom corp and let a portion of
//! its customers and groups arrive the real way — the stored settings, the real API client
//! and the real `wecom_full_sync` job. `yutang demo` starts the fake in-process and calls
//! [`Demo::connect_demo_wecom`] with its address, through [`Demo::start_demo_wecom`], which
//! also links every guide and store manager and gives the corp every WeCom customer they
//! follow, so the corp and the brand agree (a transfer of anything the console offers goes
//! through).

use serde::Serialize;
use yutang_core::staff::{Role, StaffStatus};

use super::Demo;
use crate::Actor;
use crate::audit::Page;
use crate::error::{AppError, Result};
use crate::staff::StaffQuery;
use crate::wecom::settings::{AppSecret, WecomSettingsInput};
use crate::wecom::sync::SyncState;

/// Where the demo's WeCom corp is.
#[derive(Debug, Clone)]
pub struct DemoWecom {
    pub corp_id: String,
    pub secret: String,
    pub api_base: String,
    pub callback_token: String,
    pub encoding_aes_key: String,
    /// The corp's staff userids to link to demo guides, in order.
    pub userids: Vec<String>,
}

/// What arrived.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoWecomSummary {
    pub linked_guides: usize,
    pub customers: u64,
    pub follows: u64,
    pub groups: u64,
    pub group_members: u64,
    pub corp_tags: usize,
    /// Follow relations of linked staff the demo gave the corp after the sync
    /// ([`Demo::start_demo_wecom`]).
    pub contacts_seeded: usize,
    /// The WeCom userid the fake signs in ([`DEMO_SIGN_IN`]'s), when linked.
    pub sign_in_userid: Option<String>,
}

impl Demo<'_> {
    /// Link the first demo guides to the corp's userids, store the connection settings and run
    /// the full sync to completion.
    pub async fn connect_demo_wecom(&self, corp: &DemoWecom) -> Result<DemoWecomSummary> {
        let system = Actor::system();
        let guides = self
            .staff()
            .list_staff(
                &system,
                &StaffQuery {
                    role: Some(Role::Guide),
                    status: Some(StaffStatus::Active),
                    page: Page {
                        number: 1,
                        size: i64::try_from(corp.userids.len()).unwrap_or(0),
                    },
                    ..StaffQuery::default()
                },
            )
            .await?;
        let mut summary = DemoWecomSummary::default();
        for (guide, userid) in guides.items.iter().zip(&corp.userids) {
            yutang_store::staff::set_wecom_userid(&self.db, guide.id, Some(userid), self.now())
                .await?;
            summary.linked_guides += 1;
        }
        self.wecom()
            .save_wecom_settings(
                &system,
                &WecomSettingsInput {
                    corp_id: Some(corp.corp_id.clone()),
                    api_base: Some(corp.api_base.clone()),
                    contact_secret: Some(corp.secret.clone()),
                    callback_token: Some(corp.callback_token.clone()),
                    encoding_aes_key: Some(corp.encoding_aes_key.clone()),
                    ..WecomSettingsInput::default()
                },
            )
            .await?;
        let job = self.wecom().start_wecom_sync(&system, None).await?;
        // Run it here; a serving node's own job runner may have claimed it first, or a busy
        // database put it back for a retry: wait for it to end (done or failed) either way.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
        let done = loop {
            self.drain_jobs().await?;
            let now = self.wecom().wecom_sync(&system, job.job.id).await?;
            let ended = matches!(now.job.status.as_str(), "done" | "failed");
            if ended || std::time::Instant::now() > deadline {
                break now;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        if done.job.status != "done" {
            return Err(AppError::Internal(format!(
                "the demo's WeCom sync did not finish ({}): {}",
                done.job.status,
                done.job.error.unwrap_or_default()
            )));
        }
        let st: SyncState = done.state.unwrap_or_default();
        summary.customers = st.customers_created;
        summary.follows = st.follows;
        summary.groups = st.groups;
        summary.group_members = st.members_joined;
        summary.corp_tags = st.tags.map(|t| t.tags).unwrap_or(0);
        Ok(summary)
    }

    /// A group live code (群活码) over the first two synced groups, attributed to the first
    /// demo channel (seed the acquisition demo first): its join way is created in the corp, so
    /// the code is synced with a QR. Returns how many codes it made.
    pub async fn seed_demo_group_code(&self) -> Result<usize> {
        let system = Actor::system();
        let groups = self.wecom().wecom_groups(&system, false, 200, 0).await?;
        let mut ids: Vec<i64> = groups.items.iter().map(|g| g.id).collect();
        ids.sort_unstable();
        ids.truncate(2);
        if ids.is_empty() {
            return Ok(0);
        }
        let channel = yutang_store::acquisition::list_channels(&self.db, None, false)
            .await?
            .into_iter()
            .map(|c| c.id)
            .min();
        let spec = yutang_core::group_codes::GroupCodeSpec {
            name: "会员福利群活码".into(),
            channel_id: channel,
            store_id: None,
            scene: yutang_core::group_codes::Scene::Qr,
            member_cap: yutang_core::group_codes::DEFAULT_CAP,
            auto_create: true,
            room_base_name: "鱼塘会员福利群".into(),
            room_base_id: 3,
            group_ids: ids,
        };
        self.group_codes().create(&system, spec).await?;
        Ok(1)
    }
}

/// The AgentId of the demo's self-built app in the fake corp (sign-in with WeCom, app
/// messages, the chat sidebar's signatures).
pub const DEMO_AGENT_ID: i64 = 1_000_002;
/// Its secret (the fake's; nothing real).
pub const DEMO_APP_SECRET: &str = "YutangDemoAppSecret0000000000000000000000000";
/// The demo account the fake WeCom signs in when someone uses 企业微信登录 on the demo's login
/// page or opens a console page inside a (pretend) WeCom client: the fake has no phone to
/// scan its QR code with, so one member always confirms.
pub const DEMO_SIGN_IN: &str = "sh-001.guide1";

/// How long the demo's fake WeCom lets a customer transfer wait before the takeover completes
/// (WeCom: 24 hours, unless the customer refuses).
pub const DEMO_TAKEOVER_AFTER_SECS: i64 = 60;

#[cfg(feature = "fake-wecom")]
impl Demo<'_> {
    /// Start the demo's fake WeCom corp in this process and connect the demo brand to it
    /// ([`Demo::connect_demo_wecom`]), then make the corp know what the brand knows: every
    /// active guide and store manager not linked yet gets a WeCom userid (their username), and
    /// every customer a linked staff member follows with a WeCom identity becomes that
    /// member's contact in the corp — so whatever the transfer page offers can be
    /// transferred. Takeovers complete `takeover_after_secs` after the transfer call. The
    /// fake serves as long as the returned handle lives.
    pub async fn start_demo_wecom(
        &self,
        takeover_after_secs: i64,
    ) -> Result<(yutang_wecom::fake::FakeWecom, DemoWecomSummary)> {
        let fake = start_demo_fake(takeover_after_secs).await?;
        let summary = self.connect_demo_fake(&fake).await?;
        Ok((fake, summary))
    }

    /// [`Demo::start_demo_wecom`] with a fake already started ([`start_demo_fake`]): `yutang
    /// demo` starts it before it opens the app, so the app's `wecom.login_base` and
    /// `wecom.oauth_base` can point at it. Besides the corp, registers the demo's self-built
    /// app ([`DEMO_AGENT_ID`]) with its secret in the stored settings, so sign-in with WeCom
    /// and app messages work, and makes [`DEMO_SIGN_IN`] the member who confirms the fake's
    /// QR web logins and OAuth sign-ins.
    pub async fn connect_demo_fake(
        &self,
        fake: &yutang_wecom::fake::FakeWecom,
    ) -> Result<DemoWecomSummary> {
        use yutang_wecom::fake::corp::NewContact;
        let userids = fake.with_corp(|c| {
            c.staff
                .iter()
                .filter(|s| !s.resigned)
                .map(|s| s.userid.clone())
                .collect::<Vec<_>>()
        });
        let mut summary = self
            .connect_demo_wecom(&DemoWecom {
                corp_id: fake.corp_id().to_owned(),
                secret: fake.secret().to_owned(),
                api_base: fake.base_url().to_owned(),
                callback_token: "YutangDemoToken".to_owned(),
                encoding_aes_key: yutang_wecom::AesKey::generate().to_encoding_aes_key(),
                userids,
            })
            .await?;
        let system = Actor::system();
        for role in [Role::Guide, Role::StoreManager] {
            let staff = self
                .staff()
                .list_staff(
                    &system,
                    &StaffQuery {
                        role: Some(role),
                        status: Some(StaffStatus::Active),
                        page: Page {
                            number: 1,
                            size: 100_000,
                        },
                        ..StaffQuery::default()
                    },
                )
                .await?;
            for s in staff.items.iter().filter(|s| s.wecom_userid.is_none()) {
                yutang_store::staff::set_wecom_userid(
                    &self.db,
                    s.id,
                    Some(&s.username),
                    self.now(),
                )
                .await?;
                fake.with_corp(|c| c.add_staff(&s.username, &s.display_name));
                summary.linked_guides += 1;
            }
        }
        let contacts: Vec<NewContact> = yutang_store::wecom::transfers::linked_contacts(&self.db)
            .await?
            .into_iter()
            .map(|c| NewContact {
                userid: c.userid,
                external_userid: c.external_userid,
                name: c.name,
                createtime: c.since / 1000,
            })
            .collect();
        summary.contacts_seeded = fake.with_corp(|c| c.add_contacts(&contacts));
        fake.add_app(DEMO_AGENT_ID, DEMO_APP_SECRET);
        self.wecom()
            .save_wecom_settings(
                &system,
                &WecomSettingsInput {
                    app_secrets: Some(vec![AppSecret {
                        agent_id: DEMO_AGENT_ID.to_string(),
                        secret: DEMO_APP_SECRET.to_owned(),
                    }]),
                    ..WecomSettingsInput::default()
                },
            )
            .await?;
        let signer = yutang_store::staff::wecom_userid_of(&self.db, DEMO_SIGN_IN).await?;
        fake.set_web_login_user(signer.as_deref());
        summary.sign_in_userid = signer;
        Ok(summary)
    }
}

/// Start the demo's fake WeCom corp in this process (empty until
/// [`Demo::connect_demo_fake`]); takeovers complete `takeover_after_secs` after the transfer
/// call. It serves as long as the returned handle lives.
#[cfg(feature = "fake-wecom")]
pub async fn start_demo_fake(takeover_after_secs: i64) -> Result<yutang_wecom::fake::FakeWecom> {
    use yutang_wecom::fake::{FakeConfig, FakeWecom};
    let mut config = FakeConfig::demo();
    config.corp.takeover_after_secs = Some(takeover_after_secs.max(0));
    FakeWecom::start(config)
        .await
        .map_err(|e| AppError::Internal(format!("the demo's fake WeCom did not start: {e}")))
}
