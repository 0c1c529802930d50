package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"parley/media"
)

const clipCols = `id, workspace_id, thread_id, reply_to, reply_at_ms, link_id, kind, status, privacy,
	title, duration_ms, width, height, interrupted, reason, media, created_at, updated_at, version`

// updateClipAttempts bounds how often UpdateClip retries after losing a race.
const updateClipAttempts = 100

func scanClip(sc scanner) (*media.Clip, error) {
	var c media.Clip
	var replyAt dbsql.NullInt64
	var mediaJSON dbsql.NullString
	var created, updated int64
	err := sc.Scan(&c.ID, &c.WorkspaceID, &c.ThreadID, &c.ReplyTo, &replyAt, &c.LinkID, &c.Kind,
		&c.Status, &c.Privacy, &c.Title, &c.DurationMS, &c.Width, &c.Height, &c.Interrupted,
		&c.Reason, &mediaJSON, &created, &updated, &c.Version)
	if err != nil {
		return nil, err
	}
	c.ReplyAtMS, c.CreatedAt, c.UpdatedAt = intPtr(replyAt), fromMicros(created), fromMicros(updated)
	if err := fromJSON(mediaJSON, &c.Media); err != nil {
		return nil, fmt.Errorf("clip %s media: %w", c.ID, err)
	}
	return &c, nil
}

// clipArgs returns the clip's values in clipCols order.
func clipArgs(c *media.Clip) ([]any, error) {
	keys, err := jsonText(c.Media)
	if err != nil {
		return nil, err
	}
	return []any{c.ID, c.WorkspaceID, c.ThreadID, c.ReplyTo, nullInt(c.ReplyAtMS), c.LinkID,
		string(c.Kind), string(c.Status), string(c.Privacy), c.Title, c.DurationMS, c.Width,
		c.Height, c.Interrupted, c.Reason, keys, micros(c.CreatedAt), micros(c.UpdatedAt),
		c.Version}, nil
}

// CreateClip stores a new clip as given; ECONFLICT if its ID is taken.
func (s *Store) CreateClip(ctx context.Context, c *media.Clip) error {
	const q = `INSERT INTO clips (` + clipCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
		$11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT DO NOTHING`
	round(&c.CreatedAt, &c.UpdatedAt)
	args, err := clipArgs(c)
	if err != nil {
		return fmt.Errorf("create clip %s: %w", c.ID, err)
	}
	return s.insert(ctx, "clip", c.ID, q, args...)
}

// GetClip returns a clip; ENOTFOUND if none.
func (s *Store) GetClip(ctx context.Context, id string) (*media.Clip, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+clipCols+` FROM clips WHERE id = $1`, id)
	return getOne(row, scanClip, "clip", id)
}

// ThreadClips returns a thread's clips in creation order.
func (s *Store) ThreadClips(ctx context.Context, threadID string) ([]*media.Clip, error) {
	const q = `SELECT ` + clipCols + ` FROM clips WHERE thread_id = $1 ORDER BY created_at, id`
	return list(ctx, s, scanClip, fmt.Sprintf("clips of thread %s", threadID), q, threadID)
}

// UpdateClip reads the clip, applies fn and writes it back if nobody changed it meanwhile,
// retrying otherwise. The written clip has Version one higher and UpdatedAt now. If fn
// returns an error nothing is written and that error is returned as is.
func (s *Store) UpdateClip(ctx context.Context, id string, fn func(*media.Clip) error) (*media.Clip, error) {
	for attempt := range updateClipAttempts {
		c, err := s.GetClip(ctx, id)
		if err != nil {
			return nil, err
		}
		version := c.Version
		if err := fn(c); err != nil {
			return nil, err
		}
		c.ID, c.Version, c.UpdatedAt = id, version+1, nowMicros()
		round(&c.CreatedAt)
		ok, err := s.writeClip(ctx, c, version)
		if err != nil {
			return nil, err
		}
		if ok {
			return c, nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
	return nil, media.Errorf(media.ECONFLICT, "clip %s is changing too often; try again", id)
}

// writeClip saves c if its stored version is still version; it reports whether it did.
func (s *Store) writeClip(ctx context.Context, c *media.Clip, version int64) (bool, error) {
	const q = `UPDATE clips SET workspace_id = $2, thread_id = $3, reply_to = $4, reply_at_ms = $5,
		link_id = $6, kind = $7, status = $8, privacy = $9, title = $10, duration_ms = $11,
		width = $12, height = $13, interrupted = $14, reason = $15, media = $16, created_at = $17,
		updated_at = $18, version = $19
		WHERE id = $1 AND version = $20`
	args, err := clipArgs(c)
	if err != nil {
		return false, fmt.Errorf("update clip %s: %w", c.ID, err)
	}
	n, err := s.exec(ctx, q, append(args, version)...)
	if err != nil {
		return false, fmt.Errorf("update clip %s: %w", c.ID, err)
	}
	return n == 1, nil
}

// backoff waits a short random time that grows with the attempt, so racing writers spread out.
func backoff(ctx context.Context, attempt int) error {
	ceiling := time.Duration(min(attempt+1, 20)) * time.Millisecond
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond/10)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ClipsByStatus returns up to limit clips in a status last updated before the given time,
// oldest first.
func (s *Store) ClipsByStatus(ctx context.Context, status media.ClipStatus, updatedBefore time.Time, limit int) ([]*media.Clip, error) {
	const q = `SELECT ` + clipCols + ` FROM clips WHERE status = $1 AND updated_at < $2
		ORDER BY updated_at, id LIMIT $3`
	return list(ctx, s, scanClip, fmt.Sprintf("%s clips", status), q, string(status), micros(updatedBefore), limitOrAll(limit))
}

// ClipsCreatedBefore returns up to limit clips of a workspace created before the given time,
// oldest first.
func (s *Store) ClipsCreatedBefore(ctx context.Context, workspaceID string, before time.Time, limit int) ([]*media.Clip, error) {
	const q = `SELECT ` + clipCols + ` FROM clips WHERE workspace_id = $1 AND created_at < $2
		ORDER BY created_at, id LIMIT $3`
	return list(ctx, s, scanClip, fmt.Sprintf("clips of %s created before %s", workspaceID, before), q, workspaceID, micros(before), limitOrAll(limit))
}

// DeleteClip removes a clip with its reactions and the comments on it; ENOTFOUND if none.
// Replies to it stay, still naming it in ReplyTo.
func (s *Store) DeleteClip(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *dbsql.Tx) error {
		deps := []string{
			`DELETE FROM reactions WHERE clip_id = $1`,
			`DELETE FROM comments WHERE clip_id = $1`,
		}
		if err := execAll(ctx, tx, deps, id); err != nil {
			return fmt.Errorf("delete clip %s: %w", id, err)
		}
		return deleteOne(ctx, tx, "clip", id, `DELETE FROM clips WHERE id = $1`)
	})
}
