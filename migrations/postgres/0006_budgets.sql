-- Budgets across turns (PostgreSQL). Keep in step with ../sqlite/0006_budgets.sql.

-- KV usage per namespace (bytes of keys plus values, and keys), updated in the same
-- transaction as the writes, so a quota holds across turns and restarts.
CREATE TABLE kv_usage (
    ns    TEXT COLLATE "C" PRIMARY KEY,
    bytes BIGINT NOT NULL,
    keys  BIGINT NOT NULL
);
INSERT INTO kv_usage (ns, bytes, keys)
    SELECT ns, SUM(octet_length(key) + octet_length(value)), COUNT(*) FROM kv GROUP BY ns;
