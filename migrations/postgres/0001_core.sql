-- Wharf core tables (PostgreSQL). Keep in step with ../sqlite/0001_core.sql.

CREATE TABLE kv (
    ns      TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE "C" NOT NULL,
    value   BYTEA  NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (ns, key)
);

CREATE TABLE commit_seq (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
INSERT INTO commit_seq (id, n) VALUES (1, 0);

CREATE TABLE inbox (
    id         BIGSERIAL PRIMARY KEY,
    lane       BIGINT NOT NULL,
    target     TEXT,
    payload    TEXT   NOT NULL,
    dedupe     TEXT UNIQUE,
    created_ms BIGINT NOT NULL
);

CREATE TABLE outbox (
    id         BIGSERIAL PRIMARY KEY,
    chat_id    BIGINT NOT NULL,
    plugin     TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX outbox_chat ON outbox (chat_id, id);

CREATE TABLE timers (
    plugin      TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    lane        BIGINT NOT NULL,
    due_ms      BIGINT NOT NULL,
    interval_ms BIGINT,
    payload     BYTEA  NOT NULL,
    PRIMARY KEY (plugin, name)
);
CREATE INDEX timers_due ON timers (due_ms);

CREATE TABLE event_log (
    id      BIGSERIAL PRIMARY KEY,
    at_ms   BIGINT NOT NULL,
    plugin  TEXT   NOT NULL,
    kind    TEXT   NOT NULL,
    user_id BIGINT,
    fields  TEXT   NOT NULL
);

CREATE TABLE plugin_versions (
    plugin  TEXT PRIMARY KEY,
    version TEXT NOT NULL
);
