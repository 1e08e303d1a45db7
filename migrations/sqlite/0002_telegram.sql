-- Telegram front end state (SQLite). Keep in step with ../postgres/0002_telegram.sql.

-- Small named values: the getUpdates offset, blocked users' marks, …
CREATE TABLE telegram_state (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Users who blocked the bot (sends to them are not retried).
CREATE TABLE blocked_users (
    user_id INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL
);

-- Outbox rows that Telegram refused for good, with the reason.
CREATE TABLE outbox_dead (
    id       INTEGER PRIMARY KEY,
    chat_id  INTEGER NOT NULL,
    plugin   TEXT    NOT NULL,
    payload  TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    at_ms    INTEGER NOT NULL
);
