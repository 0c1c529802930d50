package media

import (
	"context"
	"time"
)

// WorkspaceStore keeps workspaces and their API keys.
type WorkspaceStore interface {
	CreateWorkspace(ctx context.Context, w *Workspace) error
	GetWorkspace(ctx context.Context, id string) (*Workspace, error)
	ListWorkspaces(ctx context.Context) ([]*Workspace, error)
	UpdateWorkspace(ctx context.Context, w *Workspace) error
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash returns the key with that hash, revoked or not; ENOTFOUND if none.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListAPIKeys(ctx context.Context, workspaceID string) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error
}

// ThreadStore keeps threads, comments and reactions.
type ThreadStore interface {
	CreateThread(ctx context.Context, t *Thread) error
	GetThread(ctx context.Context, id string) (*Thread, error)
	ListThreads(ctx context.Context, workspaceID string, limit int) ([]*Thread, error)
	// TouchThread adds to the thread's counts and moves its last activity forward (never back).
	TouchThread(ctx context.Context, id string, clipDelta, replyDelta int, at time.Time) error
	DeleteThread(ctx context.Context, id string) error
	CreateComment(ctx context.Context, c *Comment) error
	ListComments(ctx context.Context, threadID string) ([]*Comment, error)
	CreateReaction(ctx context.Context, r *Reaction) error
	ListReactions(ctx context.Context, clipID string) ([]*Reaction, error)
}

// ClipStore keeps clips.
type ClipStore interface {
	CreateClip(ctx context.Context, c *Clip) error
	GetClip(ctx context.Context, id string) (*Clip, error)
	// ThreadClips returns a thread's clips in creation order.
	ThreadClips(ctx context.Context, threadID string) ([]*Clip, error)
	// UpdateClip reads the clip, applies fn and writes it back atomically (optimistic
	// concurrency on Version, retried). If fn returns an error nothing is written.
	UpdateClip(ctx context.Context, id string, fn func(*Clip) error) (*Clip, error)
	// ClipsByStatus returns up to limit clips in a status last updated before the given time, oldest first.
	ClipsByStatus(ctx context.Context, status ClipStatus, updatedBefore time.Time, limit int) ([]*Clip, error)
	// ClipsCreatedBefore returns up to limit clips of a workspace created before the given time.
	ClipsCreatedBefore(ctx context.Context, workspaceID string, before time.Time, limit int) ([]*Clip, error)
	DeleteClip(ctx context.Context, id string) error
}

// LinkStore keeps recorder links.
type LinkStore interface {
	CreateRecorderLink(ctx context.Context, l *RecorderLink) error
	GetRecorderLink(ctx context.Context, id string) (*RecorderLink, error)
	RecorderLinkByTokenHash(ctx context.Context, hash string) (*RecorderLink, error)
	ListRecorderLinks(ctx context.Context, workspaceID string) ([]*RecorderLink, error)
	// UseRecorderLink counts one use atomically if the link is usable at now; else EGONE.
	UseRecorderLink(ctx context.Context, id string, now time.Time) (*RecorderLink, error)
	RevokeRecorderLink(ctx context.Context, workspaceID, id string, at time.Time) error
}

// WebhookStore keeps webhooks, the events they deliver and delivery attempts.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w *Webhook) error
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	ListWebhooks(ctx context.Context, workspaceID string) ([]*Webhook, error)
	UpdateWebhook(ctx context.Context, w *Webhook) error
	DeleteWebhook(ctx context.Context, workspaceID, id string) error
	// CreateEvent stores the event unless one with its ID exists; it reports whether it was new.
	CreateEvent(ctx context.Context, e *Event) (bool, error)
	GetEvent(ctx context.Context, id string) (*Event, error)
	CreateDelivery(ctx context.Context, d *Delivery) error
	ListDeliveries(ctx context.Context, eventID string) ([]*Delivery, error)
}

// Store is the metadata database: the truth about every clip's state.
type Store interface {
	WorkspaceStore
	ThreadStore
	ClipStore
	LinkStore
	WebhookStore
	Ping(ctx context.Context) error
	Close() error
}
