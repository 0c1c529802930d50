package media

import "time"

// Thread is a conversation: a root clip and the clips, text comments and reactions answering it.
type Thread struct {
	ID             string
	WorkspaceID    string
	Title          string
	ClipCount      int
	ReplyCount     int
	LastActivityAt time.Time
	CreatedAt      time.Time
}

// Comment is a text reply in a thread, optionally at a moment of a clip.
type Comment struct {
	ID          string
	WorkspaceID string
	ThreadID    string
	ClipID      string // clip it answers, if any
	AtMS        *int64 // moment in ClipID, if any
	Author      string
	Body        string
	CreatedAt   time.Time
}

// Reaction is an emoji on a clip, optionally at a moment of it.
type Reaction struct {
	ID          string
	WorkspaceID string
	ClipID      string
	Emoji       string
	AtMS        *int64
	Author      string
	CreatedAt   time.Time
}

// MaxTitleLen bounds titles of threads and clips, in bytes.
const MaxTitleLen = 200

// ValidateTitle checks a thread or clip title.
func ValidateTitle(title string) error {
	if len(title) > MaxTitleLen {
		return Errorf(EINVALID, "title is longer than %d bytes", MaxTitleLen)
	}
	return nil
}
