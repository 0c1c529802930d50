package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"parley/media"
)

// EventID is the ID of the event of a type about a subject (a clip): the same occurrence
// recorded twice gets the same ID, so it is stored and delivered once.
func EventID(eventType, subject string) string {
	sum := sha256.Sum256([]byte(eventType + "\x00" + subject))
	return "evt_" + hex.EncodeToString(sum[:16])
}

// eventBody is the JSON an event is stored and delivered as (Standard Webhooks' payload shape).
type eventBody struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// clipData is the data of clip events.
type clipData struct {
	ID          string           `json:"id"`
	WorkspaceID string           `json:"workspace_id"`
	ThreadID    string           `json:"thread_id"`
	ReplyTo     *string          `json:"reply_to"`
	Kind        media.ClipKind   `json:"kind"`
	Status      media.ClipStatus `json:"status"`
	DurationMS  int64            `json:"duration_ms"`
	Reason      string           `json:"reason,omitempty"`
}

func newClipData(c *media.Clip) clipData {
	d := clipData{
		ID: c.ID, WorkspaceID: c.WorkspaceID, ThreadID: c.ThreadID, Kind: c.Kind,
		Status: c.Status, DurationMS: c.DurationMS, Reason: c.Reason,
	}
	if c.ReplyTo != "" {
		d.ReplyTo = &c.ReplyTo
	}
	return d
}

// newEvent builds the event of a type about a clip, carrying data.
func newEvent(eventType string, c *media.Clip, data any, now time.Time) (*media.Event, error) {
	now = now.UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(eventBody{Type: eventType, Timestamp: now, Data: data})
	if err != nil {
		return nil, fmt.Errorf("marshal %s event: %w", eventType, err)
	}
	return &media.Event{
		ID: EventID(eventType, c.ID), WorkspaceID: c.WorkspaceID, Type: eventType,
		Payload: b, CreatedAt: now,
	}, nil
}

// recordEvent stores an event unless it exists. It returns the stored event and whether
// this call created it.
func (h *handlers) recordEvent(ctx context.Context, e *media.Event) (*media.Event, bool, error) {
	created, err := h.Store.CreateEvent(ctx, e)
	if err != nil {
		return nil, false, fmt.Errorf("create event %s: %w", e.ID, err)
	}
	if created {
		return e, true, nil
	}
	stored, err := h.Store.GetEvent(ctx, e.ID)
	if err != nil {
		return nil, false, fmt.Errorf("get event %s: %w", e.ID, err)
	}
	return stored, false, nil
}

// notify enqueues a delivery of the event to every webhook of its workspace that wants it
// and existed when it happened. Deliveries already queued or made are not repeated.
func (h *handlers) notify(ctx context.Context, e *media.Event) error {
	hooks, err := h.Store.ListWebhooks(ctx, e.WorkspaceID)
	if err != nil {
		return fmt.Errorf("list webhooks of %s: %w", e.WorkspaceID, err)
	}
	for _, w := range hooks {
		if !w.Wants(e.Type) || w.CreatedAt.After(e.CreatedAt.Add(time.Second)) {
			continue
		}
		if err := h.q.enqueue(ctx, newDelivery(e.ID, w.ID)); err != nil {
			return err
		}
	}
	return nil
}

// publish records an event about a clip (once) and notifies the webhooks.
func (h *handlers) publish(ctx context.Context, eventType string, c *media.Clip, data any) error {
	e, err := newEvent(eventType, c, data, time.Now())
	if err != nil {
		return err
	}
	if e, _, err = h.recordEvent(ctx, e); err != nil {
		return err
	}
	return h.notify(ctx, e)
}
