package api

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"parley/media"
	"parley/media/localfs"
	sqlstore "parley/media/sql"
	"parley/web"
)

const pageBase = "https://parley.example"

// pageEnv is a Server over a real SQLite store and real local blobs.
type pageEnv struct {
	srv    *Server
	store  *sqlstore.Store
	blobs  *localfs.Blobs
	thread *media.Thread
	owner  media.Principal
}

func newPageEnv(t testing.TB) *pageEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	blobs, err := localfs.New(filepath.Join(dir, "blobs"), pageBase, []byte("page-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatalf("local blobs: %v", err)
	}
	svc := media.NewService(st, nil)
	if _, err := svc.EnsureWorkspace(ctx, media.DefaultWorkspaceID, "Default"); err != nil {
		t.Fatalf("workspace: %v", err)
	}
	owner := media.Principal{WorkspaceID: media.DefaultWorkspaceID, Admin: true}
	th, err := svc.CreateThread(ctx, owner, "pages")
	if err != nil {
		t.Fatalf("thread: %v", err)
	}
	srv := &Server{Service: svc, Blobs: blobs, BaseURL: pageBase, BlobHandler: blobs,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &pageEnv{srv: srv, store: st, blobs: blobs, thread: th, owner: owner}
}

// put stores a blob and returns its key.
func (e *pageEnv) put(t testing.TB, key, contentType string, data []byte) string {
	t.Helper()
	if err := e.blobs.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return key
}

// clip stores a clip made by edit from a ready video clip of 1280x720.
func (e *pageEnv) clip(t testing.TB, edit func(*media.Clip)) *media.Clip {
	t.Helper()
	now := time.Now().UTC()
	c := &media.Clip{
		ID: media.NewID(), WorkspaceID: media.DefaultWorkspaceID, ThreadID: e.thread.ID, Kind: media.KindVideo,
		Status: media.StatusReady, Privacy: media.Unlisted, DurationMS: 5200, Width: 1280, Height: 720,
		CreatedAt: now, UpdatedAt: now,
	}
	c.Media.Original = e.put(t, media.OriginalKey(c.ID, "webm"), "video/webm", []byte("webm bytes"))
	if edit != nil {
		edit(c)
	}
	if err := e.store.CreateClip(context.Background(), c); err != nil {
		t.Fatalf("create clip: %v", err)
	}
	return c
}

// jpegOf returns a JPEG image of w×h.
func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatalf("encode jpeg: %v", err)
	}
	return buf.Bytes()
}

func (e *pageEnv) get(t testing.TB, target string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", target, err)
	}
	return resp, body
}

// metaTags returns the content of every <meta property|name> and the href of every
// <link rel> (keyed "link:rel:type") of an HTML document, as a browser would read them.
func metaTags(t testing.TB, doc []byte) map[string]string {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("parse html: %v", err)
	}
	out := map[string]string{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			switch {
			case n.Data == "meta" && a["property"] != "":
				out[a["property"]] = a["content"]
			case n.Data == "meta" && a["name"] != "":
				out[a["name"]] = a["content"]
			case n.Data == "link" && a["rel"] == "alternate":
				out["link:alternate:"+a["type"]] = a["href"]
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

func attrs(n *html.Node) map[string]string {
	out := map[string]string{}
	for _, a := range n.Attr {
		out[a.Key] = a.Val
	}
	return out
}

// pageData decodes the JSON of the page's <script type="application/json" id="parley-data">.
func pageData(t testing.TB, doc []byte, v any) {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("parse html: %v", err)
	}
	var find func(*html.Node) *html.Node
	find = func(n *html.Node) *html.Node {
		if n.Type == html.ElementNode && n.Data == "script" && attrs(n)["id"] == "parley-data" {
			return n
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if f := find(c); f != nil {
				return f
			}
		}
		return nil
	}
	n := find(root)
	if n == nil || n.FirstChild == nil {
		t.Fatalf("no parley-data script in:\n%s", doc)
	}
	if got := attrs(n)["type"]; got != "application/json" {
		t.Errorf("parley-data type = %q, want application/json", got)
	}
	if err := json.Unmarshal([]byte(n.FirstChild.Data), v); err != nil {
		t.Fatalf("decode page data %q: %v", n.FirstChild.Data, err)
	}
}

func TestSharePageTags(t *testing.T) {
	e := newPageEnv(t)
	title := `Q&A "launch" <script>alert(1)</script>`
	c := e.clip(t, func(c *media.Clip) {
		c.Title = title
		c.Media.MP4 = e.put(t, media.RenditionKey(c.ID, "video.mp4"), "video/mp4", []byte("mp4"))
		c.Media.Poster = e.put(t, media.RenditionKey(c.ID, "poster.jpg"), "image/jpeg", jpegOf(t, 64, 36))
	})
	resp, body := e.get(t, "/c/"+c.ID, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, body)
	}
	if bytes.Contains(body, []byte("<script>alert")) {
		t.Errorf("title not escaped:\n%s", body)
	}
	share, stable := pageBase+"/c/"+c.ID, pageBase+"/c/"+c.ID+"/media/"
	want := map[string]string{
		"description": "A video message on Parley · 0:05", "og:site_name": "Parley", "og:title": title,
		"og:description": "A video message on Parley · 0:05", "og:type": "video.other", "og:url": share,
		"og:image": stable + "poster", "og:video": stable + "mp4", "og:video:secure_url": stable + "mp4",
		"og:video:type": "video/mp4", "og:video:width": "1280", "og:video:height": "720", "video:duration": "5",
		"twitter:card": "player", "twitter:title": title, "twitter:description": "A video message on Parley · 0:05",
		"twitter:image": stable + "poster", "twitter:player": pageBase + "/embed/" + c.ID,
		"twitter:player:width": "1280", "twitter:player:height": "720", "twitter:player:stream": stable + "mp4",
		"twitter:player:stream:content_type": "video/mp4", "viewport": "width=device-width, initial-scale=1",
		"color-scheme":                           "light dark",
		"link:alternate:application/json+oembed": pageBase + "/oembed?" + url.Values{"format": {"json"}, "url": {share}}.Encode(),
	}
	if diff := cmp.Diff(want, metaTags(t, body)); diff != "" {
		t.Errorf("share page tags (-want +got):\n%s", diff)
	}
}

func TestSharePageWithoutMedia(t *testing.T) {
	e := newPageEnv(t)
	c := e.clip(t, func(c *media.Clip) {
		c.Kind, c.Status, c.Media = media.KindAudio, media.StatusRecording, media.MediaKeys{}
	})
	_, body := e.get(t, "/c/"+c.ID, nil)
	tags := metaTags(t, body)
	for _, name := range []string{"og:video", "og:image", "twitter:player:stream", "video:duration"} {
		if v, ok := tags[name]; ok {
			t.Errorf("%s = %q for a clip without media", name, v)
		}
	}
	want := map[string]string{"og:title": "Voice message", "og:description": "A voice message on Parley, still being made",
		"twitter:player:width": "560", "twitter:player:height": "160"}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("%s = %q, want %q", k, tags[k], v)
		}
	}
}

func TestClipPageData(t *testing.T) {
	e := newPageEnv(t)
	c := e.clip(t, func(c *media.Clip) {
		c.Kind = media.KindAudio
		c.Media.Waveform = e.put(t, media.RenditionKey(c.ID, "waveform.json"), "application/json", []byte(`{"version":2,"data":[-3,4]}`))
	})
	for _, page := range []string{"/c/", "/embed/"} {
		_, body := e.get(t, page+c.ID, nil)
		var got struct {
			Clip struct {
				ID    string
				Kind  string
				Media map[string]*string
			}
			Peaks string
		}
		pageData(t, body, &got)
		if got.Clip.ID != c.ID || got.Clip.Kind != "audio" || got.Peaks != "/c/"+c.ID+"/peaks.json" {
			t.Errorf("%s data = %+v", page, got)
		}
		if bytes.Contains(body, []byte(e.thread.ID)) {
			t.Errorf("%s page reveals the thread id", page)
		}
		orig := got.Clip.Media["original"]
		if orig == nil || !strings.HasPrefix(*orig, pageBase+localfs.PathPrefix) {
			t.Errorf("%s original = %v, want a signed URL", page, orig)
		}
	}
}

func TestPageSecurityHeaders(t *testing.T) {
	e := newPageEnv(t)
	c := e.clip(t, nil)
	_, token, err := e.srv.Service.CreateRecorderLink(context.Background(), e.owner, media.LinkRequest{ThreadID: e.thread.ID})
	if err != nil {
		t.Fatalf("create link: %v", err)
	}
	type headers struct{ Ancestors, XFrame, NoSniff, Referrer, Permissions, Cache string }
	deny := headers{"'none'", "DENY", "nosniff", "strict-origin-when-cross-origin", "camera=(), microphone=(), display-capture=()", "no-cache"}
	tests := []struct {
		path   string
		want   headers
		origin string // media origin the page must allow
	}{
		{"/c/" + c.ID, deny, " " + pageBase},
		{"/embed/" + c.ID, headers{"*", "", "nosniff", "strict-origin-when-cross-origin", "camera=(), microphone=(), display-capture=()", "no-cache"}, " " + pageBase},
		{"/r/" + token, headers{"'none'", "DENY", "nosniff", "no-referrer", "camera=(self), microphone=(self), display-capture=(self)", "no-store"}, " " + pageBase},
		{"/r/rl_unknown", deny, ""},
		{"/c/" + media.NewID(), deny, ""},
	}
	for _, tt := range tests {
		resp, _ := e.get(t, tt.path, nil)
		csp := resp.Header.Get("Content-Security-Policy")
		got := headers{cspDirective(csp, "frame-ancestors"), resp.Header.Get("X-Frame-Options"), resp.Header.Get("X-Content-Type-Options"),
			resp.Header.Get("Referrer-Policy"), resp.Header.Get("Permissions-Policy"), resp.Header.Get("Cache-Control")}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s headers (-want +got):\n%s", tt.path, diff)
		}
		for directive, want := range map[string]string{
			"default-src": "'self'", "script-src": "'self'", "connect-src": "'self'", "object-src": "'none'",
			"media-src": "blob: 'self'" + tt.origin, "img-src": "data: 'self'" + tt.origin,
		} {
			if got := cspDirective(csp, directive); got != want {
				t.Errorf("%s: CSP %s = %q, want %q (policy %q)", tt.path, directive, got, want, csp)
			}
		}
	}
}

// cspDirective returns the sources of one directive of a Content-Security-Policy ("" if absent).
func cspDirective(policy, name string) string {
	for _, d := range strings.Split(policy, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), name+" "); ok {
			return v
		}
	}
	return ""
}

func TestRecorderPage(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	link := func(req media.LinkRequest) (*media.RecorderLink, string) {
		t.Helper()
		req.ThreadID = e.thread.ID
		l, token, err := e.srv.Service.CreateRecorderLink(ctx, e.owner, req)
		if err != nil {
			t.Fatalf("create link: %v", err)
		}
		return l, token
	}
	_, usable := link(media.LinkRequest{Kind: media.KindAudio, MaxDurationS: 90})
	_, unlimited := link(media.LinkRequest{Kind: media.KindAny})
	_, expiring := link(media.LinkRequest{ExpiresInS: 60})
	usedLink, used := link(media.LinkRequest{MaxUses: 1})
	if _, err := e.store.UseRecorderLink(ctx, usedLink.ID, time.Now()); err != nil {
		t.Fatalf("use link: %v", err)
	}
	revokedLink, revoked := link(media.LinkRequest{})
	if err := e.srv.Service.RevokeRecorderLink(ctx, e.owner, revokedLink.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	tests := []struct {
		name     string
		token    string
		later    time.Duration
		status   int
		contains string
		data     *recorderData
	}{
		{"usable", usable, 0, 200, "Start recording", &recorderData{Token: usable, WHIPURL: "/whip", Kind: "audio", MaxDurationS: 90, Limited: true,
			ThreadURL: "/r/" + usable + "/thread", EventsURL: "/r/" + usable + "/events"}},
		{"unlimited", unlimited, 0, 200, "Voice only", &recorderData{Token: unlimited, WHIPURL: "/whip", Kind: "any", MaxDurationS: 3600,
			ThreadURL: "/r/" + unlimited + "/thread", EventsURL: "/r/" + unlimited + "/events"}},
		{"before expiry", expiring, 0, 200, "Stop recording", nil},
		{"expired", expiring, 2 * time.Minute, 410, "this recorder link has expired", nil},
		{"used up", used, 0, 410, "this recorder link has been used up", nil},
		{"revoked", revoked, 0, 410, "this recorder link has been revoked", nil},
		{"unknown", "rl_" + strings.Repeat("a", 52), 0, 404, "This recorder link does not exist", nil},
		{"api key", "pk_test_not_a_link", 0, 404, "This recorder link does not exist", nil},
		{"garbage", "%3Cscript%3E", 0, 404, "This recorder link does not exist", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.srv.Service.Now = func() time.Time { return time.Now().Add(tt.later) }
			resp, body := e.get(t, "/r/"+tt.token, nil)
			if resp.StatusCode != tt.status || !bytes.Contains(body, []byte(tt.contains)) {
				t.Fatalf("status %d, want %d with %q:\n%s", resp.StatusCode, tt.status, tt.contains, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.data == nil {
				return
			}
			var got recorderData
			pageData(t, body, &got)
			if diff := cmp.Diff(*tt.data, got); diff != "" {
				t.Errorf("page data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrivateClipHidden(t *testing.T) {
	e := newPageEnv(t)
	c := e.clip(t, func(c *media.Clip) { c.Privacy = media.Private })
	for _, path := range []string{"/c/" + c.ID, "/embed/" + c.ID, "/c/" + c.ID + "/media/original", "/oembed?url=" + url.QueryEscape(pageBase+"/c/"+c.ID)} {
		resp, body := e.get(t, path, nil)
		if resp.StatusCode != http.StatusNotFound || bytes.Contains(body, []byte(c.Media.Original)) {
			t.Errorf("GET %s = %d:\n%s", path, resp.StatusCode, body)
		}
	}
}

func TestOEmbed(t *testing.T) {
	e := newPageEnv(t)
	video := e.clip(t, func(c *media.Clip) {
		c.Title = `"Quoted" & <b>`
		c.Media.Poster = e.put(t, media.RenditionKey(c.ID, "poster.jpg"), "image/jpeg", jpegOf(t, 320, 180))
	})
	voice := e.clip(t, func(c *media.Clip) { c.Kind, c.Width, c.Height = media.KindAudio, 0, 0 })
	iframe := func(id, title string, w, h string) string {
		return `<iframe src="` + pageBase + `/embed/` + id + `" width="` + w + `" height="` + h + `" title="` + title +
			`" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`
	}
	videoView := oembedView{Version: "1.0", Type: "video", Title: `"Quoted" & <b>`, ProviderName: "Parley", ProviderURL: pageBase,
		HTML: iframe(video.ID, "&#34;Quoted&#34; &amp; &lt;b&gt;", "1280", "720"), Width: 1280, Height: 720,
		ThumbnailURL: pageBase + "/c/" + video.ID + "/media/poster", ThumbnailWidth: 320, ThumbnailHeight: 180}
	small := videoView
	small.Width, small.Height, small.HTML = 320, 180, iframe(video.ID, "&#34;Quoted&#34; &amp; &lt;b&gt;", "320", "180")
	short := videoView
	short.Width, short.Height, short.HTML = 160, 90, iframe(video.ID, "&#34;Quoted&#34; &amp; &lt;b&gt;", "160", "90")
	voiceView := oembedView{Version: "1.0", Type: "video", Title: "Voice message", ProviderName: "Parley", ProviderURL: pageBase,
		HTML: iframe(voice.ID, "Voice message", "560", "160"), Width: 560, Height: 160}
	tests := []struct {
		name   string
		query  url.Values
		status int
		want   *oembedView
		code   string
	}{
		{"share url", url.Values{"url": {pageBase + "/c/" + video.ID}}, 200, &videoView, ""},
		{"embed url json", url.Values{"url": {pageBase + "/embed/" + video.ID}, "format": {"json"}}, 200, &videoView, ""},
		{"maxwidth", url.Values{"url": {pageBase + "/c/" + video.ID}, "maxwidth": {"320"}}, 200, &small, ""},
		{"maxheight", url.Values{"url": {pageBase + "/c/" + video.ID}, "maxwidth": {"400"}, "maxheight": {"90"}}, 200, &short, ""},
		{"voice", url.Values{"url": {pageBase + "/c/" + voice.ID}}, 200, &voiceView, ""},
		{"xml", url.Values{"url": {pageBase + "/c/" + video.ID}, "format": {"xml"}}, 415, nil, media.EUNSUPPORTED},
		{"no url", url.Values{}, 400, nil, media.EINVALID},
		{"other host", url.Values{"url": {"https://evil.example/c/" + video.ID}}, 404, nil, media.ENOTFOUND},
		{"other scheme", url.Values{"url": {"http://parley.example/c/" + video.ID}}, 404, nil, media.ENOTFOUND},
		{"other path", url.Values{"url": {pageBase + "/api/v1/clips/" + video.ID}}, 404, nil, media.ENOTFOUND},
		{"bad id", url.Values{"url": {pageBase + "/c/../../etc"}}, 404, nil, media.ENOTFOUND},
		{"unknown clip", url.Values{"url": {pageBase + "/c/" + media.NewID()}}, 404, nil, media.ENOTFOUND},
		{"not a url", url.Values{"url": {"%%%"}}, 404, nil, media.ENOTFOUND},
		{"bad maxwidth", url.Values{"url": {pageBase + "/c/" + video.ID}, "maxwidth": {"-5"}}, 400, nil, media.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, "/oembed?"+tt.query.Encode(), nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.want == nil {
				var eb errorBody
				if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != tt.code {
					t.Errorf("error body %s, want code %q", body, tt.code)
				}
				return
			}
			var got oembedView
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if diff := cmp.Diff(*tt.want, got); diff != "" {
				t.Errorf("oEmbed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClipMediaAndPeaks(t *testing.T) {
	e := newPageEnv(t)
	poster := jpegOf(t, 32, 18)
	peaks := []byte(`{"version":2,"channels":1,"bits":8,"length":1,"data":[-10,12]}`)
	c := e.clip(t, func(c *media.Clip) {
		c.Media.Poster = e.put(t, media.RenditionKey(c.ID, "poster.jpg"), "image/jpeg", poster)
		c.Media.Waveform = e.put(t, media.RenditionKey(c.ID, "waveform.json"), "application/json", peaks)
	})
	resp, _ := e.get(t, "/c/"+c.ID+"/media/poster", nil)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), pageBase+localfs.PathPrefix) {
		t.Fatalf("poster link: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := e.get(t, loc.RequestURI(), nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, poster) {
		t.Errorf("following the poster link: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = e.get(t, "/c/"+c.ID+"/peaks.json", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, peaks) || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("peaks: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	for _, path := range []string{"/c/" + c.ID + "/media/mp4", "/c/" + c.ID + "/media/secret", "/c/nope/peaks.json"} {
		if resp, body := e.get(t, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d: %s", path, resp.StatusCode, body)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	e := newPageEnv(t)
	player, _ := web.Lookup("player.js")
	prefix := web.StaticPrefix()
	tests := []struct {
		name     string
		path     string
		header   map[string]string
		status   int
		etag     string
		encoding string
		cache    string
		body     []byte
	}{
		{"plain", prefix + "player.js", nil, 200, player.ETag, "", "public, max-age=31536000, immutable", player.Body},
		{"gzip", prefix + "player.js", map[string]string{"Accept-Encoding": "br, gzip"}, 200, player.GzipETag, "gzip", "public, max-age=31536000, immutable", player.Gzip},
		{"gzip refused", prefix + "player.js", map[string]string{"Accept-Encoding": "gzip;q=0"}, 200, player.ETag, "", "public, max-age=31536000, immutable", player.Body},
		{"not modified", prefix + "player.js", map[string]string{"If-None-Match": `"x", ` + player.ETag}, 304, player.ETag, "", "public, max-age=31536000, immutable", nil},
		{"old version", "/static/0000/player.js", nil, 200, player.ETag, "", "public, max-age=60", player.Body},
		{"unknown", prefix + "nope.js", nil, 404, "", "", "", nil},
		{"template", prefix + "../templates/share.html", nil, 404, "", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, tt.path, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 404 {
				return
			}
			got := []string{resp.Header.Get("ETag"), resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"), resp.Header.Get("X-Content-Type-Options")}
			if diff := cmp.Diff([]string{tt.etag, tt.encoding, tt.cache, "nosniff"}, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if !bytes.Equal(body, tt.body) {
				t.Errorf("body: %d bytes, want %d", len(body), len(tt.body))
			}
		})
	}
}

func TestFit(t *testing.T) {
	tests := []struct{ w, h, maxW, maxH, wantW, wantH int }{
		{1280, 720, 0, 0, 1280, 720},
		{1280, 720, 640, 0, 640, 360},
		{1280, 720, 0, 360, 640, 360},
		{1280, 720, 2000, 2000, 1280, 720},
		{720, 1280, 400, 400, 225, 400},
		{560, 160, 1, 1, 1, 1},
	}
	for _, tt := range tests {
		w, h := fit(tt.w, tt.h, tt.maxW, tt.maxH)
		if w != tt.wantW || h != tt.wantH {
			t.Errorf("fit(%d, %d, %d, %d) = %d, %d, want %d, %d", tt.w, tt.h, tt.maxW, tt.maxH, w, h, tt.wantW, tt.wantH)
		}
	}
}

// BenchmarkSharePage measures rendering a clip's share page in memory, store read included.
func BenchmarkSharePage(b *testing.B) {
	e := newPageEnv(b)
	c := e.clip(b, func(c *media.Clip) {
		c.Media.MP4 = e.put(b, media.RenditionKey(c.ID, "video.mp4"), "video/mp4", []byte("mp4"))
	})
	app := e.srv.App()
	for b.Loop() {
		resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/c/"+c.ID, nil), -1)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET share page: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}
