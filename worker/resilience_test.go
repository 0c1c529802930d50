package worker

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/media"
)

func TestFlushedRedisIsReconciled(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", db: dbFlush})
	e.svc.ReconcileAfter = time.Second
	e.startServer(time.Second)
	clips := []*media.Clip{
		e.processingClip("video.webm", media.KindVideo, ""),
		e.processingClip("voice.webm", media.KindAudio, ""),
		e.processingClip("video.webm", media.KindVideo, ""),
	}
	waitFor(t, "the first clip to be transcoded", func() bool {
		c, err := e.store.GetClip(context.Background(), clips[0].ID)
		return err != nil || c.Media.MP4 != "" || c.Terminal()
	})
	e.flushRedis() // Redis loses every queued task while work is pending
	e.runPeriodic(time.Second)
	for _, c := range clips {
		if got := e.waitTerminal(c.ID); got.Status != media.StatusReady {
			t.Errorf("clip %s: status %s (%s), want ready", c.ID, got.Status, got.Reason)
		}
	}
	// Work never enqueued at all is found by the periodic reconcile task.
	lost := e.clip(clipSpec{fixture: "voice.webm", kind: media.KindAudio, status: media.StatusProcessing})
	if got := e.waitTerminal(lost.ID); got.Status != media.StatusReady {
		t.Errorf("lost clip: status %s (%s), want ready", got.Status, got.Reason)
	}
}

// runPeriodic runs RunPeriodic until the test ends.
func (e *env) runPeriodic(every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		RunPeriodic(ctx, e.deps, e.q, every)
	}()
	e.t.Cleanup(func() { cancel(); <-done })
}

func TestWorkerKilledMidTranscode(t *testing.T) {
	e := newEnv(t, envOptions{store: "postgres", blobs: "localfs", db: dbPipeline})
	secret := NewWebhookSecret()
	rcv := newReceiver(t, secret)
	hook := e.webhook(rcv.srv.URL, secret)
	kill := e.startServer(10 * time.Millisecond)
	c := e.processingClip("long.webm", media.KindVideo, "")
	waitFor(t, "ffmpeg to start writing the MP4", func() bool { return e.writingMP4() })
	kill() // the worker dies: its task goes back to the queue, its ffmpeg is cancelled
	if got, _ := e.store.GetClip(context.Background(), c.ID); got.Status != media.StatusProcessing {
		t.Fatalf("clip is %s after the kill, want still processing (fixture too short?)", got.Status)
	}
	e.startServer(time.Second)
	if got := e.waitTerminal(c.ID); got.Status != media.StatusReady {
		t.Fatalf("clip status %s (%s), want ready", got.Status, got.Reason)
	}
	readyID := EventID(media.EventClipReady, c.ID)
	waitFor(t, "the clip.ready delivery", func() bool { return e.queueEmpty(QueueEvents) && len(rcv.requests()) >= 2 })
	ids := map[string]bool{}
	for _, r := range rcv.requests() {
		if r.Type != media.EventClipReady || r.Subject != c.ID {
			t.Errorf("unexpected delivery %+v", r)
		}
		ids[r.ID] = true
	}
	if len(ids) != 1 || !ids[readyID] {
		t.Errorf("clip.ready arrived under ids %v, want only %s", ids, readyID)
	}
	e.checkAttempts(readyID, hook.ID, []int{500, 204})
}

// writingMP4 reports whether a transcode in the worker's temp dir has begun its MP4.
func (e *env) writingMP4() bool {
	m, _ := filepath.Glob(filepath.Join(e.tempDir, "transcode-*", "video.mp4"))
	for _, p := range m {
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			return true
		}
	}
	return false
}

// The embedded default runs asynq on miniredis: every task type must work there too.
func TestEmbeddedMiniredis(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", miniredis: true})
	secret := NewWebhookSecret()
	rcv := newReceiver(t, secret)
	e.webhook(rcv.srv.URL, secret)
	root := e.clip(clipSpec{kind: media.KindVideo, status: media.StatusReady})
	e.startServer(time.Second)
	e.runPeriodic(time.Second)
	reply := e.processingClip("voice.webm", media.KindAudio, root.ID)
	if got := e.waitTerminal(reply.ID); got.Status != media.StatusReady {
		t.Fatalf("clip status %s (%s), want ready", got.Status, got.Reason)
	}
	waitFor(t, "clip.ready and thread.reply deliveries", func() bool { return len(rcv.requests()) >= 4 && e.queueEmpty(QueueEvents) })
	if n := e.getThread().ReplyCount; n != 1 {
		t.Errorf("reply count %d, want 1", n)
	}
}
