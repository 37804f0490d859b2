//! The one list of labels for the codes the console shows: audit actions and the kinds of
//! their targets, timeline event kinds, order channels and statuses, job kinds, statuses and
//! phases, promotion operations, tag sources, and the fields of the JSON details (timeline
//! events, audit entries, auto-tag rule settings), each in Chinese and English.
//! `i18n::lookup` consults it first, the way `err.` keys consult the error codes; a test
//! checks that every code the application can write has its label here.

use serde_json::{Map, Value};

use super::i18n::{Lang, Tr};

/// `(zh, en)` for a code label key (`audit.<action>`, `event.<kind>`, `channel.<name>` …).
pub fn label(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        // --- audit actions (`yutang_app::audit::Action`) ---
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
        "audit.webhook_changed" => ("修改 Webhook", "Changed webhook"),
        "audit.webhook_auto_paused" => (
            "Webhook 因连续失败自动暂停",
            "Webhook paused after failures",
        ),
        "audit.inbound_source_changed" => ("修改订单接入", "Changed order source"),
        "audit.report_schedule_changed" => ("修改定时报表", "Changed a scheduled report"),
        "audit.messaging_changed" => ("群发变更", "Changed mass messaging"),
        "audit.admin_bootstrapped" => ("初始化管理员", "Bootstrapped admin"),
        "audit.customer_merged" => ("合并客户", "Merged customers"),
        "audit.phone_revealed" => ("查看完整手机号", "Revealed phone"),
        "audit.segment_saved" => ("保存人群", "Saved segment"),
        "audit.segment_deleted" => ("删除人群", "Deleted segment"),
        "audit.segment_exported" => ("导出人群", "Exported segment"),
        "audit.customers_exported" => ("导出客户列表", "Exported customer list"),
        "audit.audit_exported" => ("导出审计日志", "Exported audit log"),
        "audit.tags_changed" => ("修改客户标签", "Changed customer tags"),
        "audit.tags_bulk_changed" => ("批量打标签", "Bulk tagging"),
        "audit.tag_catalog_changed" => ("修改标签库", "Changed tag catalogue"),
        "audit.tag_rule_changed" => ("修改自动标签规则", "Changed auto-tag rule"),
        "audit.import_started" => ("开始导入", "Import started"),
        "audit.import_finished" => ("导入完成", "Import finished"),
        "audit.wecom_callback_replayed" => ("重放企业微信回调", "Replayed a WeCom callback"),
        "audit.wecom_job_retried" => ("重试企业微信任务", "Retried a WeCom job"),
        "audit.promotion_changed" => ("变更营销活动", "Changed a promotion"),
        "audit.channel_changed" => ("变更渠道或活码", "Changed a channel or live code"),
        "audit.acquisition_settings_changed" => ("修改归因设置", "Changed attribution settings"),
        "audit.points_changed" => ("积分设置或调整", "Changed points settings or a balance"),
        "audit.tier_program_changed" => ("修改会员等级", "Changed the membership tiers"),
        "audit.stored_value_changed" => ("储值变动", "Changed stored value"),
        "audit.member_gifts_changed" => ("修改会员礼", "Changed member gifts"),
        "audit.wecom_sync_started" => ("开始企业微信全量同步", "Started WeCom full sync"),
        "audit.wecom_settings_changed" => ("修改企业微信设置", "Changed WeCom settings"),
        "audit.wecom_connection_tested" => ("测试企业微信连接", "Tested WeCom connection"),
        "audit.wecom_transfer_started" => ("发起客户继承", "Started customer transfer"),
        // --- the kinds of audit targets (`kind:id`) ---
        "target.staff" => ("员工", "Staff"),
        "target.customer" => ("客户", "Customer"),
        "target.tag" => ("标签", "Tag"),
        "target.tag_group" => ("标签组", "Tag group"),
        "target.tag_rule" => ("自动标签规则", "Auto-tag rule"),
        "target.job" => ("后台任务", "Job"),
        "target.transfer" => ("客户继承", "Transfer"),
        "target.wecom_callback" => ("企业微信回调", "WeCom callback"),
        "target.wecom" => ("企业微信", "WeCom"),
        "target.segment" => ("人群", "Segment"),
        "target.token" => ("API 令牌", "API token"),
        "target.import" => ("导入", "Import"),
        "target.coupon_template" => ("优惠券", "Coupon"),
        "target.coupon" => ("已领优惠券", "Claimed coupon"),
        "target.flash_sale" => ("秒杀", "Flash sale"),
        "target.group_buy" => ("拼团", "Group-buy"),
        "target.media" => ("商品图片", "Product image"),
        "target.channel" => ("渠道", "Channel"),
        "target.live_code" => ("渠道活码", "Live code"),
        "target.referral" => ("邀请有礼活动", "Referral program"),
        "target.acquisition_settings" => ("归因设置", "Attribution settings"),
        "target.tier_program" => ("会员等级", "Membership tiers"),
        "target.inbound_source" => ("订单接入来源", "Order source"),
        "target.report_schedule" => ("定时报表", "Scheduled report"),
        "target.mass_message" => ("群发", "Mass message"),
        "target.messaging" => ("群发规则", "Messaging rules"),
        // --- promotion operations (the `op` of a `promotion_changed` entry) ---
        "promo.op.coupon_template.create" => ("新建优惠券", "Created a coupon"),
        "promo.op.coupon_template.update" => ("修改优惠券", "Updated a coupon"),
        "promo.op.coupon_template.publish" => ("发布优惠券", "Published a coupon"),
        "promo.op.coupon_template.archive" => ("归档优惠券", "Archived a coupon"),
        "promo.op.coupon_template.delete" => ("删除优惠券", "Deleted a coupon"),
        "promo.op.coupon_template.issue_segment" => ("向人群发券", "Issued a coupon to a segment"),
        "promo.op.coupon_template.issue_customers" => {
            ("向勾选的客户发券", "Issued a coupon to ticked customers")
        }
        "promo.op.coupon.revoke" => ("作废优惠券", "Revoked a coupon"),
        "promo.op.flash_sale.create" => ("新建秒杀", "Created a flash sale"),
        "promo.op.flash_sale.update" => ("修改秒杀", "Updated a flash sale"),
        "promo.op.flash_sale.publish" => ("发布秒杀", "Published a flash sale"),
        "promo.op.flash_sale.archive" => ("归档秒杀", "Archived a flash sale"),
        "promo.op.flash_sale.delete" => ("删除秒杀", "Deleted a flash sale"),
        "promo.op.group_buy.create" => ("新建拼团", "Created a group-buy"),
        "promo.op.group_buy.update" => ("修改拼团", "Updated a group-buy"),
        "promo.op.group_buy.publish" => ("发布拼团", "Published a group-buy"),
        "promo.op.group_buy.archive" => ("归档拼团", "Archived a group-buy"),
        "promo.op.group_buy.delete" => ("删除拼团", "Deleted a group-buy"),
        "promo.op.media.upload" => ("上传商品图片", "Uploaded a product image"),
        // The `op` of a `channel_changed` entry (channels and live codes, issue #19).
        "promo.op.channel.create" => ("新建渠道", "Created a channel"),
        "promo.op.channel.update" => ("修改渠道", "Updated a channel"),
        "promo.op.channel.archive" => ("归档渠道", "Archived a channel"),
        "promo.op.live_code.create" => ("新建渠道活码", "Created a live code"),
        "promo.op.live_code.update" => ("修改渠道活码", "Updated a live code"),
        "promo.op.live_code.archive" => ("归档渠道活码", "Archived a live code"),
        "promo.op.referral.create" => ("新建邀请有礼活动", "Created a referral program"),
        "promo.op.referral.update" => ("修改邀请有礼活动", "Updated a referral program"),
        "promo.op.referral.archive" => ("归档邀请有礼活动", "Archived a referral program"),
        // The `op` of an `inbound_source_changed` entry, once written as `inbound_source.<op>`.
        "promo.op.inbound_source.create" => ("新建订单接入来源", "Created an order source"),
        "promo.op.inbound_source.update" => ("修改订单接入来源", "Updated an order source"),
        "promo.op.inbound_source.update_secret" => (
            "修改订单接入来源（含 client_secret）",
            "Updated an order source and its client_secret",
        ),
        "promo.op.inbound_source.rotate_secret" => {
            ("轮换订单接入签名密钥", "Rotated an order source's secret")
        }
        "promo.op.inbound_source.delete" => ("删除订单接入来源", "Deleted an order source"),
        "promo.op.inbound_source.retry" => {
            ("重试订单接入消息", "Retried an order source's message")
        }
        // The `op` of a `report_schedule_changed` entry.
        "promo.op.report_schedule.create" => ("新建定时报表", "Created a scheduled report"),
        "promo.op.report_schedule.update" => ("修改定时报表", "Updated a scheduled report"),
        "promo.op.report_schedule.delete" => ("删除定时报表", "Deleted a scheduled report"),
        "promo.op.report_schedule.send_now" => ("立即发送定时报表", "Sent a scheduled report now"),
        // The `op` of a `messaging_changed` entry (群发, issue #21).
        "promo.op.messaging.settings" => ("修改群发规则", "Changed the messaging rules"),
        "promo.op.mass_message.create" => ("新建群发", "Created a mass message"),
        "promo.op.mass_message.cancel" => ("取消群发", "Cancelled a mass message"),
        "promo.op.mass_message.remind" => ("提醒导购发送群发", "Reminded guides of a mass message"),
        "jobs.kind_mass_message_prepare" => {
            ("群发：确定受众", "Mass message: deciding the audience")
        }
        "jobs.kind_mass_message_send" => {
            ("群发：创建导购任务", "Mass message: creating guides' tasks")
        }
        "jobs.kind_mass_message_track" => ("群发：读取发送结果", "Mass message: reading results"),
        "field.daily_cap" => ("每日上限", "Daily cap"),
        "field.weekly_cap" => ("每周上限", "Weekly cap"),
        "field.receipt_rule" => ("企业微信接收规则", "WeCom's receipt rule"),
        "field.opt_out_tag" => ("退订标签", "Opt-out tag"),
        "field.send_at" => ("发送时间", "Send time"),
        "field.reminded" => ("提醒导购数", "Guides reminded"),
        "field.image" => ("图片", "Image"),
        "field.pic_url" => ("图片地址", "Image URL"),
        // --- the journey engine (自动化旅程, issue #21 item 5): the `op` of its
        // `messaging_changed` entries, its target, job, timeline entry and trace details ---
        "promo.op.journey.create" => ("新建自动化旅程", "Created a journey"),
        "promo.op.journey.update" => ("修改自动化旅程（新版本）", "Edited a journey (new version)"),
        "promo.op.journey.activate" => ("启用自动化旅程", "Started a journey"),
        "promo.op.journey.pause" => ("暂停自动化旅程", "Paused a journey"),
        "promo.op.journey.archive" => ("归档自动化旅程", "Archived a journey"),
        "target.journey" => ("自动化旅程", "Journey"),
        "jobs.kind_journey_notify" => ("自动化旅程：通知导购", "Journey: notifying a guide"),
        "event.journey_signal" => ("自动化旅程信号", "Journey signal"),
        "field.journey_id" => ("自动化旅程", "Journey"),
        "field.step" => ("步骤", "Step"),
        "field.signal" => ("信号", "Signal"),
        "field.cause" => ("进入原因", "Entered because"),
        "field.until" => ("等到", "Until"),
        "field.matched" => ("符合条件", "Matched"),
        "field.mass_message_id" => ("群发", "Mass message"),
        // A journey's states (`yutang_core::journeys::STATUSES`).
        "journey.status.draft" => ("草稿", "Draft"),
        "journey.status.active" => ("进行中", "Active"),
        "journey.status.paused" => ("已暂停", "Paused"),
        "journey.status.archived" => ("已归档", "Archived"),
        // Its trigger kinds (`Trigger::kind`).
        "journey.trigger.event" => ("事件触发", "Event"),
        "journey.trigger.schedule" => ("定时触发", "Schedule"),
        "journey.trigger.group_schedule" => ("群SOP定时（客户群）", "Group SOP (customer groups)"),
        "journey.trigger.date" => ("客户日期触发", "Customer date"),
        "journey.trigger.segment_enter" => ("进入人群", "Entering a segment"),
        "journey.trigger.segment_leave" => ("离开人群", "Leaving a segment"),
        // Its step kinds (`Step::kind`), and the trace's own lines (entry, end, exit).
        "journey.step.wait" => ("等待", "Wait"),
        "journey.step.wait_until" => ("等到时刻", "Wait until a time"),
        "journey.step.branch" => ("条件分支", "Branch"),
        "journey.step.goto" => ("跳转", "Go to"),
        "journey.step.tag" => ("打标签", "Add a tag"),
        "journey.step.untag" => ("移除标签", "Remove a tag"),
        "journey.step.coupon" => ("发优惠券", "Issue a coupon"),
        "journey.step.task" => ("导购任务", "Guide task"),
        "journey.step.message" => ("群发消息", "Message"),
        "journey.step.group_message" => ("群消息", "Group message"),
        "journey.delivery.mass_message" => ("企业群发", "Group mass message"),
        "journey.delivery.owner_task" => ("群主待办", "Owner task"),
        "journey.step.notify" => ("通知导购", "Notify the guide"),
        "journey.step.webhook" => ("外部信号", "Webhook signal"),
        "journey.step.entry" => ("进入旅程", "Entered"),
        "journey.step.end" => ("走完旅程", "Reached the end"),
        "journey.step.exit" => ("离开旅程", "Left"),
        // What a step did (the trace's outcomes).
        "journey.outcome.entered" => ("已进入", "Entered"),
        "journey.outcome.waiting" => ("等待", "Waiting"),
        "journey.outcome.branched" => ("分支", "Branched"),
        "journey.outcome.done" => ("完成", "Done"),
        "journey.outcome.skipped" => ("跳过", "Skipped"),
        "journey.outcome.queued" => ("排队发送", "Queued to send"),
        "journey.outcome.sent" => ("已发送", "Sent"),
        "journey.outcome.quiet" => ("免打扰顺延", "Held for quiet hours"),
        "journey.outcome.paused" => ("暂停", "Paused"),
        "journey.outcome.exited" => ("已退出", "Exited"),
        "journey.outcome.failed" => ("失败", "Failed"),
        // Who may enter again (`Entry::as_str`).
        "journey.entry.once" => ("仅一次", "Once"),
        "journey.entry.cooldown" => ("冷却期后可再次进入", "Again after a cool-down"),
        "journey.entry.reentry" => ("可重复进入", "Every time"),
        // A run's states and why a run moved or stopped.
        "journey.run.active" => ("进行中", "In progress"),
        "journey.run.sending" => ("发送中", "Sending"),
        "journey.run.done" => ("已走完", "Finished"),
        "journey.run.exited" => ("已退出", "Exited"),
        "journey.run.failed" => ("失败", "Failed"),
        "journey.reason.quiet_hours" => ("免打扰时段", "Quiet hours"),
        "journey.reason.customer_gone" => ("客户已删除或被合并", "The customer is gone"),
        "journey.reason.runaway" => ("连续步骤过多被停止", "Stopped as a runaway"),
        "journey.reason.journey_archived" => ("旅程已归档", "The journey was archived"),
        "journey.reason.no_guide" => ("客户没有归属导购", "The customer has no guide"),
        "journey.reason.group_message_in_customer_journey" => (
            "群消息只用于群SOP，客户旅程中跳过",
            "A group message belongs to a group SOP; skipped in a customer journey",
        ),
        // A date trigger's customer dates, and the weekdays of a schedule (1 Monday … 7 Sunday).
        "journey.attr.birthday" => ("生日", "Birthday"),
        "journey.attr.first_order" => ("首单", "First order"),
        "journey.weekday.1" => ("周一", "Mon"),
        "journey.weekday.2" => ("周二", "Tue"),
        "journey.weekday.3" => ("周三", "Wed"),
        "journey.weekday.4" => ("周四", "Thu"),
        "journey.weekday.5" => ("周五", "Fri"),
        "journey.weekday.6" => ("周六", "Sat"),
        "journey.weekday.7" => ("周日", "Sun"),
        // --- timeline event kinds (`yutang_core::events::EventKind`) ---
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
        "event.tag_added" => ("打标签", "Tag added"),
        "event.tag_removed" => ("移除标签", "Tag removed"),
        "event.referred" => ("好友邀请", "Referral"),
        "event.tier_changed" => ("会员等级变化", "Tier changed"),
        "event.coupon_used" => ("使用优惠券", "Used a coupon"),
        "event.coupon_returned" => ("优惠券退回", "Coupon returned"),
        "event.coupon_expired" => ("优惠券过期", "Coupon expired"),
        "event.coupon_revoked" => ("优惠券作废", "Coupon revoked"),
        "event.coupon_reminder_queued" => ("优惠券到期提醒", "Coupon expiry reminder"),
        "event.flash_sale_claimed" => ("秒杀抢购", "Won a flash sale"),
        "event.flash_sale_paid" => ("秒杀支付", "Paid a flash sale"),
        "event.flash_sale_released" => ("秒杀超时释放", "Flash-sale hold released"),
        "event.group_buy_joined" => ("参与拼团", "Joined a group-buy"),
        "event.group_buy_confirmed" => ("拼团成功", "Group-buy confirmed"),
        "event.group_buy_refunded" => ("拼团失败退款", "Group-buy refunded"),
        // --- order statuses and channels (channels are free-form; these are the known ones) ---
        "order.paid" => ("已支付", "Paid"),
        "order.shipped" => ("已发货", "Shipped"),
        "order.completed" => ("已完成", "Completed"),
        "order.partially_refunded" => ("部分退款", "Partially refunded"),
        "order.refunded" => ("已退款", "Refunded"),
        "channel.store" => ("门店", "In store"),
        "channel.mini_program" => ("小程序", "Mini-program"),
        "channel.delivery" => ("外卖", "Delivery"),
        "channel.tmall" => ("天猫", "Tmall"),
        "channel.jd" => ("京东", "JD.com"),
        "channel.douyin" => ("抖音", "Douyin"),
        "channel.pos" => ("门店 POS", "POS"),
        "channel.app" => ("App", "App"),
        "channel.wechat_shop" => ("微信小店", "WeChat shop"),
        "channel.live" => ("直播", "Live stream"),
        "channel.youzan" => ("有赞", "Youzan"),
        // --- background jobs: kinds, statuses, the WeCom sync's phases ---
        "jobs.kind_bulk_tag" => ("批量打标签任务", "Bulk tagging job"),
        "jobs.kind_tag_rule_run" => ("规则运行任务", "Rule run"),
        "jobs.status_queued" => ("排队中", "Queued"),
        "jobs.status_running" => ("执行中", "Running"),
        "jobs.status_done" => ("已完成", "Done"),
        "jobs.status_failed" => ("失败", "Failed"),
        "jobs.kind_wecom_full_sync" => ("企业微信全量同步", "WeCom full sync"),
        "jobs.kind_wecom_transfer" => ("客户继承", "Customer transfer"),
        "jobs.kind_wecom_mark_tag" => ("同步企业微信标签", "WeCom tagging"),
        "jobs.kind_wecom_contact_details" => ("读取企业微信客户资料", "WeCom contact details"),
        "jobs.kind_coupon_issue" => ("批量发券", "Coupon issue"),
        "jobs.kind_coupon_expire" => ("优惠券过期", "Coupon expiry"),
        "jobs.kind_coupon_remind" => ("优惠券到期提醒", "Coupon reminder"),
        "jobs.kind_flash_hold_release" => ("秒杀超时释放", "Flash-sale release"),
        "jobs.kind_group_buy_deadline" => ("拼团到期", "Group-buy deadline"),
        "jobs.error" => ("任务出错（服务端记录）：", "The job failed (server log): "),
        "sync.phase.users" => ("读取导购", "Reading guides"),
        "sync.phase.contacts" => ("同步客户", "Contacts"),
        "sync.phase.groups" => ("同步客户群", "Groups"),
        "sync.phase.tags" => ("同步标签", "Tags"),
        "sync.phase.done" => ("已完成", "Finished"),
        // --- auto-tag rule kinds (`yutang_core::tags::RuleSpec`) ---
        "rules.kind_lifecycle" => (
            "生命周期（新客/活跃/沉睡/流失）",
            "Lifecycle (new/active/dormant/churned)",
        ),
        "rules.kind_rfm" => ("RFM 八类客户", "RFM classes"),
        "rules.kind_age_months" => ("月龄分段（按日期属性）", "Age in months (date attribute)"),
        "rules.kind_birthday_month" => ("本月生日", "Birthday this month"),
        "rules.kind_expression" => ("人群表达式", "Segment expression"),
        // --- where a tag, a claim or an event came from ---
        "source.manual" => ("手动", "Manual"),
        "source.bulk" => ("批量打标签", "Bulk tagging"),
        "source.rule" => ("自动规则", "Rule"),
        "source.import" => ("导入", "Import"),
        "source.wecom" => ("企业微信", "WeCom"),
        "source.channel" => ("渠道活码", "Channel"),
        "source.journey" => ("自动化旅程", "Journey"),
        "source.delete" => ("标签删除", "Tag deleted"),
        "source.claim" => ("客户领取", "Claimed"),
        "source.issue" => ("发放", "Issued"),
        "source.reward" => ("拉新奖励", "Acquisition reward"),
        "by.rule" => ("规则", "rule"),
        "by.token" => ("令牌", "token"),
        "actor.system" => ("系统", "System"),
        "merge.manual" => ("手动合并", "merged by hand"),
        "merge.shared identity" => ("身份标识相同", "shared identity"),
        "bool.true" => ("是", "yes"),
        "bool.false" => ("否", "no"),
        // --- the fields of JSON details ---
        "field.webhook_id" => ("Webhook", "Webhook"),
        // A draft kept by an order source (`inbound`): the message as received.
        "field.body" => ("消息内容", "Message body"),
        "field.header_kind" => ("消息类型（请求头）", "Type (header)"),
        "field.staff_id" => ("员工", "Staff"),
        "field.received_at" => ("接收时间", "Received at"),
        "field.occurred_at" => ("发生时间", "Occurred at"),
        "field.failures_in_a_row" => ("连续失败次数", "Failures in a row"),
        "field.order_id" => ("订单", "Order"),
        "field.external_id" => ("订单号", "Order no."),
        "field.refund_id" => ("退款单号", "Refund no."),
        "field.order_ref" => ("订单号", "Order no."),
        "field.amount_fen" => ("金额", "Amount"),
        "field.order_no" => ("订单号", "Order no."),
        "field.rule_id" => ("规则", "Rule"),
        "field.refunded_fen" => ("退还本金", "Principal returned"),
        "field.clawed_back_fen" => ("收回赠送金", "Gift clawed back"),
        "field.spend_id" => ("储值消费", "Stored-value spend"),
        "field.refund_no" => ("退款单号", "Refund no."),
        "field.principal_fen" => ("本金", "Principal"),
        "field.gift_fen" => ("赠送金", "Gift"),
        "field.min_top_up_fen" => ("充值门槛", "Top-up threshold"),
        "field.coupon_template_id" => ("优惠券模板", "Coupon template"),
        "field.mode" => ("发放时间", "When"),
        "field.price_fen" => ("价格", "Price"),
        "field.channel" => ("渠道", "Channel"),
        // The `referred` timeline entry (invite-a-friend).
        "field.program" => ("邀请活动", "Referral program"),
        "field.program_id" => ("活动 ID", "Program id"),
        "field.link" => ("邀请码", "Invite code"),
        "field.inviter_customer_id" => ("邀请人（客户 ID）", "Inviter (customer id)"),
        "field.inviter_staff_id" => ("邀请人（员工 ID）", "Inviter (staff id)"),
        "field.via" => ("绑定方式", "Bound via"),
        // A tracked link's open on the timeline (雷达).
        "field.material_id" => ("素材 ID", "Material id"),
        "field.tracked_link" => ("雷达链接", "Tracked link"),
        // Churn alerts (流失提醒, issue #23 item 4): the handling's audit entry, the message job.
        "audit.churn_alert_handled" => ("处理流失提醒", "Handled a churn alert"),
        "target.churn_alert" => ("流失提醒", "Churn alert"),
        "jobs.kind_churn_alert_notify" => ("流失提醒：通知员工", "Churn alert notice"),
        "field.note" => ("备注", "Note"),
        // Consultant choice and service ratings (issue #23 item 5): the choice's audit entry and
        // the two message jobs.
        "audit.consultant_changed" => ("客户选择专属顾问", "A customer chose their consultant"),
        "jobs.kind_rating_low_notify" => ("低分评价：通知店长", "Low rating notice"),
        "jobs.kind_consultant_chosen_notify" => ("专属顾问：通知导购", "Consultant chosen notice"),
        // A sign-in's audit detail: password or WeCom (issue #23 item 1).
        "field.method" => ("登录方式", "Sign-in method"),
        // The guide task inbox (导购待办, issue #21 item 6): its audit entries, timeline entries
        // and reminder job.
        "audit.guide_task_changed" => ("导购待办变更", "Changed a guide task"),
        "target.guide_task" => ("导购待办", "Guide task"),
        "promo.op.guide_task.create" => ("新建导购待办", "Created a guide task"),
        "promo.op.guide_task.done" => ("完成导购待办", "Completed a guide task"),
        "promo.op.guide_task.skip" => ("跳过导购待办", "Skipped a guide task"),
        "jobs.kind_guide_task_remind" => ("导购待办到期提醒", "Guide task reminder"),
        "event.guide_task_created" => ("导购待办：新建", "Guide task created"),
        "event.guide_task_done" => ("导购待办：已完成", "Guide task done"),
        "event.guide_task_skipped" => ("导购待办：已跳过", "Guide task skipped"),
        "field.task_id" => ("待办", "Task"),
        "field.due_at" => ("到期时间", "Due"),
        "field.forwarded" => ("转发后打开", "Opened after a forward"),
        "field.outcome" => ("结果", "Outcome"),
        "field.referral_id" => ("邀请记录 ID", "Referral id"),
        "field.store_id" => ("门店", "Store"),
        "field.status" => ("状态", "Status"),
        "field.state" => ("状态", "State"),
        "field.owner" => ("归属导购", "Owner"),
        "field.tag" => ("标签", "Tag"),
        "field.source" => ("来源", "Source"),
        "field.by" => ("操作方", "By"),
        // The `tier_changed` timeline entry and the tier program's audit entry.
        "field.tier" => ("会员等级", "Tier"),
        "field.tier_key" => ("等级标识", "Tier key"),
        "field.from_tier" => ("原等级", "From tier"),
        "field.direction" => ("变化", "Change"),
        "field.metric" => ("评定指标", "Metric"),
        "field.metric_value" => ("指标值", "Metric value"),
        "field.period_months" => ("保级周期（月）", "Held for (months)"),
        "field.grace_days" => ("宽限期（天）", "Grace (days)"),
        "field.tiers" => ("等级", "Tiers"),
        "field.replaced_by" => ("替换为", "Replaced by"),
        "field.chat_id" => ("群 ID", "Group id"),
        "field.group" => ("客户群", "Group"),
        "field.join_scene" => ("入群方式", "Join scene"),
        "field.group_buy_id" => ("拼团", "Group-buy"),
        "field.team_id" => ("团", "Team"),
        "field.leader" => ("团长", "Leader"),
        "field.inviter" => ("邀请人", "Invited by"),
        "field.claim_id" => ("领取记录", "Claim"),
        "field.coupon_ids" => ("优惠券", "Coupons"),
        "field.coupon_id" => ("优惠券", "Coupon"),
        "field.template_id" => ("优惠券", "Coupon"),
        "field.flash_sale_id" => ("秒杀", "Flash sale"),
        "field.hold_until" => ("保留至", "Held until"),
        "field.kind" => ("类型", "Kind"),
        // A product image's facts (the detail of `promo.op.media.upload`).
        "field.content_type" => ("格式", "Format"),
        "field.width" => ("宽（像素）", "Width (px)"),
        "field.height" => ("高（像素）", "Height (px)"),
        "field.size_bytes" => ("大小（字节）", "Size (bytes)"),
        "field.namespace" => ("应用 / 平台", "App / platform"),
        "field.from" => ("合并自客户", "Merged from customer"),
        "field.into" => ("合并到客户", "Merged into customer"),
        "field.reason" => ("原因", "Reason"),
        "field.points" => ("积分", "Points"),
        "field.balance" => ("积分余额", "Points balance"),
        "field.lots" => ("积分批次", "Points lots"),
        "field.userid" => ("导购企业微信 ID", "Guide's WeCom userid"),
        "field.name" => ("名称", "Name"),
        "field.guides" => ("导购数", "Guides"),
        "field.pool" => ("激励池", "Incentive pool"),
        "field.unallocated_fen" => ("未分配（分）", "Unallocated (fen)"),
        // The fields of acquisition details (a channel change's id; a welcome's attachments).
        "field.id" => ("ID", "ID"),
        "field.title" => ("标题", "Title"),
        "field.url" => ("链接", "URL"),
        "field.msgtype" => ("消息类型", "Message type"),
        "field.media_id" => ("素材 ID", "Media ID"),
        "field.pic_media_id" => ("封面素材 ID", "Cover media ID"),
        "field.appid" => ("小程序 AppID", "Mini-program AppID"),
        "field.page" => ("小程序页面", "Mini-program page"),
        "field.created" => ("新建", "Created"),
        "field.renamed" => ("重命名为", "Renamed to"),
        "field.deleted" => ("删除", "Deleted"),
        "field.untagged" => ("移除标签数", "Tags removed"),
        "field.color" => ("颜色", "Colour"),
        "field.add" => ("添加标签", "Tags added"),
        "field.remove" => ("移除标签", "Tags removed"),
        "field.customers" => ("客户数", "Customers"),
        "field.added" => ("新增", "Added"),
        "field.removed" => ("移除", "Removed"),
        "field.changes" => ("变更数", "Changes"),
        "field.enabled" => ("启用", "Enabled"),
        "field.expression" => ("表达式", "Expression"),
        "field.new_days" => ("新客天数", "New within (days)"),
        "field.active_days" => ("活跃天数", "Active within (days)"),
        "field.dormant_days" => ("沉睡天数", "Dormant within (days)"),
        "field.recency_days" => ("最近购买天数", "Recency (days)"),
        "field.frequency_min" => ("最少订单数", "Orders at least"),
        "field.monetary_min_fen" => ("最低消费", "Spend at least"),
        "field.attribute" => ("日期属性", "Date attribute"),
        "field.buckets" => ("分段", "Buckets"),
        "field.from_month" => ("起始月龄", "From month"),
        "field.to_month" => ("截止月龄", "To month"),
        "field.op" => ("操作", "Operation"),
        "field.period" => ("周期", "Period"),
        "field.segment_id" => ("人群", "Segment"),
        "field.job_id" => ("任务", "Job"),
        "field.rows" => ("行数", "Rows"),
        "field.phones_revealed" => ("含完整手机号", "Full phone numbers"),
        "field.handover" => ("原导购", "From guide"),
        "field.takeover" => ("接替导购", "To guide"),
        "field.from_staff_id" => ("原导购", "From guide"),
        "field.to_staff_id" => ("接替导购", "To guide"),
        "field.groups" => ("客户群数", "Groups"),
        "field.event" => ("事件", "Event"),
        "field.change_type" => ("变更类型", "Change type"),
        "field.attempts" => ("尝试次数", "Attempts"),
        "field.error" => ("错误", "Error"),
        "field.fields" => ("字段", "Fields"),
        "field.ok" => ("成功", "Succeeded"),
        "field.errcode" => ("错误码", "Error code"),
        "field.transfer_id" => ("客户继承", "Transfer"),
        "field.waiting" => ("等待中", "Waiting"),
        "field.skipped" => ("跳过", "Skipped"),
        "field.passed" => ("通过", "Passed"),
        "field.finding" => ("发现", "Finding"),
        "field.sent" => ("已发送", "Sent"),
        "field.refused" => ("被拒绝", "Refused"),
        // The filters of an export (customer list, audit log).
        "field.action" => ("动作", "Action"),
        "field.actor_id" => ("操作人 ID", "Actor id"),
        "field.q" => ("搜索", "Search"),
        "field.city" => ("城市", "City"),
        "field.member_level" => ("会员等级", "Member level"),
        "field.gender" => ("性别", "Gender"),
        "field.guide_id" => ("导购 ID", "Guide id"),
        "field.identity_kind" => ("身份类型", "Identity kind"),
        "field.min_orders" => ("最少订单数", "At least orders"),
        "field.sort" => ("排序", "Sort"),
        "field.file" => ("文件", "File"),
        "field.changed" => ("修改", "Changed"),
        "field.config" => ("设置", "Settings"),
        "field.detail" => ("详情", "Detail"),
        "field.customer_id" => ("客户", "Customer"),
        "field.discount_fen" => ("优惠", "Discount"),
        "field.external_userid" => ("企业微信外部联系人 ID", "WeCom external_userid"),
        "field.tag_id" => ("标签", "Tag"),
        "field.tags_added" => ("新增标签", "Tags added"),
        "field.tags_removed" => ("移除标签", "Tags removed"),
        "field.template" => ("优惠券", "Coupon"),

        "field.to" => ("变为", "To"),
        "field.valid_until" => ("有效期至", "Valid until"),
        "field.contacts" => ("客户", "Contacts"),
        "field.customer_tags_added" => ("客户新增标签", "Customer tags added"),
        "field.customer_tags_removed" => ("客户移除标签", "Customer tags removed"),
        "field.customers_created" => ("新建客户", "Customers created"),
        "field.follows" => ("跟进关系", "Follows"),
        "field.members_joined" => ("入群成员", "Members joined"),
        "field.members_left" => ("退群成员", "Members left"),
        "field.offset" => ("进度位置", "Offset"),
        "field.phase" => ("阶段", "Phase"),
        "field.runs" => ("运行次数", "Runs"),
        "field.tags" => ("标签", "Tags"),
        "field.tags.groups" => ("标签组", "Tag groups"),
        "field.tags.tags" => ("标签", "Tags"),
        "field.deleted_groups" => ("删除的标签组", "Tag groups deleted"),
        "field.deleted_tags" => ("删除的标签", "Tags deleted"),
        "field.unlinked_userids" => ("未关联员工的企业微信账号", "WeCom userids without staff"),
        "field.users" => ("企业微信导购", "WeCom guides"),
        "field.inserted" => ("新增", "Inserted"),
        "field.updated" => ("更新", "Updated"),
        "field.failed" => ("失败", "Failed"),
        "field.phones" => ("手机号数", "Phone numbers"),
        "field.username" => ("用户名", "Username"),
        "field.role" => ("角色", "Role"),
        "field.attribution_window_days" => ("归因窗口（天）", "Attribution window (days)"),
        "field.field" => ("字段", "Field"),
        "field.before" => ("原值", "Was"),
        "field.after" => ("新值", "Now"),
        "field.before_store_id" => ("原门店", "Was in store"),
        "field.display_name" => ("姓名", "Name"),
        "field.wecom_userid" => ("企业微信账号", "WeCom userid"),
        // --- the points mall (积分商城, issue #22) ---
        "audit.mall_changed" => ("变更积分商城", "Changed the points mall"),
        "target.mall_item" => ("积分商城商品", "Mall item"),
        "target.mall_exchange" => ("积分兑换单", "Mall exchange"),
        "jobs.kind_mall_expiry" => ("积分兑换超时未支付", "Unpaid mall exchanges expiry"),
        "points.source.mall" => ("积分商城", "Points mall"),
        // Points given with a top-up gift or a member gift (source_type `gift`).
        "points.source.gift" => ("赠送", "Gift"),
        "event.mall_exchanged" => ("积分兑换", "Exchanged points in the mall"),
        "event.mall_exchange_changed" => ("积分兑换单状态变化", "Mall exchange changed"),
        "promo.op.mall_item.create" => ("新建积分商城商品", "Created a mall item"),
        "promo.op.mall_item.update" => ("编辑积分商城商品", "Edited a mall item"),
        "promo.op.mall_item.archive" => ("下架归档积分商城商品", "Archived a mall item"),
        "promo.op.mall_exchange.pay" => ("兑换单已支付", "Exchange paid"),
        "promo.op.mall_exchange.ship" => ("兑换单发货", "Shipped an exchange"),
        "promo.op.mall_exchange.deliver" => ("兑换单签收", "Delivered an exchange"),
        "promo.op.mall_exchange.fulfil" => ("兑换单履约", "Fulfilled an exchange"),
        "promo.op.mall_exchange.cancel" => ("取消兑换单", "Cancelled an exchange"),
        "promo.op.mall_exchange.expire" => ("兑换单超时", "Exchange expired"),
        "mall.kind.coupon" => ("优惠券", "Coupon"),
        "mall.kind.gift" => ("实物礼品", "Physical gift"),
        "mall.kind.product" => ("商品", "Product"),
        "mall.state.awaiting_payment" => ("待支付", "Awaiting payment"),
        "mall.state.pending" => ("待发货", "Pending"),
        "mall.state.shipped" => ("已发货", "Shipped"),
        "mall.state.delivered" => ("已签收", "Delivered"),
        "mall.state.fulfilled" => ("已履约", "Fulfilled"),
        "mall.state.completed" => ("已完成", "Completed"),
        "mall.state.cancelled" => ("已取消", "Cancelled"),
        "mall.state.expired" => ("已超时", "Expired"),
        "field.cash_fen" => ("现金部分", "Cash part"),
        "field.exchange_id" => ("兑换单", "Exchange"),
        "field.exchange_state" => ("兑换状态", "Exchange state"),
        "field.expired" => ("已超时", "Expired"),
        "field.from_state" => ("原状态", "From state"),
        "field.to_state" => ("新状态", "To state"),
        "field.item_id" => ("商城商品", "Mall item"),
        "field.item_kind" => ("商品类型", "Item kind"),
        "field.on_sale" => ("上架", "On sale"),
        "field.points_price" => ("所需积分", "Points price"),
        "field.points_returned" => ("退回积分", "Points returned"),
        "field.stock" => ("库存", "Stock"),
        "field.cash_price_fen" => ("加付现金", "Cash part"),
        "field.per_customer_limit" => ("每人限兑", "Limit per customer"),
        "field.sku" => ("SKU", "SKU"),
        "field.image_url" => ("图片链接", "Image URL"),
        "field.payment_minutes" => ("支付时限（分钟）", "Payment window (minutes)"),
        "field.carrier" => ("快递公司", "Carrier"),
        "field.tracking_no" => ("快递单号", "Tracking number"),
        "field.limit" => ("每页条数", "Page size"),
        "field.starts_at" => ("开始时间", "Starts at"),
        "field.ends_at" => ("结束时间", "Ends at"),
        "field.description" => ("描述", "Description"),
        // --- the points ledger (积分, issue #22) ---
        "target.points" => ("积分", "Points"),
        "promo.op.settings" => ("修改积分设置", "Changed the points settings"),
        "promo.op.adjust" => ("手动调整积分", "Adjusted points by hand"),
        "jobs.kind_points_expiry" => ("积分过期", "Points expiry"),
        "field.earn_points_per_yuan" => ("每消费 1 元得积分", "Points earned per CNY"),
        "field.redeem_points_per_yuan" => ("多少积分抵 1 元", "Points that make 1 CNY"),
        "field.max_redeem_percent" => (
            "积分最多抵扣订单（%）",
            "Points may pay at most (% of an order)",
        ),
        "field.expiry" => ("积分有效期", "Points expire"),
        "field.expiry.days" => ("有效天数", "Days valid"),
        "field.rule" => ("规则", "Rule"),
        "field.days" => ("天数", "Days"),
        "field.Idempotency-Key" => ("幂等键", "Idempotency key"),
        "points.expiry.end_of_next_year" => ("次年年底过期", "At the end of the following year"),
        "points.expiry.days" => ("获得后固定天数过期", "A fixed number of days after earning"),
        "points.expiry.never" => ("永不过期", "Never"),
        "points.kind.earn" => ("获得", "Earned"),
        "points.kind.grant" => ("手动发放", "Granted"),
        "points.kind.reverse" => ("退款扣回", "Reversed (refund)"),
        "points.kind.settle" => ("补扣欠分", "Owed points settled"),
        "points.kind.deduct" => ("手动扣减", "Deducted"),
        "points.kind.redeem" => ("抵现使用", "Redeemed"),
        "points.kind.cancel" => ("撤销抵现退回", "Redemption cancelled"),
        "points.kind.expire" => ("过期", "Expired"),
        "points.kind.transfer_out" => ("合并转出", "Moved out (merge)"),
        "points.kind.transfer_in" => ("合并转入", "Moved in (merge)"),
        "points.account.customer" => ("客户积分", "Customers' points"),
        "points.account.issued" => ("品牌发放（负债）", "Issued by the brand (liability)"),
        "points.account.redeemed" => ("已使用", "Redeemed"),
        "points.account.expired" => ("已过期", "Expired"),
        "points.account.transfer" => ("合并中转", "Merge transfers"),
        "points.source.order" => ("订单", "Order"),
        "points.source.grant" => ("手动调整", "Manual adjustment"),
        // --- paid member cards (付费会员卡, issue #22) ---
        "audit.card_product_changed" => ("修改付费会员卡", "Changed a paid member card"),
        "audit.card_purchase_refunded" => ("退回会员卡购买", "Refunded a card purchase"),
        "audit.card_refund_acknowledged" => ("确认已退省钱差额", "Confirmed a card refund paid"),
        "event.card_purchased" => ("开通付费会员卡", "Bought a member card"),
        "event.card_renewed" => ("续费付费会员卡", "Renewed a member card"),
        "event.card_refunded" => ("会员卡已退款", "Member card refunded"),
        "event.card_settled" => ("会员卡周期结算", "Card period settled"),
        // Customer notes (跟进记录, issue #23 item 2): the timeline entry, the audit entry and
        // their detail.
        "event.note_added" => ("新增跟进记录", "Note added"),
        "audit.customer_note_added" => ("新增跟进记录", "Added a customer note"),
        "audit.incentive_pool_changed" => ("激励池变更", "Changed an incentive pool"),
        "field.note_id" => ("跟进记录 ID", "Note id"),
        "jobs.kind_card_settlement" => ("会员卡周期结算", "Card period settlement"),
        "jobs.kind_card_packs" => ("会员卡每月券包", "Member cards' monthly packs"),
        "jobs.kind_card_pack" => ("发放会员卡券包", "A member card's pack"),
        "promo.op.card.create" => ("新建付费会员卡", "Created a member card"),
        "promo.op.card.update" => ("修改付费会员卡", "Edited a member card"),
        "promo.op.card.archive" => ("停售付费会员卡", "Stopped selling a member card"),
        "target.card" => ("付费会员卡", "Member card"),
        "target.card_period" => ("会员卡周期", "Card period"),
        "target.card_refund" => ("会员卡退差", "Card refund"),
        "field.card" => ("会员卡", "Card"),
        "field.card_key" => ("会员卡标识", "Card key"),
        "field.key" => ("标识", "Key"),
        "field.paid_fen" => ("实付金额", "Paid"),
        "field.paid_at" => ("支付时间", "Paid at"),
        "field.ended_at" => ("结束于", "Ended at"),
        "field.period_days" => ("有效期（天）", "Period (days)"),
        "field.points_multiplier" => ("积分倍数（千分）", "Points multiplier (‰)"),
        "field.monthly_coupon_template_ids" => ("每月券包", "Monthly coupon pack"),
        "field.savings_guarantee" => ("省钱保障（不省退差价）", "Savings guarantee"),
        "field.savings_fen" => ("已省金额", "Saved"),
        "field.refund_fen" => ("应退差额", "Refund owed"),
        "field.member_savings" => ("会员价节省", "Member savings"),
        "points.source.redemption" => ("积分抵现", "Redemption"),
        "points.source.expiry" => ("积分过期", "Expiry"),
        "points.source.merge" => ("客户合并", "Customer merge"),
        "points.source.checkin" => ("签到", "Check-in"),
        "points.source.task" => ("任务", "Task"),
        "points.source.referral" => ("邀请有礼", "Referral"),
        "points.source.campaign" => ("营销活动", "Campaign"),
        "points.redemption.applied" => ("已抵扣", "Applied"),
        "points.redemption.cancelled" => ("已撤销", "Cancelled"),
        _ => return None,
    })
}

/// The label of `prefix` + `code` in the page's language, if there is one (this list, or a
/// label of the console's own such as a role).
fn code(tr: Tr, prefix: &str, code: &str) -> Option<&'static str> {
    super::i18n::lookup(&format!("{prefix}{code}")).map(|(zh, en)| match tr.lang {
        Lang::Zh => zh,
        Lang::En => en,
    })
}

/// A code's label, else the code itself (free-form values such as a new sales channel).
pub fn code_or_raw(tr: Tr, prefix: &str, value: &str) -> String {
    code(tr, prefix, value).map_or_else(|| value.to_owned(), str::to_owned)
}

/// Who did an audited thing: the system by its label, an API token as `令牌「name」`, a
/// person by name.
pub fn actor(tr: Tr, kind: &str, name: &str) -> String {
    match kind {
        "system" => code_or_raw(tr, "actor.", kind),
        "token" => {
            let name = name.strip_prefix("token:").unwrap_or(name);
            format!("{}「{name}」", code_or_raw(tr, "by.", kind))
        }
        _ => name.to_owned(),
    }
}

/// An audit target `kind:id` as `员工 #3`; other targets as they are.
pub fn target(tr: Tr, target: &str) -> String {
    match target.split_once(':') {
        Some((kind, id)) => match code(tr, "target.", kind) {
            Some(l) => format!("{l} #{id}"),
            None => target.to_owned(),
        },
        None => code_or_raw(tr, "target.", target),
    }
}

/// One piece of a detail: its field's label and the value as text; `code` marks a value that
/// is code or an outside id (a segment expression, a WeCom userid), shown as such.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub label: String,
    pub value: String,
    pub code: bool,
}

/// A JSON detail (a timeline event's, an audit entry's, an auto-tag rule's settings) as
/// readable parts (`label value`, shown joined by ` · `): money (`…_fen`) in yuan, codes by
/// their labels, times in Asia/Shanghai. A detail that is not a JSON object is one part as it
/// is; `skip` names fields the page shows elsewhere (a rule's kind).
pub fn describe(tr: Tr, detail: &str, skip: &[&str]) -> Vec<Part> {
    match serde_json::from_str::<Value>(detail) {
        Ok(Value::Object(map)) => {
            let mut parts = Vec::new();
            pairs(tr, &map, skip, "", &mut parts);
            parts
        }
        _ if detail.is_empty() => Vec::new(),
        _ => vec![Part {
            label: String::new(),
            value: detail.to_owned(),
            code: false,
        }],
    }
}

/// The fields that lead a detail, in this order; the others follow by name.
const LEADING: &[&str] = &[
    "op",
    "name",
    "created",
    "renamed",
    "deleted",
    "kind",
    "file",
    "username",
    "role",
    "tag",
    "external_id",
    "order_ref",
    "rows",
    "inserted",
    "updated",
    "skipped",
    "failed",
    "refund_id",
    "amount_fen",
    "price_fen",
    "channel",
    "status",
    "state",
    "owner",
    "source",
    "by",
    "new_days",
    "active_days",
    "dormant_days",
    "recency_days",
    "frequency_min",
    "monetary_min_fen",
];

/// The parts of an object; `parent` is the field holding it (`tags` of a sync's result), whose
/// own labels (`field.tags.groups`) come before the plain ones.
fn pairs(tr: Tr, map: &Map<String, Value>, skip: &[&str], parent: &str, out: &mut Vec<Part>) {
    let rank = |k: &str| {
        LEADING
            .iter()
            .position(|l| *l == k)
            .unwrap_or(LEADING.len())
    };
    let mut fields: Vec<(&String, &Value)> = map.iter().collect();
    fields.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then_with(|| a.0.cmp(b.0)));
    for (key, value) in fields {
        match value {
            Value::Null => continue,
            Value::Array(items) if items.is_empty() => continue,
            Value::String(s) if s.is_empty() => continue,
            // The settings of a rule and the detail of a promotion change read inline.
            Value::Object(inner) if key == "config" || key == "detail" => {
                pairs(tr, inner, skip, parent, out)
            }
            // The tag's path says which tag; its id adds nothing.
            _ if key == "tag_id" && map.contains_key("tag") => continue,
            _ if skip.contains(&key.as_str()) => continue,
            _ => out.push(Part {
                label: code(tr, "field.", &format!("{parent}.{key}"))
                    .or_else(|| code(tr, "field.", key))
                    .map_or_else(|| key.clone(), str::to_owned),
                value: value_text(tr, key, value),
                code: is_code(key),
            }),
        }
    }
}

/// Parts as one line of text (`label value · label value`).
pub fn line(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| {
            if p.label.is_empty() {
                p.value.clone()
            } else {
                format!("{} {}", p.label, p.value)
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn value_text(tr: Tr, key: &str, value: &Value) -> String {
    match value {
        Value::Bool(b) => code_or_raw(tr, "bool.", &b.to_string()),
        Value::Number(n) => match n.as_i64() {
            Some(fen) if key.ends_with("_fen") => format!("¥{}", yutang_core::money::Fen(fen)),
            Some(ms) if key.ends_with("_until") || key.ends_with("_at") => {
                yutang_core::time::Millis(ms).to_shanghai_string()
            }
            // A journey's step (stored from 0) as the console numbers steps, from 1.
            Some(i) if key == "step" => (i + 1).to_string(),
            Some(id) if is_reference(key) => format!("#{id}"),
            _ => n.to_string(),
        },
        Value::String(s) => string_text(tr, key, s),
        Value::Array(items) => items
            .iter()
            .map(|v| value_text(tr, key, v))
            .collect::<Vec<_>>()
            .join("、"),
        Value::Object(inner) => {
            let mut parts = Vec::new();
            pairs(tr, inner, &[], key, &mut parts);
            format!("（{}）", line(&parts))
        }
        Value::Null => String::new(),
    }
}

/// Fields whose values are code or outside ids (an expression, WeCom userids), shown as code.
fn is_code(key: &str) -> bool {
    [
        "expression",
        "users",
        "userid",
        "unlinked_userids",
        "chat_id",
        "wecom_userid",
        "finding",
    ]
    .contains(&key)
}

/// Fields whose numbers name a row (`#12`) rather than count something.
fn is_reference(key: &str) -> bool {
    key.ends_with("_id")
        || key.ends_with("_ids")
        || [
            "inviter",
            "from",
            "into",
            "add",
            "remove",
            "handover",
            "takeover",
            "opt_out_tag",
        ]
        .contains(&key)
}

fn string_text(tr: Tr, key: &str, s: &str) -> String {
    let prefixes: &[&str] = match key {
        "channel" => &["channel."],
        "status" => &["order.", "jobs.status_"],
        "state" => &["follow."],
        "source" => &["source."],
        "op" => &["promo.op."],
        // The messaging rules' WeCom receipt rule (`messaging_changed`).
        "receipt_rule" => &["msg.receipt_rule."],
        // The points settings' expiry rule (`points_changed`).
        "rule" => &["points.expiry."],
        "reason" => &["merge."],
        "kind" => &[
            "rules.kind_",
            "identity.",
            "jobs.kind_",
            "import.kind.",
            "transfer.",
        ],
        "role" | "before" | "after" => &["role.", "field."],
        "field" => &["field."],
        "event" => &["event."],
        "phase" => &["sync.phase."],
        // A `referred` entry: how the friend came and what became of the invitation.
        "via" => &["ref.via."],
        "outcome" => &["ref.status."],
        // The points mall's timeline and audit entries.
        "from_state" | "to_state" | "exchange_state" => &["mall.state."],
        "item_kind" => &["mall.kind."],
        // A `tier_changed` entry.
        "direction" => &["tier.direction."],
        "metric" => &["tier.metric."],
        // The setup checker's steps (`wecom_connection_tested`).
        "passed" | "failed" | "skipped" => &["check.step."],
        _ => &[],
    };
    if let Some(l) = prefixes.iter().find_map(|p| code(tr, p, s)) {
        return l.to_owned();
    }
    if (key == "by" || key == "replaced_by")
        && let Some((kind, name)) = s.split_once(':')
        && let Some(l) = code(tr, "by.", kind)
    {
        return format!("{l}「{name}」");
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yutang_app::wecom::sync::{Phase, SyncState};
    use yutang_core::events::EventKind;
    use yutang_core::orders::OrderStatus;
    use yutang_core::tags::TagSource;

    fn has(key: &str) {
        let (zh, en) = label(key).unwrap_or_else(|| panic!("no label for {key:?}"));
        assert!(!zh.is_empty() && !en.is_empty(), "{key}");
    }

    /// Every code the application can write has its label in the one list.
    #[test]
    fn every_code_has_a_label() {
        // The points ledger: entry kinds, accounts, sources, redemption states, expiry rules.
        use yutang_core::loyalty::points::{Account, EntryKind};
        for k in EntryKind::ALL {
            has(&format!("points.kind.{}", k.as_str()));
        }
        for a in Account::ALL {
            has(&format!("points.account.{}", a.as_str()));
        }
        // What the ledger writes as `source_type` (app::loyalty::points, EarnSource).
        for s in [
            "order",
            "grant",
            "redemption",
            "expiry",
            "merge",
            "checkin",
            "task",
            "referral",
            "campaign",
        ] {
            has(&format!("points.source.{s}"));
        }
        for s in ["applied", "cancelled"] {
            has(&format!("points.redemption.{s}"));
        }
        for r in ["end_of_next_year", "days", "never"] {
            has(&format!("points.expiry.{r}"));
        }
        has(&format!(
            "jobs.kind_{}",
            yutang_app::loyalty::points::EXPIRY_KIND
        ));
        // The points mall: kinds, states, audit ops, targets, its job and ledger source.
        use yutang_core::loyalty::mall::{ExchangeAction, ExchangeState, ItemKind};
        for k in ItemKind::ALL {
            has(&format!("mall.kind.{}", k.as_str()));
        }
        for st in ExchangeState::ALL {
            has(&format!("mall.state.{}", st.as_str()));
        }
        for a in ExchangeAction::ALL {
            has(&format!("promo.op.mall_exchange.{}", a.as_str()));
        }
        for op in ["create", "update", "archive"] {
            has(&format!("promo.op.mall_item.{op}"));
        }
        has("target.mall_item");
        has("target.mall_exchange");
        has("points.source.mall");
        has("event.mall_exchanged");
        has("event.mall_exchange_changed");
        has(&format!(
            "jobs.kind_{}",
            yutang_app::loyalty::mall::EXPIRY_KIND
        ));
        for a in yutang_app::audit::Action::ALL {
            has(&format!("audit.{}", a.as_str()));
        }
        for k in EventKind::CLIENT.into_iter().chain(EventKind::SYSTEM) {
            has(&format!("event.{}", k.as_str()));
        }
        for s in OrderStatus::ALL {
            has(&format!("order.{}", s.as_str()));
        }
        // The channels the demo, the docs and the importers use (channels are free-form).
        for c in [
            "store",
            "mini_program",
            "delivery",
            "tmall",
            "jd",
            "douyin",
            "pos",
        ] {
            has(&format!("channel.{c}"));
        }
        let kinds = [
            yutang_app::tags::BULK_TAG_KIND,
            yutang_app::tags::RULE_RUN_KIND,
            yutang_app::wecom::sync::FULL_SYNC_KIND,
            yutang_app::wecom::transfers::TRANSFER_KIND,
            yutang_app::wecom::tags::MARK_TAG_KIND,
            yutang_app::wecom::CONTACT_DETAILS_KIND,
        ];
        for k in kinds.into_iter().chain(yutang_app::promotions::JOB_KINDS) {
            has(&format!("jobs.kind_{k}"));
        }
        for s in ["queued", "running", "done", "failed"] {
            has(&format!("jobs.status_{s}"));
        }
        for p in [
            Phase::Users,
            Phase::Contacts,
            Phase::Groups,
            Phase::Tags,
            Phase::Done,
        ] {
            // A new phase fails to compile here until it is listed.
            match p {
                Phase::Users | Phase::Contacts | Phase::Groups | Phase::Tags | Phase::Done => {}
            }
            let s = SyncState {
                phase: p,
                ..SyncState::default()
            };
            has(&format!("sync.phase.{}", s.phase_name()));
        }
        for s in [
            TagSource::Manual,
            TagSource::Bulk,
            TagSource::Rule,
            TagSource::Import,
            TagSource::Wecom,
            TagSource::Channel,
            TagSource::Journey,
        ] {
            match s {
                TagSource::Manual
                | TagSource::Bulk
                | TagSource::Rule
                | TagSource::Import
                | TagSource::Wecom
                | TagSource::Channel
                | TagSource::Journey => {}
            }
            has(&format!("source.{}", s.as_str()));
        }
        for s in ["delete", "claim", "issue", "reward"] {
            has(&format!("source.{s}"));
        }
        for kind in ["coupon_template", "flash_sale", "group_buy"] {
            for op in ["create", "update", "archive", "delete"] {
                has(&format!("promo.op.{kind}.{op}"));
            }
            has(&format!("target.{kind}"));
        }
        for spec in [
            r#"{"kind":"lifecycle","new_days":1,"active_days":2,"dormant_days":3}"#,
            r#"{"kind":"rfm","recency_days":1,"frequency_min":1,"monetary_min_fen":1}"#,
            r#"{"kind":"age_months","attribute":"baby","buckets":[]}"#,
            r#"{"kind":"birthday_month","tag":"t"}"#,
            r#"{"kind":"expression","tag":"t","expression":"in_group"}"#,
        ] {
            let spec: yutang_core::tags::RuleSpec = serde_json::from_str(spec).unwrap();
            has(&format!("rules.kind_{}", spec.kind()));
        }
        // `messaging_changed` entries (群发): the ops and targets the messaging use cases write.
        for op in [
            "messaging.settings",
            "mass_message.create",
            "mass_message.cancel",
            "mass_message.remind",
        ] {
            has(&format!("promo.op.{op}"));
        }
        has("target.mass_message");
        has("target.messaging");
        // The journey engine: its audit ops, target, job, timeline entry, and every state,
        // trigger, step, outcome, entry rule and run state its pages show.
        for op in ["create", "update", "activate", "pause", "archive"] {
            has(&format!("promo.op.journey.{op}"));
        }
        has("target.journey");
        has(&format!("jobs.kind_{}", yutang_app::journeys::NOTIFY_KIND));
        has("event.journey_signal");
        for k in yutang_core::journeys::EXTRA_EVENT_KINDS {
            has(&format!("event.{k}"));
        }
        for s in yutang_core::journeys::STATUSES {
            has(&format!("journey.status.{s}"));
        }
        for k in [
            "event",
            "schedule",
            "group_schedule",
            "date",
            "segment_enter",
            "segment_leave",
        ] {
            has(&format!("journey.trigger.{k}"));
        }
        for d in [
            yutang_core::journeys::GroupDelivery::MassMessage,
            yutang_core::journeys::GroupDelivery::OwnerTask,
        ] {
            has(&format!("journey.delivery.{}", d.as_str()));
        }
        use yutang_core::journeys::{Entry, Step};
        for s in [
            Step::Wait { seconds: 60 },
            Step::WaitUntil {
                time: yutang_core::journeys::TimeOfDay(0),
            },
            Step::Branch {
                expression: String::new(),
                else_step: 0,
            },
            Step::Goto { step: 0 },
            Step::Tag { tag_id: 1 },
            Step::Untag { tag_id: 1 },
            Step::Coupon { template_id: 1 },
            Step::Task {
                title: String::new(),
                body: String::new(),
                material_id: None,
                due_hours: 1,
            },
            Step::Message {
                text: String::new(),
                attachments: Vec::new(),
            },
            Step::GroupMessage {
                text: String::new(),
                attachments: Vec::new(),
                material_id: None,
                delivery: yutang_core::journeys::GroupDelivery::OwnerTask,
            },
            Step::Notify {
                text: String::new(),
            },
            Step::Webhook {
                signal: String::new(),
            },
        ] {
            has(&format!("journey.step.{}", s.kind()));
        }
        for k in ["entry", "end", "exit"] {
            has(&format!("journey.step.{k}"));
        }
        for o in [
            "entered", "waiting", "branched", "done", "skipped", "queued", "sent", "quiet",
            "paused", "exited", "failed",
        ] {
            has(&format!("journey.outcome.{o}"));
        }
        for e in [Entry::Once, Entry::Cooldown { days: 1 }, Entry::Reentry] {
            has(&format!("journey.entry.{}", e.as_str()));
        }
        for s in ["active", "sending", "done", "exited", "failed"] {
            has(&format!("journey.run.{s}"));
        }
        for r in [
            "quiet_hours",
            "customer_gone",
            "runaway",
            "journey_archived",
            "no_guide",
            "group_message_in_customer_journey",
        ] {
            has(&format!("journey.reason.{r}"));
        }
        for a in ["birthday", "first_order"] {
            has(&format!("journey.attr.{a}"));
        }
        for d in 1..=7 {
            has(&format!("journey.weekday.{d}"));
        }
        // The guide task inbox: its audit ops, target, timeline entries and job.
        for op in ["create", "done", "skip"] {
            has(&format!("promo.op.guide_task.{op}"));
        }
        has("target.guide_task");
        for k in [
            "guide_task_created",
            "guide_task_done",
            "guide_task_skipped",
        ] {
            has(&format!("event.{k}"));
        }
        has(&format!(
            "jobs.kind_{}",
            yutang_app::guide_tasks::REMIND_KIND
        ));
        has("target.churn_alert");
        for k in [
            yutang_app::ratings::LOW_KIND,
            yutang_app::ratings::CHOSEN_KIND,
        ] {
            has(&format!("jobs.kind_{k}"));
        }
        has(&format!(
            "jobs.kind_{}",
            yutang_app::churn_alerts::NOTIFY_KIND
        ));
        for s in yutang_core::guide_tasks::Source::ALL {
            has(&format!("source.{}", s.as_str()));
        }
        for k in [
            yutang_app::messaging::PREPARE_KIND,
            yutang_app::messaging::SEND_KIND,
            yutang_app::messaging::TRACK_KIND,
        ] {
            has(&format!("jobs.kind_{k}"));
        }
        has("promo.op.coupon_template.issue_segment");
        has("promo.op.coupon_template.issue_customers");
        has("promo.op.coupon.revoke");
        // `channel_changed` entries: the ops the acquisition use cases write.
        for kind in ["channel", "live_code", "referral"] {
            for op in ["create", "update", "archive"] {
                has(&format!("promo.op.{kind}.{op}"));
            }
            has(&format!("target.{kind}"));
        }
        for t in [
            "staff",
            "customer",
            "tag",
            "tag_rule",
            "job",
            "transfer",
            "wecom_callback",
            "wecom",
            "segment",
            "token",
            "import",
            "coupon",
        ] {
            has(&format!("target.{t}"));
        }
    }

    /// The keys of the JSON objects the application writes (`json!({"key": …})` in app and
    /// store: timeline details, audit details, job results), read from the source.
    fn detail_keys() -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        walk(&crates.join("yutang-app/src"), &mut files);
        walk(&crates.join("yutang-store/src"), &mut files);
        let mut keys = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for part in text.split("json!(").skip(1) {
                let Some(open) = part.find('{') else { continue };
                if !part[..open].trim().is_empty() {
                    continue;
                }
                let (mut depth, mut end) = (0, part.len());
                for (i, c) in part.char_indices().skip(open) {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                let body = &part[open..end];
                for piece in body.split('"').collect::<Vec<_>>().windows(2) {
                    let (key, after) = (piece[0], piece[1]);
                    if !key.is_empty()
                        && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        && after.trim_start().starts_with(':')
                    {
                        keys.push(key.to_owned());
                    }
                }
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Every field of a JSON detail the application writes has its label.
    #[test]
    fn every_detail_field_has_a_label() {
        let keys = detail_keys();
        assert!(keys.len() > 60, "only {} keys found: {keys:?}", keys.len());
        for k in keys {
            has(&format!("field.{k}"));
        }
    }

    #[test]
    fn details_read_as_text() {
        let zh = Tr { lang: Lang::Zh };
        let en = Tr { lang: Lang::En };
        let order = r#"{"order_id":39,"external_id":"POS1","amount_fen":9900,"channel":"store","store_id":6}"#;
        assert_eq!(
            line(&describe(zh, order, &[])),
            "订单号 POS1 · 金额 ¥99.00 · 渠道 门店 · 订单 #39 · 门店 #6"
        );
        assert_eq!(
            line(&describe(en, order, &[])),
            "Order no. POS1 · Amount ¥99.00 · Channel In store · Order #39 · Store #6"
        );
        let tag = r#"{"by":"rule:RFM","source":"rule","tag":"RFM/重要价值客户","tag_id":24}"#;
        assert_eq!(
            line(&describe(zh, tag, &[])),
            "标签 RFM/重要价值客户 · 来源 自动规则 · 操作方 规则「RFM」"
        );
        let promo = r#"{"detail":{"name":"两人团"},"op":"group_buy.create"}"#;
        assert_eq!(
            line(&describe(zh, promo, &[])),
            "操作 新建拼团 · 名称 两人团"
        );
        let channel = r#"{"op":"live_code.archive","id":7,"name":"收银台"}"#;
        assert_eq!(
            line(&describe(zh, channel, &[])),
            "操作 归档渠道活码 · 名称 收银台 · ID 7"
        );
        assert_eq!(target(zh, "live_code:7"), "渠道活码 #7");
        let referred = r#"{"program":"邀好友","program_id":3,"link":"abcdefghjkmn","inviter_customer_id":5,"inviter_staff_id":null,"via":"add","outcome":"bound"}"#;
        assert_eq!(
            line(&describe(zh, referred, &[])),
            "邀请人（客户 ID） #5 · 邀请码 abcdefghjkmn · 结果 已绑定 · 邀请活动 邀好友 · 活动 ID #3 · 绑定方式 添加导购"
        );
        let rule = r#"{"kind":"rfm","recency_days":60,"frequency_min":1,"monetary_min_fen":9900}"#;
        assert_eq!(
            line(&describe(zh, rule, &["kind"])),
            "最近购买天数 60 · 最少订单数 1 · 最低消费 ¥99.00"
        );
        let expr = describe(zh, r#"{"expression":"in_group","tag":"已入群"}"#, &["kind"]);
        assert!(expr[1].code && expr[1].value == "in_group" && !expr[0].code);
        assert_eq!(line(&describe(zh, "plain text", &[])), "plain text");
        let sync = r#"{"phase":"done","cursor":"","tags":{"groups":2},"users":["lina"]}"#;
        let parts = describe(zh, sync, &[]);
        assert_eq!(
            line(&parts),
            "阶段 已完成 · 标签 （标签组 2） · 企业微信导购 lina"
        );
        assert!(parts[2].code);
        assert!(describe(zh, "", &[]).is_empty());
        assert_eq!(target(zh, "coupon_template:3"), "优惠券 #3");
        assert_eq!(actor(zh, "system", "system"), "系统");
        assert_eq!(actor(zh, "token", "token:pos"), "令牌「pos」");
        assert_eq!(actor(en, "staff", "王芳"), "王芳");
        let bulk = r#"{"add":[1],"remove":[],"customers":3}"#;
        assert_eq!(line(&describe(zh, bulk, &[])), "添加标签 #1 · 客户数 3");
        assert_eq!(target(en, "staff:1"), "Staff #1");
        assert_eq!(target(zh, "no_kind:1"), "no_kind:1");
        assert_eq!(code_or_raw(zh, "channel.", "tmall"), "天猫");
        assert_eq!(code_or_raw(zh, "channel.", "new_shop"), "new_shop");
    }
}
