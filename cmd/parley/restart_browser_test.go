package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// iceState is what the recorder page's parleyRecorder.ice() reports.
type iceState struct {
	ETag      string `json:"etag"`
	Local     string `json:"local"`
	Remote    string `json:"remote"`
	Transport string `json:"transport"`
	State     string `json:"state"`
}

// restartResult is what the page reports right after parleyRecorder.restartIce().
type restartResult struct {
	OK       bool
	Restarts string
	Status   string
	Error    string
}

// TestBrowserICERestart records with the camera and, mid-recording, makes the page do what its
// connection watcher does after a network drop: an ICE restart over WHIP PATCH. The recording
// must carry on as the same clip and cover the whole time.
func TestBrowserICERestart(t *testing.T) {
	fx := makeBrowserFixture(t)
	in := MustStart(t, nil)
	ctx := newBrowser(t, fx)
	startCameraRecording(t, ctx, in)
	began := time.Now()
	before := eval[string](t, ctx, `document.body.dataset.clipId`)
	first := eval[iceState](t, ctx, `window.parleyRecorder.ice()`)
	time.Sleep(2 * time.Second)
	res := eval[restartResult](t, ctx, `(async () => {
		const ok = await window.parleyRecorder.restartIce();
		return { OK: ok, Restarts: document.body.dataset.iceRestarts, Status: document.getElementById('status').textContent,
			Error: document.getElementById('error').textContent };
	})()`)
	if (res != restartResult{OK: true, Restarts: "1", Status: "Reconnected.", Error: ""}) {
		t.Fatalf("ICE restart: page reports %+v, want a successful restart", res)
	}
	checkNewICE(t, ctx, first)
	time.Sleep(time.Until(began.Add(5 * time.Second)))
	browse(t, ctx, "stop recording", chromedp.Click(button("Stop recording")))
	recorded := time.Since(began)
	waitFor(t, ctx, "review", `document.body.dataset.state === 'review'`, 30*time.Second)
	if after := eval[string](t, ctx, `document.body.dataset.clipId`); after != before {
		t.Errorf("clip id %q after the restart, %q before; want the same clip", after, before)
	}
	checkOnlyClip(t, in, before, recorded)
	noProblems(t, ctx, "recorder")
}

// startCameraRecording opens a new recorder link and starts recording with the camera.
func startCameraRecording(t *testing.T, ctx context.Context, in *instance) {
	browse(t, ctx, "open recorder", chromedp.Navigate(newRecorderLink(t, in)))
	waitFor(t, ctx, "mode choice", `document.body.dataset.state === 'choose'`, 10*time.Second)
	browse(t, ctx, "choose Camera", chromedp.Click(button("Camera")))
	waitFor(t, ctx, "preview", `document.body.dataset.state === 'preview' && document.getElementById('status').textContent.startsWith('Ready')`, 20*time.Second)
	browse(t, ctx, "start recording", chromedp.Click(button("Start recording")))
	waitFor(t, ctx, "recording", `document.body.dataset.state === 'recording'`, 30*time.Second)
}

// checkNewICE expects new credentials on both sides, a new ETag, and the transport in use on
// the new local credentials.
func checkNewICE(t *testing.T, ctx context.Context, first iceState) {
	t.Helper()
	waitFor(t, ctx, "the transport on the new credentials", `window.parleyRecorder.ice().then((s) => s.transport === s.local)`, 10*time.Second)
	now := eval[iceState](t, ctx, `window.parleyRecorder.ice()`)
	t.Logf("ICE before %+v, after %+v", first, now)
	if now.ETag == "" || now.ETag == first.ETag || now.Local == first.Local || now.Remote == first.Remote {
		t.Errorf("ICE after the restart %+v, before %+v; want new credentials and a new ETag", now, first)
	}
}

// checkOnlyClip expects id to be the only clip of its thread, with an original that lasts
// the whole recording and decodes cleanly.
func checkOnlyClip(t *testing.T, in *instance, id string, recorded time.Duration) {
	t.Helper()
	c, _ := clipAfterStop(t, in, id, false)
	var th struct{ Clips []clipJSON }
	if code := in.Do(t, "GET", "/api/v1/threads/"+c.ThreadID, nil, &th); code != 200 || len(th.Clips) != 1 || th.Clips[0].ID != id {
		t.Fatalf("GET thread %s = %d with %d clips, want only clip %s", c.ThreadID, code, len(th.Clips), id)
	}
	if c.Media.Original == nil {
		t.Fatalf("clip %s has no original", id)
	}
	orig := fetch(t, *c.Media.Original)
	got := ffprobe(t, orig).duration()
	t.Logf("clip %s: recorded for %s, original lasts %s", id, recorded.Round(time.Millisecond), got)
	if got < recorded-500*time.Millisecond {
		t.Errorf("original lasts %s, want ≥ %s (the whole recording)", got, recorded-500*time.Millisecond)
	}
	if errs := decodeErrors(t, orig); errs != "" {
		t.Errorf("original does not decode cleanly (%s):\n%s", keepArtifact(t, orig, id+"-restart-original.webm"), errs)
	}
}
