-- The QR image of each live code, kept by Yutang (issue #19): WeCom's contact-way image
-- (downloaded from the qr_code URL add_contact_way answered), or for an acquisition link the
-- QR of its URL, drawn by Yutang. The console and the API serve it from here, so no page
-- loads WeCom's image host, and the store-stand poster is drawn from it.
--
-- One row per code, for the URL it was made from (live_codes.qr_url when it was fetched):
-- the image is current only while source_url is still the code's qr_url. A failed download
-- leaves bytes NULL with the reason in error; the next sync of the code tries again.
CREATE TABLE live_code_images (
    code_id       BIGINT  PRIMARY KEY REFERENCES live_codes(id),
    source_url    TEXT    NOT NULL,
    -- image/png or image/jpeg (read from the bytes); '' while not stored.
    content_type  TEXT    NOT NULL DEFAULT '',
    bytes         BYTEA,
    -- SHA-256 of bytes, hex; '' while not stored.
    sha256        TEXT    NOT NULL DEFAULT '',
    size_bytes    BIGINT  NOT NULL DEFAULT 0,
    stored_at     BIGINT,
    -- Why the last attempt failed ('' when it did not), and when it was made.
    error         TEXT    NOT NULL DEFAULT '',
    attempted_at  BIGINT  NOT NULL
);
