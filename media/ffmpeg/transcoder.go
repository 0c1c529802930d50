package ffmpeg

import (
	"context"

	"parley/media"
)

// Transcoder is the domain's media.Transcoder over a Runner.
type Transcoder struct {
	Runner *Runner
}

var _ media.Transcoder = Transcoder{}

// Probe describes a recording.
func (t Transcoder) Probe(ctx context.Context, in string) (media.MediaInfo, error) {
	p, err := t.Runner.Probe(ctx, in)
	if err != nil {
		return media.MediaInfo{}, err
	}
	return media.MediaInfo{DurationMS: p.DurationMS, HasVideo: p.HasVideo, HasAudio: p.HasAudio, Width: p.Width, Height: p.Height}, nil
}

// Renditions makes the renditions of a probed recording in dir.
func (t Transcoder) Renditions(ctx context.Context, in, dir string, info media.MediaInfo) (media.Renditions, error) {
	p := &Probe{DurationMS: info.DurationMS, HasVideo: info.HasVideo, HasAudio: info.HasAudio, Width: info.Width, Height: info.Height}
	r, err := t.Runner.Renditions(ctx, in, dir, p)
	return media.Renditions(r), err
}

// PCM writes in's audio as a mono 16-bit WAV.
func (t Transcoder) PCM(ctx context.Context, in, out string, sampleRate int) error {
	return t.Runner.Run(ctx, WAVArgs(in, out, sampleRate))
}
