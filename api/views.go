package api

import (
	"context"
	"time"

	"parley/media"
)

type threadView struct {
	ID             string      `json:"id"`
	Title          string      `json:"title"`
	CreatedAt      time.Time   `json:"created_at"`
	LastActivityAt time.Time   `json:"last_activity_at"`
	ClipCount      int         `json:"clip_count"`
	ReplyCount     int         `json:"reply_count"`
	Clips          []*clipView `json:"clips"`
}

type clipView struct {
	ID         string    `json:"id"`
	ThreadID   string    `json:"thread_id"`
	ReplyTo    *string   `json:"reply_to"`
	ReplyAtMS  *int64    `json:"reply_at_ms"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	Privacy    string    `json:"privacy"`
	Title      string    `json:"title"`
	DurationMS int64     `json:"duration_ms"`
	Width      int       `json:"width,omitempty"`
	Height     int       `json:"height,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ShareURL   string    `json:"share_url"`
	EmbedURL   string    `json:"embed_url"`
	Media      mediaView `json:"media"`
}

type mediaView struct {
	Original      *string `json:"original"`
	MP4           *string `json:"mp4"`
	Audio         *string `json:"audio"`
	Poster        *string `json:"poster"`
	Waveform      *string `json:"waveform"`
	WaveformImage *string `json:"waveform_image"`
	Storyboard    *string `json:"storyboard_vtt"`
	Captions      *string `json:"captions"`
}

func (s *Server) threadView(ctx context.Context, t *media.Thread, clips []*media.Clip) (*threadView, error) {
	v := &threadView{ID: t.ID, Title: t.Title, CreatedAt: t.CreatedAt, LastActivityAt: t.LastActivityAt,
		ClipCount: t.ClipCount, ReplyCount: t.ReplyCount, Clips: []*clipView{}}
	for _, c := range clips {
		cv, err := s.clipView(ctx, c)
		if err != nil {
			return nil, err
		}
		v.Clips = append(v.Clips, cv)
	}
	return v, nil
}

func (s *Server) clipView(ctx context.Context, c *media.Clip) (*clipView, error) {
	m, err := s.mediaView(ctx, c.Media, s.mediaTTL(c.Privacy))
	if err != nil {
		return nil, err
	}
	return &clipView{
		ID: c.ID, ThreadID: c.ThreadID, ReplyTo: optional(c.ReplyTo), ReplyAtMS: c.ReplyAtMS,
		Kind: string(c.Kind), Status: string(c.Status), Privacy: string(c.Privacy), Title: c.Title,
		DurationMS: c.DurationMS, Width: c.Width, Height: c.Height, Reason: c.Reason, CreatedAt: c.CreatedAt,
		ShareURL: s.BaseURL + "/c/" + c.ID, EmbedURL: s.BaseURL + "/embed/" + c.ID, Media: m,
	}, nil
}

func (s *Server) mediaView(ctx context.Context, k media.MediaKeys, ttl time.Duration) (mediaView, error) {
	var v mediaView
	var err error
	for dst, key := range map[**string]string{
		&v.Original: k.Original, &v.MP4: k.MP4, &v.Audio: k.Audio, &v.Poster: k.Poster,
		&v.Waveform: k.Waveform, &v.WaveformImage: k.WaveformImage, &v.Storyboard: k.StoryboardVTT,
		&v.Captions: k.Captions,
	} {
		if *dst, err = s.signedURL(ctx, key, ttl); err != nil {
			return v, err
		}
	}
	return v, nil
}

// privateMediaTTL is how long signed URLs of private clips and downloads work.
const privateMediaTTL = 15 * time.Minute

// mediaTTL is the lifetime of a clip's signed media URLs: short for private clips.
func (s *Server) mediaTTL(p media.Privacy) time.Duration {
	if p == media.Private {
		return privateMediaTTL
	}
	if s.MediaTTL > 0 {
		return s.MediaTTL
	}
	return 6 * time.Hour
}

// signedURL returns a fetchable URL for a blob key, or nil for "".
func (s *Server) signedURL(ctx context.Context, key string, ttl time.Duration) (*string, error) {
	if key == "" {
		return nil, nil
	}
	u, err := s.Blobs.SignedURL(ctx, key, ttl)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
