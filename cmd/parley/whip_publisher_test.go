package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"parley/media/rtc"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

// fixtureFPS is the fixtures' frame rate.
const fixtureFPS = 30

// Codecs the publisher sends.
var (
	webrtcOpus = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	webrtcVP8  = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
)

// whipPublisher is a WHIP client (RFC 9725) made with pion the way a third-party publisher
// would be: it posts an offer, trickles candidates by PATCH when asked, sends fixture media
// in real time and ends the session with DELETE. It offers loopback candidates only.
type whipPublisher struct {
	pc        *webrtc.PeerConnection
	client    *http.Client
	token     string
	tracks    []*pacedTrack
	connected chan struct{}
	failed    chan struct{}

	Offer   string // the offer as posted
	Answer  string
	Session string // absolute URL of the WHIP session (the Location)
	ETag    string
	ClipID  string
}

// pacedTrack is a local track and the samples it sends, each at its time from the start.
type pacedTrack struct {
	track   *webrtc.TrackLocalStaticSample
	samples []timedSample
}

type timedSample struct {
	at time.Duration
	s  pmedia.Sample
}

// newPublisher prepares a peer connection with a send-only track per fixture file.
func newPublisher(t testing.TB, fx fixture) *whipPublisher {
	t.Helper()
	pc, err := publisherAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatalf("new peer connection: %v", err)
	}
	p := &whipPublisher{pc: pc, client: &http.Client{Timeout: 30 * time.Second},
		connected: make(chan struct{}), failed: make(chan struct{})}
	t.Cleanup(func() { pc.Close() })
	p.watchState()
	if fx.Audio != "" {
		p.addTrack(t, webrtcOpus, "audio", timed(t, rtc.LoadOgg, fx.Audio))
	}
	if fx.Video != "" {
		p.addTrack(t, webrtcVP8, "video", timed(t, rtc.LoadIVF, fx.Video))
	}
	return p
}

// publisherAPI is pion with default codecs and interceptors (NACK, reports) on loopback.
func publisherAPI(t testing.TB) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatalf("register codecs: %v", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatalf("register interceptors: %v", err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

func (p *whipPublisher) watchState() {
	var once sync.Once
	p.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(p.connected) })
		case webrtc.PeerConnectionStateFailed:
			once.Do(func() { close(p.failed) })
		}
	})
}

// addTrack adds a send-only track and drains its RTCP so that NACKs are answered.
func (p *whipPublisher) addTrack(t testing.TB, c webrtc.RTPCodecCapability, kind string, samples []timedSample) {
	t.Helper()
	track, err := webrtc.NewTrackLocalStaticSample(c, kind, "parley-e2e")
	if err != nil {
		t.Fatalf("new %s track: %v", kind, err)
	}
	tr, err := p.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatalf("add %s transceiver: %v", kind, err)
	}
	go func() {
		for {
			if _, _, err := tr.Sender().ReadRTCP(); err != nil {
				return
			}
		}
	}()
	p.tracks = append(p.tracks, &pacedTrack{track: track, samples: samples})
}

// timed reads a fixture file with one of rtc's loaders and gives every sample its time from
// the start.
func timed(t testing.TB, load func(string) ([]rtc.Sample, error), path string) []timedSample {
	t.Helper()
	samples, err := load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	out := make([]timedSample, 0, len(samples))
	var at time.Duration
	for _, s := range samples {
		out = append(out, timedSample{at: at, s: pmedia.Sample{Data: s.Data, Duration: s.Duration}})
		at += s.Duration
	}
	return out
}

// Publish posts the offer to the WHIP endpoint and applies the answer. With trickle the offer
// carries no candidates and each one goes in its own PATCH, then end-of-candidates.
func (p *whipPublisher) Publish(t testing.TB, endpoint, token string, trickle bool) {
	t.Helper()
	p.token = token
	cands := p.offer(t, trickle)
	p.post(t, endpoint)
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: p.Answer}); err != nil {
		t.Fatalf("set answer: %v\n%s", err, p.Answer)
	}
	if trickle {
		p.trickle(t, cands)
	}
}

// offer sets the local offer and keeps it in p.Offer: without candidates for trickle, else
// once gathering is complete. Candidates gathered meanwhile come out of the channel.
func (p *whipPublisher) offer(t testing.TB, trickle bool) <-chan *webrtc.ICECandidate {
	t.Helper()
	cands := make(chan *webrtc.ICECandidate, 64)
	p.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		select {
		case cands <- c:
		default: // not trickling: nobody reads them
		}
	})
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatalf("create offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatalf("set local description: %v", err)
	}
	p.Offer = offer.SDP
	if !trickle {
		<-gathered
		p.Offer = p.pc.LocalDescription().SDP
	}
	return cands
}

// post sends the offer and checks the 201 with its Location, ETag and clip id.
func (p *whipPublisher) post(t testing.TB, endpoint string) {
	t.Helper()
	resp, body := p.do(t, http.MethodPost, endpoint, "application/sdp", p.Offer, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s = %d: %s", endpoint, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/sdp") {
		t.Errorf("answer Content-Type = %q, want application/sdp", ct)
	}
	base, _ := url.Parse(endpoint)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		t.Fatalf("POST %s: bad Location %q", endpoint, resp.Header.Get("Location"))
	}
	p.Session, p.ETag, p.ClipID, p.Answer = base.ResolveReference(loc).String(), resp.Header.Get("ETag"), resp.Header.Get("Parley-Clip-Id"), string(body)
	if p.ClipID == "" {
		t.Fatalf("POST %s: no Parley-Clip-Id header", endpoint)
	}
}

// trickle PATCHes each gathered candidate, then end-of-candidates, expecting 204 each time.
func (p *whipPublisher) trickle(t testing.TB, cands <-chan *webrtc.ICECandidate) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		var c *webrtc.ICECandidate
		select {
		case c = <-cands:
		case <-timeout:
			t.Fatalf("candidate gathering did not complete within 15s")
		}
		line := "a=end-of-candidates"
		if c != nil {
			line = "a=" + c.ToJSON().Candidate
		}
		p.patch(t, sdpFragment(p.Offer, line))
		if c == nil {
			return
		}
	}
}

func (p *whipPublisher) patch(t testing.TB, frag string) {
	t.Helper()
	hdr := http.Header{"If-Match": {p.ETag}}
	resp, body := p.do(t, http.MethodPatch, p.Session, "application/trickle-ice-sdpfrag", frag, hdr)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH %s = %d: %s\n%s", p.Session, resp.StatusCode, body, frag)
	}
}

// sdpFragment is an RFC 8840 fragment of offer's ICE credentials and first media section
// with one candidate (or end-of-candidates) line.
func sdpFragment(offer, line string) string {
	var b strings.Builder
	for _, key := range []string{"a=ice-ufrag:", "a=ice-pwd:", "m=", "a=mid:"} {
		if v := sdpLine(offer, key); v != "" {
			b.WriteString(v + "\r\n")
		}
	}
	b.WriteString(line + "\r\n")
	return b.String()
}

// sdpLine returns the first line of sdp that starts with prefix.
func sdpLine(sdp, prefix string) string {
	for _, l := range strings.Split(sdp, "\n") {
		if l = strings.TrimRight(l, "\r"); strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// WaitConnected waits until ICE and DTLS are up.
func (p *whipPublisher) WaitConnected(t testing.TB) {
	t.Helper()
	select {
	case <-p.connected:
	case <-p.failed:
		t.Fatalf("publisher connection failed")
	case <-time.After(20 * time.Second):
		t.Fatalf("publisher not connected within 20s (state %s)", p.pc.ConnectionState())
	}
}

// Send sends every track's samples at their times from now, until done or ctx ends.
func (p *whipPublisher) Send(ctx context.Context) error {
	start := time.Now()
	errs := make([]error, len(p.tracks))
	var wg sync.WaitGroup
	for i, tr := range p.tracks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = tr.pace(ctx, start)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pace writes each sample when its time comes; a cancelled ctx just stops it.
func (tr *pacedTrack) pace(ctx context.Context, start time.Time) error {
	for _, s := range tr.samples {
		if sleepCtx(ctx, time.Until(start.Add(s.at))) != nil {
			return nil
		}
		if err := tr.track.WriteSample(s.s); err != nil {
			return fmt.Errorf("write %s sample at %s: %w", tr.track.Kind(), s.at, err)
		}
	}
	return nil
}

// Stop DELETEs the session, expects 200 with the clip, and closes the connection.
func (p *whipPublisher) Stop(t testing.TB) clipJSON {
	t.Helper()
	resp, body := p.do(t, http.MethodDelete, p.Session, "", "", nil)
	p.pc.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s = %d: %s", p.Session, resp.StatusCode, body)
	}
	var c clipJSON
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("DELETE %s: decode %q: %v", p.Session, body, err)
	}
	return c
}

// end DELETEs the session whatever state it is in; the server may refuse, but never with a 5xx.
func (p *whipPublisher) end(t testing.TB) {
	t.Helper()
	resp, body := p.do(t, http.MethodDelete, p.Session, "", "", nil)
	p.pc.Close()
	if resp.StatusCode >= 500 {
		t.Errorf("DELETE %s = %d: %s", p.Session, resp.StatusCode, body)
	}
}

// do sends one authenticated WHIP request and returns the response with its body read.
func (p *whipPublisher) do(t testing.TB, method, u, contentType, body string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return resp, data
}
