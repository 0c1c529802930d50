package rtc

import "github.com/pion/rtp"

// assembler joins ordered RTP packets into frames. A video frame with a lost packet is
// dropped, and so is every frame after it until a keyframe: decoding a frame whose
// references are gone smears the picture.
type assembler struct {
	codec  codec
	depack rtp.Depacketizer
	pkts   []*rtp.Packet // the frame being gathered
	broken bool          // the frame being gathered lost a packet
	synced bool          // the reference chain is intact (a keyframe was kept since the last loss)
	// emit receives each complete frame with its RTP timestamp.
	emit func(ts uint32, data []byte, key bool, width, height int)
	// needKeyframe is called when the chain breaks.
	needKeyframe func()

	frames  int // frames emitted
	dropped int // frames dropped (lost packets or waiting for a keyframe)
}

func newAssembler(c codec, emit func(uint32, []byte, bool, int, int), needKeyframe func()) *assembler {
	return &assembler{codec: c, depack: c.depacketizer(), emit: emit, needKeyframe: needKeyframe}
}

// push takes the next packet in sequence order; lost says packets before it were given up.
func (a *assembler) push(p *rtp.Packet, lost bool) {
	if a.codec.audio() {
		a.pushAudio(p)
		return
	}
	if lost {
		a.breakChain()
	}
	if len(a.pkts) > 0 && p.Timestamp != a.pkts[0].Timestamp {
		a.breakChain() // the previous frame never saw its marker
	}
	if len(p.Payload) == 0 {
		return // padding
	}
	if len(a.pkts) == 0 && !a.depack.IsPartitionHead(p.Payload) {
		a.broken = true
	}
	a.pkts = append(a.pkts, p)
	if p.Marker {
		a.finish()
	}
}

func (a *assembler) pushAudio(p *rtp.Packet) {
	data, err := a.depack.Unmarshal(p.Payload)
	if err != nil || len(data) == 0 {
		return
	}
	a.frames++
	a.emit(p.Timestamp, data, true, 0, 0)
}

// end counts a frame still gathered when the stream ends (its last packets never came) as
// dropped.
func (a *assembler) end() {
	if len(a.pkts) > 0 {
		a.dropped++
		a.pkts = a.pkts[:0]
	}
}

// breakChain drops the frame being gathered and waits for a keyframe.
func (a *assembler) breakChain() {
	if len(a.pkts) > 0 {
		a.dropped++
	}
	a.pkts, a.broken = a.pkts[:0], false
	if a.synced {
		a.synced = false
		a.needKeyframe()
	}
}

// finish depacketizes a frame whose marker arrived and emits it if it is usable.
func (a *assembler) finish() {
	pkts, broken := a.pkts, a.broken
	a.pkts, a.broken = a.pkts[:0], false
	if broken {
		a.dropped++
		a.breakChain()
		return
	}
	data, ok := a.join(pkts)
	if !ok {
		a.dropped++
		a.breakChain()
		return
	}
	key, w, h := a.codec.keyframe(data)
	if key {
		a.synced = true
	}
	if !a.synced {
		a.dropped++
		a.needKeyframe()
		return
	}
	a.frames++
	a.emit(pkts[0].Timestamp, data, key, w, h)
}

func (a *assembler) join(pkts []*rtp.Packet) ([]byte, bool) {
	n := 0
	for _, p := range pkts {
		n += len(p.Payload)
	}
	data := make([]byte, 0, n) // about the frame: descriptors go, H.264 length prefixes come
	for _, p := range pkts {
		b, err := a.depack.Unmarshal(p.Payload)
		if err != nil {
			return nil, false
		}
		data = append(data, b...)
	}
	return data, len(data) > 0
}
