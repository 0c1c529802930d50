package media

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// SetClipPrivacy makes a clip unlisted (anyone with the link) or private (workspace only).
func (s *Service) SetClipPrivacy(ctx context.Context, p Principal, id string, privacy Privacy) (*Clip, error) {
	if _, err := s.Clip(ctx, p, id); err != nil {
		return nil, err
	}
	return s.Store.UpdateClip(ctx, id, func(c *Clip) error {
		c.Privacy = privacy
		return nil
	})
}

// DeleteClip removes a clip of the principal's workspace with all its files.
func (s *Service) DeleteClip(ctx context.Context, p Principal, id string) error {
	c, err := s.Clip(ctx, p, id)
	if err != nil {
		return err
	}
	return s.RemoveClip(ctx, c)
}

// RemoveClip deletes a clip's blobs, then its row (so a failure leaves the row to retry).
func (s *Service) RemoveClip(ctx context.Context, c *Clip) error {
	if c.Status == StatusRecording {
		return Errorf(ECONFLICT, "clip %s is still recording", c.ID)
	}
	for _, key := range c.Media.Keys() {
		if err := s.Blobs.Delete(ctx, key); err != nil {
			return fmt.Errorf("delete blob %s: %w", key, err)
		}
	}
	if err := s.Store.DeleteClip(ctx, c.ID); err != nil {
		return fmt.Errorf("delete clip %s: %w", c.ID, err)
	}
	err := s.Store.TouchThread(ctx, c.ThreadID, -1, 0, time.Time{})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("uncount clip in thread %s: %w", c.ThreadID, err)
	}
	return nil
}

// MaxCommentLen bounds text replies, in bytes.
const MaxCommentLen = 4000

// CommentRequest is a text reply, optionally at a moment of a clip.
type CommentRequest struct {
	ClipID string
	AtMS   *int64
	Author string
	Body   string
}

// AddComment adds a text reply to a thread of the principal's workspace.
func (s *Service) AddComment(ctx context.Context, p Principal, threadID string, req CommentRequest) (*Comment, error) {
	if err := s.checkTarget(ctx, p, threadID, req.ClipID, req.AtMS); err != nil {
		return nil, err
	}
	body := strings.TrimSpace(req.Body)
	if body == "" || len(body) > MaxCommentLen || !utf8.ValidString(body) {
		return nil, Errorf(EINVALID, "body must be 1 to %d bytes of text", MaxCommentLen)
	}
	c := &Comment{ID: NewID(), WorkspaceID: p.WorkspaceID, ThreadID: threadID, ClipID: req.ClipID,
		AtMS: req.AtMS, Author: req.Author, Body: body, CreatedAt: s.now()}
	if err := s.Store.CreateComment(ctx, c); err != nil {
		return nil, fmt.Errorf("create comment: %w", err)
	}
	return c, s.Store.TouchThread(ctx, threadID, 0, 1, c.CreatedAt)
}

// Comments lists a thread's text replies.
func (s *Service) Comments(ctx context.Context, p Principal, threadID string) ([]*Comment, error) {
	if _, _, err := s.Thread(ctx, p, threadID); err != nil {
		return nil, err
	}
	return s.Store.ListComments(ctx, threadID)
}

// AddReaction puts an emoji on a clip, optionally at a moment of it.
func (s *Service) AddReaction(ctx context.Context, p Principal, clipID, emoji, author string, atMS *int64) (*Reaction, error) {
	c, err := s.Clip(ctx, p, clipID)
	if err != nil {
		return nil, err
	}
	if err := checkMoment(c, atMS); err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(emoji); n == 0 || n > 8 || len(emoji) > 32 {
		return nil, Errorf(EINVALID, "emoji must be one emoji")
	}
	r := &Reaction{ID: NewID(), WorkspaceID: p.WorkspaceID, ClipID: clipID, Emoji: emoji, AtMS: atMS, Author: author, CreatedAt: s.now()}
	if err := s.Store.CreateReaction(ctx, r); err != nil {
		return nil, fmt.Errorf("create reaction: %w", err)
	}
	return r, nil
}

// Reactions lists a clip's reactions.
func (s *Service) Reactions(ctx context.Context, p Principal, clipID string) ([]*Reaction, error) {
	if _, err := s.Clip(ctx, p, clipID); err != nil {
		return nil, err
	}
	return s.Store.ListReactions(ctx, clipID)
}

// checkTarget verifies the thread belongs to the principal and the clip, if any, to the thread.
func (s *Service) checkTarget(ctx context.Context, p Principal, threadID, clipID string, atMS *int64) error {
	if _, _, err := s.Thread(ctx, p, threadID); err != nil {
		return err
	}
	if clipID == "" {
		if atMS != nil {
			return Errorf(EINVALID, "at_ms needs a clip_id")
		}
		return nil
	}
	c, err := s.Clip(ctx, p, clipID)
	if err != nil || c.ThreadID != threadID {
		return Errorf(ENOTFOUND, "clip %s not found in thread %s", clipID, threadID)
	}
	return checkMoment(c, atMS)
}

// checkMoment rejects negative moments and moments past a clip's known duration.
func checkMoment(c *Clip, atMS *int64) error {
	if atMS == nil {
		return nil
	}
	if *atMS < 0 || (c.DurationMS > 0 && *atMS > c.DurationMS) {
		return Errorf(EINVALID, "moment %d ms is outside clip %s", *atMS, c.ID)
	}
	return nil
}
