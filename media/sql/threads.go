package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"time"

	"parley/media"
)

const threadCols = "id, workspace_id, title, clip_count, reply_count, last_activity_at, created_at"

func scanThread(sc scanner) (*media.Thread, error) {
	var t media.Thread
	var last, created int64
	if err := sc.Scan(&t.ID, &t.WorkspaceID, &t.Title, &t.ClipCount, &t.ReplyCount, &last, &created); err != nil {
		return nil, err
	}
	t.LastActivityAt, t.CreatedAt = fromMicros(last), fromMicros(created)
	return &t, nil
}

// CreateThread stores a new thread; ECONFLICT if its ID is taken.
func (s *Store) CreateThread(ctx context.Context, t *media.Thread) error {
	const q = `INSERT INTO threads (` + threadCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`
	round(&t.CreatedAt, &t.LastActivityAt)
	return s.insert(ctx, "thread", t.ID, q, t.ID, t.WorkspaceID, t.Title, t.ClipCount, t.ReplyCount,
		micros(t.LastActivityAt), micros(t.CreatedAt))
}

// GetThread returns a thread; ENOTFOUND if none.
func (s *Store) GetThread(ctx context.Context, id string) (*media.Thread, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+threadCols+` FROM threads WHERE id = $1`, id)
	return getOne(row, scanThread, "thread", id)
}

// ListThreads returns up to limit threads of a workspace (all if limit <= 0), most recently
// active first.
func (s *Store) ListThreads(ctx context.Context, workspaceID string, limit int) ([]*media.Thread, error) {
	const q = `SELECT ` + threadCols + ` FROM threads WHERE workspace_id = $1
		ORDER BY last_activity_at DESC, id DESC LIMIT $2`
	return list(ctx, s, scanThread, fmt.Sprintf("threads of %s", workspaceID), q, workspaceID, limitOrAll(limit))
}

// TouchThread adds to the thread's counts and moves its last activity forward (never back).
func (s *Store) TouchThread(ctx context.Context, id string, clipDelta, replyDelta int, at time.Time) error {
	const q = `UPDATE threads SET clip_count = clip_count + $2, reply_count = reply_count + $3,
		last_activity_at = CASE WHEN last_activity_at < $4 THEN $4 ELSE last_activity_at END
		WHERE id = $1`
	return s.mustChange(ctx, "thread", id, q, id, clipDelta, replyDelta, micros(at))
}

// DeleteThread removes a thread with its clips, comments and the clips' reactions;
// ENOTFOUND if none.
func (s *Store) DeleteThread(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *dbsql.Tx) error {
		deps := []string{
			`DELETE FROM reactions WHERE clip_id IN (SELECT id FROM clips WHERE thread_id = $1)`,
			`DELETE FROM comments WHERE thread_id = $1`,
			`DELETE FROM clips WHERE thread_id = $1`,
		}
		if err := execAll(ctx, tx, deps, id); err != nil {
			return fmt.Errorf("delete thread %s: %w", id, err)
		}
		return deleteOne(ctx, tx, "thread", id, `DELETE FROM threads WHERE id = $1`)
	})
}

// execAll runs statements that share their arguments.
func execAll(ctx context.Context, tx *dbsql.Tx, stmts []string, args ...any) error {
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// deleteOne deletes one row by ID within tx; ENOTFOUND if there was none.
func deleteOne(ctx context.Context, tx *dbsql.Tx, what, id, query string) error {
	res, err := tx.ExecContext(ctx, query, id)
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", what, id, err)
	}
	if n == 0 {
		return media.Errorf(media.ENOTFOUND, "%s %s not found", what, id)
	}
	return nil
}

const commentCols = "id, workspace_id, thread_id, clip_id, at_ms, author, body, created_at"

func scanComment(sc scanner) (*media.Comment, error) {
	var c media.Comment
	var at dbsql.NullInt64
	var created int64
	if err := sc.Scan(&c.ID, &c.WorkspaceID, &c.ThreadID, &c.ClipID, &at, &c.Author, &c.Body, &created); err != nil {
		return nil, err
	}
	c.AtMS, c.CreatedAt = intPtr(at), fromMicros(created)
	return &c, nil
}

// CreateComment stores a new comment; ECONFLICT if its ID is taken.
func (s *Store) CreateComment(ctx context.Context, c *media.Comment) error {
	const q = `INSERT INTO comments (` + commentCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`
	round(&c.CreatedAt)
	return s.insert(ctx, "comment", c.ID, q, c.ID, c.WorkspaceID, c.ThreadID, c.ClipID, nullInt(c.AtMS),
		c.Author, c.Body, micros(c.CreatedAt))
}

// ListComments returns a thread's comments in creation order.
func (s *Store) ListComments(ctx context.Context, threadID string) ([]*media.Comment, error) {
	const q = `SELECT ` + commentCols + ` FROM comments WHERE thread_id = $1 ORDER BY created_at, id`
	return list(ctx, s, scanComment, fmt.Sprintf("comments of %s", threadID), q, threadID)
}

const reactionCols = "id, workspace_id, clip_id, emoji, at_ms, author, created_at"

func scanReaction(sc scanner) (*media.Reaction, error) {
	var r media.Reaction
	var at dbsql.NullInt64
	var created int64
	if err := sc.Scan(&r.ID, &r.WorkspaceID, &r.ClipID, &r.Emoji, &at, &r.Author, &created); err != nil {
		return nil, err
	}
	r.AtMS, r.CreatedAt = intPtr(at), fromMicros(created)
	return &r, nil
}

// CreateReaction stores a new reaction; ECONFLICT if its ID is taken.
func (s *Store) CreateReaction(ctx context.Context, r *media.Reaction) error {
	const q = `INSERT INTO reactions (` + reactionCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`
	round(&r.CreatedAt)
	return s.insert(ctx, "reaction", r.ID, q, r.ID, r.WorkspaceID, r.ClipID, r.Emoji, nullInt(r.AtMS),
		r.Author, micros(r.CreatedAt))
}

// ListReactions returns a clip's reactions in creation order.
func (s *Store) ListReactions(ctx context.Context, clipID string) ([]*media.Reaction, error) {
	const q = `SELECT ` + reactionCols + ` FROM reactions WHERE clip_id = $1 ORDER BY created_at, id`
	return list(ctx, s, scanReaction, fmt.Sprintf("reactions of %s", clipID), q, clipID)
}
