package worker

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"parley/media"
)

func TestReplyCountedOnce(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", db: dbReplies})
	root := e.clip(clipSpec{kind: media.KindVideo, status: media.StatusReady})
	before := e.getThread()
	e.startServer(time.Second)
	reply := e.processingClip("voice.webm", media.KindAudio, root.ID)
	if got := e.waitTerminal(reply.ID); got.Status != media.StatusReady {
		t.Fatalf("reply status %s (%s), want ready", got.Status, got.Reason)
	}
	waitFor(t, "the thread:reply task", func() bool { return e.getThread().ReplyCount > 0 && e.queueEmpty(QueueEvents) })
	e.checkEvent(media.EventThreadReply, reply.ID)

	// asynq delivers at least once: the same task twice more must not count again.
	ids := []string{e.enqueueRaw(TypeThreadReply, reply.ID), e.enqueueRaw(TypeThreadReply, reply.ID)}
	e.waitCompleted(QueueEvents, ids...)
	after := e.getThread()
	if after.ReplyCount != before.ReplyCount+1 {
		t.Errorf("reply count %d, want %d", after.ReplyCount, before.ReplyCount+1)
	}
	if !after.LastActivityAt.After(before.LastActivityAt) {
		t.Errorf("last activity %v did not move past %v", after.LastActivityAt, before.LastActivityAt)
	}
}

func TestTranscodeTwiceReadyOnce(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", db: dbReplies})
	secret := NewWebhookSecret()
	rcv := newReceiver(t, secret)
	e.webhook(rcv.srv.URL, secret)
	e.startServer(time.Second)
	c := e.processingClip("voice.webm", media.KindAudio, "")
	first := e.waitTerminal(c.ID)
	ids := []string{e.enqueueRaw(TypeTranscode, c.ID), e.enqueueRaw(TypeWaveform, c.ID)}
	e.waitCompleted(QueueMedia, ids...)
	waitFor(t, "deliveries", func() bool { return e.queueEmpty(QueueEvents) && len(rcv.requests()) >= 2 })
	got, err := e.store.GetClip(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != media.StatusReady || got.Version != first.Version {
		t.Errorf("after repeated tasks: status %s version %d, want ready version %d", got.Status, got.Version, first.Version)
	}
	if n := len(rcv.requests()); n != 2 { // the first answer is a 500, the retry succeeds
		t.Errorf("receiver got %d requests, want 2: %+v", n, rcv.requests())
	}
}

// enqueueRaw enqueues a clip task without a task ID (as a duplicate delivery would arrive),
// kept after completion so the test can see it finish. It returns the task ID.
func (e *env) enqueueRaw(typ, clipID string) string {
	e.t.Helper()
	b, _ := json.Marshal(ClipPayload{clipID})
	queue := QueueMedia
	if typ == TypeThreadReply {
		queue = QueueEvents
	}
	c := asynq.NewClient(e.redis)
	defer c.Close()
	info, err := c.Enqueue(asynq.NewTask(typ, b), asynq.Queue(queue), asynq.Retention(time.Hour))
	if err != nil {
		e.t.Fatalf("enqueue %s: %v", typ, err)
	}
	return info.ID
}

// waitCompleted waits until tasks completed, and fails if one was archived.
func (e *env) waitCompleted(queue string, ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		waitFor(e.t, "task "+id, func() bool {
			info, err := e.insp.GetTaskInfo(queue, id)
			if err == nil && info.State == asynq.TaskStateArchived {
				e.t.Fatalf("task %s archived: %s", id, info.LastErr)
			}
			return err == nil && info.State == asynq.TaskStateCompleted
		})
	}
}

func (e *env) getThread() *media.Thread {
	e.t.Helper()
	th, err := e.store.GetThread(context.Background(), e.thread.ID)
	if err != nil {
		e.t.Fatalf("get thread: %v", err)
	}
	return th
}
