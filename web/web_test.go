package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// embedBudget bounds what the embed page downloads, gzipped, excluding media.
const embedBudget = 25 << 10

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip reader: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

func TestAssets(t *testing.T) {
	for _, tt := range []struct{ name, contentType string }{
		{"player.js", "text/javascript; charset=utf-8"},
		{"recorder.js", "text/javascript; charset=utf-8"},
		{"whip.js", "text/javascript; charset=utf-8"},
		{"compositor.js", "text/javascript; charset=utf-8"},
		{"ticker.js", "text/javascript; charset=utf-8"},
		{"page.js", "text/javascript; charset=utf-8"},
		{"thread.js", "text/javascript; charset=utf-8"},
		{"recorder-page.js", "text/javascript; charset=utf-8"},
		{"thread-page.js", "text/javascript; charset=utf-8"},
		{"parley.css", "text/css; charset=utf-8"},
	} {
		a, ok := Lookup(tt.name)
		if !ok {
			t.Errorf("asset %s missing", tt.name)
			continue
		}
		if a.ContentType != tt.contentType {
			t.Errorf("%s: content type %q, want %q", tt.name, a.ContentType, tt.contentType)
		}
		if a.Gzip == nil || !bytes.Equal(gunzip(t, a.Gzip), a.Body) || a.ETag == a.GzipETag {
			t.Errorf("%s: gzip variant missing or wrong", tt.name)
		}
	}
	if _, ok := Lookup("../templates/share.html"); ok {
		t.Error("templates are served as assets")
	}
	if !regexp.MustCompile(`^/static/[0-9a-f]{12}/$`).MatchString(StaticPrefix()) {
		t.Errorf("StaticPrefix() = %q", StaticPrefix())
	}
}

// TestImportsResolve checks that every relative module import names an embedded asset.
func TestImportsResolve(t *testing.T) {
	re := regexp.MustCompile(`(?:import|from)\s+'\./([^']+)'|new URL\('\./([^']+)'`)
	for name, a := range load().byName {
		for _, m := range re.FindAllStringSubmatch(string(a.Body), -1) {
			dep := m[1] + m[2]
			if _, ok := Lookup(dep); !ok {
				t.Errorf("%s imports %s, which is not an asset", name, dep)
			}
		}
	}
}

// TestEmbedBudget keeps the embed page small: its HTML and every asset it loads, gzipped.
func TestEmbedBudget(t *testing.T) {
	var html bytes.Buffer
	if err := Render(&html, EmbedPage, &Page{Title: "Video message", Data: map[string]any{"clip": nil}}); err != nil {
		t.Fatal(err)
	}
	total := len(compress(html.Bytes()))
	for _, name := range []string{"page.js", "player.js", "parley.css"} {
		a, _ := Lookup(name)
		total += len(a.Gzip)
	}
	t.Logf("embed page: %d bytes gzipped (budget %d)", total, embedBudget)
	if total > embedBudget {
		t.Errorf("embed page is %d bytes gzipped, over the %d budget", total, embedBudget)
	}
}

func TestRenderEscapes(t *testing.T) {
	p := &Page{Title: `<x>"`, Heading: "Gone", Message: `<script>alert(1)</script>`}
	var buf bytes.Buffer
	if err := Render(&buf, MessagePage, p); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, bad := range []string{"<script>alert", "<x>"} {
		if strings.Contains(got, bad) {
			t.Errorf("unescaped %q in:\n%s", bad, got)
		}
	}
	if !strings.Contains(got, `href="`+StaticPrefix()+`parley.css"`) {
		t.Errorf("no stylesheet link in:\n%s", got)
	}
}

func TestPageData(t *testing.T) {
	var buf bytes.Buffer
	data := map[string]string{"token": "rl_</script><b>"}
	if err := Render(&buf, RecorderPage, &Page{Title: "t", Data: data}); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`<script type="application/json" id="parley-data">([^<]*)</script>`)
	m := re.FindStringSubmatch(buf.String())
	if m == nil {
		t.Fatalf("no data block in:\n%s", buf.String())
	}
	want := `{"token":"rl_\u003c/script\u003e\u003cb\u003e"}`
	if diff := cmp.Diff(want, strings.TrimSpace(m[1])); diff != "" {
		t.Errorf("data block (-want +got):\n%s", diff)
	}
}

// TestRecorderControls checks the accessible names the HTTP contract promises.
func TestRecorderControls(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, RecorderPage, &Page{Title: "t", Data: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`<button[^>]*>([^<]+)</button>`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(buf.String(), -1) {
		got = append(got, m[1])
	}
	want := []string{"Camera", "Voice only", "Screen", "Start recording", "Stop recording", "Change mode", "Send", "Record again", "Record another"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorder buttons (-want +got):\n%s", diff)
	}
}

// TestThreadPageShell checks the member thread page: the API key form, the recorder controls
// and the text reply form, and no data but where things are.
func TestThreadPageShell(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, ThreadPage, &Page{Title: "t", Data: map[string]string{"thread_id": "x"}}); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`<button[^>]*>([^<]+)</button>`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(buf.String(), -1) {
		got = append(got, m[1])
	}
	want := []string{"Open thread", "Camera", "Voice only", "Screen", "Start recording", "Stop recording", "Change mode",
		"Send", "Record again", "Record another", "Post reply", "Forget API key"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("thread page buttons (-want +got):\n%s", diff)
	}
	for _, s := range []string{`id="thread"`, `id="reply-chip"`, `src="` + StaticPrefix() + `thread-page.js"`} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("thread page lacks %s", s)
		}
	}
}
