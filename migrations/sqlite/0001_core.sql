-- Wharf core tables (SQLite). Keep in step with ../postgres/0001_core.sql.

-- Plugin key-value data; `version` is the commit sequence number of the last write.
CREATE TABLE kv (
    ns      TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    value   BLOB    NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- Monotonic commit sequence (one row).
CREATE TABLE commit_seq (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO commit_seq (id, n) VALUES (1, 0);

-- Events waiting for a turn. A row is deleted in the commit of the turn that handled it.
CREATE TABLE inbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    lane       INTEGER NOT NULL,
    target     TEXT,
    payload    TEXT    NOT NULL,
    dedupe     TEXT UNIQUE,
    created_ms INTEGER NOT NULL
);

-- Messages and calls waiting to leave for Telegram.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL,
    plugin     TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX outbox_chat ON outbox (chat_id, id);

-- One-shot timers and repeating jobs.
CREATE TABLE timers (
    plugin      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    lane        INTEGER NOT NULL,
    due_ms      INTEGER NOT NULL,
    interval_ms INTEGER,
    payload     BLOB    NOT NULL,
    PRIMARY KEY (plugin, name)
);
CREATE INDEX timers_due ON timers (due_ms);

-- Business events recorded by plugins (secret fields already masked).
CREATE TABLE event_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms    INTEGER NOT NULL,
    plugin   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    user_id  INTEGER,
    fields   TEXT    NOT NULL
);

-- Last version of each plugin seen, to emit installed/upgraded exactly once.
CREATE TABLE plugin_versions (
    plugin  TEXT PRIMARY KEY,
    version TEXT NOT NULL
);
