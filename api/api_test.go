package api

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"parley/media"
	"parley/media/mediatest"
)

// apiEnv is pageEnv plus API keys and a running HTTP listener.
type apiEnv struct {
	*pageEnv
	base  string
	admin string // admin key of the default workspace
}

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	e := &apiEnv{pageEnv: newPageEnv(t)}
	e.srv.Service.Blobs = e.blobs
	done := make(chan struct{})
	e.srv.Done = done
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	app := e.srv.App()
	go app.Listener(ln)
	t.Cleanup(func() { close(done); app.Shutdown() })
	e.base = "http://" + ln.Addr().String()
	e.admin = e.mustKey(t, media.DefaultWorkspaceID, true)
	return e
}

func (e *apiEnv) mustKey(t testing.TB, workspaceID string, admin bool) string {
	t.Helper()
	ctx := context.Background()
	if _, err := e.srv.Service.EnsureWorkspace(ctx, workspaceID, workspaceID); err != nil {
		t.Fatalf("workspace: %v", err)
	}
	_, token, err := e.srv.Service.CreateAPIKey(ctx, workspaceID, "test", admin)
	if err != nil {
		t.Fatalf("api key: %v", err)
	}
	return token
}

// call sends a JSON request with a bearer token and decodes the JSON answer into out.
func (e *apiEnv) call(t *testing.T, token, method, path, body string, out any) int {
	t.Helper()
	return mediatest.DoJSON(t, method, e.base+path, token, body, out)
}

func TestAuthMatrix(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	member := e.mustKey(t, media.DefaultWorkspaceID, false)
	other := e.mustKey(t, "elsewhere", true)
	revoked := e.mustKey(t, media.DefaultWorkspaceID, false)
	k, _ := e.srv.Service.Authenticate(ctx, revoked)
	e.store.RevokeAPIKey(ctx, media.DefaultWorkspaceID, k.KeyID, time.Now())
	_, link, _ := e.srv.Service.CreateRecorderLink(ctx, e.owner, media.LinkRequest{ThreadID: e.thread.ID, Kind: media.KindAny})
	clip := e.clip(t, func(c *media.Clip) { c.Privacy = media.Private })
	th, cl := "/api/v1/threads/"+e.thread.ID, "/api/v1/clips/"+clip.ID
	tests := []struct {
		name, token, method, path, body string
		want                            int
	}{
		{"admin reads thread", e.admin, "GET", th, "", 200},
		{"member reads private clip", member, "GET", cl, "", 200},
		{"no token", "", "GET", th, "", 401},
		{"forged key", "pk_" + media.NewID(), "GET", th, "", 401},
		{"revoked key", revoked, "GET", th, "", 401},
		{"other workspace thread", other, "GET", th, "", 404},
		{"other workspace clip", other, "GET", cl, "", 404},
		{"other workspace deletes clip", other, "DELETE", cl, "", 404},
		{"other workspace links into thread", other, "POST", "/api/v1/recorder-links", `{"thread_id":"` + e.thread.ID + `","kind":"any"}`, 404},
		{"link reads thread", link, "GET", th, "", 403},
		{"link reads clip", link, "GET", cl, "", 403},
		{"link creates thread", link, "POST", "/api/v1/threads", `{"title":"x"}`, 403},
		{"link makes links", link, "POST", "/api/v1/recorder-links", `{"kind":"any"}`, 403},
		{"link lists keys", link, "GET", "/api/v1/api-keys", "", 403},
		{"member lists keys", member, "GET", "/api/v1/api-keys", "", 403},
		{"member makes webhook", member, "POST", "/api/v1/webhooks", `{"url":"https://example.com/hook"}`, 403},
		{"member makes workspace", member, "POST", "/api/v1/workspaces", `{"name":"x"}`, 403},
		{"other admin makes workspace", other, "POST", "/api/v1/workspaces", `{"name":"x"}`, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body struct {
				Error *struct{ Code, Message string } `json:"error"`
			}
			got := e.call(t, tt.token, tt.method, tt.path, tt.body, &body)
			if got != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, got, tt.want)
			}
			if tt.want >= 400 && (body.Error == nil || body.Error.Code == "") {
				t.Errorf("%s %s: no JSON error body", tt.method, tt.path)
			}
		})
	}
}

func TestManageKeysAndWebhooks(t *testing.T) {
	e := newAPIEnv(t)
	var key struct{ ID, Key string }
	if code := e.call(t, e.admin, "POST", "/api/v1/api-keys", `{"name":"ci"}`, &key); code != 201 || !strings.HasPrefix(key.Key, "pk_") {
		t.Fatalf("create key = %d %+v", code, key)
	}
	var hook struct {
		ID, Secret string
		Events     []string
	}
	if code := e.call(t, e.admin, "POST", "/api/v1/webhooks", `{"url":"https://example.com/h","events":["clip.ready"]}`, &hook); code != 201 || !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("create webhook = %d %+v", code, hook)
	}
	var listed struct{ Webhooks []map[string]any }
	e.call(t, e.admin, "GET", "/api/v1/webhooks", "", &listed)
	got := []any{
		e.call(t, key.Key, "GET", "/api/v1/threads/"+e.thread.ID, "", nil),
		len(listed.Webhooks), listed.Webhooks[0]["secret"],
		e.call(t, e.admin, "PATCH", "/api/v1/webhooks/"+hook.ID, `{"events":["clip.exploded"]}`, nil),
		e.call(t, e.admin, "PATCH", "/api/v1/webhooks/"+hook.ID, `{"url":"ftp://x"}`, nil),
		e.call(t, e.admin, "PATCH", "/api/v1/webhooks/"+hook.ID, `{"events":["thread.reply"]}`, nil),
		e.call(t, e.admin, "DELETE", "/api/v1/webhooks/"+hook.ID, "", nil),
		e.call(t, e.admin, "GET", "/api/v1/webhooks/"+hook.ID, "", nil),
		e.call(t, e.admin, "DELETE", "/api/v1/api-keys/"+key.ID, "", nil),
		e.call(t, key.Key, "GET", "/api/v1/threads/"+e.thread.ID, "", nil),
	}
	want := []any{200, 1, nil, 400, 400, 200, 204, 404, 204, 401}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key and webhook lifecycle (-want +got):\n%s", diff)
	}
}

func TestWorkspaces(t *testing.T) {
	e := newAPIEnv(t)
	var made struct {
		Workspace struct{ ID string }
		AdminKey  string `json:"admin_key"`
	}
	if code := e.call(t, e.admin, "POST", "/api/v1/workspaces", `{"name":"Team B"}`, &made); code != 201 {
		t.Fatalf("create workspace = %d", code)
	}
	var ws struct {
		ID            string
		Name          string
		RetentionDays int `json:"retention_days"`
	}
	got := []any{
		e.call(t, made.AdminKey, "PATCH", "/api/v1/workspace", `{"retention_days":30}`, &ws), ws.ID, ws.RetentionDays,
		e.call(t, made.AdminKey, "PATCH", "/api/v1/workspace", `{"retention_days":-1}`, nil),
		e.call(t, made.AdminKey, "GET", "/api/v1/threads/"+e.thread.ID, "", nil),
	}
	want := []any{200, made.Workspace.ID, 30, 400, 404}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workspace (-want +got):\n%s", diff)
	}
}

func TestPrivateClipMediaURLsExpireSoon(t *testing.T) {
	e := newAPIEnv(t)
	clip := e.clip(t, nil)
	var v struct{ Media struct{ Original string } }
	e.call(t, e.admin, "PATCH", "/api/v1/clips/"+clip.ID, `{"privacy":"private"}`, &v)
	u, err := url.Parse(v.Media.Original)
	if err != nil {
		t.Fatalf("original URL %q: %v", v.Media.Original, err)
	}
	exp, _ := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
	if left := time.Until(time.Unix(exp, 0)); left <= 0 || left > privateMediaTTL {
		t.Errorf("private media URL lives %v, want at most %v", left, privateMediaTTL)
	}
	fetch := func(rawURL string) int {
		resp, err := http.Get(strings.Replace(rawURL, pageBase, e.base, 1))
		if err != nil {
			t.Fatalf("GET %s: %v", rawURL, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	q := u.Query()
	q.Set("signature", strings.Repeat("0", len(q.Get("signature"))))
	forged := *u
	forged.RawQuery = q.Encode()
	unsigned := *u
	unsigned.RawQuery = ""
	if diff := cmp.Diff([]int{200, 403, 403}, []int{fetch(u.String()), fetch(forged.String()), fetch(unsigned.String())}); diff != "" {
		t.Errorf("signed, forged, unsigned fetch (-want +got):\n%s", diff)
	}
}

func TestDeleteClipRemovesMedia(t *testing.T) {
	e := newAPIEnv(t)
	clip := e.clip(t, func(c *media.Clip) {
		c.Media.Poster = e.put(t, media.RenditionKey(c.ID, "poster.jpg"), "image/jpeg", []byte("jpg"))
	})
	if code := e.call(t, e.admin, "DELETE", "/api/v1/clips/"+clip.ID, "", nil); code != 204 {
		t.Fatalf("delete = %d", code)
	}
	for _, key := range clip.Media.Keys() {
		if _, err := e.blobs.Stat(context.Background(), key); !media.IsNotFound(err) {
			t.Errorf("blob %s still there after delete: %v", key, err)
		}
	}
	if code := e.call(t, e.admin, "GET", "/api/v1/clips/"+clip.ID, "", nil); code != 404 {
		t.Errorf("deleted clip = %d, want 404", code)
	}
}

func TestCommentsAndReactions(t *testing.T) {
	e := newAPIEnv(t)
	clip := e.clip(t, nil)
	th := "/api/v1/threads/" + e.thread.ID + "/comments"
	rx := "/api/v1/clips/" + clip.ID + "/reactions"
	got := []int{
		e.call(t, e.admin, "POST", th, `{"clip_id":"`+clip.ID+`","at_ms":1200,"author":"Ann","body":"Good point"}`, nil),
		e.call(t, e.admin, "POST", th, `{"body":"   "}`, nil),
		e.call(t, e.admin, "POST", th, `{"clip_id":"`+clip.ID+`","at_ms":999999,"body":"late"}`, nil),
		e.call(t, e.admin, "POST", th, `{"at_ms":5,"body":"where?"}`, nil),
		e.call(t, e.admin, "POST", rx, `{"emoji":"👍","at_ms":300}`, nil),
		e.call(t, e.admin, "POST", rx, `{"emoji":""}`, nil),
	}
	if diff := cmp.Diff([]int{201, 400, 400, 400, 201, 400}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	var comments struct{ Comments []commentView }
	var reactions struct{ Reactions []reactionView }
	var thread struct {
		ReplyCount int `json:"reply_count"`
	}
	e.call(t, e.admin, "GET", th, "", &comments)
	e.call(t, e.admin, "GET", rx, "", &reactions)
	e.call(t, e.admin, "GET", "/api/v1/threads/"+e.thread.ID, "", &thread)
	at := int64(1200)
	if diff := cmp.Diff([]any{1, "Good point", &at, 1, "👍", 1}, []any{len(comments.Comments), comments.Comments[0].Body,
		comments.Comments[0].AtMS, len(reactions.Reactions), reactions.Reactions[0].Emoji, thread.ReplyCount}); diff != "" {
		t.Errorf("stored replies (-want +got):\n%s", diff)
	}
}

func TestThreadEventsStreamChanges(t *testing.T) {
	e := newAPIEnv(t)
	clip := e.clip(t, func(c *media.Clip) { c.Status = media.StatusProcessing })
	req, _ := http.NewRequest("GET", e.base+"/api/v1/threads/"+e.thread.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	events := readEvents(resp.Body)
	first := <-events
	if !strings.Contains(first, `"processing"`) {
		t.Fatalf("first event %q lacks the processing clip", first)
	}
	e.store.UpdateClip(context.Background(), clip.ID, func(c *media.Clip) error { return c.SetStatus(media.StatusReady) })
	select {
	case next := <-events:
		if !strings.Contains(next, `"ready"`) {
			t.Errorf("update event %q lacks the ready clip", next)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event after the clip became ready")
	}
}

// readEvents yields the data lines of a text/event-stream.
func readEvents(r io.Reader) <-chan string {
	out := make(chan string, 8)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				out <- data
			}
		}
	}()
	return out
}

func TestCaptions(t *testing.T) {
	e := newAPIEnv(t)
	clip := e.clip(t, nil)
	other := e.mustKey(t, "elsewhere", true)
	_, link, _ := e.srv.Service.CreateRecorderLink(context.Background(), e.owner, media.LinkRequest{ThreadID: e.thread.ID, Kind: media.KindAny})
	const vtt = "WEBVTT\n\n00:00.000 --> 00:01.000\nHello <b>there</b>\n"
	put := func(token, contentType, body string) int {
		req, _ := http.NewRequest(http.MethodPut, e.base+"/api/v1/clips/"+clip.ID+"/captions", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("PUT captions: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	got := []int{put(e.admin, "text/plain", vtt), put(e.admin, "text/vtt", "1\n00:00:00,000 --> 00:00:01,000\nsrt\n"),
		put(link, "text/vtt", vtt), put(other, "text/vtt", vtt), put(e.admin, "text/vtt", vtt)}
	if diff := cmp.Diff([]int{415, 400, 403, 404, 200}, got); diff != "" {
		t.Fatalf("PUT captions: wrong type, not WebVTT, guest, other workspace, ok (-want +got):\n%s", diff)
	}
	resp, body := e.get(t, "/c/"+clip.ID+"/captions.vtt", nil)
	var page clipData
	_, doc := e.get(t, "/c/"+clip.ID, nil)
	pageData(t, doc, &page)
	want := []any{200, "text/vtt; charset=utf-8", vtt, "/c/" + clip.ID + "/captions.vtt"}
	if diff := cmp.Diff(want, []any{resp.StatusCode, resp.Header.Get("Content-Type"), string(body), page.Captions}); diff != "" {
		t.Errorf("captions served to pages (-want +got):\n%s", diff)
	}
}
