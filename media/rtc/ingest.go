// Package rtc records WHIP publishers (RFC 9725) with pion/webrtc: each session's tracks go
// through NACK, a reorder buffer and frame assembly, are aligned by RTCP Sender Reports and
// muxed into a seekable WebM (Matroska for H.264) that is streamed to blob storage while the
// recording runs.
package rtc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"parley/media"
)

// Recordings is what the ingest needs from the domain; *media.Service satisfies it.
type Recordings interface {
	StartRecording(ctx context.Context, p media.Principal, req media.RecordingRequest) (*media.Clip, time.Duration, error)
	FinishRecording(ctx context.Context, clipID string, r media.Recording) (*media.Clip, error)
	FailRecording(ctx context.Context, clipID, reason string) error
}

var _ Recordings = (*media.Service)(nil)

// Config configures the ingest. Zero values are useful defaults except SpoolDir.
type Config struct {
	UDPPort     int      // one port for all sessions: ICE UDP mux, and ICE-TCP (passive) on the same number; 0 picks a free one
	ListenIP    string   // "" listens on all addresses
	PublicIPs   []string // NAT 1:1 addresses announced as host candidates instead of local ones
	Loopback    bool     // gather loopback candidates and accept only loopback remote candidates (tests)
	MaxSessions int      // concurrent sessions; Publish returns EUNAVAILABLE beyond it; default 100
	// MaxBitrate (bits/s) is announced to the publisher in the answer (b=AS/b=TIAS on video);
	// a session above twice it over a 10 s window is stopped and finalized as interrupted.
	// 0 means no limit.
	MaxBitrate int
	Inactivity time.Duration // no media for this long (or ICE failed) ends a session as interrupted; default 10 s
	SpoolDir   string        // local spool of recordings in progress, for crash recovery
	ICEServers []webrtc.ICEServer
}

func (c Config) maxSessions() int {
	if c.MaxSessions > 0 {
		return c.MaxSessions
	}
	return 100
}

func (c Config) inactivity() time.Duration {
	if c.Inactivity > 0 {
		return c.Inactivity
	}
	return 10 * time.Second
}

// udpReadBuffer is the receive buffer asked for the shared UDP port: every session's packets
// queue there while the mux catches up, about a second of 200 recordings at 1.5 Mbps. Without
// CAP_NET_ADMIN, Linux caps it at net.core.rmem_max (208 KiB by default; raise it with sysctl
// on busy hosts).
const udpReadBuffer = 32 << 20

// Ingest runs WHIP recording sessions.
type Ingest struct {
	cfg   Config
	rec   Recordings
	blobs media.Blobs
	log   *slog.Logger
	api   *webrtc.API
	udp   net.PacketConn
	tcp   net.Listener
	mux   []interface{ Close() error }
	port  int

	// bitrateWindow is how many seconds a session may average above twice MaxBitrate.
	bitrateWindow int

	mu       sync.Mutex
	sessions map[string]*session
	live     int // sessions counted against MaxSessions, including ones being set up
}

var _ media.Ingest = (*Ingest)(nil)

// New listens on the configured port and returns an ingest ready for Publish.
func New(cfg Config, rec Recordings, blobs media.Blobs, log *slog.Logger) (*Ingest, error) {
	if cfg.SpoolDir == "" {
		return nil, errors.New("rtc: SpoolDir is required")
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	i := &Ingest{cfg: cfg, rec: rec, blobs: blobs, log: log, sessions: map[string]*session{}, bitrateWindow: bitrateWindow}
	if err := i.listen(); err != nil {
		return nil, err
	}
	api, err := i.newAPI()
	if err != nil {
		i.closeNet()
		return nil, err
	}
	i.api = api
	return i, nil
}

// Port returns the UDP (and TCP) port the ingest listens on.
func (i *Ingest) Port() int { return i.port }

// listen binds the UDP port and a TCP listener on the same number.
func (i *Ingest) listen() error {
	for attempt := 0; ; attempt++ {
		udp, err := net.ListenPacket("udp", net.JoinHostPort(i.cfg.ListenIP, strconv.Itoa(i.cfg.UDPPort)))
		if err != nil {
			return fmt.Errorf("listen udp: %w", err)
		}
		if err := setReadBuffer(udp.(*net.UDPConn), udpReadBuffer); err != nil {
			udp.Close()
			return err
		}
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(i.cfg.ListenIP, strconv.Itoa(port)))
		if err == nil {
			i.udp, i.tcp, i.port = udp, tcp, port
			return nil
		}
		udp.Close()
		if i.cfg.UDPPort != 0 || attempt > 20 {
			return fmt.Errorf("listen tcp: %w", err)
		}
	}
}

func (i *Ingest) closeNet() {
	for _, m := range i.mux {
		m.Close()
	}
	i.udp.Close()
	i.tcp.Close()
}

// newAPI builds the pion API all sessions share: codecs, interceptors (NACK for audio and
// video, RTCP reports, TWCC) and the ICE settings.
func (i *Ingest) newAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	ir, err := interceptors(m)
	if err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}
	se, err := i.settings()
	if err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// interceptors are pion's defaults without the NACK generator (the tracks make their own NACKs
// from the reorder buffer) and without the stats interceptor (nothing reads GetStats), and NACK
// feedback negotiated for audio as well as video.
func interceptors(m *webrtc.MediaEngine) (*interceptor.Registry, error) {
	ir := &interceptor.Registry{}
	for _, t := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, t)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, err
	}
	return ir, nil
}

func (i *Ingest) settings() (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	logs := pionLogs{log: i.log}
	se.LoggerFactory = logs
	udpMux := webrtc.NewICEUDPMux(logs.NewLogger("udpmux"), i.udp)
	tcpMux := webrtc.NewICETCPMux(logs.NewLogger("tcpmux"), i.tcp, 64)
	i.mux = append(i.mux, udpMux, tcpMux)
	se.SetICEUDPMux(udpMux)
	se.SetICETCPMux(tcpMux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(5*time.Second, i.cfg.inactivity(), 2*time.Second)
	if i.cfg.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	if len(i.cfg.PublicIPs) > 0 {
		rule := webrtc.ICEAddressRewriteRule{External: i.cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace}
		if err := se.SetICEAddressRewriteRules(rule); err != nil {
			return se, fmt.Errorf("public ips: %w", err)
		}
	}
	return se, nil
}

// etag is the entity tag of an ICE session: a hash of the server's ufrag.
func etag(ufrag string) string {
	sum := sha256.Sum256([]byte(ufrag))
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// reserve counts a session against MaxSessions.
func (i *Ingest) reserve() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.live >= i.cfg.maxSessions() {
		return media.Errorf(media.EUNAVAILABLE, "the ingest is at its limit of %d sessions; try again later", i.cfg.maxSessions())
	}
	i.live++
	return nil
}

func (i *Ingest) release() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.live--
}

func (i *Ingest) session(id string) (*session, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	s, ok := i.sessions[id]
	if !ok {
		return nil, media.Errorf(media.ENOTFOUND, "session %s not found", id)
	}
	return s, nil
}

// SessionClip returns the clip of a session and the workspace that owns it (for auth).
func (i *Ingest) SessionClip(sessionID string) (clipID, workspaceID string, ok bool) {
	s, err := i.session(sessionID)
	if err != nil {
		return "", "", false
	}
	return s.clipID, s.workspaceID, true
}

// Stop ends a session and finishes its clip; the original is complete in blob storage when
// it returns. Stopping a session that already ended returns how it ended.
func (i *Ingest) Stop(ctx context.Context, sessionID string) (*media.Clip, error) {
	s, err := i.session(sessionID)
	if err != nil {
		return nil, err
	}
	return s.finalize(ctx, false, "stopped")
}

// Close finalizes every live session as interrupted and stops listening.
func (i *Ingest) Close(ctx context.Context) error {
	i.mu.Lock()
	var all []*session
	for _, s := range i.sessions {
		all = append(all, s)
	}
	i.mu.Unlock()
	var errs []error
	for _, s := range all {
		if _, err := s.finalize(ctx, true, "shutdown"); err != nil && !errors.Is(err, errNoMedia) && media.ErrorCode(err) == media.EINTERNAL {
			errs = append(errs, fmt.Errorf("finalize session %s: %w", s.id, err))
		}
	}
	i.closeNet()
	return errors.Join(errs...)
}
