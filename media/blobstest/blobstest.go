// Package blobstest is the contract every media.Blobs implementation passes. An
// implementation's tests call Run with a constructor of empty, isolated Blobs.
package blobstest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"parley/media"
)

// NewBlobs returns an empty Blobs of its own, cleaned up when t ends. Its signed URLs must be
// fetchable over HTTP from the test process.
type NewBlobs func(t *testing.T) media.Blobs

// Run runs the contract suite, one subtest per rule, each on fresh Blobs.
func Run(t *testing.T, newBlobs NewBlobs) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b media.Blobs)
	}{
		{"Ping", testPing},
		{"RoundTrip", testRoundTrip},
		{"EmptyObject", testEmptyObject},
		{"DefaultContentType", testDefaultContentType},
		{"Range", testRange},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"Overwrite", testOverwrite},
		{"ShortBody", testShortBody},
		{"Multipart", testMultipart},
		{"MultipartConcurrent", testMultipartConcurrent},
		{"MultipartMissingPart", testMultipartMissingPart},
		{"MultipartSmallPart", testMultipartSmallPart},
		{"MultipartAbort", testMultipartAbort},
		{"SignedURL", testSignedURL},
		{"SignedURLOddKey", testSignedURLOddKey},
		{"SignedURLTTL", testSignedURLTTL},
		{"SignedURLExpired", testSignedURLExpired},
		{"SignedURLTampered", testSignedURLTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newBlobs(t)) })
	}
}

// Ctx returns a context ended when t ends, with a generous deadline.
func Ctx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Put stores data under key with a reader that cannot seek, failing t on error.
func Put(t testing.TB, b media.Blobs, key string, data []byte, contentType string) {
	t.Helper()
	r := struct{ io.Reader }{bytes.NewReader(data)}
	if err := b.Put(Ctx(t), key, r, int64(len(data)), contentType); err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
}

// Get reads key from offset for length bytes, failing t on error.
func Get(t testing.TB, b media.Blobs, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := b.Get(Ctx(t), key, offset, length)
	if err != nil {
		t.Fatalf("Get(%s, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return data
}

// WantCode fails t unless err carries the domain error code.
func WantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %s", what, code)
	}
	if got := media.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v has code %s, want %s", what, err, got, code)
	}
}

// WantAbsent fails t unless key does not exist.
func WantAbsent(t testing.TB, b media.Blobs, key string) {
	t.Helper()
	_, err := b.Stat(Ctx(t), key)
	WantCode(t, "Stat("+key+")", err, media.ENOTFOUND)
}

func testPing(t *testing.T, b media.Blobs) {
	if err := b.Ping(Ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testRoundTrip(t *testing.T, b media.Blobs) {
	data := PatternBytes(1, 100_000)
	before := time.Now().Add(-time.Hour)
	Put(t, b, "clips/a/original.webm", data, "video/webm")
	info, err := b.Stat(Ctx(t), "clips/a/original.webm")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Hour)) {
		t.Errorf("ModTime %v is not about now", info.ModTime)
	}
	info.ModTime = time.Time{}
	want := media.BlobInfo{Key: "clips/a/original.webm", Size: int64(len(data)), ContentType: "video/webm"}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("Stat (-want +got):\n%s", diff)
	}
	if !bytes.Equal(Get(t, b, "clips/a/original.webm", 0, -1), data) {
		t.Errorf("Get returned other bytes than were put")
	}
}

func testEmptyObject(t *testing.T, b media.Blobs) {
	Put(t, b, "empty", nil, "text/plain")
	info, err := b.Stat(Ctx(t), "empty")
	if err != nil || info.Size != 0 {
		t.Fatalf("Stat = %+v, %v; want size 0", info, err)
	}
	if got := Get(t, b, "empty", 0, -1); len(got) != 0 {
		t.Errorf("Get returned %d bytes, want 0", len(got))
	}
}

func testDefaultContentType(t *testing.T, b media.Blobs) {
	Put(t, b, "untyped", []byte("x"), "")
	info, err := b.Stat(Ctx(t), "untyped")
	if err != nil || info.ContentType != "application/octet-stream" {
		t.Errorf("Stat = %+v, %v; want type application/octet-stream", info, err)
	}
}

func testRange(t *testing.T, b media.Blobs) {
	data := PatternBytes(2, 1000)
	Put(t, b, "r/obj", data, "application/octet-stream")
	tests := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"whole", 0, -1, data},
		{"offset and length", 10, 20, data[10:30]},
		{"one byte", 999, 1, data[999:]},
		{"offset to end", 990, -1, data[990:]},
		{"length past end", 990, 100, data[990:]},
		{"zero length", 5, 0, []byte{}},
		{"offset at end", 1000, -1, []byte{}},
		{"offset past end", 2000, 5, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Get(t, b, "r/obj", tt.offset, tt.length)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("Get(%d, %d) (-want +got):\n%s", tt.offset, tt.length, diff)
			}
		})
	}
}

func testNotFound(t *testing.T, b media.Blobs) {
	_, err := b.Get(Ctx(t), "no/such/key", 0, -1)
	WantCode(t, "Get", err, media.ENOTFOUND)
	_, err = b.Get(Ctx(t), "no/such/key", 10, 5)
	WantCode(t, "Get with range", err, media.ENOTFOUND)
	_, err = b.Get(Ctx(t), "no/such/key", 0, 0)
	WantCode(t, "Get of zero bytes", err, media.ENOTFOUND)
	WantAbsent(t, b, "no/such/key")
}

func testDelete(t *testing.T, b media.Blobs) {
	if err := b.Delete(Ctx(t), "never/existed"); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	Put(t, b, "d/obj", []byte("hello"), "text/plain")
	Put(t, b, "d/other", []byte("stays"), "text/plain")
	if err := b.Delete(Ctx(t), "d/obj"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	WantAbsent(t, b, "d/obj")
	if err := b.Delete(Ctx(t), "d/obj"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if got := string(Get(t, b, "d/other", 0, -1)); got != "stays" {
		t.Errorf("other object = %q after Delete, want %q", got, "stays")
	}
}

func testOverwrite(t *testing.T, b media.Blobs) {
	Put(t, b, "o/obj", PatternBytes(3, 5000), "video/webm")
	Put(t, b, "o/obj", []byte("short"), "text/plain")
	info, err := b.Stat(Ctx(t), "o/obj")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != 5 || info.ContentType != "text/plain" {
		t.Errorf("Stat after overwrite = size %d type %q, want 5 text/plain", info.Size, info.ContentType)
	}
	if got := string(Get(t, b, "o/obj", 0, -1)); got != "short" {
		t.Errorf("Get after overwrite = %q, want %q", got, "short")
	}
}

func testShortBody(t *testing.T, b media.Blobs) {
	r := struct{ io.Reader }{strings.NewReader("12345")}
	if err := b.Put(Ctx(t), "s/obj", r, 10, "text/plain"); err == nil {
		t.Fatalf("Put of 5 bytes announced as 10 succeeded")
	}
	WantAbsent(t, b, "s/obj")
}

// PutPart sends part n with a reader that cannot seek, failing t on error.
func PutPart(t testing.TB, u media.Upload, n int, data []byte) {
	t.Helper()
	r := struct{ io.Reader }{bytes.NewReader(data)}
	if err := u.PutPart(Ctx(t), n, r, int64(len(data))); err != nil {
		t.Fatalf("PutPart(%d): %v", n, err)
	}
}

// NewUpload starts an upload of key, failing t on error.
func NewUpload(t testing.TB, b media.Blobs, key, contentType string) media.Upload {
	t.Helper()
	u, err := b.NewUpload(Ctx(t), key, contentType)
	if err != nil {
		t.Fatalf("NewUpload(%s): %v", key, err)
	}
	return u
}

func testMultipart(t *testing.T, b media.Blobs) {
	p1, p2, p2again, p3 := PatternBytes(1, media.MinPartSize), PatternBytes(2, media.MinPartSize),
		PatternBytes(4, media.MinPartSize), PatternBytes(3, 1234)
	u := NewUpload(t, b, "m/obj.webm", "video/webm")
	PutPart(t, u, 3, p3)
	PutPart(t, u, 2, p2)
	PutPart(t, u, 1, p1)
	PutPart(t, u, 2, p2again)
	if err := u.Complete(Ctx(t)); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := bytes.Join([][]byte{p1, p2again, p3}, nil)
	if got := Get(t, b, "m/obj.webm", 0, -1); !bytes.Equal(got, want) {
		t.Errorf("object after Complete: %d bytes, want %d (parts 1, 2 as re-sent, 3)", len(got), len(want))
	}
	info, err := b.Stat(Ctx(t), "m/obj.webm")
	if err != nil || info.Size != int64(len(want)) || info.ContentType != "video/webm" {
		t.Errorf("Stat = %+v, %v; want size %d type video/webm", info, err, len(want))
	}
	if got := Get(t, b, "m/obj.webm", media.MinPartSize-2, 4); !bytes.Equal(got, want[media.MinPartSize-2:media.MinPartSize+2]) {
		t.Errorf("range across the part boundary = %x", got)
	}
}

func testMultipartConcurrent(t *testing.T, b media.Blobs) {
	parts := [][]byte{PatternBytes(1, media.MinPartSize), PatternBytes(2, media.MinPartSize), PatternBytes(3, 999)}
	u := NewUpload(t, b, "m/concurrent", "video/webm")
	ctx, errs := Ctx(t), make(chan error, len(parts))
	for i, p := range parts {
		go func() { errs <- u.PutPart(ctx, i+1, bytes.NewReader(p), int64(len(p))) }()
	}
	for range parts {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent PutPart: %v", err)
		}
	}
	if err := u.Complete(Ctx(t)); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if got := Get(t, b, "m/concurrent", 0, -1); !bytes.Equal(got, bytes.Join(parts, nil)) {
		t.Errorf("object of parts sent concurrently differs from parts 1, 2, 3 joined")
	}
}

func testMultipartMissingPart(t *testing.T, b media.Blobs) {
	u := NewUpload(t, b, "m/missing", "video/webm")
	t.Cleanup(func() { u.Abort(context.Background()) })
	PutPart(t, u, 1, PatternBytes(1, media.MinPartSize))
	PutPart(t, u, 3, PatternBytes(3, 100))
	WantCode(t, "Complete without part 2", u.Complete(Ctx(t)), media.EINVALID)
	WantAbsent(t, b, "m/missing")
}

func testMultipartSmallPart(t *testing.T, b media.Blobs) {
	u := NewUpload(t, b, "m/small", "video/webm")
	t.Cleanup(func() { u.Abort(context.Background()) })
	PutPart(t, u, 1, PatternBytes(1, 1000))
	PutPart(t, u, 2, PatternBytes(2, 1000))
	if err := u.Complete(Ctx(t)); err == nil {
		t.Fatalf("Complete with a first part below %d bytes succeeded", media.MinPartSize)
	}
	WantAbsent(t, b, "m/small")
}

func testMultipartAbort(t *testing.T, b media.Blobs) {
	u := NewUpload(t, b, "m/aborted", "video/webm")
	PutPart(t, u, 1, PatternBytes(1, media.MinPartSize))
	PutPart(t, u, 2, PatternBytes(2, 10))
	if err := u.Abort(Ctx(t)); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	WantAbsent(t, b, "m/aborted")
	if err := u.Abort(Ctx(t)); err != nil {
		t.Errorf("second Abort: %v", err)
	}
	if err := u.Complete(Ctx(t)); err == nil {
		t.Errorf("Complete after Abort succeeded")
	}
	WantAbsent(t, b, "m/aborted")
}

// Fetch GETs url with an optional Range header and returns the response and its body.
func Fetch(t testing.TB, url, rng string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(Ctx(t), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("request %s: %v", url, err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, body
}

// SignedURL returns a signed URL of key, failing t on error.
func SignedURL(t testing.TB, b media.Blobs, key string, ttl time.Duration) string {
	t.Helper()
	u, err := b.SignedURL(Ctx(t), key, ttl)
	if err != nil {
		t.Fatalf("SignedURL(%s): %v", key, err)
	}
	return u
}

func testSignedURL(t *testing.T, b media.Blobs) {
	data := PatternBytes(5, 10_000)
	Put(t, b, "clips/x/video.mp4", data, "video/mp4")
	u := SignedURL(t, b, "clips/x/video.mp4", time.Minute)
	resp, body := Fetch(t, u, "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("GET with Range: status %d, want 206; body %s", resp.StatusCode, body)
	}
	if !bytes.Equal(body, data[100:200]) {
		t.Errorf("GET with Range returned other bytes than 100-199")
	}
	if got, want := resp.Header.Get("Content-Range"), "bytes 100-199/10000"; got != want {
		t.Errorf("Content-Range = %q, want %q", got, want)
	}
	resp, body = Fetch(t, u, "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET: status %d, %d bytes; want 200 with the object", resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("Content-Type"); got != "video/mp4" {
		t.Errorf("Content-Type = %q, want video/mp4", got)
	}
}

func testSignedURLOddKey(t *testing.T, b media.Blobs) {
	const key = "odd/a b+c%20d?e#f&g=h.txt"
	Put(t, b, key, []byte("odd"), "text/plain")
	resp, body := Fetch(t, SignedURL(t, b, key, time.Minute), "")
	if resp.StatusCode != http.StatusOK || string(body) != "odd" {
		t.Errorf("GET %q: status %d body %.200q; want 200 \"odd\"", key, resp.StatusCode, body)
	}
}

func testSignedURLTTL(t *testing.T, b media.Blobs) {
	Put(t, b, "t/obj", []byte("x"), "text/plain")
	_, err := b.SignedURL(Ctx(t), "t/obj", 0)
	WantCode(t, "SignedURL with ttl 0", err, media.EINVALID)
}

// wantRefused fails t unless fetching url gets a client error.
func wantRefused(t testing.TB, what, url string) {
	t.Helper()
	resp, body := Fetch(t, url, "")
	if resp.StatusCode < 400 || resp.StatusCode > 499 {
		t.Errorf("%s: status %d, want 4xx; body %.200s", what, resp.StatusCode, body)
	}
}

func testSignedURLExpired(t *testing.T, b media.Blobs) {
	Put(t, b, "e/obj", []byte("secret"), "text/plain")
	u := SignedURL(t, b, "e/obj", time.Second)
	time.Sleep(2100 * time.Millisecond) // URLs carry whole seconds: 2 s is past any rounding
	wantRefused(t, "expired URL", u)
}

func testSignedURLTampered(t *testing.T, b media.Blobs) {
	Put(t, b, "clips/p/one", []byte("one"), "text/plain")
	Put(t, b, "clips/p/two", []byte("two"), "text/plain")
	u := SignedURL(t, b, "clips/p/one", time.Minute)
	if resp, body := Fetch(t, u, ""); resp.StatusCode != http.StatusOK || string(body) != "one" {
		t.Fatalf("untampered URL: status %d body %q", resp.StatusCode, body)
	}
	wantRefused(t, "other key", strings.Replace(u, "clips/p/one", "clips/p/two", 1))
	for _, name := range []string{"signature", "expires"} {
		wantRefused(t, "changed "+name, tamper(t, u, name))
	}
}

// tamper changes the last character of the query parameter whose name ends in suffix
// (case-insensitive): "signature" matches both "signature" and "X-Amz-Signature".
func tamper(t testing.TB, raw, suffix string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse signed URL: %v", err)
	}
	q := u.Query()
	for name, vals := range q {
		if strings.HasSuffix(strings.ToLower(name), suffix) && len(vals) == 1 && vals[0] != "" {
			v, swap := vals[0], "0"
			if strings.HasSuffix(v, "0") {
				swap = "1"
			}
			q.Set(name, v[:len(v)-1]+swap)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	t.Fatalf("signed URL %s has no query parameter ending in %q", raw, suffix)
	return ""
}
