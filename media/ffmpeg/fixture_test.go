package ffmpeg

import (
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // decode posters and sprites
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"parley/media/mediatest"
)

// ffmpegFixture runs ffmpeg with args to make a test input; it needs ffmpeg installed.
func ffmpegFixture(t testing.TB, args ...string) {
	t.Helper()
	mediatest.Require(t, "ffmpeg")
	cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make fixture: ffmpeg %v: %v\n%s", args, err, out)
	}
}

// videoWebM writes a VP8/Opus WebM of a test pattern and a 440 Hz tone, like a recording.
func videoWebM(t testing.TB, path, size string, seconds float64) string {
	t.Helper()
	d := fmt.Sprint(seconds)
	ffmpegFixture(t, "-f", "lavfi", "-i", "testsrc2=size="+size+":rate=30:duration="+d,
		"-f", "lavfi", "-i", "sine=frequency=440:duration="+d,
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1500k",
		"-c:a", "libopus", "-b:a", "64k", path)
	return path
}

// audioWebM writes an Opus-only WebM, like a voice recording.
func audioWebM(t testing.TB, path string, seconds float64) string {
	t.Helper()
	ffmpegFixture(t, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=300:duration=%g", seconds),
		"-c:a", "libopus", "-b:a", "48k", path)
	return path
}

// resolutionChangeWebM joins a landscape and a portrait VP8 stream into one WebM, the way a
// browser's recording changes resolution mid-call.
func resolutionChangeWebM(t testing.TB, dir string) string {
	t.Helper()
	a := videoWebM(t, filepath.Join(dir, "a.webm"), "640x360", 1.5)
	b := videoWebM(t, filepath.Join(dir, "b.webm"), "180x320", 1.5)
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte(fmt.Sprintf("file '%s'\nfile '%s'\n", a, b)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "change.webm")
	ffmpegFixture(t, "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", out)
	return out
}

// randomFile writes n random bytes (fixed seed): not media at all.
func randomFile(t testing.TB, path string, n int) string {
	t.Helper()
	buf := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range buf {
		buf[i] = byte(r.UintN(256))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustProbe probes path with a zero Runner.
func mustProbe(t testing.TB, path string) *Probe {
	t.Helper()
	p, err := new(Runner).Probe(context.Background(), path)
	if err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	return p
}

// imageSize decodes the header of an image file.
func imageSize(t testing.TB, path string) (format string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return format, cfg.Width, cfg.Height
}

// decodeJPEG reads a whole JPEG.
func decodeJPEG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}
