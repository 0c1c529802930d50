package localfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"parley/media"
)

// MaxParts is the highest part number, as with S3.
const MaxParts = 10000

// Upload is a multipart upload spooled as one file per part under uploads/<id>/.
// Parts may be sent in any order, concurrently, and again (the last one sent wins).
type Upload struct {
	b           *Blobs
	key         string
	contentType string
	dir         string

	mu   sync.Mutex
	done bool // completed or aborted
}

var _ media.Upload = (*Upload)(nil)

// NewUpload starts a multipart upload of key.
func (b *Blobs) NewUpload(ctx context.Context, key, contentType string) (media.Upload, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	dir := filepath.Join(b.dir, "uploads", media.NewID())
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start upload %s: %w", key, err)
	}
	return &Upload{b: b, key: key, contentType: contentType, dir: dir}, nil
}

func (u *Upload) partPath(n int) string { return filepath.Join(u.dir, strconv.Itoa(n)) }

// PutPart stores part n (1..MaxParts) of size bytes from r, replacing an earlier part n.
func (u *Upload) PutPart(ctx context.Context, n int, r io.Reader, size int64) error {
	if n < 1 || n > MaxParts {
		return media.Errorf(media.EINVALID, "part number %d is not between 1 and %d", n, MaxParts)
	}
	if size < 0 {
		return media.Errorf(media.EINVALID, "part %d: size must be known", n)
	}
	f, err := os.CreateTemp(u.dir, "part-*")
	if err != nil {
		return u.gone(fmt.Errorf("put part %d of %s: %w", n, u.key, err))
	}
	defer os.Remove(f.Name())
	err = copyExactly(ctx, f, r, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), u.partPath(n))
	}
	if err != nil {
		return u.gone(fmt.Errorf("put part %d of %s: %w", n, u.key, err))
	}
	return nil
}

// gone turns err into ENOTFOUND when the upload was completed or aborted meanwhile.
func (u *Upload) gone(err error) error {
	if _, serr := os.Stat(u.dir); errors.Is(serr, fs.ErrNotExist) {
		return media.Errorf(media.ENOTFOUND, "upload of %s is no longer in progress", u.key)
	}
	return err
}

// Complete joins parts 1..N into the object. Every number below the highest must be present
// and every part but the last at least media.MinPartSize.
func (u *Upload) Complete(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return media.Errorf(media.ENOTFOUND, "upload of %s is no longer in progress", u.key)
	}
	parts, err := u.parts()
	if err != nil {
		return err
	}
	err = u.b.commit(u.key, u.contentType, func(w io.Writer) error { return concat(ctx, w, parts) })
	if err != nil {
		return err
	}
	u.done = true
	return os.RemoveAll(u.dir)
}

// parts lists the part files in order, checking numbering and sizes.
func (u *Upload) parts() ([]string, error) {
	entries, err := os.ReadDir(u.dir)
	if err != nil {
		return nil, u.gone(fmt.Errorf("list parts of %s: %w", u.key, err))
	}
	sizes := make(map[int]int64, len(entries))
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			if fi, err := e.Info(); err == nil {
				sizes[n] = fi.Size()
			}
		}
	}
	return u.checkParts(sizes)
}

// checkParts returns the paths of parts 1..len(sizes), or EINVALID if the set is not complete.
func (u *Upload) checkParts(sizes map[int]int64) ([]string, error) {
	if len(sizes) == 0 {
		return nil, media.Errorf(media.EINVALID, "upload of %s has no parts", u.key)
	}
	paths := make([]string, len(sizes))
	for i := range paths {
		size, ok := sizes[i+1]
		if !ok {
			return nil, media.Errorf(media.EINVALID, "upload of %s: part %d missing", u.key, i+1)
		}
		if size < media.MinPartSize && i+1 < len(sizes) {
			return nil, media.Errorf(media.EINVALID, "upload of %s: part %d is smaller than %d bytes", u.key, i+1, media.MinPartSize)
		}
		paths[i] = u.partPath(i + 1)
	}
	return paths, nil
}

// concat copies the files at paths to w in order.
func concat(ctx context.Context, w io.Writer, paths []string) error {
	for _, p := range paths {
		if err := appendFile(ctx, w, p); err != nil {
			return err
		}
	}
	return nil
}

func appendFile(ctx context.Context, w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, ctxReader{ctx, f})
	return err
}

// Abort discards the upload and its parts. Aborting twice is not an error.
func (u *Upload) Abort(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.done = true
	if err := os.RemoveAll(u.dir); err != nil {
		return fmt.Errorf("abort upload of %s: %w", u.key, err)
	}
	return nil
}
