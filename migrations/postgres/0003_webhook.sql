-- See ../sqlite/0003_webhook.sql.
CREATE TABLE telegram_updates (
    update_id BIGINT PRIMARY KEY,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX telegram_updates_at ON telegram_updates (at_ms);
