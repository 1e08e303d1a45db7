-- The concurrent sender and message ownership (PostgreSQL). Keep in step with
-- ../sqlite/0005_sender.sql.

CREATE TABLE outbox_lease (
    chat_id     BIGINT PRIMARY KEY,
    owner       TEXT   NOT NULL,
    until_ms    BIGINT NOT NULL
);

CREATE TABLE sent_messages (
    handle      BIGINT PRIMARY KEY,
    plugin      TEXT   NOT NULL,
    chat_id     BIGINT NOT NULL,
    message_id  BIGINT NOT NULL,
    at_ms       BIGINT NOT NULL
);
CREATE INDEX sent_messages_message ON sent_messages (chat_id, message_id);
