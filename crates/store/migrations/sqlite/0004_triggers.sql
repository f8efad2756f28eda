-- jiraflow store: trigger state. Same conventions as 0001: INTEGER epoch-millisecond instants,
-- names unique case-insensitively (COLLATE NOCASE), JSON values as TEXT.
--
-- The trigger inbox itself is the runs table (UNIQUE (flow_name, dedupe_key) from 0002): an
-- event becomes a pending run in the same transaction that advances the cursor past it.

-- One row per flow whose trigger has done anything. No foreign key to flows, like runs: the
-- row is removed by the flow deletion's own transaction.
CREATE TABLE trigger_state (
    flow_name             TEXT NOT NULL COLLATE NOCASE PRIMARY KEY,
    cursor_ms             INTEGER,
    last_poll_at          INTEGER,
    last_success_at       INTEGER,
    last_error            TEXT,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_event_at         INTEGER,
    events_enqueued       INTEGER NOT NULL DEFAULT 0 CHECK (events_enqueued >= 0),
    duplicates_dropped    INTEGER NOT NULL DEFAULT 0 CHECK (duplicates_dropped >= 0),
    paused_reason         TEXT,
    -- The dynamic webhook registration: all of these are set, or none.
    webhook_id            INTEGER,
    webhook_connection_id TEXT,
    webhook_jql           TEXT,
    webhook_events        TEXT,
    webhook_expires_at    INTEGER,
    webhook_refreshed_at  INTEGER,
    updated_at            INTEGER NOT NULL,
    CHECK ((webhook_id IS NULL) = (webhook_connection_id IS NULL)
       AND (webhook_id IS NULL) = (webhook_jql IS NULL)
       AND (webhook_id IS NULL) = (webhook_events IS NULL)
       AND (webhook_id IS NULL) = (webhook_expires_at IS NULL)
       AND (webhook_id IS NULL) = (webhook_refreshed_at IS NULL))
) STRICT;

-- Identifiers of webhook deliveries already received, so a replay or a redelivery is dropped
-- whichever process receives it. Purged by age.
CREATE TABLE webhook_deliveries (
    identifier  TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_deliveries_by_received ON webhook_deliveries (received_at);
