package main

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWorkerKilledMidTranscodeFinishesOnce runs the production shape (serve, and a worker
// process on PostgreSQL, Redis and S3), SIGKILLs the worker while ffmpeg transcodes a clip,
// starts a new worker, and checks the clip becomes ready once and its clip.ready event reaches
// the webhook under one id.
func TestWorkerKilledMidTranscodeFinishesOnce(t *testing.T) {
	bin := buildParley(t)
	hooks := newHookReceiver(t)
	env := productionEnv(t, 12, "parley-worker-kill")
	srv := MustStart(t, env, "serve")
	if code := srv.Do(t, "POST", "/api/v1/webhooks", map[string]any{"url": hooks.URL(), "events": []string{"clip.ready"}}, nil); code != 201 {
		t.Fatalf("create webhook = %d", code)
	}
	workerEnv := maps.Clone(srv.Env)
	delete(workerEnv, "PARLEY_ADDR")
	delete(workerEnv, "PARLEY_BASE_URL")
	workerEnv = withDefaults(t, workerEnv) // its own port for /healthz
	worker := startProcess(t, bin, workerEnv, "worker")

	p := newPublisher(t, makeFixture(t, 8*time.Second, true))
	p.Publish(t, srv.BaseURL+"/whip", srv.AdminToken, false)
	p.WaitConnected(t)
	if err := p.Send(context.Background()); err != nil {
		t.Fatalf("send media: %v", err)
	}
	time.Sleep(tailAllowance)
	p.Stop(t)
	waitForChild(t, worker.cmd.Process.Pid, "ffmpeg", 30*time.Second)
	worker.kill(t)
	t.Logf("worker killed while transcoding clip %s", p.ClipID)

	startProcess(t, bin, workerEnv, "worker")
	c, seen := waitClip(t, srv, p.ClipID, 3*time.Minute)
	if c.Status != "ready" || c.Media.MP4 == nil {
		t.Fatalf("clip after the worker restarted: %s (statuses %v), mp4 %v", c.Status, seen, c.Media.MP4)
	}
	ids := hooks.waitIDs(t, p.ClipID, 30*time.Second)
	time.Sleep(3 * time.Second) // a duplicate would come now
	if diff := cmp.Diff(ids[:1], hooks.ids(p.ClipID)); diff != "" {
		t.Errorf("clip.ready webhook ids (-want +got):\n%s", diff)
	}
}

// hookReceiver records every webhook delivery it receives.
type hookReceiver struct {
	srv        *httptest.Server
	mu         sync.Mutex
	deliveries []delivery
}

type delivery struct{ id, body string }

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) URL() string { return h.srv.URL }

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.deliveries = append(h.deliveries, delivery{id: r.Header.Get("webhook-id"), body: string(body)})
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// ids returns the distinct webhook ids of deliveries whose body names clip, in order.
func (h *hookReceiver) ids(clip string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, d := range h.deliveries {
		if strings.Contains(d.body, clip) && !slices.Contains(ids, d.id) {
			ids = append(ids, d.id)
		}
	}
	return ids
}

// waitIDs waits for a delivery naming clip and returns the ids so far.
func (h *hookReceiver) waitIDs(t *testing.T, clip string, timeout time.Duration) []string {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ids := h.ids(clip); len(ids) > 0 {
			return ids
		}
	}
	t.Fatalf("no webhook for clip %s within %s", clip, timeout)
	return nil
}

// waitForChild waits until process pid has a child process named name.
func waitForChild(t *testing.T, pid int, name string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if hasChild(pid, name) {
			return
		}
	}
	t.Fatalf("no %s child of process %d within %s", name, pid, timeout)
}

func hasChild(pid int, name string) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(data)
		open, shut := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || shut < open {
			continue
		}
		fields := strings.Fields(s[shut+1:])
		if len(fields) > 1 && s[open+1:shut] == name && fields[1] == strconv.Itoa(pid) {
			return true
		}
	}
	return false
}
