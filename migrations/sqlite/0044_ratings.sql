-- Consultant choice and service ratings (专属顾问与服务评价, issue #23 item 5). A customer sees
-- their consultant (the owner of their follows), chooses another active guide of the same
-- store (consultant_changes: done at once when that guide already follows them, pending with a
-- guide task to add them otherwise), and rates a done guide task or an order 1–5 with a
-- comment (service_ratings: once per subject and customer). A low rating alerts the rated
-- guide's store managers through WeCom app messages queued in the rating's transaction.

CREATE TABLE service_ratings (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    -- The guide rated: the task's guide, or the order's guide (else the owner then).
    staff_id         INTEGER NOT NULL REFERENCES staff(id),
    -- The guide's store when the rating was made (a store manager sees their store's).
    store_id         INTEGER,
    -- task (a done guide task on the customer) or order (the customer's order).
    subject_kind     TEXT    NOT NULL,
    subject_id       INTEGER NOT NULL,
    -- 1 to 5.
    score            INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    -- At most 500 characters; may be empty.
    comment          TEXT    NOT NULL DEFAULT '',
    -- The client's Idempotency-Key, namespaced by the customer (NULL without one).
    idempotency_key  TEXT    UNIQUE,
    -- What was asked (kind, subject, score, comment): a replay must match it.
    fingerprint      TEXT    NOT NULL,
    -- Whether the score was at or under the low-rating line when made (managers were told).
    low              INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    UNIQUE (subject_kind, subject_id, customer_id)
);
CREATE INDEX service_ratings_staff ON service_ratings (staff_id, id);
CREATE INDEX service_ratings_store ON service_ratings (store_id, id);
CREATE INDEX service_ratings_customer ON service_ratings (customer_id, id);
CREATE INDEX service_ratings_created ON service_ratings (created_at);

CREATE TABLE consultant_changes (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    -- The consultant before (NULL when the customer had none).
    from_staff_id    INTEGER,
    to_staff_id      INTEGER NOT NULL REFERENCES staff(id),
    store_id         INTEGER,
    -- done (the guide follows the customer and is now the owner) or pending (the guide was
    -- given a task to add the customer; done when their follow arrives), or superseded (the
    -- customer chose again before it was done).
    status           TEXT    NOT NULL,
    -- The guide task of a pending change.
    task_id          INTEGER,
    idempotency_key  TEXT    UNIQUE,
    fingerprint      TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    done_at          INTEGER
);
CREATE INDEX consultant_changes_customer ON consultant_changes (customer_id, status, id);
CREATE INDEX consultant_changes_pending ON consultant_changes (to_staff_id, status);
