package media

import (
	"context"
	"fmt"
	"time"
)

// RecordingRequest is what a publisher asks for when it starts recording.
type RecordingRequest struct {
	ThreadID  string   // thread to record into; "" starts a new thread (API keys only)
	ReplyTo   string   // clip this recording answers, if any
	ReplyAtMS *int64   // moment in ReplyTo, if any
	Kind      ClipKind // what the offer carries: video (with or without audio) or audio
	Title     string
}

// Recording is what the ingest reports when a recording ends.
type Recording struct {
	OriginalKey string
	DurationMS  int64
	Width       int
	Height      int
	Interrupted bool
}

// StartRecording checks the principal may record what it asks, counts a link use, and
// creates the clip in status recording. It returns the clip and its duration limit.
func (s *Service) StartRecording(ctx context.Context, p Principal, req RecordingRequest) (*Clip, time.Duration, error) {
	if p.WorkspaceID == "" {
		return nil, 0, Errorf(EUNAUTHORIZED, "not authenticated")
	}
	req, limit, err := s.applyLink(ctx, p, req)
	if err != nil {
		return nil, 0, err
	}
	threadID, err := s.recordingThread(ctx, p, req)
	if err != nil {
		return nil, 0, err
	}
	c := s.newClip(p, req, threadID)
	if err := s.Store.CreateClip(ctx, c); err != nil {
		return nil, 0, fmt.Errorf("create clip: %w", err)
	}
	if err := s.Store.TouchThread(ctx, threadID, 1, 0, c.CreatedAt); err != nil {
		return nil, 0, fmt.Errorf("count clip in thread %s: %w", threadID, err)
	}
	return c, limit, nil
}

// applyLink narrows a guest's request to its link's target and counts the use.
func (s *Service) applyLink(ctx context.Context, p Principal, req RecordingRequest) (RecordingRequest, time.Duration, error) {
	limit := time.Duration(s.maxRecordingS()) * time.Second
	l := p.Link
	if l == nil {
		return req, limit, nil
	}
	if err := l.Usable(s.now()); err != nil {
		return req, 0, err
	}
	if !l.Allows(req.Kind) {
		return req, 0, Errorf(EFORBIDDEN, "this recorder link only accepts %s clips", l.Kind)
	}
	if (req.ThreadID != "" && req.ThreadID != l.ThreadID) || (l.ReplyTo != "" && req.ReplyTo != "" && req.ReplyTo != l.ReplyTo) {
		return req, 0, Errorf(EFORBIDDEN, "a recorder link can only record into its own target")
	}
	// A link to a thread may answer any clip in it (recordingThread checks the clip's thread).
	req.ThreadID = l.ThreadID
	if l.ReplyTo != "" {
		req.ReplyTo = l.ReplyTo
	}
	if l.MaxDurationS > 0 && l.MaxDurationS < s.maxRecordingS() {
		limit = time.Duration(l.MaxDurationS) * time.Second
	}
	if _, err := s.Store.UseRecorderLink(ctx, l.ID, s.now()); err != nil {
		return req, 0, err
	}
	return req, limit, nil
}

func (s *Service) maxRecordingS() int {
	if s.MaxRecordingS > 0 {
		return s.MaxRecordingS
	}
	return 3600
}

// recordingThread resolves (or creates) the thread a recording goes into and checks ReplyTo.
func (s *Service) recordingThread(ctx context.Context, p Principal, req RecordingRequest) (string, error) {
	if req.ReplyTo != "" {
		parent, err := s.Store.GetClip(ctx, req.ReplyTo)
		if err != nil || parent.WorkspaceID != p.WorkspaceID {
			return "", Errorf(ENOTFOUND, "clip %s to reply to not found", req.ReplyTo)
		}
		if req.ThreadID != "" && req.ThreadID != parent.ThreadID {
			return "", Errorf(EINVALID, "clip %s is not in thread %s", req.ReplyTo, req.ThreadID)
		}
		return parent.ThreadID, nil
	}
	if req.ThreadID != "" {
		t, err := s.Store.GetThread(ctx, req.ThreadID)
		if err != nil || t.WorkspaceID != p.WorkspaceID {
			return "", Errorf(ENOTFOUND, "thread %s not found", req.ThreadID)
		}
		return t.ID, nil
	}
	t := &Thread{ID: NewID(), WorkspaceID: p.WorkspaceID, Title: req.Title, CreatedAt: s.now(), LastActivityAt: s.now()}
	if err := s.Store.CreateThread(ctx, t); err != nil {
		return "", fmt.Errorf("create thread: %w", err)
	}
	return t.ID, nil
}

func (s *Service) newClip(p Principal, req RecordingRequest, threadID string) *Clip {
	now := s.now()
	c := &Clip{
		ID: NewID(), WorkspaceID: p.WorkspaceID, ThreadID: threadID, ReplyTo: req.ReplyTo,
		ReplyAtMS: req.ReplyAtMS, Kind: req.Kind, Status: StatusRecording, Privacy: Unlisted,
		Title: req.Title, CreatedAt: now, UpdatedAt: now,
	}
	if c.Kind == KindAny || c.Kind == "" {
		c.Kind = KindVideo
	}
	if p.Link != nil {
		c.LinkID = p.Link.ID
	}
	return c
}

// FinishRecording records how a recording ended, moves the clip to processing and queues the
// work. A failure to enqueue is logged, not returned: the reconciler finds processing clips.
func (s *Service) FinishRecording(ctx context.Context, clipID string, r Recording) (*Clip, error) {
	c, err := s.Store.UpdateClip(ctx, clipID, func(c *Clip) error {
		if c.Status != StatusRecording {
			return Errorf(ECONFLICT, "clip %s is not recording", clipID)
		}
		c.Media.Original, c.DurationMS = r.OriginalKey, r.DurationMS
		c.Width, c.Height, c.Interrupted = r.Width, r.Height, r.Interrupted
		return c.SetStatus(StatusProcessing)
	})
	if err != nil {
		return nil, fmt.Errorf("finish recording %s: %w", clipID, err)
	}
	if err := s.Queue.EnqueueProcessing(ctx, clipID); err != nil {
		s.log().Warn("enqueue processing; the reconciler will retry", "clip", clipID, "err", err)
	}
	return c, nil
}

// FailRecording marks a clip whose recording produced nothing usable as failed.
func (s *Service) FailRecording(ctx context.Context, clipID, reason string) error {
	_, err := s.Store.UpdateClip(ctx, clipID, func(c *Clip) error {
		c.Reason = reason
		return c.SetStatus(StatusFailed)
	})
	if err != nil {
		return fmt.Errorf("fail recording %s: %w", clipID, err)
	}
	return nil
}

// Reconcile re-enqueues up to limit clips that have been processing longer than
// ReconcileAfter (all of them regardless of age when all is true), so that work lost from the
// queue is done. It returns how many it enqueued.
func (s *Service) Reconcile(ctx context.Context, all bool, limit int) (int, error) {
	before := s.now().Add(-s.reconcileAfter())
	if all {
		before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	clips, err := s.Store.ClipsByStatus(ctx, StatusProcessing, before, limit)
	if err != nil {
		return 0, fmt.Errorf("list processing clips: %w", err)
	}
	for i, c := range clips {
		if err := s.Queue.EnqueueProcessing(ctx, c.ID); err != nil {
			return i, fmt.Errorf("enqueue processing %s: %w", c.ID, err)
		}
	}
	return len(clips), nil
}

// abandonedAfter is how long past the longest allowed recording a clip may stay recording
// before it is taken to be abandoned (its server died and never recovered it).
const abandonedAfter = 15 * time.Minute

// ExpireAbandoned fails up to limit clips that have been recording longer than any recording
// may last. It returns how many it failed.
func (s *Service) ExpireAbandoned(ctx context.Context, limit int) (int, error) {
	before := s.now().Add(-time.Duration(s.maxRecordingS())*time.Second - abandonedAfter)
	clips, err := s.Store.ClipsByStatus(ctx, StatusRecording, before, limit)
	if err != nil {
		return 0, fmt.Errorf("list recording clips: %w", err)
	}
	for i, c := range clips {
		if err := s.FailRecording(ctx, c.ID, "the recording was abandoned: its server stopped before it finished"); err != nil {
			return i, err
		}
	}
	return len(clips), nil
}

func (s *Service) reconcileAfter() time.Duration {
	if s.ReconcileAfter > 0 {
		return s.ReconcileAfter
	}
	return 2 * time.Minute
}
