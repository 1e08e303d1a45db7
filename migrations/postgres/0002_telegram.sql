-- Telegram front end state (PostgreSQL). Keep in step with ../sqlite/0002_telegram.sql.

CREATE TABLE telegram_state (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE blocked_users (
    user_id BIGINT PRIMARY KEY,
    at_ms   BIGINT NOT NULL
);

CREATE TABLE outbox_dead (
    id      BIGINT PRIMARY KEY,
    chat_id BIGINT NOT NULL,
    plugin  TEXT   NOT NULL,
    payload TEXT   NOT NULL,
    reason  TEXT   NOT NULL,
    at_ms   BIGINT NOT NULL
);
