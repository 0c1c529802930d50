package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"parley/media"
)

// complete reports whether a clip has every rendition it will have: a video clip an MP4, a
// poster and a storyboard (and a waveform when it has sound), a voice clip audio and a waveform.
func complete(c *media.Clip, hasAudio bool) bool {
	m := c.Media
	waveform := !hasAudio || (m.Waveform != "" && m.WaveformImage != "")
	if c.Kind == media.KindAudio {
		return m.Audio != "" && waveform
	}
	return m.MP4 != "" && m.Poster != "" && m.Storyboard != "" && waveform
}

// step records the outcome of a processing step with apply and, if the clip is then complete,
// moves it to its done status. It reports whether this call made that move: exactly one
// caller does, however often steps run, because UpdateClip applies the change atomically.
func (h *handlers) step(ctx context.Context, id string, hasAudio bool, apply func(*media.Clip)) (*media.Clip, bool, error) {
	var won bool
	c, err := h.Store.UpdateClip(ctx, id, func(c *media.Clip) error {
		won = false
		if !c.Pending() {
			return errNotPending
		}
		apply(c)
		if !complete(c, hasAudio) {
			return nil
		}
		won = true
		return c.SetStatus(c.DoneStatus())
	})
	if errors.Is(err, errNotPending) {
		c, err = h.Store.GetClip(ctx, id)
		return c, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("update clip %s: %w", id, err)
	}
	return c, won, nil
}

// errNotPending stops an update of a clip that is no longer processing.
var errNotPending = media.Errorf(media.ECONFLICT, "clip is not processing")

// finished announces a clip that is done: the clip.ready event, its webhook deliveries and,
// for a reply, the thread:reply task. Safe to repeat: the event is recorded once and
// deliveries are not repeated.
func (h *handlers) finished(ctx context.Context, c *media.Clip) error {
	if err := h.publish(ctx, media.EventClipReady, c, newClipData(c)); err != nil {
		return err
	}
	if c.ReplyTo == "" {
		return nil
	}
	return h.q.enqueue(ctx, newThreadReply(c.ID))
}

// failClip marks a clip failed for a reason users can read, records clip.failed, and returns
// cause wrapped so that asynq does not retry.
func (h *handlers) failClip(ctx context.Context, c *media.Clip, reason string, cause error) error {
	c, err := h.Store.UpdateClip(ctx, c.ID, func(c *media.Clip) error {
		if !c.Pending() {
			return errNotPending
		}
		c.Reason = reason
		return c.SetStatus(media.StatusFailed)
	})
	if errors.Is(err, errNotPending) {
		return fmt.Errorf("%v (clip no longer processing): %w", cause, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("mark clip failed: %w (after %v)", err, cause)
	}
	h.Log.Warn("clip failed", "clip", c.ID, "reason", reason, "err", cause)
	if err := h.publish(ctx, media.EventClipFailed, c, newClipData(c)); err != nil {
		return err
	}
	return fmt.Errorf("%v: %w", cause, asynq.SkipRetry)
}
