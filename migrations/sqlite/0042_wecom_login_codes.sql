-- Sign in with WeCom (企业微信登录, issue #23 item 1): the OAuth / web-login codes that opened
-- a console session. WeCom's codes are single-use and live 5 minutes; Yutang refuses a code it
-- has seen even if WeCom would still accept it. Only a SHA-256 of the code is kept. The row is
-- written in the transaction that creates the session, so a code opens at most one session.

CREATE TABLE wecom_login_codes (
    -- hex SHA-256 of the code as WeCom handed it.
    code_hash   TEXT    PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    -- When it was used (UTC millis); rows older than a day are pruned.
    used_at     INTEGER NOT NULL
);
CREATE INDEX wecom_login_codes_used ON wecom_login_codes(used_at);
