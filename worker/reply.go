package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"parley/media"
)

// TypeThreadReply attaches a finished reply to its thread: the thread's reply count goes up
// by one, its last activity moves forward, and thread.reply is sent to webhooks.
const TypeThreadReply = "thread:reply"

// newThreadReply is the thread:reply task of a reply clip: one copy per clip in the queue.
func newThreadReply(clipID string) job {
	return newJob(TypeThreadReply, ClipPayload{clipID}, QueueEvents, "reply:"+clipID,
		asynq.MaxRetry(12), asynq.Timeout(time.Minute))
}

// replyData is the data of thread.reply events.
type replyData struct {
	ThreadID string   `json:"thread_id"`
	ClipID   string   `json:"clip_id"`
	ReplyTo  string   `json:"reply_to"`
	ReplyAt  *int64   `json:"reply_at_ms,omitempty"`
	Clip     clipData `json:"clip"`
}

// threadReply is the handler of TypeThreadReply. The thread.reply event row guards the
// counter: only the run that creates the event bumps it.
func (h *handlers) threadReply(ctx context.Context, t *asynq.Task) error {
	var p ClipPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	c, err := h.Store.GetClip(ctx, p.ClipID)
	if media.IsNotFound(err) || (err == nil && (c.ReplyTo == "" || !done(c))) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get clip %s: %w", p.ClipID, err)
	}
	return h.attachReply(ctx, c)
}

// attachReply records the thread.reply event and, if it is new, counts the reply.
func (h *handlers) attachReply(ctx context.Context, c *media.Clip) error {
	data := replyData{ThreadID: c.ThreadID, ClipID: c.ID, ReplyTo: c.ReplyTo, ReplyAt: c.ReplyAtMS, Clip: newClipData(c)}
	e, err := newEvent(media.EventThreadReply, c, data, time.Now())
	if err != nil {
		return err
	}
	e, created, err := h.recordEvent(ctx, e)
	if err != nil {
		return err
	}
	if created {
		if err := h.Store.TouchThread(ctx, c.ThreadID, 0, 1, e.CreatedAt); err != nil {
			return fmt.Errorf("touch thread %s: %w", c.ThreadID, err)
		}
	}
	return h.notify(ctx, e)
}
