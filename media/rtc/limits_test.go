package rtc

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/media"
)

func TestSessionLimit(t *testing.T) {
	e := newEnv(t, Config{MaxSessions: 1})
	publish(t, e, PublisherOptions{}, true)
	p, err := NewPublisher(PublisherOptions{Loopback: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Publish(context.Background(), e.ing, e.request())
	if code := media.ErrorCode(err); code != media.EUNAVAILABLE {
		t.Errorf("second publish: %v (code %s), want %s", err, code, media.EUNAVAILABLE)
	}
}

// TestMaxDuration ends a recording at its duration limit, as a normal (not interrupted) clip.
func TestMaxDuration(t *testing.T) {
	e := newEnv(t, Config{})
	e.svc.MaxRecordingS = 2
	p, res := publish(t, e, PublisherOptions{}, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Send(ctx, testClip(t, true))
	s, _ := e.ing.session(res.SessionID)
	<-s.fin
	cancel()
	clip, err := e.ing.Stop(context.Background(), res.SessionID)
	if err != nil {
		t.Fatalf("stop after the limit: %v", err)
	}
	if clip.Status != media.StatusProcessing || clip.Interrupted {
		t.Errorf("clip %s interrupted %v, want processing, not interrupted", clip.Status, clip.Interrupted)
	}
	if clip.DurationMS > 2000 || clip.DurationMS < 1500 {
		t.Errorf("duration %d ms, want at most the 2000 ms limit (and most of it)", clip.DurationMS)
	}
	if d := probeFloat(t, e.original(t, clip), "-show_entries", "format=duration"); d > 2.05 {
		t.Errorf("original lasts %.3f s, over the 2 s limit", d)
	}
}

// TestInactivity finalizes a session whose media stopped as interrupted.
func TestInactivity(t *testing.T) {
	e := newEnv(t, Config{Inactivity: 2 * time.Second})
	p, res := publish(t, e, PublisherOptions{}, true)
	c := testClip(t, true)
	c.Video, c.Audio = c.Video[:30], c.Audio[:50] // one second, then silence on the wire
	if _, _, err := p.Send(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	clip := waitClip(t, e, res.ClipID, func(c *media.Clip) bool { return c.Status != media.StatusRecording })
	if clip.Status != media.StatusProcessing || !clip.Interrupted {
		t.Errorf("clip %s interrupted %v, want processing and interrupted", clip.Status, clip.Interrupted)
	}
	if math.Abs(float64(clip.DurationMS)-1000) > 100 {
		t.Errorf("duration %d ms, want about the 1000 ms sent", clip.DurationMS)
	}
	if errs := decodeErrors(t, e.original(t, clip)); errs != "" {
		t.Errorf("decoding the original reports:\n%s", errs)
	}
}

// TestNoMedia fails the clip of a session that never sent anything.
func TestNoMedia(t *testing.T) {
	e := newEnv(t, Config{})
	_, res := publish(t, e, PublisherOptions{}, true)
	_, err := e.ing.Stop(context.Background(), res.SessionID)
	if media.ErrorCode(err) != media.EINVALID {
		t.Errorf("stop without media: %v, want code %s", err, media.EINVALID)
	}
	c, err := e.store.GetClip(context.Background(), res.ClipID)
	if err != nil || c.Status != media.StatusFailed {
		t.Errorf("clip after no media: %+v, %v; want failed", c, err)
	}
}

// waitClip polls the store until ok holds for the clip.
func waitClip(t testing.TB, e *env, id string, ok func(*media.Clip) bool) *media.Clip {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := e.store.GetClip(context.Background(), id)
		if err != nil {
			t.Fatalf("get clip: %v", err)
		}
		if ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("clip %s stuck in %s", id, c.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPublishErrors(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name  string
		who   media.Principal
		offer string
		code  string
		msg   string
	}{
		{"garbage", e.who, "hello, world", media.EINVALID, "malformed SDP"},
		{"no media", e.who, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", media.EINVALID, "no media"},
		{"PCMU only", e.who, offerFor(t, webrtc.MimeTypePCMU), media.EUNSUPPORTED, "no supported codec"},
		{"AV1 only", e.who, offerFor(t, webrtc.MimeTypeAV1), media.EUNSUPPORTED, "no supported codec"},
		{"two audio tracks", e.who, offerFor(t, webrtc.MimeTypeOpus, webrtc.MimeTypeOpus), media.EINVALID, "too many tracks"},
		{"two video tracks", e.who, offerFor(t, webrtc.MimeTypeVP8, webrtc.MimeTypeVP8), media.EINVALID, "too many tracks"},
		{"domain error passes through", media.Principal{}, offerFor(t, webrtc.MimeTypeOpus), media.EUNAUTHORIZED, "not authenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.ing.Publish(context.Background(), media.PublishRequest{Principal: tt.who, Offer: tt.offer})
			if media.ErrorCode(err) != tt.code || !strings.Contains(media.ErrorMessage(err), tt.msg) {
				t.Errorf("publish: %v; want code %s with %q", err, tt.code, tt.msg)
			}
		})
	}
	if e.ing.live != 0 {
		t.Errorf("%d sessions counted after failed publishes, want 0", e.ing.live)
	}
}

// offerFor makes an offer with one send-only track per MIME type.
func offerFor(t testing.TB, mimes ...string) string {
	t.Helper()
	m := &webrtc.MediaEngine{}
	for i, mime := range mimes {
		kind, rate := webrtc.RTPCodecTypeVideo, uint32(90000)
		if mime == webrtc.MimeTypeOpus || mime == webrtc.MimeTypePCMU {
			kind, rate = webrtc.RTPCodecTypeAudio, 48000
		}
		if mime == webrtc.MimeTypePCMU {
			rate = 8000
		}
		c := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: rate}, PayloadType: webrtc.PayloadType(96 + i)}
		if err := m.RegisterCodec(c, kind); err != nil {
			t.Fatal(err)
		}
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for i, mime := range mimes {
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime}, "t"+string(rune('a'+i)), "s")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

// TestBitrateLimit announces the cap in the answer and stops a session that stays above twice
// the cap, keeping what it recorded as an interrupted clip.
func TestBitrateLimit(t *testing.T) {
	e := newEnv(t, Config{MaxBitrate: 100_000})
	e.ing.bitrateWindow = 2
	p, res := publish(t, e, PublisherOptions{}, true)
	if !strings.Contains(res.Answer, "b=AS:100\r\n") || !strings.Contains(res.Answer, "b=TIAS:100000\r\n") {
		t.Errorf("answer does not announce the cap:\n%s", res.Answer)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Send(ctx, testClip(t, true)) // ~600 kbit/s
	clip := waitClip(t, e, res.ClipID, func(c *media.Clip) bool { return c.Status != media.StatusRecording })
	if !clip.Interrupted || clip.DurationMS >= 4500 {
		t.Errorf("clip interrupted %v after %d ms, want stopped early as interrupted", clip.Interrupted, clip.DurationMS)
	}
}

// TestAnswer checks what the answer negotiates: NACK for audio and video, one video codec
// (with its RTX) even when the offer lists several, and every candidate.
func TestAnswer(t *testing.T) {
	e := newEnv(t, Config{})
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil { // offers VP8, VP9, H.264, AV1…
		t.Fatal(err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeAudio)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	req := e.request()
	req.Offer = o.SDP
	res, err := e.ing.Publish(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(res.Answer, "\r\n") {
		if strings.HasPrefix(l, "a=rtpmap:") || strings.HasSuffix(l, " nack") {
			got = append(got, l)
		}
	}
	for _, line := range []string{"a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 nack", "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack", "a=rtpmap:97 rtx/90000"} {
		if !slices.Contains(got, line) {
			t.Errorf("answer lacks %q", line)
		}
	}
	for _, l := range got {
		if strings.HasPrefix(l, "a=rtpmap:") && !strings.Contains(l, "opus") && !strings.Contains(l, "VP8") && !strings.Contains(l, "rtx") {
			t.Errorf("answer offers a second video codec: %s", l)
		}
	}
	if !strings.Contains(res.Answer, "typ host") || !strings.Contains(res.Answer, "tcptype passive") {
		t.Errorf("answer lacks UDP and passive TCP host candidates:\n%s", res.Answer)
	}
}

// TestClose finalizes live sessions as interrupted on shutdown.
func TestClose(t *testing.T) {
	e := newEnv(t, Config{})
	p, res := publish(t, e, PublisherOptions{}, true)
	c := testClip(t, true)
	if _, _, err := p.Send(context.Background(), Clip{Video: c.Video[:30], Audio: c.Audio[:50]}); err != nil {
		t.Fatal(err)
	}
	s, _ := e.ing.session(res.SessionID)
	settle(80, s)
	if err := e.ing.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	clip, err := e.store.GetClip(context.Background(), res.ClipID)
	if err != nil {
		t.Fatal(err)
	}
	if clip.Status != media.StatusProcessing || !clip.Interrupted || clip.Media.Original == "" {
		t.Errorf("clip after shutdown: %s interrupted %v original %q; want processing, interrupted, with an original", clip.Status, clip.Interrupted, clip.Media.Original)
	}
}

// TestPublishWithoutRTX answers an offer without RTX (GStreamer's whip-client sends such).
func TestPublishWithoutRTX(t *testing.T) {
	e := newEnv(t, Config{})
	req := e.request()
	req.Offer = offerFor(t, webrtc.MimeTypeVP8, webrtc.MimeTypeOpus)
	res, err := e.ing.Publish(context.Background(), req)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if !strings.Contains(res.Answer, "VP8/90000") || strings.Contains(res.Answer, "rtx/90000") {
		t.Errorf("answer should carry VP8 without RTX:\n%s", res.Answer)
	}
}
