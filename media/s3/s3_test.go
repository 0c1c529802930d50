package s3_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"parley/media"
	"parley/media/blobstest"
	"parley/media/mediatest"
	"parley/media/s3"
)

// newBlobs returns Blobs in a new bucket of the test S3 server, removed when t ends.
func newBlobs(t testing.TB, partSize uint64) *s3.Blobs {
	t.Helper()
	c := mediatest.S3(t)
	b, err := s3.New(s3.Config{
		Endpoint: c.Endpoint, AccessKey: c.AccessKey, SecretKey: c.SecretKey, Secure: c.Secure,
		Bucket: "parley-" + media.NewID(), PartSize: partSize,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.EnsureBucket(blobstest.Ctx(t)); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, c, b.Bucket()) })
	return b
}

// removeBucket deletes a test bucket with its objects and unfinished uploads.
func removeBucket(t testing.TB, c mediatest.S3Config, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := minio.New(c.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""), Secure: c.Secure})
	if err != nil {
		t.Fatalf("cleanup client: %v", err)
	}
	for obj := range cl.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err == nil {
			cl.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{})
		}
	}
	for up := range cl.ListIncompleteUploads(ctx, bucket, "", true) {
		if up.Err == nil {
			cl.RemoveIncompleteUpload(ctx, bucket, up.Key)
		}
	}
	if err := cl.RemoveBucket(ctx, bucket); err != nil {
		t.Errorf("remove bucket %s: %v", bucket, err)
	}
}

func TestContract(t *testing.T) {
	mediatest.S3(t) // one clear failure or skip when there is no server
	blobstest.Run(t, func(t *testing.T) media.Blobs { return newBlobs(t, 0) })
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  s3.Config
		code string
	}{
		{"no endpoint", s3.Config{Bucket: "b"}, media.EINVALID},
		{"no bucket", s3.Config{Endpoint: "127.0.0.1:9"}, media.EINVALID},
		{"small parts", s3.Config{Endpoint: "127.0.0.1:9", Bucket: "b", PartSize: 1 << 20}, media.EINVALID},
	}
	for _, tt := range tests {
		_, err := s3.New(tt.cfg)
		blobstest.WantCode(t, tt.name, err, tt.code)
	}
	if _, err := s3.New(s3.Config{Endpoint: "127.0.0.1:9", Bucket: "b"}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}

func TestEnsureBucketIdempotent(t *testing.T) {
	b := newBlobs(t, 0)
	if err := b.EnsureBucket(blobstest.Ctx(t)); err != nil {
		t.Fatalf("second EnsureBucket: %v", err)
	}
}

func TestPingMissingBucket(t *testing.T) {
	c := mediatest.S3(t)
	b, err := s3.New(s3.Config{Endpoint: c.Endpoint, AccessKey: c.AccessKey, SecretKey: c.SecretKey, Bucket: "parley-absent-" + media.NewID()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Ping(blobstest.Ctx(t)); err == nil {
		t.Fatalf("Ping of a missing bucket succeeded")
	}
}

func TestWrongCredentials(t *testing.T) {
	c := mediatest.S3(t)
	good := newBlobs(t, 0)
	b, err := s3.New(s3.Config{Endpoint: c.Endpoint, AccessKey: c.AccessKey, SecretKey: "wrong-" + c.SecretKey, Bucket: good.Bucket()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	err = b.Put(blobstest.Ctx(t), "k", strings.NewReader("x"), 1, "text/plain")
	if err == nil || media.ErrorCode(err) != media.EINTERNAL {
		t.Errorf("Put with a wrong secret = %v, want an internal error", err)
	}
}

func TestAbortLeavesNoUpload(t *testing.T) {
	c := mediatest.S3(t)
	b := newBlobs(t, 0)
	u := blobstest.NewUpload(t, b, "k/aborted", "video/webm")
	blobstest.PutPart(t, u, 1, blobstest.PatternBytes(1, 100))
	if err := u.Abort(blobstest.Ctx(t)); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	cl, err := minio.New(c.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(c.AccessKey, c.SecretKey, "")})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	for up := range cl.ListIncompleteUploads(blobstest.Ctx(t), b.Bucket(), "", true) {
		t.Errorf("upload left after Abort: %+v", up)
	}
}

// allocated returns the bytes the process allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// memoryBound is the most one 32 MiB upload may allocate: far below the ~528 MiB minio-go
// buffers when it does not know the size or part size.
const memoryBound = 64 << 20

func TestPutMemory(t *testing.T) {
	const size = 32 << 20
	b := newBlobs(t, 0)
	alloc := allocated(func() {
		if err := b.Put(blobstest.Ctx(t), "big", blobstest.Pattern(7, size), size, "video/webm"); err != nil {
			t.Fatalf("Put: %v", err)
		}
	})
	t.Logf("Put of %d MiB allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))
	if alloc > memoryBound {
		t.Errorf("Put of %d MiB allocated %d MiB, want under %d MiB", size>>20, alloc>>20, memoryBound>>20)
	}
	wantObject(t, b, "big", 7, size)
}

func TestUploadMemory(t *testing.T) {
	const part = 8 << 20
	b := newBlobs(t, 0)
	alloc := allocated(func() {
		u := blobstest.NewUpload(t, b, "big", "video/webm")
		for n := 4; n >= 1; n-- {
			if err := u.PutPart(blobstest.Ctx(t), n, blobstest.Pattern(byte(n), part), part); err != nil {
				t.Fatalf("PutPart(%d): %v", n, err)
			}
		}
		if err := u.Complete(blobstest.Ctx(t)); err != nil {
			t.Fatalf("Complete: %v", err)
		}
	})
	t.Logf("upload of 4 × %d MiB parts allocated %.1f MiB", part>>20, float64(alloc)/(1<<20))
	if alloc > memoryBound {
		t.Errorf("upload of 32 MiB allocated %d MiB, want under %d MiB", alloc>>20, memoryBound>>20)
	}
	for n := int64(1); n <= 4; n++ {
		rc, err := b.Get(blobstest.Ctx(t), "big", (n-1)*part, part)
		if err != nil {
			t.Fatalf("Get part %d: %v", n, err)
		}
		sum, _ := blobstest.ReadSum(t, rc)
		rc.Close()
		if sum != blobstest.PatternSum(byte(n), part) {
			t.Errorf("bytes of part %d differ from what was sent", n)
		}
	}
}

// wantObject fails t unless key holds Pattern(seed, size).
func wantObject(t testing.TB, b media.Blobs, key string, seed byte, size int64) {
	t.Helper()
	rc, err := b.Get(blobstest.Ctx(t), key, 0, -1)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer rc.Close()
	sum, n := blobstest.ReadSum(t, rc)
	if n != size || sum != blobstest.PatternSum(seed, size) {
		t.Errorf("%s: %d bytes, want %d bytes of pattern %d", key, n, size, seed)
	}
}

func BenchmarkPut64MiB(b *testing.B) {
	const size = 64 << 20
	blobs := newBlobs(b, 0)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := blobs.Put(context.Background(), "bench", blobstest.Pattern(1, size), size, "video/webm"); err != nil {
			b.Fatalf("Put: %v", err)
		}
	}
}

func BenchmarkUpload64MiB(b *testing.B) {
	const part = 16 << 20
	blobs := newBlobs(b, 0)
	b.SetBytes(4 * part)
	b.ReportAllocs()
	for b.Loop() {
		u, err := blobs.NewUpload(context.Background(), "bench", "video/webm")
		if err != nil {
			b.Fatalf("NewUpload: %v", err)
		}
		for n := 1; n <= 4; n++ {
			if err := u.PutPart(context.Background(), n, blobstest.Pattern(byte(n), part), part); err != nil {
				b.Fatalf("PutPart: %v", err)
			}
		}
		if err := u.Complete(context.Background()); err != nil {
			b.Fatalf("Complete: %v", err)
		}
	}
}
