-- Product images (商品图片) uploaded to Yutang and served by it at /h5/media/{id}, so the H5
-- pages load nothing from another host. One row per distinct file: the same bytes uploaded
-- again find their row by the SHA-256 (hex), so an upload is idempotent. The format and size
-- were read from the bytes themselves when the file was accepted (PNG, JPEG or WebP only).
CREATE TABLE media (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256        TEXT    NOT NULL UNIQUE,
    content_type  TEXT    NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    size_bytes    INTEGER NOT NULL,
    bytes         BLOB    NOT NULL,
    created_by    INTEGER REFERENCES staff(id),
    created_at    INTEGER NOT NULL
);
