-- Mass messages to customer groups (客户群群发, issue #21 item 2): a message whose audience is
-- groups is sent through each group's owner (WeCom's chat_type group). Each group decided is
-- a row here, as each customer is in mass_message_recipients; the groups sent enter their own
-- ledger, which WeCom's receipt rule counts per group.

CREATE TABLE mass_message_groups (
    message_id    BIGINT NOT NULL REFERENCES mass_messages(id),
    group_id      BIGINT NOT NULL,
    -- excluded, queued, task_created, delivered or failed.
    state         TEXT    NOT NULL,
    -- Why excluded or failed.
    reason        TEXT    NOT NULL DEFAULT '',
    -- The owner who sends.
    staff_id      BIGINT,
    task_id       BIGINT,
    chat_id       TEXT,
    delivered_at  BIGINT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (message_id, group_id)
);
CREATE INDEX mass_message_groups_task ON mass_message_groups (task_id);

-- Mass messages each group received through WeCom's mass sending (what the receipt cap counts).
CREATE TABLE group_message_contacts (
    group_id  BIGINT NOT NULL,
    -- mass_message:{id}, …
    source    TEXT    NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (group_id, source)
);
CREATE INDEX group_message_contacts_at ON group_message_contacts (group_id, at);
