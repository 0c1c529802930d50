package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"parley/media"
)

// guestLink creates a recorder link into the env's thread and returns its token.
func (e *pageEnv) guestLink(t testing.TB, req media.LinkRequest) (*media.RecorderLink, string) {
	t.Helper()
	req.ThreadID = e.thread.ID
	l, token, err := e.srv.Service.CreateRecorderLink(context.Background(), e.owner, req)
	if err != nil {
		t.Fatalf("create link: %v", err)
	}
	return l, token
}

func TestGuestThread(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	root := e.clip(t, nil)
	e.clip(t, func(c *media.Clip) { c.Privacy = media.Private })
	at := int64(1500)
	reply := e.clip(t, func(c *media.Clip) { c.ReplyTo, c.ReplyAtMS, c.Kind = root.ID, &at, media.KindAudio })
	_, usable := e.guestLink(t, media.LinkRequest{Kind: media.KindAny})
	_, expiring := e.guestLink(t, media.LinkRequest{ExpiresInS: 60})
	usedLink, used := e.guestLink(t, media.LinkRequest{MaxUses: 1})
	if _, err := e.store.UseRecorderLink(ctx, usedLink.ID, time.Now()); err != nil {
		t.Fatalf("use link: %v", err)
	}
	revokedLink, revoked := e.guestLink(t, media.LinkRequest{})
	if err := e.srv.Service.RevokeRecorderLink(ctx, e.owner, revokedLink.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	type clip struct {
		ID        string  `json:"id"`
		ReplyTo   *string `json:"reply_to"`
		ReplyAtMS *int64  `json:"reply_at_ms"`
		Kind      string  `json:"kind"`
	}
	visible := []clip{{ID: root.ID, Kind: "video"}, {ID: reply.ID, ReplyTo: &root.ID, ReplyAtMS: &at, Kind: "audio"}}
	tests := []struct {
		name   string
		token  string
		later  time.Duration
		status int
		code   string // error code, when status is not 200
		clips  []clip
	}{
		{"usable", usable, 0, 200, "", visible},
		{"used up still shows the thread", used, 0, 200, "", visible},
		{"expired", expiring, 2 * time.Minute, 410, media.EGONE, nil},
		{"revoked", revoked, 0, 410, media.EGONE, nil},
		{"unknown", "rl_" + strings.Repeat("a", 52), 0, 404, media.ENOTFOUND, nil},
		{"api key", "pk_test_not_a_link", 0, 404, media.ENOTFOUND, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.srv.Service.Now = func() time.Time { return time.Now().Add(tt.later) }
			resp, body := e.get(t, "/r/"+tt.token+"/thread", nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				checkErrorBody(t, body, tt.code)
				return
			}
			checkGuestThread(t, resp, body, e.thread.ID, tt.clips)
		})
	}
}

// checkErrorBody expects the JSON error shape with the given code.
func checkErrorBody(t testing.TB, body []byte, code string) {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(body, &b); err != nil || b.Error.Code != code || b.Error.Message == "" {
		t.Errorf("error body %s (%v), want code %q with a message", body, err, code)
	}
}

func checkGuestThread[C any](t testing.TB, resp *http.Response, body []byte, threadID string, want []C) {
	t.Helper()
	var got struct {
		ID    string `json:"id"`
		Clips []C    `json:"clips"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if diff := cmp.Diff(want, got.Clips); diff != "" || got.ID != threadID {
		t.Errorf("thread %s, want %s; clips (-want +got):\n%s", got.ID, threadID, diff)
	}
	var signed struct {
		Clips []struct{ Media mediaView } `json:"clips"`
	}
	json.Unmarshal(body, &signed)
	for i, c := range signed.Clips {
		if c.Media.Original == nil || !strings.HasPrefix(*c.Media.Original, pageBase+"/blobs/") {
			t.Errorf("clip %d: original %v, want a signed URL", i, c.Media.Original)
		}
	}
	for h, v := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if got := resp.Header.Get(h); got != v {
			t.Errorf("%s = %q, want %q", h, got, v)
		}
	}
}

func TestGuestEventsFollowChangesAndEndOnRevoke(t *testing.T) {
	e := newAPIEnv(t)
	clip := e.clip(t, func(c *media.Clip) { c.Status = media.StatusProcessing })
	link, token := e.guestLink(t, media.LinkRequest{Kind: media.KindAny})
	resp, err := http.Get(e.base + "/r/" + token + "/events")
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events = %d, Content-Type %q", resp.StatusCode, ct)
	}
	events := readEvents(resp.Body)
	if first := <-events; !strings.Contains(first, clip.ID) || !strings.Contains(first, `"processing"`) {
		t.Fatalf("first event %q lacks the processing clip", first)
	}
	e.store.UpdateClip(context.Background(), clip.ID, func(c *media.Clip) error { return c.SetStatus(media.StatusReady) })
	if next := nextEvent(t, events); !strings.Contains(next, `"ready"`) {
		t.Errorf("update event %q lacks the ready clip", next)
	}
	if err := e.srv.Service.RevokeRecorderLink(context.Background(), e.owner, link.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	select {
	case ev, open := <-events:
		if open {
			t.Errorf("event %q after the link was revoked, want the stream to end", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream went on after the link was revoked")
	}
	gone, err := http.Get(e.base + "/r/" + token + "/events")
	if err != nil {
		t.Fatalf("events after revoke: %v", err)
	}
	gone.Body.Close()
	if gone.StatusCode != http.StatusGone {
		t.Errorf("events of a revoked link = %d, want 410", gone.StatusCode)
	}
}

func nextEvent(t testing.TB, events <-chan string) string {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
		return ""
	}
}

func TestThreadPage(t *testing.T) {
	e := newPageEnv(t)
	resp, body := e.get(t, "/t/"+e.thread.ID, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Open thread") || !strings.Contains(string(body), "Start recording") {
		t.Fatalf("GET /t/{id} = %d:\n%s", resp.StatusCode, body)
	}
	var data threadPageData
	pageData(t, body, &data)
	if diff := cmp.Diff(threadPageData{ThreadID: e.thread.ID, WHIPURL: "/whip"}, data); diff != "" {
		t.Errorf("page data (-want +got):\n%s", diff)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	got := []string{cspDirective(csp, "frame-ancestors"), cspDirective(csp, "connect-src"), cspDirective(csp, "script-src"),
		resp.Header.Get("X-Frame-Options"), resp.Header.Get("Permissions-Policy")}
	want := []string{"'none'", "'self' " + pageBase, "'self'", "DENY", "camera=(self), microphone=(self), display-capture=(self)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("thread page policy (-want +got):\n%s", diff)
	}
	if resp, _ := e.get(t, "/t/not-an-id", nil); resp.StatusCode != 404 {
		t.Errorf("GET /t/not-an-id = %d, want 404", resp.StatusCode)
	}
}
