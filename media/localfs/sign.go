package localfs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"parley/media"
)

// PathPrefix is the URL path under which ServeHTTP serves objects.
const PathPrefix = "/blobs/"

// MaxSignedURLTTL is the longest a signed URL may live, as with S3 presigned URLs.
const MaxSignedURLTTL = 7 * 24 * time.Hour

// SignedURL returns baseURL/blobs/{key}?expires=UNIX&signature=HEX, valid for ttl (1 s to 7 days).
func (b *Blobs) SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if ttl < time.Second || ttl > MaxSignedURLTTL {
		return "", media.Errorf(media.EINVALID, "signed URL lifetime %s is not between 1s and %s", ttl, MaxSignedURLTTL)
	}
	expires := strconv.FormatInt(b.now().Add(ttl).Unix(), 10)
	q := url.Values{"expires": {expires}, "signature": {b.sign(key, expires)}}
	return b.baseURL + PathPrefix + escapeKey(key) + "?" + q.Encode(), nil
}

// escapeKey escapes each segment of key for a URL path.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// sign returns the hex HMAC-SHA256 of key and expiry.
func (b *Blobs) sign(key, expires string) string {
	m := hmac.New(sha256.New, b.secret)
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write([]byte(expires))
	return hex.EncodeToString(m.Sum(nil))
}

// verify checks a signed URL's expiry and signature for key; it returns the time left.
func (b *Blobs) verify(key string, q url.Values) (time.Duration, error) {
	expires := q.Get("expires")
	sig, err := hex.DecodeString(q.Get("signature"))
	want, _ := hex.DecodeString(b.sign(key, expires))
	if err != nil || !hmac.Equal(sig, want) {
		return 0, media.Errorf(media.EFORBIDDEN, "invalid signature")
	}
	unix, err := strconv.ParseInt(expires, 10, 64)
	left := time.Unix(unix, 0).Sub(b.now())
	if err != nil || left <= 0 {
		return 0, media.Errorf(media.EFORBIDDEN, "signed URL expired")
	}
	return left, nil
}

// ServeHTTP serves GET and HEAD of PathPrefix+key for signed URLs, with Range and
// conditional requests. A bad or expired signature gets 403, an absent object 404, both
// as JSON {"error":{"code","message"}}.
func (b *Blobs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, media.Errorf(media.EINVALID, "method %s not allowed", r.Method))
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || ValidateKey(key) != nil {
		writeError(w, http.StatusNotFound, media.Errorf(media.ENOTFOUND, "not found"))
		return
	}
	left, err := b.verify(key, r.URL.Query())
	if err != nil {
		writeError(w, http.StatusForbidden, err)
		return
	}
	w.Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(int(left/time.Second)))
	b.serveObject(w, r, key)
}

// serveObject writes key's object with http.ServeContent.
func (b *Blobs) serveObject(w http.ResponseWriter, r *http.Request, key string) {
	f, fi, err := b.open(key)
	if media.IsNotFound(err) {
		writeError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, media.Errorf(media.EINTERNAL, "internal error"))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", b.contentType(key))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// writeError writes the JSON error body of the HTTP contract.
func writeError(w http.ResponseWriter, status int, err error) {
	body := map[string]any{"error": map[string]string{
		"code":    media.ErrorCode(err),
		"message": media.ErrorMessage(err),
	}}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
