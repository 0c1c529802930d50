package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"time"

	"parley/media"
)

const linkCols = `id, workspace_id, token_hash, thread_id, reply_to, kind, max_duration_s, expires_at,
	max_uses, uses, revoked_at, created_at`

func scanLink(sc scanner) (*media.RecorderLink, error) {
	var l media.RecorderLink
	var expires, revoked dbsql.NullInt64
	var created int64
	err := sc.Scan(&l.ID, &l.WorkspaceID, &l.TokenHash, &l.ThreadID, &l.ReplyTo, &l.Kind,
		&l.MaxDurationS, &expires, &l.MaxUses, &l.Uses, &revoked, &created)
	if err != nil {
		return nil, err
	}
	l.ExpiresAt, l.RevokedAt, l.CreatedAt = timePtr(expires), timePtr(revoked), fromMicros(created)
	return &l, nil
}

// CreateRecorderLink stores a new link; ECONFLICT if its ID or token hash is taken.
func (s *Store) CreateRecorderLink(ctx context.Context, l *media.RecorderLink) error {
	const q = `INSERT INTO recorder_links (` + linkCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`
	round(&l.CreatedAt)
	l.ExpiresAt, l.RevokedAt = roundPtr(l.ExpiresAt), roundPtr(l.RevokedAt)
	return s.insert(ctx, "recorder link", l.ID, q, l.ID, l.WorkspaceID, l.TokenHash, l.ThreadID,
		l.ReplyTo, string(l.Kind), l.MaxDurationS, nullMicros(l.ExpiresAt), l.MaxUses, l.Uses,
		nullMicros(l.RevokedAt), micros(l.CreatedAt))
}

// GetRecorderLink returns a link; ENOTFOUND if none.
func (s *Store) GetRecorderLink(ctx context.Context, id string) (*media.RecorderLink, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+linkCols+` FROM recorder_links WHERE id = $1`, id)
	return getOne(row, scanLink, "recorder link", id)
}

// RecorderLinkByTokenHash returns the link with that token hash; ENOTFOUND if none.
func (s *Store) RecorderLinkByTokenHash(ctx context.Context, hash string) (*media.RecorderLink, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+linkCols+` FROM recorder_links WHERE token_hash = $1`, hash)
	return getOne(row, scanLink, "recorder link", "with that token")
}

// ListRecorderLinks returns a workspace's links, oldest first.
func (s *Store) ListRecorderLinks(ctx context.Context, workspaceID string) ([]*media.RecorderLink, error) {
	const q = `SELECT ` + linkCols + ` FROM recorder_links WHERE workspace_id = $1 ORDER BY created_at, id`
	return list(ctx, s, scanLink, fmt.Sprintf("recorder links of %s", workspaceID), q, workspaceID)
}

// UseRecorderLink counts one use if the link is usable at now, in one conditional UPDATE, so
// concurrent uses of a link with MaxUses n succeed exactly n times. Otherwise it returns the
// EGONE error saying why (or ENOTFOUND).
func (s *Store) UseRecorderLink(ctx context.Context, id string, now time.Time) (*media.RecorderLink, error) {
	const q = `UPDATE recorder_links SET uses = uses + 1
		WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
		AND (max_uses = 0 OR uses < max_uses)
		RETURNING ` + linkCols
	l, err := scanLink(s.db.QueryRowContext(ctx, q, id, micros(now)))
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, dbsql.ErrNoRows) {
		return nil, fmt.Errorf("use recorder link %s: %w", id, err)
	}
	return nil, s.unusable(ctx, id, now)
}

// unusable explains why a link could not be used.
func (s *Store) unusable(ctx context.Context, id string, now time.Time) error {
	l, err := s.GetRecorderLink(ctx, id)
	if err != nil {
		return err
	}
	if err := l.Usable(now); err != nil {
		return err
	}
	return media.Errorf(media.EGONE, "this recorder link cannot be used any more")
}

// RevokeRecorderLink stops a workspace's link from being used (the first revocation stands);
// ENOTFOUND if the workspace has no such link.
func (s *Store) RevokeRecorderLink(ctx context.Context, workspaceID, id string, at time.Time) error {
	const q = `UPDATE recorder_links SET revoked_at = COALESCE(revoked_at, $3) WHERE workspace_id = $1 AND id = $2`
	return s.mustChange(ctx, "recorder link", id, q, workspaceID, id, micros(at))
}
