//! The one list of error codes: every stable `code` an error can carry (in an API answer's
//! `{ "error": { "code": … } }`, an import row's error or an event's rejection), with its
//! Simplified Chinese and English text for the console.
//!
//! The codes are still written as literals where errors are built (`FieldError::new(field,
//! "invalid_phone", …)`); this list is what they are checked against:
//! `crates/yutang-core/tests/error_codes.rs` scans the sources of every crate and fails when a
//! constructed code is missing here (or a code here is constructed nowhere), the tests below
//! keep each entry well-formed, `yutang-web` asserts it in debug builds and lists the codes in
//! the OpenAPI document, and the console translates from here.
//!
//! To add a code: add one `e(code, zh, en)` line in alphabetical order.

/// One error code and its texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// Stable snake_case identifier, e.g. `username_taken`.
    pub code: &'static str,
    /// Simplified Chinese, for the console (the default language).
    pub zh: &'static str,
    /// English, for the console.
    pub en: &'static str,
}

const fn e(code: &'static str, zh: &'static str, en: &'static str) -> ErrorCode {
    ErrorCode { code, zh, en }
}

/// Every code the server can produce, sorted by code.
#[rustfmt::skip]
pub static CODES: &[ErrorCode] = &[
    e("already_exists", "该记录已存在", "It already exists"),
    e("already_in_group", "你已在这个团中", "You are already in this group"),
    e("amount_not_integer", "金额须为整数（单位：分）", "Amounts are whole fen; decimals are not accepted"),
    e("amount_out_of_range", "金额超出允许范围（0–1,000,000 元）", "The amount is out of range (0–1,000,000 CNY)"),
    e("amount_required", "请填写大于 0 的金额", "Enter an amount above 0"),
    e("attribute_key_taken", "该属性键已存在", "An attribute with this key exists"),
    e("attribute_type", "该属性的类型与值不符", "The attribute has another type"),
    e("backup_corrupt", "备份文件未通过完整性检查", "The backup failed its integrity check"),
    e("backup_engine", "此方式只能备份 SQLite；PostgreSQL 请用 pg_dump", "This backs up SQLite; use pg_dump for PostgreSQL"),
    e("backup_target_exists", "备份文件已存在，请换一个新文件名", "The backup file exists; choose a new file"),
    e("backup_target_path", "备份路径无效", "The backup path is not valid"),
    e("bad_batch", "批次数据不完整", "The batch is malformed"),
    e("bad_record", "已存记录无法读取", "A stored record cannot be read"),
    e("batch_too_large", "单批事件数量超出上限", "Too many events in one batch"),
    e("below_threshold", "订单金额未达门槛", "The order is below the threshold"),
    e("body_too_large", "请求内容过大", "The request body is too large"),
    e("buyer_unidentified", "消息中没有可识别买家的信息（手机号、有赞 open id 等）", "The message names no buyer (phone, Youzan open id …)"),
    e("callback_already_applied", "该回调已处理", "This callback was applied already"),
    e("card_period_closed", "该会员卡周期已结束并已结算", "This card period has ended and was settled"),
    e("channel_archived", "渠道已归档", "The channel is archived"),
    e("channel_immutable", "活码不能换到其他渠道：请归档后在新渠道下新建", "A code stays in its channel: archive it and create one in the other channel"),
    e("churn_alert_handled", "该流失提醒已处理，不能再更改", "This churn alert is already handled"),
    e("client_id_mismatch", "消息的 client_id 与此来源配置的不一致", "The message's client_id is not this source's"),
    e("code_kind_immutable", "活码创建后不能更改类型：请归档后新建", "A code keeps its type: archive it and create another"),
    e("concurrent_ingest", "该身份正被同时写入，请稍后重试", "This identity is being written at the same time; try again"),
    e("concurrent_merge", "这些客户正被同时合并，请刷新后重试", "These customers are being merged at the same time; reload and try again"),
    e("conflicting_change", "同一标签不能同时添加和移除", "A tag cannot be both added and removed"),
    e("conflicting_filters", "门店与导购只能选择其一", "Give a store or a guide, not both"),
    e("copy_failed", "数据库复制未完成", "The database copy did not complete"),
    e("copy_refused", "无法在这两个数据库之间复制", "These two databases cannot be copied between"),
    e("coupon_not_owned", "该优惠券属于其他客户", "The coupon belongs to another customer"),
    e("coupon_not_usable", "优惠券不可用", "The coupon cannot be used"),
    e("coupon_not_valid_now", "优惠券不在可用时间内", "The coupon is not valid at this time"),
    e("coupon_out_of_scope", "优惠券不适用于该渠道或门店", "The coupon cannot be used in this channel or store"),
    e("csrf_failed", "页面已过期，请刷新页面后重试", "The page expired: reload it and try again"),
    e("customer_in_progress", "同一客户正被另一条消息写入，请稍后重发", "Another copy is writing this customer; send again shortly"),
    e("customer_required", "须通过客户 ID、手机号或会员卡号指明客户", "Name the customer by id, phone or member number"),
    e("customer_token_expired", "客户令牌已过期，请重新获取", "The customer token has expired; get a new one"),
    e("customer_token_required", "需要客户令牌", "A customer token is required"),
    e("database_not_empty", "演示数据需要空数据库，当前数据库已有员工", "The demo needs an empty database"),
    e("detail_too_large", "详情内容不能超过 4 KiB", "The detail must be at most 4 KiB"),
    e("discount_exceeds_total", "优惠金额超过了订单商品总额", "The discount exceeds the sum of the lines"),
    e("due_at_past", "到期时间已过，请选择将来的时间", "The due time has passed; choose a later time"),
    e("duplicate_agent_id", "AgentId 重复", "An AgentId appears twice"),
    e("duplicate_group", "同一个群重复添加", "A group is listed twice"),
    e("duplicate_guide", "同一员工重复添加", "A guide is listed twice"),
    e("duplicate_in_batch", "同一批次中事件 ID 重复", "An event id appears twice in the batch"),
    e("duplicate_mapping", "两列映射到了同一字段", "Two columns map to the same field"),
    e("duplicate_tier", "两个会员等级的标识、名称或级别相同", "Two tiers have the same key, name or rank"),
    e("empty_batch", "请至少提交一个事件", "Send at least one event"),
    e("empty_change", "请选择要添加或移除的标签", "Choose tags to add or remove"),
    e("empty_content", "请填写文字或添加附件", "Write a text or add an attachment"),
    e("empty_reward", "礼品至少包含优惠券、积分或储值之一", "A gift must give a coupon, points or stored value"),
    e("event_id_reused", "该事件 ID 已用于另一条事件", "This event id was used for a different event"),
    e("external_id_reused", "该外部单号已用于另一笔订单", "This external id was used for a different order"),
    e("facts_table_engine", "事实表仅支持 PostgreSQL", "The facts table needs PostgreSQL"),
    e("file_required", "请选择要上传的文件", "Choose a file to upload"),
    e("file_too_large", "文件超过上传大小上限", "The file is over the upload limit"),
    e("folder_not_empty", "文件夹中还有素材，请先移走或归档", "The folder holds active materials; move or archive them first"),
    e("forbidden", "你的角色无权执行此操作", "Your role does not allow this action"),
    e("foreign_url", "只能为本站的页面签名", "Only this site's own pages are signed"),
    e("fractional_value", "积分须折合整分", "Points must be worth whole fen"),
    e("group_code_archived", "群活码已归档", "The group code is archived"),
    e("group_dismissed", "该客户群已解散", "The group is dismissed"),
    e("group_expired", "该团已过期", "The group has expired"),
    e("group_full", "该团已满员", "The group is full"),
    e("group_owned_by_rule", "该标签组由自动规则维护，请修改规则", "An auto-tag rule keeps this group; change the rule instead"),
    e("hold_not_active", "名额已不再保留（已支付或已超时释放）", "The claim is no longer held"),
    e("idempotency_key_reused", "该幂等键已用于另一请求", "This Idempotency-Key was used for a different request"),
    e("identity_conflict", "身份标识冲突，疑似两个不同的人", "Conflicting identities: these look like two people"),
    e("identity_required", "至少需要一个身份标识（手机号、unionid、openid 等）", "At least one identity is needed (phone, unionid, openid …)"),
    e("identity_taken", "该身份已属于其他客户", "This identity belongs to another customer"),
    e("image_too_large", "图片过大：最大 2 MiB，长宽各不超过 4096 像素", "The image is too large: at most 2 MiB and 4096 pixels a side"),
    e("import_busy", "该导入正在试运行或导入中", "This import is already being checked or run"),
    e("import_finished", "该导入已完成；如需重新导入请再次上传文件", "This import has finished; upload the file again to re-run it"),
    e("inconsistent_order", "同一订单号的行客户、渠道或时间不一致", "Rows of one order disagree on customer, channel or time"),
    e("insufficient_balance", "储值余额不足", "Insufficient stored-value balance"),
    e("insufficient_points", "积分不足", "Not enough points"),
    e("internal", "服务器内部错误，请查看服务器日志", "Internal error; see the server log"),
    e("invalid_action", "未知的操作类型", "Unknown action"),
    e("invalid_agent_id", "AgentId 须为数字", "An AgentId is digits"),
    e("invalid_amount", "金额须为整数（单位：分）", "The amount must be a whole number of fen"),
    e("invalid_api_base", "API 地址须为 http(s) 网址", "The API base must be an http(s) URL"),
    e("invalid_app_id", "请填写有赞应用的 client_id（字母和数字）", "Enter the Youzan app's client_id (letters and digits)"),
    e("invalid_appid", "小程序 AppID 须为 wx 加 16 位十六进制字符", "A mini-program appid is wx followed by 16 hex digits"),
    e("invalid_attachment", "附件不符合要求（链接标题 1–64 字节，描述不超过 512 字节）", "The attachment is not valid (a link's title is 1–64 bytes, its description at most 512)"),
    e("invalid_attribute_key", "属性键需为 1–40 个小写字母、数字或下划线，并以字母开头", "The key must be 1–40 of a–z, 0–9 and _, starting with a letter"),
    e("invalid_attribute_kind", "属性类型须为文本、数字、日期或枚举", "The kind must be text, number, date or enum"),
    e("invalid_attribute_value", "属性值无效", "Invalid attribute value"),
    e("invalid_audience", "参与人群设置有误", "Invalid audience"),
    e("invalid_cadence", "报表周期需为每日（daily）或每周（weekly）", "The cadence is daily or weekly"),
    e("invalid_callback_public_url", "公网回调地址须为 http(s) 网址，例如 https://scrm.example.com/wecom/callback", "The public callback URL must be an http(s) URL such as https://scrm.example.com/wecom/callback"),
    e("invalid_callback_token", "Token 须为 1–128 个可见字符，不含空格", "The Token is 1–128 visible characters without spaces"),
    e("invalid_cap", "频次上限须为正数，且每周上限不小于每日上限", "A cap is a positive number and the weekly cap is at least the daily one"),
    e("invalid_card_key", "会员卡标识须为 1–32 位小写字母、数字或下划线", "A card key is 1–32 lowercase letters, digits or _"),
    e("invalid_channel", "渠道需为 1–32 个小写字母、数字或下划线", "The channel must be 1–32 of a–z, 0–9 and _"),
    e("invalid_channel_kind", "渠道类型无效", "Unknown channel type"),
    e("invalid_characters", "不能包含控制字符(只允许制表符和换行)", "Must not contain control characters (only tabs and line breaks)"),
    e("invalid_chat_id", "群 ID 须为 1–128 个可见 ASCII 字符", "A group chat id is 1–128 visible ASCII characters"),
    e("invalid_clear", "该项不能清除", "This setting cannot be cleared"),
    e("invalid_client_secret", "client_secret 应为 8–128 个可见字符，与有赞云控制台显示的一致", "The client_secret is 8–128 printable characters, as Youzan Cloud shows it"),
    e("invalid_code_kind", "活码类型只能是二维码或获客链接", "The type is contact_way or link"),
    e("invalid_color", "颜色格式应为 #1677ff", "Colour must look like #1677ff"),
    e("invalid_consultant", "请选择您所在门店的在职导购", "Choose an active guide of your store"),
    e("invalid_cooldown", "冷却天数须为 1–3650 天", "A cool-down is 1–3,650 days"),
    e("invalid_corp_id", "企业 ID 须为字母或数字，如 ww1234567890abcdef", "The corp id is letters and digits, e.g. ww1234567890abcdef"),
    e("invalid_count", "数量超出范围", "Number out of range"),
    e("invalid_credentials", "用户名或密码错误", "Wrong username or password"),
    e("invalid_cursor", "分页位置无效或不属于当前排序，请从第一页重新翻页", "The page position is not valid for this list and sort: start again from the first page"),
    e("invalid_customer_token", "客户令牌无效", "The customer token is not valid"),
    e("invalid_date", "日期格式应为 YYYY-MM-DD", "Date must be YYYY-MM-DD"),
    e("invalid_days", "天数须在 1–90 之间", "Days are 1–90"),
    e("invalid_detail", "详情须为 JSON 对象", "The detail must be a JSON object"),
    e("invalid_discount", "会员折扣须为 0–50%", "A member discount is 0–50 percent off"),
    e("invalid_encoding_aes_key", "EncodingAESKey 须为 43 位字母或数字", "EncodingAESKey must be 43 letters and digits"),
    e("invalid_event", "事件格式无效", "The event is malformed"),
    e("invalid_event_id", "事件 ID 需为 1–64 个可见 ASCII 字符", "The event id must be 1–64 visible ASCII characters"),
    e("invalid_exchange_transition", "兑换单当前状态不能执行该操作", "The exchange cannot make this move in its current state"),
    e("invalid_expiry", "有效天数需在 1–3650 之间", "Validity must be 1–3650 days"),
    e("invalid_expression", "人群条件须为 1–4000 字节的分群表达式", "A segment expression of 1–4,000 bytes"),
    e("invalid_external_id", "外部单号需为 1–64 个可见 ASCII 字符", "The id must be 1–64 visible ASCII characters"),
    e("invalid_field", "字段值无效", "A field has an invalid value"),
    e("invalid_follow_state", "未知的跟进状态", "Unknown follow state"),
    e("invalid_form", "表单内容无效", "The form is invalid"),
    e("invalid_format", "格式须为通用签名（generic）或有赞（youzan）", "Format must be generic or youzan"),
    e("invalid_gender", "性别须为女、男或未知", "Gender must be female, male or unknown"),
    e("invalid_gift_kind", "礼品类型须为生日或入会周年", "The gift kind is birthday or anniversary"),
    e("invalid_gift_mode", "发放方式须为当月或当天", "The mode is month or day"),
    e("invalid_group", "分组须为 staff 或 store", "Group by staff or store"),
    e("invalid_holdout", "对照组比例须在 0–50% 之间", "A holdout is 0–50% of the audience"),
    e("invalid_hour", "发送时间需为 0–23 点（北京时间）", "The hour is 0–23 (Asia/Shanghai)"),
    e("invalid_id", "ID 须为数字", "The id must be a number"),
    e("invalid_idempotency_key", "幂等键需为 1–100 个可打印 ASCII 字符", "The Idempotency-Key must be 1–100 printable ASCII characters"),
    e("invalid_identity_kind", "未知的身份类型", "Unknown identity kind"),
    e("invalid_identity_value", "身份值需为 1–128 个字符，且不含空格", "The identity value must be 1–128 characters without spaces"),
    e("invalid_ids", "客户 ID 名单有误", "The list of customer ids is invalid"),
    e("invalid_image", "图片须为完整的 PNG、JPEG 或 WebP 文件", "The image must be a whole PNG, JPEG or WebP file"),
    e("invalid_import_kind", "请选择客户或订单", "Choose customers or orders"),
    e("invalid_item_kind", "商品类型须为优惠券、实物礼品或商品", "The kind must be coupon, gift or product"),
    e("invalid_journey_steps", "旅程须有 1–50 个步骤", "A journey has 1–50 steps"),
    e("invalid_json", "消息不是有效的 JSON", "The message is not valid JSON"),
    e("invalid_kind", "事件类型只能用小写字母、数字、_ 和 .（或 * 表示全部）", "Event kinds use a-z, 0-9, _ and . (or * for all)"),
    e("invalid_lang", "未知的语言，请用 zh 或 en", "Unknown language; use zh or en"),
    e("invalid_level", "范围须为 store、region 或 brand", "The level is store, region or brand"),
    e("invalid_list", "请填写 ID 列表或 all", "Give a list of ids or all"),
    e("invalid_material_kind", "素材类型须为海报、图片、文字、链接或小程序", "The kind is poster, image, text, link or miniprogram"),
    e("invalid_message_id", "消息 ID 应为 1–128 个可见 ASCII 字符", "The message id is 1–128 printable ASCII characters"),
    e("invalid_metric", "不支持的指标", "Unknown or unsupported metric"),
    e("invalid_month", "月份格式应为 YYYY-MM（2000–2099 年）", "A month is YYYY-MM (2000–2099)"),
    e("invalid_month_range", "统计区间须为 1–24 个月，且开始月份不晚于结束月份", "The period is 1–24 months, from on or before to"),
    e("invalid_msg", "有赞消息的 msg 无法解码", "The Youzan message's msg cannot be decoded"),
    e("invalid_multiplier", "倍数超出范围", "Multiplier out of range"),
    e("invalid_name", "名称需为 1–40 个字符", "Name must be 1–40 characters"),
    e("invalid_namespace", "应用 ID 需为 1–32 个字母、数字、_ 或 -", "The app id must be 1–32 letters, digits, _ or -"),
    e("invalid_note_text", "跟进记录只能包含文字和换行，不能有其他控制字符", "A note may contain line breaks but no other control character"),
    e("invalid_number", "须为整数", "A whole number is required"),
    e("invalid_offset", "偏移天数须在 −30 到 366 天之间", "The offset is −30 to 366 days"),
    e("invalid_options", "请至少填写一个选项", "Give at least one option"),
    e("invalid_order_status", "订单状态无效", "Invalid order status"),
    e("invalid_page", "页码须大于等于 1", "The page must be 1 or more"),
    e("invalid_page_path", "小程序页面路径不能为空、不能含空格，最多 256 字节", "The page path is 1–256 bytes without spaces"),
    e("invalid_page_size", "每页条数超出范围", "The page size is out of range"),
    e("invalid_period", "统计区间须为 1–366 天，且开始日期不晚于结束日期", "The period is 1–366 days, from on or before to"),
    e("invalid_phone", "手机号格式不正确", "Invalid phone number"),
    e("invalid_points", "积分须为正整数", "Points must be a positive whole number"),
    e("invalid_quantity", "数量须为正整数", "Quantity must be a whole number"),
    e("invalid_query", "查询参数无效", "Invalid query parameters"),
    e("invalid_quiet_hours", "免打扰时段的开始与结束须不同", "Quiet hours start and end at different times"),
    e("invalid_rate", "折扣须在 1–999 之间", "Rate must be 1–999"),
    e("invalid_receipt_rule", "企业微信接收规则须为：每月按天数、每周 7 条或每天 1 条", "WeCom's receipt rule is month_days, weekly_7 or daily_1"),
    e("invalid_referral_status", "状态须为 bound、qualifying、rewarded、disqualified 或 refused", "The status is bound, qualifying, rewarded, disqualified or refused"),
    e("invalid_role", "未知角色", "Unknown role"),
    e("invalid_rule", "规则配置无效", "Invalid rule configuration"),
    e("invalid_scene", "场景只能是二维码或小程序", "The scene is qr or mini_program"),
    e("invalid_schedule", "定时须为“每周几 + 时间”或一个具体时间", "A schedule is weekdays and a time, or one instant"),
    e("invalid_score", "评分须为 1–5 的整数", "The score is a whole number from 1 to 5"),
    e("invalid_secret", "Secret 不能含空格，最多 256 个字符", "A secret has no spaces and at most 256 characters"),
    e("invalid_senders", "请选择发表的导购，或选择全部导购（不能同时）", "Pick guides, or all guides (not both)"),
    e("invalid_shares", "个人与团队分配比例须为 0–100 的整数且合计 100%", "The individual and team shares are whole percents summing to 100"),
    e("invalid_sku", "SKU 需为 1–64 个字符", "The SKU must be 1–64 characters"),
    e("invalid_sort", "排序方式无效", "Unknown sort order"),
    e("invalid_source", "来源须为 manual 或 journey", "The source is manual or journey"),
    e("invalid_spread", "分配方式只能是平均或按权重", "Spread is even or weighted"),
    e("invalid_status", "未知状态", "Unknown status"),
    e("invalid_step", "步骤设置有误", "Invalid step"),
    e("invalid_steps", "优惠设置有误（门槛须递增，减免须低于门槛）", "Invalid coupon steps"),
    e("invalid_stock", "库存须为不小于 0 的整数", "Stock must be a whole number of at least 0"),
    e("invalid_store_code", "门店编码需为 1–32 位字母、数字、- 或 _", "Store code must be 1–32 letters, digits, '-' or '_'"),
    e("invalid_subject_kind", "评价对象须为 task 或 order", "The subject is task or order"),
    e("invalid_text", "文字过长或包含控制字符", "Text too long or contains control characters"),
    e("invalid_tier_key", "等级标识只能是小写字母、数字或下划线", "A tier key is lowercase letters, digits or _"),
    e("invalid_time", "时间格式无效", "Invalid time"),
    e("invalid_time_of_day", "时间须为 HH:MM", "A time of day is HH:MM"),
    e("invalid_transfer_kind", "请选择在职继承或离职继承", "Choose in-service or departed-staff transfer"),
    e("invalid_transition", "订单当前状态不能变更为该状态", "The order cannot move to this status"),
    e("invalid_ttl", "有效时长超出范围", "The lifetime is out of range"),
    e("invalid_url", "链接必须是 http(s) 地址", "Must be an http(s) URL"),
    e("invalid_username", "用户名需为 3–32 位小写字母、数字或 . _ -", "Username must be 3–32 characters of a–z, 0–9, '.', '_' or '-'"),
    e("invalid_validity", "有效期设置有误", "Invalid validity"),
    e("invalid_wait", "等待时长须为 60 秒到 366 天", "A wait is 60 seconds to 366 days"),
    e("invalid_wecom_userid", "企业微信账号需为 1–64 个字母、数字或 _ - . @", "The WeCom userid must be 1–64 letters, digits, _, -, . or @"),
    e("invalid_weekday", "星期只能是 1（周一）到 7（周日）", "Weekdays are 1 (Monday) to 7 (Sunday)"),
    e("invalid_weekdays", "请选择周一到周日中的至少一天", "Pick at least one weekday, Monday to Sunday"),
    e("invalid_window", "结束时间须晚于开始时间", "The end must be after the start"),
    e("invalid_yuan", "金额格式有误：以元为单位，最多两位小数，如 12.50", "Enter the amount in CNY with at most two decimals, e.g. 12.50"),
    e("item_off_sale", "该商品当前未上架", "The item is not on sale now"),
    e("job_not_failed", "该任务未失败，无需重试", "This job has not failed"),
    e("journey_cycle", "步骤形成了没有等待的循环", "A loop of steps passes no wait"),
    e("journey_state", "旅程当前状态不能执行该操作", "The journey's state does not allow this"),
    e("last_admin", "这是最后一个在职管理员，请先创建另一个管理员", "This is the last active admin; create another admin first"),
    e("leader_discount_too_high", "团长优惠须低于活动价", "The leader discount must be below the price"),
    e("ledger_conflict", "积分账目在处理中被改动，请重试", "The points ledger changed under the batch; retry"),
    e("limit_reached", "已达每人上限", "Limit per customer reached"),
    e("live_code_archived", "活码已归档", "The live code is archived"),
    e("locked_by_config", "该项由配置文件或环境变量设定，请在那里修改", "This is set in the configuration file or environment; change it there"),
    e("malformed_json", "请求内容不是有效的 JSON", "The body is not valid JSON"),
    e("malformed_row", "该行格式错误（列数不符或编码无效）", "Malformed row (cell count or encoding)"),
    e("material_archived", "该素材已归档，不能再发送", "The material is archived and cannot be sent"),
    e("merge_cycle", "客户合并链过长", "The customer merge chain is too long"),
    e("message_not_scheduled", "该群发已开始发送或已取消，不能再取消", "The message is no longer scheduled"),
    e("message_not_sent", "该群发尚未发出，不能提醒", "The message has not been sent yet"),
    e("message_not_supported", "离职继承不支持给客户的话", "Departed-staff transfers take no message"),
    e("message_too_long", "给客户的话最多 200 个字", "The message is at most 200 characters"),
    e("missing_field", "必填字段为空", "A required field is empty"),
    e("moment_busy", "朋友圈任务正在创建中，请稍后再试", "The moments task is being created in WeCom; try again shortly"),
    e("namespace_not_allowed", "该身份类型不需要应用 ID", "This identity kind has no app id"),
    e("namespace_required", "该身份类型需要填写应用 ID", "This identity kind needs an app id"),
    e("negative_amount", "金额不能为负数", "The amount must not be negative"),
    e("nested", "条件有嵌套，可视化编辑器无法显示，请直接编辑文本", "The conditions are nested; the builder cannot show them, edit the text"),
    e("no_header", "第一行须为列名", "The first row must name the columns"),
    e("no_kinds", "请至少选择一种事件类型，或选择全部", "Pick at least one event kind, or all"),
    e("no_lines", "订单至少需要一行商品", "An order needs at least one line"),
    e("no_recipients", "请至少选择一位接收人", "Choose at least one recipient"),
    e("no_wecom_userid", "请先为该员工绑定企业微信账号", "Link this staff member to WeCom first"),
    e("not_a_guide", "接替人须为在职的导购或店长", "The receiving staff member must be an active guide or store manager"),
    e("not_a_wecom_contact", "所选客户都不是该导购的企业微信好友，无法转接", "No ticked customer is the guide's WeCom contact; nothing to transfer"),
    e("not_a_wecom_staff", "员工未启用或未关联企业微信账号", "The staff member is disabled or not linked to a WeCom account"),
    e("not_allowed", "此类来源不适用该字段", "This field does not apply to this kind of source"),
    e("not_found", "找不到该记录", "Not found"),
    e("not_generic", "有赞来源使用应用的 client_secret 验签：请在设置中填写新的 client_secret", "A Youzan source verifies with the app's client_secret: set a new one in its settings"),
    e("not_in_audience", "不在活动人群中", "Not in the audience"),
    e("not_transferable", "所选客户或客户群不属于原导购", "A chosen customer or group does not belong to the departing guide"),
    e("nothing_to_transfer", "原导购没有可转交的企业微信客户或客户群", "Nothing to transfer"),
    e("off_not_below_threshold", "减免金额须低于使用门槛（如 满99减20）", "The amount off must be below the threshold (e.g. 20 off 99)"),
    e("one_inviter", "请只填写一个邀请人：员工 staff_id 或客户 customer_id", "Give exactly one inviter: staff_id or customer_id"),
    e("order_closed", "该订单在支付前已关闭", "This order was closed before it was paid"),
    e("order_in_progress", "该订单正在处理中，请稍后重试", "This order is being processed; try again shortly"),
    e("order_not_created", "尚未收到该订单的创建消息：请先发送 order.created，或在 order.paid 中带上完整订单", "This order was never created: send order.created first, or the whole order with order.paid"),
    e("order_not_yet_received", "尚未收到该订单，请稍后重发", "This order has not been received yet; send again later"),
    e("order_refunded", "订单已全额退款", "The order was fully refunded"),
    e("out_of_stock", "库存不足", "Sold out"),
    e("outside_scope", "部分客户不在你的数据范围内，未做任何修改", "Some customers are outside your data scope; nothing was changed"),
    e("over_redeem_share", "积分抵扣超出订单上限", "Points exceed the share of the order they may pay"),
    e("password_too_long", "密码过长", "Password is too long"),
    e("password_too_short", "密码至少 10 个字符", "Password must have at least 10 characters"),
    e("period_not_over", "周期尚未结束，不能结算", "The period has not ended yet; it cannot be settled"),
    e("pool_not_settled", "激励池结算后才能导出", "Settle the incentive pool before exporting it"),
    e("pool_settled", "激励池已结算，不能修改", "The incentive pool is settled and cannot change"),
    e("poster_font_missing", "服务器缺少中文字体，无法生成海报：请安装 fonts-noto-cjk，或在配置 acquisition.poster_font 中填写字体路径", "No CJK font on the server for the poster: install fonts-noto-cjk or set acquisition.poster_font"),
    e("private_target", "不能推送到本机、内网或链路本地地址", "Loopback, private and link-local addresses are not allowed"),
    e("program_archived", "邀请有礼活动已归档，不能再修改", "The referral program is archived"),
    e("program_not_running", "邀请有礼活动未在进行中（未开始、已结束或已归档）", "The referral program is not running (not started, ended or archived)"),
    e("promotion_archived", "优惠券已归档，无法发放", "The coupon is archived and can no longer be issued"),
    e("promotion_draft", "活动尚未发布（草稿），请先发布", "The promotion is a draft; publish it first"),
    e("promotion_ended", "活动已结束", "The promotion has ended"),
    e("promotion_inactive", "活动已删除", "The promotion was deleted"),
    e("promotion_not_started", "活动尚未开始", "The promotion has not started"),
    e("qr_not_stored", "二维码图片尚未保存：活码同步成功后自动下载，失败会在下次同步时重试", "The QR image is not stored yet: it is fetched once the code is synced, and retried at the next sync"),
    e("rating_exists", "您已评价过，不能再修改", "You rated this already"),
    e("refund_exceeds_paid", "退款总额不能超过实付金额", "Refunds would exceed the paid amount"),
    e("refund_exceeds_spend", "退款超过消费剩余金额", "The refund exceeds what is left of the spend"),
    e("refund_id_reused", "该退款单号已用于其他订单或金额", "This refund id was used for another order or amount"),
    e("refund_in_progress", "该退款正在处理中，请稍后重试", "This refund is being processed; try again shortly"),
    e("refused", "该行被拒绝", "The row was refused"),
    e("region_mismatch", "门店不属于所选区域", "The store belongs to another region"),
    e("region_name_taken", "大区名称已存在", "That region name exists"),
    e("request_in_progress", "相同请求正在处理中，请稍后重试", "The same request is in progress; try again shortly"),
    e("required", "必填", "Required"),
    e("same_customer", "两个 ID 指向同一位客户", "Both ids are the same customer"),
    e("same_staff", "接替导购不能与原导购相同", "The receiving guide must differ"),
    e("saved_filters_full", "常用筛选最多保存 20 个，请先删除一个", "Keep at most 20 saved filters; delete one first"),
    e("scene_immutable", "群活码创建后不能更改场景：请归档后新建", "A code keeps its scene: archive it and create another"),
    e("schedule_past", "定时时间已过", "The scheduled time has passed"),
    e("secret_key_required", "请先设置 YUTANG_SECRET_KEY，才能在数据库中保存密钥", "Set YUTANG_SECRET_KEY to store secrets in this database"),
    e("secret_required", "请填写该应用的 Secret", "Enter this app's secret"),
    e("secret_unreadable", "已保存的密钥无法解密（密钥文件是否更换？），请重新填写", "A stored secret cannot be decrypted (was the key changed?); enter it again"),
    e("segment_empty", "请填写人群条件", "Enter a segment expression"),
    e("segment_exists", "人群名称已存在", "A segment with this name exists"),
    e("segment_in_use", "该人群正被优惠券、秒杀或拼团用作参与范围，不能删除", "This segment is the audience of a coupon, flash sale or group-buy and cannot be deleted"),
    e("segment_invalid_character", "条件中有无法识别的字符", "The expression has an invalid character"),
    e("segment_invalid_date", "日期格式应为 YYYY-MM-DD", "Dates must be YYYY-MM-DD"),
    e("segment_invalid_duration", "时长单位无效或超出上限", "Invalid or too long duration"),
    e("segment_invalid_escape", "字符串中的转义字符无效", "Invalid escape in a string"),
    e("segment_invalid_money", "金额格式无效或超出范围", "Invalid amount of money"),
    e("segment_invalid_number", "数字格式无效或超出范围", "Invalid number"),
    e("segment_syntax_error", "条件语法有误", "Syntax error in the expression"),
    e("segment_too_deep", "条件嵌套层级过深", "The expression is nested too deeply"),
    e("segment_too_long", "条件过长", "The expression is too long"),
    e("segment_too_many_terms", "条件项过多", "The expression has too many terms"),
    e("segment_type_mismatch", "条件的比较方式或取值与属性类型不符", "The operator or value does not fit the attribute"),
    e("segment_unknown_attribute", "未知的客户属性", "Unknown attribute"),
    e("segment_unknown_tag", "标签不存在", "No such tag"),
    e("segment_unknown_value", "该属性没有这个取值", "The attribute has no such value"),
    e("segment_unterminated_string", "字符串缺少结尾引号", "A string is missing its closing quote"),
    e("send_at_past", "发送时间已过", "The send time has passed"),
    e("several_owners", "所选客户属于多位导购，请先按导购筛选，再勾选转接", "The ticked customers belong to several guides; filter the list by one guide first"),
    e("signature_expired", "签名时间戳与服务器时间相差超过 5 分钟", "The signature's timestamp is more than 5 minutes off the server's clock"),
    e("signature_malformed", "签名格式应为 t=<时间戳>,v1=<十六进制>", "The signature must read t=<unix seconds>,v1=<hex>"),
    e("signature_mismatch", "签名与此来源的密钥不符", "The signature does not match the source's secret"),
    e("signature_missing", "缺少签名请求头", "The signature header is missing"),
    e("source_id_reused", "该来源已按其他积分或客户记过账", "This source was already posted with other points or for another customer"),
    e("source_paused", "此订单接入来源已暂停，请稍后重发", "This source is paused; send again later"),
    e("staff_inactive", "该员工已停用", "The staff member is not active"),
    e("state_reserved", "以 rf- 开头的 state 保留给邀请链接，请换一个", "States starting with rf- belong to referral links; choose another"),
    e("state_too_long", "state 最多 30 个字符（企业微信的限制）", "state is at most 30 characters (WeCom's limit)"),
    e("stock_below_claimed", "库存不能低于已领取数量", "Stock cannot go below what was taken"),
    e("store_code_taken", "门店编码已存在", "That store code exists"),
    e("store_not_allowed", "总部角色不能属于门店", "Headquarters roles have no store"),
    e("store_required", "店长和导购必须属于一个门店", "Store managers and guides must belong to a store"),
    e("subject_not_ratable", "该待办尚未完成、订单已退款或没有可评价的导购", "Not ratable yet: the task is not done, the order was refunded or has no guide"),
    e("tag_exists", "该标签组内已有同名标签", "This group already has a tag with that name"),
    e("tag_group_exists", "标签组名称已存在", "A tag group with this name exists"),
    e("tag_not_in_wecom", "该标签未同步到企业微信，客户朋友圈只能按企业微信标签可见", "This tag is not a WeCom corp tag; moments are shown by WeCom tags only"),
    e("tag_rule_exists", "规则名称已存在", "A rule with this name exists"),
    e("task_closed", "该待办已完成或已跳过，不能再更改", "This task is already done or skipped"),
    e("text_too_long", "文字过长", "The text is too long"),
    e("tier_has_members", "该等级仍有会员，不能删除", "The tier still has members and cannot be removed"),
    e("tier_rule_overlap", "等级门槛重叠：最低等级门槛须为 0，级别越高门槛越高", "Tier thresholds overlap: the lowest is 0 and each higher rank needs a higher one"),
    e("time_out_of_range", "时间超出允许范围(2000 年以后,且不晚于当前时间;排期不晚于 2100 年)", "The time is out of range (from 2000; not in the future; schedules before 2100)"),
    e("token_role_not_allowed", "API 令牌只能是管理员、运营或分析师角色", "API tokens can be admin, operator or analyst"),
    e("too_many_attempts", "登录失败次数过多，请稍后再试", "Too many failed attempts; try again later"),
    e("too_many_items", "数量超过上限", "Too many items"),
    e("too_many_kinds", "事件类型最多 50 种，全部请用 *", "At most 50 event kinds; use * for all"),
    e("too_many_lines", "订单最多 500 行商品", "An order has at most 500 lines"),
    e("unauthenticated", "请先登录", "Sign in first"),
    e("unknown_attribute", "自定义属性不存在，请先创建", "No such custom attribute; define it first"),
    e("unknown_customer", "找不到该客户，请先导入客户", "No such customer; import customers first"),
    e("unknown_event_kind", "未知事件类型", "Unknown event kind"),
    e("unknown_field", "包含未知字段", "Unknown field"),
    e("unknown_folder", "素材文件夹不存在", "No such material folder"),
    e("unknown_group", "客户群不存在或不在您的范围内", "No such customer group in your scope"),
    e("unknown_guide", "导购不存在、已停用或不在您的范围内", "No such active guide in your scope"),
    e("unknown_image", "图片不存在，请重新上传", "No such image; upload it again"),
    e("unknown_import_field", "未知的导入字段", "Unknown import field"),
    e("unknown_material", "素材不存在", "No such material"),
    e("unknown_platform", "电商平台须为天猫、京东、有赞或抖音", "The platform must be tmall, jd, youzan or douyin"),
    e("unknown_reference", "引用的记录不存在", "Refers to something that does not exist"),
    e("unknown_region", "大区不存在", "No such region"),
    e("unknown_segment", "找不到该人群", "No such segment"),
    e("unknown_sender", "导购不存在、已停用、没有企业微信账号或不在您的范围内", "No such active guide with a WeCom account in your scope"),
    e("unknown_staff", "找不到该员工用户名", "No staff member with this username"),
    e("unknown_store", "门店不存在", "No such store"),
    e("unknown_subject", "找不到您的该待办或订单", "No such task or order of yours"),
    e("unknown_tag", "标签不存在", "No such tag"),
    e("unknown_template", "优惠券模板不存在或已归档", "No coupon template that can be issued"),
    e("unreadable_body", "无法读取请求内容", "The request body cannot be read"),
    e("unreadable_file", "文件无法读取", "The file cannot be read"),
    e("unsupported", "此条件无法用可视化编辑器显示，请直接编辑文本", "The builder cannot show this condition; edit the text"),
    e("unsupported_file", "文件须为 .csv、.xlsx、.xls、.xlsb 或 .ods", "The file must be .csv, .xlsx, .xls, .xlsb or .ods"),
    e("unsupported_image", "企业微信朋友圈只接受 PNG 或 JPEG 图片", "WeCom moments take PNG or JPEG images only"),
    e("unsupported_media_type", "请求内容须为 JSON", "Send the body as JSON"),
    e("upload_failed", "上传失败", "The upload failed"),
    e("username_taken", "用户名已被占用", "That username is taken"),
    e("wecom_error", "企业微信拒绝了请求", "WeCom refused the request"),
    e("wecom_login_account_disabled", "此企业微信账号关联的鱼塘员工已停用，请联系管理员", "The Yutang account linked to this WeCom member is disabled; ask an administrator"),
    e("wecom_login_forged_state", "登录请求已失效或并非从本浏览器发起，请重新用企业微信登录", "The sign-in expired or was not started in this browser; sign in with WeCom again"),
    e("wecom_login_invalid_code", "企业微信登录凭证无效或已过期，请重新扫码登录", "The WeCom sign-in code is invalid or expired; sign in with WeCom again"),
    e("wecom_login_not_configured", "尚未配置企业微信登录：需要企业 ID 和一个自建应用（AgentId 与 Secret），请使用密码登录", "Sign-in with WeCom is not set up (it needs the corp id and a self-built app's AgentId and secret); sign in with a password"),
    e("wecom_login_not_member", "只有本企业的成员可以用企业微信登录", "Only members of this WeCom corp can sign in with WeCom"),
    e("wecom_login_replayed_code", "该企业微信登录凭证已使用过，请重新扫码登录", "This WeCom sign-in code was used already; sign in with WeCom again"),
    e("wecom_login_unavailable", "暂时无法向企业微信确认登录，请稍后重试或使用密码登录", "WeCom could not confirm the sign-in now; try again later or sign in with a password"),
    e("wecom_login_unknown_user", "此企业微信账号未关联鱼塘员工，请联系管理员", "This WeCom member is not linked to a Yutang staff account; ask an administrator"),
    e("wecom_login_untrusted_domain", "企业微信拒绝了回调地址：请管理员把本站域名设为该自建应用的可信域名", "WeCom refused the return address: an administrator must set this site's domain as the app's trusted domain"),
    e("wecom_not_configured", "请先填写企业 ID 和客户联系 Secret", "Set the corp id and customer-contact secret first"),
    e("wecom_userid_taken", "该企业微信账号已绑定其他员工", "This WeCom userid belongs to another staff member"),
    e("wrong_password", "当前密码不正确", "The current password is wrong"),
];

/// Texts only the console shows: its own form-token failure and the fallback for a code it
/// does not know. No server error carries these codes.
#[rustfmt::skip]
pub static CONSOLE_CODES: &[ErrorCode] = &[
    e("csrf", "页面已过期，请刷新后重试", "The page expired; reload and try again"),
    e("generic", "请求无法完成", "The request could not be completed"),
];

/// The code used when a code is unknown.
pub const GENERIC: &str = "generic";

/// The entry for `code` (server or console-only), if it is listed.
pub fn find(code: &str) -> Option<&'static ErrorCode> {
    match CODES.binary_search_by(|c| c.code.cmp(code)) {
        Ok(i) => CODES.get(i),
        Err(_) => CONSOLE_CODES.iter().find(|c| c.code == code),
    }
}

/// Whether the server may answer with `code`.
pub fn is_known(code: &str) -> bool {
    CODES.binary_search_by(|c| c.code.cmp(code)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_snake_case(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('_')
            && !s.contains("__")
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    fn has_chinese(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_code_has_both_texts_and_a_well_formed_name() {
        for c in CODES.iter().chain(CONSOLE_CODES) {
            assert!(is_snake_case(c.code), "{:?} is not snake_case", c.code);
            assert!(!c.zh.trim().is_empty(), "{}: no zh text", c.code);
            assert!(!c.en.trim().is_empty(), "{}: no en text", c.code);
            assert!(
                has_chinese(c.zh),
                "{}: the zh text is not Chinese: {:?}",
                c.code,
                c.zh
            );
            assert!(
                c.en.is_ascii() || !has_chinese(c.en),
                "{}: the en text is Chinese",
                c.code
            );
            assert_ne!(c.en, c.code, "{}: the en text is the code itself", c.code);
        }
    }

    #[test]
    fn codes_are_sorted_and_unique() {
        for w in CODES.windows(2) {
            assert!(
                w[0].code < w[1].code,
                "{} must come before {} (sorted, no duplicates)",
                w[1].code,
                w[0].code
            );
        }
        for c in CONSOLE_CODES {
            assert!(
                !is_known(c.code),
                "{} is both a server and a console code",
                c.code
            );
        }
        assert!(CODES.len() > 100);
    }

    #[test]
    fn lookups() {
        assert!(is_known("username_taken"));
        assert_eq!(find("username_taken").map(|c| c.zh), Some("用户名已被占用"));
        assert!(!is_known(GENERIC));
        assert!(find(GENERIC).is_some());
        assert!(find("csrf").is_some());
        assert!(find("no_such_code").is_none());
    }

    /// The enumerations that name their codes in core are all listed.
    #[test]
    fn core_enumerations_are_listed() {
        for r in crate::promotions::PromoRefusal::ALL {
            assert!(is_known(r.code()), "{}", r.code());
        }
    }
}
