package rtc

import (
	"sync"
	"time"
)

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpToUnixNano converts a 64-bit NTP timestamp to Unix nanoseconds.
func ntpToUnixNano(ntp uint64) int64 {
	sec := int64(ntp>>32) - ntpEpochOffset
	frac := int64((ntp & 0xffffffff) * 1e9 >> 32)
	return sec*1e9 + frac
}

// unwrapper extends 32-bit RTP timestamps into a count that keeps going across wraps.
type unwrapper struct {
	last    int64
	started bool
}

func (u *unwrapper) extend(ts uint32) int64 {
	if !u.started {
		u.started, u.last = true, int64(ts)
		return u.last
	}
	u.last += int64(int32(ts - uint32(u.last)))
	return u.last
}

// relative extends ts next to the last timestamp without moving it.
func (u *unwrapper) relative(ts uint32) int64 {
	return u.last + int64(int32(ts-uint32(u.last)))
}

// mapping ties an extended RTP timestamp to a wall-clock time (Unix ns).
type mapping struct {
	ext int64
	ns  int64
	ok  bool
}

// trackClock turns a track's RTP timestamps into wall-clock times of the sender. The first
// RTCP Sender Report's NTP↔RTP pair anchors the track, so every track of a session lands on the
// sender's one clock (the first video packet arrives ~50 ms after the first audio packet: the
// arrival times would put the mux out of sync). Until a report arrives, frames wait; a track
// without reports falls back to the arrival time of its first packet, moved onto the sender's
// clock by the session's offset.
type trackClock struct {
	mu      sync.Mutex
	rate    int64
	ts      unwrapper
	sr      mapping
	srRaw   *uint32 // a report that came before the first packet
	srNTP   int64
	arrival mapping // first packet: extended timestamp ↔ local arrival time
	session *sessionClock
}

// sessionClock holds what tracks of one session share: the sender-minus-local clock offset,
// learned from the first Sender Report of any track.
type sessionClock struct {
	mu     sync.Mutex
	offset int64
	known  bool
}

func (s *sessionClock) learn(senderNs, localNs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known {
		s.offset, s.known = senderNs-localNs, true
	}
}

func (s *sessionClock) get() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset
}

func newTrackClock(rate int64, s *sessionClock) *trackClock {
	return &trackClock{rate: rate, session: s}
}

// extend extends a frame's RTP timestamp.
func (c *trackClock) extend(ts uint32) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ts.extend(ts)
}

// arrived notes a packet as it is received, before any reordering delay: the first one
// anchors the arrival-time fallback at its true arrival time.
func (c *trackClock) arrived(ts uint32, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ext := c.ts.extend(ts)
	if !c.arrival.ok {
		c.arrival = mapping{ext: ext, ns: at.UnixNano(), ok: true}
		if c.srRaw != nil {
			c.sr = mapping{ext: c.ts.relative(*c.srRaw), ns: c.srNTP, ok: true}
		}
	}
}

// senderReport anchors the track on its first Sender Report.
func (c *trackClock) senderReport(rtpTime uint32, ntp uint64, at time.Time) {
	ns := ntpToUnixNano(ntp)
	c.session.learn(ns, at.UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sr.ok || c.srRaw != nil {
		return
	}
	if !c.ts.started {
		c.srRaw, c.srNTP = &rtpTime, ns
		return
	}
	c.sr = mapping{ext: c.ts.relative(rtpTime), ns: ns, ok: true}
}

// time returns the sender's wall-clock time (Unix ns) of an extended timestamp. Without a
// Sender Report it answers only when fallback is true.
func (c *trackClock) time(ext int64, fallback bool) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.sr
	if !m.ok {
		if !fallback || !c.arrival.ok {
			return 0, false
		}
		m = mapping{ext: c.arrival.ext, ns: c.arrival.ns + c.session.get(), ok: true}
	}
	return m.ns + (ext-m.ext)*1e9/c.rate, true
}
