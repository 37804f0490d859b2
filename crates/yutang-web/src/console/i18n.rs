//! Console translations. Simplified Chinese is the default; English is one click away.
//! Keys are English identifiers; a missing key shows the key itself, which a test forbids for
//! every key the templates use.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh" | "zh-CN" | "zh-cn" => Some(Lang::Zh),
            "en" | "en-US" | "en-us" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// The translator handed to templates: `{{ tr.t("nav.staff") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        match lookup(key) {
            Some((zh, en)) => match self.lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => "??",
        }
    }

    /// A role's label.
    pub fn role(&self, role: &str) -> &'static str {
        self.t(&format!("role.{role}"))
    }

    /// A staff status label.
    pub fn status(&self, status: &str) -> &'static str {
        self.t(&format!("status.{status}"))
    }

    /// An error code's message; unknown codes fall back to a generic message.
    pub fn error(&self, code: &str) -> &'static str {
        match lookup(&format!("err.{code}")) {
            Some(_) => self.t(&format!("err.{code}")),
            None => self.t("err.generic"),
        }
    }

    /// An audit action label.
    pub fn action(&self, action: &str) -> &'static str {
        match lookup(&format!("audit.{action}")) {
            Some(_) => self.t(&format!("audit.{action}")),
            None => "?",
        }
    }
}

/// `(zh, en)` for a key.
pub fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "app.name" => ("鱼塘", "Yutang"),
        "app.tagline" => ("私域运营平台", "Private-domain operations"),
        "nav.home" => ("概览", "Overview"),
        "nav.org" => ("组织架构", "Organisation"),
        "nav.regions" => ("大区", "Regions"),
        "nav.stores" => ("门店", "Stores"),
        "nav.staff" => ("员工", "Staff"),
        "nav.settings" => ("系统设置", "Settings"),
        "nav.tokens" => ("API 令牌", "API tokens"),
        "nav.audit" => ("审计日志", "Audit log"),
        "nav.account" => ("我的账号", "My account"),
        "nav.logout" => ("退出登录", "Sign out"),
        "nav.lang_other" => ("English", "中文"),
        "login.title" => ("登录", "Sign in"),
        "login.username" => ("用户名", "Username"),
        "login.password" => ("密码", "Password"),
        "login.submit" => ("登录", "Sign in"),
        "home.title" => ("概览", "Overview"),
        "home.welcome" => ("欢迎回来", "Welcome back"),
        "home.your_role" => ("你的角色", "Your role"),
        "home.your_store" => ("所属门店", "Your store"),
        "home.hq" => ("总部", "Headquarters"),
        "home.regions" => ("大区数", "Regions"),
        "home.stores" => ("门店数", "Stores"),
        "home.staff" => ("员工数", "Staff"),
        "common.search" => ("搜索", "Search"),
        "common.filter" => ("筛选", "Filter"),
        "common.all" => ("全部", "All"),
        "common.save" => ("保存", "Save"),
        "common.create" => ("新建", "Create"),
        "common.cancel" => ("取消", "Cancel"),
        "common.edit" => ("编辑", "Edit"),
        "common.actions" => ("操作", "Actions"),
        "common.none" => ("无", "None"),
        "common.empty" => ("暂无数据", "Nothing here yet"),
        "common.total" => ("共", "Total"),
        "common.prev" => ("上一页", "Previous"),
        "common.next" => ("下一页", "Next"),
        "common.page" => ("页", "Page"),
        "common.created_at" => ("创建时间", "Created"),
        "common.saved" => ("已保存", "Saved"),
        "common.created" => ("已创建", "Created"),
        "common.name" => ("名称", "Name"),
        "common.id" => ("ID", "ID"),
        "staff.title" => ("员工", "Staff"),
        "staff.new" => ("新建员工", "New staff member"),
        "staff.edit" => ("编辑员工", "Edit staff member"),
        "staff.username" => ("用户名", "Username"),
        "staff.display_name" => ("姓名", "Name"),
        "staff.role" => ("角色", "Role"),
        "staff.store" => ("门店", "Store"),
        "staff.status" => ("状态", "Status"),
        "staff.password" => ("初始密码", "Initial password"),
        "staff.password_hint" => (
            "至少 10 个字符；留空则暂不能登录",
            "At least 10 characters; leave empty to create an account that cannot sign in yet",
        ),
        "staff.reset_password" => ("重置密码", "Reset password"),
        "staff.new_password" => ("新密码", "New password"),
        "staff.search_hint" => ("用户名或姓名", "Username or name"),
        "staff.password_reset_done" => (
            "密码已重置，该员工的登录会话已全部失效",
            "Password reset; all of this person's sessions ended",
        ),
        "role.admin" => ("管理员", "Admin"),
        "role.operator" => ("运营", "Operator"),
        "role.store_manager" => ("店长", "Store manager"),
        "role.guide" => ("导购", "Guide"),
        "role.analyst" => ("分析师（只读）", "Analyst (read-only)"),
        "status.active" => ("在职", "Active"),
        "status.disabled" => ("已停用", "Disabled"),
        "stores.title" => ("门店", "Stores"),
        "stores.new" => ("新建门店", "New store"),
        "stores.edit" => ("编辑门店", "Edit store"),
        "stores.code" => ("门店编码", "Store code"),
        "stores.name" => ("门店名称", "Store name"),
        "stores.region" => ("所属大区", "Region"),
        "stores.city" => ("城市", "City"),
        "stores.address" => ("地址", "Address"),
        "stores.staff_count" => ("员工数", "Staff"),
        "stores.search_hint" => ("编码、名称或城市", "Code, name or city"),
        "regions.title" => ("大区", "Regions"),
        "regions.new" => ("新建大区", "New region"),
        "regions.name" => ("大区名称", "Region name"),
        "regions.store_count" => ("门店数", "Stores"),
        "regions.rename" => ("重命名", "Rename"),
        "tokens.title" => ("API 令牌", "API tokens"),
        "tokens.intro" => (
            "供 POS、电商店铺、小程序后端等系统集成调用开放 API。令牌只显示一次，数据库中仅保存其哈希。",
            "For integrations (POS, shops, mini-program back end) calling the open API. A token is shown once; only its hash is stored.",
        ),
        "tokens.new" => ("创建令牌", "Create token"),
        "tokens.name" => ("名称", "Name"),
        "tokens.role" => ("权限角色", "Role"),
        "tokens.expires_in_days" => ("有效天数", "Valid for (days)"),
        "tokens.never" => ("永不过期", "Never expires"),
        "tokens.prefix" => ("前缀", "Prefix"),
        "tokens.last_used" => ("最近使用", "Last used"),
        "tokens.expires" => ("过期时间", "Expires"),
        "tokens.state" => ("状态", "State"),
        "tokens.revoked" => ("已吊销", "Revoked"),
        "tokens.live" => ("有效", "Live"),
        "tokens.revoke" => ("吊销", "Revoke"),
        "tokens.created_once" => (
            "令牌已创建。请立即复制保存，它不会再次显示：",
            "Token created. Copy it now; it will not be shown again:",
        ),
        "audit.title" => ("审计日志", "Audit log"),
        "audit.at" => ("时间", "Time"),
        "audit.actor" => ("操作人", "Actor"),
        "audit.action" => ("动作", "Action"),
        "audit.target" => ("对象", "Target"),
        "audit.detail" => ("详情", "Detail"),
        "audit.ip" => ("IP", "IP"),
        "audit.login" => ("登录", "Signed in"),
        "audit.login_failed" => ("登录失败", "Failed sign-in"),
        "audit.logout" => ("退出", "Signed out"),
        "audit.password_changed" => ("修改密码", "Changed password"),
        "audit.password_reset" => ("重置密码", "Reset password"),
        "audit.staff_created" => ("新建员工", "Created staff"),
        "audit.staff_updated" => ("修改员工", "Updated staff"),
        "audit.role_changed" => ("变更角色", "Changed role"),
        "audit.staff_disabled" => ("停用员工", "Disabled staff"),
        "audit.staff_enabled" => ("启用员工", "Enabled staff"),
        "audit.token_created" => ("创建令牌", "Created token"),
        "audit.token_revoked" => ("吊销令牌", "Revoked token"),
        "audit.admin_bootstrapped" => ("初始化管理员", "Bootstrapped admin"),
        "account.title" => ("我的账号", "My account"),
        "account.change_password" => ("修改密码", "Change password"),
        "account.current_password" => ("当前密码", "Current password"),
        "account.new_password" => ("新密码", "New password"),
        "account.password_changed" => (
            "密码已修改，请重新登录",
            "Password changed; please sign in again",
        ),
        "error.title" => ("出错了", "Something went wrong"),
        "error.back" => ("返回概览", "Back to overview"),
        "err.generic" => ("请求无法完成", "The request could not be completed"),
        "err.internal" => (
            "服务器内部错误，请查看服务器日志",
            "Internal error; see the server log",
        ),
        "err.invalid_credentials" => ("用户名或密码错误", "Wrong username or password"),
        "err.too_many_attempts" => (
            "登录失败次数过多，请稍后再试",
            "Too many failed attempts; try again later",
        ),
        "err.csrf" => (
            "页面已过期，请刷新后重试",
            "The page expired; reload and try again",
        ),
        "err.forbidden" => (
            "你的角色无权执行此操作",
            "Your role does not allow this action",
        ),
        "err.not_found" => ("找不到该记录", "Not found"),
        "err.invalid_username" => (
            "用户名需为 3–32 位小写字母、数字或 . _ -",
            "Username must be 3–32 characters of a–z, 0–9, '.', '_' or '-'",
        ),
        "err.invalid_name" => ("名称需为 1–40 个字符", "Name must be 1–40 characters"),
        "err.invalid_role" => ("未知角色", "Unknown role"),
        "err.invalid_status" => ("未知状态", "Unknown status"),
        "err.password_too_short" => (
            "密码至少 10 个字符",
            "Password must have at least 10 characters",
        ),
        "err.password_too_long" => ("密码过长", "Password is too long"),
        "err.wrong_password" => ("当前密码不正确", "The current password is wrong"),
        "err.username_taken" => ("用户名已被占用", "That username is taken"),
        "err.store_required" => (
            "店长和导购必须属于一个门店",
            "Store managers and guides must belong to a store",
        ),
        "err.store_not_allowed" => ("总部角色不能属于门店", "Headquarters roles have no store"),
        "err.unknown_store" => ("门店不存在", "No such store"),
        "err.unknown_region" => ("大区不存在", "No such region"),
        "err.last_admin" => (
            "这是最后一个在职管理员，请先创建另一个管理员",
            "This is the last active admin; create another admin first",
        ),
        "err.store_code_taken" => ("门店编码已存在", "That store code exists"),
        "err.invalid_store_code" => (
            "门店编码需为 1–32 位字母、数字、- 或 _",
            "Store code must be 1–32 letters, digits, '-' or '_'",
        ),
        "err.invalid_text" => (
            "文字过长或包含控制字符",
            "Text too long or contains control characters",
        ),
        "err.region_name_taken" => ("大区名称已存在", "That region name exists"),
        "err.token_role_not_allowed" => (
            "API 令牌只能是管理员、运营或分析师角色",
            "API tokens can be admin, operator or analyst",
        ),
        "err.invalid_expiry" => ("有效天数需在 1–3650 之间", "Validity must be 1–3650 days"),
        "err.invalid_form" => ("表单内容无效", "The form is invalid"),
        "nav.pool" => ("客户池", "Customer pool"),
        "nav.customers" => ("客户", "Customers"),
        "customers.title" => ("客户", "Customers"),
        "customers.view" => ("客户详情", "Customer"),
        "customers.search_hint" => ("姓名、手机号或任意身份标识", "Name, phone or any identity"),
        "customers.name" => ("姓名", "Name"),
        "customers.unnamed" => ("（未命名）", "(no name)"),
        "customers.phone" => ("手机号", "Phone"),
        "customers.city" => ("城市", "City"),
        "customers.member_level" => ("会员等级", "Member level"),
        "customers.gender" => ("性别", "Gender"),
        "customers.birthday" => ("生日", "Birthday"),
        "customers.store" => ("门店", "Store"),
        "customers.guide" => ("导购", "Guide"),
        "customers.owner" => ("归属导购", "Owner"),
        "customers.order_count" => ("订单数", "Orders"),
        "customers.total_spend" => ("累计消费", "Total spend"),
        "customers.avg_order" => ("客单价", "Average order"),
        "customers.first_order" => ("首单时间", "First order"),
        "customers.last_order" => ("最近下单", "Last order"),
        "customers.profile" => ("基本资料", "Profile"),
        "customers.reveal" => ("查看完整号码", "Show full number"),
        "customers.reveal_hint" => (
            "查看操作将记入审计日志",
            "each reveal is written to the audit log",
        ),
        "customers.identities" => ("身份标识", "Identities"),
        "customers.identity_kind" => ("类型", "Kind"),
        "customers.namespace" => ("应用 / 平台", "App / platform"),
        "customers.value" => ("标识值", "Value"),
        "customers.strong" => ("强标识", "strong"),
        "customers.guides" => ("跟进导购", "Guides"),
        "customers.since" => ("添加时间", "Since"),
        "customers.remark" => ("备注", "Remark"),
        "customers.follow_state" => ("好友状态", "State"),
        "customers.orders" => ("订单", "Orders"),
        "customers.timeline" => ("客户动态", "Timeline"),
        "customers.event_kind" => ("事件类型", "Event"),
        "customers.occurred_at" => ("时间", "Time"),
        "customers.detail" => ("详情", "Detail"),
        "orders.external_id" => ("订单号", "Order no."),
        "orders.paid_at" => ("支付时间", "Paid at"),
        "orders.channel" => ("渠道", "Channel"),
        "orders.amount" => ("实付金额", "Paid"),
        "orders.refunded" => ("已退款", "Refunded"),
        "orders.status" => ("状态", "Status"),
        "gender.female" => ("女", "Female"),
        "gender.male" => ("男", "Male"),
        "gender.unknown" => ("未知", "Unknown"),
        "identity.wecom_external" => ("企业微信外部联系人", "WeCom external contact"),
        "identity.unionid" => ("微信 UnionID", "WeChat unionid"),
        "identity.openid" => ("小程序 / 公众号 OpenID", "Mini-program / OA openid"),
        "identity.phone" => ("手机号", "Phone"),
        "identity.app_user" => ("App 用户", "App user"),
        "identity.pos_member" => ("POS 会员号", "POS member"),
        "identity.shop_buyer" => ("电商买家", "Shop buyer"),
        "follow.active" => ("好友", "Active"),
        "follow.deleted_by_customer" => ("客户已删除", "Deleted by customer"),
        "follow.deleted_by_guide" => ("导购已删除", "Deleted by guide"),
        "order.paid" => ("已支付", "Paid"),
        "order.shipped" => ("已发货", "Shipped"),
        "order.completed" => ("已完成", "Completed"),
        "order.partially_refunded" => ("部分退款", "Partially refunded"),
        "order.refunded" => ("已退款", "Refunded"),
        "event.page_view" => ("浏览页面", "Viewed a page"),
        "event.search" => ("搜索", "Searched"),
        "event.add_friend" => ("添加好友", "Added as friend"),
        "event.delete_friend" => ("删除好友", "Deleted friend"),
        "event.join_group" => ("入群", "Joined a group"),
        "event.leave_group" => ("退群", "Left a group"),
        "event.message" => ("聊天消息", "Message"),
        "event.order_paid" => ("下单支付", "Paid an order"),
        "event.order_refunded" => ("退款", "Refund"),
        "event.coupon_claimed" => ("领取优惠券", "Claimed a coupon"),
        "event.check_in" => ("签到", "Checked in"),
        "event.share" => ("分享", "Shared"),
        "event.custom" => ("自定义事件", "Custom event"),
        "event.created" => ("建档", "Created"),
        "event.profile_updated" => ("资料更新", "Profile updated"),
        "event.identity_added" => ("新增身份标识", "Identity added"),
        "event.followed" => ("导购添加", "Followed by a guide"),
        "event.follow_changed" => ("好友关系变化", "Follow changed"),
        "event.order_shipped" => ("订单发货", "Order shipped"),
        "event.order_completed" => ("订单完成", "Order completed"),
        "event.merged" => ("合并了其他客户", "Merged another customer"),
        "event.merged_into" => ("被合并", "Merged into another customer"),
        "audit.customer_merged" => ("合并客户", "Merged customers"),
        "audit.phone_revealed" => ("查看完整手机号", "Revealed phone"),
        "err.invalid_phone" => ("手机号格式不正确", "Invalid phone number"),
        "err.unknown_event_kind" => ("未知事件类型", "Unknown event kind"),
        "err.identity_conflict" => (
            "身份标识冲突，疑似两个不同的人",
            "Conflicting identities: these look like two people",
        ),
        "err.invalid_date" => ("日期格式应为 YYYY-MM-DD", "Date must be YYYY-MM-DD"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t("…")` key used in a template must exist, in both languages.
    #[test]
    fn template_keys_exist() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/console");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("t(\"").skip(1) {
                let key = &part[..part.find('"').unwrap()];
                assert!(
                    lookup(key).is_some(),
                    "{}: missing translation {key:?}",
                    path.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} keys found");
    }

    /// Keys built at run time (`event.{kind}` …) exist for every value.
    #[test]
    fn dynamic_keys_exist() {
        use yutang_core::events::EventKind;
        use yutang_core::identity::IdentityKind;
        use yutang_core::orders::OrderStatus;
        for k in EventKind::CLIENT.into_iter().chain(EventKind::SYSTEM) {
            assert!(lookup(&format!("event.{}", k.as_str())).is_some(), "{k}");
        }
        for k in IdentityKind::ALL {
            assert!(lookup(&format!("identity.{}", k.as_str())).is_some(), "{k}");
        }
        for s in OrderStatus::ALL {
            assert!(lookup(&format!("order.{}", s.as_str())).is_some());
        }
        for k in ["female", "male", "unknown"] {
            assert!(lookup(&format!("gender.{k}")).is_some());
        }
        for k in ["active", "deleted_by_customer", "deleted_by_guide"] {
            assert!(lookup(&format!("follow.{k}")).is_some());
        }
    }

    #[test]
    fn unknown_error_codes_fall_back() {
        let tr = Tr { lang: Lang::Zh };
        assert_eq!(tr.error("username_taken"), "用户名已被占用");
        assert_eq!(tr.error("no_such_code"), "请求无法完成");
        assert_eq!(Tr { lang: Lang::En }.role("guide"), "Guide");
    }
}
