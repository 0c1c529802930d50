package mediatest

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"testing"
)

// MP4Boxes lists the types of an MP4 file's top-level boxes in file order (e.g. to check
// that moov comes before mdat, as +faststart makes it).
func MP4Boxes(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var types []string
	for {
		typ, size, err := readBoxHeader(f)
		if err == io.EOF {
			return types
		}
		if err != nil {
			t.Fatalf("mp4 box %d of %s: %v", len(types), path, err)
		}
		types = append(types, typ)
		if _, err := f.Seek(size, io.SeekCurrent); err != nil {
			t.Fatal(err)
		}
	}
}

// readBoxHeader reads one ISO BMFF box header and returns the type and the payload size.
func readBoxHeader(r io.Reader) (string, int64, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", 0, err
	}
	size, header := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
	if size == 1 { // 64-bit size follows the type
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return "", 0, fmt.Errorf("largesize: %w", err)
		}
		size, header = int64(binary.BigEndian.Uint64(ext[:])), 16
	}
	if size < header {
		return "", 0, fmt.Errorf("box %q: size %d", h[4:], size)
	}
	return string(h[4:]), size - header, nil
}
