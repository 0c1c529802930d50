package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"parley/web"
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

// TestBrowserICERestart records with the camera and, mid-recording, twice makes the page do
// what its connection watcher does after a network drop: an ICE restart over WHIP PATCH. The
// second restart succeeds only with the ETag of the first one's answer. The recording must
// carry on as the same clip, cover the whole time and keep audio and video together. (A
// restart 2 s in takes Chromium's first audio Sender Report with it, so the audio track is
// placed by the server's arrival-time fallback.)
func TestBrowserICERestart(t *testing.T) {
	fx := makeBrowserFixture(t)
	in := MustStart(t, nil)
	ctx := newBrowser(t, fx)
	startCameraRecording(t, ctx, in)
	began := time.Now()
	before := eval[string](t, ctx, `document.body.dataset.clipId`)
	ice := eval[iceState](t, ctx, `window.parleyRecorder.ice()`)
	for n, at := range []time.Duration{2 * time.Second, 3500 * time.Millisecond} {
		time.Sleep(time.Until(began.Add(at)))
		ice = restartInPage(t, ctx, n+1, ice)
	}
	time.Sleep(time.Until(began.Add(5 * time.Second)))
	browse(t, ctx, "stop recording", chromedp.Click(button("Stop recording")))
	recorded := time.Since(began)
	waitFor(t, ctx, "review", `document.body.dataset.state === 'review'`, 30*time.Second)
	if after := eval[string](t, ctx, `document.body.dataset.clipId`); after != before {
		t.Errorf("clip id %q after the restarts, %q before; want the same clip", after, before)
	}
	checkOnlyClip(t, in, before, recorded)
	noProblems(t, ctx, "recorder")
}

// restartInPage runs the page's ICE restart, expects it to be the page's nth success, and
// returns the new ICE state.
func restartInPage(t *testing.T, ctx context.Context, n int, prev iceState) iceState {
	t.Helper()
	res := eval[restartResult](t, ctx, `(async () => {
		const ok = await window.parleyRecorder.restartIce();
		return { OK: ok, Restarts: document.body.dataset.iceRestarts, Status: document.getElementById('status').textContent,
			Error: document.getElementById('error').textContent };
	})()`)
	if want := (restartResult{OK: true, Restarts: strconv.Itoa(n), Status: "Reconnected.", Error: ""}); res != want {
		t.Fatalf("ICE restart %d: page reports %+v, want %+v", n, res, want)
	}
	return checkNewICE(t, ctx, prev)
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
// the new local credentials. It returns the new state.
func checkNewICE(t *testing.T, ctx context.Context, first iceState) iceState {
	t.Helper()
	waitFor(t, ctx, "the transport on the new credentials", `window.parleyRecorder.ice().then((s) => s.transport === s.local)`, 10*time.Second)
	now := eval[iceState](t, ctx, `window.parleyRecorder.ice()`)
	t.Logf("ICE before %+v, after %+v", first, now)
	if now.ETag == "" || now.ETag == first.ETag || now.Local == first.Local || now.Remote == first.Remote {
		t.Errorf("ICE after the restart %+v, before %+v; want new credentials and a new ETag", now, first)
	}
	return now
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
	if d := startSkew(t, orig); d > 250*time.Millisecond || d < -250*time.Millisecond {
		t.Errorf("audio starts %s after video in the original (%s), want them together", d, keepArtifact(t, orig, id+"-restart-original.webm"))
	}
	if errs := decodeErrors(t, orig); errs != "" {
		t.Errorf("original does not decode cleanly (%s):\n%s", keepArtifact(t, orig, id+"-restart-original.webm"), errs)
	}
}

// startSkew is how much later the audio stream of a file starts than its video stream.
func startSkew(t testing.TB, path string) time.Duration {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe streams of %s: %v", path, err)
	}
	var p struct {
		Streams []struct {
			Type  string `json:"codec_type"`
			Start string `json:"start_time"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("decode ffprobe output %q: %v", out, err)
	}
	start := map[string]float64{}
	for _, s := range p.Streams {
		v, err := strconv.ParseFloat(s.Start, 64)
		if err != nil {
			t.Fatalf("%s stream start %q: %v", s.Type, s.Start, err)
		}
		start[s.Type] = v
	}
	if len(start) != 2 {
		t.Fatalf("original streams %v, want audio and video", start)
	}
	return time.Duration((start["audio"] - start["video"]) * float64(time.Second))
}

// TestBrowserRestartSDP runs the recorder's ICE restart SDP helpers in the browser: the
// server's frag rewrites the answer in use, and an offer becomes a frag the server accepts.
func TestBrowserRestartSDP(t *testing.T) {
	in := MustStart(t, nil)
	ctx := newBrowser(t, makeBrowserFixture(t))
	browse(t, ctx, "open a page", chromedp.Navigate(in.BaseURL+"/r/rl_none"))
	const (
		old = "v=0\r\no=- 123 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
			"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:oldu\r\na=ice-pwd:oldpasswordoldpassword\r\na=mid:0\r\n" +
			"a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n" +
			"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:oldu\r\na=ice-pwd:oldpasswordoldpassword\r\na=mid:1\r\n"
		frag = "a=ice-ufrag:newu\r\na=ice-pwd:newpasswordnewpassword\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n" +
			"a=candidate:2 1 udp 2130706431 127.0.0.1 6000 typ host\r\na=end-of-candidates\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
		want = "v=0\r\no=- 123 3 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
			"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:newu\r\na=ice-pwd:newpasswordnewpassword\r\na=mid:0\r\n" +
			"a=candidate:2 1 udp 2130706431 127.0.0.1 6000 typ host\r\na=end-of-candidates\r\n" +
			"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:newu\r\na=ice-pwd:newpasswordnewpassword\r\na=mid:1\r\n"
	)
	whip := `const whip = await import('` + web.StaticPrefix() + `whip.js');`
	got := eval[string](t, ctx, `(async () => { `+whip+` return whip.restartAnswer(`+jsString(old)+`, `+jsString(frag)+`); })()`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restartAnswer (-want +got):\n%s", diff)
	}
	offer := eval[string](t, ctx, `(async () => { `+whip+`
		const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
		pc.addTransceiver('audio', { direction: 'sendonly' });
		pc.addTransceiver('video', { direction: 'sendonly' });
		await pc.setLocalDescription(await pc.createOffer());
		await new Promise((r) => { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 3000); });
		const f = whip.offerFrag(pc.localDescription.sdp);
		pc.close();
		return f; })()`)
	lines := strings.Split(strings.TrimSuffix(offer, "\r\n"), "\r\n")
	if len(lines) < 8 || !strings.HasPrefix(lines[0], "a=ice-ufrag:") || !strings.HasPrefix(lines[1], "a=ice-pwd:") ||
		!strings.HasPrefix(lines[2], "m=audio ") || lines[3] != "a=mid:0" || !strings.Contains(offer, "\r\na=mid:1\r\n") ||
		!strings.HasPrefix(lines[4], "a=candidate:") {
		t.Errorf("offerFrag of a Chromium offer:\n%s\nwant credentials, then m=, a=mid and candidates per section", offer)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
