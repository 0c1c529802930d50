package media

import "time"

// RecorderLink lets anyone holding its token record clips into one target, within limits.
type RecorderLink struct {
	ID           string
	WorkspaceID  string
	TokenHash    string
	ThreadID     string // thread the clips go into
	ReplyTo      string // clip every recording answers; "" lets guests answer any clip of the thread
	Kind         ClipKind
	MaxDurationS int // 0 means the server's default limit
	ExpiresAt    *time.Time
	MaxUses      int // 0 means unlimited
	Uses         int
	RevokedAt    *time.Time
	CreatedAt    time.Time
}

// Usable returns nil if the link may start another recording at now, or an EGONE error saying why not.
func (l *RecorderLink) Usable(now time.Time) error {
	switch {
	case l.RevokedAt != nil:
		return Errorf(EGONE, "this recorder link has been revoked")
	case l.ExpiresAt != nil && !now.Before(*l.ExpiresAt):
		return Errorf(EGONE, "this recorder link has expired")
	case l.MaxUses > 0 && l.Uses >= l.MaxUses:
		return Errorf(EGONE, "this recorder link has been used up")
	}
	return nil
}

// Viewable returns nil while the link's guests may still see its thread: a used-up link
// still shows the conversation its guest answered; an expired or revoked one does not.
func (l *RecorderLink) Viewable(now time.Time) error {
	unlimited := *l
	unlimited.MaxUses = 0
	return unlimited.Usable(now)
}

// Allows reports whether the link permits recording a clip of kind k.
func (l *RecorderLink) Allows(k ClipKind) bool {
	return l.Kind == KindAny || k == KindAny || l.Kind == k
}
