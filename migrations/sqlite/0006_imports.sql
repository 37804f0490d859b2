-- Import runs from the console's upload page: the uploaded file (kept until the run finishes),
-- its headers, the chosen column mapping, the state, progress and the last report. Version
-- 0006 (0004 and 0005 belong to other areas; the migrator applies whatever is missing, so
-- the gap is harmless).

CREATE TABLE import_runs (
    id            INTEGER PRIMARY KEY,
    -- customers | orders
    kind          TEXT    NOT NULL,
    file_name     TEXT    NOT NULL,
    file_bytes    INTEGER NOT NULL,
    -- The uploaded file; NULL once the real run has finished.
    content       BLOB,
    -- JSON array of the header cells.
    headers       TEXT    NOT NULL,
    -- JSON array of [header, field] pairs ("" = ignore the column).
    mapping       TEXT    NOT NULL DEFAULT '[]',
    -- uploaded | checking (dry run) | checked | running | done | failed
    state         TEXT    NOT NULL,
    rows_total    INTEGER NOT NULL DEFAULT 0,
    -- Progress of the current dry run or run: items done of items to do.
    progress_done  INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    -- JSON of the last dry run's or run's report.
    report        TEXT,
    error         TEXT    NOT NULL DEFAULT '',
    created_by    INTEGER REFERENCES staff(id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    -- Written every second while checking or running; a stale heartbeat means the process died.
    heartbeat_at  INTEGER
);
CREATE INDEX import_runs_created ON import_runs(created_at);
