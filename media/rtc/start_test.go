package rtc

import (
	"sync"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// TestLostStartRepaired loses the first video packets (the start of the only keyframe the
// publisher sends unasked) and the ingest's first NACK for them: asking again repairs the
// start, so every video frame is recorded.
func TestLostStartRepaired(t *testing.T) {
	e := newEnv(t, Config{})
	c := testClip(t, true)
	f := &lostStart{packets: 4, nacks: 1}
	_, stats, sent := record(t, e, PublisherOptions{Interceptors: []interceptor.Factory{f}}, c)
	t.Logf("sent video %d audio %d; tracks %+v", sent[0], sent[1], stats)
	for _, st := range stats {
		if !st.Audio && st.Frames != sent[0] {
			t.Errorf("recorded %d of %d video frames (dropped %d)", st.Frames, sent[0], st.Dropped)
		}
	}
	if f.lostNACKs() != 1 {
		t.Errorf("%d NACKs were lost, want 1: the test did not lose the first one", f.lostNACKs())
	}
}

// lostStart is a publisher-side interceptor that loses the first transmission of the first
// packets video packets, and the first nacks NACKs for video arriving from the ingest.
type lostStart struct {
	interceptor.NoOp
	packets, nacks int

	mu   sync.Mutex
	ssrc uint32 // the video stream's
	seen map[uint16]bool
	lost int // NACKs lost so far
}

func (f *lostStart) NewInterceptor(string) (interceptor.Interceptor, error) { return f, nil }

func (f *lostStart) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if info.MimeType != "video/VP8" {
		return w
	}
	f.mu.Lock()
	f.ssrc = info.SSRC
	f.mu.Unlock()
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if f.dropFirst(h.SequenceNumber) {
			return len(payload), nil
		}
		return w.Write(h, payload, a)
	})
}

// dropFirst reports whether a packet is one of the first ones, sent for the first time.
func (f *lostStart) dropFirst(seq uint16) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[uint16]bool{}
	}
	if f.seen[seq] || len(f.seen) >= f.packets {
		return false
	}
	f.seen[seq] = true
	return true
}

func (f *lostStart) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, a, err := r.Read(b, a)
			if err != nil || !f.loseNACK(b[:n]) {
				return n, a, err
			}
		}
	})
}

// loseNACK reports whether an RTCP compound packet carries a NACK that is to be lost.
func (f *lostStart) loseNACK(b []byte) bool {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range pkts {
		if n, ok := p.(*rtcp.TransportLayerNack); ok && n.MediaSSRC == f.ssrc && f.lost < f.nacks {
			f.lost++
			return true
		}
	}
	return false
}

func (f *lostStart) lostNACKs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lost
}
