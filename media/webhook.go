package media

import "time"

// Event types delivered to webhooks.
const (
	EventClipReady   = "clip.ready"
	EventClipFailed  = "clip.failed"
	EventThreadReply = "thread.reply"
)

// Webhook is a workspace's subscription to events.
type Webhook struct {
	ID          string
	WorkspaceID string
	URL         string
	Secret      string // "whsec_" + base64 key, per the Standard Webhooks spec
	Events      []string
	CreatedAt   time.Time
}

// Wants reports whether the webhook subscribes to an event type.
func (w *Webhook) Wants(eventType string) bool {
	if len(w.Events) == 0 {
		return true
	}
	for _, e := range w.Events {
		if e == eventType {
			return true
		}
	}
	return false
}

// Event is something that happened, recorded once. Its ID is derived from what happened,
// so recording the same occurrence twice yields the same event.
type Event struct {
	ID          string
	WorkspaceID string
	Type        string
	Payload     []byte // JSON
	CreatedAt   time.Time
}

// Delivery is one attempt to deliver an event to a webhook.
type Delivery struct {
	ID         string
	EventID    string
	WebhookID  string
	Attempt    int
	StatusCode int
	Error      string
	CreatedAt  time.Time
}
