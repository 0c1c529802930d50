package rtc

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor"
)

// TestLossAndReordering records through 5% random loss and 0–30 ms of jitter: NACK repairs,
// and the reorder buffer drops the duplicates, so the recorded frames decode to the very
// frames that were sent (compared by the MD5 of their decoded pixels). The clip is 10 s long
// (300 frames) so that one frame, 0.33%, is within the 0.5% allowed: a loss of the stream's
// very last packet cannot be seen, so cannot be repaired.
func TestLossAndReordering(t *testing.T) {
	e := newEnv(t, Config{})
	c := testClip(t, true)
	ivf := fixture(t, "pattern10.ivf", vp8Args("testsrc2=size=320x240:rate=30", 10)...)
	var err error
	if c.Video, err = LoadIVF(ivf); err != nil {
		t.Fatal(err)
	}
	c.Audio = append(c.Audio, c.Audio...)
	opts := PublisherOptions{Interceptors: []interceptor.Factory{impairment{loss: 0.05, jitter: 30 * time.Millisecond}}}
	clip, stats, sent := record(t, e, opts, c)
	t.Logf("sent video %d audio %d; tracks %+v", sent[0], sent[1], stats)
	path := e.original(t, clip)
	if errs := decodeErrors(t, path); errs != "" {
		t.Errorf("decoding the original reports:\n%s", errs)
	}
	want := map[string]bool{}
	for _, h := range frameHashes(t, ivf) {
		want[h] = true
	}
	got := frameHashes(t, path)
	intact := 0
	for _, h := range got {
		if want[h] {
			intact++
		}
	}
	if intact*1000 < sent[0]*995 {
		t.Errorf("%d of %d sent video frames intact in the recording, want ≥ 99.5%%", intact, sent[0])
	}
	if intact != len(got) {
		t.Errorf("%d of %d recorded frames differ from every sent frame", len(got)-intact, len(got))
	}
}

// frameHashes decodes a file's video and returns the MD5 of each frame's pixels.
func frameHashes(t testing.TB, path string) []string {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0:v:0", "-f", "framemd5", "-").Output()
	if err != nil {
		t.Fatalf("framemd5 %s: %v", path, err)
	}
	var hashes []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, ",")
		if len(f) == 6 && !strings.HasPrefix(l, "#") {
			hashes = append(hashes, strings.TrimSpace(f[5]))
		}
	}
	return hashes
}
