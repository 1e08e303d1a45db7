-- Fair dispatch and inbox dead letters (SQLite). Keep in step with ../postgres/0004_lanes.sql.

-- A lane's head entries are read by (lane, id), never through a global id window.
CREATE INDEX inbox_lane ON inbox (lane, id);

-- One row per lane that has queued entries or is held by a runtime. `pending` counts the
-- lane's inbox rows; the triggers below keep it in the transaction that inserts or
-- deletes them, so finding lanes with work never scans the inbox. A runtime serves a
-- lane only while it holds the lease: `owner` is its id (fresh at every start) and
-- `lease_until` the lease's end (database time, Unix ms); an expired lease may be taken
-- over. `served` orders waiting lanes (round-robin): a lane that gives its lease back
-- with work left goes behind every lane that was waiting.
CREATE TABLE lanes (
    lane        INTEGER PRIMARY KEY,
    pending     INTEGER NOT NULL DEFAULT 0,
    owner       TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    served      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX lanes_served ON lanes (served, lane);

INSERT INTO lanes (lane, pending) SELECT lane, COUNT(*) FROM inbox GROUP BY lane;

CREATE TRIGGER inbox_lane_insert AFTER INSERT ON inbox BEGIN
    INSERT INTO lanes (lane, pending) VALUES (NEW.lane, 1)
        ON CONFLICT (lane) DO UPDATE SET pending = lanes.pending + 1;
END;

CREATE TRIGGER inbox_lane_delete AFTER DELETE ON inbox BEGIN
    UPDATE lanes SET pending = pending - 1 WHERE lane = OLD.lane;
    DELETE FROM lanes WHERE lane = OLD.lane AND pending <= 0 AND owner IS NULL;
END;

-- Inbox entries that could not be read (unknown format or version), with the reason.
CREATE TABLE inbox_dead (
    id      INTEGER PRIMARY KEY,
    lane    INTEGER NOT NULL,
    target  TEXT,
    payload TEXT    NOT NULL,
    reason  TEXT    NOT NULL,
    at_ms   INTEGER NOT NULL
);
