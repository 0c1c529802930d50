package rtc

import "github.com/pion/rtp"

// reorderSize is how many sequence numbers the reorder buffer can hold ahead of the next one it
// releases; packets further ahead force the gap to be given up.
const reorderSize = 1 << 13

// reorder puts a track's RTP packets back in sequence order. It drops duplicates and packets
// that arrive after their place was released (late NACK repairs, RTX probe padding, which
// pion hands to ReadRTP as copies of old packets). A gap is waited for until the buffered
// packets span maxSpan RTP ticks, which leaves time for NACK round trips.
type reorder struct {
	slots   [reorderSize]*rtp.Packet
	next    int64 // extended sequence number released next
	highest int64 // highest extended sequence number seen
	started bool
	primed  bool // released anything yet; before that, earlier packets may still come first
	maxSpan uint32
	// out receives packets in order; lost is true when packets before it were given up.
	out func(p *rtp.Packet, lost bool)
	gap bool // a sequence number was given up since the last packet out

	dropped int // duplicates and late packets
	skipped int // sequence numbers given up
}

func newReorder(maxSpan uint32, out func(*rtp.Packet, bool)) *reorder {
	return &reorder{maxSpan: maxSpan, out: out}
}

// extend turns a 16-bit sequence number into one that keeps counting across wraps.
func (r *reorder) extend(seq uint16) int64 {
	if !r.started {
		return int64(seq)
	}
	return r.highest + int64(int16(seq-uint16(r.highest)))
}

// push adds a packet and releases whatever is now in order.
func (r *reorder) push(p *rtp.Packet) {
	ext := r.extend(p.SequenceNumber)
	if !r.started {
		r.started, r.next, r.highest = true, ext, ext
	}
	if !r.primed && ext < r.next && r.highest-ext < reorderSize {
		r.next = ext // the stream's first packets came late
	}
	slot := &r.slots[ext%reorderSize]
	if ext < r.next || (*slot != nil && (*slot).SequenceNumber == p.SequenceNumber) {
		r.dropped++
		return
	}
	for ext-r.next >= reorderSize {
		r.advance()
	}
	*slot = p
	r.highest = max(r.highest, ext)
	r.release(false)
}

// release emits packets in order; when a gap has waited long enough it is given up.
func (r *reorder) release(flush bool) {
	if !r.primed && !flush && !r.overdue() {
		return // hold the start until maxSpan of media is buffered
	}
	r.primed = true
	for r.next <= r.highest {
		if r.slots[r.next%reorderSize] == nil && !flush && !r.overdue() {
			return
		}
		r.advance()
	}
}

// advance emits the next packet, or gives up its sequence number if it is missing.
func (r *reorder) advance() {
	slot := &r.slots[r.next%reorderSize]
	p := *slot
	*slot = nil
	r.next++
	if p == nil {
		r.skipped++
		r.gap = true
		return
	}
	lost := r.gap
	r.gap = false
	r.out(p, lost)
}

// overdue reports whether the buffered packets span more than maxSpan ticks (counted from the
// first packet waiting).
func (r *reorder) overdue() bool {
	newest := r.slots[r.highest%reorderSize]
	for e := r.next; e < r.highest; e++ {
		if p := r.slots[e%reorderSize]; p != nil {
			return newest.Timestamp-p.Timestamp > r.maxSpan && int32(newest.Timestamp-p.Timestamp) > 0
		}
	}
	return false
}

// missing returns up to limit extended sequence numbers the buffer is waiting for.
func (r *reorder) missing(limit int) []int64 {
	var out []int64
	for e := r.next; e < r.highest && len(out) < limit; e++ {
		if r.slots[e%reorderSize] == nil {
			out = append(out, e)
		}
	}
	return out
}

// flush releases everything buffered, giving up every gap.
func (r *reorder) flush() {
	if r.started {
		r.release(true)
	}
}
