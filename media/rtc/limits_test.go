package rtc

import (
	"context"
	"math"
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
