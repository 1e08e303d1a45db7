-- The concurrent sender and message ownership (SQLite). Keep in step with
-- ../postgres/0005_sender.sql.

-- A chat's outbox is delivered by one sender at a time: the one holding its lease.
-- A lease is taken or renewed with a conditional upsert (free, expired, or already
-- ours), so replicas sharing a database never send to one chat concurrently.
CREATE TABLE outbox_lease (
    chat_id     INTEGER PRIMARY KEY,
    owner       TEXT    NOT NULL,
    until_ms    INTEGER NOT NULL
);

-- Messages sent with a host-assigned handle: which plugin sent what, where.
CREATE TABLE sent_messages (
    handle      INTEGER PRIMARY KEY,
    plugin      TEXT    NOT NULL,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL
);
CREATE INDEX sent_messages_message ON sent_messages (chat_id, message_id);
