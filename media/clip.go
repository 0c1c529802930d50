package media

import "time"

// ClipKind says what a clip holds.
type ClipKind string

// Clip kinds. A recorder link may also allow KindAny, which resolves to video or audio
// by the tracks the recording brings.
const (
	KindVideo ClipKind = "video"
	KindAudio ClipKind = "audio"
	KindAny   ClipKind = "any"
)

// ClipStatus is a clip's place in its life: recording → processing → ready | failed,
// or interrupted when the recording ended abnormally (it is still processed and playable).
type ClipStatus string

// Clip statuses.
const (
	StatusRecording   ClipStatus = "recording"
	StatusProcessing  ClipStatus = "processing"
	StatusReady       ClipStatus = "ready"
	StatusFailed      ClipStatus = "failed"
	StatusInterrupted ClipStatus = "interrupted"
)

// Privacy says who may watch a clip.
type Privacy string

// Privacy levels.
const (
	Unlisted Privacy = "unlisted" // anyone with the link
	Private  Privacy = "private"  // members of the workspace only; media through signed URLs
)

// Clip is one recording: a root of a thread or a reply to another clip.
type Clip struct {
	ID          string
	WorkspaceID string
	ThreadID    string
	ReplyTo     string // clip this one answers; "" for a thread's root or a top-level clip
	ReplyAtMS   *int64 // moment in ReplyTo that this answers, if any
	LinkID      string // recorder link it was made through, if any
	Kind        ClipKind
	Status      ClipStatus
	Privacy     Privacy
	Title       string
	DurationMS  int64
	Width       int
	Height      int
	Interrupted bool   // the recording ended abnormally; the final status is interrupted
	Reason      string // why processing failed, for users
	Media       MediaKeys
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64 // bumped by every update; used for optimistic concurrency
}

// MediaKeys are the blob keys of a clip's renditions; "" means absent.
type MediaKeys struct {
	Original      string `json:"original,omitempty"`
	MP4           string `json:"mp4,omitempty"`
	Audio         string `json:"audio,omitempty"`
	Poster        string `json:"poster,omitempty"`
	Waveform      string `json:"waveform,omitempty"`       // audiowaveform JSON v2
	WaveformImage string `json:"waveform_image,omitempty"` // PNG or SVG for unfurls
	Storyboard    string `json:"storyboard,omitempty"`     // sprite JPEG
	StoryboardVTT string `json:"storyboard_vtt,omitempty"` // WebVTT pointing into the sprite
	Captions      string `json:"captions,omitempty"`       // WebVTT captions
}

// transitions lists the statuses each status may move to.
var transitions = map[ClipStatus][]ClipStatus{
	StatusRecording:   {StatusProcessing, StatusFailed},
	StatusProcessing:  {StatusReady, StatusFailed, StatusInterrupted},
	StatusFailed:      {StatusProcessing},
	StatusReady:       {StatusProcessing},
	StatusInterrupted: {StatusProcessing},
}

// CanTransition reports whether a clip may move from one status to another.
func CanTransition(from, to ClipStatus) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// SetStatus moves the clip to a new status, or returns ECONFLICT if that move is not allowed.
func (c *Clip) SetStatus(to ClipStatus) error {
	if c.Status == to {
		return nil
	}
	if !CanTransition(c.Status, to) {
		return Errorf(ECONFLICT, "clip %s cannot go from %s to %s", c.ID, c.Status, to)
	}
	c.Status = to
	return nil
}

// DoneStatus is the status a clip ends in once processing succeeds.
func (c *Clip) DoneStatus() ClipStatus {
	if c.Interrupted {
		return StatusInterrupted
	}
	return StatusReady
}

// Pending reports whether the clip's state says the workers still owe it work.
func (c *Clip) Pending() bool { return c.Status == StatusProcessing }

// Terminal reports whether the clip is past processing (ready, failed or interrupted).
func (c *Clip) Terminal() bool {
	return c.Status == StatusReady || c.Status == StatusFailed || c.Status == StatusInterrupted
}

// ParseKind validates a kind as sent by a client; "" means any.
func ParseKind(s string) (ClipKind, error) {
	switch ClipKind(s) {
	case "":
		return KindAny, nil
	case KindVideo, KindAudio, KindAny:
		return ClipKind(s), nil
	}
	return "", Errorf(EINVALID, "kind must be video, audio or any, not %q", s)
}

// Keys returns every blob key present.
func (m MediaKeys) Keys() []string {
	var keys []string
	for _, k := range []string{m.Original, m.MP4, m.Audio, m.Poster, m.Waveform, m.WaveformImage,
		m.Storyboard, m.StoryboardVTT, m.Captions} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// ParsePrivacy validates a privacy level sent by a client.
func ParsePrivacy(s string) (Privacy, error) {
	switch Privacy(s) {
	case Unlisted, Private:
		return Privacy(s), nil
	}
	return "", Errorf(EINVALID, "privacy must be unlisted or private, not %q", s)
}
