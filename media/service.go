package media

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Service is the domain logic the HTTP API, the ingest and the workers share.
type Service struct {
	Store Store
	Queue Queue

	// Optional.
	Blobs          Blobs            // needed to delete clips
	Now            func() time.Time // defaults to time.Now
	Log            *slog.Logger     // defaults to discarding
	MaxRecordingS  int              // limit for recordings without a link limit; default 3600
	ReconcileAfter time.Duration    // how long a processing clip may sit before it is re-enqueued; default 2m
}

// NewService returns a Service over a store and a queue.
func NewService(store Store, queue Queue) *Service {
	return &Service{Store: store, Queue: queue}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Token prefixes tell API keys from recorder-link tokens.
const (
	APIKeyPrefix    = "pk"
	LinkTokenPrefix = "rl"
)

// Authenticate resolves a bearer token to a principal, or returns EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, Errorf(EUNAUTHORIZED, "missing bearer token")
	}
	if strings.HasPrefix(token, LinkTokenPrefix+"_") {
		return s.authenticateLink(ctx, token)
	}
	k, err := s.Store.APIKeyByHash(ctx, HashToken(token))
	if IsNotFound(err) || (err == nil && k.RevokedAt != nil) {
		return Principal{}, Errorf(EUNAUTHORIZED, "invalid or revoked API key")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up api key: %w", err)
	}
	return Principal{WorkspaceID: k.WorkspaceID, KeyID: k.ID, Admin: k.Admin}, nil
}

func (s *Service) authenticateLink(ctx context.Context, token string) (Principal, error) {
	l, err := s.Store.RecorderLinkByTokenHash(ctx, HashToken(token))
	if IsNotFound(err) {
		return Principal{}, Errorf(EUNAUTHORIZED, "invalid recorder link")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up recorder link: %w", err)
	}
	return Principal{WorkspaceID: l.WorkspaceID, Link: l}, nil
}

// requireMember rejects guests: recorder-link tokens may only record.
func requireMember(p Principal) error {
	if p.IsGuest() {
		return Errorf(EFORBIDDEN, "a recorder link can only record")
	}
	if p.WorkspaceID == "" {
		return Errorf(EUNAUTHORIZED, "not authenticated")
	}
	return nil
}

// requireAdmin allows admin API keys only.
func requireAdmin(p Principal) error {
	if err := requireMember(p); err != nil {
		return err
	}
	if !p.Admin {
		return Errorf(EFORBIDDEN, "this needs an admin API key")
	}
	return nil
}

// EnsureWorkspace creates the workspace with the given id unless it exists.
func (s *Service) EnsureWorkspace(ctx context.Context, id, name string) (*Workspace, error) {
	w, err := s.Store.GetWorkspace(ctx, id)
	if err == nil || !IsNotFound(err) {
		return w, err
	}
	w = &Workspace{ID: id, Name: name, CreatedAt: s.now()}
	if err := s.Store.CreateWorkspace(ctx, w); err != nil {
		return nil, fmt.Errorf("create workspace %s: %w", id, err)
	}
	return w, nil
}

// CreateAPIKey makes a new key for a workspace and returns it with its secret, shown only now.
func (s *Service) CreateAPIKey(ctx context.Context, workspaceID, name string, admin bool) (*APIKey, string, error) {
	token := NewToken(APIKeyPrefix)
	k, err := s.StoreAPIKey(ctx, workspaceID, name, token, admin)
	return k, token, err
}

// StoreAPIKey records a key whose secret the caller chose (e.g. PARLEY_ADMIN_TOKEN); idempotent.
func (s *Service) StoreAPIKey(ctx context.Context, workspaceID, name, token string, admin bool) (*APIKey, error) {
	hash := HashToken(token)
	if k, err := s.Store.APIKeyByHash(ctx, hash); err == nil {
		return k, nil
	}
	k := &APIKey{ID: NewID(), WorkspaceID: workspaceID, Name: name, Hash: hash, Admin: admin, CreatedAt: s.now()}
	if err := s.Store.CreateAPIKey(ctx, k); err != nil {
		return nil, fmt.Errorf("create api key: %w", err)
	}
	return k, nil
}

// HasAdminKey reports whether the workspace has any live admin key.
func (s *Service) HasAdminKey(ctx context.Context, workspaceID string) (bool, error) {
	keys, err := s.Store.ListAPIKeys(ctx, workspaceID)
	if err != nil {
		return false, fmt.Errorf("list api keys: %w", err)
	}
	for _, k := range keys {
		if k.Admin && k.RevokedAt == nil {
			return true, nil
		}
	}
	return false, nil
}

// CreateThread starts an empty thread in the principal's workspace.
func (s *Service) CreateThread(ctx context.Context, p Principal, title string) (*Thread, error) {
	if err := requireMember(p); err != nil {
		return nil, err
	}
	if err := ValidateTitle(title); err != nil {
		return nil, err
	}
	now := s.now()
	t := &Thread{ID: NewID(), WorkspaceID: p.WorkspaceID, Title: title, CreatedAt: now, LastActivityAt: now}
	if err := s.Store.CreateThread(ctx, t); err != nil {
		return nil, fmt.Errorf("create thread: %w", err)
	}
	return t, nil
}

// Thread returns a thread of the principal's workspace and its clips in creation order.
func (s *Service) Thread(ctx context.Context, p Principal, id string) (*Thread, []*Clip, error) {
	if err := requireMember(p); err != nil {
		return nil, nil, err
	}
	t, err := s.Store.GetThread(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if t.WorkspaceID != p.WorkspaceID {
		return nil, nil, Errorf(ENOTFOUND, "thread %s not found", id)
	}
	clips, err := s.Store.ThreadClips(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("list clips of thread %s: %w", id, err)
	}
	return t, clips, nil
}

// Clip returns a clip of the principal's workspace.
func (s *Service) Clip(ctx context.Context, p Principal, id string) (*Clip, error) {
	if err := requireMember(p); err != nil {
		return nil, err
	}
	c, err := s.Store.GetClip(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.WorkspaceID != p.WorkspaceID {
		return nil, Errorf(ENOTFOUND, "clip %s not found", id)
	}
	return c, nil
}

// Threads lists the principal's workspace's threads, most recently active first.
func (s *Service) Threads(ctx context.Context, p Principal, limit int) ([]*Thread, error) {
	if err := requireMember(p); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return s.Store.ListThreads(ctx, p.WorkspaceID, limit)
}
