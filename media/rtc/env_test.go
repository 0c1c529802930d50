package rtc

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"parley/media"
	"parley/media/localfs"
	"parley/media/mediatest"
	"parley/worker"
)

// env is a real domain (SQLite store, asynq queue on Redis DB 7, local blobs) with an ingest
// on loopback.
type env struct {
	svc   *media.Service
	store media.Store
	blobs *localfs.Blobs
	ing   *Ingest
	cfg   Config
	who   media.Principal
}

// newEnv starts the domain and an ingest; cfg's zero fields get test defaults.
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	ctx := context.Background()
	st := mediatest.SQLiteStore(t)
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: mediatest.RedisAddr(t), DB: 7})
	t.Cleanup(func() { client.Close() })
	e := &env{svc: media.NewService(st, worker.NewQueue(client)), store: st}
	if _, err := e.svc.EnsureWorkspace(ctx, media.DefaultWorkspaceID, "Test"); err != nil {
		t.Fatalf("workspace: %v", err)
	}
	e.who = media.Principal{WorkspaceID: media.DefaultWorkspaceID, Admin: true}
	var err error
	e.blobs, err = localfs.New(t.TempDir(), "http://127.0.0.1:1", []byte("rtc-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatalf("localfs: %v", err)
	}
	e.ing = newIngest(t, e, cfg)
	return e
}

// newIngest starts an ingest over the env's domain, closed at cleanup.
func newIngest(t testing.TB, e *env, cfg Config) *Ingest {
	t.Helper()
	cfg.ListenIP, cfg.Loopback = "127.0.0.1", true
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = t.TempDir()
	}
	ing, err := New(cfg, e.svc, e.blobs, testLogger(t))
	if err != nil {
		t.Fatalf("new ingest: %v", err)
	}
	t.Cleanup(func() { ing.Close(context.Background()) })
	e.cfg = cfg
	return ing
}

type tbWriter struct{ t testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tbWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// request is a publish request for the env's principal into a new thread.
func (e *env) request() media.PublishRequest {
	return media.PublishRequest{Principal: e.who, Recording: media.RecordingRequest{Kind: media.KindAny, Title: "test"}}
}

// fixtures caches ffmpeg-generated media in one directory per test binary.
var fixtures struct {
	once sync.Once
	dir  string
	mu   sync.Mutex
}

// fixture generates name with ffmpeg (once per test binary) and returns its path.
func fixture(t testing.TB, name string, args ...string) string {
	t.Helper()
	mediatest.Require(t, "ffmpeg")
	fixtures.once.Do(func() {
		dir, err := os.MkdirTemp("", "rtc-fixtures-")
		if err != nil {
			panic(err)
		}
		fixtures.dir = dir
	})
	fixtures.mu.Lock()
	defer fixtures.mu.Unlock()
	path := filepath.Join(fixtures.dir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := filepath.Join(fixtures.dir, "tmp-"+name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-v", "error", "-y"}, args...), tmp)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", name, err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtures.dir != "" {
		os.RemoveAll(fixtures.dir)
	}
	os.Exit(code)
}

// vp8Args encode a lavfi video source to VP8 IVF: one visible frame per input frame.
func vp8Args(src string, seconds float64) []string {
	return []string{"-f", "lavfi", "-i", src, "-t", ftoa(seconds), "-c:v", "libvpx", "-b:v", "600k",
		"-deadline", "realtime", "-cpu-used", "8", "-g", "60", "-auto-alt-ref", "0", "-lag-in-frames", "0", "-f", "ivf"}
}

// opusArgs encode a lavfi audio source to Ogg Opus, one 20 ms packet per page.
func opusArgs(src string, seconds float64) []string {
	return []string{"-f", "lavfi", "-i", src, "-t", ftoa(seconds), "-c:a", "libopus", "-b:a", "32k",
		"-frame_duration", "20", "-page_duration", "20000", "-f", "ogg"}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// testClip loads the standard 5 s test pattern and tone.
func testClip(t testing.TB, video bool) Clip {
	t.Helper()
	var c Clip
	var err error
	if video {
		ivf := fixture(t, "pattern.ivf", vp8Args("testsrc2=size=320x240:rate=30", 5)...)
		if c.Video, err = LoadIVF(ivf); err != nil {
			t.Fatal(err)
		}
	}
	ogg := fixture(t, "tone.ogg", opusArgs("sine=frequency=440:sample_rate=48000", 5)...)
	if c.Audio, err = LoadOgg(ogg); err != nil {
		t.Fatal(err)
	}
	return c
}

// record publishes a clip in real time and stops the session once everything sent arrived.
func record(t testing.TB, e *env, opts PublisherOptions, c Clip) (clip *media.Clip, stats []trackStats, sent [2]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, res := publish(t, e, opts, len(c.Video) > 0)
	v, a, err := p.Send(ctx, c)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	s, _ := e.ing.session(res.SessionID)
	settle(v+a, s)
	clip, err = e.ing.Stop(ctx, res.SessionID)
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	return clip, s.stats(), [2]int{v, a}
}

// publish connects a publisher, closed at cleanup.
func publish(t testing.TB, e *env, opts PublisherOptions, video bool) (*Publisher, *media.PublishResult) {
	t.Helper()
	opts.Loopback = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := NewPublisher(opts, video)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	res, err := p.Publish(ctx, e.ing, e.request())
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := p.Connected(ctx); err != nil {
		t.Fatal(err)
	}
	return p, res
}

// original fetches a clip's original from blobs into a temp file.
func (e *env) original(t testing.TB, c *media.Clip) string {
	t.Helper()
	if c.Media.Original == "" {
		t.Fatalf("clip %s has no original", c.ID)
	}
	rc, err := e.blobs.Get(context.Background(), c.Media.Original, 0, -1)
	if err != nil {
		t.Fatalf("get original: %v", err)
	}
	defer rc.Close()
	path := filepath.Join(t.TempDir(), filepath.Base(c.Media.Original))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
	return path
}

// probe runs ffprobe and returns the value of one entry (e.g. "format=duration").
func probe(t testing.TB, path string, args ...string) string {
	t.Helper()
	mediatest.Require(t, "ffprobe")
	args = append([]string{"-v", "error", "-of", "default=noprint_wrappers=1:nokey=1"}, args...)
	out, err := exec.Command("ffprobe", append(args, path)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func probeFloat(t testing.TB, path string, args ...string) float64 {
	t.Helper()
	s := probe(t, path, args...)
	f, err := strconv.ParseFloat(strings.Fields(s + " x")[0], 64)
	if err != nil {
		t.Fatalf("ffprobe %v: %q is not a number", args, s)
	}
	return f
}

// decodeErrors decodes a file fully and returns what ffmpeg reports at level error.
func decodeErrors(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil {
		return string(out) + err.Error()
	}
	return strings.TrimSpace(string(out))
}

// countFrames counts decoded frames of a stream ("v:0" or "a:0").
func countFrames(t testing.TB, path, stream string) int {
	t.Helper()
	n, _ := strconv.Atoi(probe(t, path, "-count_frames", "-select_streams", stream, "-show_entries", "stream=nb_read_frames"))
	return n
}
