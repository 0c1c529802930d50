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
)

// TypeWaveform draws a clip's waveform: peaks as audiowaveform JSON v2 and a PNG for unfurls.
const TypeWaveform = "clip:waveform"

// waveformSampleRate is the rate a clip's audio is decoded at for its waveform.
const waveformSampleRate = 16000

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
	doc, img, err := h.render(ctx, c, dir)
	if err != nil {
		return nil, err
	}
	jsonKey, pngKey := media.RenditionKey(c.ID, "waveform.json"), media.RenditionKey(c.ID, "waveform.png")
	if err := h.put(ctx, jsonKey, doc, "application/json"); err != nil {
		return nil, err
	}
	if err := h.put(ctx, pngKey, img, "image/png"); err != nil {
		return nil, err
	}
	return func(c *media.Clip) { c.Media.Waveform, c.Media.WaveformImage = jsonKey, pngKey }, nil
}

// render decodes the clip's original to mono PCM and draws its peaks as JSON and PNG.
func (h *handlers) render(ctx context.Context, c *media.Clip, dir string) ([]byte, []byte, error) {
	orig, err := h.download(ctx, c, dir)
	if err != nil {
		return nil, nil, err
	}
	wav := filepath.Join(dir, "audio.wav")
	if err := h.Transcoder.PCM(ctx, orig, wav, waveformSampleRate); err != nil {
		return nil, nil, fmt.Errorf("decode audio of clip %s: %w", c.ID, err)
	}
	f, err := os.Open(wav)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", wav, err)
	}
	defer f.Close()
	var doc, img bytes.Buffer
	if err := h.Waveform.Render(f, waveformSampleRate, c.DurationMS, &doc, &img); err != nil {
		return nil, nil, fmt.Errorf("waveform of clip %s: %w", c.ID, err)
	}
	return doc.Bytes(), img.Bytes(), nil
}

// put stores bytes in blobs.
func (h *handlers) put(ctx context.Context, key string, b []byte, contentType string) error {
	if err := h.Blobs.Put(ctx, key, bytes.NewReader(b), int64(len(b)), contentType); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}
