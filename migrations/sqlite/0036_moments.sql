-- Moments tasks (客户朋友圈, issue #21 item 3): a post the brand writes once and its guides
-- publish to their customers' moments (WeCom's add_moment_task), with who published, likes
-- and comments read back from WeCom.

CREATE TABLE moment_tasks (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    -- JSON {text, attachments}.
    content       TEXT    NOT NULL,
    -- JSON [staff ids] when the senders were listed; NULL: every guide in scope at send time.
    sender_ids    TEXT,
    -- JSON [tag ids]: the customers who see the post; [] = every customer of each sender.
    visible_tags  TEXT    NOT NULL,
    -- scheduled, creating, created, failed or cancelled.
    status        TEXT    NOT NULL,
    send_at       INTEGER NOT NULL,
    -- The store of a store manager's task (their guides only); NULL: the brand.
    store_id      INTEGER,
    -- WeCom's asynchronous job, then the moment it made.
    jobid         TEXT,
    moment_id     TEXT UNIQUE,
    -- When add_moment_task was last called (a crash before its answer was stored is
    -- recovered by looking the moment up in WeCom from this time on).
    attempted_at  INTEGER,
    -- Why the task failed, or the tags WeCom did not know (JSON [tag ids]).
    error         TEXT    NOT NULL DEFAULT '',
    invalid_tags  TEXT    NOT NULL DEFAULT '[]',
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    tracked_at    INTEGER
);
CREATE INDEX moment_tasks_store ON moment_tasks (store_id, id);

-- Each guide asked to publish a moments task.
CREATE TABLE moment_senders (
    task_id       INTEGER NOT NULL REFERENCES moment_tasks(id),
    staff_id      INTEGER NOT NULL,
    wecom_userid  TEXT    NOT NULL,
    -- pending, published or invalid.
    state         TEXT    NOT NULL,
    -- Why invalid: not_active (no longer an active guide with a WeCom account when the task
    -- was sent) or wecom_refused (WeCom's invalid_sender_list).
    reason        TEXT    NOT NULL DEFAULT '',
    published_at  INTEGER,
    likes         INTEGER NOT NULL DEFAULT 0,
    comments      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, staff_id)
);

-- Likes and comments on a guide's published post, as WeCom lists them.
CREATE TABLE moment_interactions (
    task_id          INTEGER NOT NULL REFERENCES moment_tasks(id),
    staff_id         INTEGER NOT NULL,
    -- like or comment.
    kind             TEXT    NOT NULL,
    -- The customer's external_userid, or a colleague's userid prefixed "staff:".
    who              TEXT    NOT NULL,
    customer_id      INTEGER,
    at               INTEGER NOT NULL,
    PRIMARY KEY (task_id, staff_id, kind, who, at)
);
CREATE INDEX moment_interactions_customer ON moment_interactions (customer_id);

-- Yutang's images uploaded to WeCom as attachments (上传附件资源): WeCom keeps a media id
-- three days; it is reused while it has at least an hour left and uploaded again after.
CREATE TABLE wecom_attachments (
    media_id        INTEGER NOT NULL,
    -- moment (attachment_type 1).
    purpose         TEXT    NOT NULL,
    wecom_media_id  TEXT    NOT NULL,
    uploaded_at     INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (media_id, purpose)
);
