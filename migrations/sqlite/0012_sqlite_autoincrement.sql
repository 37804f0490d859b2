-- no-transaction
-- SQLite hands a new row max(id) + 1 unless the table is AUTOINCREMENT, so deleting the newest
-- saved segment and saving another gave the new one the old id — and whatever referred to the
-- old one (a coupon template's audience) silently pointed at the new one. PostgreSQL's
-- sequences never reuse ids. The tables whose rows are deleted and whose ids are referred to
-- elsewhere are rebuilt with AUTOINCREMENT: segments, tag_groups, tags and tag_rules. Tables
-- whose rows are never deleted (customers, staff, stores, regions, orders, promotions …)
-- never reuse an id and are left as they are.
--
-- Rebuilding a table that others refer to needs foreign keys off, which SQLite ignores inside
-- a transaction: hence "no-transaction" above and an explicit transaction below. Columns,
-- constraints and defaults are those of 0004 (these tables have no other indexes or triggers).
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE tag_groups_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO tag_groups_new (id, name, multi, sort, source, wecom_id, created_at, updated_at)
    SELECT id, name, multi, sort, source, wecom_id, created_at, updated_at FROM tag_groups;
DROP TABLE tag_groups;
ALTER TABLE tag_groups_new RENAME TO tag_groups;

CREATE TABLE tags_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id    INTEGER NOT NULL REFERENCES tag_groups(id),
    name        TEXT    NOT NULL,
    color       TEXT    NOT NULL DEFAULT '#1677ff',
    sort        INTEGER NOT NULL DEFAULT 0,
    wecom_id    TEXT UNIQUE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (group_id, name)
);
INSERT INTO tags_new (id, group_id, name, color, sort, wecom_id, created_at, updated_at)
    SELECT id, group_id, name, color, sort, wecom_id, created_at, updated_at FROM tags;
DROP TABLE tags;
ALTER TABLE tags_new RENAME TO tags;

CREATE TABLE tag_rules_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO tag_rules_new (id, name, group_id, kind, config, enabled, last_run_at, last_changes, created_at, updated_at)
    SELECT id, name, group_id, kind, config, enabled, last_run_at, last_changes, created_at, updated_at FROM tag_rules;
DROP TABLE tag_rules;
ALTER TABLE tag_rules_new RENAME TO tag_rules;

CREATE TABLE segments_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    expression  TEXT    NOT NULL,
    created_by  INTEGER REFERENCES staff(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO segments_new (id, name, expression, created_by, created_at, updated_at)
    SELECT id, name, expression, created_by, created_at, updated_at FROM segments;
DROP TABLE segments;
ALTER TABLE segments_new RENAME TO segments;

COMMIT;
PRAGMA foreign_keys = ON;
