-- The public callback URL the operator entered for the setup checker (接入检查): the URL
-- pasted into the WeCom app's 接收消息 settings, e.g. https://scrm.example.com/wecom/callback.
-- The checker sends WeCom's URL-verification request through it. Not a secret; '' = not set.
ALTER TABLE wecom_settings ADD COLUMN callback_public_url TEXT NOT NULL DEFAULT '';
