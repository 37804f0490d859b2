-- Invite-a-friend (老带新, issue #19 item 5): referral programs, each inviter's personal link,
-- and one row per attempt to bind a friend to an inviter — bound, refused (with the fraud
-- rule that stopped it), then qualifying, rewarded or disqualified — with the rewards of both
-- sides, so a replay or a crash never rewards twice.

CREATE TABLE referral_programs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    -- The live code a friend adds through.
    live_code_id  INTEGER NOT NULL REFERENCES live_codes(id),
    -- The store of the code's channel (NULL: brand-wide), for store-bound roles' scope.
    store_id      INTEGER REFERENCES stores(id),
    -- The whole ReferralSpec as JSON.
    spec          TEXT    NOT NULL,
    archived_at   INTEGER,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- An inviter's personal link in one program: a customer or a staff member, never both.
CREATE TABLE referral_links (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    program_id   INTEGER NOT NULL REFERENCES referral_programs(id),
    -- 12 letters and digits; the link's WeCom state is 'rf-' || code.
    code         TEXT    NOT NULL UNIQUE,
    customer_id  INTEGER REFERENCES customers(id),
    staff_id     INTEGER REFERENCES staff(id),
    -- Times the invite page was opened.
    visits       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    UNIQUE (program_id, customer_id),
    UNIQUE (program_id, staff_id)
);

CREATE TABLE referrals (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The attempt's key: the add callback's dedup key, or page:{link}:{customer}.
    dedup_key         TEXT    NOT NULL UNIQUE,
    program_id        INTEGER NOT NULL REFERENCES referral_programs(id),
    link_id           INTEGER NOT NULL REFERENCES referral_links(id),
    invitee_id        INTEGER NOT NULL REFERENCES customers(id),
    -- add (through the link's WeCom state) or page (opened signed in).
    via               TEXT    NOT NULL,
    -- bound, qualifying, rewarded, disqualified, refused.
    status            TEXT    NOT NULL,
    -- The rule that refused or disqualified it (core's Refusal).
    reason            TEXT    NOT NULL DEFAULT '',
    -- SHA-256 of the friend's phone and unionid when bound or qualifying (never the values):
    -- one person behind several friends is refused.
    phone_hash        TEXT,
    unionid_hash      TEXT,
    order_id          INTEGER REFERENCES orders(id),
    add_id            INTEGER REFERENCES channel_adds(id),
    qualifies_at      INTEGER,
    -- Each side's reward: '' (none in the program), pending, issued, refused, withheld.
    invitee_reward    TEXT    NOT NULL DEFAULT '',
    invitee_claim_id  INTEGER,
    inviter_reward    TEXT    NOT NULL DEFAULT '',
    inviter_claim_id  INTEGER,
    reward_error      TEXT    NOT NULL DEFAULT '',
    -- The Shanghai day the inviter's reward counted on (the daily cap).
    rewarded_day      TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
-- A friend is bound at most once per program.
CREATE UNIQUE INDEX referrals_one_binding ON referrals(program_id, invitee_id)
    WHERE status <> 'refused';
CREATE INDEX referrals_program ON referrals(program_id, status);
CREATE INDEX referrals_link ON referrals(link_id, status);
CREATE INDEX referrals_invitee ON referrals(invitee_id);
CREATE INDEX referrals_phone ON referrals(phone_hash);
CREATE INDEX referrals_unionid ON referrals(unionid_hash);
