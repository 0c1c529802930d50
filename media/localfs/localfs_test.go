package localfs_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"parley/media"
	"parley/media/blobstest"
	"parley/media/localfs"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// newBlobs returns Blobs in a fresh directory, served by a real HTTP server at their base URL.
func newBlobs(t testing.TB) (*localfs.Blobs, string) {
	t.Helper()
	dir := t.TempDir()
	var b *localfs.Blobs
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b, err := localfs.New(dir, srv.URL, secret)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b, dir
}

func TestContract(t *testing.T) {
	blobstest.Run(t, func(t *testing.T) media.Blobs {
		b, _ := newBlobs(t)
		return b
	})
}

func TestNewRejectsShortSecret(t *testing.T) {
	_, err := localfs.New(t.TempDir(), "http://x", []byte("short"))
	blobstest.WantCode(t, "New", err, media.EINVALID)
}

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key   string
		valid bool
	}{
		{"clips/abc/original.webm", true},
		{"a", true},
		{"with space/and+plus?.mp4", true},
		{"", false},
		{"/abs/path", false},
		{"a/../b", false},
		{"..", false},
		{"a/./b", false},
		{"a//b", false},
		{"trailing/", false},
		{`back\slash`, false},
		{"nul\x00byte", false},
		{strings.Repeat("k", localfs.MaxKeyLen+1), false},
	}
	for _, tt := range tests {
		err := localfs.ValidateKey(tt.key)
		if got := err == nil; got != tt.valid {
			t.Errorf("ValidateKey(%.40q) = %v, want valid %v", tt.key, err, tt.valid)
		}
		if err != nil && media.ErrorCode(err) != media.EINVALID {
			t.Errorf("ValidateKey(%.40q) code %s, want %s", tt.key, media.ErrorCode(err), media.EINVALID)
		}
	}
}

func TestBadKeysRejected(t *testing.T) {
	b, dir := newBlobs(t)
	ctx := blobstest.Ctx(t)
	err := b.Put(ctx, "../escape", strings.NewReader("x"), 1, "text/plain")
	blobstest.WantCode(t, "Put ../escape", err, media.EINVALID)
	_, err = b.Get(ctx, "../../etc/passwd", 0, -1)
	blobstest.WantCode(t, "Get ../../etc/passwd", err, media.EINVALID)
	_, err = b.NewUpload(ctx, "/abs", "text/plain")
	blobstest.WantCode(t, "NewUpload /abs", err, media.EINVALID)
	err = b.Delete(ctx, `a\b`)
	blobstest.WantCode(t, `Delete a\b`, err, media.EINVALID)
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
		t.Errorf("a file was written outside the directory")
	}
}

func TestKeyUnderAnotherKey(t *testing.T) {
	b, _ := newBlobs(t)
	blobstest.Put(t, b, "a", []byte("x"), "text/plain")
	err := b.Put(blobstest.Ctx(t), "a/b", strings.NewReader("y"), 1, "text/plain")
	blobstest.WantCode(t, "Put a/b under object a", err, media.ECONFLICT)
	blobstest.Put(t, b, "dir/obj", []byte("x"), "text/plain")
	blobstest.WantAbsent(t, b, "dir")
}

// leftovers lists the files under dir/sub.
func leftovers(t testing.TB, dir, sub string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", sub, err)
	}
	return files
}

func TestNothingLeftBehind(t *testing.T) {
	b, dir := newBlobs(t)
	blobstest.Put(t, b, "k/obj", []byte("data"), "text/plain")
	done := blobstest.NewUpload(t, b, "k/done", "video/webm")
	blobstest.PutPart(t, done, 1, []byte("part"))
	if err := done.Complete(blobstest.Ctx(t)); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	aborted := blobstest.NewUpload(t, b, "k/aborted", "video/webm")
	blobstest.PutPart(t, aborted, 1, []byte("part"))
	if err := aborted.Abort(blobstest.Ctx(t)); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	short := strings.NewReader("12")
	if err := b.Put(blobstest.Ctx(t), "k/short", short, 5, "text/plain"); err == nil {
		t.Fatalf("Put of a short body succeeded")
	}
	for _, sub := range []string{"tmp", "uploads"} {
		if files := leftovers(t, dir, sub); len(files) != 0 {
			t.Errorf("files left in %s: %v", sub, files)
		}
	}
}

func TestDeletePrunesDirectories(t *testing.T) {
	b, dir := newBlobs(t)
	blobstest.Put(t, b, "clips/a/one", []byte("1"), "text/plain")
	blobstest.Put(t, b, "clips/b/two", []byte("2"), "text/plain")
	if err := b.Delete(blobstest.Ctx(t), "clips/a/one"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, tree := range []string{"objects", "meta"} {
		if _, err := os.Stat(filepath.Join(dir, tree, "clips", "a")); err == nil {
			t.Errorf("%s/clips/a survived the deletion of its only object", tree)
		}
	}
	if got := string(blobstest.Get(t, b, "clips/b/two", 0, -1)); got != "2" {
		t.Errorf("clips/b/two = %q after deleting a neighbour", got)
	}
	blobstest.Put(t, b, "clips/a/one", []byte("again"), "text/plain")
}

func TestPutPartAfterComplete(t *testing.T) {
	b, _ := newBlobs(t)
	u := blobstest.NewUpload(t, b, "k/obj", "video/webm")
	blobstest.PutPart(t, u, 1, []byte("part"))
	if err := u.Complete(blobstest.Ctx(t)); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	err := u.PutPart(blobstest.Ctx(t), 2, strings.NewReader("x"), 1)
	blobstest.WantCode(t, "PutPart after Complete", err, media.ENOTFOUND)
	blobstest.WantCode(t, "second Complete", u.Complete(blobstest.Ctx(t)), media.ENOTFOUND)
}

func TestPartNumbers(t *testing.T) {
	b, _ := newBlobs(t)
	u := blobstest.NewUpload(t, b, "k/obj", "video/webm")
	t.Cleanup(func() { u.Abort(blobstest.Ctx(t)) })
	for _, n := range []int{0, -1, localfs.MaxParts + 1} {
		err := u.PutPart(blobstest.Ctx(t), n, strings.NewReader("x"), 1)
		blobstest.WantCode(t, "PutPart", err, media.EINVALID)
	}
	blobstest.WantCode(t, "Complete without parts", u.Complete(blobstest.Ctx(t)), media.EINVALID)
}

// errorBody decodes the JSON error of the HTTP contract.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestServeHTTPErrors(t *testing.T) {
	b, _ := newBlobs(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b.Now = func() time.Time { return now }
	blobstest.Put(t, b, "k/obj", []byte("hello"), "text/plain")
	good := blobstest.SignedURL(t, b, "k/obj", time.Minute)
	missing := blobstest.SignedURL(t, b, "k/missing", time.Minute)
	tests := []struct {
		name, method, url string
		at                time.Time
		status            int
		code              string
	}{
		{"expired", "GET", good, now.Add(time.Minute), http.StatusForbidden, media.EFORBIDDEN},
		{"no signature", "GET", strings.Split(good, "?")[0], now, http.StatusForbidden, media.EFORBIDDEN},
		{"bad hex", "GET", good + "zz", now, http.StatusForbidden, media.EFORBIDDEN},
		{"absent object", "GET", missing, now, http.StatusNotFound, media.ENOTFOUND},
		{"not under /blobs/", "GET", strings.Replace(good, "/blobs/", "/other/", 1), now, http.StatusNotFound, media.ENOTFOUND},
		{"POST", "POST", good, now, http.StatusMethodNotAllowed, media.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Now = func() time.Time { return tt.at }
			got := serve(t, b, tt.method, tt.url, nil)
			var body errorBody
			if err := json.Unmarshal(got.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", got.Body, err)
			}
			if diff := cmp.Diff([]any{tt.status, tt.code}, []any{got.Code, body.Error.Code}); diff != "" {
				t.Errorf("status, code (-want +got):\n%s", diff)
			}
		})
	}
}

// serve runs one request through b.ServeHTTP.
func serve(t testing.TB, b *localfs.Blobs, method, url string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	return rec
}

func TestServeHTTPConditional(t *testing.T) {
	b, _ := newBlobs(t)
	blobstest.Put(t, b, "k/obj", []byte("0123456789"), "audio/mp4")
	u := blobstest.SignedURL(t, b, "k/obj", time.Hour)
	head := serve(t, b, http.MethodHead, u, nil)
	lastMod := head.Header().Get("Last-Modified")
	tests := []struct {
		name   string
		header http.Header
		status int
		body   string
	}{
		{"range", http.Header{"Range": {"bytes=2-4"}}, 206, "234"},
		{"suffix range", http.Header{"Range": {"bytes=-3"}}, 206, "789"},
		{"if-range matches", http.Header{"Range": {"bytes=2-4"}, "If-Range": {lastMod}}, 206, "234"},
		{"if-range stale", http.Header{"Range": {"bytes=2-4"}, "If-Range": {"Mon, 02 Jan 2006 15:04:05 GMT"}}, 200, "0123456789"},
		{"unsatisfiable", http.Header{"Range": {"bytes=20-30"}}, 416, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serve(t, b, http.MethodGet, u, tt.header)
			body := got.Body.String()
			if tt.status == 416 {
				body = ""
			}
			if diff := cmp.Diff([]any{tt.status, tt.body}, []any{got.Code, body}); diff != "" {
				t.Errorf("status, body (-want +got):\n%s", diff)
			}
		})
	}
	if head.Code != 200 || head.Header().Get("Content-Type") != "audio/mp4" || head.Header().Get("Content-Length") != "10" {
		t.Errorf("HEAD: status %d headers %v", head.Code, head.Header())
	}
}

// backdate sets the modification time of every entry of dir to two hours ago.
func backdate(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * time.Hour)
	for _, e := range entries {
		if err := os.Chtimes(filepath.Join(dir, e.Name()), past, past); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSweep(t *testing.T) {
	b, dir := newBlobs(t)
	old := blobstest.NewUpload(t, b, "k/old", "video/webm")
	blobstest.PutPart(t, old, 1, []byte("old"))
	stale := filepath.Join(dir, "tmp", "obj-crashed")
	if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	backdate(t, filepath.Join(dir, "tmp"))
	backdate(t, filepath.Join(dir, "uploads"))
	fresh := blobstest.NewUpload(t, b, "k/fresh", "video/webm")
	blobstest.PutPart(t, fresh, 1, []byte("fresh"))
	if err := b.Sweep(blobstest.Ctx(t), time.Hour); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("stale temporary file survived Sweep")
	}
	blobstest.WantCode(t, "Complete of a swept upload", old.Complete(blobstest.Ctx(t)), media.ENOTFOUND)
	if err := fresh.Complete(blobstest.Ctx(t)); err != nil {
		t.Errorf("Complete of a fresh upload after Sweep: %v", err)
	}
}

func BenchmarkPut64MiB(b *testing.B) {
	const size = 64 << 20
	blobs, _ := newBlobs(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := blobs.Put(b.Context(), "bench", blobstest.Pattern(1, size), size, "video/webm"); err != nil {
			b.Fatalf("Put: %v", err)
		}
	}
}
