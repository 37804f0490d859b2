//! The setup checker (接入检查) on `/console/settings/wecom`: the operator enters the public
//! callback URL and runs [`yutang_app::wecom::check`]; each step shows in words, with what to
//! change in WeCom's admin console. The texts (`check.*`) are here, one place for the console
//! and the API (`POST /api/v1/wecom/check` gives them in both languages).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::wecom::check::SetupCheck;
use yutang_app::wecom::check::interpret::{Step, StepStatus};
use yutang_app::wecom::settings::WecomSettingsInput;

use super::i18n::{Lang, Tr, lookup};
use super::layout::{ConsoleForm, error_page, form_error};
use crate::state::AppState;

/// A step in words, in one language.
#[derive(Debug, Clone)]
pub struct StepText {
    pub key: &'static str,
    pub status: &'static str,
    pub code: &'static str,
    /// The step's name (`公网回调地址`).
    pub title: &'static str,
    /// `通过` / `未通过` / `已跳过`.
    pub state: &'static str,
    /// What was found.
    pub message: String,
    /// What to change (a reminder when the step passed).
    pub fix: Option<String>,
    pub detail: String,
    pub latency_ms: Option<u64>,
}

/// A run of the checker in words.
#[derive(Debug, Clone)]
pub struct CheckView {
    pub ok: bool,
    /// `全部通过` or `2 项未通过`.
    pub summary: String,
    pub checked_at: i64,
    pub steps: Vec<StepText>,
}

impl CheckView {
    pub fn new(tr: Tr, c: &SetupCheck) -> Self {
        let failed = c
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Failed)
            .count();
        Self {
            ok: c.ok,
            summary: if c.ok {
                tr.t("check.all_ok").to_owned()
            } else {
                tr.fill("check.some_failed", &[("n", &failed.to_string())])
            },
            checked_at: c.checked_at,
            steps: c.steps.iter().map(|s| step_text(tr, s)).collect(),
        }
    }
}

/// The words of `step` in `tr`'s language.
pub fn step_text(tr: Tr, step: &Step) -> StepText {
    let list = |values: &str, prefix: &str| {
        values
            .split(',')
            .filter(|v| !v.is_empty())
            .map(|v| match lookup(&format!("{prefix}{v}")) {
                Some(_) => tr.t(&format!("{prefix}{v}")).to_owned(),
                None => v.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(if tr.lang == Lang::Zh { "、" } else { ", " })
    };
    let mut args: Vec<(&str, String)> = Vec::with_capacity(step.params.len() + 1);
    for (k, v) in &step.params {
        let v = match *k {
            "changes" => list(v, "check.change."),
            "missing" => list(v, "check.field."),
            _ => v.clone(),
        };
        args.push((k, v));
    }
    if let Some(code) = step.errcode.filter(|c| *c > 0) {
        args.push((
            "errcode_fix",
            tr.t(&format!("wecom.errcode.{code}")).to_owned(),
        ));
    }
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let key = format!("check.{}", step.code);
    let fix_key = format!("{key}.fix");
    StepText {
        key: step.key.as_str(),
        status: step.status.as_str(),
        code: step.code,
        title: tr.t(&format!("check.step.{}", step.key.as_str())),
        state: tr.t(&format!("check.status.{}", step.status.as_str())),
        message: tr.fill(&key, &args),
        fix: lookup(&fix_key).map(|_| tr.fill(&fix_key, &args)),
        detail: step.detail.clone(),
        latency_ms: step.latency_ms,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckForm {
    csrf: String,
    callback_public_url: String,
}

/// 保存并检查: store the URL (when it changed; audited like any settings change), then run
/// the checker and show the steps.
pub async fn check(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<CheckForm>,
) -> Response {
    let actor = &c.session.actor;
    let input = WecomSettingsInput {
        callback_public_url: Some(f.callback_public_url.clone()),
        ..WecomSettingsInput::default()
    };
    if let Err(e) = s.app.wecom().save_wecom_settings(actor, &input).await {
        let (status, err) = form_error(c.ctx.tr, e);
        return super::wecom::page_with(
            &s,
            c,
            status,
            Some(err),
            None,
            None,
            Some(f.callback_public_url),
        )
        .await;
    }
    match s.app.wecom().check_wecom_setup(actor).await {
        Ok(r) => {
            let view = CheckView::new(c.ctx.tr, &r);
            super::wecom::page_with(&s, c, StatusCode::OK, None, None, Some(view), None).await
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// The checker's texts: `check.<code>` (what was found) and `check.<code>.fix` (what to change
/// in WeCom's admin console), step names, states, and the words the params are made of.
pub fn text(key: &str) -> Option<(&'static str, &'static str)> {
    if let Some(code) = key.strip_prefix("wecom.errcode.") {
        return code
            .parse::<i64>()
            .ok()
            .map(yutang_app::wecom::settings::errcode_text);
    }
    Some(match key {
        "check.title" => ("接入检查", "Setup checker"),
        "check.intro" => (
            "逐项检查企业微信接入：回调 Token 与 EncodingAESKey、公网回调地址（按企业微信的方式发送带签名的验证请求，要求 1 秒内原样返回明文）、服务器出口 IP 是否可信、能否读取客户、能否创建「联系我」。每一项失败都会说明要在企业微信管理后台改什么。",
            "Checks the WeCom connection one step at a time: the callback Token and EncodingAESKey, the public callback URL (a signed verification request sent the way WeCom sends it, to be answered with the bare plaintext within 1 second), whether the server's outbound IP is trusted, reading customers and creating contact ways. Each failure says what to change in WeCom's admin console.",
        ),
        "check.public_url" => ("公网回调地址", "Public callback URL"),
        "check.public_url_hint" => (
            "与企业微信后台“接收消息”中填写的 URL 完全一致，例如 https://scrm.example.com/wecom/callback",
            "Exactly the URL in WeCom's receive-message settings, e.g. https://scrm.example.com/wecom/callback",
        ),
        "check.run" => ("保存并检查", "Save and check"),
        "check.fix" => ("怎么改：", "How to fix: "),
        "check.reminder" => ("提醒：", "Reminder: "),
        "check.latency" => ("用时", "took"),
        "check.all_ok" => ("全部通过", "Every step passed"),
        "check.some_failed" => ("{n} 项未通过", "{n} failed"),
        "check.checked_at" => ("检查时间", "Checked at"),
        "check.step.callback_crypto" => ("Token 与 EncodingAESKey", "Token and EncodingAESKey"),
        "check.step.callback_url" => ("公网回调地址", "Public callback URL"),
        "check.step.trusted_ip" => ("API 凭证与可信 IP", "API credentials and trusted IP"),
        "check.step.read_customers" => ("读取客户", "Reading customers"),
        "check.step.contact_way" => ("创建「联系我」", "Creating contact ways"),
        "check.status.ok" => ("通过", "Passed"),
        "check.status.failed" => ("未通过", "Failed"),
        "check.status.skipped" => ("已跳过", "Skipped"),
        "check.change.bom" => ("BOM（EF BB BF）", "a BOM (EF BB BF)"),
        "check.change.quotes" => ("引号", "quotes"),
        "check.change.newline" => ("换行", "a line break"),
        "check.change.whitespace" => ("空格", "spaces"),
        "check.field.corp_id" => ("企业 ID", "the corp id"),
        "check.field.callback_token" => ("回调 Token", "the callback Token"),
        "check.field.encoding_aes_key" => ("EncodingAESKey", "the EncodingAESKey"),
        // --- step 1 ---
        "check.crypto_ok" => (
            "Token 与 EncodingAESKey 可用：用它们签名并加密的验证请求通过了本服务器自己的回调验证器（企业 ID {corp_id}）。",
            "The Token and EncodingAESKey work: a verification request signed and encrypted with them passed this server's own callback verifier (corp id {corp_id}).",
        ),
        "check.crypto_ok.fix" => (
            "企业微信管理后台（应用管理 → 自建 → 本应用 → 接收消息 → 设置API接收）中必须填写完全相同的 Token 和 EncodingAESKey。",
            "WeCom's admin console must hold exactly the same Token and EncodingAESKey (应用管理 → 自建 → the app → 接收消息 → 设置API接收).",
        ),
        "check.crypto_missing" => ("尚未设置：{missing}。", "Not set yet: {missing}."),
        "check.crypto_missing.fix" => (
            "在企业微信管理后台 应用管理 → 自建 → 本应用 → 接收消息 → 设置API接收 中点“随机获取”生成 Token 和 EncodingAESKey，连同企业 ID（我的企业 → 企业信息 页底部）填到本页并保存，再回到企业微信后台保存。",
            "In WeCom's admin console, 应用管理 → 自建 → the app → 接收消息 → 设置API接收, click 随机获取 for the Token and the EncodingAESKey; enter them with the corp id (我的企业 → 企业信息, at the bottom) on this page and save, then save in WeCom.",
        ),
        "check.aes_key_invalid" => (
            "EncodingAESKey 无效（-40004）：须为 43 位字母和数字。",
            "The EncodingAESKey is invalid (-40004): it must be 43 letters and digits.",
        ),
        "check.aes_key_invalid.fix" => (
            "从企业微信后台“接收消息”设置中重新复制 EncodingAESKey（43 位，不含空格），原样粘贴到本页或配置文件。",
            "Copy the EncodingAESKey again from WeCom's receive-message settings (43 characters, no spaces) and paste it unchanged here or in the configuration.",
        ),
        "check.signature_mismatch" => (
            "签名校验失败（-40001）：本服务器的回调验证器不接受用当前 Token 签名的请求。",
            "Signature check failed (-40001): this server's callback verifier refuses a request signed with the current Token.",
        ),
        "check.signature_mismatch.fix" => (
            "Token 可能刚被修改，或各节点、配置文件与本页的设置不一致：重新保存 Token，确认所有节点连接同一数据库、使用同一配置后再检查。",
            "The Token may have just changed, or the nodes, the configuration and this page disagree: save the Token again, make sure every node uses the same database and configuration, and check again.",
        ),
        "check.receive_id_mismatch" => (
            "企业 ID 不一致（-40005）：解密出的企业 ID 与设置的 {corp_id} 不同。",
            "Corp id mismatch (-40005): the decrypted receive id differs from the configured {corp_id}.",
        ),
        "check.receive_id_mismatch.fix" => (
            "企业 ID 须与企业微信后台 我的企业 → 企业信息 页底部的企业ID 完全一致（以 ww 开头）。",
            "The corp id must be exactly the 企业ID at the bottom of 我的企业 → 企业信息 (it starts with ww).",
        ),
        "check.crypto_failed" => (
            "回调验证器自检失败，见详情。",
            "The callback verifier's self-check failed; see the detail.",
        ),
        "check.crypto_failed.fix" => (
            "检查企业 ID、回调 Token 和 EncodingAESKey 是否正确并已保存；仍失败请把详情发给技术支持。",
            "Check that the corp id, callback Token and EncodingAESKey are right and saved; if it still fails, send the detail to support.",
        ),
        // --- step 2 ---
        "check.url_ok" => (
            "公网回调地址可用：{url} 在 {latency_ms} ms 内原样返回了明文（上限 {limit_ms} ms）。",
            "The public callback URL works: {url} answered the bare plaintext in {latency_ms} ms (limit {limit_ms} ms).",
        ),
        "check.url_ok.fix" => (
            "在企业微信后台填写同一个 URL 后保存，企业微信会立即发送同样的验证请求。",
            "Enter the same URL in WeCom's admin console and save: WeCom sends the same verification at once.",
        ),
        "check.url_ok_slow" => (
            "公网回调地址可用，但用时 {latency_ms} ms，接近企业微信的 1 秒上限。",
            "The public callback URL works but took {latency_ms} ms, close to WeCom's 1-second limit.",
        ),
        "check.url_ok_slow.fix" => (
            "企业微信从腾讯机房访问，实际耗时更长：检查反向代理、服务器负载和带宽，避免验证请求超时。",
            "WeCom calls from Tencent's data centres and takes longer: check the reverse proxy, server load and bandwidth so the verification does not time out.",
        ),
        "check.url_missing" => (
            "尚未填写公网回调地址。",
            "No public callback URL entered yet.",
        ),
        "check.url_missing.fix" => (
            "填写企业微信后台“接收消息”中使用的 URL，例如 https://scrm.example.com/wecom/callback，然后点“保存并检查”。",
            "Enter the URL used in WeCom's receive-message settings, e.g. https://scrm.example.com/wecom/callback, then click Save and check.",
        ),
        "check.url_invalid" => (
            "公网回调地址无法使用：{url}",
            "The public callback URL cannot be used: {url}",
        ),
        "check.url_invalid.fix" => (
            "填写完整的 http(s) 地址，例如 https://scrm.example.com/wecom/callback。",
            "Enter a full http(s) address such as https://scrm.example.com/wecom/callback.",
        ),
        "check.url_dns" => (
            "域名 {host} 无法解析。",
            "The host name {host} does not resolve.",
        ),
        "check.url_dns.fix" => (
            "检查域名拼写和 DNS 解析记录：企业微信从公网访问，域名必须能在公网解析（新建应用还要求使用本企业已验证的域名）。",
            "Check the spelling and the DNS records: WeCom calls from the internet, so the name must resolve publicly (new apps also need a domain verified for the corp).",
        ),
        "check.url_connect" => (
            "无法连接 {host}：连接被拒绝或网络不通。",
            "Cannot connect to {host}: the connection was refused or the network is unreachable.",
        ),
        "check.url_connect.fix" => (
            "确认 Yutang（或反向代理）在该端口监听、防火墙和云服务器安全组对公网放行该端口（通常 443），以及地址中的端口号没有写错。",
            "Make sure Yutang (or the reverse proxy) listens on that port, that the firewall and the cloud security group let it through from the internet (usually 443), and that the port in the URL is right.",
        ),
        "check.url_tls" => (
            "与 {host} 的 TLS 握手失败（证书不受信任、域名不符或已过期）。",
            "The TLS handshake with {host} failed (certificate not trusted, for another name, or expired).",
        ),
        "check.url_tls.fix" => (
            "使用受信任机构签发、包含该域名且在有效期内的证书，并配置完整的证书链；企业微信不接受自签名证书。",
            "Use a certificate from a trusted CA that names the host and has not expired, with the full chain; WeCom does not accept self-signed certificates.",
        ),
        "check.url_timeout" => (
            "{host} 在 {limit_ms} ms 内没有完整应答（企业微信要求 1 秒内）。",
            "{host} did not answer in full within {limit_ms} ms (WeCom requires 1 second).",
        ),
        "check.url_timeout.fix" => (
            "检查反向代理的上游是否指向 Yutang、服务器是否过载、网络是否丢包；不要让回调请求经过需要登录或排队的网关。",
            "Check that the reverse proxy's upstream points at Yutang, that the server is not overloaded and the network not losing packets; keep the callback away from gateways that ask for a login or queue requests.",
        ),
        "check.url_transport" => (
            "请求 {host} 时出错，没有得到完整应答。",
            "The request to {host} failed before a complete answer arrived.",
        ),
        "check.url_transport.fix" => (
            "见详情；常见原因是代理提前关闭了连接或返回了不合法的 HTTP 应答。",
            "See the detail; a proxy closing the connection early or answering malformed HTTP is the usual cause.",
        ),
        "check.url_redirect" => (
            "返回了重定向 HTTP {status} → {location}。",
            "It answered a redirect, HTTP {status} → {location}.",
        ),
        "check.url_redirect.fix" => (
            "不要依赖重定向：在企业微信后台和本页都直接填写最终地址（例如改用 https://，或补上末尾的 /）。",
            "Do not rely on redirects: enter the final address in WeCom and here (e.g. https://, or with the trailing /).",
        ),
        "check.url_not_found" => (
            "返回 HTTP 404：该地址上没有回调接口。",
            "HTTP 404: there is no callback endpoint at that address.",
        ),
        "check.url_not_found.fix" => (
            "地址须以 /wecom/callback 结尾；经过反向代理时，检查该路径是否原样转发到 Yutang 的 /wecom/callback。",
            "The address must end in /wecom/callback; behind a reverse proxy, check that the path reaches Yutang's /wecom/callback unchanged.",
        ),
        "check.url_status" => (
            "返回 HTTP {status}（应为 200）。",
            "It answered HTTP {status} (200 expected).",
        ),
        "check.url_status.fix" => (
            "5xx 多为反向代理连不上 Yutang 或 Yutang 未运行；401/403 多为网关、WAF 或访问控制拦截了请求：对 /wecom/callback 放行。",
            "A 5xx usually means the proxy cannot reach Yutang or Yutang is not running; a 401/403 means a gateway, WAF or access control blocked the request: let /wecom/callback through.",
        ),
        "check.url_other_token" => (
            "该地址上的 Yutang 拒绝了签名（-40001）：那里的回调 Token 与本服务器不同。",
            "The Yutang at that address refused the signature (-40001): its callback Token differs from this server's.",
        ),
        "check.url_other_key" => (
            "该地址上的 Yutang 无法解密（{errcode}）：那里的 EncodingAESKey 与本服务器不同。",
            "The Yutang at that address could not decrypt ({errcode}): its EncodingAESKey differs from this server's.",
        ),
        "check.url_other_corp" => (
            "该地址上的 Yutang 拒绝了企业 ID（-40005）：那里设置的企业 ID 与本服务器不同。",
            "The Yutang at that address refused the corp id (-40005): it is set up for another corp id.",
        ),
        "check.url_not_configured_there" => (
            "该地址上的 Yutang 尚未设置回调（HTTP 503 not configured）。",
            "The Yutang at that address has no callback settings (HTTP 503 not configured).",
        ),
        "check.url_other_token.fix"
        | "check.url_other_key.fix"
        | "check.url_other_corp.fix"
        | "check.url_not_configured_there.fix" => (
            "公网地址指向的不是本服务器（另一台服务器、另一套环境，或连接了其他数据库的节点）：检查 DNS 和反向代理的指向；同一系统的所有节点须连接同一数据库。企业微信后台填写的 Token 和 EncodingAESKey 须与本页一致。",
            "The public address does not lead to this server (another server, another environment, or a node on another database): check DNS and the reverse proxy; every node of one system must use the same database. WeCom must hold this page's Token and EncodingAESKey.",
        ),
        "check.url_body_rewritten" => (
            "返回 200，但正文被改写：多了{changes}。",
            "HTTP 200, but the body was rewritten: {changes} added.",
        ),
        "check.url_body_rewritten.fix" => (
            "企业微信要求原样返回明文（不能有 BOM、引号或换行）：关闭反向代理或网关对响应的改写（如 sub_filter、统一 JSON 包装、字符集转换），让 /wecom/callback 的响应原样通过。",
            "WeCom wants the bare plaintext (no BOM, quotes or line break): turn off the proxy's or gateway's response rewriting (sub_filter, JSON wrapping, charset conversion) so /wecom/callback's answer passes unchanged.",
        ),
        "check.url_body_wrapped" => (
            "返回 200，正文里有明文，但前后还有其他内容。",
            "HTTP 200 with the plaintext inside, but wrapped in other content.",
        ),
        "check.url_body_wrapped.fix" => (
            "网关或框架把响应包装成了 JSON 或网页：让 /wecom/callback 的响应原样通过。",
            "A gateway or framework wrapped the answer in JSON or a page: let /wecom/callback's answer pass unchanged.",
        ),
        "check.url_body_different" => (
            "返回 200，但正文不是这次请求的明文。",
            "HTTP 200, but the body is not this request's plaintext.",
        ),
        "check.url_body_different.fix" => (
            "该地址到达的是另一台服务器（例如网站首页或其他系统），或 Token/EncodingAESKey 不同的服务：检查域名解析和反向代理是否指向本 Yutang。",
            "The address reaches another server (a website's home page, another system) or a service with another Token/EncodingAESKey: check that DNS and the reverse proxy lead to this Yutang.",
        ),
        // --- step 3 ---
        "check.api_missing" => (
            "尚未填写企业 ID 或“客户联系” Secret，无法调用企业微信 API。",
            "The corp id or the customer-contact secret is missing: WeCom's API cannot be called.",
        ),
        "check.api_missing.fix" => (
            "在企业微信后台 客户与上下游 → 客户联系 → API 查看 Secret，连同企业 ID 填到本页并保存。",
            "Find the Secret under 客户与上下游 → 客户联系 → API in WeCom's admin console and enter it with the corp id on this page.",
        ),
        "check.api_unreachable" => (
            "无法连接企业微信 API（{api_base}）。",
            "WeCom's API ({api_base}) cannot be reached.",
        ),
        "check.api_unreachable.fix" => (
            "检查本服务器能否访问 {api_base}（出口防火墙、代理、DNS）；如果本页填写了 API 地址（代理），确认它可用。",
            "Check that this server can reach {api_base} (outbound firewall, proxy, DNS); if this page sets an API base (a proxy), make sure it works.",
        ),
        "check.api_unexpected" => (
            "企业微信 API 的回答无法识别。",
            "WeCom's API answer could not be read.",
        ),
        "check.api_unexpected.fix" => (
            "检查本页的 API 地址是否指向企业微信（https://qyapi.weixin.qq.com）或可用的代理。",
            "Check that the API base on this page points at WeCom (https://qyapi.weixin.qq.com) or a working proxy.",
        ),
        "check.api_credentials" => (
            "企业微信拒绝了凭证（错误码 {errcode}）。",
            "WeCom refused the credentials (errcode {errcode}).",
        ),
        "check.api_credentials.fix" | "check.customers_error.fix" => {
            ("{errcode_fix}", "{errcode_fix}")
        }
        "check.ip_untrusted" => (
            "本服务器的出口 IP {ip} 不在企业可信 IP 中（60020）。",
            "This server's outbound IP {ip} is not a trusted IP (60020).",
        ),
        "check.ip_untrusted.fix" => (
            "企业微信管理后台 → 应用管理 → 自建 → 本应用 → 企业可信IP → 配置，添加 {ip}（使用“客户联系” Secret 时，添加到“可调用接口的应用”中的那个自建应用）；换服务器或 NAT 出口变化后要重新添加。",
            "WeCom's admin console → 应用管理 → 自建 → the app → 企业可信IP → 配置: add {ip} (with the customer-contact secret, to the self-built app listed under 可调用接口的应用); add it again after moving servers or when the NAT exit changes.",
        ),
        "check.ip_trusted" => (
            "凭证有效，企业微信没有拒绝本服务器的出口 IP。",
            "The credentials work and WeCom did not refuse this server's outbound IP.",
        ),
        // --- step 4 ---
        "check.customers_ok" => (
            "读取客户成功：{users} 位成员开通了客户联系，其中 {userid} 有 {customers} 位客户。",
            "Customers can be read: {users} members have customer contact; {userid} has {customers} customers.",
        ),
        "check.no_follow_users" => (
            "没有成员开通客户联系，读不到客户。",
            "No member has customer contact, so there are no customers to read.",
        ),
        "check.no_follow_users.fix" => (
            "企业微信后台 客户与上下游 → 客户联系 → 权限配置（使用范围）中添加成员，并确认他们在本应用的可见范围内。",
            "Add members under 客户与上下游 → 客户联系 → 权限配置 (使用范围) in WeCom's admin console, and make sure they are in the app's visible range.",
        ),
        "check.customers_error" => (
            "读取客户失败（错误码 {errcode}）。",
            "Reading customers failed (errcode {errcode}).",
        ),
        // --- step 5 ---
        "check.contact_way_ok" => (
            "可以创建「联系我」：已为 {userid} 创建测试二维码（state {state}）并立即删除。",
            "Contact ways can be created: a test QR code for {userid} (state {state}) was created and deleted at once.",
        ),
        "check.contact_way_error" => (
            "创建「联系我」失败（错误码 {errcode}）。",
            "Creating a contact way failed (errcode {errcode}).",
        ),
        "check.contact_way_error.fix" => (
            "{errcode_fix}。另请确认：自建应用已加入 客户与上下游 → 客户联系 → API → 可调用接口的应用；{userid} 在应用可见范围内并已开通客户联系；API 创建的「联系我」没有达到 50 万个的上限。",
            "{errcode_fix}. Also check: the self-built app is under 客户与上下游 → 客户联系 → API → 可调用接口的应用; {userid} is in the app's visible range and has customer contact; the corp has not reached the 500,000 API-created contact ways.",
        ),
        "check.contact_way_not_deleted" => (
            "已创建测试「联系我」（config_id {config_id}），但删除失败。",
            "The test contact way (config_id {config_id}) was created but could not be deleted.",
        ),
        "check.contact_way_not_deleted.fix" => (
            "它不会展示给客户，只占用 API 可创建的 50 万个「联系我」名额中的一个；按详情中的错误处理后，可用 del_contact_way 删除该 config_id。",
            "Customers never see it; it takes one of the 500,000 API-created contact ways. Once the error in the detail is fixed, del_contact_way removes that config_id.",
        ),
        // --- skipped ---
        "check.skipped_no_crypto" => (
            "已跳过：第 1 步（Token 与 EncodingAESKey）通过后才能签名验证请求。",
            "Skipped: step 1 (Token and EncodingAESKey) must pass to sign the verification request.",
        ),
        "check.skipped_no_api" => (
            "已跳过：需要第 3 步（API 凭证与可信 IP）通过。",
            "Skipped: step 3 (API credentials and trusted IP) must pass first.",
        ),
        "check.skipped_no_follow_user" => (
            "已跳过：需要第 4 步（读取客户）通过并找到开通客户联系的成员。",
            "Skipped: step 4 (reading customers) must pass and find a member with customer contact.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yutang_app::wecom::check::interpret::{CODES, REWRITES, StepKey};

    /// Every code, step, state and param word has its text in both languages; every failure
    /// says what to change; no text is left with an unfilled placeholder.
    #[test]
    fn every_code_has_its_words() {
        let has = |k: &str| {
            let (zh, en) = text(k).unwrap_or_else(|| panic!("no text for {k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        };
        for c in CODES {
            has(&format!("check.{c}"));
            let ok_or_skipped = c.starts_with("skipped_")
                || ["ip_trusted", "customers_ok", "contact_way_ok"].contains(c);
            if !ok_or_skipped {
                has(&format!("check.{c}.fix"));
            }
        }
        for k in StepKey::ALL {
            has(&format!("check.step.{}", k.as_str()));
        }
        for s in [StepStatus::Ok, StepStatus::Failed, StepStatus::Skipped] {
            has(&format!("check.status.{}", s.as_str()));
        }
        for r in REWRITES {
            has(&format!("check.change.{r}"));
        }
        for f in ["corp_id", "callback_token", "encoding_aes_key"] {
            has(&format!("check.field.{f}"));
        }
        // The console finds them through its one lookup.
        assert_eq!(
            lookup("check.url_ok").map(|t| t.0),
            text("check.url_ok").map(|t| t.0)
        );
        assert!(lookup("wecom.errcode.60020").is_some_and(|(zh, _)| zh.contains("可信 IP")));
    }

    #[test]
    fn steps_read_in_both_languages() {
        use yutang_app::wecom::check::interpret::{Api, probe_answer, trusted_ip};
        use yutang_wecom::probe::ProbeAnswer;
        let (zh, en) = (Tr { lang: Lang::Zh }, Tr { lang: Lang::En });
        let s = trusted_ip(
            &Api::Ok(()),
            Some(&Api::Refused {
                errcode: 60020,
                errmsg: "not allow to access from your ip, hint: [1], from ip: 116.228.224.178, more info".into(),
            }),
            "https://qyapi.weixin.qq.com",
            3,
        );
        let t = step_text(zh, &s);
        assert_eq!((t.title, t.state), ("API 凭证与可信 IP", "未通过"));
        assert!(
            t.message.contains("116.228.224.178") && t.message.contains("60020"),
            "{}",
            t.message
        );
        assert!(t.fix.as_deref().unwrap().contains("企业可信IP"));
        let t = step_text(en, &s);
        assert!(t.message.contains("116.228.224.178"), "{}", t.message);
        let s = probe_answer(
            "https://x.example/wecom/callback",
            "1",
            &ProbeAnswer::Answered {
                status: 200,
                location: None,
                body: b"\xEF\xBB\xBF\"1\"\n".to_vec(),
                elapsed_ms: 4,
            },
            1000,
        );
        assert_eq!(
            step_text(zh, &s).message,
            "返回 200，但正文被改写：多了BOM（EF BB BF）、引号、换行。"
        );
        assert_eq!(
            step_text(en, &s).message,
            "HTTP 200, but the body was rewritten: a BOM (EF BB BF), quotes, a line break added."
        );
        for c in CODES {
            for tr in [zh, en] {
                for key in [format!("check.{c}"), format!("check.{c}.fix")] {
                    if text(&key).is_some() {
                        let t = tr.t(&key);
                        let names: Vec<&str> = t
                            .split('{')
                            .skip(1)
                            .filter_map(|p| p.split('}').next())
                            .collect();
                        for n in names {
                            assert!(
                                [
                                    "url",
                                    "host",
                                    "limit_ms",
                                    "latency_ms",
                                    "status",
                                    "location",
                                    "changes",
                                    "errcode",
                                    "errcode_fix",
                                    "ip",
                                    "api_base",
                                    "users",
                                    "userid",
                                    "customers",
                                    "state",
                                    "config_id",
                                    "corp_id",
                                    "missing",
                                ]
                                .contains(&n),
                                "{key}: {{{n}}}"
                            );
                        }
                    }
                }
            }
        }
    }
}
