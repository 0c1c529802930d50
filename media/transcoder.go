package media

import (
	"context"
	"errors"
	"io"
)

// MediaInfo is what probing a recording found.
type MediaInfo struct {
	DurationMS int64
	HasVideo   bool
	HasAudio   bool
	Width      int
	Height     int
}

// Renditions are the local files a Transcoder made from an original; "" means not made.
type Renditions struct {
	MP4           string
	Audio         string
	Poster        string
	Storyboard    string
	StoryboardVTT string
}

// ErrUnsupportedMedia marks an original that can never be processed: corrupt, or in a format
// the transcoder cannot read. Trying again would fail the same way.
var ErrUnsupportedMedia = errors.New("unsupported or corrupt media")

// Transcoder reads originals and makes renditions as local files (ffmpeg in production).
type Transcoder interface {
	Probe(ctx context.Context, in string) (MediaInfo, error)
	// Renditions makes what a clip of that kind gets: video → MP4, poster, storyboard; audio → M4A.
	Renditions(ctx context.Context, in, dir string, info MediaInfo) (Renditions, error)
	// PCM writes in's audio as a mono 16-bit WAV at sampleRate.
	PCM(ctx context.Context, in, out string, sampleRate int) error
}

// WaveformRenderer reduces a mono 16-bit WAV to peaks (audiowaveform JSON v2) and an image.
type WaveformRenderer interface {
	Render(wav io.ReadSeeker, sampleRate int, durationMS int64, json, image io.Writer) error
}
