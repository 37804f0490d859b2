-- The journey engine (SOP / 自动化旅程, issue #21 item 5): a journey is a trigger and a list
-- of steps; each customer it enrols walks the steps as a run. Definitions are versioned: a
-- run stays on the version it entered with.

CREATE TABLE journeys (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    -- draft, active, paused or archived.
    status          TEXT    NOT NULL DEFAULT 'draft',
    -- The latest version (journey_versions); new runs enter on it.
    version         INTEGER  NOT NULL DEFAULT 1,
    -- event, schedule, date, segment_enter or segment_leave.
    trigger_kind    TEXT    NOT NULL,
    -- An event trigger's kind: the event follower matches on it.
    trigger_event   TEXT,
    -- Why the engine paused it (something it refers to was archived), shown in the console.
    paused_reason   TEXT    NOT NULL DEFAULT '',
    -- Schedule and date triggers: the next occurrence to fire.
    next_fire_at    INTEGER,
    -- Segment enter / leave triggers: the members seen last (a serialized roaring bitmap).
    members         BLOB,
    members_at      INTEGER,
    created_by      INTEGER,
    created_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL
);
CREATE INDEX journeys_event ON journeys (status, trigger_event);

CREATE TABLE journey_versions (
    journey_id      INTEGER  NOT NULL REFERENCES journeys(id),
    version         INTEGER  NOT NULL,
    -- The definition as JSON (yutang_core::journeys::Definition).
    definition      TEXT    NOT NULL,
    created_by      INTEGER,
    created_at      INTEGER  NOT NULL,
    PRIMARY KEY (journey_id, version)
);

-- One row per customer ever enrolled: the enrolment rule is a guarded upsert on it.
CREATE TABLE journey_members (
    journey_id      INTEGER  NOT NULL REFERENCES journeys(id),
    customer_id     INTEGER  NOT NULL,
    entries         INTEGER  NOT NULL DEFAULT 1,
    last_entered_at INTEGER  NOT NULL,
    -- 1 while a run is in flight (a customer is never in one journey twice at once).
    active          INTEGER  NOT NULL DEFAULT 1,
    PRIMARY KEY (journey_id, customer_id)
);

CREATE TABLE journey_runs (
    id              INTEGER PRIMARY KEY,
    journey_id      INTEGER  NOT NULL REFERENCES journeys(id),
    version         INTEGER  NOT NULL,
    customer_id     INTEGER  NOT NULL,
    -- The step to run next (0-based); the number of steps when done.
    step            INTEGER  NOT NULL DEFAULT 0,
    -- active (due at due_at), sending (waiting for its message batch), done, exited, failed.
    state           TEXT    NOT NULL DEFAULT 'active',
    due_at          INTEGER  NOT NULL,
    -- A node working on the run holds it until then (another node skips it meanwhile).
    lease_until     INTEGER  NOT NULL DEFAULT 0,
    -- What enrolled it: event:<id>, schedule:<instant>, date:<day>, segment:<instant>.
    cause           TEXT    NOT NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    entered_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL,
    ended_at        INTEGER
);
CREATE INDEX journey_runs_due ON journey_runs (state, due_at);
CREATE INDEX journey_runs_journey ON journey_runs (journey_id, state, step);
CREATE INDEX journey_runs_customer ON journey_runs (customer_id, id);

-- What each run did, step by step: the per-customer trace and the per-step counts.
CREATE TABLE journey_trace (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER  NOT NULL REFERENCES journey_runs(id),
    journey_id      INTEGER  NOT NULL,
    step            INTEGER  NOT NULL,
    kind            TEXT    NOT NULL,
    -- entered, done, skipped, branched, waiting, failed, exited.
    outcome         TEXT    NOT NULL,
    detail          TEXT    NOT NULL DEFAULT '{}',
    at              INTEGER  NOT NULL
);
CREATE INDEX journey_trace_run ON journey_trace (run_id, id);
CREATE INDEX journey_trace_step ON journey_trace (journey_id, step, outcome);

-- The event follower's position (yutang_store::feed).
CREATE TABLE journey_feed (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    from_mark  TEXT    NOT NULL,
    to_mark    TEXT,
    after_id   INTEGER  NOT NULL DEFAULT 0
);
INSERT INTO journey_feed (id, from_mark) VALUES (1, CAST((SELECT COALESCE(MAX(id), 0) FROM events) AS TEXT));
