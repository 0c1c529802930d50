package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"parley/media/mediatest"
)

// instance is a running parley started in-process by a test.
type instance struct {
	BaseURL    string
	AdminToken string
	DataDir    string
	Env        map[string]string
	cancel     context.CancelFunc
	done       chan int
	out        *syncBuffer
}

// syncBuffer collects a process's output safely across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freePort returns a TCP port nothing listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// MustStart runs `parley args...` in-process with env (PARLEY_* variables; data dir, address,
// admin token and loopback ICE filled in when absent) and waits until /healthz answers.
func MustStart(t testing.TB, env map[string]string, args ...string) *instance {
	t.Helper()
	mediatest.Require(t, "ffmpeg")
	in := &instance{Env: withDefaults(t, env), done: make(chan int, 1), out: &syncBuffer{}}
	in.DataDir, in.AdminToken = in.Env["PARLEY_DATA_DIR"], in.Env["PARLEY_ADMIN_TOKEN"]
	in.BaseURL = in.Env["PARLEY_BASE_URL"]
	for k, v := range in.Env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() { in.done <- run(ctx, args, in.out, in.out) }()
	t.Cleanup(func() { in.Stop(t) })
	in.waitHealthy(t)
	return in
}

func withDefaults(t testing.TB, env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	port := freePort(t)
	defaults := map[string]string{
		"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_ADDR": fmt.Sprintf("127.0.0.1:%d", port),
		"PARLEY_BASE_URL": fmt.Sprintf("http://127.0.0.1:%d", port), "PARLEY_ADMIN_TOKEN": "pk_test_admin_" + t.Name(),
		"PARLEY_UDP_PORT": fmt.Sprint(freePort(t)), "PARLEY_ICE_LOOPBACK": "true", "PARLEY_LOG_LEVEL": "debug",
	}
	for k, v := range defaults {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out
}

func (in *instance) waitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-in.done:
			in.done <- code
			t.Fatalf("parley exited with %d before it was healthy:\n%s", code, in.out)
		default:
		}
		if resp, err := http.Get(in.BaseURL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("parley not healthy within 60s:\n%s", in.out)
}

// Stop ends the process as SIGTERM would and returns its exit code.
func (in *instance) Stop(t testing.TB) int {
	t.Helper()
	in.cancel()
	select {
	case code := <-in.done:
		in.done <- code
		return code
	case <-time.After(40 * time.Second):
		t.Fatalf("parley did not stop within 40s:\n%s", in.out)
		return -1
	}
}

// Do sends a request with the admin token (unless header overrides it) and decodes JSON into out.
func (in *instance) Do(t testing.TB, method, path string, body any, out any) int {
	t.Helper()
	return in.DoAs(t, in.AdminToken, method, path, body, out)
}

// DoAs is Do with another bearer token ("" sends none); body is a string or marshalled to JSON.
func (in *instance) DoAs(t testing.TB, token, method, path string, body any, out any) int {
	t.Helper()
	text, ok := body.(string)
	if !ok && body != nil {
		data, _ := json.Marshal(body)
		text = string(data)
	}
	return mediatest.DoJSON(t, method, in.BaseURL+path, token, text, out)
}

// productionEnv configures PostgreSQL (a fresh schema), Redis (db, flushed) and an S3 bucket.
func productionEnv(t testing.TB, redisDB int, bucket string) map[string]string {
	t.Helper()
	s3 := mediatest.S3(t)
	mustFlushRedisDB(t, redisDB)
	return map[string]string{
		"PARLEY_DATABASE_URL": mediatest.PostgresURL(t),
		"PARLEY_REDIS_URL":    fmt.Sprintf("redis://%s/%d", mediatest.RedisAddr(t), redisDB),
		"PARLEY_S3_ENDPOINT":  s3.Endpoint, "PARLEY_S3_ACCESS_KEY": s3.AccessKey, "PARLEY_S3_SECRET_KEY": s3.SecretKey,
		"PARLEY_S3_BUCKET": bucket,
	}
}

func decodeBody(resp *http.Response, out any) {
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, out)
}

// mustFlushRedisDB empties one of this package's Redis databases (10–15).
func mustFlushRedisDB(t testing.TB, db int) {
	t.Helper()
	if db < 10 || db > 15 {
		t.Fatalf("redis db %d is not this package's", db)
	}
	c := redis.NewClient(&redis.Options{Addr: mediatest.RedisAddr(t), DB: db})
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis db %d: %v", db, err)
	}
}
