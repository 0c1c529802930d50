package ffmpeg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// benchFixture is a 60 s 720p VP8/Opus recording, made once and kept in os.TempDir.
func benchFixture(b *testing.B) (string, *Probe) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "parley-ffmpeg-bench")
	path := filepath.Join(dir, "720p-60s.webm")
	if _, err := os.Stat(path); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		tmp := filepath.Join(dir, "making.webm")
		videoWebM(b, tmp, "1280x720", 60)
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	return path, mustProbe(b, path)
}

// reportRealtime reports seconds of media transcoded per second of wall time.
func reportRealtime(b *testing.B, p *Probe) {
	b.ReportMetric(float64(p.DurationMS)/1000*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

// BenchmarkMP4Pipeline times the MP4 step of Runner.Renditions. Compare with
// BenchmarkMP4BareFFmpeg (the same arguments, run directly) for the Runner's overhead.
// go test -run '^$' -bench MP4 -benchtime 2x ./media/ffmpeg
func BenchmarkMP4Pipeline(b *testing.B) {
	in, p := benchFixture(b)
	out, r := filepath.Join(b.TempDir(), "out.mp4"), new(Runner)
	for b.Loop() {
		if err := r.MP4(context.Background(), in, out, p); err != nil {
			b.Fatal(err)
		}
	}
	reportRealtime(b, p)
}

// BenchmarkMP4BareFFmpeg runs ffmpeg with MP4Args and nothing else around it.
func BenchmarkMP4BareFFmpeg(b *testing.B) {
	in, p := benchFixture(b)
	args := MP4Args(in, filepath.Join(b.TempDir(), "out.mp4"), p, "")
	for b.Loop() {
		if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
			b.Fatalf("ffmpeg: %v\n%s", err, out)
		}
	}
	reportRealtime(b, p)
}
