-- Alerts (PostgreSQL). Keep in step with ../sqlite/0010_alerts.sql.

-- Alerts that are firing: one row from "fired" to "resolved", so a restart neither
-- fires one again nor forgets it. value and threshold are what the last message said.
CREATE TABLE alerts (
    alert        TEXT PRIMARY KEY,
    since_ms     BIGINT NOT NULL,
    last_sent_ms BIGINT NOT NULL,
    value        DOUBLE PRECISION,
    threshold    DOUBLE PRECISION
);

-- The rules' windows: events, and dead letters, by time.
CREATE INDEX IF NOT EXISTS event_log_at ON event_log (at_ms);
CREATE INDEX IF NOT EXISTS inbox_dead_at ON inbox_dead (at_ms);
CREATE INDEX IF NOT EXISTS outbox_dead_at ON outbox_dead (at_ms);
