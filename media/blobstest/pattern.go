package blobstest

import (
	"crypto/sha256"
	"io"
	"testing"
)

// Pattern returns a reader of size deterministic bytes that depend on seed, produced as
// they are read: large bodies without large buffers. It hides any Seek or ReadAt, like a
// network stream.
func Pattern(seed byte, size int64) io.Reader {
	return &patternReader{seed: seed, left: size}
}

// PatternBytes returns the bytes Pattern(seed, size) yields.
func PatternBytes(seed byte, size int64) []byte {
	b := make([]byte, size)
	fillPattern(b, seed, 0)
	return b
}

type patternReader struct {
	seed byte
	off  int64
	left int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.left)]
	fillPattern(b, p.seed, p.off)
	p.off += int64(len(b))
	p.left -= int64(len(b))
	return len(b), nil
}

// fillPattern writes the pattern bytes at offsets off.. into b. The mix of position and
// seed makes shifted, truncated or reordered data differ from the original.
func fillPattern(b []byte, seed byte, off int64) {
	for i := range b {
		x := uint64(off+int64(i)) * 0x9E3779B97F4A7C15
		b[i] = byte(x>>56) ^ seed
	}
}

// PatternSum returns the SHA-256 of Pattern(seed, size).
func PatternSum(seed byte, size int64) [sha256.Size]byte {
	h := sha256.New()
	io.Copy(h, Pattern(seed, size))
	return [sha256.Size]byte(h.Sum(nil))
}

// ReadSum returns the SHA-256 and length of everything r yields.
func ReadSum(t testing.TB, r io.Reader) ([sha256.Size]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return [sha256.Size]byte(h.Sum(nil)), n
}
