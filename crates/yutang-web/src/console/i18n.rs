//! Console translations. Simplified Chinese is the default; English is one click away.
//! Keys are English identifiers; a missing key shows the key itself, which a test forbids for
//! every key the templates use.

use serde::Serialize;
use yutang_core::error_codes;

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

    /// A text with `{name}` placeholders filled in, e.g. `fill("confirm.tag_holders", &[("n",
    /// "4,622")])` → `4,622 位客户将失去此标签`.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut out = self.t(key).to_owned();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// A role's label.
    pub fn role(&self, role: &str) -> &'static str {
        self.t(&format!("role.{role}"))
    }

    /// A staff status label.
    pub fn status(&self, status: &str) -> &'static str {
        self.t(&format!("status.{status}"))
    }

    /// An error code's message, from the one list of codes (`yutang_core::error_codes`);
    /// unknown codes fall back to a generic message.
    pub fn error(&self, code: &str) -> &'static str {
        match error_codes::find(code).or_else(|| error_codes::find(error_codes::GENERIC)) {
            Some(c) => self.pick(c),
            None => "??",
        }
    }

    /// An error code's message when the code is known, else `fallback` (e.g. a parser's own
    /// message for a bad import row).
    pub fn error_or(&self, code: &str, fallback: &str) -> String {
        match error_codes::find(code) {
            Some(c) => self.pick(c).to_owned(),
            None => fallback.to_owned(),
        }
    }

    fn pick(&self, c: &error_codes::ErrorCode) -> &'static str {
        match self.lang {
            Lang::Zh => c.zh,
            Lang::En => c.en,
        }
    }

    /// An audit action label (an action this version does not know, e.g. one written by a
    /// newer node, shows as it is stored rather than as `?`).
    pub fn action(&self, action: &str) -> String {
        super::labels::code_or_raw(*self, "audit.", action)
    }

    /// A background job kind's label; a kind without one as it is.
    pub fn job_kind(&self, kind: &str) -> String {
        super::labels::code_or_raw(*self, "jobs.kind_", kind)
    }

    /// A sales channel's label; a channel without one (channels are free-form) as it is.
    pub fn channel(&self, channel: &str) -> String {
        super::labels::code_or_raw(*self, "channel.", channel)
    }

    /// A JSON detail (timeline event, audit entry) as readable parts.
    pub fn describe(&self, detail: &str) -> Vec<super::labels::Part> {
        super::labels::describe(*self, detail, &[])
    }

    /// An auto-tag rule's settings as readable parts (its kind is a column of its own).
    pub fn rule_settings(&self, config: &str) -> Vec<super::labels::Part> {
        super::labels::describe(*self, config, &["kind"])
    }

    /// An audit entry's actor as readable text.
    pub fn actor(&self, kind: &str, name: &str) -> String {
        super::labels::actor(*self, kind, name)
    }

    /// An audit target (`kind:id`) as readable text.
    pub fn target(&self, target: &str) -> String {
        super::labels::target(*self, target)
    }
}

/// `(zh, en)` for a key. `err.<code>` keys come from the one list of error codes
/// (`yutang_core::error_codes`), which holds every error text; the labels of codes (audit
/// actions, event kinds, channels, statuses, detail fields …) from the one list of code labels
/// (`super::labels`).
pub fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    if let Some(code) = key.strip_prefix("err.") {
        return error_codes::find(code).map(|c| (c.zh, c.en));
    }
    if let Some(l) = super::labels::label(key) {
        return Some(l);
    }
    if key.starts_with("check.") || key.starts_with("wecom.errcode.") {
        return super::wecom_check::text(key);
    }
    if key.starts_with("ref.") {
        return super::referrals::text(key);
    }
    if key.starts_with("points.") {
        return super::points::text(key);
    }
    if key.starts_with("sv.") {
        return super::stored_value::text(key);
    }
    if key.starts_with("tier.") {
        return super::tiers::text(key);
    }
    if key.starts_with("mall.") {
        return super::mall::text(key);
    }
    if key.starts_with("card.") {
        return super::cards::text(key);
    }
    if key.starts_with("webhooks.") {
        return super::webhooks::text(key);
    }
    if key.starts_with("reports.") {
        return super::reports::text(key);
    }
    if key.starts_with("inbound.") {
        return super::inbound::text(key);
    }
    if key.starts_with("msg.") {
        return super::messaging::text(key);
    }
    if key.starts_with("moments.") {
        return super::moments::text(key);
    }
    if key.starts_with("journeys.") {
        return super::journeys::text(key);
    }
    if key.starts_with("materials.") {
        return super::materials::text(key);
    }
    if key.starts_with("guide_tasks.") {
        return super::guide_tasks::text(key);
    }
    if key.starts_with("sidebar.") {
        return super::sidebar::text(key);
    }
    if key.starts_with("churn.") {
        return super::churn_alerts::text(key);
    }
    if key.starts_with("ratings.") {
        return super::ratings::text(key);
    }
    if key.starts_with("gc.") {
        return super::group_codes::text(key);
    }
    if key.starts_with("lb.") {
        return super::leaderboards::text(key);
    }
    if key.starts_with("workbench.") {
        return super::workbench::text(key);
    }
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
        "login.or" => ("或", "or"),
        "login.wecom" => ("企业微信扫码登录", "Sign in with WeCom"),
        "home.title" => ("概览", "Overview"),
        "home.welcome" => ("欢迎回来", "Welcome back"),
        "home.your_role" => ("你的角色", "Your role"),
        "home.your_store" => ("所属门店", "Your store"),
        "home.hq" => ("总部", "Headquarters"),
        "home.regions" => ("大区数", "Regions"),
        "home.stores" => ("门店数", "Stores"),
        "home.staff" => ("员工数", "Staff"),
        "uplift.study.group" => ("入群 vs 未入群", "In a group vs not"),
        "uplift.study.paid_member" => ("付费会员 vs 非会员", "Paid members vs not"),
        "uplift.evidence.observational" => (
            "观察性对比（匹配 + 双重差分），非随机实验：可说明相关，不能证明因果",
            "Observational comparison (matched, difference in differences), not a randomised experiment: it shows association, not proof of cause",
        ),
        "uplift.evidence_short.observational" => ("观察性对比", "Observational"),
        "uplift.evidence_short.randomised_holdout" => ("随机对照", "Randomised"),
        "mpage.holdout_none" => (
            "所选月份没有保留随机对照组的群发。发送群发时设置对照组比例即可在此看到提升。",
            "No mass message with a random holdout was sent in these months. Set a holdout share when sending one to see its uplift here.",
        ),
        "mpage.holdout_message" => ("群发", "Mass message"),
        "mpage.holdout_sent_at" => ("发送时间", "Sent"),
        "mpage.holdout_share" => ("对照组比例", "Holdout share"),
        "mpage.holdout_sent" => ("发送人数", "Sent"),
        "mpage.holdout_held" => ("对照组人数", "Held out"),
        "mpage.holdout_buyers" => (
            "7 天购买率差（区间）",
            "7-day buyer share, difference (interval)",
        ),
        "mpage.holdout_spend" => (
            "7 天人均净消费差（区间）",
            "7-day net spend per customer, difference (interval)",
        ),
        "mpage.holdout_running" => ("7 天未满", "Window open"),
        "uplift.method" => (
            "对比当月首次入群（或首次购买付费会员卡）且此前已下过单的客户，与此前下单频次、消费额相近、之后 3 个月内仍未入群的客户：各自后 3 个月减前 3 个月的订单数与净消费变化之差（按处理组分层加权），区间为 95% 置信区间",
            "Customers who first joined a group (or first bought a paid card) in the month, having bought before, against customers of the same prior order frequency and spend who did not within the 3 months after: the change from the 3 months before to the 3 months after in orders and net spend, treated minus controls, weighted by the treated per stratum, with a 95% interval",
        ),
        "metric.holdout_uplift" => ("活动随机对照提升", "Campaign holdout uplift"),
        "metric.holdout_uplift.def" => (
            "群发活动保留随机对照组时，发送组与对照组的转化差及其置信区间（随机实验，可证明因果）",
            "For a mass message that keeps a random holdout, the conversion difference between those sent and the holdout, with a confidence interval (a randomised experiment: causal)",
        ),
        "metric.traffic_rate" => ("引流率", "Traffic-to-pool rate"),
        "metric.traffic_rate.def" => (
            "当月到店（下单）客户中，月初还不在私域、当月加入私域（首次添加导购企微）的比例。健康值约 15%/月。",
            "Of the month's buyers who were not in the pool when the month began, the share who joined it (first added a guide on WeCom) during the month. About 15% a month is healthy.",
        ),
        "metric.first_order_rate" => ("首购开单率", "First-order rate"),
        "metric.first_order_rate.def" => (
            "当月新入私域的客户中，入池后 N 天内完成首单（未全额退款）的比例，按入池月份统计。健康值约 20%。",
            "Of the customers who joined the pool in the month, the share with a first order (not fully refunded) within N days of joining, by joining month. About 20% is healthy.",
        ),
        "metric.repurchase_rate" => ("复购率", "Repurchase rate"),
        "metric.repurchase_rate.def" => (
            "当月下单客户中，之前月份已经下过单的老客比例。",
            "Of the month's buyers, the share who had bought in an earlier month.",
        ),
        "metric.second_order_rate" => ("二次购买率", "Second-order rate"),
        "metric.second_order_rate.def" => (
            "入池后已首单的客户中，又完成第二单的比例，按入池月份统计。",
            "Of the customers with a first order in the pool, the share with a second one, by joining month.",
        ),
        "metric.repurchase_interval_days" => ("复购间隔（天）", "Repurchase interval (days)"),
        "metric.repurchase_interval_days.def" => (
            "入池后第一单到第二单的平均天数。",
            "The mean number of days from the first order in the pool to the second.",
        ),
        "metric.purchase_frequency_milli" => ("购买频次", "Purchase frequency"),
        "metric.purchase_frequency_milli.def" => (
            "订单数 ÷ 下单客户数（每月的下单客户去重）。",
            "Orders per buyer (buyers counted once a month).",
        ),
        "metric.spend_per_buyer_fen" => ("人均消费（元）", "Spend per buyer (CNY)"),
        "metric.spend_per_buyer_fen.def" => (
            "净销售额（扣除退款）÷ 下单客户数。",
            "Net sales (after refunds) per buyer.",
        ),
        "metric.buyers" => ("下单客户数", "Buyers"),
        "metric.buyers.def" => (
            "当月有订单（未全额退款）的客户，按月去重。",
            "Customers with an order (not fully refunded) in the month, counted once a month.",
        ),
        "metric.orders" => ("订单数", "Orders"),
        "metric.orders.def" => (
            "按支付时间统计、未全额退款的订单。",
            "Orders by time of payment, not fully refunded.",
        ),
        "metric.net_sales_fen" => ("净销售额（元）", "Net sales (CNY)"),
        "metric.net_sales_fen.def" => (
            "订单实付减去退款，计入支付月份。",
            "Paid minus refunded, in the month of payment.",
        ),
        "metric.shares" => ("分享次数", "Shares"),
        "metric.shares.def" => (
            "客户的分享行为（社交力）。",
            "Shares by customers (social reach).",
        ),
        "metric.referrals" => ("老带新人数", "Referrals"),
        "metric.referrals.def" => (
            "当月被老客邀请绑定的新客户（社交力）。",
            "Customers bound to an inviter in the month (social reach).",
        ),
        "metric.referred_orders" => ("老带新订单", "Referred orders"),
        "metric.referred_orders.def" => (
            "被邀请客户在绑定之后的订单（社交力带来的订单）。",
            "Orders of referred customers from their referral on (what social reach brings).",
        ),
        "metric.referred_sales_fen" => ("老带新销售额（元）", "Referred sales (CNY)"),
        "metric.referred_sales_fen.def" => ("上述订单的净销售额。", "Net sales of those orders."),
        "metric.interaction_rate" => ("互动率", "Interaction rate"),
        "metric.interaction_rate.def" => (
            "互动客户 ÷ 触达客户。需要群发消息及其回复数据（议题 #21），目前无法统计。",
            "Customers who interacted per customer reached. Needs mass messages and their replies (issue #21): not measurable yet.",
        ),
        "metric.content_reach" => ("内容种草", "Content reach"),
        "metric.content_reach.def" => (
            "当月打开过导购发送的雷达链接素材的客户数（各月相加；转发给他人的打开计入分享）。",
            "Customers who opened a material a guide sent them through a tracked link that month (summed over months; opens by people they forwarded it to count as shares).",
        ),
        "metric.content_opens_per_reader_milli" => ("人均打开次数", "Opens per reader"),
        "metric.content_opens_per_reader_milli.def" => (
            "雷达链接的打开次数 ÷ 打开过的客户数（10 分钟内的重复打开算一次）。",
            "Tracked-link opens per customer who opened one (reopening within 10 minutes counts once).",
        ),
        "mpage.nav" => ("指标", "Metrics"),
        "mpage.title" => ("指标", "Metrics"),
        "mpage.intro" => (
            "私域的零售指标、转化漏斗与同期群，按自然月（北京时间）统计；每个指标的定义写在它的名称下方。",
            "The pool's retail metrics, funnels and cohorts by calendar month (Beijing time); each metric's definition is under its name.",
        ),
        "mpage.from" => ("开始月份", "From month"),
        "mpage.to" => ("结束月份", "To month"),
        "mpage.first_order_days" => ("首单窗口", "First-order window"),
        "mpage.days_fmt" => ("{n} 天", "{n} days"),
        "mpage.period_fmt" => (
            "{from} 至 {to}，共 {n} 个月（北京时间）",
            "{from} to {to}, {n} months (Beijing time)",
        ),
        "mpage.section_metrics" => ("核心指标", "Key metrics"),
        "mpage.metric" => ("指标", "Metric"),
        "mpage.definition" => ("定义", "Definition"),
        "mpage.healthy_fmt" => ("健康值 ≈ {v}", "Healthy ≈ {v}"),
        "mpage.unavailable_title" => ("暂无法统计的指标", "Metrics not measurable yet"),
        "mpage.unavailable" => ("暂无数据", "No data yet"),
        "mpage.reason" => ("原因", "Reason"),
        "mpage.reason.interaction_rate" => (
            "群发的送达已记录，但客户的回复需要企业微信会话存档（鱼塘未接入）。",
            "Mass-message deliveries are recorded, but customers' replies need WeCom's conversation archive, which Yutang does not read.",
        ),
        "mpage.reason.holdout_uplift" => (
            "需要保留随机对照组的群发活动（议题 #21）。",
            "Needs mass messages that keep a random holdout (issue #21).",
        ),
        "mpage.uplift" => ("效果对比", "Uplift"),
        "mpage.uplift_none" => (
            "所选月份还不能对比：每个月需要其后 3 个完整月份的数据（每小时计算一次）。",
            "None of the chosen months can be compared yet: each needs the 3 full months after it (computed hourly).",
        ),
        "mpage.uplift_computed_fmt" => ("计算于 {at}", "Computed at {at}"),
        "mpage.uplift_pending" => (
            "尚未计算（每小时计算一次）",
            "Not computed yet (computed hourly)",
        ),
        "mpage.uplift_month" => ("入群（购卡）月份", "Month of joining (buying)"),
        "mpage.uplift_all" => ("所选月份合计", "The months together"),
        "mpage.uplift_treated" => ("处理组客户", "Treated"),
        "mpage.uplift_matched" => ("已匹配", "Matched"),
        "mpage.uplift_controls" => ("对照客户", "Controls"),
        "mpage.uplift_orders" => (
            "人均订单变化差（95% 区间）",
            "Orders per customer, difference (95% interval)",
        ),
        "mpage.uplift_spend" => (
            "人均净消费变化差（元，95% 区间）",
            "Net spend per customer, difference (CNY, 95% interval)",
        ),
        "mpage.uplift_next" => (
            "次月复购率：处理组 / 对照组",
            "Bought the month after: treated / controls",
        ),
        "mpage.uplift_lift" => ("提升", "Lift"),
        "mpage.uplift_significant" => ("区间不含 0", "Interval excludes 0"),
        "mpage.funnel" => ("转化漏斗", "Funnel"),
        "mpage.funnel_intro" => (
            "本期各月新入私域（首次添加导购企微）的客户，其后入群、首单、二单的人数；条形长度为占入池人数的比例。",
            "Customers who joined the pool (first added a guide on WeCom) in the period's months, and how many of them then joined a group, ordered and ordered again; each bar is their share of those who joined.",
        ),
        "mpage.step.joined" => ("入池", "Joined the pool"),
        "mpage.step.joined_group" => ("入群", "Joined a group"),
        "mpage.step.first_order" => ("首单", "First order"),
        "mpage.step.second_order" => ("二单", "Second order"),
        "mpage.of_joined" => ("占入池", "of joined"),
        "mpage.step_rate" => ("占首单", "of first orders"),
        "mpage.by" => ("维度", "By"),
        "mpage.by.brand" => ("全品牌", "Brand"),
        "mpage.by.store" => ("门店", "Store"),
        "mpage.by.guide" => ("导购", "Guide"),
        "mpage.by.channel" => ("渠道", "Channel"),
        "mpage.name" => ("名称", "Name"),
        "mpage.first_rate" => ("首单占比", "First-order share"),
        "mpage.second_rate" => ("二单占比", "Second-order share"),
        "mpage.none_channel" => ("无渠道", "No channel"),
        "mpage.none_store" => ("未归属门店", "No store"),
        "mpage.none_guide" => ("无导购", "No guide"),
        "mpage.cohorts" => ("同期群留存", "Cohorts"),
        "mpage.kept_title" => ("好友留存", "Contacts kept"),
        "mpage.kept_intro" => (
            "每行是一个入池月份的客户；第 k 月一列为入池后第 k 个月月末仍是导购企微好友的人数及其占比（当月为当前状态）。",
            "Each row is the customers who joined the pool in a month; column k is how many of them were still WeCom contacts of a guide at the end of the k-th month after joining (the current month: now) and their share.",
        ),
        "mpage.cohorts_intro" => (
            "每行是一个入池月份的客户；第 k 月一列为入池后第 k 个月有下单的人数及其占入池人数的比例（第 0 月为入池当月），颜色越深比例越高。",
            "Each row is the customers who joined the pool in a month; column k is how many of them ordered in the k-th month after joining and their share of those who joined (month 0: the joining month); the darker, the higher.",
        ),
        "mpage.cohort_month" => ("入池月份", "Joined in"),
        "mpage.joined" => ("入池人数", "Joined"),
        "mpage.within_fmt" => ("{n} 天内首单", "First order within {n} days"),
        "mpage.month_k" => ("第 {k} 月", "Month {k}"),
        "mpage.maturing" => ("成熟中", "Maturing"),
        "mpage.maturing_hint" => (
            "首单窗口尚未对该月所有客户结束，数字仍可能增长。",
            "The first-order window has not closed for everyone of the month: the figures may still grow.",
        ),
        "mpage.segments" => ("会员分层", "Segments"),
        "mpage.segment" => ("分组", "Group"),
        "mpage.seg.tier" => ("会员等级", "Tier"),
        "mpage.seg.card" => ("付费会员卡", "Member card"),
        "mpage.no_tier" => ("无等级", "No tier"),
        "mpage.card_holders" => ("付费会员", "Paid members"),
        "mpage.card_others" => ("非付费会员", "Others"),
        "mpage.customers" => ("客户数", "Customers"),
        "mpage.buyers" => ("下单客户", "Buyers"),
        "mpage.orders" => ("订单数", "Orders"),
        "mpage.net_sales" => ("净销售额（元）", "Net sales (CNY)"),
        "mpage.arpu" => ("ARPU（元）", "ARPU (CNY)"),
        "mpage.frequency" => ("人均订单", "Orders per customer"),
        "mpage.stores" => ("门店", "Stores"),
        "mpage.guides" => ("导购", "Guides"),
        "mpage.guides_top" => (
            "按净销售额排名前 50 的导购。",
            "The 50 guides with the most net sales.",
        ),
        "dash.pool" => ("私域客户数", "Customers in the pool"),
        "dash.pool_scoped" => ("企微好友数", "WeCom contacts"),
        "dash.new_customers" => ("新增客户（去重）", "New customers (net of merges)"),
        "dash.contacts_added" => ("新增企微好友", "New WeCom contacts"),
        "dash.contacts_lost" => ("流失好友", "Contacts lost"),
        "dash.net_adds" => ("净增好友", "Net adds"),
        "dash.groups" => ("客户群数", "Customer groups"),
        "dash.group_joins" => ("入群人次", "Group joins"),
        "dash.group_members" => ("群成员数", "Group members"),
        "dash.orders" => ("订单数", "Orders"),
        "dash.gmv_fen" => ("成交额（元）", "GMV (CNY)"),
        "dash.refunded_fen" => ("退款额（元）", "Refunded (CNY)"),
        "dash.net_gmv_fen" => ("净成交额（元）", "Net GMV (CNY)"),
        "dash.coupons_claimed" => ("领券数", "Coupons claimed"),
        "dash.coupons_used" => ("用券数", "Coupons used"),
        "dash.day" => ("日期", "Day"),
        "dash.total" => ("合计", "Total"),
        "dash.previous" => ("上一周期", "Previous period"),
        "dash.change" => ("环比", "Change"),
        "dash.today" => ("今日", "Today"),
        "dash.last_7" => ("近 7 天", "Last 7 days"),
        "dash.last_30" => ("近 30 天", "Last 30 days"),
        "dash.redemption" => ("核销率", "Redemption rate"),
        "dash.top_channels" => ("渠道排行", "Top channels"),
        "dash.top_guides" => ("导购排行", "Top guides"),
        "dash.rebuilding" => (
            "统计数据正在重算，数字可能暂不完整。",
            "The figures are being recomputed and may be incomplete for now.",
        ),
        "dash.as_of" => ("数据更新于", "Figures as of"),
        "dash.export" => ("导出 CSV", "Export CSV"),
        "dash.export_xlsx" => ("导出 Excel", "Export Excel"),
        "dash.brand" => ("全品牌", "Whole brand"),
        "dash.last_90" => ("近 90 天", "Last 90 days"),
        "dash.store" => ("门店", "Store"),
        "dash.scope_store" => ("门店：{name}", "Store: {name}"),
        "dash.scope_guide" => ("导购：{name}", "Guide: {name}"),
        "dash.period_fmt" => (
            "{from} 至 {to}，对比上一周期 {pfrom} 至 {pto}",
            "{from} to {to}, compared with {pfrom} to {pto}",
        ),
        "dash.spark_fmt" => (
            "{label}每日走势，{from} 至 {to}：最低 {min}，最高 {max}",
            "{label} per day, {from} to {to}: low {min}, high {max}",
        ),
        "dash.no_previous" => (
            "上一周期无数据，无法比较",
            "Nothing in the previous period to compare with",
        ),
        "dash.recent" => ("近期好友", "Recent contacts"),
        "dash.figure" => ("指标", "Figure"),
        "dash.channel" => ("渠道", "Channel"),
        "dash.guide" => ("导购", "Guide"),
        "dash.none" => ("本周期暂无数据", "Nothing in this period yet"),
        "dash.back_brand" => ("返回全品牌", "Back to the whole brand"),
        "dash.back_store" => ("返回门店", "Back to the store"),
        "dash.presets" => ("快捷区间", "Quick periods"),
        "dash.tz" => ("（北京时间）", " (Beijing time)"),
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
        "common.deleted" => ("已删除", "Deleted"),
        "common.archived" => ("已归档", "Archived"),
        "common.published" => ("已发布", "Published"),
        "tokens.revoked_done" => ("已吊销", "Revoked"),
        "confirm.delete_title" => ("确认删除", "Confirm delete"),
        "confirm.archive_title" => ("确认归档", "Confirm archive"),
        "confirm.revoke_title" => ("确认吊销", "Confirm revoke"),
        "confirm.archive" => ("归档", "Archive"),
        "confirm.tag" => ("标签「{name}」", "Tag “{name}”"),
        "confirm.tag_holders" => ("{n} 位客户将失去此标签", "{n} customers will lose this tag"),
        "confirm.tag_history" => (
            "每位客户的时间线会记录此次移除，审计日志保留标签名与人数；删除后不可恢复",
            "Each customer's timeline records the removal and the audit log keeps the tag's name and count; this cannot be undone",
        ),
        "confirm.tag_wecom" => (
            "企业微信中的同名企业标签也会被删除",
            "The matching WeCom corp tag is deleted too",
        ),
        "confirm.group" => ("标签组「{name}」", "Tag group “{name}”"),
        "confirm.group_tags" => (
            "将删除组内 {t} 个标签，客户共失去 {n} 个标签",
            "Its {t} tags are deleted; customers lose {n} tags in all",
        ),
        "confirm.rule" => ("自动标签规则「{name}」", "Auto-tag rule “{name}”"),
        "confirm.rule_effect" => (
            "规则不再运行；它已打上的标签保留，所在标签组改为手动维护",
            "The rule stops running; the tags it set stay, and its group becomes a manual one",
        ),
        "confirm.segment" => ("人群「{name}」", "Segment “{name}”"),
        "confirm.segment_effect" => (
            "只删除人群的定义，客户与标签不受影响；仍被营销活动使用的人群不能删除",
            "Only the segment's definition goes; customers and tags are untouched. A segment a promotion still uses cannot be deleted",
        ),
        "confirm.token" => (
            "API 令牌「{name}」（{prefix}…）",
            "API token “{name}” ({prefix}…)",
        ),
        "confirm.token_effect" => (
            "使用此令牌的集成将立即无法调用 API，且不可恢复",
            "Integrations using this token lose API access at once; this cannot be undone",
        ),
        "confirm.coupon" => ("优惠券「{name}」", "Coupon “{name}”"),
        "confirm.coupon_history" => (
            "已领取 {claims} 次，已使用 {used} 张",
            "Claimed {claims} times, {used} used",
        ),
        "confirm.flash" => ("秒杀「{name}」", "Flash sale “{name}”"),
        "confirm.flash_history" => (
            "已有 {n} 笔抢购（{paid} 笔已支付）",
            "{n} claims so far ({paid} paid)",
        ),
        "confirm.group_buy" => ("拼团「{name}」", "Group-buy “{name}”"),
        "confirm.group_buy_history" => (
            "已有 {n} 个团（{filled} 个已成团）",
            "{n} teams so far ({filled} filled)",
        ),
        "confirm.will_archive" => (
            "有领取或参与记录，将归档而不是删除：统计数据保留，在「已归档」中可查看；客户不能再领取或参与，已领取的仍然有效",
            "It has claims, so it is archived rather than deleted: its statistics stay and it is listed under Archived; nobody can claim or join it any more, and what customers already hold stays valid",
        ),
        "confirm.will_delete" => (
            "还没有任何领取或参与记录，将直接删除",
            "Nobody has claimed or joined it yet, so it is deleted outright",
        ),
        "promo.archived" => ("已归档", "Archived"),
        "promo.archived_hint" => (
            "已归档的活动保留统计数据，客户不能再领取或参与",
            "Archived promotions keep their statistics; customers can no longer claim or join them",
        ),
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
        "nav.pool" => ("客户池", "Customer pool"),
        "nav.tags" => ("标签", "Tags"),
        "nav.segments" => ("人群", "Segments"),
        "common.updated_at" => ("更新时间", "Updated"),
        "common.delete" => ("删除", "Delete"),
        "tags.title" => ("标签管理", "Tags"),
        "tags.group" => ("标签组", "Group"),
        "tags.group_name" => ("标签组名称", "Group name"),
        "tags.tag_name" => ("标签名称", "Tag name"),
        "tags.color" => ("颜色", "Colour"),
        "tags.mode" => ("选择方式", "Selection"),
        "tags.multi" => ("多选", "Multi-select"),
        "tags.single" => ("单选", "Single-select"),
        "tags.tags" => ("标签（人数）", "Tags (customers)"),
        "tags.customers" => ("人数，点击查看人群", "Customers; click for the segment"),
        "tags.new_group" => ("新建标签组", "New group"),
        "tags.new_tag" => ("新建标签", "New tag"),
        "tags.by_rule" => ("自动规则维护", "kept by a rule"),
        "tags.customer_tags" => ("客户标签", "Tags"),
        "tags.add" => ("打标签", "Add tag"),
        "tags.remove" => ("移除", "Remove"),
        "tags.bulk" => ("批量打标签", "Bulk tagging"),
        "bulk.title" => ("批量打标签", "Bulk tagging"),
        "bulk.hint" => (
            "对一个人群或一批客户 ID 添加或移除标签；在后台任务中执行，可查看进度，重复执行不会重复打标。",
            "Add or remove a tag for a segment or a list of customer ids; runs as a background job with progress, and running it again changes nothing.",
        ),
        "bulk.tag" => ("标签", "Tag"),
        "bulk.action" => ("操作", "Action"),
        "bulk.add" => ("添加标签", "Add the tag"),
        "bulk.remove" => ("移除标签", "Remove the tag"),
        "bulk.audience" => ("对象", "Customers"),
        "bulk.by_segment" => ("已保存的人群", "A saved segment"),
        "bulk.by_ids" => ("客户 ID 名单", "A list of customer ids"),
        "bulk.segment" => ("人群", "Segment"),
        "bulk.ids" => (
            "客户 ID（每行一个，或用逗号、空格分隔）",
            "Customer ids (one per line, or separated by commas or spaces)",
        ),
        "bulk.file" => (
            "或上传名单（CSV/TXT，第一列为客户 ID）",
            "or upload a list (CSV/TXT, customer id in the first column)",
        ),
        "bulk.start" => ("开始执行", "Start"),
        "bulk.for_segment" => ("对该人群批量打标签", "Tag this segment"),
        "jobs.customers" => ("客户数", "Customers"),
        "jobs.added" => ("新增标签", "Tags added"),
        "jobs.removed" => ("移除标签", "Tags removed"),
        "rules.title" => ("自动标签规则", "Auto-tag rules"),
        "rules.hint" => (
            "规则随新事件即时生效，并每小时按时间重新计算（如宝宝满 7 个月）。",
            "Rules react to new events at once and re-run hourly for time-driven changes (a baby turning 7 months).",
        ),
        "rules.name" => ("规则名称", "Rule name"),
        "rules.kind" => ("类型", "Kind"),
        "rules.config" => ("配置", "Configuration"),
        "rules.last_run" => ("上次运行", "Last run"),
        "rules.changes" => ("上次变更数", "Last changes"),
        "rules.disabled" => ("已停用", "disabled"),
        "rules.run" => ("立即运行", "Run now"),
        "rules.create" => ("创建规则", "Create rule"),
        "rules.lifecycle_days" => ("新客/活跃/沉睡 天数", "New / active / dormant days"),
        "rules.recency_days" => ("RFM 最近购买天数", "RFM recency days"),
        "rules.tag" => ("标签名称", "Tag name"),
        "rules.expression" => ("表达式", "Expression"),
        "rules.attribute" => ("日期属性", "Date attribute"),
        "rules.buckets" => (
            "月龄分段（每行：起-止 标签）",
            "Buckets (one per line: from-to tag)",
        ),
        "segments.title" => ("人群圈选", "Segments"),
        "segments.new" => ("新建人群", "New segment"),
        "segments.name" => ("人群名称", "Name"),
        "segments.expression" => ("圈选表达式", "Expression"),
        "segments.count" => ("人数", "Customers"),
        "segments.count_now" => ("计算人数", "Count"),
        "segments.members" => ("查看成员", "Members"),
        "segments.export" => ("导出 CSV", "Export CSV"),
        "segments.builder" => ("可视化圈选", "Visual builder"),
        "segments.help" => (
            "示例：tag(\"宝宝月龄/0-6月\") and city = \"上海\" and orders_90d >= 2 and not in_group and last_order within 30d",
            "Example: tag(\"宝宝月龄/0-6月\") and city = \"上海\" and orders_90d >= 2 and not in_group and last_order within 30d",
        ),
        "segments.error_at" => (
            "第 {line} 行第 {column} 列：",
            "Line {line}, column {column}: ",
        ),
        "segments.b_tags" => ("标签", "Tags"),
        "segments.b_attributes" => ("属性", "Attributes"),
        "segments.b_field" => ("条件字段", "Field"),
        "segments.b_operator" => ("运算", "Operator"),
        "segments.b_not" => ("取反", "Not"),
        "segments.b_join" => ("条件关系", "Combine"),
        "segments.b_all" => ("满足全部条件", "All conditions"),
        "segments.b_any" => ("满足任一条件", "Any condition"),
        "segments.b_add" => ("添加条件", "Add condition"),
        "segments.misfit_nested" => (
            "这个表达式里有条件行无法表示的嵌套（如 and 与 or 混用、not 作用于一组条件）。条件行不会改写它；添加的条件会以 and 接在它后面。",
            "This expression nests conditions in a way the rows cannot show (and mixed with or, not over a group). The rows will not rewrite it; conditions you add are joined to it with and.",
        ),
        "segments.misfit_unsupported" => (
            "这个表达式里有条件行无法表示的条件（如 in 列表、按小时的时间）。条件行不会改写它；添加的条件会以 and 接在它后面。",
            "This expression has a condition the rows cannot show (such as an in list or a time in hours). The rows will not rewrite it; conditions you add are joined to it with and.",
        ),
        "segments.misfit_invalid" => (
            "表达式有错误，条件行无法读取。条件行不会改写它；添加的条件会以 and 接在它后面。",
            "The expression has an error, so the rows cannot read it. The rows will not rewrite it; conditions you add are joined to it with and.",
        ),
        "segments.attr_city" => ("城市 city", "City (city)"),
        "segments.attr_level" => ("会员等级 level", "Member level (level)"),
        "segments.attr_order_count" => {
            ("累计订单数 order_count", "Orders (all time) (order_count)")
        }
        "segments.attr_total_spent_fen" => {
            ("累计消费 total_spent_fen", "Total spend (total_spent_fen)")
        }
        "segments.attr_orders_90d" => ("近90天订单数 orders_90d", "Orders in 90 days (orders_90d)"),
        "segments.attr_orders_365d" => (
            "近365天订单数 orders_365d",
            "Orders in 365 days (orders_365d)",
        ),
        "segments.attr_spent_365d" => ("近365天消费 spent_365d", "Spend in 365 days (spent_365d)"),
        "segments.attr_first_order" => ("首单时间 first_order", "First order (first_order)"),
        "segments.attr_last_order" => ("最近下单 last_order", "Last order (last_order)"),
        "segments.attr_birthday" => ("生日 birthday", "Birthday (birthday)"),
        "segments.attr_birth_month" => ("生日月份 birth_month", "Birth month (birth_month)"),
        "segments.attr_unused_coupons" => (
            "未使用的优惠券 unused_coupons",
            "Coupons claimed, not used (unused_coupons)",
        ),
        "segments.attr_in_group" => ("已入群 in_group", "In a customer group (in_group)"),
        "segments.attr_channel" => ("渠道 channel", "Channel (channel)"),
        "segments.attr_channel_type" => ("渠道类型 channel_type", "Channel type (channel_type)"),
        "segments.attr_acquired_by" => ("引流员工 acquired_by", "Acquired by (acquired_by)"),
        "segments.attr_acquired_at" => ("引流时间 acquired_at", "Acquired at (acquired_at)"),
        "segments.opt_channel_type_store_stand" => ("门店台卡", "Store stand"),
        "segments.opt_channel_type_package_card" => ("包裹卡", "Package card"),
        "segments.opt_channel_type_official_account" => ("公众号文章", "Official-account article"),
        "segments.opt_channel_type_live_stream" => ("直播", "Live stream"),
        "segments.opt_channel_type_ad" => ("广告投放", "Ad"),
        "segments.opt_channel_type_event" => ("线下活动", "Event"),
        "segments.opt_channel_type_other" => ("其他", "Other"),
        "segments.op_has" => ("拥有", "has"),
        "segments.op_exists" => ("有值", "has a value"),
        "segments.op_within" => ("最近 N 天内", "within N days"),
        "segments.op_before_ago" => ("早于 N 天前", "before N days ago"),
        "segments.op_after" => ("晚于日期", "on or after date"),
        "segments.op_before" => ("早于日期", "before date"),
        "segments.op_is_true" => ("是", "is yes"),
        "segments.op_is_false" => ("否", "is no"),
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
        "customers.notes" => ("跟进记录", "Notes"),
        "customers.note_add" => ("添加跟进记录", "Add note"),
        "customers.note_placeholder" => (
            "记下这次沟通：客户的需求、约定的下一步……（最多 500 字）",
            "What was said, what the customer wants, the next step … (at most 500 characters)",
        ),
        "customers.notes_empty" => ("还没有跟进记录。", "No notes yet."),
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
        "follow.transferred" => ("已转交其他导购", "Transferred"),
        "nav.import" => ("导入", "Import"),
        "import.title" => ("批量导入", "Bulk import"),
        "import.intro" => (
            "上传客户或订单的 CSV / Excel 文件：先核对列映射并试运行（列出每一行错误，不写入），再正式导入。重复导入同一文件不会产生重复数据。",
            "Upload a CSV or Excel file of customers or orders: check the column mapping and dry-run it (every bad row listed, nothing written), then import. Importing the same file again creates no duplicates.",
        ),
        "import.kind" => ("导入类型", "Import"),
        "import.kind.customers" => ("客户", "Customers"),
        "import.kind.orders" => ("订单", "Orders"),
        "import.file" => ("文件", "File"),
        "import.file_hint" => (
            "CSV（UTF-8）或 Excel（.xlsx/.xls，读取第一个工作表），第一行为列名，上限",
            "CSV (UTF-8) or Excel (.xlsx/.xls, first sheet), first row names the columns, at most",
        ),
        "import.upload" => ("上传", "Upload"),
        "import.customers_hint" => (
            "每行至少一个身份标识（手机号、unionid、openid、会员卡号等）；已存在的客户按身份合并更新。",
            "Each row needs at least one identity (phone, unionid, openid, member number …); existing customers are matched by identity and updated.",
        ),
        "import.orders_hint" => (
            "同一订单号的多行是该订单的多个商品行；金额以分为单位的整数；客户按 customer_id、手机号或会员卡号查找。",
            "Rows with the same order id are that order's lines; amounts are whole fen; the customer is found by customer_id, phone or member number.",
        ),
        "import.recent" => ("最近的导入", "Recent imports"),
        "import.rows" => ("行", "rows"),
        "import.state" => ("状态", "State"),
        "import.state.uploaded" => ("已上传", "Uploaded"),
        "import.state.checking" => ("试运行中", "Dry run in progress"),
        "import.state.checked" => ("已试运行", "Dry run done"),
        "import.state.running" => ("导入中", "Importing"),
        "import.state.interrupted" => ("已中断", "Interrupted"),
        "import.state.done" => ("已完成", "Done"),
        "import.state.failed" => ("失败", "Failed"),
        "import.back" => ("返回导入列表", "Back to imports"),
        "import.refreshing" => ("页面每秒自动刷新", "this page refreshes every second"),
        "import.interrupted_hint" => (
            "上次运行在完成前中断（如服务重启）。导入可重复执行，请重新开始。",
            "The last run stopped before it finished (e.g. a restart). Imports are idempotent: start it again.",
        ),
        "import.dry_run_result" => ("试运行结果", "Dry run"),
        "import.valid" => ("有效", "valid"),
        "import.bad" => ("错误", "bad"),
        "import.nothing_written" => ("未写入任何数据", "nothing was written"),
        "import.summary" => ("导入结果", "Summary"),
        "import.inserted" => ("新增", "Inserted"),
        "import.updated" => ("更新", "Updated"),
        "import.skipped" => ("跳过（已导入）", "Skipped (already imported)"),
        "import.failed" => ("失败行", "Failed rows"),
        "import.ignored_columns" => ("忽略的列", "Ignored columns"),
        "import.bad_rows" => ("错误行", "Bad rows"),
        "import.download_errors" => ("下载全部错误（CSV）", "Download all (CSV)"),
        "import.row" => ("行号", "Row"),
        "import.column" => ("列", "Column"),
        "import.reason" => ("原因", "Reason"),
        "import.more_errors" => ("未显示的错误行：", "Bad rows not shown:"),
        "import.mapping" => ("列映射", "Column mapping"),
        "import.mapping_hint" => (
            "按列名自动匹配（中英文均可），可逐列调整；选择“忽略”跳过该列。",
            "Matched by header name (Chinese or English); change any column, or choose “ignore” to skip it.",
        ),
        "import.header" => ("文件中的列", "Column in the file"),
        "import.field" => ("对应字段", "Field"),
        "import.ignore" => ("忽略此列", "Ignore this column"),
        "import.dry_run" => ("试运行", "Dry run"),
        "import.run" => ("开始导入", "Import"),
        "import.field.phone" => ("手机号", "Phone"),
        "import.field.name" => ("姓名", "Name"),
        "import.field.gender" => ("性别", "Gender"),
        "import.field.birthday" => ("生日", "Birthday"),
        "import.field.city" => ("城市", "City"),
        "import.field.member_level" => ("会员等级", "Member level"),
        "import.field.unionid" => ("微信 UnionID", "WeChat unionid"),
        "import.field.wecom_external" => ("企微外部联系人 ID", "WeCom external_userid"),
        "import.field.openid" => ("OpenID", "openid"),
        "import.field.openid_appid" => ("OpenID 所属 AppID", "openid's app id"),
        "import.field.pos_member" => ("会员卡号", "POS member number"),
        "import.field.app_user" => ("App 用户 ID", "App user id"),
        "import.field.guide" => ("导购（用户名）", "Guide (username)"),
        "import.field.external_id" => ("订单号", "Order id"),
        "import.field.customer_id" => ("客户 ID", "Customer id"),
        "import.field.channel" => ("渠道", "Channel"),
        "import.field.store_code" => ("门店编码", "Store code"),
        "import.field.campaign" => ("活动", "Campaign"),
        "import.field.status" => ("订单状态", "Status"),
        "import.field.paid_at" => ("支付时间", "Paid at"),
        "import.field.sku" => ("商品编码", "SKU"),
        "import.field.item_name" => ("商品名称", "Item name"),
        "import.field.quantity" => ("数量", "Quantity"),
        "import.field.unit_price_fen" => ("单价（分）", "Unit price (fen)"),
        "import.field.discount_fen" => ("优惠（分）", "Discount (fen)"),
        // WeCom connection settings and sync.
        "nav.wecom" => ("企业微信", "WeCom"),
        "wecom.title" => ("企业微信连接", "WeCom connection"),
        "wecom.intro" => (
            "填写自建应用的企业 ID、“客户联系” Secret、接收事件的 Token 与 EncodingAESKey。Secret 加密保存，只显示末 4 位。",
            "Enter the corp id, the customer-contact secret, and the callback Token and EncodingAESKey of your self-built app. Secrets are stored encrypted and shown by their last 4 characters only.",
        ),
        "wecom.problem" => (
            "已保存的设置无法读取：",
            "A stored setting cannot be read: ",
        ),
        "wecom.corp_id" => ("企业 ID", "Corp id"),
        "wecom.contact_secret" => ("客户联系 Secret", "Customer-contact secret"),
        "wecom.callback_token" => ("回调 Token", "Callback Token"),
        "wecom.api_base" => ("API 地址", "API base"),
        "wecom.api_base_hint" => (
            "默认 https://qyapi.weixin.qq.com；使用代理时可改写",
            "Default https://qyapi.weixin.qq.com; change it to go through a proxy",
        ),
        "wecom.secret_hint" => (
            "留空则保留已保存的值",
            "Leave empty to keep the stored value",
        ),
        "wecom.aes_hint" => (
            "43 位字母或数字，与企业微信后台“接收消息”设置一致",
            "43 letters and digits, exactly as in WeCom's receive-message settings",
        ),
        "wecom.locked" => (
            "由配置文件或环境变量设定，此处不可修改",
            "Set in the configuration file or environment; change it there",
        ),
        "wecom.app_secret" => ("应用 Secret", "App secret"),
        "wecom.app_hint" => (
            "AgentId 与对应应用的 Secret；Secret 留空则保留已保存的值",
            "AgentId and that app's secret; leave the secret empty to keep the stored one",
        ),
        "wecom.callback_url" => ("回调地址：", "Callback URL:"),
        "wecom.your_host" => ("你的域名", "your host"),
        "wecom.inbox" => ("已接收回调", "Callbacks received"),
        "wecom.pending" => ("待处理", "Pending"),
        "wecom.failed" => ("处理失败", "Failed"),
        "wecom.parked" => ("已搁置", "Parked"),
        "wecom.unapplied" => ("未处理的回调", "Callbacks not applied"),
        "wecom.unapplied_hint" => (
            "处理失败的回调每 30 秒重试一次，失败 5 次后搁置，等待重放。重放是幂等的：已写入的客户、跟进关系和动态不会重复。",
            "Failed callbacks are retried every 30 s; after 5 failures they are parked until replayed. Replaying is idempotent: customers, follows and timeline events already written are not doubled.",
        ),
        "wecom.event" => ("事件", "Event"),
        "wecom.attempts" => ("尝试次数", "Attempts"),
        "wecom.error" => ("错误", "Error"),
        "wecom.replay" => ("重放", "Replay"),
        "wecom.failed_jobs" => ("失败的企业微信任务", "Failed WeCom jobs"),
        "wecom.job_kind" => ("任务类型", "Kind"),
        "wecom.retry" => ("重试", "Retry"),
        "wecom.last_received" => ("最近接收", "last received"),
        "wecom.updated" => ("最近修改", "Last changed"),
        "wecom.test" => ("测试连接", "Test connection"),
        "wecom.sync" => ("全量同步", "Full sync"),
        "wecom.sync_job" => ("全量同步任务", "Full sync job"),
        "wecom.sync_status" => ("状态", "Status"),
        "wecom.phase" => ("阶段", "phase"),
        "wecom.contacts" => ("客户", "contacts"),
        "wecom.groups" => ("客户群", "groups"),
        "nav.transfers" => ("客户继承", "Customer transfers"),
        "transfer.title" => ("客户继承", "Customer transfer"),
        "transfer.intro" => (
            "导购离职或调岗时，把其企业微信客户（离职继承还可包括客户群）转交给另一位导购。客户可在 24 小时内拒绝；结果每小时查询一次。",
            "When a guide leaves or changes role, hand their WeCom customers (and, for a departed guide, their groups) to another guide. Customers may refuse within 24 hours; results are checked hourly.",
        ),
        "transfer.kind" => ("方式", "Kind"),
        "transfer.in_service" => ("在职继承", "In-service transfer"),
        "transfer.resigned" => ("离职继承", "Departed-staff transfer"),
        "transfer.handover" => ("原导购", "From"),
        "transfer.takeover" => ("接替导购", "To"),
        "transfer.customers" => ("客户 ID", "Customer ids"),
        "transfer.customers_hint" => (
            "留空表示全部客户；多个 ID 用逗号分隔",
            "Empty: all customers; separate ids with commas",
        ),
        "transfer.groups" => ("客户群", "Groups"),
        "transfer.groups_hint" => (
            "同时转交其全部客户群（仅离职继承）",
            "Also transfer all their groups (departed staff only)",
        ),
        "transfer.message" => ("给客户的话", "Message to customers"),
        "transfer.start" => ("开始转交", "Start transfer"),
        "transfer.state" => ("状态", "State"),
        "transfer.counts" => ("进度", "Progress"),
        "transfer.pending" => ("待发送", "Pending"),
        "transfer.waiting" => ("等待接替", "Waiting"),
        "transfer.success" => ("接替成功", "Done"),
        "transfer.failed" => ("失败", "Failed"),
        "transfer.refresh" => ("立即查询结果", "Check results now"),
        "transfer.customer" => ("客户", "Customer"),
        "transfer.group" => ("客户群", "Group"),
        "transfer.reason" => ("原因", "Reason"),
        "transfer.sending" => ("发送中", "Sending"),
        "transfer.external_userid" => ("企微外部联系人 ID", "WeCom external_userid"),
        "transfer.status.running" => ("进行中", "In progress"),
        "transfer.status.done" => ("已结束", "Finished"),
        "transfer.reason.customer_refused" => ("客户拒绝接替", "The customer refused"),
        "transfer.reason.customer_limit_exceed" => (
            "接替导购的客户数已达上限",
            "The receiving guide is at their customer limit",
        ),
        "transfer.reason.transfer_fail" => ("企业微信通知转接失败", "WeCom reported a failure"),
        "transfer.reason.unknown" => ("企业微信未说明原因", "WeCom gave no reason"),
        "transfer.reason.wecom_code" => ("企业微信拒绝，错误码", "WeCom refused, error code"),
        "transfer.errcode.40096" => (
            "企业微信中该客户不是原导购的联系人",
            "In WeCom this customer is not a contact of the departing guide",
        ),
        "transfer.errcode.90501" => (
            "不是客户群，或群已解散",
            "Not a customer group, or the group was dismissed",
        ),
        // --- H5 (customer pages); `h5.js.*` go to the page's script as JSON ---
        "h5.login_title" => ("请先登录", "Please sign in"),
        "h5.login_demo" => (
            "演示环境：输入顾客编号登录。",
            "Demo: sign in with a customer number.",
        ),
        "h5.login_app" => (
            "请从品牌小程序进入本页面。",
            "Open this page from the brand's mini-program.",
        ),
        "h5.login_placeholder" => ("顾客编号，如 1", "Customer number, e.g. 1"),
        "h5.login_button" => ("登录", "Sign in"),
        "h5.lang_other" => ("English", "中文"),
        "h5.loading" => ("加载中…", "Loading…"),
        "h5.remaining" => ("剩余库存：", "In stock: "),
        "h5.coupons.title" => ("领券中心", "Coupon centre"),
        "h5.coupons.subtitle" => ("先领券，再下单更划算", "Claim first, save when you order"),
        "h5.coupons.claimable" => ("可领取", "To claim"),
        "h5.coupons.mine" => ("我的优惠券", "My coupons"),
        "h5.flash.subtitle" => (
            "限时秒杀 · 每人限 {n} 件 · 抢到后请在 {m} 分钟内支付",
            "Flash sale · {n} per customer · pay within {m} minutes of winning",
        ),
        "h5.flash.tag" => ("秒杀", "Flash sale"),
        "h5.flash.claim" => ("立即抢购", "Buy now"),
        "h5.flash.pay" => ("去支付", "Pay now"),
        "h5.group.subtitle" => (
            "{n} 人成团 · {m} 分钟内未成团自动退款",
            "Teams of {n} · refunded if not filled within {m} minutes",
        ),
        "h5.group.leader_price" => ("团长价", "Leader price"),
        "h5.group.open" => ("我要开团", "Start a team"),
        "h5.team.title" => ("拼团", "Group-buy"),
        "h5.team.invited" => ("好友邀请你一起拼团", "A friend invites you to team up"),
        "h5.team.lead" => ("一起拼团更优惠", "Team up for a better price"),
        "h5.team.time_left" => ("剩余时间：", "Time left: "),
        "h5.team.join" => ("参与拼团", "Join the team"),
        "h5.not_found" => (
            "活动不存在或已结束",
            "This promotion does not exist or has ended",
        ),
        "h5.js.need_login" => ("登录后才能查看，请先登录", "Sign in to see this"),
        "h5.js.token_invalid" => (
            "登录已失效，请重新登录",
            "Your sign-in is no longer valid; please sign in again",
        ),
        "h5.js.token_expired" => (
            "登录已过期，请重新进入",
            "Your sign-in has expired; please sign in again",
        ),
        "h5.js.login_failed" => ("登录失败", "Sign-in failed"),
        "h5.js.request_failed" => ("请求失败", "The request failed"),
        "h5.js.out_of_stock" => ("已抢光", "Sold out"),
        "h5.js.limit_reached" => ("已达领取上限", "You have reached the limit"),
        "h5.js.promotion_not_started" => ("活动尚未开始", "Not started yet"),
        "h5.js.promotion_ended" => ("活动已结束", "This promotion has ended"),
        "h5.js.promotion_inactive" => ("活动已下架", "This promotion is off"),
        "h5.js.not_in_audience" => ("该活动仅限指定会员", "For selected members only"),
        "h5.js.group_full" => ("该团已满", "This team is full"),
        "h5.js.group_expired" => ("该团已过期", "This team has expired"),
        "h5.js.already_in_group" => ("你已在团中", "You are already in this team"),
        "h5.js.request_in_progress" => ("请求处理中，请稍候", "Working on it, please wait"),
        "h5.js.none_claimable" => ("暂无可领取的优惠券", "No coupons to claim right now"),
        "h5.js.left" => ("剩余 {n}", "{n} left"),
        "h5.js.claim" => ("领取", "Claim"),
        "h5.js.claimed_ok" => ("领取成功", "Claimed"),
        "h5.js.no_coupons" => ("还没有优惠券", "No coupons yet"),
        "h5.js.valid_until" => ("有效期至 {t}", "Valid until {t}"),
        "h5.js.state_claimed" => ("可使用", "Usable"),
        "h5.js.state_used" => ("已使用", "Used"),
        "h5.js.state_expired" => ("已过期", "Expired"),
        "h5.js.state_revoked" => ("已作废", "Revoked"),
        "h5.js.amount_off_over" => ("满{t}减{o}", "{o} off orders over {t}"),
        "h5.js.amount_off" => ("立减{o}", "{o} off"),
        "h5.js.discount" => ("{r}折，最多减{c}", "{p}% off, up to {c}"),
        "h5.js.free_shipping" => ("免运费", "Free shipping"),
        "h5.js.free_shipping_over" => ("免运费（满{t}）", "Free shipping over {t}"),
        "h5.js.exchange" => ("兑换：{i}", "Exchange: {i}"),
        "h5.js.window" => ("{a} 至 {b}", "{a} to {b}"),
        "h5.js.flash_won" => (
            "抢购成功！请在 {t} 前完成支付",
            "You got it! Pay before {t}",
        ),
        "h5.js.team_missing" => ("还差 {n} 人成团", "{n} more to fill the team"),
        "h5.js.team_filled" => ("拼团成功", "Team filled"),
        "h5.js.team_failed" => ("拼团失败，已自动退款", "The team did not fill; refunded"),
        "h5.js.leader" => ("团长", "Leader"),
        "h5.js.member" => ("团员", "Member"),
        "h5.js.joined" => ("已参团", "Joined"),
        "h5.js.join" => ("参与拼团", "Join the team"),
        "h5.js.join_ok" => ("参团成功", "Joined"),
        "h5.js.share" => ("分享链接给好友：{u}", "Share with friends: {u}"),
        "h5.js.team_yours" => (
            "你发起的拼团，邀请好友来参团",
            "Your team: invite friends to join",
        ),
        "h5.js.team_in" => ("你已在这个团里", "You are in this team"),
        "h5.js.starts_in" => ("距开始 {t}", "Starts in {t}"),
        "h5.js.days" => ("{d}天 {t}", "{d}d {t}"),
        "h5.js.ends_in" => ("距结束 {t}", "Ends in {t}"),
        "h5.js.ended" => ("活动已结束", "This sale has ended"),
        "h5.js.pay_within" => (
            "已为你保留，请在 {t} 内完成支付",
            "Held for you: pay within {t}",
        ),
        "h5.js.pay_now" => ("去支付", "Pay now"),
        "h5.js.hold_over" => (
            "保留时间已过，名额已释放",
            "The hold is over; the unit was released",
        ),
        // --- promotions ---
        "nav.promotions" => ("营销活动", "Promotions"),
        // Channels and live codes (issue #19).
        "nav.channels" => ("渠道活码", "Channels"),
        "acq.title" => ("渠道活码", "Channels and live codes"),
        "acq.list_hint" => (
            "每个渠道是一种拉新来源（门店台卡、包裹卡、公众号文章……）；渠道下的活码是企业微信“联系我”二维码，按上限、时段和权重自动轮换接待员工。",
            "Each channel is a source of new customers (store stands, package cards, articles…); its live codes are WeCom contact QR codes whose guides rotate by cap, working hours and weight.",
        ),
        "acq.quota_title" => ("获客链接额度", "Acquisition link quota"),
        "acq.quota_balance" => ("剩余", "Left"),
        "acq.quota_used" => ("已使用", "Used"),
        "acq.quota_expires" => ("到期", "expiring"),
        "acq.quota_low" => (
            "获客链接额度不足 100：额度用完后获客链接将无法再添加客户，请尽快在企业微信管理后台「客户联系 → 获客助手」购买额度。",
            "Fewer than 100 left: once the quota is used up, acquisition links add no one. Buy more in WeCom's admin console (Customer contact → Acquisition assistant).",
        ),
        "acq.quota_unknown" => (
            "尚未读取（有获客链接时每 10 分钟自动读取一次）",
            "Not read yet (read every 10 minutes while an acquisition link is live)",
        ),
        "acq.quota_refresh" => ("立即读取", "Read now"),
        "acq.new_channel" => ("新建渠道", "New channel"),
        "acq.edit_channel" => ("编辑渠道", "Edit channel"),
        "acq.archive_channel" => ("归档渠道", "Archive channel"),
        "acq.show_archived" => ("查看已归档渠道", "Show archived channels"),
        "acq.show_active" => ("返回进行中的渠道", "Back to active channels"),
        "acq.archived_list" => ("已归档", "Archived"),
        "acq.no_channels" => (
            "还没有渠道。新建一个渠道，再在其中创建活码。",
            "No channels yet. Create a channel, then a live code in it.",
        ),
        "acq.channel" => ("渠道", "Channel"),
        "acq.back_list" => ("← 全部渠道", "← All channels"),
        "acq.name" => ("渠道名称", "Channel name"),
        "acq.kind" => ("渠道类型", "Type"),
        "acq.kind.store_stand" => ("门店台卡", "Store stand"),
        "acq.kind.package_card" => ("包裹卡", "Package card"),
        "acq.kind.official_account" => ("公众号文章", "Official-account article"),
        "acq.kind.live_stream" => ("直播", "Live stream"),
        "acq.kind.ad" => ("广告投放", "Ad"),
        "acq.kind.event" => ("线下活动", "Event"),
        "acq.kind.other" => ("其他", "Other"),
        "acq.owner" => ("负责人", "Owner"),
        "acq.store" => ("门店", "Store"),
        "acq.region" => ("大区", "Region"),
        "acq.brand_wide" => ("全品牌", "Brand-wide"),
        "acq.hq" => ("总部", "HQ"),
        "acq.store_n" => ("门店 #{id}", "Store #{id}"),
        "acq.region_n" => ("大区 #{id}", "Region #{id}"),
        "acq.staff_n" => ("员工 #{id}", "Staff #{id}"),
        "acq.tag_n" => ("标签 #{id}", "Tag #{id}"),
        "acq.coupon_n" => ("优惠券 #{id}", "Coupon #{id}"),
        "acq.dates" => ("投放日期", "Dates"),
        "acq.starts_on" => ("开始日期", "First day"),
        "acq.ends_on" => ("结束日期", "Last day"),
        "acq.from_day" => ("{day} 起", "From {day}"),
        "acq.until_day" => ("至 {day}", "Until {day}"),
        "acq.open_dates" => ("长期", "Ongoing"),
        "acq.adds" => ("添加次数", "Adds"),
        "acq.new_customers" => ("新客户", "New customers"),
        "acq.deleted" => ("已删除", "Deleted"),
        "acq.welcomes_sent" => ("欢迎语已发", "Welcomes sent"),
        "acq.rewards_issued" => ("奖励已发", "Rewards issued"),
        "acq.tags" => ("自动打标签", "Tags applied"),
        "acq.no_tags" => (
            "还没有标签，可先在“标签”页创建。",
            "No tags yet; create them on the Tags page.",
        ),
        "acq.welcome_text" => ("欢迎语", "Welcome message"),
        "acq.attachments" => ("欢迎语附件", "Welcome attachments"),
        "acq.attachment.image" => ("图片", "Image"),
        "acq.attachment.link" => ("链接", "Link"),
        "acq.attachment.miniprogram" => ("小程序", "Mini-program"),
        "acq.attachment.video" => ("视频", "Video"),
        "acq.attachment.file" => ("文件", "File"),
        "acq.links" => ("链接附件", "Link attachments"),
        "acq.link_line" => ("{title}（{url}）", "{title} ({url})"),
        "acq.labelled" => ("{label}：{text}", "{label}: {text}"),
        "acq.link_title" => ("链接标题", "Link title"),
        "acq.link_url" => ("链接地址", "Link URL"),
        "acq.kept_attachments" => (
            "以下附件通过 API 设置，这里不能编辑，保存时会原样保留：",
            "These attachments were set through the API; they cannot be edited here and are kept when you save:",
        ),
        "acq.reward" => ("首次添加奖励", "First-add reward"),
        "acq.ex_name" => (
            "例如：上海一店收银台台卡",
            "e.g. Shanghai store 1 counter stand",
        ),
        "acq.help_name" => (
            "在列表、统计和客户来源中显示。",
            "Shown in lists, statistics and each customer's source.",
        ),
        "acq.help_owner" => (
            "对渠道效果负责的员工，不一定是接待员工。",
            "The staff member responsible for the channel; not necessarily a guide.",
        ),
        "acq.help_store" => (
            "属于某门店的渠道只有该门店和总部能看到；不选则全品牌可见。",
            "A store's channel is seen by that store and HQ only; leave empty for the whole brand.",
        ),
        "acq.help_dates" => (
            "北京时间，含首尾两天；留空表示不限。",
            "Beijing time, both days included; leave empty for no limit.",
        ),
        "acq.help_tags" => (
            "通过此渠道添加的客户会自动打上这些标签（企业标签会同步到企业微信）。",
            "Customers added through this channel get these tags (corp tags are mirrored to WeCom).",
        ),
        "acq.ex_welcome" => (
            "{customer_name} 您好，我是{guide_name}，欢迎光临！",
            "Hi {customer_name}, I am {guide_name}. Welcome!",
        ),
        "acq.help_welcome" => (
            "添加后 20 秒内由企业微信发出。{customer_name} 会替换为客户昵称，{guide_name} 会替换为接待员工的名字。最多 3000 字节。",
            "Sent through WeCom within 20 s of the add. {customer_name} becomes the customer's name, {guide_name} the guide's. At most 3,000 bytes.",
        ),
        "acq.help_links" => (
            "欢迎语最多 9 个附件；标题和地址都填写的行才会保存，清空一行即删除。",
            "A welcome has at most 9 attachments; a row is saved when both its title and URL are filled in, and cleared rows are removed.",
        ),
        "acq.help_reward" => (
            "每位客户终身只发一次：第一次通过带奖励的渠道添加时发放，删除后再加或加第二位员工都不再发。",
            "Issued once per customer ever: on their first add through a channel with a reward; re-adding or adding a second guide issues nothing.",
        ),
        "acq.confirm_channel" => ("渠道「{name}」", "Channel “{name}”"),
        "acq.confirm_codes" => (
            "其中 {n} 个活码将一并归档，企业微信里的“联系我”二维码将被删除",
            "Its {n} live codes are archived too, and their WeCom contact QR codes deleted",
        ),
        "acq.confirm_adds" => (
            "已带来的 {n} 次添加仍计入此渠道",
            "The {n} adds it brought stay attributed to it",
        ),
        "acq.codes" => ("活码", "Live codes"),
        "acq.code" => ("活码", "Live code"),
        "acq.new_code" => ("新建活码", "New live code"),
        "acq.edit_code" => ("编辑活码", "Edit live code"),
        "acq.archive_code" => ("归档活码", "Archive live code"),
        "acq.no_codes" => ("还没有活码。", "No live codes yet."),
        "acq.code_name" => ("活码名称", "Code name"),
        "acq.ex_code_name" => ("例如：收银台", "e.g. Counter"),
        "acq.help_code_name" => (
            "方便区分同一渠道下的多个活码。",
            "Tells the codes of one channel apart.",
        ),
        "acq.state" => ("渠道参数（state）", "State"),
        "acq.help_state" => (
            "企业微信在每次添加时带回此参数，用来识别活码；最多 30 个字符，不含空格。留空则自动生成。",
            "WeCom sends it back on every add to identify the code; at most 30 characters, no spaces. Left empty, one is made up.",
        ),
        "acq.skip_verify" => ("客户添加时无需员工确认", "Add without the guide confirming"),
        "acq.guides" => ("接待员工", "Guides"),
        "acq.guide" => ("员工", "Guide"),
        "acq.no_guide" => ("（不选）", "(none)"),
        "acq.daily_cap" => ("每日上限", "Daily cap"),
        "acq.weight" => ("权重", "Weight"),
        "acq.help_guides" => (
            "只能选择已关联企业微信账号的在职员工。每日上限 1–10000：当天通过此码添加达到上限后自动换人；权重 1–100 仅在“按权重”时生效。",
            "Only active staff linked to a WeCom account. Daily cap 1–10,000: at the cap the code moves on for the day; weight 1–100 counts only under the weighted spread.",
        ),
        "acq.no_wecom_staff" => (
            "没有已关联企业微信账号的员工：请先在“企业微信”页同步通讯录或在员工资料中填写企业微信账号。",
            "No staff member is linked to WeCom: sync the directory on the WeCom page or set a WeCom userid on the staff form.",
        ),
        "acq.backup" => ("备用员工", "Backup guide"),
        "acq.help_backup" => (
            "所有员工满额或不在接待时段时，由备用员工接待。",
            "Takes the code when every guide is at their cap or off duty.",
        ),
        "acq.weekdays" => ("工作日", "Working days"),
        "acq.help_weekdays" => ("都不勾选表示每天。", "None ticked means every day."),
        "acq.weekday.1" => ("周一", "Mon"),
        "acq.weekday.2" => ("周二", "Tue"),
        "acq.weekday.3" => ("周三", "Wed"),
        "acq.weekday.4" => ("周四", "Thu"),
        "acq.weekday.5" => ("周五", "Fri"),
        "acq.weekday.6" => ("周六", "Sat"),
        "acq.weekday.7" => ("周日", "Sun"),
        "acq.every_day" => ("每天", "Every day"),
        "acq.all_day" => ("全天", "all day"),
        "acq.hours" => ("接待时段", "Working hours"),
        "acq.start" => ("开始时间", "Start"),
        "acq.end" => ("结束时间", "End"),
        "acq.help_hours" => (
            "北京时间，都留空表示全天；时段外由备用员工接待。",
            "Beijing time; both empty means all day. Outside them the backup guide takes the code.",
        ),
        "acq.schedule" => ("接待时间", "Schedule"),
        "acq.code_kind" => ("类型", "Type"),
        "acq.code_kind.contact_way" => ("二维码（联系我）", "QR code (Contact Me)"),
        "acq.code_kind.link" => ("获客链接", "Acquisition link"),
        "acq.help_code_kind" => (
            "二维码用于门店台卡、包裹卡等印刷物；获客链接用于广告、短信和其他 App，链接里带着 state，加好友后归到本渠道。创建后不能更改类型。",
            "A QR code for stands, package cards and print; an acquisition link for ads, SMS and other apps (the link carries the state, so adds are credited to this channel). The type cannot change after creation.",
        ),
        "acq.spread" => ("分配方式", "Spread"),
        "acq.spread.even" => ("平均", "Even"),
        "acq.spread.weighted" => ("按权重", "By weight"),
        "acq.help_spread" => (
            "平均：所有可接待员工同时在码上，由企业微信分配；按权重：每次只放一位员工，按权重轮流。",
            "Even: every guide on duty stands behind the code and WeCom spreads the adds; by weight: one guide at a time, taking turns by weight.",
        ),
        "acq.qr" => ("二维码", "QR code"),
        "acq.no_qr" => (
            "企业微信尚未生成二维码（同步成功后显示）。",
            "WeCom has not made the QR code yet (shown once synced).",
        ),
        "acq.open_qr" => ("下载二维码", "Download the QR code"),
        "acq.qr_hint" => (
            "二维码图片由企业微信生成，鱼塘保存一份并从本系统提供；员工轮换不会改变二维码。",
            "WeCom makes the QR image; Yutang keeps a copy and serves it. Rotating the guides never changes it.",
        ),
        "acq.qr_hint_link" => (
            "二维码由鱼塘根据获客链接生成；扫码即打开链接。",
            "Yutang draws the QR code of the acquisition link; scanning it opens the link.",
        ),
        "acq.qr_not_stored" => (
            "二维码图片尚未保存，将在下次同步时重试。",
            "The QR image is not stored yet; it is retried at the next sync.",
        ),
        "acq.poster" => ("门店台卡海报", "Store-stand poster"),
        "acq.poster_hint" => (
            "1080 × 1440 像素 PNG（300 dpi 打印约 9 × 12 厘米），文字和二维码由鱼塘绘制。",
            "A 1080 × 1440 PNG (9 × 12 cm at 300 dpi); Yutang draws the texts and the QR code.",
        ),
        "acq.download_poster" => ("下载海报", "Download the poster"),
        "acq.poster_settings" => ("海报文字", "Poster texts"),
        "acq.poster_brand" => ("品牌 / 门店", "Brand / store"),
        "acq.poster_title" => ("标题", "Title"),
        "acq.poster_subtitle" => ("副标题", "Subtitle"),
        "acq.poster_caption" => ("二维码下方文字", "Caption under the QR"),
        "acq.help_poster" => (
            "每项一行：品牌最多 20 字，标题最多 20 字，副标题最多 40 字，二维码下方文字最多 20 字。留空时：品牌用渠道所属门店名，标题用渠道名称，说明为“扫码添加导购企业微信”。",
            "One line each: brand up to 20 characters, title 20, subtitle 40, caption 20. Left blank: the brand is the channel's store, the title the channel's name, the caption 扫码添加导购企业微信.",
        ),
        "acq.current_guides" => ("当前接待", "Behind the code now"),
        "acq.adds_today" => ("今日添加", "Adds today"),
        "acq.adds_vs_cap" => ("今日添加 / 上限", "Adds today / cap"),
        "acq.on_now" => ("当前状态", "Now"),
        "acq.on" => ("接待中", "On"),
        "acq.off" => ("未接待", "Off"),
        "acq.sync_status" => ("同步状态", "Sync"),
        "acq.sync.synced" => ("已同步", "Synced"),
        "acq.sync.pending" => ("等待同步", "Waiting to sync"),
        "acq.sync.failed" => ("同步失败", "Sync failed"),
        "acq.resync" => ("立即同步", "Sync now"),
        "acq.synced_done" => ("已同步到企业微信", "Synced to WeCom"),
        "acq.changes" => ("换人记录", "Change log"),
        "acq.changes_hint" => (
            "每次企业微信里接待此码的员工变化都会记录，并写明每位未接待员工的原因。",
            "Each change of the guides behind the code in WeCom, with why each guide left out is off.",
        ),
        "acq.changed_at" => ("时间", "Time"),
        "acq.behind_code" => ("接待员工", "Behind the code"),
        "acq.reasons" => ("原因", "Why"),
        "acq.reason.cap_reached" => (
            "今日已加 {adds}/{cap}，已达上限",
            "{adds}/{cap} adds today, at the cap",
        ),
        "acq.reason.outside_hours" => ("不在接待时段", "Outside working hours"),
        "acq.reason.not_a_workday" => ("非工作日", "Not a working day"),
        "acq.reason.not_their_turn" => ("按权重轮到其他人", "Another guide's turn by weight"),
        "acq.reason.on_backup" => ("由备用员工接待", "The backup guide took the code"),
        "acq.reason.exhausted" => (
            "全部满额且无备用员工",
            "Everyone is at their cap and there is no backup",
        ),
        "acq.confirm_code" => ("活码「{name}」", "Live code “{name}”"),
        "acq.confirm_code_wecom" => (
            "企业微信里的“联系我”二维码将被删除，扫码将无法再添加",
            "Its WeCom contact QR code is deleted; scanning it no longer adds anyone",
        ),
        "acq.confirm_code_adds" => (
            "已带来的添加仍计入所属渠道",
            "Adds it brought stay attributed to its channel",
        ),
        "promo.title" => ("营销活动", "Promotions"),
        "promo.new_coupon" => ("新建优惠券", "New coupon"),
        "promo.new_flash" => ("新建秒杀", "New flash sale"),
        "promo.new_group" => ("新建拼团", "New group-buy"),
        "promo.coupons" => ("优惠券", "Coupons"),
        "promo.flash_sales" => ("秒杀", "Flash sales"),
        "promo.group_buys" => ("拼团", "Group-buys"),
        "promo.coupon_template" => ("优惠券模板", "Coupon template"),
        "promo.flash_sale" => ("秒杀活动", "Flash sale"),
        "promo.group_buy" => ("拼团活动", "Group-buy"),
        "promo.name" => ("名称", "Name"),
        "promo.kind" => ("类型", "Kind"),
        "promo.kind_amount_off" => ("满减券", "Amount off"),
        "promo.kind_discount" => ("折扣券", "Discount"),
        "promo.kind_free_shipping" => ("免运费券", "Free shipping"),
        "promo.kind_exchange" => ("兑换券", "Exchange"),
        "promo.off_yuan" => ("减免金额（元）", "Amount off (CNY)"),
        "promo.threshold_yuan" => ("使用门槛（元，0 为无门槛）", "Threshold (CNY, 0 = none)"),
        "promo.rate_permille" => ("折扣（千分比，850 = 85折）", "Rate paid (‰, 850 = 15% off)"),
        "promo.cap_yuan" => ("最多减（元）", "Saving cap (CNY)"),
        "promo.item_name" => ("商品名称", "Item"),
        "promo.validity" => ("有效期", "Validity"),
        "promo.validity_days" => ("领取后 N 天", "N days from claim"),
        "promo.validity_fixed" => ("固定日期", "Fixed dates"),
        "promo.days" => ("天数", "Days"),
        "promo.valid_from" => ("生效时间", "Valid from"),
        "promo.valid_to" => ("失效时间", "Valid until"),
        "promo.channels" => (
            "适用渠道（逗号分隔，留空为全部）",
            "Channels (comma-separated, empty = all)",
        ),
        "promo.return_on_refund" => (
            "订单全额退款后退回优惠券",
            "Return the coupon when the order is refunded",
        ),
        "promo.remind_hours" => (
            "到期前提醒（小时，0 不提醒）",
            "Remind before expiry (hours, 0 = never)",
        ),
        "promo.claim_window" => ("领取时间", "Claim window"),
        "promo.window" => ("活动时间", "Runs"),
        "promo.stock" => ("库存（已领/总数）", "Stock (taken/total)"),
        "promo.per_customer" => ("每人限领", "Per customer"),
        "promo.audience" => ("参与人群", "Audience"),
        "promo.audience_everyone" => ("所有人", "Everyone"),
        "promo.audience_segment" => ("人群包", "Saved segment"),
        "promo.audience_level" => ("会员等级", "Member level"),
        "promo.audience_group" => ("社群成员", "Group members"),
        "promo.claims" => ("领取", "Claims"),
        "promo.uses" => ("核销", "Uses"),
        "promo.conversion" => ("核销率", "Conversion"),
        "promo.discount_total" => ("优惠总额", "Total discount"),
        "promo.price" => ("活动价（元）", "Price (CNY)"),
        "promo.original_price" => ("原价（元）", "Usual price (CNY)"),
        "promo.hold_minutes" => ("抢到后保留（分钟）", "Hold for (minutes)"),
        "promo.held" => ("待支付", "Held"),
        "promo.paid" => ("已支付", "Paid"),
        "promo.released" => ("超时释放", "Released"),
        "promo.leader_off" => ("团长优惠（元）", "Leader discount (CNY)"),
        "promo.team_size" => ("成团人数", "Team size"),
        "promo.time_limit" => ("成团时限（分钟）", "Time limit (minutes)"),
        "promo.teams_open" => ("拼团中", "Open teams"),
        "promo.teams_filled" => ("已成团", "Filled"),
        "promo.teams_expired" => ("未成团退款", "Expired (refunded)"),
        "promo.open_h5" => ("打开 H5", "Open H5"),
        // promotions list: phases, search; issue to a segment from the console
        "promo.phase" => ("状态", "Status"),
        "promo.phase_scheduled" => ("未开始", "Scheduled"),
        "promo.phase_running" => ("进行中", "Running"),
        "promo.phase_ended" => ("已结束", "Ended"),
        "promo.phase_archived" => ("已归档", "Archived"),
        "promo.search_hint" => ("搜索活动名称", "Search by name"),
        "promo.shown" => (
            "显示 {n} / {total} 个活动",
            "Showing {n} of {total} campaigns",
        ),
        "promo.clear_filter" => ("清除筛选", "Clear filter"),
        "promo.issue_segment" => ("发给人群", "Issue to a segment"),
        "promo.issue_segment_help" => (
            "向所选人群中你数据范围内的每位客户各发一张（受每人限领和库存限制），在任务页查看进度",
            "Issues one coupon to each member of the segment within your data scope (per-customer limit and stock apply); progress shows on the job page",
        ),
        "promo.issue_now" => ("立即发放", "Issue now"),
        // customers list: sorting, saved filters, export, bulk actions
        "customers.saved_filters" => ("常用筛选", "Saved filters"),
        "customers.filter_name" => ("筛选名称", "Filter name"),
        "customers.save_filter" => ("保存当前筛选", "Save this filter"),
        "customers.export" => ("导出 CSV", "Export CSV"),
        "customers.bulk_selected" => ("对勾选的客户：", "With the ticked customers:"),
        "customers.bulk_tag" => ("打标签", "Tag"),
        "customers.bulk_coupon" => ("发券", "Issue coupon"),
        "customers.select_all" => ("全选本页", "Tick all on this page"),
        "customers.select" => ("选择", "Select"),
        // Forms: one column, only the chosen type's fields, help texts and examples, the
        // field a refusal is about, the segment picker (issue #18).
        "forms.check_field" => ("请检查「{field}」：{message}", "Check “{field}”: {message}"),
        "forms.segment" => ("人群包", "Saved segment"),
        "forms.segment_option" => ("{name}（{n} 人）", "{name} ({n} customers)"),
        "forms.segment_filter" => ("输入名称筛选人群", "Type part of a name to filter"),
        "forms.help_segment" => (
            "输入名称的一部分即可筛选；括号内为当前人数。",
            "Type part of a name to filter; the count is its customers now.",
        ),
        "forms.no_segments" => (
            "还没有保存的人群，请先在「人群圈选」中创建。",
            "No saved segments yet; create one under Segments first.",
        ),
        "forms.level" => ("会员等级", "Member level"),
        "forms.help_level" => (
            "客户资料中的会员等级，如 gold。",
            "The member level on the customer's profile, e.g. gold.",
        ),
        "forms.help_audience" => ("谁可以领取或参与。", "Who may claim or take part."),
        "forms.sku" => ("SKU", "SKU"),
        "forms.starts" => ("开始时间", "Starts"),
        "forms.ends" => ("结束时间", "Ends"),
        "forms.stock" => ("库存总数", "Stock"),
        "forms.help_name" => (
            "客户在 H5 页面看到的名称，1–40 个字。",
            "The name customers see in the H5 pages, 1–40 characters.",
        ),
        "forms.ex_name_coupon" => ("例：满99减20", "e.g. 20 off 99"),
        "forms.ex_name_flash" => ("例：周五秒杀 蓝牙耳机", "e.g. Friday flash sale: earbuds"),
        "forms.ex_name_group" => ("例：三人拼团 面膜", "e.g. Team of 3: face masks"),
        "forms.help_kind" => (
            "满减：满门槛减固定金额；折扣：按比例付款，可设上限；免运费：满门槛免运费；兑换券：免费兑换一件商品。",
            "Amount off: a fixed amount off an order over the threshold. Discount: pay a share, up to a cap. Free shipping: no shipping fee over the threshold. Exchange: one item free.",
        ),
        "forms.help_off" => (
            "订单减去的金额（元），须低于使用门槛。",
            "Taken off the order (CNY); must be below the threshold.",
        ),
        "forms.ex_off" => ("例：20", "e.g. 20"),
        "forms.help_threshold" => (
            "订单满此金额（元）才可用；0 或留空为无门槛。",
            "The order must reach this (CNY); 0 or empty for none.",
        ),
        "forms.ex_threshold" => ("例：99", "e.g. 99"),
        "forms.help_rate" => (
            "按千分比付款：850 即 85 折，范围 1–999。",
            "What is paid, per mille: 850 pays 85% (15% off); 1–999.",
        ),
        "forms.help_cap" => (
            "一单最多优惠的金额（元）。",
            "The most one order saves (CNY).",
        ),
        "forms.ex_cap" => ("例：50", "e.g. 50"),
        "forms.help_sku" => ("兑换的商品编码。", "The SKU of the item given."),
        "forms.help_item" => (
            "兑换的商品名称，客户可见。",
            "The item's name, shown to customers.",
        ),
        "forms.ex_item" => ("例：保温杯", "e.g. Thermos cup"),
        "forms.help_validity" => (
            "领取后按天计算，或固定起止时间。",
            "Counted in days from the claim, or between fixed dates.",
        ),
        "forms.help_days" => (
            "领取后可用的天数，1–3650。",
            "Days usable after the claim, 1–3650.",
        ),
        "forms.help_fixed" => (
            "所有领到的券在这段时间内可用（北京时间）。",
            "Every claimed coupon is valid in this period (China time).",
        ),
        "forms.help_channels" => (
            "留空为全部渠道；多个用逗号分隔。",
            "Empty for every channel; separate several with commas.",
        ),
        "forms.help_remind" => (
            "到期前多少小时提醒客户，0 不提醒，最多 720。",
            "Hours before expiry to remind the customer; 0 for never, at most 720.",
        ),
        "forms.help_window" => (
            "开始与结束（北京时间），结束须晚于开始。",
            "Start and end (China time); the end must be after the start.",
        ),
        "forms.help_stock" => (
            "总共可领取或售出的数量。",
            "How many may be claimed or sold in all.",
        ),
        "forms.help_per_customer" => (
            "每位客户最多可领或可买几次，1–100。",
            "The most one customer may take, 1–100.",
        ),
        "forms.help_sku_sale" => ("活动商品的编码。", "The promoted item's SKU."),
        "forms.help_item_sale" => (
            "活动商品名称，客户可见。",
            "The item's name, shown to customers.",
        ),
        "forms.help_price" => ("活动价（元）。", "The promotion price (CNY)."),
        "forms.help_original" => (
            "原价（元），作为划线价展示。",
            "The usual price (CNY), shown struck through.",
        ),
        "forms.help_hold" => (
            "抢到后保留多少分钟等待支付，超时释放库存。",
            "Minutes a won item is held for payment before its stock is released.",
        ),
        "forms.help_leader" => (
            "团长在活动价上再减的金额（元），须低于活动价；0 为无。",
            "Extra off the price for the team leader (CNY), below the price; 0 for none.",
        ),
        "forms.help_team" => (
            "成团所需人数（含团长），至少 2 人。",
            "Members needed, the leader included; at least 2.",
        ),
        "forms.help_time_limit" => (
            "开团后多少分钟内未满员则退款。",
            "Minutes a team has to fill before it is refunded.",
        ),
        "forms.more_steps" => (
            "更多档位（阶梯满减，选填）",
            "More steps (stepped set, optional)",
        ),
        "forms.ex_more_steps" => ("例：199 40\n299 70", "e.g. 199 40\n299 70"),
        "forms.help_more_steps" => (
            "每行一档：门槛 减免（元），门槛须逐档递增；领取一次即发放所有档位。",
            "One step a line: threshold and amount off (CNY), thresholds rising; one claim issues every step.",
        ),
        "forms.api_only_steps" => (
            "此模板含多种类型的档位，只能通过 API 修改。",
            "This template has steps of several kinds; edit it through the API.",
        ),
        "forms.help_rule_name" => (
            "规则的名称，1–40 个字。",
            "The rule's name, 1–40 characters.",
        ),
        "forms.ex_rule_name" => ("例：复购客户", "e.g. Repeat buyers"),
        "forms.help_rule_kind" => (
            "生命周期和 RFM 自动生成固定标签；月龄、生日和表达式打上你填写的标签。",
            "Lifecycle and RFM give fixed tags; age, birthday and expression rules give the tags you name.",
        ),
        "forms.new_days" => ("新客天数", "New within (days)"),
        "forms.active_days" => ("活跃天数", "Active within (days)"),
        "forms.dormant_days" => ("沉睡天数", "Dormant within (days)"),
        "forms.help_new_days" => (
            "首单在此天数内为「新客」。",
            "A first order within this many days: new.",
        ),
        "forms.help_active_days" => (
            "否则最近一单在此天数内为「活跃」；不小于新客天数。",
            "Else a last order within this many days: active; at least the new days.",
        ),
        "forms.help_dormant_days" => (
            "否则在此天数内为「沉睡」，更久为「流失」；须大于活跃天数。",
            "Else within this many days: dormant, older: churned; more than the active days.",
        ),
        "forms.help_recency" => (
            "最近一次购买在此天数内算「近」。",
            "A last order within this many days counts as recent.",
        ),
        "forms.help_attribute" => (
            "日期类型的自定义属性键，如宝宝生日。",
            "The key of a date attribute, such as a child's birthday.",
        ),
        "forms.help_buckets" => (
            "每行一段：起始月-结束月 标签，如 0-6 0-6月。",
            "One bucket per line: from-to tag, e.g. 0-6 0-6 months.",
        ),
        "forms.help_rule_tag" => (
            "符合条件的客户打上的标签名称。",
            "The tag given to the customers who match.",
        ),
        "forms.ex_rule_tag" => ("例：本月生日", "e.g. Birthday this month"),
        "forms.help_rule_expression" => (
            "人群圈选表达式，如 orders_90d >= 2 或 in_group。",
            "A segment expression, e.g. orders_90d >= 2 or in_group.",
        ),
        // Responsive console (menu), audit-log export, import templates (issue #18).
        "nav.menu" => ("菜单", "Menu"),
        "audit.export" => ("导出 CSV", "Export CSV"),
        "audit.export_hint" => (
            "按当前筛选导出全部记录（时间为北京时间）；导出本身也会记入审计日志。",
            "Exports every entry matching the filter (times in Asia/Shanghai); the export itself is recorded in the audit log.",
        ),
        "import.template_customers" => ("下载客户导入模板", "Download customer template"),
        "import.template_orders" => ("下载订单导入模板", "Download order template"),
        "import.template_hint" => (
            "模板含全部列名和一行示例数据；删除示例行、按列填好后上传即可。门店编码和导购须已存在。",
            "Each template has every column and one example row; replace the example with your rows and upload. Store codes and guides must already exist.",
        ),
        // Customer list: 转接 of ticked rows, promotions paging (issue #18, lead).
        "customers.bulk_transfer" => ("转接", "Transfer"),
        "transfer.prefilled" => (
            "已从客户列表带入 {n} 位客户及其导购，请选择接替导购。",
            "{n} customers and their guide came from the customer list; choose who takes over.",
        ),
        "transfer.skipped" => (
            "另有 {n} 位勾选的客户不是该导购的企业微信好友，已略过。",
            "{n} other ticked customers are not the guide's WeCom contacts and were left out.",
        ),
        // Promotions: a campaign's statistics page (promotion_stats.rs).
        "pstats.title" => ("活动数据", "Campaign statistics"),
        "pstats.link" => ("数据", "Stats"),
        "pstats.back" => ("返回营销活动", "Back to promotions"),
        "pstats.kind_coupon" => ("优惠券模板", "Coupon template"),
        "pstats.kind_flash" => ("秒杀活动", "Flash sale"),
        "pstats.kind_group" => ("拼团活动", "Group-buy"),
        "pstats.claims_coupon" => ("领取（套）", "Sets claimed"),
        "pstats.uses_coupon" => ("核销（张）", "Coupons used"),
        "pstats.eligible_coupon" => ("发出（张）", "Coupons handed out"),
        "pstats.cost_per_use_coupon" => ("每张核销成本", "Cost per use"),
        "pstats.claims_flash" => ("抢购", "Claims"),
        "pstats.uses_flash" => ("已支付", "Paid"),
        "pstats.released_flash" => ("超时释放", "Released"),
        "pstats.cost_per_use_flash" => ("每件成本", "Cost per unit paid"),
        "pstats.claims_group" => ("参团人数", "Members joined"),
        "pstats.uses_group" => ("成团", "Teams filled"),
        "pstats.eligible_group" => ("开团", "Teams opened"),
        "pstats.released_group" => ("退款人数", "Members refunded"),
        "pstats.cost_per_use_group" => ("每团成本", "Cost per team filled"),
        "pstats.gmv" => ("带动 GMV", "GMV driven"),
        "pstats.cost" => ("成本", "Cost"),
        "pstats.conversion" => ("转化率", "Conversion"),
        "pstats.conversion_cumulative" => ("累计转化率", "Conversion to date"),
        "pstats.chart" => ("每日趋势", "Day by day"),
        "pstats.table" => ("每日明细", "Daily figures"),
        "pstats.day" => ("日期", "Day"),
        "pstats.hint" => (
            "按北京时间逐日统计，图表与明细最多显示最近 90 天；卡片为活动全程合计。",
            "Days are China time; the chart and the table show at most the last 90 days, the figures above cover the whole campaign.",
        ),
        "pstats.not_started" => (
            "活动尚未开始，暂无数据。",
            "The campaign has not started yet: no data.",
        ),
        "pstats.chart_label" => (
            "{name}：{from} 至 {to} 每日{claims}与{uses}（柱状）及带动 GMV（折线）；合计{claims} {claims_n}，{uses} {uses_n}，GMV ¥{gmv}",
            "{name}: {claims} and {uses} per day (bars) and GMV driven (line), {from} to {to}; in total {claims_n} {claims}, {uses_n} {uses}, GMV ¥{gmv}",
        ),
        // Channel statistics (渠道统计, issue #19 item 7).
        "cstats.title" => ("渠道统计", "Channel statistics"),
        "cstats.channel_title" => ("渠道数据", "Channel statistics"),
        "cstats.back" => ("返回渠道统计", "Back to channel statistics"),
        "cstats.archived" => ("已归档", "Archived"),
        "cstats.chart" => ("每日加好友趋势", "Adds day by day"),
        "cstats.table" => ("每日明细", "Daily figures"),
        "cstats.day" => ("日期", "Day"),
        "cstats.by_guide" => ("按导购", "By guide"),
        "cstats.by_store" => ("按门店", "By store"),
        "cstats.by_channel" => ("按渠道", "By channel"),
        "cstats.leaderboard" => ("导购拉新排行", "Guide leaderboard"),
        "cstats.none_yet" => ("所选区间内暂无数据。", "Nothing in this period."),
        "cstats.guide" => ("导购", "Guide"),
        "cstats.store" => ("门店", "Store"),
        "cstats.channel" => ("渠道", "Channel"),
        "cstats.kind" => ("类型", "Type"),
        "cstats.rank" => ("名次", "Rank"),
        "cstats.adds" => ("加好友", "Adds"),
        "cstats.net_d1" => ("净增（1 天）", "Net adds (1 day)"),
        "cstats.net_d7" => ("净增（7 天）", "Net adds (7 days)"),
        "cstats.net_d30" => ("净增（30 天）", "Net adds (30 days)"),
        "cstats.deleted" => ("已删除", "Deleted since"),
        "cstats.new_customers" => ("新客户", "New customers"),
        "cstats.first_orders" => ("首购人数", "First orders"),
        "cstats.first_order_rate" => ("首购开单率", "First-order rate"),
        "cstats.median_time" => ("首购时长（中位数）", "Time to first order (median)"),
        "cstats.median_hours" => ("首购时长中位数（小时）", "Median hours to first order"),
        "cstats.orders" => ("归因订单", "Attributed orders"),
        "cstats.gmv" => ("归因 GMV", "Attributed GMV"),
        "cstats.rewards_used" => ("奖励券核销", "Reward coupons used"),
        "cstats.reward_cost" => ("奖励成本", "Reward cost"),
        "cstats.from" => ("开始日期", "From"),
        "cstats.to" => ("结束日期", "To"),
        "cstats.first_order_days" => ("首购窗口（天）", "First-order window (days)"),
        "cstats.apply" => ("查看", "Show"),
        "cstats.download_csv" => ("下载 CSV", "Download CSV"),
        "cstats.download_xlsx" => ("下载 Excel", "Download Excel"),
        "cstats.hint" => (
            "按北京时间逐日统计。加好友按添加日计；净增为添加后 1/7/30 天内未被删除的好友（不足天数的按目前是否仍为好友计）；新客户为首次经渠道进入客户池的客户，首购开单率为其中在首购窗口内有未全额退款订单的比例；归因 GMV 为最后触点归到该渠道的订单实付减退款；奖励成本为该渠道首加奖励券已核销的优惠金额。",
            "Days are China time. Adds count on the day of the add; net adds are adds not deleted within 1/7/30 days (younger adds count while the pair stands); new customers entered the pool through the channel, and the first-order rate is the share of them with an order not fully refunded within the first-order window; attributed GMV is paid minus refunded of orders whose last touch is the channel; reward cost is the discount of the channel's first-add reward coupons used.",
        ),
        "cstats.hours_fmt" => ("{h} 小时", "{h} h"),
        "cstats.days_hours_fmt" => ("{d} 天 {h} 小时", "{d} d {h} h"),
        "cstats.chart_label" => (
            "{name}：{from} 至 {to} 每日加好友与 7 天净增（柱状）及归因 GMV（折线）；合计加好友 {adds}，7 天净增 {net}，GMV ¥{gmv}",
            "{name}: adds and net adds after 7 days per day (bars) and attributed GMV (line), {from} to {to}; in total {adds} adds, {net} net, GMV ¥{gmv}",
        ),
        "cstats.unknown_channel" => ("未知渠道", "Unknown channel"),
        "cstats.no_guide" => ("无导购", "No guide"),
        "cstats.no_store" => ("无门店", "No store"),
        "cstats.kind_store_stand" => ("门店台卡", "Store stand"),
        "cstats.kind_package_card" => ("包裹卡", "Package card"),
        "cstats.kind_official_account" => ("公众号文章", "Official-account article"),
        "cstats.kind_live_stream" => ("直播", "Live stream"),
        "cstats.kind_ad" => ("广告投放", "Ad"),
        "cstats.kind_event" => ("线下活动", "Event"),
        "cstats.kind_other" => ("其他", "Other"),
        "cstats.csv_section" => ("分组", "Section"),
        "cstats.csv_name" => ("名称", "Name"),
        "cstats.csv_id" => ("编号", "Id"),
        "cstats.section_total" => ("合计", "Total"),
        "cstats.section_day" => ("日", "Day"),
        "cstats.section_channel" => ("渠道", "Channel"),
        "cstats.section_guide" => ("导购", "Guide"),
        "cstats.section_store" => ("门店", "Store"),
        "cstats.window_fmt" => (
            "订单归因窗口：支付前 {n} 天内最后一次添加的渠道",
            "Order attribution window: the channel of the latest add within {n} days before payment",
        ),
        // Attribution settings (归因设置, issue #19 item 6).
        "asettings.title" => ("归因设置", "Attribution settings"),
        "asettings.window" => ("订单归因窗口：", "Order attribution window:"),
        "asettings.days_fmt" => ("{n} 天", "{n} days"),
        "asettings.default" => ("（默认）", "(default)"),
        "asettings.hint" => (
            "订单归到支付前这段时间内客户最后一次添加好友的渠道（最后触点）；客户的首次来源渠道不受影响。修改只对之后记录的订单生效，已记录的订单保持原来的渠道。",
            "An order is credited to the channel of the customer's latest add within this window before payment (last touch); the customer's first touch is not affected. A change applies to orders recorded after it; orders already recorded keep their channel.",
        ),
        "asettings.updated_fmt" => ("上次修改：{at}，{by}", "Last changed {at} by {by}"),
        "asettings.range_fmt" => (
            "{min}–{max} 天，默认 {default} 天",
            "{min}–{max} days; {default} by default",
        ),
        // QR codes and posters for the H5 links (issue #18): the share page, the poster, the
        // H5 coupon page pointing at one template.
        "promo.share" => ("分享", "Share"),
        "share.title" => ("分享：{name}", "Share: {name}"),
        "share.back" => ("← 返回活动列表", "← Back to promotions"),
        "share.link" => ("顾客链接", "Customer link"),
        "share.link_hint" => (
            "可复制发给顾客，或放进公众号菜单、企业微信欢迎语。",
            "Copy it into a message, an official-account menu or a WeCom welcome message.",
        ),
        "share.qr" => ("二维码", "QR code"),
        "share.qr_hint" => (
            "PNG 至少 600 像素宽（按 300 dpi 约 5 厘米），适合打印；SVG 可任意缩放。",
            "The PNG is at least 600 pixels wide (about 5 cm at 300 dpi) for print; the SVG scales to any size.",
        ),
        "share.poster" => ("海报", "Poster"),
        "share.poster_hint" => (
            "海报为 SVG 矢量图：用浏览器打开即可打印，也可导入设计软件修改。",
            "The poster is an SVG vector image: open it in a browser to print it, or import it into a design tool.",
        ),
        "share.download_qr_svg" => ("下载二维码（SVG）", "Download QR code (SVG)"),
        "share.download_qr_png" => ("下载二维码（PNG）", "Download QR code (PNG)"),
        "share.download_poster" => ("下载海报（SVG）", "Download poster (SVG)"),
        "share.host_notice" => (
            "未设置 h5.public_url：链接按本次访问的地址 {host} 生成。顾客若访问不到这个地址（例如 localhost 或内网地址），扫码将无法打开；请先在配置中设置 h5.public_url（或环境变量 YUTANG_H5__PUBLIC_URL），再分享或打印。",
            "h5.public_url is not set: links are built from the address of this visit, {host}. If customers cannot reach it (localhost, an intranet address), the QR code leads nowhere: set h5.public_url (or YUTANG_H5__PUBLIC_URL) before sharing or printing.",
        ),
        "share.kind_coupon" => ("优惠券", "Coupon"),
        "share.kind_flash" => ("限时秒杀", "Flash sale"),
        "share.kind_group" => ("拼团", "Group buy"),
        "share.flash_price" => ("秒杀价", "Sale price"),
        "share.group_price" => ("拼团价", "Team price"),
        "share.original" => ("原价 {p}", "Was {p}"),
        "share.per_customer" => ("每人限购 {n} 件", "Limit {n} per customer"),
        "share.team_size" => ("{n} 人成团", "Teams of {n}"),
        "share.leader_off" => ("团长再减 {p}", "Team leader saves {p} more"),
        "share.valid_days" => ("领取后 {n} 天内有效", "Valid {n} days from claiming"),
        "share.valid_fixed" => ("有效期 {a} 至 {b}", "Valid {a} to {b}"),
        "share.window" => (
            "活动时间：{a} 至 {b}（北京时间）",
            "Runs {a} to {b} (Beijing time)",
        ),
        "share.claim_window" => (
            "领取时间：{a} 至 {b}（北京时间）",
            "Claim {a} to {b} (Beijing time)",
        ),
        "share.scan" => ("微信扫码参与", "Scan with WeChat to join"),
        "h5.js.template_gone" => (
            "您扫码的这张优惠券现在不能领取（已领完、已领过、不在领取时间或不在适用人群）",
            "The coupon you scanned cannot be claimed now (none left, already claimed, outside its claim window, or not for you)",
        ),
        // Product images on flash sales and group-buys (issue #18).
        "promo.image" => ("商品图片", "Product image"),
        "promo.image_preview" => ("商品图片预览", "Product image preview"),
        "promo.remove_image" => ("不再使用这张图片", "Remove this image"),
        "forms.help_image" => (
            "显示在 H5 活动页上。PNG、JPEG 或 WebP，最大 2 MiB，长宽各不超过 4096 像素；保存时上传。",
            "Shown on the H5 page. PNG, JPEG or WebP, at most 2 MiB and 4096 pixels a side; uploaded when you save.",
        ),
        // Promotion drafts (issue #18, lead).
        "promo.phase_draft" => ("草稿", "Draft"),
        "promo.save_publish" => ("保存并发布", "Save and publish"),
        "promo.save_draft" => ("保存为草稿", "Save as draft"),
        "promo.draft_hint" => (
            "草稿对顾客不可见、不能领取或购买；发布后按活动时间开放。",
            "A draft is hidden from customers and cannot be claimed or bought; once published it opens in its time window.",
        ),
        "promo.publish" => ("发布", "Publish"),
        "promo.publish_hint" => (
            "这是草稿，顾客看不到。确认内容无误后发布，活动将按设定时间开放。",
            "This is a draft, hidden from customers. Publish it when it is ready; it opens in its time window.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t("…")` key used in a template must exist, in both languages.
    #[test]
    fn template_keys_exist() {
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates/console"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates/h5"),
        ];
        let mut checked = 0;
        for entry in dirs.iter().flat_map(|d| std::fs::read_dir(d).unwrap()) {
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
        // The segment builder labels each channel type (`data-opt_channel_type_…`).
        for k in yutang_core::acquisition::ChannelKind::ALL {
            let key = format!("segments.opt_channel_type_{}", k.as_str());
            assert!(lookup(&key).is_some(), "{key}");
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
        use yutang_app::import::ImportKind;
        for kind in [ImportKind::Customers, ImportKind::Orders] {
            assert!(lookup(&format!("import.kind.{}", kind.as_str())).is_some());
            for f in kind.fields() {
                assert!(lookup(&format!("import.field.{f}")).is_some(), "{f}");
            }
        }
        for s in [
            "uploaded",
            "checking",
            "checked",
            "running",
            "interrupted",
            "done",
            "failed",
        ] {
            assert!(lookup(&format!("import.state.{s}")).is_some(), "{s}");
        }
        for s in ["running", "done"] {
            assert!(lookup(&format!("transfer.status.{s}")).is_some(), "{s}");
        }
        for s in yutang_app::wecom::transfers::RowState::ALL {
            assert!(
                lookup(&format!("transfer.{}", s.as_str())).is_some(),
                "{s:?}"
            );
        }
        for r in [
            "customer_refused",
            "customer_limit_exceed",
            "transfer_fail",
            "unknown",
        ] {
            assert!(lookup(&format!("transfer.reason.{r}")).is_some(), "{r}");
        }
        for a in ["import_started", "import_finished"] {
            assert!(lookup(&format!("audit.{a}")).is_some(), "{a}");
        }
    }

    /// Every error code the server can answer has its own text in both languages, and the
    /// `err.<code>` keys the console names directly resolve through the same list.
    #[test]
    fn every_error_code_is_translated() {
        let (zh, en) = (Tr { lang: Lang::Zh }, Tr { lang: Lang::En });
        let generic = (zh.error("no_such_code"), en.error("no_such_code"));
        for c in error_codes::CODES {
            assert_eq!(zh.error(c.code), c.zh);
            assert_eq!(en.error(c.code), c.en);
            assert_ne!((zh.error(c.code), en.error(c.code)), generic, "{}", c.code);
            assert_eq!(zh.error_or(c.code, "fallback"), c.zh);
            assert_eq!(lookup(&format!("err.{}", c.code)), Some((c.zh, c.en)));
        }
        assert_eq!(zh.t("err.csrf"), "页面已过期，请刷新后重试");
        assert_eq!(en.t("err.generic"), "The request could not be completed");
        assert_eq!(zh.error_or("no_such_code", "fallback"), "fallback");
        assert_eq!(lookup("err.no_such_code"), None);
    }

    #[test]
    fn unknown_error_codes_fall_back() {
        let tr = Tr { lang: Lang::Zh };
        assert_eq!(tr.error("username_taken"), "用户名已被占用");
        assert_eq!(tr.error("no_such_code"), "请求无法完成");
        assert_eq!(Tr { lang: Lang::En }.role("guide"), "Guide");
    }
}
