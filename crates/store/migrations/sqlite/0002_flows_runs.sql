-- jiraflow store: applied flows, their version history, runs with their steps, and the write
-- ledger. Same conventions as 0001: TEXT UUID ids, INTEGER epoch-millisecond instants, names
-- unique case-insensitively (COLLATE NOCASE). JSON values are TEXT.

CREATE TABLE flows (
    name       TEXT NOT NULL COLLATE NOCASE PRIMARY KEY,
    version    INTEGER NOT NULL CHECK (version >= 1),
    source     TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    applied_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Every source a flow has had, so a run keeps executing the version it was created for. Kept
-- when the flow is deleted (its runs are kept too); a flow re-created under the same name
-- continues the numbering, so (name, version) never means two different sources.
CREATE TABLE flow_versions (
    name       TEXT NOT NULL COLLATE NOCASE,
    version    INTEGER NOT NULL,
    source     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) STRICT;

-- No foreign key to flows: runs outlive a deleted flow.
CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    flow_name        TEXT NOT NULL COLLATE NOCASE,
    flow_version     INTEGER NOT NULL,
    origin           TEXT NOT NULL CHECK (origin IN ('trigger', 'manual')),
    trigger          TEXT NOT NULL,
    dedupe_key       TEXT,
    status           TEXT NOT NULL
                     CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    error            TEXT,
    claims           INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    -- NULL keys (manual runs) never collide.
    UNIQUE (flow_name, dedupe_key)
) STRICT;

-- The claim query scans claimable statuses oldest first.
CREATE INDEX runs_by_status ON runs (status, created_at);
CREATE INDEX runs_by_flow ON runs (flow_name, created_at);
CREATE INDEX runs_by_created ON runs (created_at);

CREATE TABLE run_steps (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    step_id     TEXT NOT NULL,
    action      TEXT NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('started', 'retrying', 'succeeded', 'skipped', 'failed')),
    attempts    INTEGER NOT NULL CHECK (attempts >= 0),
    input       TEXT,
    output      TEXT,
    error       TEXT,
    started_at  INTEGER,
    finished_at INTEGER,
    duration_ms INTEGER,
    PRIMARY KEY (run_id, idx)
) STRICT;

CREATE TABLE write_ledger (
    site               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    scope              TEXT NOT NULL,
    key                TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'committed')),
    jira_id            TEXT,
    attempt_started_at INTEGER,
    recorded_at        INTEGER NOT NULL,
    PRIMARY KEY (site, kind, scope, key),
    CHECK ((state = 'committed') = (jira_id IS NOT NULL)),
    CHECK (state = 'committed' OR attempt_started_at IS NOT NULL)
) STRICT;
