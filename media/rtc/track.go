package rtc

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Reorder depth and timing. An async recorder can wait: a gap is held for reorderWait of
// media time, enough for several NACK round trips, before it is given up.
const (
	reorderWait = 1500 * time.Millisecond
	srWait      = 3 * time.Second // how long frames wait for the track's first Sender Report
	pliInterval = time.Second     // at most one keyframe request per track per interval
)

// trackReader records one remote track: RTP → reorder → frames → sender clock → muxer.
type trackReader struct {
	s     *session
	track *webrtc.TrackRemote
	recv  *webrtc.RTPReceiver
	codec codec
	index int // muxer track
	clock *trackClock
	order *reorder
	nacks *nacker
	asm   *assembler
	first time.Time
	// startSeq is the first sequence number received; the packets before it are asked for
	// startAsks times while the reorder buffer holds its start.
	startSeq   uint16
	startAsks  int
	startAsked time.Time
	queued     []pendingFrame

	mu      sync.Mutex
	lastPLI time.Time
	plis    int
	packets int
	frames  int
	dropped int // copies of the assembler's and reorder buffer's counters
	late    int
	skipped int
}

// pendingFrame is a frame waiting for its time to be known.
type pendingFrame struct {
	ext  int64
	data []byte
	key  bool
}

// onTrack starts recording a track once the session is registered.
func (s *session) onTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	select {
	case <-s.ready:
	case <-s.stopped:
		return
	}
	c, ok := codecOf(track.Codec().MimeType)
	index := s.mux.track(c.audio())
	if !ok || index < 0 {
		s.ing.log.Warn("ignoring track", "session", s.id, "codec", track.Codec().MimeType)
		return
	}
	t := s.newTrackReader(track, recv, c, index)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.readers = append(s.readers, t)
	s.tracks.Add(1)
	s.mu.Unlock()
	go t.readRTCP()
	t.run()
}

func (s *session) newTrackReader(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver, c codec, index int) *trackReader {
	t := &trackReader{s: s, track: track, recv: recv, codec: c, index: index, clock: newTrackClock(c.clockRate(), s.clock), nacks: newNacker()}
	span := uint32(c.clockRate() * reorderWait.Milliseconds() / 1000)
	t.asm = newAssembler(c, t.emit, t.requestKeyframe)
	t.order = newReorder(span, t.asm.push)
	return t
}

// run reads RTP until the peer connection closes, then flushes what is buffered.
func (t *trackReader) run() {
	defer t.s.tracks.Done()
	if !t.codec.audio() {
		t.requestKeyframe()
	}
	var deadline time.Time // reads wake at least every nackTick, to send NACKs
	for {
		if now := time.Now(); !now.Before(deadline) {
			deadline = now.Add(nackTick)
			t.track.SetReadDeadline(deadline)
		}
		if t.stopping() {
			break
		}
		p, _, err := t.track.ReadRTP()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.sendNACKs(time.Now())
			continue
		}
		if err != nil {
			break
		}
		t.packet(p)
		t.sendNACKs(time.Now())
	}
	t.order.flush()
	t.asm.end()
	t.drain(true)
	t.count(0)
	if err := t.s.mux.done(t.index); err != nil {
		t.s.ing.log.Warn("mux", "session", t.s.id, "err", err)
	}
}

// stopping reports whether the session is being finalized.
func (t *trackReader) stopping() bool {
	select {
	case <-t.s.stopped:
		return true
	default:
		return false
	}
}

func (t *trackReader) packet(p *rtp.Packet) {
	now := time.Now()
	if t.first.IsZero() {
		t.first, t.startSeq = now, p.SequenceNumber
	}
	t.s.media(now, len(p.Payload))
	t.clock.arrived(p.Timestamp, now)
	t.order.push(p)
	t.drain(false)
	t.count(1)
}

// count publishes the reader goroutine's counters for stats.
func (t *trackReader) count(packets int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.packets += packets
	t.dropped, t.late, t.skipped = t.asm.dropped, t.order.dropped, t.order.skipped
}

// emit receives a complete frame from the assembler.
func (t *trackReader) emit(ts uint32, data []byte, key bool, _, _ int) {
	ext := t.clock.extend(ts)
	t.mu.Lock()
	t.frames++
	t.mu.Unlock()
	t.queued = append(t.queued, pendingFrame{ext: ext, data: data, key: key})
}

// drain hands frames whose time is known to the muxer. Without a Sender Report after srWait
// (or at the end) the arrival-time fallback is used.
func (t *trackReader) drain(force bool) {
	fallback := force || time.Since(t.first) > srWait
	for len(t.queued) > 0 {
		f := t.queued[0]
		ns, ok := t.clock.time(f.ext, fallback)
		if !ok {
			return
		}
		t.queued = t.queued[1:]
		if err := t.s.mux.push(t.index, frame{ns: ns, key: f.key, data: f.data, at: time.Now()}); err != nil {
			t.s.ing.log.Warn("mux", "session", t.s.id, "err", err)
		}
	}
}

// requestKeyframe sends a PLI, at most one per pliInterval.
func (t *trackReader) requestKeyframe() {
	if t.codec.audio() {
		return
	}
	t.mu.Lock()
	if time.Since(t.lastPLI) < pliInterval {
		t.mu.Unlock()
		return
	}
	t.lastPLI = time.Now()
	t.plis++
	t.mu.Unlock()
	pli := &rtcp.PictureLossIndication{MediaSSRC: uint32(t.track.SSRC())}
	if err := t.s.pc.WriteRTCP([]rtcp.Packet{pli}); err != nil {
		t.s.ing.log.Debug("send pli", "session", t.s.id, "err", err)
	}
}

// startNACKs is how many sequence numbers before the first packet received are asked for, and
// startTries how often: a NACK is lost like any packet, and one lost at the start costs every
// video frame until the next keyframe.
const (
	startNACKs = 256
	startTries = 5
)

// askStart asks for the packets before the first one received, nackRetry apart, until the
// reorder buffer releases its start.
func (t *trackReader) askStart(now time.Time) {
	if t.first.IsZero() || t.order.primed || t.startAsks >= startTries || now.Sub(t.startAsked) < nackRetry {
		return
	}
	t.startAsks, t.startAsked = t.startAsks+1, now
	t.nackBefore(t.startSeq)
}

// nackBefore asks for the packets just before the first one received: the NACK generator only
// sees gaps between packets, so a lost or late start of the first frame would otherwise stay
// lost (and with it every video frame until the next keyframe). Asking for packets that never
// existed is harmless.
func (t *trackReader) nackBefore(seq uint16) {
	seqs := make([]uint16, 0, startNACKs)
	for i := uint16(startNACKs); i > 0; i-- {
		seqs = append(seqs, seq-i)
	}
	t.writeNACK(seqs)
}

// readRTCP takes the publisher's Sender Reports for clock alignment (and keeps the
// interceptors fed).
func (t *trackReader) readRTCP() {
	for {
		pkts, _, err := t.recv.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == uint32(t.track.SSRC()) {
				t.clock.senderReport(sr.RTPTime, sr.NTPTime, time.Now())
			}
		}
	}
}

// trackStats are a track's counters, for tests and the benchmark.
type trackStats struct {
	Audio   bool
	Packets int
	Frames  int // frames assembled and kept
	Written int // frames written to the file
	Dropped int // frames dropped: lost packets or waiting for a keyframe
	Late    int // duplicate or late packets dropped by the reorder buffer
	Skipped int // sequence numbers given up
	PLIs    int
}

// stats returns the track's counters.
func (t *trackReader) stats() trackStats {
	written := t.s.mux.written(t.index)
	t.mu.Lock()
	defer t.mu.Unlock()
	return trackStats{
		Audio: t.codec.audio(), Packets: t.packets, Frames: t.frames, Written: written, PLIs: t.plis,
		Dropped: t.dropped, Late: t.late, Skipped: t.skipped,
	}
}

// stats returns the counters of every track of the session.
func (s *session) stats() []trackStats {
	s.mu.Lock()
	readers := append([]*trackReader(nil), s.readers...)
	s.mu.Unlock()
	var out []trackStats
	for _, t := range readers {
		out = append(out, t.stats())
	}
	return out
}
