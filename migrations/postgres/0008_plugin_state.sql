-- Plugins the circuit breaker disabled (PostgreSQL). Keep in step with ../sqlite/0008_plugin_state.sql.

-- A row keeps the plugin disabled across restarts while the same component (digest:
-- SHA-256 of the .wasm, hex) is loaded; `wharf plugin enable NAME` or a different
-- component removes it.
CREATE TABLE plugin_state (
    plugin         TEXT PRIMARY KEY,
    disabled_at_ms BIGINT  NOT NULL,
    reason         TEXT    NOT NULL,
    digest         TEXT    NOT NULL,
    version        TEXT    NOT NULL
);
