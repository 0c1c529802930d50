package worker

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"

	"parley/media"
	"parley/media/ffmpeg"
	"parley/media/waveform"
)

// TypeWaveform draws a clip's waveform: peaks as audiowaveform JSON v2 and a PNG for unfurls.
const TypeWaveform = "clip:waveform"

// Waveform parameters: the sample rate the audio is decoded at, bits per peak value, and
// the size of the PNG.
const (
	waveformSampleRate = 16000
	waveformBits       = 8
	waveformPNGWidth   = 1200
	waveformPNGHeight  = 240
)

// newWaveform is the waveform task of a clip: one copy per clip in the queue.
func newWaveform(clipID string) job {
	return newJob(TypeWaveform, ClipPayload{clipID}, QueueMedia, "waveform:"+clipID,
		asynq.MaxRetry(8), asynq.Timeout(30*time.Minute))
}

// waveform is the handler of TypeWaveform.
func (h *handlers) waveform(ctx context.Context, t *asynq.Task) error {
	c, err := h.pendingClip(ctx, t)
	if c == nil || err != nil {
		return err
	}
	apply := func(*media.Clip) {}
	if c.Media.Waveform == "" || c.Media.WaveformImage == "" {
		apply, err = h.drawWaveform(ctx, c)
	}
	if err != nil {
		return h.settle(ctx, c, err)
	}
	return h.afterWaveform(ctx, c.ID, apply)
}

// afterWaveform records the waveform keys and finishes the clip if that completes it.
func (h *handlers) afterWaveform(ctx context.Context, id string, apply func(*media.Clip)) error {
	c, won, err := h.step(ctx, id, true, apply)
	if err != nil {
		return err
	}
	if won || !c.Pending() {
		return h.announce(ctx, c)
	}
	return nil
}

// drawWaveform makes and uploads the waveform files and returns how to record them.
func (h *handlers) drawWaveform(ctx context.Context, c *media.Clip) (func(*media.Clip), error) {
	dir, err := os.MkdirTemp(h.TempDir, "waveform-")
	if err != nil {
		return nil, fmt.Errorf("make temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	peaks, err := h.peaks(ctx, c, dir)
	if err != nil {
		return nil, err
	}
	jsonKey, pngKey := media.RenditionKey(c.ID, "waveform.json"), media.RenditionKey(c.ID, "waveform.png")
	if err := h.putWaveform(ctx, peaks, jsonKey, pngKey); err != nil {
		return nil, err
	}
	return func(c *media.Clip) { c.Media.Waveform, c.Media.WaveformImage = jsonKey, pngKey }, nil
}

// peaks decodes the clip's original to mono PCM and reduces it to peaks.
func (h *handlers) peaks(ctx context.Context, c *media.Clip, dir string) (*waveform.Peaks, error) {
	orig, err := h.download(ctx, c, dir)
	if err != nil {
		return nil, err
	}
	wav := filepath.Join(dir, "audio.wav")
	if err := h.FFmpeg.Run(ctx, ffmpeg.WAVArgs(orig, wav, waveformSampleRate)); err != nil {
		return nil, fmt.Errorf("decode audio of clip %s: %w", c.ID, err)
	}
	f, err := os.Open(wav)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", wav, err)
	}
	defer f.Close()
	spp := waveform.SamplesPerPixelFor(c.DurationMS, waveformSampleRate)
	p, err := waveform.FromWAV(f, spp, waveformBits)
	if err != nil {
		return nil, fmt.Errorf("peaks of clip %s: %w", c.ID, err)
	}
	return p, nil
}

// putWaveform stores the peaks as JSON and as a PNG.
func (h *handlers) putWaveform(ctx context.Context, p *waveform.Peaks, jsonKey, pngKey string) error {
	doc, err := p.JSON()
	if err != nil {
		return fmt.Errorf("waveform json: %w", err)
	}
	if err := h.put(ctx, jsonKey, doc, "application/json"); err != nil {
		return err
	}
	var img bytes.Buffer
	if err := p.PNG(&img, waveformPNGWidth, waveformPNGHeight); err != nil {
		return fmt.Errorf("waveform png: %w", err)
	}
	return h.put(ctx, pngKey, img.Bytes(), "image/png")
}

// put stores bytes in blobs.
func (h *handlers) put(ctx context.Context, key string, b []byte, contentType string) error {
	if err := h.Blobs.Put(ctx, key, bytes.NewReader(b), int64(len(b)), contentType); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}
