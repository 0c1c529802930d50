// Package localfs stores media objects in a local directory: the embedded default.
//
// Layout under the directory: objects/<key> holds an object's bytes, meta/<key> its content
// type, tmp/ files being written (renamed into place when complete, so a crash never leaves
// half an object), uploads/<id>/<n> the parts of multipart uploads.
package localfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"parley/media"
)

// DefaultContentType is reported for objects stored without a content type.
const DefaultContentType = "application/octet-stream"

// MaxKeyLen bounds keys, in bytes (as S3 does).
const MaxKeyLen = 1024

// Blobs is a media.Blobs in a local directory. Its ServeHTTP serves signed URLs.
type Blobs struct {
	dir     string
	baseURL string
	secret  []byte

	// Now is the clock for signed URLs; nil means time.Now.
	Now func() time.Time
}

var _ media.Blobs = (*Blobs)(nil)

// New returns Blobs in dir (created if missing). Signed URLs start with baseURL (e.g.
// "http://localhost:8080") and are signed with secret.
func New(dir, baseURL string, secret []byte) (*Blobs, error) {
	if len(secret) < 16 {
		return nil, media.Errorf(media.EINVALID, "localfs: secret must be at least 16 bytes")
	}
	b := &Blobs{dir: dir, baseURL: strings.TrimRight(baseURL, "/"), secret: bytes.Clone(secret)}
	for _, sub := range []string{"objects", "meta", "tmp", "uploads"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("create blob directory: %w", err)
		}
	}
	return b, nil
}

func (b *Blobs) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// ValidateKey checks that key is a relative slash-separated path without empty, "." or ".."
// segments, backslashes or NUL bytes.
func ValidateKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return media.Errorf(media.EINVALID, "blob key must be 1 to %d bytes", MaxKeyLen)
	}
	if strings.ContainsAny(key, "\\\x00") {
		return media.Errorf(media.EINVALID, "blob key %q has a backslash or NUL", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return media.Errorf(media.EINVALID, "blob key %q has an empty, . or .. segment", key)
		}
	}
	return nil
}

func (b *Blobs) objectPath(key string) string {
	return filepath.Join(b.dir, "objects", filepath.FromSlash(key))
}

func (b *Blobs) metaPath(key string) string {
	return filepath.Join(b.dir, "meta", filepath.FromSlash(key))
}

// Ping checks that the directory is writable.
func (b *Blobs) Ping(ctx context.Context) error {
	f, err := os.CreateTemp(filepath.Join(b.dir, "tmp"), "ping-*")
	if err != nil {
		return fmt.Errorf("ping blob directory: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// Put stores size bytes from r under key, replacing any object there atomically.
func (b *Blobs) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if size < 0 {
		return media.Errorf(media.EINVALID, "put %s: size must be known", key)
	}
	return b.commit(key, contentType, func(w io.Writer) error {
		return copyExactly(ctx, w, r, size)
	})
}

// commit writes an object through fill into a temporary file, then renames it into place.
func (b *Blobs) commit(key, contentType string, fill func(io.Writer) error) error {
	tmp, err := b.writeTemp(fill)
	if err != nil {
		return fmt.Errorf("write object %s: %w", key, err)
	}
	defer os.Remove(tmp)
	if err := b.writeMeta(key, contentType); err != nil {
		return err
	}
	if err := renameInto(tmp, b.objectPath(key)); err != nil {
		return pathError(key, err)
	}
	return nil
}

// writeTemp creates a file in tmp/, fills and syncs it, and returns its name.
func (b *Blobs) writeTemp(fill func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Join(b.dir, "tmp"), "obj-*")
	if err != nil {
		return "", err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// writeMeta stores key's content type, atomically.
func (b *Blobs) writeMeta(key, contentType string) error {
	if contentType == "" {
		contentType = DefaultContentType
	}
	tmp, err := b.writeTemp(func(w io.Writer) error {
		_, err := io.WriteString(w, contentType)
		return err
	})
	if err != nil {
		return fmt.Errorf("write content type of %s: %w", key, err)
	}
	defer os.Remove(tmp)
	if err := renameInto(tmp, b.metaPath(key)); err != nil {
		return pathError(key, err)
	}
	return nil
}

// pathError explains a failed rename: a key that is a directory of other keys (or under
// another key) cannot be stored in a file tree.
func pathError(key string, err error) error {
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) {
		return media.Errorf(media.ECONFLICT, "blob key %s clashes with the path of another key", key)
	}
	return fmt.Errorf("store object %s: %w", key, err)
}

// renameInto moves tmp to dst, creating dst's directory. It tries again if a concurrent
// Delete pruned the directory in between.
func renameInto(tmp, dst string) error {
	var err error
	for range 3 {
		if err = os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err = os.Rename(tmp, dst); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

// copyExactly copies size bytes from r to w; r holding fewer is an error. It stops when ctx ends.
func copyExactly(ctx context.Context, w io.Writer, r io.Reader, size int64) error {
	n, err := io.Copy(w, io.LimitReader(ctxReader{ctx, r}, size))
	if err != nil {
		return err
	}
	if n != size {
		return media.Errorf(media.EINVALID, "body has %d bytes, want %d", n, size)
	}
	return nil
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// open opens key's object; ENOTFOUND if absent.
func (b *Blobs) open(key string) (*os.File, fs.FileInfo, error) {
	if err := ValidateKey(key); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(b.objectPath(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil, media.Errorf(media.ENOTFOUND, "object %s not found", key)
		}
		return nil, nil, fmt.Errorf("open object %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		f.Close()
		return nil, nil, media.Errorf(media.ENOTFOUND, "object %s not found", key)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat object %s: %w", key, err)
	}
	return f, fi, nil
}

// Get returns length bytes of key from offset (length < 0: to the end). Reading from at or
// past the end yields no bytes.
func (b *Blobs) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, media.Errorf(media.EINVALID, "get %s: negative offset", key)
	}
	f, fi, err := b.open(key)
	if err != nil {
		return nil, err
	}
	end := fi.Size()
	if length >= 0 && offset+length < end {
		end = offset + length
	}
	n := max(end-offset, 0)
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, offset, n), f}, nil
}

// Stat describes key; ENOTFOUND if absent.
func (b *Blobs) Stat(ctx context.Context, key string) (media.BlobInfo, error) {
	f, fi, err := b.open(key)
	if err != nil {
		return media.BlobInfo{}, err
	}
	f.Close()
	return media.BlobInfo{Key: key, Size: fi.Size(), ContentType: b.contentType(key), ModTime: fi.ModTime()}, nil
}

// contentType returns key's stored content type.
func (b *Blobs) contentType(key string) string {
	ct, err := os.ReadFile(b.metaPath(key))
	if err != nil || len(ct) == 0 {
		return DefaultContentType
	}
	return string(ct)
}

// Delete removes key; an absent key is not an error.
func (b *Blobs) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	for _, tree := range []string{"objects", "meta"} {
		root := filepath.Join(b.dir, tree)
		p := filepath.Join(root, filepath.FromSlash(key))
		if err := removeFile(p); err != nil {
			return fmt.Errorf("delete object %s: %w", key, err)
		}
		pruneDirs(root, filepath.Dir(p))
	}
	return nil
}

// pruneDirs removes dir and its parents below root while they are empty.
func pruneDirs(root, dir string) {
	for dir != root && strings.HasPrefix(dir, root) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// removeFile removes the regular file p; it is fine if p does not exist.
func removeFile(p string) error {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && fi.IsDir()) {
		return nil
	}
	if err != nil {
		return err
	}
	err = os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
