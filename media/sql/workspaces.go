package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"time"

	"parley/media"
)

const workspaceCols = "id, name, retention_days, created_at"

func scanWorkspace(sc scanner) (*media.Workspace, error) {
	var w media.Workspace
	var created int64
	if err := sc.Scan(&w.ID, &w.Name, &w.RetentionDays, &created); err != nil {
		return nil, err
	}
	w.CreatedAt = fromMicros(created)
	return &w, nil
}

// CreateWorkspace stores a new workspace; ECONFLICT if its ID is taken.
func (s *Store) CreateWorkspace(ctx context.Context, w *media.Workspace) error {
	const q = `INSERT INTO workspaces (` + workspaceCols + `) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	round(&w.CreatedAt)
	return s.insert(ctx, "workspace", w.ID, q, w.ID, w.Name, w.RetentionDays, micros(w.CreatedAt))
}

// GetWorkspace returns a workspace; ENOTFOUND if none.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*media.Workspace, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = $1`, id)
	return getOne(row, scanWorkspace, "workspace", id)
}

// ListWorkspaces returns every workspace, oldest first.
func (s *Store) ListWorkspaces(ctx context.Context) ([]*media.Workspace, error) {
	return list(ctx, s, scanWorkspace, "workspaces", `SELECT `+workspaceCols+` FROM workspaces ORDER BY created_at, id`)
}

// UpdateWorkspace saves a workspace's name and retention; ENOTFOUND if none.
func (s *Store) UpdateWorkspace(ctx context.Context, w *media.Workspace) error {
	const q = `UPDATE workspaces SET name = $2, retention_days = $3 WHERE id = $1`
	return s.mustChange(ctx, "workspace", w.ID, q, w.ID, w.Name, w.RetentionDays)
}

const apiKeyCols = "id, workspace_id, name, hash, admin, created_at, revoked_at"

func scanAPIKey(sc scanner) (*media.APIKey, error) {
	var k media.APIKey
	var created int64
	var revoked dbsql.NullInt64
	if err := sc.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Hash, &k.Admin, &created, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = fromMicros(created), timePtr(revoked)
	return &k, nil
}

// CreateAPIKey stores a new key; ECONFLICT if its ID or hash is taken.
func (s *Store) CreateAPIKey(ctx context.Context, k *media.APIKey) error {
	const q = `INSERT INTO api_keys (` + apiKeyCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`
	round(&k.CreatedAt)
	k.RevokedAt = roundPtr(k.RevokedAt)
	return s.insert(ctx, "api key", k.ID, q,
		k.ID, k.WorkspaceID, k.Name, k.Hash, k.Admin, micros(k.CreatedAt), nullMicros(k.RevokedAt))
}

// APIKeyByHash returns the key with that hash, revoked or not; ENOTFOUND if none.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*media.APIKey, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash)
	return getOne(row, scanAPIKey, "api key", "with that token")
}

// ListAPIKeys returns a workspace's keys, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, workspaceID string) ([]*media.APIKey, error) {
	const q = `SELECT ` + apiKeyCols + ` FROM api_keys WHERE workspace_id = $1 ORDER BY created_at, id`
	return list(ctx, s, scanAPIKey, fmt.Sprintf("api keys of %s", workspaceID), q, workspaceID)
}

// RevokeAPIKey marks a workspace's key revoked at the given time (the first revocation
// stands); ENOTFOUND if the workspace has no such key.
func (s *Store) RevokeAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error {
	const q = `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE workspace_id = $1 AND id = $2`
	return s.mustChange(ctx, "api key", id, q, workspaceID, id, micros(at))
}
