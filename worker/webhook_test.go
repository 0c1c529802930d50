package worker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"parley/media"
)

// The published Standard Webhooks test vector.
func TestSignStandardWebhooksVector(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestNewWebhookSecret(t *testing.T) {
	a, b := NewWebhookSecret(), NewWebhookSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(key) != 24 {
		t.Errorf("secret %q: want whsec_ and 24 bytes of base64 (err %v, %d bytes)", a, err, len(key))
	}
	if a == b {
		t.Errorf("two secrets are equal: %s", a)
	}
}

// received is one request a receiver got.
type received struct {
	ID, Type, Subject string
	Status            int
}

// receiver is a webhook endpoint that checks Standard Webhooks signatures on its own and
// answers 500 to the first delivery of each webhook-id.
type receiver struct {
	t      testing.TB
	secret string
	srv    *httptest.Server

	mu  sync.Mutex
	got []received
}

func newReceiver(t testing.TB, secret string) *receiver {
	r := &receiver{t: t, secret: secret}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	if err := verifyStandardWebhook(r.secret, req.Header, body, time.Now()); err != "" {
		r.t.Errorf("delivery %s: %s", id, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		Type string `json:"type"`
		Data struct {
			ID     string `json:"id"`
			ClipID string `json:"clip_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		r.t.Errorf("delivery %s body %s: %v", id, body, err)
	}
	status := r.record(received{ID: id, Type: ev.Type, Subject: ev.Data.ID + ev.Data.ClipID})
	w.WriteHeader(status)
}

// record notes a request and returns the status to answer: 500 the first time an id is seen.
func (r *receiver) record(rc received) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	rc.Status = http.StatusNoContent
	if len(r.byID(rc.ID)) == 0 {
		rc.Status = http.StatusInternalServerError
	}
	r.got = append(r.got, rc)
	return rc.Status
}

func (r *receiver) byID(id string) []received {
	var out []received
	for _, g := range r.got {
		if g.ID == id {
			out = append(out, g)
		}
	}
	return out
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verifyStandardWebhook checks a delivery the way a receiver following the Standard Webhooks
// spec does; it returns what is wrong, or "".
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) string {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return "missing webhook headers"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return "timestamp " + ts + " is not within 5 minutes"
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		return "bad secret"
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && version == "v1" && err == nil && hmac.Equal(got, want) {
			return ""
		}
	}
	return "no valid v1 signature in " + sigs
}

// webhook stores a webhook of the env's workspace.
func (e *env) webhook(url, secret string, events ...string) *media.Webhook {
	e.t.Helper()
	w := &media.Webhook{
		ID: media.NewID(), WorkspaceID: e.ws.ID, URL: url, Secret: secret, Events: events,
		CreatedAt: time.Now().UTC(),
	}
	if err := e.store.CreateWebhook(context.Background(), w); err != nil {
		e.t.Fatalf("create webhook: %v", err)
	}
	return w
}

func TestWebhooksRetriedWithSameID(t *testing.T) {
	e := newEnv(t, envOptions{store: "postgres", blobs: "localfs", db: dbWebhooks})
	secret := NewWebhookSecret()
	rcv := newReceiver(t, secret)
	hook := e.webhook(rcv.srv.URL, secret, media.EventClipReady, media.EventThreadReply)
	e.webhook(rcv.srv.URL, secret, media.EventClipFailed) // wants none of the events below
	root := e.clip(clipSpec{kind: media.KindVideo, status: media.StatusReady})
	e.startServer(time.Second)
	reply := e.processingClip("voice.webm", media.KindAudio, root.ID)
	e.waitTerminal(reply.ID)

	readyID, replyID := EventID(media.EventClipReady, reply.ID), EventID(media.EventThreadReply, reply.ID)
	waitFor(t, "two deliveries of each event", func() bool { return len(rcv.requests()) >= 4 && e.queueEmpty(QueueEvents) })
	want := map[string][]received{
		readyID: {{readyID, media.EventClipReady, reply.ID, 500}, {readyID, media.EventClipReady, reply.ID, 204}},
		replyID: {{replyID, media.EventThreadReply, reply.ID, 500}, {replyID, media.EventThreadReply, reply.ID, 204}},
	}
	got := map[string][]received{}
	for _, r := range rcv.requests() {
		got[r.ID] = append(got[r.ID], r)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries by webhook-id (-want +got):\n%s", diff)
	}
	e.checkAttempts(readyID, hook.ID, []int{500, 204})
	e.checkAttempts(replyID, hook.ID, []int{500, 204})
}

// checkAttempts compares the recorded delivery attempts of an event with status codes in order.
func (e *env) checkAttempts(eventID, webhookID string, want []int) {
	e.t.Helper()
	ds, err := e.store.ListDeliveries(context.Background(), eventID)
	if err != nil {
		e.t.Fatalf("list deliveries: %v", err)
	}
	var got []int
	for i, d := range ds {
		if d.WebhookID != webhookID || d.Attempt != i+1 {
			e.t.Errorf("delivery %d: webhook %s attempt %d", i, d.WebhookID, d.Attempt)
		}
		got = append(got, d.StatusCode)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		e.t.Errorf("delivery attempts of %s (-want +got):\n%s", eventID, diff)
	}
}
