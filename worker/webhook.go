package worker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"parley/media"
)

// TypeWebhookDeliver POSTs one event to one webhook, signed per the Standard Webhooks spec,
// and retries with backoff until the receiver answers 2xx.
const TypeWebhookDeliver = "webhook:deliver"

// DeliveryPayload names the event and the webhook of a delivery.
type DeliveryPayload struct {
	EventID   string `json:"event_id"`
	WebhookID string `json:"webhook_id"`
}

// newDelivery is the task delivering an event to a webhook: one copy per pair in the queue.
func newDelivery(eventID, webhookID string) job {
	return newJob(TypeWebhookDeliver, DeliveryPayload{eventID, webhookID}, QueueEvents,
		"deliver:"+eventID+":"+webhookID, asynq.MaxRetry(18), asynq.Timeout(time.Minute))
}

// secretPrefix starts a Standard Webhooks signing secret.
const secretPrefix = "whsec_"

// NewWebhookSecret returns a new signing secret: "whsec_" and 24 random bytes in base64.
func NewWebhookSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the webhook-signature header value for a message: "v1," and the base64
// HMAC-SHA256 of id.timestamp.body keyed with the secret's decoded bytes.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil {
		return "", fmt.Errorf("decode webhook secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// deliverWebhook is the handler of TypeWebhookDeliver. Every attempt is recorded as a
// media.Delivery; a non-2xx answer or a network error is returned so that asynq retries.
func (h *handlers) deliverWebhook(ctx context.Context, t *asynq.Task) error {
	var p DeliveryPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	e, w, err := h.deliveryParts(ctx, p)
	if e == nil || err != nil {
		return err
	}
	attempt, done, err := h.priorAttempts(ctx, e.ID, w.ID)
	if done || err != nil {
		return err
	}
	status, err := h.post(ctx, w, e)
	if rerr := h.recordAttempt(ctx, e, w, attempt+1, status, err); rerr != nil {
		return rerr
	}
	if err != nil {
		return fmt.Errorf("deliver %s to webhook %s: %w", e.ID, w.ID, err)
	}
	return nil
}

// deliveryParts loads a delivery's event and webhook; a nil event means there is nothing to
// deliver (the webhook was deleted).
func (h *handlers) deliveryParts(ctx context.Context, p DeliveryPayload) (*media.Event, *media.Webhook, error) {
	w, err := h.Store.GetWebhook(ctx, p.WebhookID)
	if media.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get webhook %s: %w", p.WebhookID, err)
	}
	e, err := h.Store.GetEvent(ctx, p.EventID)
	if media.IsNotFound(err) {
		return nil, nil, fmt.Errorf("event %s not found: %w", p.EventID, asynq.SkipRetry)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get event %s: %w", p.EventID, err)
	}
	return e, w, nil
}

// priorAttempts counts the attempts already made to deliver the event to the webhook and
// reports whether one succeeded.
func (h *handlers) priorAttempts(ctx context.Context, eventID, webhookID string) (int, bool, error) {
	ds, err := h.Store.ListDeliveries(ctx, eventID)
	if err != nil {
		return 0, false, fmt.Errorf("list deliveries of %s: %w", eventID, err)
	}
	n := 0
	for _, d := range ds {
		if d.WebhookID != webhookID {
			continue
		}
		n++
		if d.StatusCode/100 == 2 {
			return n, true, nil
		}
	}
	return n, false, nil
}

// post sends the signed event and returns the receiver's status code; a non-2xx is an error.
func (h *handlers) post(ctx context.Context, w *media.Webhook, e *media.Event) (int, error) {
	req, err := signedRequest(ctx, w, e, time.Now())
	if err != nil {
		return 0, err
	}
	resp, err := h.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// signedRequest builds the POST of an event with the Standard Webhooks headers.
func signedRequest(ctx context.Context, w *media.Webhook, e *media.Event, now time.Time) (*http.Request, error) {
	ts := now.Unix()
	sig, err := Sign(w.Secret, e.ID, ts, e.Payload)
	if err != nil {
		return nil, fmt.Errorf("sign event %s for webhook %s: %v: %w", e.ID, w.ID, err, asynq.SkipRetry)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(e.Payload))
	if err != nil {
		return nil, fmt.Errorf("webhook %s request: %v: %w", w.ID, err, asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	req.Header.Set("webhook-id", e.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	return req, nil
}

// recordAttempt stores one delivery attempt.
func (h *handlers) recordAttempt(ctx context.Context, e *media.Event, w *media.Webhook, attempt, status int, err error) error {
	d := &media.Delivery{
		ID: media.NewID(), EventID: e.ID, WebhookID: w.ID, Attempt: attempt,
		StatusCode: status, CreatedAt: time.Now().UTC(),
	}
	if err != nil {
		d.Error = err.Error()
	}
	if err := h.Store.CreateDelivery(ctx, d); err != nil {
		return fmt.Errorf("record delivery of %s to %s: %w", e.ID, w.ID, err)
	}
	return nil
}
