package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"parley/media"
	"parley/media/mediatest"
)

func TestProcessing(t *testing.T) {
	tests := []struct {
		name, store, blobs, fixture string
		kind                        media.ClipKind
	}{
		{"video/sqlite/localfs", "sqlite", "localfs", "video.webm", media.KindVideo},
		{"voice/postgres/localfs", "postgres", "localfs", "voice.webm", media.KindAudio},
		{"video/postgres/localfs", "postgres", "localfs", "video.webm", media.KindVideo},
		{"voice-recorded-as-any/sqlite/localfs", "sqlite", "localfs", "voice.webm", media.KindVideo},
		{"video/sqlite/s3", "sqlite", "s3", "video.webm", media.KindVideo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{store: tt.store, blobs: tt.blobs, db: dbPipeline})
			e.startServer(time.Second)
			c := e.processingClip(tt.fixture, tt.kind, "")
			got := e.waitTerminal(c.ID)
			orig := probeFile(t, fixture(t, tt.fixture))
			wantKind := media.KindAudio
			if orig.HasVideo {
				wantKind = media.KindVideo
			}
			want := wantMedia(c.ID, c.Media.Original, wantKind)
			if diff := cmp.Diff(want, got.Media); diff != "" {
				t.Errorf("media keys (-want +got):\n%s", diff)
			}
			if got.Status != media.StatusReady || got.Kind != wantKind || got.Reason != "" {
				t.Errorf("clip status %s kind %s reason %q, want ready %s with no reason", got.Status, got.Kind, got.Reason, wantKind)
			}
			e.checkRenditions(got, orig.DurationMS)
			e.checkEvent(media.EventClipReady, got.ID)
		})
	}
}

// wantMedia is the full set of renditions of a clip of a kind, at their deterministic keys.
func wantMedia(id, original string, kind media.ClipKind) media.MediaKeys {
	m := media.MediaKeys{
		Original: original, Waveform: media.RenditionKey(id, "waveform.json"),
		WaveformImage: media.RenditionKey(id, "waveform.png"),
	}
	if kind == media.KindAudio {
		m.Audio = media.RenditionKey(id, "audio.m4a")
		return m
	}
	m.MP4, m.Poster = media.RenditionKey(id, "video.mp4"), media.RenditionKey(id, "poster.jpg")
	m.Storyboard, m.StoryboardVTT = media.RenditionKey(id, "storyboard.jpg"), media.RenditionKey(id, "storyboard.vtt")
	return m
}

// checkRenditions looks inside the stored renditions.
func (e *env) checkRenditions(c *media.Clip, origMS int64) {
	e.t.Helper()
	if c.Media.MP4 != "" {
		e.checkMP4(e.fetch(c.Media.MP4), "h264", origMS)
		e.checkVTT(e.fetch(c.Media.StoryboardVTT))
	}
	if c.Media.Audio != "" {
		e.checkMP4(e.fetch(c.Media.Audio), "", origMS)
	}
	e.checkWaveform(c)
	if d := c.DurationMS - origMS; d < -100 || d > 100 {
		e.t.Errorf("clip duration %d ms, original %d ms", c.DurationMS, origMS)
	}
}

// checkMP4 checks codecs, duration (within 100 ms of the original) and faststart.
func (e *env) checkMP4(path, videoCodec string, origMS int64) {
	e.t.Helper()
	p := probeFile(e.t, path)
	if p.VideoCodec != videoCodec || p.AudioCodec != "aac" {
		e.t.Errorf("%s: codecs %q/%q, want %q/aac", path, p.VideoCodec, p.AudioCodec, videoCodec)
	}
	if d := p.DurationMS - origMS; d < -100 || d > 100 {
		e.t.Errorf("%s: duration %d ms, original %d ms", path, p.DurationMS, origMS)
	}
	boxes := mediatest.MP4Boxes(e.t, path)
	if moov, mdat := index(boxes, "moov"), index(boxes, "mdat"); moov < 0 || mdat < 0 || moov > mdat {
		e.t.Errorf("%s: top-level boxes %v, want moov before mdat", path, boxes)
	}
}

func index(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func (e *env) checkVTT(path string) {
	e.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "WEBVTT") || !strings.Contains(string(b), "storyboard.jpg#xywh=") {
		e.t.Errorf("storyboard vtt does not point into the sprite:\n%s", b)
	}
}

// checkWaveform checks the waveform JSON (audiowaveform v2, one channel, data) and PNG.
func (e *env) checkWaveform(c *media.Clip) {
	e.t.Helper()
	b, err := os.ReadFile(e.fetch(c.Media.Waveform))
	if err != nil {
		e.t.Fatal(err)
	}
	var doc struct {
		Version  int   `json:"version"`
		Channels int   `json:"channels"`
		Length   int   `json:"length"`
		Data     []int `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		e.t.Fatalf("waveform json: %v", err)
	}
	if doc.Version != 2 || doc.Channels != 1 || doc.Length == 0 || len(doc.Data) != 2*doc.Length {
		e.t.Errorf("waveform: version %d channels %d length %d data %d", doc.Version, doc.Channels, doc.Length, len(doc.Data))
	}
	img, err := os.ReadFile(e.fetch(c.Media.WaveformImage))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		e.t.Errorf("waveform png: %v", err)
	}
}

// checkEvent checks that the event of a type about a clip was recorded.
func (e *env) checkEvent(eventType, clipID string) *media.Event {
	e.t.Helper()
	ev, err := e.store.GetEvent(context.Background(), EventID(eventType, clipID))
	if err != nil {
		e.t.Fatalf("%s event of clip %s: %v", eventType, clipID, err)
	}
	var body struct {
		Type string `json:"type"`
		Data struct {
			ID     string `json:"id"`      // clip events
			ClipID string `json:"clip_id"` // thread events
		} `json:"data"`
	}
	err = json.Unmarshal(ev.Payload, &body)
	if err != nil || body.Type != eventType || body.Data.ID+body.Data.ClipID != clipID {
		e.t.Errorf("event payload %s (err %v), want type %s about clip %s", ev.Payload, err, eventType, clipID)
	}
	return ev
}

func TestCorruptOriginalFailsWithoutRetry(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", db: dbFailure})
	e.startServer(time.Second)
	c := e.processingClip("corrupt.webm", media.KindVideo, "")
	got := e.waitTerminal(c.ID)
	if got.Status != media.StatusFailed || got.Reason == "" {
		t.Fatalf("clip status %s reason %q, want failed with a reason", got.Status, got.Reason)
	}
	if got.Media.MP4 != "" || got.Media.Waveform != "" {
		t.Errorf("failed clip has renditions: %+v", got.Media)
	}
	e.checkEvent(media.EventClipFailed, c.ID)
	var info *asynq.TaskInfo
	waitFor(t, "the transcode task to be archived", func() bool {
		var err error
		info, err = e.insp.GetTaskInfo(QueueMedia, "transcode:"+c.ID)
		return err == nil && info.State == asynq.TaskStateArchived
	})
	if info.Retried != 0 {
		t.Errorf("task retried %d times, want 0 (permanent failure)", info.Retried)
	}
}

func TestMissingOriginalFails(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", db: dbFailure})
	e.startServer(time.Second)
	none := e.processingClip("", media.KindVideo, "")
	absent := e.clip(clipSpec{kind: media.KindVideo, status: media.StatusProcessing})
	_, err := e.store.UpdateClip(context.Background(), absent.ID, func(c *media.Clip) error {
		c.Media.Original = media.OriginalKey(c.ID, "webm") // recorded, but never stored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.q.EnqueueProcessing(context.Background(), absent.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*media.Clip{none, absent} {
		if got := e.waitTerminal(c.ID); got.Status != media.StatusFailed || got.Reason != missingReason {
			t.Errorf("clip status %s reason %q, want failed: %s", got.Status, got.Reason, missingReason)
		}
	}
}

func TestRetriesExhaustedFailClip(t *testing.T) {
	e := newEnv(t, envOptions{store: "sqlite", blobs: "localfs", db: dbFailure})
	e.deps.TempDir = filepath.Join(e.tempDir, "absent") // every attempt fails to make its scratch dir
	e.startServer(time.Second)
	c := e.clip(clipSpec{fixture: "voice.webm", kind: media.KindAudio, status: media.StatusProcessing})
	b, _ := json.Marshal(ClipPayload{c.ID})
	client := asynq.NewClient(e.redis)
	defer client.Close()
	info, err := client.Enqueue(asynq.NewTask(TypeTranscode, b), asynq.Queue(QueueMedia), asynq.MaxRetry(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.waitTerminal(c.ID); got.Status != media.StatusFailed || got.Reason != repeatedReason {
		t.Errorf("clip status %s reason %q, want failed: %s", got.Status, got.Reason, repeatedReason)
	}
	waitFor(t, "the task to be archived", func() bool {
		ti, err := e.insp.GetTaskInfo(QueueMedia, info.ID)
		return err == nil && ti.State == asynq.TaskStateArchived && ti.Retried == 1
	})
}
