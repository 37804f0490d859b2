-- The material library (素材库, issue #21 item 4): posters, images, copy, links and
-- mini-program cards in folders with tags, and tracked links (雷达): one link per material,
-- guide and (when known) customer; each open of it recorded with the time spent on the page.

CREATE TABLE material_folders (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    sort        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE materials (
    id              INTEGER PRIMARY KEY,
    folder_id       INTEGER REFERENCES material_folders(id),
    -- poster, image, text, link or miniprogram.
    kind            TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    -- The copy (text), a poster's caption, a link's description.
    body            TEXT    NOT NULL DEFAULT '',
    -- A link's URL.
    url             TEXT,
    -- The image (poster, image), a link's or a mini-program card's cover (media.id).
    media_id        INTEGER,
    -- A mini-program card: its appid and page path.
    appid           TEXT,
    page            TEXT,
    -- JSON ["tag", …]: free labels to find materials by.
    tags            TEXT    NOT NULL DEFAULT '[]',
    -- active or archived.
    status          TEXT    NOT NULL DEFAULT 'active',
    created_by      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX materials_folder ON materials (folder_id, id);

-- One tracked link per (material, guide, customer); the customer is 0 when unknown (a link
-- for a group or a moments post).
CREATE TABLE material_links (
    token        TEXT    PRIMARY KEY,
    material_id  INTEGER NOT NULL REFERENCES materials(id),
    staff_id     INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    UNIQUE (material_id, staff_id, customer_id)
);

-- Each open of a tracked link: the viewer (a random cookie), whether it was someone other
-- than the link's first viewer (a forward), and the seconds the page stayed open.
CREATE TABLE material_views (
    id           INTEGER PRIMARY KEY,
    token        TEXT    NOT NULL REFERENCES material_links(token),
    material_id  INTEGER NOT NULL,
    viewer       TEXT    NOT NULL,
    forwarded    INTEGER NOT NULL DEFAULT 0,
    opened_at    INTEGER NOT NULL,
    seconds      INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX material_views_token ON material_views (token, opened_at);
CREATE INDEX material_views_material ON material_views (material_id);

-- The guide notices sent ("客户 X 正在看《…》"): one per link per half hour, and WeCom's 30
-- app messages per member per minute are counted from here.
CREATE TABLE material_notices (
    token     TEXT    NOT NULL,
    staff_id  INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (token, at)
);
CREATE INDEX material_notices_staff ON material_notices (staff_id, at);
