package media

import (
	"context"
	"io"
	"time"
)

// BlobInfo describes a stored object.
type BlobInfo struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Blobs stores media objects: local directory in the embedded default, S3 in production.
type Blobs interface {
	// Put stores size bytes from r under key. size must be known (>= 0).
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get returns length bytes from offset (length < 0: to the end). ENOTFOUND if absent.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// SignedURL returns a URL anyone can GET (with Range) until ttl passes.
	SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error)
	// NewUpload starts a multipart upload for an object whose size is not known yet.
	NewUpload(ctx context.Context, key, contentType string) (Upload, error)
	Ping(ctx context.Context) error
}

// Upload is a multipart upload. Parts are numbered from 1, may be sent in any order and
// sent again (the last one wins); every part but the last must be at least MinPartSize.
type Upload interface {
	PutPart(ctx context.Context, n int, r io.Reader, size int64) error
	// Complete joins parts 1..N (every number present) into the object.
	Complete(ctx context.Context) error
	Abort(ctx context.Context) error
}

// MinPartSize is the smallest part S3 accepts for all but the last part of a multipart upload.
const MinPartSize = 5 << 20

// Blob keys of a clip's objects. Deterministic, so that a re-run task overwrites, not duplicates.
func OriginalKey(clipID, ext string) string { return "clips/" + clipID + "/original." + ext }

// RenditionKey returns the key of a clip's derived file with the given name (e.g. "video.mp4").
func RenditionKey(clipID, name string) string { return "clips/" + clipID + "/" + name }
