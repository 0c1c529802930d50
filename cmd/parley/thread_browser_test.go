package main

import (
	"context"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"parley/web"
)

// guestLink is a recorder link as POST /api/v1/recorder-links answers it.
type guestLink struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	URL   string `json:"url"`
}

// newGuestLink creates a recorder link with the given fields (thread_id and kind included).
func newGuestLink(t testing.TB, in *instance, fields map[string]any) guestLink {
	t.Helper()
	var l guestLink
	if code := in.Do(t, "POST", "/api/v1/recorder-links", fields, &l); code != 201 {
		t.Fatalf("create recorder link %v = %d", fields, code)
	}
	return l
}

// newTab opens another tab of the browser of ctx, with the problem collector installed.
func newTab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: problemsScript}); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return tab
}

// recordOnPage records for d in the given mode through the recorder of the open page and
// stops; it returns the clip id the page learnt from WHIP.
func recordOnPage(t testing.TB, ctx context.Context, mode string, d time.Duration) string {
	t.Helper()
	browse(t, ctx, "choose "+mode, chromedp.Click(button(mode)))
	waitFor(t, ctx, "preview", `document.body.dataset.state === 'preview' && document.getElementById('status').textContent.startsWith('Ready')`, 20*time.Second)
	browse(t, ctx, "start recording", chromedp.Click(button("Start recording")))
	waitFor(t, ctx, "recording", `document.body.dataset.state === 'recording'`, 30*time.Second)
	began := time.Now()
	waitFor(t, ctx, "the clip shown as recording", `(() => {
		const n = document.querySelector('article[data-clip-id="' + document.body.dataset.clipId + '"]');
		return n !== null && n.dataset.status === 'recording'; })()`, 10*time.Second)
	time.Sleep(time.Until(began.Add(d)))
	browse(t, ctx, "stop recording", chromedp.Click(button("Stop recording")))
	waitFor(t, ctx, "review", `document.body.dataset.state === 'review'`, 30*time.Second)
	return eval[string](t, ctx, `document.body.dataset.clipId`)
}

// clipNode is a JavaScript expression for the thread view's node of a clip.
func clipNode(id string) string {
	return fmt.Sprintf(`document.querySelector('article[data-clip-id=%q]')`, id)
}

// replyJSON is the part of GET /api/v1/clips/{id} that says what a clip answers.
type replyJSON struct {
	ThreadID  string  `json:"thread_id"`
	ReplyTo   *string `json:"reply_to"`
	ReplyAtMS *int64  `json:"reply_at_ms"`
	Kind      string  `json:"kind"`
}

func TestThreadInBrowser(t *testing.T) {
	fx := makeBrowserFixture(t)
	in := MustStart(t, nil)
	shots := screenshotDir(t)
	var th struct{ ID string }
	if code := in.Do(t, "POST", "/api/v1/threads", map[string]string{"title": "Launch plan"}, &th); code != 201 {
		t.Fatalf("create thread = %d", code)
	}
	first := newGuestLink(t, in, map[string]any{"thread_id": th.ID, "kind": "any", "max_uses": 1})
	second := newGuestLink(t, in, map[string]any{"thread_id": th.ID, "kind": "any"})
	expiring := newGuestLink(t, in, map[string]any{"thread_id": th.ID, "kind": "any", "expires_in_s": 1})
	ctx := newBrowser(t, fx)

	root := guestRecordsRoot(t, ctx, first)
	reply, pausedAt := guestRepliesByVoice(t, newTab(t, ctx), in, second, root, shots)
	checkReplyStored(t, in, reply, root, pausedAt)
	t.Run("play all", func(t *testing.T) { checkPlayAll(t, newTab(t, ctx), second, root, reply) })
	t.Run("member page", func(t *testing.T) { checkMemberPage(t, newTab(t, ctx), in, th.ID, root, reply, shots) })
	t.Run("embed from another origin", func(t *testing.T) { checkEmbedFromAnotherOrigin(t, newTab(t, ctx), in, root, shots) })
	t.Run("link to one clip", func(t *testing.T) { checkOneClipLink(t, newTab(t, ctx), in, th.ID, root) })
	t.Run("gone links", func(t *testing.T) { checkGoneLinks(t, newTab(t, ctx), in, th.ID, first, expiring) })
	t.Run("clip made private", func(t *testing.T) { checkMadePrivate(t, newTab(t, ctx), in, second, reply) })
}

// guestRecordsRoot: the first guest records 3 s of camera and sends it; the thread view shows
// the clip becoming ready without a reload. It returns the clip id.
func guestRecordsRoot(t *testing.T, ctx context.Context, l guestLink) string {
	browse(t, ctx, "open first guest's recorder", chromedp.Navigate(l.URL))
	waitFor(t, ctx, "empty thread view", `document.getElementById('thread').dataset.clips === '0' && document.body.dataset.state === 'choose'`, 20*time.Second)
	eval[bool](t, ctx, `window.__sameDocument = true`)
	id := recordOnPage(t, ctx, "Camera", 3*time.Second)
	browse(t, ctx, "send", chromedp.Click(button("Send")))
	waitFor(t, ctx, "the clip in the thread view", clipNode(id)+` !== null`, 20*time.Second)
	waitFor(t, ctx, "the clip becoming ready, live", clipNode(id)+`.dataset.status === 'ready' && window.__sameDocument`, 2*time.Minute)
	noProblems(t, ctx, "first guest's recorder")
	return id
}

// guestRepliesByVoice: a second guest plays the root clip, pauses at about 1 s, presses
// "Reply at 0:01" and records 2 s of voice; the reply appears nested under the root with its
// moment and a drawn waveform. It returns the reply's id and where the root was paused.
func guestRepliesByVoice(t *testing.T, ctx context.Context, in *instance, l guestLink, root, shots string) (string, time.Duration) {
	player := clipNode(root) + `.querySelector('parley-player')`
	browse(t, ctx, "open second guest's recorder", chromedp.Navigate(l.URL))
	waitFor(t, ctx, "the root clip, ready", clipNode(root)+` && `+clipNode(root)+`.dataset.status === 'ready' && `+player+`.media && `+player+`.media.readyState >= 2`, 20*time.Second)
	eval[bool](t, ctx, `(`+player+`.play(), true)`)
	waitFor(t, ctx, "playback past 1 s", player+`.currentTime >= 1`, 20*time.Second)
	secs := eval[float64](t, ctx, `(async () => { const p = `+player+`; p.pause(); await new Promise((r) => setTimeout(r, 100)); return p.currentTime; })()`)
	pausedAt := time.Duration(secs * float64(time.Second))
	label := fmt.Sprintf("Reply at 0:%02d", int(secs))
	browse(t, ctx, "press "+label, chromedp.Click(fmt.Sprintf(`//article[@data-clip-id=%q]/div[@class="clip-actions"]/button[normalize-space(.)=%q]`, root, label)))
	if chip := eval[string](t, ctx, `document.getElementById('reply-chip').textContent`); !strings.Contains(chip, fmt.Sprintf("at 0:%02d", int(secs))) {
		t.Errorf("reply chip %q, want the moment %s", chip, label)
	}
	reply := recordOnPage(t, ctx, "Voice only", 2*time.Second)
	browse(t, ctx, "send", chromedp.Click(button("Send")))
	nested := clipNode(root) + `.querySelector(':scope > .replies > article[data-clip-id="` + reply + `"]')`
	waitFor(t, ctx, "the reply nested under the root", nested+` !== null && `+nested+`.querySelector('.at').textContent === '`+strings.TrimPrefix(label, "Reply ")+`'`, 20*time.Second)
	waitFor(t, ctx, "the reply ready with its waveform drawn", nested+`.dataset.status === 'ready' && `+canvasDrawn(nested+`.querySelector('parley-player')`), 2*time.Minute)
	if chip := eval[bool](t, ctx, `document.getElementById('reply-chip').hidden`); !chip {
		t.Error("the reply chip is still shown after sending")
	}
	eval[bool](t, ctx, `(scrollTo(0, 0), true)`)
	screenshot(t, ctx, shots, "thread-guest")
	noProblems(t, ctx, "second guest's recorder")
	return reply, pausedAt
}

// canvasDrawn is a JavaScript predicate: the player's waveform canvas has over 100 painted pixels.
func canvasDrawn(player string) string {
	return `(() => { const c = ` + player + `.shadowRoot.querySelector('canvas'); if (!c || !c.width) return false;
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n > 100; })()`
}

// checkReplyStored expects the API to say the reply answers root at the paused moment (±500 ms).
func checkReplyStored(t *testing.T, in *instance, reply, root string, pausedAt time.Duration) {
	var c replyJSON
	if code := in.Do(t, "GET", "/api/v1/clips/"+reply, nil, &c); code != 200 {
		t.Fatalf("GET reply = %d", code)
	}
	if c.ReplyTo == nil || *c.ReplyTo != root || c.ReplyAtMS == nil || c.Kind != "audio" {
		t.Fatalf("reply %+v, want an audio reply to %s at a moment", c, root)
	}
	at := time.Duration(*c.ReplyAtMS) * time.Millisecond
	t.Logf("reply at %s, paused at %s", at, pausedAt.Round(time.Millisecond))
	if !within(at, pausedAt, 500*time.Millisecond) {
		t.Errorf("reply_at_ms %d, paused at %s", *c.ReplyAtMS, pausedAt)
	}
}

// checkPlayAll plays the thread at 2×: the root, then the reply.
func checkPlayAll(t *testing.T, ctx context.Context, l guestLink, root, reply string) {
	rootPlayer, replyPlayer := clipNode(root)+`.querySelector('parley-player')`, clipNode(reply)+`.querySelector('parley-player')`
	browse(t, ctx, "open recorder", chromedp.Navigate(l.URL))
	waitFor(t, ctx, "both clips ready", clipNode(reply)+` && `+clipNode(reply)+`.dataset.status === 'ready' && `+rootPlayer+`.media`, 20*time.Second)
	eval[bool](t, ctx, `(() => { const s = document.querySelector('.thread-bar select'); s.value = '2'; s.dispatchEvent(new Event('change')); return true; })()`)
	browse(t, ctx, "play all", chromedp.Click(button("Play all")))
	waitFor(t, ctx, "the root playing at 2×", `!`+rootPlayer+`.paused && `+rootPlayer+`.media.playbackRate === 2`, 10*time.Second)
	waitFor(t, ctx, "the reply playing at 2× after the root", `!`+replyPlayer+`.paused && `+replyPlayer+`.media.playbackRate === 2 && `+rootPlayer+`.media.ended`, 20*time.Second)
	waitFor(t, ctx, "the end of play all", `document.querySelector('.thread-bar button').textContent === 'Play all'`, 20*time.Second)
	noProblems(t, ctx, "play all")
}

// checkMemberPage opens /t/{id} with the admin API key, answers the reply in text at a moment
// and the root by voice, and expects both nested where they belong.
func checkMemberPage(t *testing.T, ctx context.Context, in *instance, thread, root, reply, shots string) {
	browse(t, ctx, "open the thread page", chromedp.Navigate(in.BaseURL+"/t/"+thread))
	waitFor(t, ctx, "the API key form", `!document.getElementById('key-form').hidden`, 10*time.Second)
	browse(t, ctx, "enter a wrong API key", chromedp.SendKeys(chromedp.ID("api-key"), "pk_wrong"), chromedp.Click(button("Open thread")))
	waitFor(t, ctx, "the key refused", `document.getElementById('key-error').textContent.startsWith('That API key was not accepted')`, 10*time.Second)
	eval[bool](t, ctx, `(localStorage.clear(), true)`)
	browse(t, ctx, "open the thread page again", chromedp.Navigate(in.BaseURL+"/t/"+thread))
	waitFor(t, ctx, "the API key form", `!document.getElementById('key-form').hidden`, 10*time.Second)
	browse(t, ctx, "enter the API key", chromedp.SendKeys(chromedp.ID("api-key"), in.AdminToken), chromedp.Click(button("Open thread")))
	waitFor(t, ctx, "the thread, live", clipNode(reply)+` && `+clipNode(reply)+`.dataset.status === 'ready'`, 20*time.Second)
	browse(t, ctx, "reply to the reply in text", chromedp.Click(fmt.Sprintf(`//article[@data-clip-id=%q]/div[@class="clip-actions"]/button`, reply)),
		chromedp.SendKeys(chromedp.ID("comment-author"), "Ana"), chromedp.SendKeys(chromedp.ID("comment-body"), "Agreed, ship it"), chromedp.Click(button("Post reply")))
	waitFor(t, ctx, "the text reply under the voice reply", clipNode(reply)+`.querySelector(':scope > .comments').textContent.includes('Agreed, ship it')`, 20*time.Second)
	var comments struct {
		Comments []struct {
			ClipID *string `json:"clip_id"`
			AtMS   *int64  `json:"at_ms"`
			Author string  `json:"author"`
		} `json:"comments"`
	}
	if code := in.Do(t, "GET", "/api/v1/threads/"+thread+"/comments", nil, &comments); code != 200 || len(comments.Comments) != 1 ||
		comments.Comments[0].ClipID == nil || *comments.Comments[0].ClipID != reply || comments.Comments[0].AtMS == nil || comments.Comments[0].Author != "Ana" {
		t.Errorf("comments = %d %+v, want one by Ana on %s at a moment", code, comments, reply)
	}
	browse(t, ctx, "reply to the root", chromedp.Click(fmt.Sprintf(`//article[@data-clip-id=%q]/div[@class="clip-actions"]/button`, root)))
	id := recordOnPage(t, ctx, "Voice only", time.Second)
	waitFor(t, ctx, "the member's reply under the root", clipNode(root)+`.querySelector(':scope > .replies > article[data-clip-id="`+id+`"]') !== null`, 20*time.Second)
	var c replyJSON
	if code := in.Do(t, "GET", "/api/v1/clips/"+id, nil, &c); code != 200 || c.ThreadID != thread || c.ReplyTo == nil || *c.ReplyTo != root || c.ReplyAtMS == nil {
		t.Errorf("member's reply = %d %+v, want a reply to %s in thread %s", code, c, root, thread)
	}
	eval[bool](t, ctx, `(scrollTo(0, 0), true)`)
	screenshot(t, ctx, shots, "thread-member")
	noProblems(t, ctx, "thread")
}

// hostPage frames an embed on another origin and records the messages the player posts,
// with when the first arrived (performance.now: milliseconds since the host page's navigation).
const hostPage = `<!doctype html><title>host</title>
<script>
window.messages = []; window.firstMessageAt = 0;
addEventListener('message', (e) => {
  if (!e.data || e.data.type !== 'parley:timeupdate') return;
  if (!messages.length) firstMessageAt = performance.now();
  messages.push({ origin: e.origin, currentTime: e.data.currentTime, duration: e.data.duration, paused: e.data.paused });
});
function command(m) { document.getElementById('player').contentWindow.postMessage(m, '*'); }
</script>
<iframe id="player" src="%s" width="640" height="360" allow="autoplay; fullscreen"></iframe>`

// checkEmbedFromAnotherOrigin frames the root's embed on another origin: it posts playback
// updates to the host, plays and seeks on the host's commands.
func checkEmbedFromAnotherOrigin(t *testing.T, ctx context.Context, in *instance, id, shots string) {
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, hostPage, html.EscapeString(in.BaseURL+"/embed/"+id))
	}))
	defer host.Close()
	browse(t, ctx, "open the host page", chromedp.Navigate(host.URL))
	waitFor(t, ctx, "the first message from the embed", `messages.length > 0`, 20*time.Second)
	t.Logf("time to first frame: %.0f ms (host page navigation to the embed's loadeddata, loopback)", eval[float64](t, ctx, `firstMessageAt`))
	if origin := eval[string](t, ctx, `messages[0].origin`); origin != in.BaseURL {
		t.Errorf("message origin %q, want %s", origin, in.BaseURL)
	}
	last := `messages[messages.length - 1]`
	eval[bool](t, ctx, `(command({ type: 'parley:play' }), true)`)
	waitFor(t, ctx, "playback reported", `messages.some((m) => !m.paused && m.currentTime > 0.5)`, 20*time.Second)
	eval[bool](t, ctx, `(command({ type: 'parley:pause' }), true)`)
	waitFor(t, ctx, "the pause reported", last+`.paused`, 10*time.Second)
	eval[bool](t, ctx, `(messages.length = 0, command({ type: 'parley:seek', time: 2.5 }), true)`)
	waitFor(t, ctx, "the seek reported", `messages.some((m) => m.paused && Math.abs(m.currentTime - 2.5) < 0.1)`, 10*time.Second)
	if d := eval[float64](t, ctx, last+`.duration`); math.Abs(d-3) > 1 {
		t.Errorf("reported duration %.2f s, want about 3", d)
	}
	screenshot(t, ctx, shots, "embed-host")
	noProblems(t, ctx, "host")
}

// checkGoneLinks expects WHIP with a used-up, a revoked and an expired link to fail with 410
// and the JSON error, and their recorder pages to say why. The page publishing is a page of
// the server that may not capture: its stream is a silent Web Audio track.
func checkGoneLinks(t *testing.T, ctx context.Context, in *instance, thread string, used, expiring guestLink) {
	revoked := newGuestLink(t, in, map[string]any{"thread_id": thread, "kind": "any"})
	if code := in.Do(t, "DELETE", "/api/v1/recorder-links/"+revoked.ID, nil, nil); code != 204 {
		t.Fatalf("revoke = %d", code)
	}
	browse(t, ctx, "open a page of the server", chromedp.Navigate(in.BaseURL+"/r/rl_none"))
	for _, tt := range []struct {
		name    string
		link    guestLink
		message string
	}{
		{"used up", used, "this recorder link has been used up"},
		{"revoked", revoked, "this recorder link has been revoked"},
		{"expired", expiring, "this recorder link has expired"},
	} {
		got := eval[string](t, ctx, `(async () => {
			const whip = await import('`+web.StaticPrefix()+`whip.js');
			const stream = new AudioContext().createMediaStreamDestination().stream;
			try { await whip.publish('/whip?kind=audio', '`+tt.link.Token+`', stream); return 'published'; }
			catch (e) { return e.status + ' ' + e.code + ' ' + e.message; }
			finally { stream.getTracks().forEach((tr) => tr.stop()); }
		})()`)
		if want := "410 gone " + tt.message; got != want {
			t.Errorf("%s link: WHIP answered %q, want %q", tt.name, got, want)
		}
		resp, err := http.Get(tt.link.URL)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.link.URL, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusGone {
			t.Errorf("%s link: recorder page = %d, want 410", tt.name, resp.StatusCode)
		}
	}
	browse(t, ctx, "open the revoked link", chromedp.Navigate(revoked.URL))
	if text := eval[string](t, ctx, `document.body.innerText`); !strings.Contains(text, "This link no longer works") || !strings.Contains(text, "revoked") {
		t.Errorf("revoked link page says %q", text)
	}
}

// checkOneClipLink opens a link whose recordings all answer root: the thread shows, the chip
// names root for good and no clip offers "Reply at".
func checkOneClipLink(t *testing.T, ctx context.Context, in *instance, thread, root string) {
	l := newGuestLink(t, in, map[string]any{"thread_id": thread, "reply_to": root, "kind": "audio"})
	browse(t, ctx, "open the link", chromedp.Navigate(l.URL))
	waitFor(t, ctx, "the thread", clipNode(root)+` !== null`, 20*time.Second)
	type view struct {
		Chip    string
		Buttons int
	}
	got := eval[view](t, ctx, `({ Chip: document.getElementById('reply-chip').hidden ? '' : document.getElementById('reply-chip').textContent,
		Buttons: document.querySelectorAll('.clip-actions button').length })`)
	if want := (view{Chip: "Your recording answers #1 Video message"}); got != want {
		t.Errorf("one-clip link view %+v, want %+v", got, want)
	}
	noProblems(t, ctx, "one-clip link")
}

// checkMadePrivate makes a clip private while a guest watches: it leaves the guest's view live.
func checkMadePrivate(t *testing.T, ctx context.Context, in *instance, l guestLink, id string) {
	browse(t, ctx, "open recorder", chromedp.Navigate(l.URL))
	waitFor(t, ctx, "the clip", clipNode(id)+` !== null && `+clipNode(id)+`.dataset.status === 'ready'`, 20*time.Second)
	if code := in.Do(t, "PATCH", "/api/v1/clips/"+id, map[string]string{"privacy": "private"}, nil); code != 200 {
		t.Fatalf("make clip private = %d", code)
	}
	waitFor(t, ctx, "the clip removed from the view", clipNode(id)+`.dataset.status === 'removed' && !`+clipNode(id)+`.querySelector('parley-player')`, 20*time.Second)
	noProblems(t, ctx, "recorder")
}
