-- Customer notes (跟进记录, issue #23 item 2): what a guide or headquarters wrote down after
-- talking to a customer, newest first on the customer page and in the chat sidebar. A note
-- is written once and never edited; a merge moves the loser's notes to the survivor.

CREATE TABLE customer_notes (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    -- The staff member who wrote it; NULL when an API token did (the author names it).
    staff_id      INTEGER REFERENCES staff(id),
    -- Who wrote it as the audit log names them (username or token name), kept for display.
    author        TEXT    NOT NULL,
    -- 1–500 characters, line breaks allowed (checked by the app).
    body          TEXT    NOT NULL,
    -- The client's Idempotency-Key, namespaced by caller; NULL without one.
    source_key    TEXT    UNIQUE,
    -- The request the key came with (customer and body), so a replay with another body is
    -- refused.
    fingerprint   TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX customer_notes_customer ON customer_notes (customer_id, created_at DESC, id DESC);
