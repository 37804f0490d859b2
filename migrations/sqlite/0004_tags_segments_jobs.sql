-- Tags, auto-tag rules, saved segments and the durable job table. Same conventions as 0001.

CREATE TABLE tag_groups (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    -- 0: a customer holds at most one tag of the group (宝宝月龄); 1: any number (兴趣).
    multi       INTEGER NOT NULL DEFAULT 1,
    sort        INTEGER NOT NULL DEFAULT 0,
    -- 'manual' (staff tag by hand), 'rule' (owned by an auto-tag rule), 'wecom' (corp tags).
    source      TEXT    NOT NULL DEFAULT 'manual',
    wecom_id    TEXT UNIQUE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY,
    group_id    INTEGER NOT NULL REFERENCES tag_groups(id),
    name        TEXT    NOT NULL,
    color       TEXT    NOT NULL DEFAULT '#1677ff',
    sort        INTEGER NOT NULL DEFAULT 0,
    wecom_id    TEXT UNIQUE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (group_id, name)
);

CREATE TABLE customer_tags (
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    tag_id       INTEGER NOT NULL REFERENCES tags(id),
    -- 'manual', 'bulk', 'rule', 'import', 'wecom'.
    source       TEXT    NOT NULL,
    staff_id     INTEGER,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (customer_id, tag_id)
);
CREATE INDEX customer_tags_tag ON customer_tags(tag_id, customer_id);

CREATE TABLE tag_rules (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    -- The group whose tags this rule keeps true (source 'rule').
    group_id     INTEGER NOT NULL UNIQUE REFERENCES tag_groups(id),
    kind         TEXT    NOT NULL,
    -- JSON; its shape depends on kind (see yutang_core::tags::RuleSpec).
    config       TEXT    NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    last_run_at  INTEGER,
    last_changes INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE segments (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    expression  TEXT    NOT NULL,
    created_by  INTEGER REFERENCES staff(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Durable jobs: timers, bulk work, syncs. A runner claims due rows (SKIP LOCKED on
-- PostgreSQL), records progress as it goes and finishes them; a crashed runner's lease runs
-- out and another picks the job up again.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    -- 'queued', 'running', 'done', 'failed'.
    status           TEXT    NOT NULL DEFAULT 'queued',
    run_at           INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    locked_until     INTEGER,
    progress_done    INTEGER NOT NULL DEFAULT 0,
    progress_total   INTEGER NOT NULL DEFAULT 0,
    result           TEXT    NOT NULL DEFAULT '',
    last_error       TEXT    NOT NULL DEFAULT '',
    idempotency_key  TEXT UNIQUE,
    created_by       INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(status, run_at);
CREATE INDEX jobs_kind ON jobs(kind, created_at);
