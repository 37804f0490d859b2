-- SQLite's 0012 rebuilds segments, tag_groups, tags and tag_rules with AUTOINCREMENT so a
-- deleted row's id is never handed out again. PostgreSQL's identity sequences never reuse an
-- id: nothing to do here (the version exists so both trees keep the same numbers).
SELECT 1;
