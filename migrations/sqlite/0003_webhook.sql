-- Update ids received by webhook in the last day: Telegram redelivers an update whose
-- delivery was not answered with 200 (say, after a crash), and this skips it.
CREATE TABLE telegram_updates (
    update_id INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL
);
CREATE INDEX telegram_updates_at ON telegram_updates (at_ms);
