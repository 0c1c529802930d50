package media

import "context"

// PublishRequest is a WHIP offer from an authenticated publisher.
type PublishRequest struct {
	Principal Principal
	Offer     string // SDP
	Recording RecordingRequest
}

// PublishResult is the ingest's answer to a WHIP offer.
type PublishResult struct {
	SessionID string
	ETag      string // identifies the ICE session; changes on ICE restart
	Answer    string // SDP with all server candidates
	ClipID    string
}

// PatchResult is the outcome of a WHIP PATCH.
type PatchResult struct {
	Restarted bool   // an ICE restart happened; Answer holds the new sdpfrag
	ETag      string // current ICE session tag
	Answer    string // application/trickle-ice-sdpfrag body for a restart, else ""
}

// Ingest runs WHIP recording sessions (RFC 9725).
type Ingest interface {
	// Publish answers an offer, starts recording and returns the session.
	Publish(ctx context.Context, req PublishRequest) (*PublishResult, error)
	// Patch applies a trickle-ICE or ICE-restart sdpfrag. ifMatch is the If-Match header ("" if absent).
	Patch(ctx context.Context, sessionID, ifMatch, sdpfrag string) (*PatchResult, error)
	// Stop ends the session and finishes the clip; the original is playable when it returns.
	Stop(ctx context.Context, sessionID string) (*Clip, error)
	// SessionClip returns the clip of a live session and the workspace that owns it (for auth).
	SessionClip(sessionID string) (clipID, workspaceID string, ok bool)
}
