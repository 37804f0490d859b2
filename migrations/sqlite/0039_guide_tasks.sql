-- The guide task inbox (导购待办, issue #21 item 6): things a guide should do for a customer
-- by a time — call back, send a material, invite to the store — set by a store manager or
-- headquarters, or made by a customer journey's step. The guide marks each done or skipped
-- (with a reason); a reminder reaches them through a WeCom app message when one falls due.

CREATE TABLE guide_tasks (
    id           INTEGER PRIMARY KEY,
    -- The guide who should do it.
    staff_id     INTEGER NOT NULL REFERENCES staff(id),
    -- The guide's store when the task was made (a store manager sees their store's tasks).
    store_id     INTEGER,
    customer_id  INTEGER,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL DEFAULT '',
    -- A material of the library to send with it.
    material_id  INTEGER,
    -- manual (a person made it) or journey (a journey's step).
    source       TEXT    NOT NULL,
    -- What made it, e.g. journey:12:step:2 ('' for a manual task).
    source_ref   TEXT    NOT NULL DEFAULT '',
    -- Makes a task once: a second insert with the same key is a replay and adds nothing.
    dedupe_key   TEXT    NOT NULL UNIQUE,
    due_at       INTEGER NOT NULL,
    -- open, done or skipped; only an open task changes (a guarded update).
    state        TEXT    NOT NULL DEFAULT 'open',
    -- Why it was skipped, or the note it was done with.
    reason       TEXT    NOT NULL DEFAULT '',
    done_at      INTEGER,
    -- WeCom reminders sent (at most 3) and the last one's time.
    reminders    INTEGER NOT NULL DEFAULT 0,
    reminded_at  INTEGER,
    created_by   INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX guide_tasks_staff ON guide_tasks (staff_id, state, due_at);
CREATE INDEX guide_tasks_store ON guide_tasks (store_id, state, due_at);
CREATE INDEX guide_tasks_source_ref ON guide_tasks (source_ref);
