-- Stored value (储值) and member gifts (会员礼), issue #22 item 5.
--
-- A stored-value balance is an append-only double-entry ledger in fen like points (0023):
-- every entry moves `principal + gift` from one account to another — a customer's, or the
-- brand's `issued` (top-ups and gifts come out of it, top-up refunds go back), `spent`
-- (checkout) or `transfer` (merges) — so the sum over all accounts is zero. A customer's
-- account holds two portions, `principal` (money paid) and `gift` (bonus), each never below
-- zero (the CHECKs back the guarded UPDATEs). Spends take principal first and gift last.

CREATE TABLE stored_value_accounts (
    customer_id  INTEGER PRIMARY KEY REFERENCES customers(id),
    principal    INTEGER NOT NULL DEFAULT 0 CHECK (principal >= 0),
    gift         INTEGER NOT NULL DEFAULT 0 CHECK (gift >= 0),
    -- Running totals (fen): paid in, given, spent net of spend refunds, returned in cash by
    -- top-up refunds, gift clawed back by top-up refunds.
    topped_up    INTEGER NOT NULL DEFAULT 0,
    gifted       INTEGER NOT NULL DEFAULT 0,
    spent        INTEGER NOT NULL DEFAULT 0,
    refunded     INTEGER NOT NULL DEFAULT 0,
    clawed_back  INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE stored_value_entries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The cause, once: top_up:{order no}, top_up_gift:{order no}, spend:{caller}:{key},
    -- spend_refund:{spend}:{refund no}, top_up_refund:{top-up}, member_gift:{grant}, merge_*.
    entry_key        TEXT    NOT NULL UNIQUE,
    fingerprint      TEXT    NOT NULL DEFAULT '',
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    -- top_up, gift, spend, spend_refund, top_up_refund, transfer_out, transfer_in
    kind             TEXT    NOT NULL,
    debit            TEXT    NOT NULL,
    credit           TEXT    NOT NULL,
    principal        INTEGER NOT NULL CHECK (principal >= 0),
    gift             INTEGER NOT NULL CHECK (gift >= 0),
    amount           INTEGER NOT NULL CHECK (amount > 0 AND amount = principal + gift),
    -- The customer's portions after this entry (the running balance).
    principal_after  INTEGER NOT NULL CHECK (principal_after >= 0),
    gift_after       INTEGER NOT NULL CHECK (gift_after >= 0),
    source_type      TEXT    NOT NULL,
    source_id        TEXT    NOT NULL DEFAULT '',
    reason           TEXT    NOT NULL DEFAULT '',
    actor            TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    CHECK (debit <> credit)
);
CREATE INDEX stored_value_entries_customer ON stored_value_entries(customer_id, id);

-- Top-up gift rules: a top-up of at least `min_top_up_fen` gets the best rule's rewards.
CREATE TABLE stored_value_gift_rules (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL,
    min_top_up_fen      INTEGER NOT NULL CHECK (min_top_up_fen > 0),
    gift_fen            INTEGER NOT NULL DEFAULT 0 CHECK (gift_fen >= 0),
    points              INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    coupon_template_id  INTEGER REFERENCES coupon_templates(id),
    -- active, archived
    status              TEXT    NOT NULL DEFAULT 'active',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- A top-up (paid outside: the POS or the mini-program's payment), once per external order no.
CREATE TABLE stored_value_top_ups (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    order_no            TEXT    NOT NULL UNIQUE,
    fingerprint         TEXT    NOT NULL,
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    amount_fen          INTEGER NOT NULL CHECK (amount_fen > 0),
    -- The gift rule applied (none: no rule matched) and what it gave.
    rule_id             INTEGER REFERENCES stored_value_gift_rules(id),
    gift_fen            INTEGER NOT NULL DEFAULT 0 CHECK (gift_fen >= 0),
    gift_points         INTEGER NOT NULL DEFAULT 0 CHECK (gift_points >= 0),
    coupon_template_id  INTEGER,
    -- paid, refunded
    status              TEXT    NOT NULL DEFAULT 'paid',
    entry_id            INTEGER NOT NULL REFERENCES stored_value_entries(id),
    -- What the refund returned in cash and clawed back of the gift.
    refunded_fen        INTEGER NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0),
    clawed_back_fen     INTEGER NOT NULL DEFAULT 0 CHECK (clawed_back_fen >= 0),
    created_by          TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    refunded_at         INTEGER
);
CREATE INDEX stored_value_top_ups_customer ON stored_value_top_ups(customer_id, id);

-- A spend at checkout, once per idempotency key; refunds (whole or in parts) add up here.
CREATE TABLE stored_value_spends (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key     TEXT    NOT NULL UNIQUE,
    fingerprint         TEXT    NOT NULL,
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    amount_fen          INTEGER NOT NULL CHECK (amount_fen > 0 AND amount_fen = principal + gift),
    principal           INTEGER NOT NULL CHECK (principal >= 0),
    gift                INTEGER NOT NULL CHECK (gift >= 0),
    refunded_principal  INTEGER NOT NULL DEFAULT 0 CHECK (refunded_principal >= 0 AND refunded_principal <= principal),
    refunded_gift       INTEGER NOT NULL DEFAULT 0 CHECK (refunded_gift >= 0 AND refunded_gift <= gift),
    order_ref           TEXT    NOT NULL DEFAULT '',
    entry_id            INTEGER NOT NULL REFERENCES stored_value_entries(id),
    created_by          TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
);
CREATE INDEX stored_value_spends_customer ON stored_value_spends(customer_id, id);

-- Member gifts (brand-wide, separate from the tiers' birthday coupon): birthday or
-- anniversary of joining, given by the daily `member_gifts` job once per customer per rule
-- per Shanghai year.
CREATE TABLE member_gift_rules (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL,
    -- birthday, anniversary
    kind                TEXT    NOT NULL,
    -- month, day
    mode                TEXT    NOT NULL,
    coupon_template_id  INTEGER REFERENCES coupon_templates(id),
    points              INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    gift_fen            INTEGER NOT NULL DEFAULT 0 CHECK (gift_fen >= 0),
    -- active, archived
    status              TEXT    NOT NULL DEFAULT 'active',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE member_gift_grants (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    -- {kind}:{customer}:{year}:{rule}
    grant_key           TEXT    NOT NULL UNIQUE,
    rule_id             INTEGER NOT NULL REFERENCES member_gift_rules(id),
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    kind                TEXT    NOT NULL,
    year                INTEGER NOT NULL,
    coupon_template_id  INTEGER,
    points              INTEGER NOT NULL DEFAULT 0,
    gift_fen            INTEGER NOT NULL DEFAULT 0,
    -- 1 once the coupon (if any) was issued (the issue is keyed by the grant: a re-run
    -- issues what a crash left out).
    coupon_done         INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
);
CREATE INDEX member_gift_grants_recent ON member_gift_grants(id);
CREATE INDEX member_gift_grants_customer ON member_gift_grants(customer_id);
