package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"

	"parley/media"
)

// TypeTranscode makes a clip's renditions from its original: MP4, poster and storyboard for
// video, M4A for voice; then it queues the waveform.
const TypeTranscode = "clip:transcode"

// ClipPayload names the clip a task works on.
type ClipPayload struct {
	ClipID string `json:"clip_id"`
}

// newTranscode is the transcode task of a clip: one copy per clip in the queue.
func newTranscode(clipID string) job {
	return newJob(TypeTranscode, ClipPayload{clipID}, QueueMedia, "transcode:"+clipID,
		asynq.MaxRetry(8), asynq.Timeout(time.Hour))
}

// transcode is the handler of TypeTranscode.
func (h *handlers) transcode(ctx context.Context, t *asynq.Task) error {
	c, err := h.pendingClip(ctx, t)
	if c == nil || err != nil {
		return err
	}
	dir, err := os.MkdirTemp(h.TempDir, "transcode-")
	if err != nil {
		return h.settle(ctx, c, fmt.Errorf("make temp dir: %w", err))
	}
	defer os.RemoveAll(dir)
	return h.settle(ctx, c, h.transcodeIn(ctx, dir, c))
}

// Reasons users read about clips that could not be processed.
const (
	unsupportedReason = "The recording is corrupt or in a format that cannot be processed."
	missingReason     = "The recording's media is missing."
	repeatedReason    = "Processing the recording failed repeatedly."
)

// settle turns a processing error into the task's outcome: a permanent failure (unusable or
// missing original) fails the clip at once, any other is retried until the last attempt.
func (h *handlers) settle(ctx context.Context, c *media.Clip, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, media.ErrUnsupportedMedia):
		return h.failClip(ctx, c, unsupportedReason, err)
	case errors.Is(err, errMissing):
		return h.failClip(ctx, c, missingReason, err)
	}
	n, _ := asynq.GetRetryCount(ctx)
	max, ok := asynq.GetMaxRetry(ctx)
	if !ok || n < max || ctx.Err() != nil {
		return err
	}
	return h.failClip(ctx, c, repeatedReason, err)
}

// transcodeIn does the transcode work with dir as scratch space.
func (h *handlers) transcodeIn(ctx context.Context, dir string, c *media.Clip) error {
	orig, err := h.download(ctx, c, dir)
	if err != nil {
		return err
	}
	p, err := h.Transcoder.Probe(ctx, orig)
	if err != nil {
		return fmt.Errorf("probe clip %s: %w", c.ID, err)
	}
	apply := func(*media.Clip) {}
	if !transcoded(c) {
		if apply, err = h.renditions(ctx, c, orig, dir, p); err != nil {
			return err
		}
	}
	return h.afterTranscode(ctx, c.ID, p, apply)
}

// afterTranscode records the renditions and then finishes the clip or queues its waveform.
func (h *handlers) afterTranscode(ctx context.Context, id string, p media.MediaInfo, apply func(*media.Clip)) error {
	c, won, err := h.step(ctx, id, p.HasAudio, apply)
	switch {
	case err != nil:
		return err
	case won || !c.Pending():
		return h.announce(ctx, c)
	case p.HasAudio:
		return h.q.enqueue(ctx, newWaveform(id))
	}
	return nil
}

// transcoded reports whether the clip's transcode renditions are recorded already.
func transcoded(c *media.Clip) bool {
	if c.Kind == media.KindAudio {
		return c.Media.Audio != ""
	}
	return c.Media.MP4 != "" && c.Media.Poster != "" && c.Media.Storyboard != ""
}

// renditions makes and uploads the renditions and returns how to record them on the clip.
func (h *handlers) renditions(ctx context.Context, c *media.Clip, orig, dir string, p media.MediaInfo) (func(*media.Clip), error) {
	r, err := h.Transcoder.Renditions(ctx, orig, dir, p)
	if err != nil {
		return nil, fmt.Errorf("renditions of clip %s: %w", c.ID, err)
	}
	keys, err := h.uploadRenditions(ctx, c.ID, r)
	if err != nil {
		return nil, err
	}
	return func(c *media.Clip) { applyTranscode(c, keys, p) }, nil
}

// applyTranscode records rendition keys and what the probe found on a clip.
func applyTranscode(c *media.Clip, keys media.MediaKeys, p media.MediaInfo) {
	c.Media.MP4, c.Media.Audio, c.Media.Poster = keys.MP4, keys.Audio, keys.Poster
	c.Media.Storyboard, c.Media.StoryboardVTT = keys.Storyboard, keys.StoryboardVTT
	c.DurationMS, c.Width, c.Height = p.DurationMS, p.Width, p.Height
	c.Kind = media.KindAudio
	if p.HasVideo {
		c.Kind = media.KindVideo
	}
}

// uploadRenditions stores the files made under the clip's deterministic keys.
func (h *handlers) uploadRenditions(ctx context.Context, clipID string, r media.Renditions) (media.MediaKeys, error) {
	var keys media.MediaKeys
	files := []struct {
		local, name, contentType string
		key                      *string
	}{
		{r.MP4, "video.mp4", "video/mp4", &keys.MP4},
		{r.Audio, "audio.m4a", "audio/mp4", &keys.Audio},
		{r.Poster, "poster.jpg", "image/jpeg", &keys.Poster},
		{r.Storyboard, "storyboard.jpg", "image/jpeg", &keys.Storyboard},
		{r.StoryboardVTT, "storyboard.vtt", "text/vtt", &keys.StoryboardVTT},
	}
	for _, f := range files {
		if f.local == "" {
			continue
		}
		*f.key = media.RenditionKey(clipID, f.name)
		if err := h.upload(ctx, f.local, *f.key, f.contentType); err != nil {
			return keys, err
		}
	}
	return keys, nil
}

// upload puts a local file into blobs.
func (h *handlers) upload(ctx context.Context, local, key, contentType string) error {
	f, err := os.Open(local)
	if err != nil {
		return fmt.Errorf("open %s: %w", local, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", local, err)
	}
	if err := h.Blobs.Put(ctx, key, f, st.Size(), contentType); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}

// errMissing says a clip's original is not in blobs: processing it can never succeed.
var errMissing = errors.New("original missing")

// download copies the clip's original into dir and returns its path.
func (h *handlers) download(ctx context.Context, c *media.Clip, dir string) (string, error) {
	key := c.Media.Original
	r, err := h.Blobs.Get(ctx, key, 0, -1)
	if media.IsNotFound(err) {
		return "", fmt.Errorf("get object %s: %v: %w", key, err, errMissing)
	}
	if err != nil {
		return "", fmt.Errorf("get object %s: %w", key, err)
	}
	defer r.Close()
	local := filepath.Join(dir, "original"+path.Ext(key))
	f, err := os.Create(local)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", local, err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("download object %s: %w", key, err)
	}
	return local, nil
}

// pendingClip decodes a clip task and loads its clip. It returns a nil clip when there is
// nothing to do: the clip is gone, not processing yet, or past processing (then it makes
// sure the outcome was announced).
func (h *handlers) pendingClip(ctx context.Context, t *asynq.Task) (*media.Clip, error) {
	var p ClipPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return nil, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	c, err := h.Store.GetClip(ctx, p.ClipID)
	switch {
	case media.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get clip %s: %w", p.ClipID, err)
	case c.Pending() && c.Media.Original == "":
		return nil, h.failClip(ctx, c, missingReason, errMissing)
	case c.Pending():
		return c, nil
	}
	return nil, h.announce(ctx, c)
}

// announce makes sure a clip past processing was announced (clip.ready or clip.failed).
func (h *handlers) announce(ctx context.Context, c *media.Clip) error {
	switch {
	case done(c):
		return h.finished(ctx, c)
	case c.Status == media.StatusFailed:
		return h.publish(ctx, media.EventClipFailed, c, newClipData(c))
	}
	return nil
}

// done reports whether a clip was processed successfully (ready or interrupted).
func done(c *media.Clip) bool {
	return c.Status == media.StatusReady || c.Status == media.StatusInterrupted
}
