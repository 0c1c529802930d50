package rtc

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// impairment is a publisher-side interceptor nearest the network: it drops a share of the
// outgoing RTP packets at random and delays the others, which reorders them. Retransmissions
// and Sender Reports are made before it, as on a real network path.
type impairment struct {
	loss      float64       // share of packets dropped
	jitter    time.Duration // random delay in [0, jitter)
	delay     time.Duration // fixed extra delay
	videoOnly bool          // impair video only
}

func (f impairment) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &impaired{cfg: f, rng: rand.New(rand.NewPCG(1, 2))}, nil
}

type impaired struct {
	interceptor.NoOp
	cfg impairment
	mu  sync.Mutex
	rng *rand.Rand
}

func (i *impaired) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if i.cfg.videoOnly && !strings.HasPrefix(info.MimeType, "video/") {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		drop, d := i.roll()
		if drop {
			return len(payload), nil
		}
		hc, pc := h.Clone(), bytes.Clone(payload)
		time.AfterFunc(d, func() { w.Write(&hc, pc, a) })
		return len(payload), nil
	})
}

// roll decides a packet's fate.
func (i *impaired) roll() (bool, time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	drop := i.rng.Float64() < i.cfg.loss
	d := i.cfg.delay
	if i.cfg.jitter > 0 {
		d += time.Duration(i.rng.Int64N(int64(i.cfg.jitter)))
	}
	return drop, d
}
