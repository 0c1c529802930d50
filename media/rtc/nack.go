package rtc

import (
	"time"

	"github.com/pion/rtcp"
)

// NACK timing. The reorder buffer knows exactly which packets are missing, including those a
// retransmission on the RTX stream already repaired (pion's NACK generator does not see RTX
// repairs and asks for them again forever), so the ingest generates its own NACKs from it.
const (
	nackAfter    = 20 * time.Millisecond  // a gap younger than this is likely reordering
	nackRetry    = 100 * time.Millisecond // ask again for a packet not repaired by then
	nackMaxTries = 10
	nackMaxList  = 256 // most sequence numbers considered per round
	nackTick     = 50 * time.Millisecond
)

// nacker decides which missing packets to ask for again.
type nacker struct {
	state map[int64]*nackState
	last  time.Time
}

type nackState struct {
	seen  time.Time // gap first noticed
	asked time.Time // last NACK
	tries int
}

func newNacker() *nacker { return &nacker{state: map[int64]*nackState{}} }

// due returns the sequence numbers to NACK now, given what is missing.
func (n *nacker) due(missing []int64, now time.Time) []uint16 {
	if now.Sub(n.last) < nackTick {
		return nil
	}
	n.last = now
	keep := make(map[int64]*nackState, len(missing))
	var out []uint16
	for _, e := range missing {
		st := n.state[e]
		if st == nil {
			st = &nackState{seen: now}
		}
		keep[e] = st
		if now.Sub(st.seen) >= nackAfter && now.Sub(st.asked) >= nackRetry && st.tries < nackMaxTries {
			st.asked, st.tries = now, st.tries+1
			out = append(out, uint16(e))
		}
	}
	n.state = keep
	return out
}

// sendNACKs asks the publisher for the packets the reorder buffer is missing.
func (t *trackReader) sendNACKs(now time.Time) {
	t.askStart(now)
	seqs := t.nacks.due(t.order.missing(nackMaxList), now)
	if len(seqs) == 0 {
		return
	}
	t.writeNACK(seqs)
}

func (t *trackReader) writeNACK(seqs []uint16) {
	nack := &rtcp.TransportLayerNack{MediaSSRC: uint32(t.track.SSRC()), Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}
	if err := t.s.pc.WriteRTCP([]rtcp.Packet{nack}); err != nil {
		t.s.ing.log.Debug("send nack", "session", t.s.id, "err", err)
	}
}
