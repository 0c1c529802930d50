package worker

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"parley/media"
)

func TestEnqueueProcessingIsIdempotent(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", db: dbFailure})
	ctx := context.Background()
	for range 2 {
		if err := e.q.EnqueueProcessing(ctx, "clip1"); err != nil {
			t.Fatalf("EnqueueProcessing: %v", err)
		}
	}
	if err := e.q.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	e.wantState("transcode:clip1", asynq.TaskStatePending, 1)
	if err := e.insp.ArchiveTask(QueueMedia, "transcode:clip1"); err != nil {
		t.Fatal(err)
	}
	noInspector := NewQueue(asynq.NewClient(e.redis))
	if err := noInspector.EnqueueProcessing(ctx, "clip1"); err != nil {
		t.Fatalf("EnqueueProcessing without inspector: %v", err)
	}
	e.wantState("transcode:clip1", asynq.TaskStateArchived, 1)
	if err := e.q.EnqueueProcessing(ctx, "clip1"); err != nil {
		t.Fatalf("EnqueueProcessing over an archived copy: %v", err)
	}
	e.wantState("transcode:clip1", asynq.TaskStatePending, 1)
}

// wantState checks a media task's state and that the queue holds n tasks in all.
func (e *env) wantState(id string, state asynq.TaskState, n int) {
	e.t.Helper()
	info, err := e.insp.GetTaskInfo(QueueMedia, id)
	if err != nil {
		e.t.Fatalf("task %s: %v", id, err)
	}
	q, err := e.insp.GetQueueInfo(QueueMedia)
	if err != nil {
		e.t.Fatal(err)
	}
	if info.State != state || q.Size != n {
		e.t.Errorf("task %s is %v in a queue of %d, want %v in a queue of %d", id, info.State, q.Size, state, n)
	}
}

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{0, time.Second, 1100 * time.Millisecond},
		{1, 2 * time.Second, 2200 * time.Millisecond},
		{5, 32 * time.Second, 35200 * time.Millisecond},
		{12, time.Hour, 66 * time.Minute},
		{40, time.Hour, 66 * time.Minute},
	}
	for _, tt := range tests {
		for range 20 {
			if d := RetryDelay(tt.n, nil, nil); d < tt.min || d > tt.max {
				t.Errorf("RetryDelay(%d) = %v, want within [%v, %v]", tt.n, d, tt.min, tt.max)
			}
		}
	}
}

func TestComplete(t *testing.T) {
	video := media.MediaKeys{MP4: "m", Poster: "p", Storyboard: "s"}
	withWave := video
	withWave.Waveform, withWave.WaveformImage = "w", "wi"
	tests := []struct {
		name     string
		kind     media.ClipKind
		keys     media.MediaKeys
		hasAudio bool
		want     bool
	}{
		{"silent video", media.KindVideo, video, false, true},
		{"video waiting for waveform", media.KindVideo, video, true, false},
		{"video with waveform", media.KindVideo, withWave, true, true},
		{"video without poster", media.KindVideo, media.MediaKeys{MP4: "m", Storyboard: "s"}, false, false},
		{"voice waiting for waveform", media.KindAudio, media.MediaKeys{Audio: "a"}, true, false},
		{"voice with waveform", media.KindAudio, media.MediaKeys{Audio: "a", Waveform: "w", WaveformImage: "wi"}, true, true},
		{"voice without audio rendition", media.KindAudio, media.MediaKeys{Waveform: "w", WaveformImage: "wi"}, true, false},
	}
	for _, tt := range tests {
		c := &media.Clip{Kind: tt.kind, Media: tt.keys}
		if got := complete(c, tt.hasAudio); got != tt.want {
			t.Errorf("%s: complete = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEventID(t *testing.T) {
	got := []string{
		EventID(media.EventClipReady, "a"), EventID(media.EventClipReady, "a"),
		EventID(media.EventClipReady, "b"), EventID(media.EventThreadReply, "a"),
	}
	if got[0] != got[1] {
		t.Errorf("same event, different ids: %s %s", got[0], got[1])
	}
	if got[0] == got[2] || got[0] == got[3] || got[2] == got[3] {
		t.Errorf("different events share an id: %v", got)
	}
	if diff := cmp.Diff(len("evt_")+32, len(got[0])); diff != "" {
		t.Errorf("id length (-want +got):\n%s", diff)
	}
}
