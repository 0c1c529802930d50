package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"

	"parley/media/mediatest"
	"parley/web"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "keep the browser test's screenshots in testdata/screenshots")

// recordFor is how long the browser tests record.
const recordFor = 5 * time.Second

// problemsScript runs before any page script and collects what a page must not cause:
// exceptions, rejected promises, failed resources and Content-Security-Policy violations.
const problemsScript = `window.__problems = [];
addEventListener('securitypolicyviolation', (e) => __problems.push('CSP ' + e.violatedDirective + ' blocked ' + e.blockedURI));
addEventListener('error', (e) => __problems.push(e.message ? 'error ' + e.message : 'failed ' + (e.target.src || e.target.href || e.target.tagName)), true);
addEventListener('unhandledrejection', (e) => __problems.push('rejection ' + ((e.reason && e.reason.message) || e.reason)));`

// audioFixture is a speech-like test signal: rising tones in bursts. Browsers' noise
// suppression removes a steady tone, leaving a voice recording of near silence.
const audioFixture = "aevalsrc=0.7*sin(2*PI*(220+440*mod(t\\,0.5))*t)*lt(mod(t\\,0.5)\\,0.35):s=48000"

// browserFixture is what the fake camera and microphone play: a test pattern and a tone.
type browserFixture struct{ video, audio string }

func makeBrowserFixture(t testing.TB) browserFixture {
	t.Helper()
	dir := t.TempDir()
	fx := browserFixture{video: filepath.Join(dir, "camera.y4m"), audio: filepath.Join(dir, "microphone.wav")}
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "2", "-pix_fmt", "yuv420p", fx.video)
	runFFmpeg(t, "-f", "lavfi", "-i", audioFixture, "-t", "4", "-ac", "1", fx.audio)
	return fx
}

// newBrowser starts headless Chromium with fake capture devices fed from fx (extra options
// override the defaults). Its first
// action runs here, on a context without a deadline (a deadline would end the browser).
func newBrowser(t testing.TB, fx browserFixture, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	chrome := mediatest.Require(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.Flag("headless", "new"), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 860),
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", fx.video), chromedp.Flag("use-file-for-fake-audio-capture", fx.audio),
		chromedp.Flag("allow-loopback-in-peer-connection", true), chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate"),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: problemsScript}); err != nil {
		t.Fatalf("install problem collector: %v", err)
	}
	return ctx
}

// browse runs steps with a deadline; the browser itself lives on.
func browse(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (promises awaited) and decodes its value.
func eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it holds; on timeout it reports the page state.
func waitFor(t testing.TB, ctx context.Context, what, predicate string, timeout time.Duration) {
	t.Helper()
	pctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(pctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		state := eval[string](t, ctx, `JSON.stringify({state: document.body.dataset.state, status: (document.getElementById('status') || {}).textContent, error: (document.getElementById('error') || {}).textContent, problems: window.__problems})`)
		t.Fatalf("waiting for %s: %v; page: %s", what, err, state)
	}
}

// button selects a visible button by its accessible text.
func button(name string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf("//button[normalize-space(.)=%q]", name))
}

// noProblems fails the test if the page reported exceptions, failed loads or CSP violations.
func noProblems(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	if p := eval[[]string](t, ctx, `window.__problems || []`); len(p) > 0 {
		t.Errorf("%s page problems: %q", page, p)
	}
}

// screenshotDir is where screenshots go: $PARLEY_ARTIFACTS/screenshots, testdata/screenshots
// with -update-screenshots, else a temporary directory.
func screenshotDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if d := os.Getenv("PARLEY_ARTIFACTS"); d != "" {
		dir = filepath.Join(d, "screenshots")
	} else if *updateScreenshots {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	return dir
}

// keepArtifact copies a file into $PARLEY_ARTIFACTS for a failure to be looked at; it
// returns where the file is.
func keepArtifact(t testing.TB, path, name string) string {
	t.Helper()
	dir := os.Getenv("PARLEY_ARTIFACTS")
	if dir == "" {
		return path + " (set PARLEY_ARTIFACTS to keep it)"
	}
	data, err := os.ReadFile(path)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	if err != nil {
		t.Errorf("keep %s: %v", path, err)
	}
	return filepath.Join(dir, name)
}

func screenshot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
}

// newRecorderLink creates a thread and a recorder link into it; it returns the link's URL.
func newRecorderLink(t testing.TB, in *instance) string {
	t.Helper()
	var th struct{ ID string }
	if code := in.Do(t, "POST", "/api/v1/threads", map[string]string{"title": "browser"}, &th); code != 201 {
		t.Fatalf("create thread = %d", code)
	}
	var link struct{ URL string }
	if code := in.Do(t, "POST", "/api/v1/recorder-links", map[string]any{"thread_id": th.ID, "kind": "any", "max_duration_s": 60}, &link); code != 201 {
		t.Fatalf("create recorder link = %d", code)
	}
	return link.URL
}

func TestBrowser(t *testing.T) {
	fx := makeBrowserFixture(t)
	in := MustStart(t, nil)
	ctx := newBrowser(t, fx)
	shots := screenshotDir(t)
	t.Logf("screenshots in %s", shots)
	var videoClip string
	t.Run("camera", func(t *testing.T) {
		videoClip = recordInBrowser(t, ctx, in, shots, browserRecording{mode: "Camera", kind: "video", ready: true})
	})
	t.Run("voice", func(t *testing.T) {
		id := recordInBrowser(t, ctx, in, shots, browserRecording{mode: "Voice only", kind: "audio", ready: true, again: true})
		checkWaveformDrawn(t, ctx, in, shots, id)
	})
	t.Run("screen", func(t *testing.T) {
		recordInBrowser(t, ctx, in, shots, browserRecording{mode: "Screen", kind: "video"})
	})
	t.Run("embed plays and seeks", func(t *testing.T) {
		if videoClip == "" {
			t.Skip("no video clip recorded")
		}
		checkEmbedPlays(t, ctx, in, shots, videoClip)
	})
	t.Run("whip helpers", func(t *testing.T) {
		checkWHIPHelpers(t, ctx, in)
	})
	t.Run("permission denied", func(t *testing.T) {
		checkPermissionDenied(t, fx, in, shots)
	})
}

// checkPermissionDenied expects the recorder to explain, not record, when a browser (one
// whose capture prompts answer no) refuses the camera and microphone.
func checkPermissionDenied(t *testing.T, fx browserFixture, in *instance, shots string) {
	ctx := newBrowser(t, fx, chromedp.Flag("use-fake-ui-for-media-stream", "deny"))
	browse(t, ctx, "open recorder", chromedp.Navigate(newRecorderLink(t, in)))
	browse(t, ctx, "choose Camera", chromedp.Click(button("Camera")))
	waitFor(t, ctx, "the denial message", `document.body.dataset.state === 'choose' && !document.getElementById('error').hidden`, 20*time.Second)
	if msg := eval[string](t, ctx, `document.getElementById('error').textContent`); !strings.HasPrefix(msg, "Access was denied.") {
		t.Errorf("error message %q, want the access-denied explanation", msg)
	}
	screenshot(t, ctx, shots, "recorder-denied")
	noProblems(t, ctx, "recorder")
}

// browserRecording is one recording made through the recorder page.
type browserRecording struct {
	mode  string // the mode button to press
	kind  string // the kind of clip expected
	ready bool   // wait until processing is done too, not only for the original
	again bool   // press "Record again" after the review instead of "Send"
}

// recordInBrowser records for recordFor through the recorder page, sends the clip or records
// again, and checks the clip the server made. It returns the clip id.
func recordInBrowser(t *testing.T, ctx context.Context, in *instance, shots string, r browserRecording) string {
	id, recorded := recordThroughPage(t, ctx, in, shots, r.mode)
	if r.again {
		browse(t, ctx, "record again", chromedp.Click(button("Record again")))
		waitFor(t, ctx, "a new preview", `document.body.dataset.state === 'preview' && !document.getElementById('start').hidden`, 10*time.Second)
	} else {
		sendClip(t, ctx, in, id)
	}
	noProblems(t, ctx, "recorder")
	checkRecordedClip(t, in, id, r, recorded)
	return id
}

// recordThroughPage opens a new recorder link, records in the given mode and stops. It returns
// the clip id the page learnt from WHIP and how long the page was recording.
func recordThroughPage(t *testing.T, ctx context.Context, in *instance, shots, mode string) (string, time.Duration) {
	name := "recorder-" + strings.ToLower(strings.Fields(mode)[0])
	browse(t, ctx, "open recorder", chromedp.Navigate(newRecorderLink(t, in)))
	waitFor(t, ctx, "mode choice", `document.body.dataset.state === 'choose'`, 10*time.Second)
	screenshot(t, ctx, shots, name+"-1-choose")
	browse(t, ctx, "choose "+mode, chromedp.Click(button(mode)))
	waitFor(t, ctx, "preview", `document.body.dataset.state === 'preview' && document.getElementById('status').textContent.startsWith('Ready')`, 20*time.Second)
	screenshot(t, ctx, shots, name+"-2-preview")
	browse(t, ctx, "start recording", chromedp.Click(button("Start recording")))
	waitFor(t, ctx, "recording", `document.body.dataset.state === 'recording'`, 30*time.Second)
	began := time.Now()
	time.Sleep(2 * time.Second)
	screenshot(t, ctx, shots, name+"-3-recording")
	time.Sleep(time.Until(began.Add(recordFor)))
	browse(t, ctx, "stop recording", chromedp.Click(button("Stop recording")))
	recorded := time.Since(began)
	waitFor(t, ctx, "review", `document.body.dataset.state === 'review'`, 30*time.Second)
	screenshot(t, ctx, shots, name+"-4-review")
	if status := eval[string](t, ctx, `document.getElementById('review-player').clip.status`); status != "processing" {
		t.Errorf("clip status at stop = %q, want processing", status)
	}
	return eval[string](t, ctx, `document.body.dataset.clipId`), recorded
}

// sendClip presses Send and expects the clip's share link.
func sendClip(t *testing.T, ctx context.Context, in *instance, id string) {
	browse(t, ctx, "send", chromedp.Click(button("Send")))
	waitFor(t, ctx, "sent", `document.body.dataset.state === 'sent'`, 10*time.Second)
	if link := eval[string](t, ctx, `document.getElementById('share-link').href`); link != in.BaseURL+"/c/"+id {
		t.Errorf("share link %q, want %s/c/%s", link, in.BaseURL, id)
	}
}

// checkRecordedClip checks the clip's kind, status and original: its length and decoding.
func checkRecordedClip(t *testing.T, in *instance, id string, r browserRecording, recorded time.Duration) {
	t.Helper()
	c, seen := clipAfterStop(t, in, id, r.ready)
	if c.Kind != r.kind || c.Media.Original == nil {
		t.Fatalf("clip %s: kind %s, original %v; want kind %s with an original", id, c.Kind, c.Media.Original, r.kind)
	}
	orig := fetch(t, *c.Media.Original)
	p := ffprobe(t, orig)
	t.Logf("clip %s: recorded for %s, original lasts %s, statuses %v", id, recorded.Round(time.Millisecond), p.duration(), seen)
	if got := p.duration(); !within(got, recorded, time.Second) {
		t.Errorf("original lasts %s, recorded for %s", got, recorded)
	}
	want := map[string]bool{"audio": true, "video": r.kind == "video"}
	for typ, present := range want {
		if _, ok := p.codecs()[typ]; ok != present {
			t.Errorf("original streams %v: %s present = %v, want %v", p.codecs(), typ, ok, present)
		}
	}
	if errs := decodeErrors(t, orig); errs != "" {
		t.Errorf("original does not decode cleanly (%s):\n%s", keepArtifact(t, orig, id+"-original"+filepath.Ext(orig)), errs)
	}
}

// clipAfterStop returns the clip once ready (when ready is set; it must pass through
// processing), or as it is right after the recording stopped.
func clipAfterStop(t *testing.T, in *instance, id string, ready bool) (clipJSON, []string) {
	t.Helper()
	if ready {
		c, seen := waitClip(t, in, id, 2*time.Minute)
		if c.Status != "ready" || (seen[0] != "processing" && seen[0] != "ready") {
			t.Fatalf("clip %s: statuses %v after stop, want processing then ready", id, seen)
		}
		return c, seen
	}
	var c clipJSON
	if code := in.Do(t, "GET", "/api/v1/clips/"+id, nil, &c); code != 200 || (c.Status != "processing" && c.Status != "ready") {
		t.Fatalf("GET clip %s = %d, status %q; want processing or ready", id, code, c.Status)
	}
	return c, []string{c.Status}
}

// playerJS is a JavaScript expression for the page's player element.
const playerJS = `document.querySelector('parley-player')`

func checkEmbedPlays(t *testing.T, ctx context.Context, in *instance, shots, id string) {
	browse(t, ctx, "open share page", chromedp.Navigate(in.BaseURL+"/c/"+id))
	waitFor(t, ctx, "share player", playerJS+`.media && `+playerJS+`.media.readyState >= 1`, 20*time.Second)
	screenshot(t, ctx, shots, "share-video")
	noProblems(t, ctx, "share")
	putCaptions(t, in, id, "WEBVTT\n\n00:00.000 --> 00:04.000\nHello from the captions\n")
	browse(t, ctx, "open embed page", chromedp.Navigate(in.BaseURL+"/embed/"+id))
	waitFor(t, ctx, "embed player", playerJS+`.media && `+playerJS+`.media.readyState >= 2`, 20*time.Second)
	waitFor(t, ctx, "captions shown", `(() => { const tt = `+playerJS+`.media.textTracks;
		return tt.length === 1 && tt[0].mode === 'showing' && tt[0].cues && tt[0].cues.length === 1 &&
			tt[0].cues[0].text === 'Hello from the captions'; })()`, 20*time.Second)
	if src := eval[string](t, ctx, playerJS+`.media.currentSrc`); !strings.Contains(src, "/clips/"+id+"/") || strings.Contains(src, "original") {
		t.Errorf("embed plays %q, want the clip's mp4", src)
	}
	browse(t, ctx, "play with the keyboard", chromedp.Focus(chromedp.CSS("parley-player")), chromedp.KeyEvent(" "))
	waitFor(t, ctx, "playback to advance", playerJS+`.currentTime > 0.5`, 20*time.Second)
	screenshot(t, ctx, shots, "embed-video")
	eval[bool](t, ctx, `(`+playerJS+`.seek(3.5), true)`)
	waitFor(t, ctx, "seek to 3.5 s", `!`+playerJS+`.media.seeking && `+playerJS+`.currentTime >= 3.5`, 20*time.Second)
	browse(t, ctx, "seek back with the keyboard", chromedp.KeyEvent(kb.ArrowLeft))
	waitFor(t, ctx, "seek back", `!`+playerJS+`.media.seeking && `+playerJS+`.currentTime < 3`, 20*time.Second)
	waitFor(t, ctx, "playback after seeking", playerJS+`.currentTime > 0.3 && !`+playerJS+`.media.paused`, 20*time.Second)
	noProblems(t, ctx, "embed")
}

// checkWaveformDrawn opens a voice clip's embed page and checks that the waveform shows the
// fixture's loud bursts (bars reaching the top third of the canvas) and seeks where clicked.
func checkWaveformDrawn(t *testing.T, ctx context.Context, in *instance, shots, id string) {
	browse(t, ctx, "open voice embed", chromedp.Navigate(in.BaseURL+"/embed/"+id))
	drawn := `(() => { const c = ` + playerJS + `.shadowRoot.querySelector('canvas'); if (!c || !c.width) return false;
		const d = c.getContext('2d').getImageData(0, 0, c.width, Math.floor(c.height / 3)).data;
		let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n > 100; })()`
	waitFor(t, ctx, "waveform", drawn, 20*time.Second)
	screenshot(t, ctx, shots, "embed-voice")
	type rect struct{ X, Y, W, H float64 }
	r := eval[rect](t, ctx, `(() => { const b = `+playerJS+`.shadowRoot.querySelector('canvas').getBoundingClientRect();
		return { X: b.left, Y: b.top, W: b.width, H: b.height }; })()`)
	browse(t, ctx, "click 60% into the waveform", chromedp.MouseClickXY(r.X+0.6*r.W, r.Y+r.H/2))
	waitFor(t, ctx, "seek to 60%", `!`+playerJS+`.media.seeking && Math.abs(`+playerJS+`.currentTime - 0.6 * `+playerJS+`.duration) < 0.25`, 10*time.Second)
	noProblems(t, ctx, "voice embed")
}

// checkWHIPHelpers runs the recorder's SDP and Link-header helpers in the browser: the Opus
// NACK line goes into a real offer of this Chromium once, and ICE servers are read from Link.
func checkWHIPHelpers(t *testing.T, ctx context.Context, in *instance) {
	browse(t, ctx, "open a page", chromedp.Navigate(in.BaseURL+"/r/rl_none"))
	type result struct {
		PT      string
		Lines   int
		Same    bool
		Servers []map[string]string
	}
	got := eval[result](t, ctx, `(async () => {
		const whip = await import('`+web.StaticPrefix()+`whip.js');
		const pc = new RTCPeerConnection();
		pc.addTransceiver('audio', { direction: 'sendonly' });
		const offer = (await pc.createOffer()).sdp;
		pc.close();
		const pt = /a=rtpmap:(\d+) opus\/48000/.exec(offer)[1];
		const once = whip.addOpusNack(offer);
		const servers = whip.iceServers(new Headers({ Link: '<stun:stun.example:3478>; rel="ice-server", ' +
			'<https://example.com/x>; rel="next", <turn:turn.example?transport=udp>; rel="ice-server"; username="u"; credential="p"; credential-type="password"' }));
		return { PT: pt, Lines: once.split('\r\n').filter((l) => l === 'a=rtcp-fb:' + pt + ' nack').length,
			Same: whip.addOpusNack(once) === once, Servers: servers };
	})()`)
	want := result{PT: got.PT, Lines: 1, Same: true, Servers: []map[string]string{
		{"urls": "stun:stun.example:3478"},
		{"urls": "turn:turn.example?transport=udp", "username": "u", "credential": "p"},
	}}
	if diff := cmp.Diff(want, got); diff != "" || got.PT == "" {
		t.Errorf("WHIP helpers (-want +got):\n%s", diff)
	}
}

// putCaptions uploads WebVTT captions for a clip with the admin key.
func putCaptions(t *testing.T, in *instance, id, vtt string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, in.BaseURL+"/api/v1/clips/"+id+"/captions", strings.NewReader(vtt))
	req.Header.Set("Content-Type", "text/vtt")
	req.Header.Set("Authorization", "Bearer "+in.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT captions: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT captions = %d", resp.StatusCode)
	}
}
