package rtc

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// BenchmarkIngest runs BenchIngest once (use -benchtime=1x) against the real domain and local
// blobs, with the publishers in a child process (TestBenchPublishers). PARLEY_BENCH_VIDEO /
// PARLEY_BENCH_VOICE set the publisher counts, PARLEY_BENCH_SECONDS the real-time length,
// PARLEY_BENCH_LONG1 / PARLEY_BENCH_LONG2 the synthesised clips in minutes (0 skips one).
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, Config{})
	video, err := LoadIVF(fixture(b, "bench-720p.ivf", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "10",
		"-c:v", "libvpx", "-b:v", "1500k", "-deadline", "realtime", "-cpu-used", "8", "-g", "300",
		"-auto-alt-ref", "0", "-lag-in-frames", "0", "-f", "ivf"))
	if err != nil {
		b.Fatal(err)
	}
	voice, err := LoadOgg(fixture(b, "bench-voice.ogg", opusArgs("sine=frequency=300:sample_rate=48000", 10)...))
	if err != nil {
		b.Fatal(err)
	}
	o := BenchOptions{
		Log: testLogger(b), Recordings: e.svc, Blobs: e.blobs, Principal: e.who, SpoolDir: b.TempDir(), Video: video, Voice: voice,
		PublisherCommand: benchPublishers,
		VideoStreams:     envInt("PARLEY_BENCH_VIDEO", 4), VoiceStreams: envInt("PARLEY_BENCH_VOICE", 8),
		Duration: time.Duration(envInt("PARLEY_BENCH_SECONDS", 10)) * time.Second,
	}
	for _, m := range []int{envInt("PARLEY_BENCH_LONG1", 1), envInt("PARLEY_BENCH_LONG2", 10)} {
		if m > 0 {
			o.LongClips = append(o.LongClips, time.Duration(m)*time.Minute)
		}
	}
	for b.Loop() {
		r, err := BenchIngest(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("\n%s", r)
		b.ReportMetric(100*r.Video.CPUPerStream, "%core/video-stream")
		b.ReportMetric(100*r.Voice.CPUPerStream, "%core/voice-stream")
		b.ReportMetric(float64(r.Video.StopMax.Milliseconds()), "ms-stop-max")
		for _, l := range r.Long {
			b.ReportMetric(float64(l.Finish.Milliseconds()), "ms-finish-"+strconv.Itoa(int(l.Duration.Minutes()))+"min")
		}
	}
}

// benchPublishers re-executes the test binary to run TestBenchPublishers alone.
func benchPublishers(ctx context.Context) *exec.Cmd {
	return exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBenchPublishers$")
}

// TestBenchPublishers is BenchmarkIngest's publisher process; it skips unless started as one
// (BenchPublishersEnv set).
func TestBenchPublishers(t *testing.T) {
	config := os.Getenv(BenchPublishersEnv)
	if config == "" {
		t.Skip("runs only as BenchmarkIngest's publisher process")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := RunBenchPublishers(context.Background(), log, config, os.Stdin, os.Stdout); err != nil {
		t.Fatal(err)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
