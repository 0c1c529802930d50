package rtc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"parley/media"
)

// Sample is one encoded frame and how long it lasts.
type Sample struct {
	Data     []byte
	Duration time.Duration
}

// Clip is pre-encoded media for a publisher: VP8 video frames and Opus packets.
type Clip struct {
	Video []Sample
	Audio []Sample
}

// LoadIVF reads VP8 frames from an IVF file; every frame lasts one frame period of its header.
func LoadIVF(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open ivf: %w", err)
	}
	defer f.Close()
	r, h, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("read ivf header %s: %w", path, err)
	}
	period := time.Duration(h.TimebaseNumerator) * time.Second / time.Duration(h.TimebaseDenominator)
	var out []Sample
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read ivf frame %s: %w", path, err)
		}
		out = append(out, Sample{Data: frame, Duration: period})
	}
}

// LoadH264 reads an H.264 Annex B stream with one slice per picture: every access unit
// (parameter sets, SEI and the slice) becomes a sample lasting period.
func LoadH264(path string, period time.Duration) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open h264: %w", err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read h264 %s: %w", path, err)
	}
	var out []Sample
	var au []byte
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read h264 %s: %w", path, err)
		}
		au = append(append(au, 0, 0, 0, 1), nal.Data...)
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr {
			out = append(out, Sample{Data: au, Duration: period})
			au = nil
		}
	}
}

// LoadOgg reads Opus packets from an Ogg file with one packet per page (ffmpeg
// -page_duration 20000); durations come from the granule positions.
func LoadOgg(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open ogg: %w", err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("read ogg header %s: %w", path, err)
	}
	var out []Sample
	var granule uint64
	for {
		page, h, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read ogg page %s: %w", path, err)
		}
		if len(page) == 0 || strings.HasPrefix(string(page), "OpusTags") {
			continue
		}
		d := time.Duration(h.GranulePosition-granule) * time.Second / 48000
		granule = h.GranulePosition
		out = append(out, Sample{Data: page, Duration: max(d, 0)})
	}
}

// PublisherOptions configure a test or benchmark WHIP publisher.
type PublisherOptions struct {
	Loopback  bool   // gather and accept loopback candidates only
	VideoMime string // codec of the video samples: webrtc.MimeTypeVP8 (default) or MimeTypeH264
	TCP       bool   // ICE over TCP only (active candidates against the ingest's passive ones)
	Trickle   bool   // send candidates with Patch instead of in the offer
	// Minimal registers only what a sender needs (NACK responses and RTCP Sender Reports)
	// instead of pion's defaults (which add a NACK generator, receiver reports, stats and
	// TWCC): the benchmark's publisher process uses it to stay cheap.
	Minimal bool
	// Interceptors sit closest to the network (after NACK responses and Sender Reports), e.g.
	// to lose or delay packets.
	Interceptors []interceptor.Factory
}

// Publisher is a pion WHIP publisher that calls an ingest directly (no HTTP): the benchmark
// and the tests use it as the browser.
type Publisher struct {
	pc      *webrtc.PeerConnection
	video   *webrtc.TrackLocalStaticSample
	audio   *webrtc.TrackLocalStaticSample
	opts    PublisherOptions
	mu      sync.Mutex
	cands   []string
	gather  chan struct{}
	Session *media.PublishResult
}

// NewPublisher creates a publisher with a VP8 video track (if video) and an Opus track.
func NewPublisher(opts PublisherOptions, video bool) (*Publisher, error) {
	api, err := publisherAPI(opts)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	p := &Publisher{pc: pc, opts: opts, gather: make(chan struct{})}
	if err := p.addTracks(video); err != nil {
		pc.Close()
		return nil, err
	}
	pc.OnICECandidate(p.onCandidate)
	return p, nil
}

func publisherAPI(opts PublisherOptions) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := registerPublisherCodecs(m, cmp.Or(opts.VideoMime, webrtc.MimeTypeVP8)); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	for _, f := range opts.Interceptors {
		ir.Add(f)
	}
	register := webrtc.RegisterDefaultInterceptors
	if opts.Minimal {
		register = senderInterceptors
	}
	if err := register(m, ir); err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeAudio)
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLogs{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if opts.TCP {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	if opts.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// senderInterceptors registers what a send-only peer needs: the NACK responder (with NACK and
// PLI feedback on video) and RTCP Sender Reports.
func senderInterceptors(m *webrtc.MediaEngine, ir *interceptor.Registry) error {
	responder, err := nack.NewResponderInterceptor()
	if err != nil {
		return fmt.Errorf("nack responder: %w", err)
	}
	sender, err := report.NewSenderInterceptor()
	if err != nil {
		return fmt.Errorf("sender reports: %w", err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	ir.Add(responder)
	ir.Add(sender)
	return nil
}

func (p *Publisher) addTracks(video bool) error {
	var err error
	p.audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "parley")
	if err != nil {
		return fmt.Errorf("new audio track: %w", err)
	}
	tracks := []*webrtc.TrackLocalStaticSample{p.audio}
	if video {
		mime := cmp.Or(p.opts.VideoMime, webrtc.MimeTypeVP8)
		p.video, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime}, "video", "parley")
		if err != nil {
			return fmt.Errorf("new video track: %w", err)
		}
		tracks = append(tracks, p.video)
	}
	for _, t := range tracks {
		tr, err := p.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("add track: %w", err)
		}
		go drainRTCP(tr.Sender())
	}
	return nil
}

// drainRTCP reads a sender's incoming RTCP: the interceptors (NACK responses, keyframe
// requests) only see what is read.
func drainRTCP(s *webrtc.RTPSender) {
	for {
		if _, _, err := s.ReadRTCP(); err != nil {
			return
		}
	}
}

func (p *Publisher) onCandidate(c *webrtc.ICECandidate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c == nil {
		select {
		case <-p.gather: // completion reported twice (ICE restart)
		default:
			close(p.gather)
		}
		return
	}
	p.cands = append(p.cands, c.ToJSON().Candidate)
}

// registerPublisherCodecs registers Opus and one video codec, as a browser whose application
// set codec preferences offers them.
func registerPublisherCodecs(m *webrtc.MediaEngine, videoMime string) error {
	opus := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}
	if err := m.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	for _, v := range videoCodecs() {
		if strings.EqualFold(v.MimeType, videoMime) {
			return registerVideo(m, v)
		}
	}
	return fmt.Errorf("unsupported video codec %s", videoMime)
}

// Publish offers to the ingest, applies the answer and, with Trickle, sends the candidates
// with Patch.
func (p *Publisher) Publish(ctx context.Context, ing media.Ingest, req media.PublishRequest) (*media.PublishResult, error) {
	offer, err := p.offer(ctx)
	if err != nil {
		return nil, err
	}
	req.Offer = offer
	res, err := ing.Publish(ctx, req)
	if err != nil {
		return nil, err
	}
	p.Session = res
	if p.opts.Trickle { // before the answer, so the ingest knows the candidates before any check
		if err := p.trickle(ctx, ing, res); err != nil {
			return nil, err
		}
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: res.Answer}); err != nil {
		return nil, fmt.Errorf("set answer: %w", err)
	}
	return res, nil
}

// offer returns the local offer: with every candidate, or none when trickling.
func (p *Publisher) offer(ctx context.Context) (string, error) {
	o, err := p.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("create offer: %w", err)
	}
	if err := p.pc.SetLocalDescription(o); err != nil {
		return "", fmt.Errorf("set offer: %w", err)
	}
	if p.opts.Trickle {
		return o.SDP, nil
	}
	if err := p.waitGathered(ctx); err != nil {
		return "", err
	}
	return p.pc.LocalDescription().SDP, nil
}

// regather forgets the gathered candidates before an ICE restart.
func (p *Publisher) regather() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gather, p.cands = make(chan struct{}), nil
}

func (p *Publisher) waitGathered(ctx context.Context) error {
	p.mu.Lock()
	gather := p.gather
	p.mu.Unlock()
	select {
	case <-gather:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trickle sends the gathered candidates as one sdpfrag.
func (p *Publisher) trickle(ctx context.Context, ing media.Ingest, res *media.PublishResult) error {
	if err := p.waitGathered(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	frag := p.Frag()
	p.mu.Unlock()
	_, err := ing.Patch(ctx, res.SessionID, res.ETag, frag)
	return err
}

// Frag returns the publisher's current credentials and gathered candidates as an sdpfrag.
func (p *Publisher) Frag() string {
	local := p.pc.LocalDescription().SDP
	var b strings.Builder
	b.WriteString("a=ice-ufrag:" + sdpAttribute(local, "ice-ufrag") + "\r\n")
	b.WriteString("a=ice-pwd:" + sdpAttribute(local, "ice-pwd") + "\r\n")
	b.WriteString("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n")
	for _, c := range p.cands {
		b.WriteString("a=" + c + "\r\n")
	}
	b.WriteString("a=end-of-candidates\r\n")
	return b.String()
}

// Connected waits until the publisher's ICE and DTLS are up.
func (p *Publisher) Connected(ctx context.Context) error {
	for p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		select {
		case <-ctx.Done():
			return fmt.Errorf("connect: %w (state %s)", ctx.Err(), p.pc.ConnectionState())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// Send plays a clip in real time (both tracks paced from one start time, as a browser
// captures them) and returns how many video and audio samples it wrote.
func (p *Publisher) Send(ctx context.Context, c Clip) (video, audio int, err error) {
	start := time.Now()
	var wg sync.WaitGroup
	var verr, aerr error
	if p.video != nil {
		wg.Add(1)
		go func() { defer wg.Done(); video, verr = pace(ctx, p.video, c.Video, start) }()
	}
	audio, aerr = pace(ctx, p.audio, c.Audio, start)
	wg.Wait()
	return video, audio, errors.Join(verr, aerr)
}

// pace writes samples at their presentation times.
func pace(ctx context.Context, t *webrtc.TrackLocalStaticSample, samples []Sample, start time.Time) (int, error) {
	var at time.Duration
	for i, s := range samples {
		select {
		case <-ctx.Done():
			return i, ctx.Err()
		case <-time.After(time.Until(start.Add(at))):
		}
		if err := t.WriteSample(pmedia.Sample{Data: s.Data, Duration: s.Duration}); err != nil {
			return i, fmt.Errorf("write sample: %w", err)
		}
		at += s.Duration
	}
	return len(samples), nil
}

// Close hangs up.
func (p *Publisher) Close() error { return p.pc.Close() }
