-- Group SOP calendars (群 SOP, issue #21 items 5 and 7): a journey with a group schedule posts
-- to customer groups at each occurrence, as a group mass message or as a task for each group
-- owner. One row per occurrence posted: the primary key makes an occurrence post once, and
-- the row is written in the transaction that moves the journey to its next occurrence.

CREATE TABLE journey_group_sends (
    journey_id      INTEGER NOT NULL REFERENCES journeys(id),
    -- The occurrence (UTC millis) this post is for.
    occurrence_at   INTEGER  NOT NULL,
    version         INTEGER  NOT NULL,
    -- mass_message or owner_task.
    delivery        TEXT    NOT NULL,
    -- The group mass message made (mass_message).
    message_id      INTEGER,
    -- Guide tasks made (owner_task): one per owner.
    tasks           INTEGER  NOT NULL DEFAULT 0,
    -- Groups posted to, and groups left out (dismissed, or no owner who can post).
    groups          INTEGER  NOT NULL DEFAULT 0,
    skipped         INTEGER  NOT NULL DEFAULT 0,
    created_at      INTEGER  NOT NULL,
    PRIMARY KEY (journey_id, occurrence_at)
);
CREATE INDEX journey_group_sends_at ON journey_group_sends (occurrence_at);
