package media

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"time"
)

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

// NewWebhookSecret returns a new signing secret in the Standard Webhooks form: "whsec_" and
// 24 random bytes in base64.
func NewWebhookSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// ValidateWebhook checks a webhook's URL and event types.
func ValidateWebhook(w *Webhook) error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "url must be an absolute http or https URL")
	}
	for _, e := range w.Events {
		if e != EventClipReady && e != EventClipFailed && e != EventThreadReply {
			return Errorf(EINVALID, "unknown event type %q", e)
		}
	}
	return nil
}
