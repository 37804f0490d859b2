//! The in-memory corp behind the fake server, and its deterministic demo seed.

use std::collections::{BTreeMap, HashMap};

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
}

/// One recipient of a mass-send task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgTarget {
    /// The sending staff member.
    pub sender: String,
    /// external_userid (single) or chat_id (group).
    pub recipient: String,
    /// 0 not sent, 1 sent, 2 not a customer, 3 over the receipt cap.
    pub status: i64,
    /// When sent.
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

/// Everything the fake WeCom knows about its corp.
#[derive(Debug, Clone, Default)]
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
    /// Mass-send tasks.
    pub msg_templates: Vec<MsgTemplate>,
    /// Transfers.
    pub transfers: Vec<Transfer>,
    /// Issued welcome codes → whether one was used.
    pub welcome_codes: HashMap<String, bool>,
    /// Counter for generated ids.
    pub next_id: u64,
    /// How long a customer transfer waits before its takeover completes on its own (WeCom:
    /// 24 hours); `None`: transfers wait until `FakeWecom::complete_transfers`.
    pub takeover_after_secs: Option<i64>,
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

    /// The tag group and tag with this tag id.
    pub fn find_tag(&self, tag_id: &str) -> Option<(&TagGroup, &Tag)> {
        self.tag_groups
            .iter()
            .find_map(|g| g.tags.iter().find(|t| t.id == tag_id).map(|t| (g, t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
