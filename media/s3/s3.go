// Package s3 stores media objects in any S3-compatible service (MinIO, AWS S3, R2,
// versitygw) through minio-go.
package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"parley/media"
)

// DefaultPartSize is the part size of multipart Puts when Config.PartSize is zero.
const DefaultPartSize = 16 << 20

// MaxSignedURLTTL is the longest a presigned URL may live (an S3 limit).
const MaxSignedURLTTL = 7 * 24 * time.Hour

// Config is how to reach the bucket.
type Config struct {
	Endpoint  string // host:port, without scheme
	AccessKey string
	SecretKey string
	Bucket    string
	Region    string // empty: the server's default
	Secure    bool   // HTTPS
	// PartSize is the part size of Puts larger than one part; at least media.MinPartSize.
	// Zero means DefaultPartSize. It bounds the memory one Put buffers.
	PartSize uint64
}

// Blobs is a media.Blobs in one S3 bucket.
type Blobs struct {
	core     *minio.Core
	bucket   string
	region   string
	partSize uint64
}

var _ media.Blobs = (*Blobs)(nil)

// New returns Blobs for cfg. It does not contact the server; see Ping and EnsureBucket.
func New(cfg Config) (*Blobs, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, media.Errorf(media.EINVALID, "s3: endpoint and bucket are required")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < media.MinPartSize {
		return nil, media.Errorf(media.EINVALID, "s3: part size %d is below %d", cfg.PartSize, media.MinPartSize)
	}
	core, err := minio.NewCore(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", cfg.Endpoint, err)
	}
	return &Blobs{core: core, bucket: cfg.Bucket, region: cfg.Region, partSize: cfg.PartSize}, nil
}

// Bucket returns the name of the bucket the Blobs use.
func (b *Blobs) Bucket() string { return b.bucket }

// EnsureBucket creates the bucket if it does not exist.
func (b *Blobs) EnsureBucket(ctx context.Context) error {
	ok, err := b.core.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("check bucket %s: %w", b.bucket, err)
	}
	if ok {
		return nil
	}
	err = b.core.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: b.region})
	if err != nil && !hasCode(err, "BucketAlreadyOwnedByYou") {
		return fmt.Errorf("create bucket %s: %w", b.bucket, err)
	}
	return nil
}

// Ping checks that the bucket is reachable and exists.
func (b *Blobs) Ping(ctx context.Context) error {
	ok, err := b.core.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("check bucket %s: %w", b.bucket, err)
	}
	if !ok {
		return fmt.Errorf("bucket %s does not exist", b.bucket)
	}
	return nil
}

// Put stores size bytes from r under key. Objects larger than the part size go up in
// parts of that size, so memory stays bounded by one part.
func (b *Blobs) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if size < 0 {
		return media.Errorf(media.EINVALID, "put %s: size must be known", key)
	}
	opts := minio.PutObjectOptions{ContentType: contentType, PartSize: b.partSize}
	if _, err := b.core.Client.PutObject(ctx, b.bucket, key, r, size, opts); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}

// Get returns length bytes of key from offset (length < 0: to the end). Reading from at or
// past the end yields no bytes.
func (b *Blobs) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, media.Errorf(media.EINVALID, "get %s: negative offset", key)
	}
	if length == 0 {
		if _, err := b.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	opts := minio.GetObjectOptions{}
	if rng := rangeHeader(offset, length); rng != "" {
		opts.Set("Range", rng)
	}
	rc, _, _, err := b.core.GetObject(ctx, b.bucket, key, opts)
	switch {
	case err == nil:
		return rc, nil
	case hasCode(err, "InvalidRange"):
		return io.NopCloser(bytes.NewReader(nil)), nil
	case isNotFound(err):
		return nil, media.Errorf(media.ENOTFOUND, "object %s not found", key)
	}
	return nil, fmt.Errorf("get object %s: %w", key, err)
}

// rangeHeader returns the HTTP Range for a read, or "" for the whole object.
func rangeHeader(offset, length int64) string {
	switch {
	case length > 0:
		return fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)
	case offset > 0:
		return fmt.Sprintf("bytes=%d-", offset)
	}
	return ""
}

// Stat describes key; ENOTFOUND if absent.
func (b *Blobs) Stat(ctx context.Context, key string) (media.BlobInfo, error) {
	oi, err := b.core.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
	if isNotFound(err) {
		return media.BlobInfo{}, media.Errorf(media.ENOTFOUND, "object %s not found", key)
	}
	if err != nil {
		return media.BlobInfo{}, fmt.Errorf("stat object %s: %w", key, err)
	}
	return media.BlobInfo{Key: key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified}, nil
}

// Delete removes key; an absent key is not an error.
func (b *Blobs) Delete(ctx context.Context, key string) error {
	err := b.core.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}

// SignedURL returns a presigned GET URL for key, valid for ttl (1 s to 7 days).
func (b *Blobs) SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if ttl < time.Second || ttl > MaxSignedURLTTL {
		return "", media.Errorf(media.EINVALID, "signed URL lifetime %s is not between 1s and %s", ttl, MaxSignedURLTTL)
	}
	u, err := b.core.PresignedGetObject(ctx, b.bucket, key, ttl, nil)
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return u.String(), nil
}

// hasCode reports whether err is an S3 error response with the given code.
func hasCode(err error, code string) bool {
	return err != nil && minio.ToErrorResponse(err).Code == code
}

// isNotFound reports whether err says the object does not exist.
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	resp := minio.ToErrorResponse(err)
	return resp.Code == "NoSuchKey" || (resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket")
}
