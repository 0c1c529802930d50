package media

import "time"

// DefaultWorkspaceID is the workspace an embedded install starts with.
const DefaultWorkspaceID = "default"

// Workspace owns threads, clips, keys, links and webhooks.
type Workspace struct {
	ID            string
	Name          string
	RetentionDays int // 0 keeps clips forever
	CreatedAt     time.Time
}

// APIKey is a workspace credential. Only its hash is stored.
type APIKey struct {
	ID          string
	WorkspaceID string
	Name        string
	Hash        string
	Admin       bool // may manage keys, webhooks and workspaces
	CreatedAt   time.Time
	RevokedAt   *time.Time
}

// Principal is who is making a request: a workspace key holder or a recorder-link guest.
type Principal struct {
	WorkspaceID string
	KeyID       string        // set for API keys
	Admin       bool          // admin API key
	Link        *RecorderLink // set for recorder-link tokens; may only record into the link's target
}

// IsGuest reports whether the principal is a recorder-link guest.
func (p Principal) IsGuest() bool { return p.Link != nil }
