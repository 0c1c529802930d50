package worker

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"parley/media"
	"parley/media/ffmpeg"
	"parley/media/localfs"
	"parley/media/mediatest"
	"parley/media/s3"
	"parley/media/waveform"
)

// Redis databases this package's tests may use (assigned to it; each test flushes its own).
const (
	dbPipeline = 2
	dbFailure  = 3
	dbReplies  = 4
	dbWebhooks = 5
	dbFlush    = 6
)

// env is one test's world: a real store, real blobs, a real Redis database and the worker.
type env struct {
	t       testing.TB
	store   media.Store
	blobs   media.Blobs
	svc     *media.Service
	q       *Queue
	redis   asynq.RedisClientOpt
	insp    *asynq.Inspector
	deps    Deps
	ws      *media.Workspace
	thread  *media.Thread
	tempDir string
}

// envOptions choose the store ("sqlite" or "postgres") and blobs ("localfs" or "s3").
// miniredis runs the queue on the in-process server of the embedded default instead of db.
type envOptions struct {
	store, blobs string
	db           int
	miniredis    bool
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	e := &env{t: t, store: openStore(t, o.store), blobs: openBlobs(t, o.blobs), tempDir: t.TempDir()}
	if o.miniredis {
		e.redis = asynq.RedisClientOpt{Addr: miniredis.RunT(t).Addr()}
	} else {
		e.redis = redisDB(t, o.db)
	}
	client := asynq.NewClient(e.redis)
	t.Cleanup(func() { client.Close() })
	e.insp = asynq.NewInspector(e.redis)
	t.Cleanup(func() { e.insp.Close() })
	e.q = NewQueue(client)
	e.q.Inspector = e.insp
	e.svc = media.NewService(e.store, e.q)
	e.deps = Deps{
		Service: e.svc, Store: e.store, Blobs: e.blobs, Log: testLogger(t),
		Transcoder: ffmpeg.Transcoder{Runner: &ffmpeg.Runner{Log: testLogger(t)}}, Waveform: waveform.Renderer{}, TempDir: e.tempDir,
	}
	e.ws, e.thread = e.workspace(0)
	return e
}

// testLogger logs to the test's output at warn level and above.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func openStore(t testing.TB, kind string) media.Store {
	t.Helper()
	if kind == "postgres" {
		return mediatest.Store(t, mediatest.PostgresURL(t))
	}
	return mediatest.SQLiteStore(t)
}

func openBlobs(t testing.TB, kind string) media.Blobs {
	t.Helper()
	if kind == "s3" {
		return openS3(t)
	}
	b, err := localfs.New(t.TempDir(), "http://127.0.0.1:1", []byte("worker-test-secret-0123456789"))
	if err != nil {
		t.Fatalf("localfs: %v", err)
	}
	return b
}

func openS3(t testing.TB) media.Blobs {
	t.Helper()
	c := mediatest.S3(t)
	b, err := s3.New(s3.Config{
		Endpoint: c.Endpoint, AccessKey: c.AccessKey, SecretKey: c.SecretKey, Secure: c.Secure,
		Bucket: "worker-" + media.NewID()[:12],
	})
	if err != nil {
		t.Fatalf("s3: %v", err)
	}
	if err := b.EnsureBucket(context.Background()); err != nil {
		t.Fatalf("ensure bucket: %v", err)
	}
	return b
}

// redisDB returns the options of one of this package's Redis databases, flushed now and at cleanup.
func redisDB(t testing.TB, db int) asynq.RedisClientOpt {
	t.Helper()
	if db < dbPipeline || db > dbFlush {
		t.Fatalf("redis db %d is not one of this package's (%d-%d)", db, dbPipeline, dbFlush)
	}
	opt := asynq.RedisClientOpt{Addr: mediatest.RedisAddr(t), DB: db}
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: db})
	flush := func() {
		if err := rdb.FlushDB(context.Background()).Err(); err != nil {
			t.Errorf("flush redis db %d: %v", db, err)
		}
	}
	flush()
	t.Cleanup(func() { flush(); rdb.Close() })
	return opt
}

// flushRedis empties the test's Redis database, as if Redis lost its data.
func (e *env) flushRedis() {
	e.t.Helper()
	if e.redis.DB != dbFlush {
		e.t.Fatalf("flushRedis on db %d, want %d", e.redis.DB, dbFlush)
	}
	rdb := redis.NewClient(&redis.Options{Addr: e.redis.Addr, DB: e.redis.DB})
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		e.t.Fatalf("flush redis: %v", err)
	}
}

// workspace creates a workspace with a retention period and a thread in it.
func (e *env) workspace(retentionDays int) (*media.Workspace, *media.Thread) {
	e.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	w := &media.Workspace{ID: media.NewID(), Name: "test", RetentionDays: retentionDays, CreatedAt: now}
	if err := e.store.CreateWorkspace(ctx, w); err != nil {
		e.t.Fatalf("create workspace: %v", err)
	}
	th := &media.Thread{ID: media.NewID(), WorkspaceID: w.ID, Title: "t", CreatedAt: now, LastActivityAt: now}
	if err := e.store.CreateThread(ctx, th); err != nil {
		e.t.Fatalf("create thread: %v", err)
	}
	return w, th
}

// clipSpec describes a clip to put in the store.
type clipSpec struct {
	fixture string // file name in the fixtures dir; "" for no original
	kind    media.ClipKind
	status  media.ClipStatus
	replyTo string
	created time.Time
}

// clip stores a clip (uploading its original) without enqueueing anything.
func (e *env) clip(s clipSpec) *media.Clip {
	e.t.Helper()
	now := time.Now().UTC()
	if s.created.IsZero() {
		s.created = now
	}
	c := &media.Clip{
		ID: media.NewID(), WorkspaceID: e.ws.ID, ThreadID: e.thread.ID, ReplyTo: s.replyTo,
		Kind: s.kind, Status: s.status, Privacy: media.Unlisted, CreatedAt: s.created, UpdatedAt: now,
	}
	if s.fixture != "" {
		c.Media.Original = media.OriginalKey(c.ID, "webm")
		e.putFile(c.Media.Original, fixture(e.t, s.fixture), "video/webm")
	}
	if err := e.store.CreateClip(context.Background(), c); err != nil {
		e.t.Fatalf("create clip: %v", err)
	}
	return c
}

// processingClip stores a processing clip and enqueues it.
func (e *env) processingClip(fixtureName string, kind media.ClipKind, replyTo string) *media.Clip {
	e.t.Helper()
	c := e.clip(clipSpec{fixture: fixtureName, kind: kind, status: media.StatusProcessing, replyTo: replyTo})
	if err := e.q.EnqueueProcessing(context.Background(), c.ID); err != nil {
		e.t.Fatalf("enqueue processing: %v", err)
	}
	return c
}

func (e *env) putFile(key, local, contentType string) {
	e.t.Helper()
	f, err := os.Open(local)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if err := e.blobs.Put(context.Background(), key, f, st.Size(), contentType); err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
}

// fetch downloads a blob into a temp file and returns its path.
func (e *env) fetch(key string) string {
	e.t.Helper()
	r, err := e.blobs.Get(context.Background(), key, 0, -1)
	if err != nil {
		e.t.Fatalf("get %s: %v", key, err)
	}
	defer r.Close()
	p := filepath.Join(e.t.TempDir(), filepath.Base(key))
	f, err := os.Create(p)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		e.t.Fatalf("download %s: %v", key, err)
	}
	return p
}

// startServer runs a real asynq server with the worker's handlers until cleanup (or stop).
func (e *env) startServer(shutdownTimeout time.Duration) (stop func()) {
	e.t.Helper()
	cfg := ServerConfig(testLogger(e.t), 2)
	cfg.ShutdownTimeout = shutdownTimeout
	srv := asynq.NewServer(e.redis, cfg)
	if err := srv.Start(NewMux(e.deps, e.q)); err != nil {
		e.t.Fatalf("start asynq server: %v", err)
	}
	var once sync.Once
	stop = func() { once.Do(srv.Shutdown) }
	e.t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds; giving up after a generous limit fails the test.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitTerminal waits until a clip is past processing and returns it.
func (e *env) waitTerminal(id string) *media.Clip {
	e.t.Helper()
	var c *media.Clip
	waitFor(e.t, "clip "+id+" to finish processing", func() bool {
		var err error
		c, err = e.store.GetClip(context.Background(), id)
		if err != nil {
			e.t.Fatalf("get clip: %v", err)
		}
		return c.Terminal()
	})
	return c
}

// queueEmpty reports whether a queue has no pending, active, scheduled or retry tasks.
func (e *env) queueEmpty(queue string) bool {
	info, err := e.insp.GetQueueInfo(queue)
	if err != nil {
		return true // the queue was never used
	}
	return info.Pending+info.Active+info.Scheduled+info.Retry == 0
}

var (
	fixturesMu  sync.Mutex
	fixturesDir string
	fixtureMade = map[string]error{}
)

// fixtureArgs are the ffmpeg arguments making each fixture (VP8/Opus WebM, as recorded).
var fixtureArgs = map[string][]string{
	"video.webm": {"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i",
		"sine=frequency=440:sample_rate=48000", "-t", "2", "-c:v", "libvpx", "-b:v", "400k",
		"-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus", "-shortest"},
	"long.webm": {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i",
		"sine=frequency=330:sample_rate=48000", "-t", "8", "-c:v", "libvpx", "-b:v", "1M",
		"-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus", "-shortest"},
	"voice.webm": {"-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000", "-t", "2",
		"-c:a", "libopus"},
}

// fixture returns the path of a fixture, made by ffmpeg on first use; "corrupt.webm" is
// random bytes.
func fixture(t testing.TB, name string) string {
	t.Helper()
	mediatest.Require(t, "ffmpeg")
	mediatest.Require(t, "ffprobe")
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	err, made := fixtureMade[name]
	if !made {
		err = makeFixture(name)
		fixtureMade[name] = err
	}
	if err != nil {
		t.Fatalf("make fixture: %v", err)
	}
	return filepath.Join(fixturesDir, name)
}

func makeFixture(name string) error {
	if fixturesDir == "" {
		dir, err := os.MkdirTemp("", "worker-fixtures-")
		if err != nil {
			return err
		}
		fixturesDir = dir
	}
	out := filepath.Join(fixturesDir, name)
	if name == "corrupt.webm" {
		return os.WriteFile(out, noise(64<<10), 0o644)
	}
	args := append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, fixtureArgs[name]...), out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		return &fixtureError{name, err, string(b)}
	}
	return nil
}

type fixtureError struct {
	name string
	err  error
	out  string
}

func (e *fixtureError) Error() string { return e.name + ": " + e.err.Error() + ": " + e.out }

// noise returns n deterministic pseudo-random bytes.
func noise(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixturesDir != "" {
		os.RemoveAll(fixturesDir)
	}
	os.Exit(code)
}

// probeFile runs ffprobe on a local file.
func probeFile(t testing.TB, path string) *ffmpeg.Probe {
	t.Helper()
	p, err := (&ffmpeg.Runner{}).Probe(context.Background(), path)
	if err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	return p
}
