//! The in-memory corp behind the fake server, and its deterministic demo seed.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::push::FakeEvent;
use crate::client::api::{
    DEFAULT_CONTACT_WAY_LIMIT, MAX_CUSTOMER_CHANNEL_BYTES, MEDIA_TTL_SECS, QR_JOIN_MEMBER_LIMIT,
    WELCOME_CODE_TTL_SECS,
};

/// Unix time the demo data is stamped around (2023-11-14), so seeds are deterministic.
pub const DEMO_EPOCH: i64 = 1_700_000_000;

/// A staff member (成员).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// userid.
    pub userid: String,
    /// Display name.
    pub name: String,
    /// Whether they have left the company (their customers and groups await inheritance).
    pub resigned: bool,
}

/// A customer (external contact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// external_userid.
    pub external_userid: String,
    /// WeChat nickname.
    pub name: String,
    /// Avatar URL.
    pub avatar: String,
    /// 1 WeChat user, 2 WeCom user.
    pub contact_type: i64,
    /// 0 unknown, 1 male, 2 female.
    pub gender: i64,
    /// WeChat unionid.
    pub unionid: Option<String>,
}

/// A staff member following a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    /// The staff member.
    pub userid: String,
    /// The customer.
    pub external_userid: String,
    /// Remark.
    pub remark: String,
    /// Description.
    pub description: String,
    /// When added (Unix seconds).
    pub createtime: i64,
    /// Corp tag ids.
    pub tag_ids: Vec<String>,
    /// The contact way's state the customer came through.
    pub state: Option<String>,
    /// How the customer was added.
    pub add_way: i64,
}

/// A corp tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Tag id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub create_time: i64,
    /// Order.
    pub order: i64,
}

/// A corp tag group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagGroup {
    /// Group id.
    pub group_id: String,
    /// Name.
    pub group_name: String,
    /// Creation time.
    pub create_time: i64,
    /// Order.
    pub order: i64,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A member of a customer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Staff userid or external userid.
    pub userid: String,
    /// 1 staff, 2 external.
    pub member_type: i64,
    /// Join time.
    pub join_time: i64,
    /// 1 invited, 2 link, 3 QR code.
    pub join_scene: i64,
    /// Inviting staff member.
    pub invitor: Option<String>,
    /// Nickname in the group.
    pub group_nickname: String,
    /// Name.
    pub name: String,
    /// The state of the group join way the member joined through ('' when none; 99547).
    pub state: String,
}

/// A customer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// chat_id.
    pub chat_id: String,
    /// Name.
    pub name: String,
    /// Owner userid.
    pub owner: String,
    /// Creation time.
    pub create_time: i64,
    /// Notice.
    pub notice: String,
    /// Members.
    pub members: Vec<Member>,
    /// Admin userids.
    pub admins: Vec<String>,
    /// 0 normal, 1 owner resigned, 2 being inherited, 3 inherited.
    pub status: i64,
    /// Member list version, bumped on every change.
    pub member_version: u64,
}

/// A contact way (「联系我」).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactWay {
    /// config_id.
    pub config_id: String,
    /// 1 single, 2 multi.
    pub contact_type: i64,
    /// 1 mini-program, 2 QR code.
    pub scene: i64,
    /// Remark.
    pub remark: String,
    /// State.
    pub state: String,
    /// Staff userids.
    pub users: Vec<String>,
    /// Department ids.
    pub party: Vec<i64>,
    /// Add without verification.
    pub skip_verify: bool,
    /// QR code URL.
    pub qr_code: String,
    /// Temporary-session mode (does not count toward [`Corp::contact_way_limit`], 96348).
    pub is_temp: bool,
    /// Customers added through this way, per staff member (for the even spread of
    /// [`super::FakeWecom::simulate_scan_contact_way`]).
    pub adds: BTreeMap<String, u64>,
}

/// A group join way (客户群「加入群聊」, 99547).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinWay {
    /// config_id.
    pub config_id: String,
    /// 1 mini-program plugin, 2 QR code.
    pub scene: i64,
    /// Remark, cut to 30 characters like WeCom.
    pub remark: String,
    /// Create a new group when the listed ones (and the created ones) are full.
    pub auto_create_room: bool,
    /// Name prefix of the created groups.
    pub room_base_name: String,
    /// Number of the first created group.
    pub room_base_id: i64,
    /// The groups, in order.
    pub chat_id_list: Vec<String>,
    /// State; members who join through the way carry it.
    pub state: String,
    /// `mark_source` as sent.
    pub mark_source: bool,
    /// QR code URL (scene 2; '' for scene 1).
    pub qr_code: String,
    /// The groups this way created, oldest first.
    pub auto_rooms: Vec<String>,
    /// How many joined through this way.
    pub joins: u64,
}

/// An acquisition link (获客链接, 97297).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquisitionLink {
    /// link_id.
    pub link_id: String,
    /// Name.
    pub link_name: String,
    /// The URL (`https://work.weixin.qq.com/ca/…`).
    pub url: String,
    /// Creation time (Unix seconds).
    pub create_time: i64,
    /// Add without verification.
    pub skip_verify: bool,
    /// Mark the source as this app's link.
    pub mark_source: bool,
    /// `range.user_list`.
    pub users: Vec<String>,
    /// `range.department_list` (the fake has no departments: they hand out no customers).
    pub departments: Vec<i64>,
    /// `priority_option.priority_type`, when set (stored and echoed; the fake's simulated
    /// customers are new, so no priority applies).
    pub priority_type: Option<i64>,
    /// `priority_option.priority_userid_list`.
    pub priority_userids: Vec<String>,
    /// Customers added through this link, per staff member.
    pub adds: BTreeMap<String, u64>,
}

/// The corp's acquisition-link usage (97375): one unit per customer added through a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquisitionQuota {
    /// Used so far.
    pub total: i64,
    /// Left; at 0 links add no more customers.
    pub balance: i64,
    /// When the balance expires (Unix seconds); 0 = no `quota_list` entry.
    pub expire_date: i64,
}

impl Default for AcquisitionQuota {
    /// 1,000 units left, none used (an arbitrary default: WeCom sells the quota).
    fn default() -> Self {
        Self {
            total: 0,
            balance: 1_000,
            expire_date: 0,
        }
    }
}

/// A welcome code the fake issued with an add event (92599).
#[derive(Debug, Clone, PartialEq)]
pub struct WelcomeCode {
    /// When it was issued, on the corp's clock ([`Corp::now_ms`]).
    pub issued_at_ms: i64,
    /// The welcome message sent with it, `{"text": <text.content or null>, "attachments":
    /// [<as received>]}`; `Some` once used.
    pub message: Option<serde_json::Value>,
    /// How many more sends answer 41096 (another app is sending) without using the code.
    pub busy_answers: u32,
    /// When the welcome was sent with it, on the corp's clock (benchmarks measure the time
    /// from the add to the welcome with it).
    pub used_at_ms: Option<i64>,
}

impl WelcomeCode {
    /// Whether a welcome message was sent with it.
    pub fn used(&self) -> bool {
        self.message.is_some()
    }
}

/// A sign-in code the fake issued (web login or OAuth; exchanged by `auth/getuserinfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthCode {
    /// The member it signs in; `None`: someone outside the corp (the answer has an openid).
    pub userid: Option<String>,
    /// When it was issued, on the corp's clock ([`Corp::now_ms`]).
    pub issued_at_ms: i64,
    /// Whether `auth/getuserinfo` accepted it already (codes are single-use).
    pub used: bool,
}

/// One recipient of a mass-send task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgTarget {
    /// The sending staff member.
    pub sender: String,
    /// external_userid (single) or chat_id (group).
    pub recipient: String,
    /// 0 not sent, 1 sent, 2 not a customer (any more), 3 over the receipt cap
    /// ([`Corp::receipt_cap`]).
    pub status: i64,
    /// When sent (status 1 only).
    pub send_time: i64,
}

/// A mass-send task.
#[derive(Debug, Clone, PartialEq)]
pub struct MsgTemplate {
    /// msgid.
    pub msgid: String,
    /// Creator.
    pub creator: String,
    /// 0 corp, 1 personal.
    pub create_type: i64,
    /// `single` or `group`.
    pub chat_type: String,
    /// Creation time.
    pub create_time: i64,
    /// Text.
    pub text: Option<String>,
    /// Attachments as sent.
    pub attachments: Vec<serde_json::Value>,
    /// Recipients.
    pub targets: Vec<MsgTarget>,
    /// Stopped by `cancel_groupmsg_send` (97611): targets not sent by then stay unsent.
    pub cancelled: bool,
    /// When each accepted `remind_groupmsg_send` came, on the corp's clock ([`Corp::now_ms`]).
    pub reminders_ms: Vec<i64>,
}

impl MsgTemplate {
    /// The recipients of one sender's share, in the order the task lists them.
    pub fn recipients_of(&self, sender: &str) -> Vec<String> {
        self.targets
            .iter()
            .filter(|t| t.sender == sender)
            .map(|t| t.recipient.clone())
            .collect()
    }
}

/// A customer transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Handing over.
    pub handover_userid: String,
    /// Taking over.
    pub takeover_userid: String,
    /// The customer.
    pub external_userid: String,
    /// 1 done, 2 waiting, 3 refused, 4 taker at limit.
    pub status: i64,
    /// Takeover time (future while waiting).
    pub takeover_time: i64,
    /// Resigned-staff transfer (离职继承) rather than in-service (在职继承).
    pub resigned: bool,
}

/// A file uploaded with `media/upload_attachment` (96347).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `image` or `video`.
    pub kind: String,
    /// Upload time on the corp's clock (Unix seconds); the id is valid for
    /// [`MEDIA_TTL_SECS`] from it.
    pub created_at: i64,
    /// The file name sent.
    pub file_name: String,
    /// Its size.
    pub bytes: usize,
}

/// A moment (客户朋友圈) created through `add_moment_task` (95094).
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    /// moment_id.
    pub moment_id: String,
    /// The job that created it.
    pub jobid: String,
    /// `text.content`, empty without text.
    pub text: String,
    /// `attachments` as sent (a JSON array).
    pub attachments: serde_json::Value,
    /// The members who may publish it (valid staff of `sender_list`, or every active member).
    pub senders: Vec<String>,
    /// The corp tags of `external_contact_list` that exist.
    pub tag_list: Vec<String>,
    /// Creation time on the corp's clock (Unix seconds).
    pub create_time: i64,
    /// Sender → when they published it (Unix seconds, corp clock).
    pub published: BTreeMap<String, i64>,
    /// Stopped by `cancel_moment_task` (97612): nobody may publish it any more.
    pub cancelled: bool,
    /// (sender whose post it is, who liked it: an external_userid or a member's userid, when).
    pub likes: Vec<(String, String, i64)>,
    /// (sender whose post it is, who commented: an external_userid or a member's userid, when).
    pub comments: Vec<(String, String, i64)>,
}

/// A job of `add_moment_task` (95094), as `get_moment_task_result` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MomentJob {
    /// When it was started (Unix seconds, corp clock); the jobid is valid 24 hours.
    pub created_at: i64,
    /// The moment it created, or why it failed (`result.errcode`, `result.errmsg`).
    pub outcome: Result<String, (i64, String)>,
    /// `user_list` entries that are not active members.
    pub invalid_users: Vec<String>,
    /// `department_list` entries (the fake has no departments: all of them).
    pub invalid_departments: Vec<i64>,
    /// `tag_list` entries that are not corp tags.
    pub invalid_tags: Vec<String>,
}

/// Everything the fake WeCom knows about its corp.
#[derive(Debug, Clone)]
pub struct Corp {
    /// Staff members.
    pub staff: Vec<Staff>,
    /// Customers by external_userid.
    pub customers: BTreeMap<String, Customer>,
    /// Follow relations.
    pub follows: Vec<Follow>,
    /// Corp tag groups.
    pub tag_groups: Vec<TagGroup>,
    /// Customer groups.
    pub groups: Vec<Group>,
    /// Contact ways by config_id.
    pub contact_ways: BTreeMap<String, ContactWay>,
    /// Group join ways by config_id.
    pub join_ways: BTreeMap<String, JoinWay>,
    /// Mass-send tasks.
    pub msg_templates: Vec<MsgTemplate>,
    /// Transfers.
    pub transfers: Vec<Transfer>,
    /// Issued welcome codes.
    pub welcome_codes: HashMap<String, WelcomeCode>,
    /// How long a welcome code stays valid after it was issued (WeCom: 20 s, 92599). Zero makes
    /// every code expired at once.
    pub welcome_code_ttl: Duration,
    /// Added to the system clock for [`Corp::now_ms`]: lets a test age welcome codes without
    /// sleeping ([`super::FakeWecom::advance_clock`]).
    pub clock_offset: Duration,
    /// API-created contact ways and group join ways, together, the corp may hold (WeCom:
    /// 500,000, 96348 / 99547); `add_contact_way` and `groupchat/add_join_way` answer 41045
    /// past it ([`Corp::counted_contact_ways`]).
    pub contact_way_limit: usize,
    /// Acquisition links by link_id.
    pub acquisition_links: BTreeMap<String, AcquisitionLink>,
    /// Acquisition-link usage quota.
    pub acquisition_quota: AcquisitionQuota,
    /// Counter for generated ids.
    pub next_id: u64,
    /// How long a customer transfer waits before its takeover completes on its own (WeCom:
    /// 24 hours); `None`: transfers wait until `FakeWecom::complete_transfers`.
    pub takeover_after_secs: Option<i64>,
    /// How many mass messages a customer may receive (WeCom: as many a month as the month has
    /// days, or 7 a week / 1 a day by the corp's 群发规则, 92135). The fake counts every
    /// delivered one (status 1 of a `single` task), with no calendar window: a target whose
    /// customer already has this many gets status 3 when its task is completed. `None` (the
    /// default): no cap.
    pub receipt_cap: Option<usize>,
    /// Files uploaded with `upload_attachment`, by media_id.
    pub media: BTreeMap<String, Media>,
    /// Moments, oldest first.
    pub moments: Vec<Moment>,
    /// `add_moment_task` jobs by jobid.
    pub moment_jobs: BTreeMap<String, MomentJob>,
    /// The next this many `get_moment_task_result` calls (any jobid) answer status 2 without a
    /// result ([`super::FakeWecom::delay_moment_jobs`]).
    pub moment_job_delays: u32,
    /// Sign-in codes by code ([`super::FakeWecom::oauth_code`]).
    pub oauth_codes: HashMap<String, OauthCode>,
}

impl Default for Corp {
    /// An empty corp with WeCom's limits: welcome codes valid 20 s, 500,000 contact ways, the
    /// default acquisition quota.
    fn default() -> Self {
        Self {
            staff: Vec::new(),
            customers: BTreeMap::new(),
            follows: Vec::new(),
            tag_groups: Vec::new(),
            groups: Vec::new(),
            contact_ways: BTreeMap::new(),
            join_ways: BTreeMap::new(),
            msg_templates: Vec::new(),
            transfers: Vec::new(),
            welcome_codes: HashMap::new(),
            welcome_code_ttl: Duration::from_secs(WELCOME_CODE_TTL_SECS),
            clock_offset: Duration::ZERO,
            contact_way_limit: DEFAULT_CONTACT_WAY_LIMIT,
            acquisition_links: BTreeMap::new(),
            acquisition_quota: AcquisitionQuota::default(),
            next_id: 0,
            takeover_after_secs: None,
            receipt_cap: None,
            media: BTreeMap::new(),
            moments: Vec::new(),
            moment_jobs: BTreeMap::new(),
            moment_job_delays: 0,
            oauth_codes: HashMap::new(),
        }
    }
}

/// A customer an outside seed gives the corp, followed by one staff member
/// ([`Corp::add_contacts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    /// The staff member who follows the customer.
    pub userid: String,
    /// The customer.
    pub external_userid: String,
    /// WeChat nickname (and the follow's remark).
    pub name: String,
    /// When the staff member added the customer (Unix seconds).
    pub createtime: i64,
}

const STAFF: [(&str, &str, bool); 6] = [
    ("zhangwei", "张伟", false),
    ("wangfang", "王芳", false),
    ("lina", "李娜", false),
    ("liuyang", "刘洋", false),
    ("chenjing", "陈静", true),
    ("zhaolei", "赵磊", false),
];

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
];
const GIVEN: [&str; 8] = [
    "小明", "丽华", "建国", "秀英", "志强", "婷婷", "子涵", "浩然",
];
const STATES: [&str; 3] = ["store_sh_01", "live_2311", "mini_home"];

/// Number of customers in the demo corp.
pub const DEMO_CUSTOMERS: usize = 48;

impl Corp {
    /// An empty corp.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A deterministic demo corp: 6 staff members (陈静 has resigned), 48 customers, each
    /// followed by one staff member and every fourth by a second, two tag groups (客户等级,
    /// 来源渠道) and four customer groups (one owned by 陈静). The same call always yields the
    /// same data and ids.
    pub fn demo() -> Self {
        let mut corp = Self::empty();
        for (userid, name, resigned) in STAFF {
            corp.staff.push(Staff {
                userid: userid.to_owned(),
                name: name.to_owned(),
                resigned,
            });
        }
        let level = TagGroup {
            group_id: "etDemoGroupLevel".to_owned(),
            group_name: "客户等级".to_owned(),
            create_time: DEMO_EPOCH,
            order: 2,
            tags: ["普通会员", "银卡会员", "金卡会员"]
                .iter()
                .enumerate()
                .map(|(i, name)| Tag {
                    id: format!("etDemoLevel{i}"),
                    name: (*name).to_owned(),
                    create_time: DEMO_EPOCH,
                    order: i64::try_from(i).unwrap_or(0),
                })
                .collect(),
        };
        let channel = TagGroup {
            group_id: "etDemoGroupChannel".to_owned(),
            group_name: "来源渠道".to_owned(),
            create_time: DEMO_EPOCH,
            order: 1,
            tags: ["门店扫码", "直播间", "小程序"]
                .iter()
                .enumerate()
                .map(|(i, name)| Tag {
                    id: format!("etDemoChannel{i}"),
                    name: (*name).to_owned(),
                    create_time: DEMO_EPOCH,
                    order: i64::try_from(i).unwrap_or(0),
                })
                .collect(),
        };
        corp.tag_groups = vec![level, channel];

        for i in 0..DEMO_CUSTOMERS {
            let external_userid = format!("wmDemoCustomer{:04}", i + 1);
            let name = format!("{}{}", SURNAMES[i % 12], GIVEN[(i * 5 + i / 12) % 8]);
            corp.customers.insert(
                external_userid.clone(),
                Customer {
                    external_userid: external_userid.clone(),
                    name: name.clone(),
                    avatar: format!("https://wx.qlogo.cn/mmhead/demo{:04}/0", i + 1),
                    contact_type: 1,
                    gender: if i % 2 == 0 { 1 } else { 2 },
                    unionid: Some(format!("oDemoUnion{:04}", i + 1)),
                },
            );
            let offset = i64::try_from(i).unwrap_or(0) * 3600;
            let mut followers = vec![i % STAFF.len()];
            if i % 4 == 0 {
                followers.push((i + 1) % STAFF.len());
            }
            for staff_index in followers {
                corp.follows.push(Follow {
                    userid: STAFF[staff_index].0.to_owned(),
                    external_userid: external_userid.clone(),
                    remark: name.clone(),
                    description: String::new(),
                    createtime: DEMO_EPOCH - 30 * 86_400 + offset,
                    tag_ids: vec![
                        format!("etDemoLevel{}", i % 3),
                        format!("etDemoChannel{}", i % 3),
                    ],
                    state: Some(STATES[i % 3].to_owned()),
                    add_way: 1,
                });
            }
        }

        let groups = [
            (
                "wrDemoGroup0001",
                "鱼塘会员福利群①",
                "zhangwei",
                "每周三会员日,群内领券",
            ),
            (
                "wrDemoGroup0002",
                "王芳的VIP客户群",
                "wangfang",
                "新品优先体验",
            ),
            (
                "wrDemoGroup0003",
                "李娜门店老客群",
                "lina",
                "到店出示会员码享折扣",
            ),
            ("wrDemoGroup0004", "陈静的会员群", "chenjing", ""),
        ];
        for (n, (chat_id, name, owner, notice)) in groups.iter().enumerate() {
            let created = DEMO_EPOCH - 20 * 86_400 + i64::try_from(n).unwrap_or(0) * 86_400;
            let owner_name = corp
                .staff
                .iter()
                .find(|s| s.userid == *owner)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let mut members = vec![Member {
                userid: (*owner).to_owned(),
                member_type: 1,
                join_time: created,
                join_scene: 1,
                invitor: None,
                group_nickname: String::new(),
                name: owner_name,
                state: String::new(),
            }];
            let customers: Vec<(String, String)> = corp
                .follows
                .iter()
                .filter(|f| f.userid == *owner)
                .take(10)
                .map(|f| {
                    let name = corp
                        .customers
                        .get(&f.external_userid)
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    (f.external_userid.clone(), name)
                })
                .collect();
            for (k, (external_userid, name)) in customers.into_iter().enumerate() {
                members.push(Member {
                    userid: external_userid,
                    member_type: 2,
                    join_time: created + i64::try_from(k).unwrap_or(0) * 600 + 60,
                    join_scene: if k % 2 == 0 { 1 } else { 3 },
                    invitor: (k % 2 == 0).then(|| (*owner).to_owned()),
                    group_nickname: String::new(),
                    name,
                    state: String::new(),
                });
            }
            let resigned = corp.staff.iter().any(|s| s.userid == *owner && s.resigned);
            corp.groups.push(Group {
                chat_id: (*chat_id).to_owned(),
                name: (*name).to_owned(),
                owner: (*owner).to_owned(),
                create_time: created,
                notice: (*notice).to_owned(),
                members,
                admins: Vec::new(),
                status: i64::from(resigned),
                member_version: 1,
            });
        }
        corp
    }

    /// A fresh id with this prefix (`prefix` + a counter).
    pub fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:08}", self.next_id)
    }

    /// Adds a staff member unless the userid exists; returns whether it was added.
    pub fn add_staff(&mut self, userid: &str, name: &str) -> bool {
        if self.staff_member(userid).is_some() {
            return false;
        }
        self.staff.push(Staff {
            userid: userid.to_owned(),
            name: name.to_owned(),
            resigned: false,
        });
        true
    }

    /// Adds customers and follow relations that do not exist yet (a customer already known
    /// keeps its data); returns how many follow relations were added.
    pub fn add_contacts(&mut self, contacts: &[NewContact]) -> usize {
        let mut known: std::collections::HashSet<(String, String)> = self
            .follows
            .iter()
            .map(|f| (f.userid.clone(), f.external_userid.clone()))
            .collect();
        let mut added = 0;
        for c in contacts {
            if !known.insert((c.userid.clone(), c.external_userid.clone())) {
                continue;
            }
            self.customers
                .entry(c.external_userid.clone())
                .or_insert_with(|| Customer {
                    external_userid: c.external_userid.clone(),
                    name: c.name.clone(),
                    avatar: String::new(),
                    contact_type: 1,
                    gender: 0,
                    unionid: None,
                });
            self.follows.push(Follow {
                userid: c.userid.clone(),
                external_userid: c.external_userid.clone(),
                remark: c.name.clone(),
                description: String::new(),
                createtime: c.createtime,
                tag_ids: Vec::new(),
                state: None,
                add_way: 1,
            });
            added += 1;
        }
        added
    }

    /// Completes waiting transfers (every one, or with `due_only` those whose takeover time
    /// has come): status 1, and the customer now follows the taker instead of the previous
    /// staff member. Returns how many completed.
    pub fn complete_transfers(&mut self, now: i64, due_only: bool) -> usize {
        let mut done = Vec::new();
        for transfer in self
            .transfers
            .iter_mut()
            .filter(|t| t.status == 2 && (!due_only || t.takeover_time <= now))
        {
            transfer.status = 1;
            transfer.takeover_time = transfer.takeover_time.min(now);
            done.push(transfer.clone());
        }
        for transfer in &done {
            let already = self.follows(&transfer.takeover_userid, &transfer.external_userid);
            if let Some(index) = self.follows.iter().position(|f| {
                f.userid == transfer.handover_userid
                    && f.external_userid == transfer.external_userid
            }) {
                if already {
                    self.follows.remove(index);
                } else if let Some(follow) = self.follows.get_mut(index) {
                    follow.userid.clone_from(&transfer.takeover_userid);
                    follow.createtime = now;
                    follow.add_way = if transfer.resigned { 202 } else { 201 };
                }
            }
        }
        done.len()
    }

    /// Mass messages `external_userid` received: targets with status 1 of `single` tasks.
    pub fn delivered_mass_messages(&self, external_userid: &str) -> usize {
        self.delivered_of("single", external_userid)
    }

    /// Mass messages the group `chat_id` received: targets with status 1 of `group` tasks.
    pub fn delivered_group_messages(&self, chat_id: &str) -> usize {
        self.delivered_of("group", chat_id)
    }

    fn delivered_of(&self, chat_type: &str, recipient: &str) -> usize {
        self.msg_templates
            .iter()
            .filter(|t| t.chat_type == chat_type)
            .flat_map(|t| &t.targets)
            .filter(|t| t.status == 1 && t.recipient == recipient)
            .count()
    }

    /// The staff members of the mass-send task `msgid` confirm and send it (all of them, or
    /// with `sender` only that one): each of their unsent targets becomes status 1 (sent, at
    /// `now`), or, for a customer, 2 when the sender no longer follows them, and 3 when the
    /// customer (or group) already received [`Corp::receipt_cap`] mass messages. A cancelled
    /// task sends nothing more. Returns `None` for an unknown task, else how many targets the sender(s) have in
    /// it (sent or not).
    pub fn complete_msg_template(
        &mut self,
        msgid: &str,
        sender: Option<&str>,
        now: i64,
    ) -> Option<usize> {
        let index = self.msg_templates.iter().position(|t| t.msgid == msgid)?;
        let template = &self.msg_templates[index];
        let mine: Vec<usize> = template
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| sender.is_none_or(|s| t.sender == s))
            .map(|(i, _)| i)
            .collect();
        if template.cancelled {
            return Some(mine.len());
        }
        let single = template.chat_type == "single";
        for &i in &mine {
            let target = &self.msg_templates[index].targets[i];
            if target.status != 0 {
                continue;
            }
            let status = if !single {
                // WeCom caps each group as it caps each customer (92135).
                if self
                    .receipt_cap
                    .is_some_and(|cap| self.delivered_group_messages(&target.recipient) >= cap)
                {
                    3
                } else {
                    1
                }
            } else if !self.follows(&target.sender, &target.recipient) {
                2
            } else if self
                .receipt_cap
                .is_some_and(|cap| self.delivered_mass_messages(&target.recipient) >= cap)
            {
                3
            } else {
                1
            };
            let target = &mut self.msg_templates[index].targets[i];
            target.status = status;
            target.send_time = if status == 1 { now } else { 0 };
        }
        Some(mine.len())
    }

    /// Unix milliseconds on the corp's clock: the system clock plus [`Corp::clock_offset`].
    pub fn now_ms(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(self.clock_offset);
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }

    /// Issues a fresh welcome code, valid for [`Corp::welcome_code_ttl`] from now.
    pub fn issue_welcome_code(&mut self) -> String {
        let code = self.new_id("WELCOME");
        let issued_at_ms = self.now_ms();
        self.welcome_codes.insert(
            code.clone(),
            WelcomeCode {
                issued_at_ms,
                message: None,
                busy_answers: 0,
                used_at_ms: None,
            },
        );
        code
    }

    /// Issues a sign-in code for the member `userid` (`None`: someone outside the corp),
    /// valid 5 minutes of the corp's clock and once.
    pub fn issue_oauth_code(&mut self, userid: Option<&str>) -> String {
        let code = format!(
            "fakeOauthCode{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        let issued_at_ms = self.now_ms();
        self.oauth_codes.insert(
            code.clone(),
            OauthCode {
                userid: userid.map(str::to_owned),
                issued_at_ms,
                used: false,
            },
        );
        code
    }

    /// Whether this welcome code is past [`Corp::welcome_code_ttl`].
    pub fn welcome_code_expired(&self, code: &WelcomeCode) -> bool {
        let ttl_ms = i64::try_from(self.welcome_code_ttl.as_millis()).unwrap_or(i64::MAX);
        self.now_ms().saturating_sub(code.issued_at_ms) >= ttl_ms
    }

    /// A new customer `name` adds `userid`: creates the customer and the follow relation
    /// (with `state` and `add_way`), issues a welcome code and returns the
    /// `add_external_contact` event WeCom would send.
    pub fn add_new_customer(
        &mut self,
        userid: &str,
        name: &str,
        state: Option<String>,
        add_way: i64,
    ) -> FakeEvent {
        let external_userid = self.new_id("wmFakeCustomer");
        let welcome_code = self.issue_welcome_code();
        let createtime = self.now_ms() / 1000;
        self.customers.insert(
            external_userid.clone(),
            Customer {
                external_userid: external_userid.clone(),
                name: name.to_owned(),
                avatar: String::new(),
                contact_type: 1,
                gender: 0,
                unionid: None,
            },
        );
        self.follows.push(Follow {
            userid: userid.to_owned(),
            external_userid: external_userid.clone(),
            remark: String::new(),
            description: String::new(),
            createtime,
            tag_ids: Vec::new(),
            state: state.clone(),
            add_way,
        });
        FakeEvent::AddExternalContact {
            userid: userid.to_owned(),
            external_userid,
            state,
            welcome_code: Some(welcome_code),
        }
    }

    /// The contact way with this config_id.
    pub fn contact_way(&self, config_id: &str) -> Option<&ContactWay> {
        self.contact_ways.get(config_id)
    }

    /// The acquisition link with this link_id.
    pub fn acquisition_link(&self, link_id: &str) -> Option<&AcquisitionLink> {
        self.acquisition_links.get(link_id)
    }

    /// Contact ways and group join ways that count toward [`Corp::contact_way_limit`]
    /// (temporary contact ways do not; every join way does, 99547).
    pub fn counted_contact_ways(&self) -> usize {
        self.contact_ways.values().filter(|w| !w.is_temp).count() + self.join_ways.len()
    }

    /// The group join way with this config_id.
    pub fn join_way(&self, config_id: &str) -> Option<&JoinWay> {
        self.join_ways.get(config_id)
    }

    /// The customer group with this chat_id.
    pub fn group(&self, chat_id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.chat_id == chat_id)
    }

    /// The WeChat user `external_userid` (`None`: a new one, given a fresh external userid and
    /// known to no staff member) named `name` scans the join way `config_id` (see
    /// [`super::FakeWecom::simulate_join_via_way`]). Returns the events to push.
    pub fn join_via_way(
        &mut self,
        config_id: &str,
        external_userid: Option<&str>,
        name: &str,
    ) -> Result<Vec<FakeEvent>, String> {
        let way = self
            .join_way(config_id)
            .ok_or_else(|| format!("no join way {config_id}"))?
            .clone();
        let has_room =
            |g: &Group| i64::try_from(g.members.len()).unwrap_or(i64::MAX) < QR_JOIN_MEMBER_LIMIT;
        let chosen = way
            .chat_id_list
            .iter()
            .chain(&way.auto_rooms)
            .find(|chat_id| self.group(chat_id).is_some_and(has_room))
            .cloned();
        let now = self.now_secs();
        let mut events = Vec::new();
        let chat_id = match chosen {
            Some(chat_id) => chat_id,
            None if way.auto_create_room => {
                let owner = way
                    .chat_id_list
                    .iter()
                    .chain(&way.auto_rooms)
                    .find_map(|chat_id| self.group(chat_id))
                    .map(|g| g.owner.clone())
                    .ok_or_else(|| format!("join way {config_id} has no group left"))?;
                let owner_name = self
                    .staff_member(&owner)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                let number = way
                    .room_base_id
                    .saturating_add(i64::try_from(way.auto_rooms.len()).unwrap_or(i64::MAX));
                let chat_id = self.new_id("wrFakeJoinRoom");
                self.groups.push(Group {
                    chat_id: chat_id.clone(),
                    name: format!("{}{number}", way.room_base_name),
                    owner: owner.clone(),
                    create_time: now,
                    notice: String::new(),
                    members: vec![Member {
                        userid: owner,
                        member_type: 1,
                        join_time: now,
                        join_scene: 1,
                        invitor: None,
                        group_nickname: String::new(),
                        name: owner_name,
                        state: String::new(),
                    }],
                    admins: Vec::new(),
                    status: 0,
                    member_version: 1,
                });
                if let Some(way) = self.join_ways.get_mut(config_id) {
                    way.auto_rooms.push(chat_id.clone());
                }
                events.push(FakeEvent::ChatCreate {
                    chat_id: chat_id.clone(),
                });
                chat_id
            }
            None => return Err(format!("all groups of join way {config_id} are full")),
        };
        let userid = match external_userid {
            Some(userid) => userid.to_owned(),
            None => self.new_id("wmFakeCustomer"),
        };
        let group = self
            .groups
            .iter_mut()
            .find(|g| g.chat_id == chat_id)
            .ok_or_else(|| format!("no group {chat_id}"))?;
        if group.members.iter().any(|m| m.userid == userid) {
            return Err(format!("{userid} is already a member of {chat_id}"));
        }
        group.members.push(Member {
            userid: userid.clone(),
            member_type: 2,
            join_time: now,
            join_scene: 3,
            invitor: None,
            group_nickname: String::new(),
            name: name.to_owned(),
            state: way.state.clone(),
        });
        group.member_version += 1;
        if let Some(way) = self.join_ways.get_mut(config_id) {
            way.joins += 1;
        }
        events.push(FakeEvent::ChatUpdate {
            chat_id,
            update_detail: "add_member".to_owned(),
            join_scene: Some(3),
            quit_scene: None,
            mem_change_cnt: Some(1),
            mem_change_list: vec![userid],
        });
        Ok(events)
    }

    /// Of `users`, the active staff member with the fewest `adds`, ties by order; `None` when
    /// none of them is an active staff member.
    pub fn least_added(&self, users: &[String], adds: &BTreeMap<String, u64>) -> Option<String> {
        users
            .iter()
            .filter(|u| self.staff_member(u).is_some_and(|s| !s.resigned))
            .min_by_key(|u| adds.get(*u).copied().unwrap_or(0))
            .cloned()
    }

    /// The staff member with this userid.
    pub fn staff_member(&self, userid: &str) -> Option<&Staff> {
        self.staff.iter().find(|s| s.userid == userid)
    }

    /// Whether `userid` follows `external_userid`.
    pub fn follows(&self, userid: &str, external_userid: &str) -> bool {
        self.follows
            .iter()
            .any(|f| f.userid == userid && f.external_userid == external_userid)
    }

    /// Unix seconds on the corp's clock.
    pub fn now_secs(&self) -> i64 {
        self.now_ms() / 1000
    }

    /// The uploaded media `media_id` if it is still valid ([`MEDIA_TTL_SECS`] after its
    /// upload, on the corp's clock).
    pub fn valid_media(&self, media_id: &str) -> Option<&Media> {
        let now = self.now_secs();
        self.media
            .get(media_id)
            .filter(|m| now < m.created_at.saturating_add(MEDIA_TTL_SECS))
    }

    /// `userid` publishes their post of the moment (now, on the corp's clock). False for an
    /// unknown moment, a member who is not one of its senders, a cancelled moment, or a post
    /// already published.
    pub fn publish_moment(&mut self, moment_id: &str, userid: &str) -> bool {
        let now = self.now_secs();
        match self.moments.iter_mut().find(|m| m.moment_id == moment_id) {
            Some(moment)
                if !moment.cancelled
                    && moment.senders.iter().any(|s| s == userid)
                    && !moment.published.contains_key(userid) =>
            {
                moment.published.insert(userid.to_owned(), now);
                true
            }
            _ => false,
        }
    }

    /// `who` (a customer's external_userid, or a member's userid) likes (`comment` false) or
    /// comments on `userid`'s published post of the moment. False when that post is not
    /// published.
    pub fn interact_with_moment(
        &mut self,
        moment_id: &str,
        userid: &str,
        who: &str,
        comment: bool,
    ) -> bool {
        let now = self.now_secs();
        let Some(moment) = self
            .moments
            .iter_mut()
            .find(|m| m.moment_id == moment_id && m.published.contains_key(userid))
        else {
            return false;
        };
        let entry = (userid.to_owned(), who.to_owned(), now);
        if comment {
            moment.comments.push(entry);
        } else {
            moment.likes.push(entry);
        }
        true
    }

    /// The tag group and tag with this tag id.
    pub fn find_tag(&self, tag_id: &str) -> Option<(&TagGroup, &Tag)> {
        self.tag_groups
            .iter()
            .find_map(|g| g.tags.iter().find(|t| t.id == tag_id).map(|t| (g, t)))
    }
}

/// `value` cut to at most `max` bytes at a character boundary (WeCom truncates a
/// `customer_channel` over 64 bytes, 97298).
pub fn truncate_bytes(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// The `State` WeCom puts on the add event of a customer who came through an acquisition link
/// opened with this `customer_channel` (96361): the channel, cut to 64 bytes; none without one.
pub fn acquisition_state(customer_channel: Option<&str>) -> Option<String> {
    customer_channel
        .map(|c| truncate_bytes(c, MAX_CUSTOMER_CHANNEL_BYTES))
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_bytes("abc", 64), "abc");
        // "渠" is 3 bytes: 22 of them are 66 bytes; 21 fit in 64.
        let long = "渠".repeat(22);
        assert_eq!(truncate_bytes(&long, 64).chars().count(), 21);
        assert_eq!(acquisition_state(Some("")), None);
        assert_eq!(acquisition_state(None), None);
        assert_eq!(
            acquisition_state(Some("live_2311")).as_deref(),
            Some("live_2311")
        );
    }

    #[test]
    fn least_added_spreads_and_skips_inactive() {
        let corp = Corp::demo();
        let users = vec![
            "chenjing".to_owned(),
            "lina".to_owned(),
            "zhangwei".to_owned(),
        ];
        let mut adds = BTreeMap::new();
        // chenjing has resigned: never picked.
        assert_eq!(corp.least_added(&users, &adds).as_deref(), Some("lina"));
        adds.insert("lina".to_owned(), 1);
        assert_eq!(corp.least_added(&users, &adds).as_deref(), Some("zhangwei"));
        adds.insert("zhangwei".to_owned(), 1);
        assert_eq!(corp.least_added(&users, &adds).as_deref(), Some("lina"));
        assert_eq!(corp.least_added(&["nobody".to_owned()], &adds), None);
    }

    #[test]
    fn demo_is_deterministic_and_consistent() {
        let a = Corp::demo();
        let b = Corp::demo();
        assert_eq!(a.customers, b.customers);
        assert_eq!(a.follows, b.follows);
        assert_eq!(a.customers.len(), DEMO_CUSTOMERS);
        assert_eq!(a.follows.len(), DEMO_CUSTOMERS + DEMO_CUSTOMERS / 4);
        for follow in &a.follows {
            assert!(a.customers.contains_key(&follow.external_userid));
            assert!(a.staff_member(&follow.userid).is_some());
            for tag in &follow.tag_ids {
                assert!(a.find_tag(tag).is_some());
            }
        }
        assert_eq!(a.groups.iter().filter(|g| g.status == 1).count(), 1);
    }
}
