package worker

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"parley/media"
)

func TestRetentionDeletesOldClips(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			e := &env{t: t, store: openStore(t, store), blobs: openBlobs(t, "localfs")}
			e.deps = Deps{Store: e.store, Blobs: e.blobs, Log: testLogger(t)}
			e.ws, e.thread = e.workspace(7)
			old := e.clip(clipSpec{fixture: "voice.webm", kind: media.KindAudio, status: media.StatusReady, created: time.Now().AddDate(0, 0, -8)})
			e.withRendition(old, "audio.m4a")
			recording := e.clip(clipSpec{kind: media.KindVideo, status: media.StatusRecording, created: time.Now().AddDate(0, 0, -8)})
			recent := e.clip(clipSpec{fixture: "voice.webm", kind: media.KindAudio, status: media.StatusReady, created: time.Now().AddDate(0, 0, -6)})
			keep, _ := e.workspace(0) // keeps clips for ever
			e.ws = keep
			forever := e.clip(clipSpec{fixture: "voice.webm", kind: media.KindAudio, status: media.StatusReady, created: time.Now().AddDate(-1, 0, 0)})

			if err := NewMux(e.deps, nil).ProcessTask(context.Background(), asynq.NewTask(TypeRetention, nil)); err != nil {
				t.Fatalf("retention: %v", err)
			}
			got := map[string]bool{}
			for _, c := range []*media.Clip{old, recording, recent, forever} {
				_, err := e.store.GetClip(context.Background(), c.ID)
				got[c.ID] = err == nil
			}
			want := map[string]bool{old.ID: false, recording.ID: true, recent.ID: true, forever.ID: true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("clips kept (-want +got):\n%s", diff)
			}
			for _, key := range mediaKeys(old.Media) {
				if _, err := e.blobs.Stat(context.Background(), key); !media.IsNotFound(err) {
					t.Errorf("blob %s of a deleted clip: stat err %v, want not found", key, err)
				}
			}
			if _, err := e.blobs.Stat(context.Background(), recent.Media.Original); err != nil {
				t.Errorf("blob of a kept clip: %v", err)
			}
		})
	}
}

// withRendition stores a rendition of a clip (a copy of its original) and records its key.
func (e *env) withRendition(c *media.Clip, name string) {
	e.t.Helper()
	c.Media.Audio = media.RenditionKey(c.ID, name)
	e.putFile(c.Media.Audio, fixture(e.t, "voice.webm"), "audio/mp4")
	_, err := e.store.UpdateClip(context.Background(), c.ID, func(s *media.Clip) error {
		s.Media = c.Media
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestPeriodicTasksOncePerPeriod(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", db: dbFailure})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for range 3 { // three workers tick in the same minute
		enqueuePeriodic(context.Background(), e.q, now, time.Minute, testLogger(t))
	}
	enqueuePeriodic(context.Background(), e.q, now.Add(time.Minute), time.Minute, testLogger(t))
	tasks, err := e.insp.ListPendingTasks(QueueMaintenance)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ti := range tasks {
		got = append(got, ti.ID)
	}
	want := []string{
		"periodic:reconcile:1767323040", "periodic:retention:1767323040",
		"periodic:reconcile:1767323100", "periodic:retention:1767323100",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pending periodic tasks (-want +got):\n%s", diff)
	}
}
