-- Inbound order and member sync (issue #24 item 7): shops and order systems push orders,
-- payments, shipments, refunds and member records to Yutang as signed messages.
--
-- A source is one sender: its format (generic: Yutang's own signed JSON; youzan: 有赞云's
-- message push), the public key in its receiving URL, and the secret that signs its
-- messages, sealed by the secret box. Every message that passed its signature check is kept
-- in inbound_messages with what became of it; UNIQUE (source_id, dedupe_key) makes a resent
-- message a replay. An order created before it is paid waits in inbound_drafts.

CREATE TABLE inbound_sources (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    -- generic or youzan.
    format         TEXT    NOT NULL,
    -- The last segment of the receiving URL: in_ and 24 letters or digits.
    source_key     TEXT    NOT NULL UNIQUE,
    -- The channel orders are recorded under (youzan, mini_program, pos …).
    channel        TEXT    NOT NULL,
    -- The store orders are attributed to when a message names none.
    store_id       INTEGER REFERENCES stores(id),
    -- 有赞's client_id (youzan sources); '' for generic ones.
    app_id         TEXT    NOT NULL DEFAULT '',
    -- The signing secret (generic) or 有赞's client_secret, sealed (field inbound.secret).
    secret_sealed  TEXT    NOT NULL,
    -- active or paused (a paused source answers 503, so the sender retries later).
    status         TEXT    NOT NULL DEFAULT 'active',
    created_by     INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    archived_at    INTEGER
);

CREATE TABLE inbound_messages (
    id             INTEGER PRIMARY KEY,
    source_id      INTEGER NOT NULL REFERENCES inbound_sources(id),
    -- The sender's message id (generic id, 有赞 msg_id), or what stands for it.
    dedupe_key     TEXT    NOT NULL,
    -- The message's type as the sender named it (order.paid, trade_TradePaid …).
    kind           TEXT    NOT NULL,
    external_id    TEXT    NOT NULL DEFAULT '',
    -- applied, ignored, draft (an unpaid order kept), failed (error_code says why).
    status         TEXT    NOT NULL,
    order_id       INTEGER,
    customer_id    INTEGER,
    error_code     TEXT    NOT NULL DEFAULT '',
    error_message  TEXT    NOT NULL DEFAULT '',
    -- The body as received (what a retry from the console runs again).
    payload        TEXT    NOT NULL,
    -- The 有赞 Event-Type header, when the body has no type.
    header_kind    TEXT    NOT NULL DEFAULT '',
    attempts       INTEGER NOT NULL DEFAULT 1,
    received_at    INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (source_id, dedupe_key)
);
CREATE INDEX inbound_messages_log ON inbound_messages (source_id, id);

CREATE TABLE inbound_drafts (
    source_id    INTEGER NOT NULL REFERENCES inbound_sources(id),
    external_id  TEXT    NOT NULL,
    -- The order as parsed (JSON), recorded when its payment arrives.
    payload      TEXT    NOT NULL,
    -- open, paid or closed.
    status       TEXT    NOT NULL DEFAULT 'open',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (source_id, external_id)
);
