package s3

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/minio/minio-go/v7"

	"parley/media"
)

// MaxParts is the highest part number S3 accepts.
const MaxParts = 10000

// Upload is a multipart upload of one object. Parts may be sent in any order, concurrently,
// and again (the last one sent wins); Complete joins parts 1..N.
type Upload struct {
	b   *Blobs
	key string
	id  string

	mu    sync.Mutex
	etags map[int]string // part number → ETag of the part last sent
}

var _ media.Upload = (*Upload)(nil)

// NewUpload starts a multipart upload of key.
func (b *Blobs) NewUpload(ctx context.Context, key, contentType string) (media.Upload, error) {
	id, err := b.core.NewMultipartUpload(ctx, b.bucket, key, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return nil, fmt.Errorf("start upload %s: %w", key, err)
	}
	return &Upload{b: b, key: key, id: id, etags: make(map[int]string)}, nil
}

// ID returns the S3 upload ID.
func (u *Upload) ID() string { return u.id }

// PutPart sends part n (1..MaxParts) of size bytes from r.
func (u *Upload) PutPart(ctx context.Context, n int, r io.Reader, size int64) error {
	if n < 1 || n > MaxParts {
		return media.Errorf(media.EINVALID, "part number %d is not between 1 and %d", n, MaxParts)
	}
	if size < 0 {
		return media.Errorf(media.EINVALID, "part %d: size must be known", n)
	}
	part, err := u.b.core.PutObjectPart(ctx, u.b.bucket, u.key, u.id, n, r, size, minio.PutObjectPartOptions{})
	if err != nil {
		return fmt.Errorf("put part %d of %s: %w", n, u.key, err)
	}
	u.mu.Lock()
	u.etags[n] = part.ETag
	u.mu.Unlock()
	return nil
}

// Complete joins parts 1..N into the object. It fails if a number below the highest is missing.
func (u *Upload) Complete(ctx context.Context) error {
	parts, err := u.completeParts()
	if err != nil {
		return err
	}
	_, err = u.b.core.CompleteMultipartUpload(ctx, u.b.bucket, u.key, u.id, parts, minio.PutObjectOptions{})
	if err != nil {
		return fmt.Errorf("complete upload of %s: %w", u.key, err)
	}
	return nil
}

// completeParts lists the parts in order, checking that none is missing.
func (u *Upload) completeParts() ([]minio.CompletePart, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.etags) == 0 {
		return nil, media.Errorf(media.EINVALID, "upload of %s has no parts", u.key)
	}
	nums := make([]int, 0, len(u.etags))
	for n := range u.etags {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	parts := make([]minio.CompletePart, len(nums))
	for i, n := range nums {
		if n != i+1 {
			return nil, media.Errorf(media.EINVALID, "upload of %s: part %d missing", u.key, i+1)
		}
		parts[i] = minio.CompletePart{PartNumber: n, ETag: u.etags[n]}
	}
	return parts, nil
}

// Abort discards the upload and its parts. Aborting twice is not an error.
func (u *Upload) Abort(ctx context.Context) error {
	err := u.b.core.AbortMultipartUpload(ctx, u.b.bucket, u.key, u.id)
	if err != nil && !hasCode(err, "NoSuchUpload") {
		return fmt.Errorf("abort upload of %s: %w", u.key, err)
	}
	return nil
}
