//! The error type of the API client, and the WeCom error codes it acts on.

/// WeCom error codes the client acts on (global error codes, 90455 / 90313), plus the
/// endpoint-specific codes the fake server uses.
///
/// The 41xxx customer-contact rows of the global table (41037…41050) are quoted from the
/// table as WxJava's `WxCpErrorMsgEnum` reproduces it: the excerpt of WeCom's own page
/// available to us stops before them. 41051 and 41096 are on 92599 itself.
///
/// Acquisition links (97297) document no error codes at all, and an exhausted acquisition
/// quota is not an API error (see [`crate::client::api`]), so there is no constant for them.
pub mod codes {
    /// `-1` 系统繁忙: "服务器暂不可用,建议稍候重试。建议重试次数不超过3次" (90455). Retried with
    /// backoff.
    pub const SYSTEM_BUSY: i64 = -1;
    /// `40001` 不合法的secret参数 (90455): the corp secret is wrong. **Not** a token-expiry code
    /// on WeCom (WeChat Official Accounts use 40001 for a stale token; WeCom does not), so it is
    /// never retried: it is a configuration error.
    pub const INVALID_SECRET: i64 = 40001;
    /// `40003` 无效的UserID (90455).
    pub const INVALID_USERID: i64 = 40003;
    /// `40013` 不合法的CorpID (90455).
    pub const INVALID_CORPID: i64 = 40013;
    /// `40014` 不合法的access_token (90455): refresh the token and retry once.
    pub const INVALID_ACCESS_TOKEN: i64 = 40014;
    /// `40004` 不合法的媒体文件类型: `upload_attachment` with a `media_type` other than `image` /
    /// `video` for moments (96347 allows only those two for `attachment_type` 1).
    pub const INVALID_MEDIA_TYPE: i64 = 40004;
    /// `40005` 不合法的文件类型: the bytes are not a JPG/PNG image or an MP4 video (96347).
    pub const INVALID_FILE_TYPE: i64 = 40005;
    /// `40006` 不合法的文件大小: a file of 5 bytes or less (96347: "文件大小需大于5个字节").
    pub const INVALID_FILE_SIZE: i64 = 40006;
    /// `40007` 不合法的媒体文件id: unknown or expired (older than 3 days) media id, or a media
    /// id of the wrong kind. For moments it is the failed job's `result.errcode` of
    /// `get_moment_task_result` (95094), not the errcode of `add_moment_task` itself.
    pub const INVALID_MEDIA_ID: i64 = 40007;
    /// `40009` 不合法的图片文件大小: an image over 10 MB (96347).
    pub const INVALID_IMAGE_SIZE: i64 = 40009;
    /// `40011` 不合法的视频文件大小: a video over 10 MB (96347).
    pub const INVALID_VIDEO_SIZE: i64 = 40011;
    /// `40058` invalid request parameter (seen in WeCom's `errmsg` texts "invalid Request
    /// Parameter"; the fake uses it for out-of-range values).
    pub const INVALID_PARAMETER: i64 = 40058;
    /// `40096` invalid external_userid (the per-customer code in the transfer examples of
    /// 96325 / 96331).
    pub const INVALID_EXTERNAL_USERID: i64 = 40096;
    /// `41001` 缺少access_token参数.
    pub const MISSING_ACCESS_TOKEN: i64 = 41001;
    /// `41006` 缺少media_id参数: an attachment of a moment without its `media_id` (a link
    /// without its cover image).
    pub const MISSING_MEDIA_ID: i64 = 41006;
    /// `41037` 缺少「联系我」type参数 (`add_contact_way` without a valid `type`).
    pub const MISSING_CONTACT_WAY_TYPE: i64 = 41037;
    /// `41038` 缺少「联系我」scene参数.
    pub const MISSING_CONTACT_WAY_SCENE: i64 = 41038;
    /// `41039` 无效的「联系我」type参数.
    pub const INVALID_CONTACT_WAY_TYPE: i64 = 41039;
    /// `41040` 无效的「联系我」scene参数.
    pub const INVALID_CONTACT_WAY_SCENE: i64 = 41040;
    /// `41041` 「联系我」使用人数超过限制: more than 100 users, departments expanded.
    pub const CONTACT_WAY_TOO_MANY_USERS: i64 = 41041;
    /// `41044` 无效的「联系我」config_id参数: unknown (or deleted) contact way. Do not retry;
    /// the code is gone on WeCom's side.
    pub const INVALID_CONFIG_ID: i64 = 41044;
    /// `41045` API添加「联系我」达到数量上限: the corp has 500,000 API-created contact ways (and
    /// group join ways) already (96348). Not transient: delete unused ways first.
    pub const CONTACT_WAY_LIMIT_REACHED: i64 = 41045;
    /// `41049` 缺少欢迎语code参数.
    pub const MISSING_WELCOME_CODE: i64 = 41049;
    /// `41050` 无效的欢迎语code: unknown, or older than 20 s ("欢迎语code(welcome_code)具有时效
    /// 性,须在添加好友后20秒内使用"). Do not retry: the code will not become valid again.
    pub const INVALID_WELCOME_CODE: i64 = 41050;
    /// `41051` externaluser has started chatting (92599): the welcome message was delivered
    /// (by this or another app) or the pair already chats. Do not retry; treat as done.
    pub const WELCOME_ALREADY_SENT: i64 = 41051;
    /// `41096` welcome msg is being distributed (92599): another app called first and is
    /// sending. That send may still fail, so the caller may retry within the 20 s window;
    /// a later 41051 means it was delivered.
    pub const WELCOME_BEING_SENT: i64 = 41096;
    /// `44001` 多媒体文件为空: an upload without its `media` part, or an empty one.
    pub const EMPTY_MEDIA: i64 = 44001;
    /// `42001` access_token 已过期: refresh the token and retry once.
    pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
    /// `45009` 接口调用超过限制 (frequency limit, 90454): retried with backoff; over the
    /// minute limit WeCom blocks the caller for 60 s, so persistent 45009s surface to the
    /// caller.
    pub const FREQUENCY_LIMIT: i64 = 45009;
    /// `45033` 接口并发调用超过限制 (concurrency limit): retried with backoff.
    pub const CONCURRENCY_LIMIT: i64 = 45033;
    /// `81017` owner_filter missing while the app's visible range exceeds 1000 people
    /// (groupchat/list, 93414).
    pub const OWNER_FILTER_REQUIRED: i64 = 81017;
    /// `90501` chat is not an external group chat (groupchat transfer example, 92127).
    pub const NOT_EXTERNAL_CHAT: i64 = 90501;
}

/// Why a WeCom API call failed.
#[derive(Debug, thiserror::Error)]
pub enum WecomError {
    /// WeCom answered with a non-zero `errcode`.
    #[error("WeCom {path} failed with errcode {errcode}: {errmsg} (trace {trace_id})")]
    Api {
        /// The API path, e.g. `/cgi-bin/externalcontact/get`.
        path: String,
        /// WeCom's `errcode`.
        errcode: i64,
        /// WeCom's `errmsg` (contains WeCom's own `hint` id, useful with their support).
        errmsg: String,
        /// Our trace id of the call, also in the logs.
        trace_id: String,
    },
    /// The request breaks a limit WeCom documents; it was not sent.
    #[error("invalid request to {path}: {field} {reason}")]
    InvalidRequest {
        /// The API path.
        path: &'static str,
        /// The offending request field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP request failed (connection, timeout, TLS…).
    #[error("HTTP request to {path} failed (trace {trace_id}): {source}")]
    Http {
        /// The API path.
        path: String,
        /// Our trace id of the call.
        trace_id: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// WeCom answered with an HTTP status other than 200.
    #[error("WeCom {path} answered HTTP {status} (trace {trace_id})")]
    Status {
        /// The API path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// Our trace id of the call.
        trace_id: String,
    },
    /// The response body was not the JSON we expected.
    #[error("could not decode the response of {path} (trace {trace_id}): {message}")]
    Decode {
        /// The API path.
        path: String,
        /// What went wrong.
        message: String,
        /// Our trace id of the call.
        trace_id: String,
    },
    /// The client configuration is unusable (bad base URL, TLS backend failure…).
    #[error("invalid WeCom client configuration: {0}")]
    Config(String),
}

impl WecomError {
    /// WeCom's `errcode`, for [`WecomError::Api`].
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// WeCom's `errmsg`, for [`WecomError::Api`].
    pub fn errmsg(&self) -> Option<&str> {
        match self {
            Self::Api { errmsg, .. } => Some(errmsg),
            _ => None,
        }
    }

    /// The trace id of the failed call, when one was sent.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Api { trace_id, .. }
            | Self::Http { trace_id, .. }
            | Self::Status { trace_id, .. }
            | Self::Decode { trace_id, .. } => Some(trace_id),
            Self::InvalidRequest { .. } | Self::Config(_) => None,
        }
    }

    /// Whether WeCom rejected the token (40014 / 42001) even after a refresh.
    pub fn is_token_error(&self) -> bool {
        matches!(
            self.errcode(),
            Some(codes::INVALID_ACCESS_TOKEN | codes::ACCESS_TOKEN_EXPIRED)
        )
    }

    /// Whether the corp id or secret is wrong (40001 / 40013): a configuration problem that no
    /// retry fixes.
    pub fn is_credentials_error(&self) -> bool {
        matches!(
            self.errcode(),
            Some(codes::INVALID_SECRET | codes::INVALID_CORPID)
        )
    }

    /// Whether a later retry (from the job queue) may succeed: system busy, frequency or
    /// concurrency limits after the client's own retries, 41096, and transport failures.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { errcode, .. } => matches!(
                *errcode,
                codes::SYSTEM_BUSY
                    | codes::FREQUENCY_LIMIT
                    | codes::CONCURRENCY_LIMIT
                    | codes::WELCOME_BEING_SENT
            ),
            Self::Http { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            Self::InvalidRequest { .. } | Self::Decode { .. } | Self::Config(_) => false,
        }
    }

    /// A stable snake_case name for logs, metrics and the console's translations.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Api { errcode, .. } => match *errcode {
                codes::SYSTEM_BUSY => "wecom_system_busy",
                codes::INVALID_SECRET | codes::INVALID_CORPID => "wecom_invalid_credentials",
                codes::INVALID_ACCESS_TOKEN | codes::ACCESS_TOKEN_EXPIRED => "wecom_token_rejected",
                codes::FREQUENCY_LIMIT | codes::CONCURRENCY_LIMIT => "wecom_rate_limited",
                codes::WELCOME_ALREADY_SENT => "wecom_welcome_already_sent",
                codes::WELCOME_BEING_SENT => "wecom_welcome_being_sent",
                codes::INVALID_WELCOME_CODE => "wecom_welcome_code_invalid",
                codes::CONTACT_WAY_LIMIT_REACHED => "wecom_contact_way_limit",
                codes::INVALID_CONFIG_ID => "wecom_contact_way_unknown",
                codes::INVALID_MEDIA_ID => "wecom_media_invalid",
                _ => "wecom_api_error",
            },
            Self::InvalidRequest { .. } => "wecom_invalid_request",
            Self::Http { .. } => "wecom_http_error",
            Self::Status { .. } => "wecom_http_status",
            Self::Decode { .. } => "wecom_decode_error",
            Self::Config(_) => "wecom_client_config",
        }
    }
}
