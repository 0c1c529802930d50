package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"parley/media/mediatest"
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

// browserFixture is what the fake camera and microphone play: a test pattern and a tone.
type browserFixture struct{ video, audio string }

func makeBrowserFixture(t testing.TB) browserFixture {
	t.Helper()
	dir := t.TempDir()
	fx := browserFixture{video: filepath.Join(dir, "camera.y4m"), audio: filepath.Join(dir, "microphone.wav")}
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "2", "-pix_fmt", "yuv420p", fx.video)
	runFFmpeg(t, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4", "-ac", "1", fx.audio)
	return fx
}

// newBrowser starts headless Chromium with fake capture devices fed from fx. Its first
// action runs here, on a context without a deadline (a deadline would end the browser).
func newBrowser(t testing.TB, fx browserFixture) context.Context {
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
	dataDir := t.TempDir()
	// The workers' scratch directory; cmd/parley does not create it itself yet.
	if err := os.MkdirAll(filepath.Join(dataDir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := MustStart(t, map[string]string{"PARLEY_DATA_DIR": dataDir})
	ctx := newBrowser(t, fx)
	shots := screenshotDir(t)
	t.Logf("screenshots in %s", shots)
	var videoClip string
	t.Run("camera", func(t *testing.T) {
		videoClip = recordInBrowser(t, ctx, in, shots, "Camera", "video")
	})
	t.Run("voice", func(t *testing.T) {
		id := recordInBrowser(t, ctx, in, shots, "Voice only", "audio")
		checkWaveformDrawn(t, ctx, in, shots, id)
	})
	t.Run("embed plays and seeks", func(t *testing.T) {
		if videoClip == "" {
			t.Skip("no video clip recorded")
		}
		checkEmbedPlays(t, ctx, in, shots, videoClip)
	})
}

// recordInBrowser records for recordFor through the recorder page in the given mode and
// checks the clip the server made of it. It returns the clip id.
func recordInBrowser(t *testing.T, ctx context.Context, in *instance, shots, mode, kind string) string {
	name := strings.ToLower(strings.Fields(mode)[0])
	browse(t, ctx, "open recorder", chromedp.Navigate(newRecorderLink(t, in)))
	waitFor(t, ctx, "mode choice", `document.body.dataset.state === 'choose'`, 10*time.Second)
	screenshot(t, ctx, shots, "recorder-"+name+"-1-choose")
	browse(t, ctx, "choose "+mode, chromedp.Click(button(mode)))
	waitFor(t, ctx, "preview", `document.body.dataset.state === 'preview' && document.getElementById('status').textContent.startsWith('Ready')`, 20*time.Second)
	screenshot(t, ctx, shots, "recorder-"+name+"-2-preview")
	browse(t, ctx, "start recording", chromedp.Click(button("Start recording")))
	waitFor(t, ctx, "recording", `document.body.dataset.state === 'recording'`, 30*time.Second)
	began := time.Now()
	time.Sleep(2 * time.Second)
	screenshot(t, ctx, shots, "recorder-"+name+"-3-recording")
	time.Sleep(time.Until(began.Add(recordFor)))
	browse(t, ctx, "stop recording", chromedp.Click(button("Stop recording")))
	recorded := time.Since(began)
	waitFor(t, ctx, "review", `document.body.dataset.state === 'review'`, 30*time.Second)
	id := eval[string](t, ctx, `document.body.dataset.clipId`)
	stopped := eval[string](t, ctx, `document.getElementById('review-player').clip.status`)
	screenshot(t, ctx, shots, "recorder-"+name+"-4-review")
	browse(t, ctx, "send", chromedp.Click(button("Send")))
	waitFor(t, ctx, "sent", `document.body.dataset.state === 'sent'`, 10*time.Second)
	if link := eval[string](t, ctx, `document.getElementById('share-link').href`); link != in.BaseURL+"/c/"+id {
		t.Errorf("share link %q, want %s/c/%s", link, in.BaseURL, id)
	}
	noProblems(t, ctx, "recorder")
	if stopped != "processing" {
		t.Errorf("clip status at stop = %q, want processing", stopped)
	}
	checkRecordedClip(t, in, id, kind, recorded)
	return id
}

// checkRecordedClip waits for the clip to be ready and checks its original's length and decoding.
func checkRecordedClip(t *testing.T, in *instance, id, kind string, recorded time.Duration) {
	t.Helper()
	c, seen := waitClip(t, in, id, 2*time.Minute)
	if c.Status != "ready" || c.Kind != kind {
		t.Fatalf("clip %s: status %s (seen %v), kind %s; want ready %s", id, c.Status, seen, c.Kind, kind)
	}
	if seen[0] != "processing" && seen[0] != "ready" {
		t.Errorf("statuses after stop %v, want processing then ready", seen)
	}
	orig := fetch(t, *c.Media.Original)
	p := ffprobe(t, orig)
	if got := p.duration(); !within(got, recorded, time.Second) {
		t.Errorf("original lasts %s, recorded for %s", got, recorded)
	}
	want := map[string]bool{"audio": true, "video": kind == "video"}
	for typ, present := range want {
		if _, ok := p.codecs()[typ]; ok != present {
			t.Errorf("original streams %v: %s present = %v, want %v", p.codecs(), typ, ok, present)
		}
	}
	if errs := decodeErrors(t, orig); errs != "" {
		t.Errorf("original does not decode cleanly:\n%s", errs)
	}
}

// playerJS is a JavaScript expression for the page's player element.
const playerJS = `document.querySelector('parley-player')`

func checkEmbedPlays(t *testing.T, ctx context.Context, in *instance, shots, id string) {
	browse(t, ctx, "open share page", chromedp.Navigate(in.BaseURL+"/c/"+id))
	waitFor(t, ctx, "share player", playerJS+`.media && `+playerJS+`.media.readyState >= 1`, 20*time.Second)
	screenshot(t, ctx, shots, "share-video")
	noProblems(t, ctx, "share")
	browse(t, ctx, "open embed page", chromedp.Navigate(in.BaseURL+"/embed/"+id))
	waitFor(t, ctx, "embed player", playerJS+`.media && `+playerJS+`.media.readyState >= 2`, 20*time.Second)
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

// checkWaveformDrawn opens a voice clip's embed page and checks that the waveform has pixels.
func checkWaveformDrawn(t *testing.T, ctx context.Context, in *instance, shots, id string) {
	browse(t, ctx, "open voice embed", chromedp.Navigate(in.BaseURL+"/embed/"+id))
	drawn := `(() => { const c = ` + playerJS + `.shadowRoot.querySelector('canvas'); if (!c || !c.width) return false;
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n > 100; })()`
	waitFor(t, ctx, "waveform", drawn, 20*time.Second)
	screenshot(t, ctx, shots, "embed-voice")
	noProblems(t, ctx, "voice embed")
}
