-- Group SOP calendars (群 SOP, issue #21 items 5 and 7): a journey with a group schedule posts
-- to customer groups at each occurrence, as a group mass message or as a task for each group
-- owner. One row per occurrence posted: the primary key makes an occurrence post once, and
-- the row is written in the transaction that moves the journey to its next occurrence.

CREATE TABLE journey_group_sends (
    journey_id      BIGINT  NOT NULL REFERENCES journeys(id),
    -- The occurrence (UTC millis) this post is for.
    occurrence_at   BIGINT  NOT NULL,
    version         BIGINT  NOT NULL,
    -- mass_message or owner_task.
    delivery        TEXT    NOT NULL,
    -- The group mass message made (mass_message).
    message_id      BIGINT,
    -- Guide tasks made (owner_task): one per owner.
    tasks           BIGINT  NOT NULL DEFAULT 0,
    -- Groups posted to, and groups left out (dismissed, or no owner who can post).
    groups          BIGINT  NOT NULL DEFAULT 0,
    skipped         BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (journey_id, occurrence_at)
);
CREATE INDEX journey_group_sends_at ON journey_group_sends (occurrence_at);
