-- `wharf logs` filters and retention (PostgreSQL). Keep in step with ../sqlite/0009_event_log_indexes.sql.

-- Time ranges (--since/--until, stats) and the retention sweep, which deletes the oldest first.
CREATE INDEX event_log_at ON event_log (at_ms);
-- --kind: an exact kind or a glob with a literal prefix (`purchase.*` becomes LIKE, which
-- needs text_pattern_ops to use an index under a non-C collation).
CREATE INDEX event_log_kind ON event_log (kind text_pattern_ops);
-- --user: one user's events; most host events have none.
CREATE INDEX event_log_user ON event_log (user_id) WHERE user_id IS NOT NULL;
