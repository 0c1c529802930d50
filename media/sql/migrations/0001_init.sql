-- Parley metadata schema. Portable between PostgreSQL and SQLite: times are BIGINT unix
-- microseconds (UTC), optional values are NULL, lists and rendition keys are JSON text.
-- Dependent rows are deleted explicitly by the store, so rows may be inserted in any order.

CREATE TABLE workspaces (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL DEFAULT '',
	retention_days INTEGER NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL
);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	hash         TEXT NOT NULL UNIQUE,
	admin        BOOLEAN NOT NULL DEFAULT FALSE,
	created_at   BIGINT NOT NULL,
	revoked_at   BIGINT
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

CREATE TABLE threads (
	id               TEXT PRIMARY KEY,
	workspace_id     TEXT NOT NULL,
	title            TEXT NOT NULL DEFAULT '',
	clip_count       INTEGER NOT NULL DEFAULT 0,
	reply_count      INTEGER NOT NULL DEFAULT 0,
	last_activity_at BIGINT NOT NULL,
	created_at       BIGINT NOT NULL
);
CREATE INDEX threads_workspace ON threads (workspace_id, last_activity_at);

CREATE TABLE clips (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL,
	thread_id    TEXT NOT NULL DEFAULT '',
	reply_to     TEXT NOT NULL DEFAULT '',
	reply_at_ms  BIGINT,
	link_id      TEXT NOT NULL DEFAULT '',
	kind         TEXT NOT NULL,
	status       TEXT NOT NULL,
	privacy      TEXT NOT NULL DEFAULT '',
	title        TEXT NOT NULL DEFAULT '',
	duration_ms  BIGINT NOT NULL DEFAULT 0,
	width        INTEGER NOT NULL DEFAULT 0,
	height       INTEGER NOT NULL DEFAULT 0,
	interrupted  BOOLEAN NOT NULL DEFAULT FALSE,
	reason       TEXT NOT NULL DEFAULT '',
	media        TEXT NOT NULL DEFAULT '{}',
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	version      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX clips_thread ON clips (thread_id, created_at, id);
CREATE INDEX clips_status ON clips (status, updated_at, id);
CREATE INDEX clips_workspace ON clips (workspace_id, created_at, id);

CREATE TABLE comments (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL,
	thread_id    TEXT NOT NULL,
	clip_id      TEXT NOT NULL DEFAULT '',
	at_ms        BIGINT,
	author       TEXT NOT NULL DEFAULT '',
	body         TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL
);
CREATE INDEX comments_thread ON comments (thread_id, created_at, id);
CREATE INDEX comments_clip ON comments (clip_id);

CREATE TABLE reactions (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL,
	clip_id      TEXT NOT NULL,
	emoji        TEXT NOT NULL,
	at_ms        BIGINT,
	author       TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL
);
CREATE INDEX reactions_clip ON reactions (clip_id, created_at, id);

CREATE TABLE recorder_links (
	id             TEXT PRIMARY KEY,
	workspace_id   TEXT NOT NULL,
	token_hash     TEXT NOT NULL UNIQUE,
	thread_id      TEXT NOT NULL DEFAULT '',
	reply_to       TEXT NOT NULL DEFAULT '',
	kind           TEXT NOT NULL,
	max_duration_s INTEGER NOT NULL DEFAULT 0,
	expires_at     BIGINT,
	max_uses       INTEGER NOT NULL DEFAULT 0,
	uses           INTEGER NOT NULL DEFAULT 0,
	revoked_at     BIGINT,
	created_at     BIGINT NOT NULL
);
CREATE INDEX recorder_links_workspace ON recorder_links (workspace_id, created_at);

CREATE TABLE webhooks (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL,
	url          TEXT NOT NULL,
	secret       TEXT NOT NULL DEFAULT '',
	events       TEXT,
	created_at   BIGINT NOT NULL
);
CREATE INDEX webhooks_workspace ON webhooks (workspace_id, created_at);

CREATE TABLE events (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL,
	type         TEXT NOT NULL,
	payload      TEXT,
	created_at   BIGINT NOT NULL
);

CREATE TABLE deliveries (
	id          TEXT PRIMARY KEY,
	event_id    TEXT NOT NULL,
	webhook_id  TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL
);
CREATE INDEX deliveries_event ON deliveries (event_id, attempt, created_at);
