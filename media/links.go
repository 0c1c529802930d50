package media

import (
	"context"
	"fmt"
	"time"
)

// LinkRequest describes a recorder link to create.
type LinkRequest struct {
	ThreadID     string
	ReplyTo      string
	Kind         ClipKind
	MaxDurationS int
	ExpiresInS   int
	MaxUses      int
}

func (r LinkRequest) validate() error {
	switch {
	case r.MaxDurationS < 0 || r.MaxDurationS > 24*3600:
		return Errorf(EINVALID, "max_duration_s must be between 1 and 86400")
	case r.ExpiresInS < 0 || r.ExpiresInS > 366*24*3600:
		return Errorf(EINVALID, "expires_in_s must be between 1 and 31622400")
	case r.MaxUses < 0:
		return Errorf(EINVALID, "max_uses must not be negative")
	}
	return nil
}

// CreateRecorderLink makes a link for guests to record into a target. The token is returned
// only now; the store keeps its hash.
func (s *Service) CreateRecorderLink(ctx context.Context, p Principal, req LinkRequest) (*RecorderLink, string, error) {
	if err := requireMember(p); err != nil {
		return nil, "", err
	}
	if err := req.validate(); err != nil {
		return nil, "", err
	}
	threadID, err := s.recordingThread(ctx, p, RecordingRequest{ThreadID: req.ThreadID, ReplyTo: req.ReplyTo})
	if err != nil {
		return nil, "", err
	}
	token := NewToken(LinkTokenPrefix)
	l := &RecorderLink{
		ID: NewID(), WorkspaceID: p.WorkspaceID, TokenHash: HashToken(token), ThreadID: threadID,
		ReplyTo: req.ReplyTo, Kind: req.Kind, MaxDurationS: req.MaxDurationS, MaxUses: req.MaxUses,
		CreatedAt: s.now(),
	}
	if req.ExpiresInS > 0 {
		at := s.now().Add(time.Duration(req.ExpiresInS) * time.Second)
		l.ExpiresAt = &at
	}
	if err := s.Store.CreateRecorderLink(ctx, l); err != nil {
		return nil, "", fmt.Errorf("create recorder link: %w", err)
	}
	return l, token, nil
}

// RecorderLinks lists the links of the principal's workspace.
func (s *Service) RecorderLinks(ctx context.Context, p Principal) ([]*RecorderLink, error) {
	if err := requireMember(p); err != nil {
		return nil, err
	}
	return s.Store.ListRecorderLinks(ctx, p.WorkspaceID)
}

// RevokeRecorderLink stops a link from being used again.
func (s *Service) RevokeRecorderLink(ctx context.Context, p Principal, id string) error {
	if err := requireMember(p); err != nil {
		return err
	}
	return s.Store.RevokeRecorderLink(ctx, p.WorkspaceID, id, s.now())
}

// GuestThread returns the thread a recorder-link guest was invited into, with its unlisted
// clips: what the recorder page shows so the guest can answer a clip. The REST API stays
// closed to link tokens.
func (s *Service) GuestThread(ctx context.Context, p Principal) (*Thread, []*Clip, error) {
	if p.Link == nil {
		return nil, nil, Errorf(EFORBIDDEN, "this needs a recorder link")
	}
	if err := p.Link.Viewable(s.now()); err != nil {
		return nil, nil, err
	}
	t, err := s.Store.GetThread(ctx, p.Link.ThreadID)
	if err != nil {
		return nil, nil, err
	}
	clips, err := s.Store.ThreadClips(ctx, t.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("list clips of thread %s: %w", t.ID, err)
	}
	visible := clips[:0]
	for _, c := range clips {
		if c.Privacy == Unlisted {
			visible = append(visible, c)
		}
	}
	return t, visible, nil
}
