-- The log sink (SQLite). Keep in step with ../postgres/0007_log_sink.sql.

-- What an event says about itself for the admin channel: level (0 trace … 4 error),
-- title and emoji. Rows of the previous release read as info without a title.
ALTER TABLE event_log ADD COLUMN level INTEGER NOT NULL DEFAULT 2;
ALTER TABLE event_log ADD COLUMN title TEXT;
ALTER TABLE event_log ADD COLUMN emoji TEXT;

-- Users the bot has seen: who is new on /start, and the @username the channel shows.
CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    username      TEXT,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL
);
