package rtc

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"parley/media"
)

// TestRecover abandons a recording midway (its spool copied as a dead process leaves it), then
// a new ingest on that spool uploads it and finishes the clip as interrupted.
func TestRecover(t *testing.T) {
	e := newEnv(t, Config{})
	p, res := publish(t, e, PublisherOptions{}, true)
	c := testClip(t, true)
	sent := Clip{Video: c.Video[:120], Audio: c.Audio[:200]} // 4 s
	if _, _, err := p.Send(context.Background(), sent); err != nil {
		t.Fatal(err)
	}
	s, _ := e.ing.session(res.SessionID)
	settle(len(sent.Video)+len(sent.Audio), s)
	waitSidecar(t, e, res.ClipID, 3000)
	dead := t.TempDir()
	if out, err := exec.Command("cp", "-a", e.cfg.SpoolDir+"/.", dead).CombinedOutput(); err != nil {
		t.Fatalf("copy spool: %v\n%s", err, out)
	}
	// The abandoned ingest must not finish the clip itself: drop its session unfinalized.
	e.ing.forget(res.SessionID)

	next := newIngest(t, e, Config{SpoolDir: dead})
	n, err := next.Recover(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("recover = %d, %v; want 1 clip", n, err)
	}
	clip, err := e.store.GetClip(context.Background(), res.ClipID)
	if err != nil {
		t.Fatal(err)
	}
	if clip.Status != media.StatusProcessing || !clip.Interrupted {
		t.Errorf("recovered clip %s interrupted %v, want processing and interrupted", clip.Status, clip.Interrupted)
	}
	path := e.original(t, clip)
	frames := countFrames(t, path, "v:0")
	if frames < len(sent.Video)-60 { // at most the last two seconds lost
		t.Errorf("recovered original decodes %d video frames of %d recorded", frames, len(sent.Video))
	}
	if d := probeFloat(t, path, "-show_entries", "format=duration"); d < 2 {
		t.Errorf("recovered original lasts %.3f s, want ≥ 2 s of the 4 s recorded", d)
	}
	if left, _ := filepath.Glob(filepath.Join(dead, "*")); len(left) != 0 {
		t.Errorf("spool not cleaned after recovery: %v", left)
	}
	s.pc.Close()
}

// waitSidecar waits until the sidecar of a clip records at least ms of media.
func waitSidecar(t testing.TB, e *env, clipID string, ms int64) {
	t.Helper()
	for range 50 {
		sc, err := readSidecar(sidecarPath(e.cfg.SpoolDir, clipID))
		if err == nil && sc.DurationMS >= ms {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("sidecar of %s never reached %d ms", clipID, ms)
}
