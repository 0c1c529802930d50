package rtc

import (
	"math"
	"testing"

	"parley/media"
)

// TestRecordVideo records the 5 s VP8/Opus clip and checks the stored original.
func TestRecordVideo(t *testing.T) {
	for _, trickle := range []bool{false, true} {
		t.Run(map[bool]string{false: "candidates in offer", true: "trickle"}[trickle], func(t *testing.T) {
			e := newEnv(t, Config{})
			clip, stats, sent := record(t, e, PublisherOptions{Trickle: trickle}, testClip(t, true))
			t.Logf("sent video %d audio %d; tracks %+v", sent[0], sent[1], stats)
			checkOriginal(t, e, clip, media.KindVideo, sent)
		})
	}
}

// TestRecordVoice records audio only: a voice clip.
func TestRecordVoice(t *testing.T) {
	e := newEnv(t, Config{})
	clip, _, sent := record(t, e, PublisherOptions{}, testClip(t, false))
	checkOriginal(t, e, clip, media.KindAudio, sent)
	if got := probe(t, e.original(t, clip), "-show_entries", "stream=codec_type"); got != "audio" {
		t.Errorf("streams = %q, want audio only", got)
	}
}

func checkOriginal(t *testing.T, e *env, clip *media.Clip, kind media.ClipKind, sent [2]int) {
	t.Helper()
	if clip.Status != media.StatusProcessing || clip.Kind != kind || clip.Interrupted {
		t.Errorf("clip status %s kind %s interrupted %v, want processing %s false", clip.Status, clip.Kind, clip.Interrupted, kind)
	}
	path := e.original(t, clip)
	if errs := decodeErrors(t, path); errs != "" {
		t.Errorf("decoding the original reports:\n%s", errs)
	}
	d := probeFloat(t, path, "-show_entries", "format=duration")
	if math.Abs(d-5) > 0.1 {
		t.Errorf("original duration %.3f s, want 5 s ± 100 ms", d)
	}
	if math.Abs(float64(clip.DurationMS)-5000) > 100 {
		t.Errorf("clip duration %d ms, want 5000 ± 100", clip.DurationMS)
	}
	if kind == media.KindVideo {
		if got := countFrames(t, path, "v:0"); got != sent[0] {
			t.Errorf("original has %d video frames, sent %d", got, sent[0])
		}
		if clip.Width != 320 || clip.Height != 240 {
			t.Errorf("clip size %dx%d, want 320x240", clip.Width, clip.Height)
		}
	}
	if got := countFrames(t, path, "a:0"); got != sent[1] {
		t.Errorf("original has %d audio frames, sent %d", got, sent[1])
	}
}
