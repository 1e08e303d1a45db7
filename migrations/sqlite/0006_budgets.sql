-- Budgets across turns (SQLite). Keep in step with ../postgres/0006_budgets.sql.

-- KV usage per namespace (bytes of keys plus values, and keys), updated in the same
-- transaction as the writes, so a quota holds across turns and restarts.
CREATE TABLE kv_usage (
    ns    TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    keys  INTEGER NOT NULL
);
INSERT INTO kv_usage (ns, bytes, keys)
    SELECT ns, SUM(length(CAST(key AS BLOB)) + length(value)), COUNT(*) FROM kv GROUP BY ns;
