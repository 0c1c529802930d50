package rtc

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// holdMax is how long the interleaver holds a frame waiting for the other track to catch up;
// past it a silent or late track no longer holds the recording back.
const holdMax = 6 * time.Second

// cuesReserve is the space kept after the header for Cues: ~20 bytes per cluster, a cluster at
// least every 5 s, so hours of recording.
const cuesReserve = 64 << 10

// errNoMedia says a recording ended without a single frame.
var errNoMedia = errors.New("no media received")

// frame is one encoded frame on the sender's clock.
type frame struct {
	ns   int64 // Unix ns on the sender's clock
	key  bool
	data []byte
	at   time.Time // when it reached the muxer
}

// muxTrack is one track of the recording.
type muxTrack struct {
	codec  codec
	number uint64
	queue  []frame
	done   bool
	lastMS int64
	frames int // frames written
	width  int // first keyframe's size (video)
	height int
	config []byte // H.264 AVCDecoderConfigurationRecord
}

// muxer interleaves the tracks of a session by time and writes them to a WebM (or Matroska for
// H.264) through ebml-go. Times are relative to the first frame written. The file is created
// on the first write, when the first keyframe's size and the codec setup are known.
type muxer struct {
	mu      sync.Mutex
	out     io.WriteCloser // spool file (also an io.WriteSeeker for Cues and Duration)
	tracks  []*muxTrack
	writers []mkvcore.BlockWriteCloser
	t0      int64
	limitMS int64 // frames after it are dropped
	started bool
	closed  bool
	firstMS int64
	lastMS  int64
	frames  int
	errMu   sync.Mutex
	err     error
}

func newMuxer(out io.WriteCloser, codecs []codec, limit time.Duration) *muxer {
	m := &muxer{out: out, limitMS: limit.Milliseconds(), firstMS: -1}
	for i, c := range codecs {
		m.tracks = append(m.tracks, &muxTrack{codec: c, number: uint64(i + 1), lastMS: -1})
	}
	return m
}

// track returns the index of the track carrying codec c's kind, or -1.
func (m *muxer) track(audio bool) int {
	for i, t := range m.tracks {
		if t.codec.audio() == audio {
			return i
		}
	}
	return -1
}

// push queues a frame of track i and writes whatever the interleaving allows.
func (m *muxer) push(i int, f frame) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	t := m.tracks[i]
	if f.key && t.width == 0 && !t.codec.audio() {
		t.width, t.height = f.width(t.codec)
	}
	if t.codec == codecH264 && t.config == nil {
		t.config = avcConfig(h264ParamSets(f.data))
	}
	t.queue = append(t.queue, f)
	return m.pump(false)
}

func (f frame) width(c codec) (int, int) {
	_, w, h := c.keyframe(f.data)
	return w, h
}

// done marks track i finished: it no longer holds the others back.
func (m *muxer) done(i int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tracks[i].done = true
	return m.pump(false)
}

// pump writes frames in time order while every live track has one queued, a frame has been
// held too long, or flush is set.
func (m *muxer) pump(flush bool) error {
	for {
		i := m.next(flush)
		if i < 0 {
			return m.error()
		}
		t := m.tracks[i]
		f := t.queue[0]
		t.queue = t.queue[1:]
		if err := m.write(t, f); err != nil {
			return err
		}
	}
}

// next picks the track whose head frame goes next, or -1 to wait.
func (m *muxer) next(flush bool) int {
	best, waiting := -1, false
	for i, t := range m.tracks {
		if len(t.queue) == 0 {
			waiting = waiting || !t.done
			continue
		}
		if best < 0 || t.queue[0].ns < m.tracks[best].queue[0].ns {
			best = i
		}
	}
	if best < 0 || !waiting || flush || time.Since(m.tracks[best].queue[0].at) > holdMax {
		return best
	}
	return -1
}

func (m *muxer) write(t *muxTrack, f frame) error {
	if !m.started {
		if err := m.start(f.ns); err != nil {
			return err
		}
	}
	ms := blockTime(f.ns, m.t0, t.lastMS)
	if ms > m.limitMS {
		return nil
	}
	t.lastMS = ms
	if _, err := m.writers[t.number-1].Write(f.key, ms, f.data); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	if m.firstMS < 0 {
		m.firstMS = ms
	}
	m.lastMS = max(m.lastMS, ms)
	m.frames++
	t.frames++
	return nil
}

// blockTime is a frame's time in the file (ms from t0), strictly after the track's previous
// frame (last, -1 before the first): when the clock mapping steps back (a Sender Report
// replacing arrival times), frames must still not share a time, or players reject the file.
func blockTime(ns, t0, last int64) int64 {
	return max((ns-t0)/1e6, last+1)
}

// start writes the header: tracks as known now, a SeekHead, and room for Cues.
func (m *muxer) start(t0 int64) error {
	var descs []mkvcore.TrackDescription
	for _, t := range m.tracks {
		descs = append(descs, mkvcore.TrackDescription{TrackNumber: t.number, TrackEntry: t.entry()})
	}
	ws, err := mkvcore.NewSimpleBlockWriter(m.out, descs, m.options()...)
	if err != nil {
		return fmt.Errorf("start webm: %w", err)
	}
	m.writers, m.t0, m.started = ws, t0, true
	return nil
}

func (m *muxer) options() []mkvcore.BlockWriterOption {
	header := *webm.DefaultEBMLHeader
	if m.track(false) >= 0 && m.tracks[m.track(false)].codec == codecH264 {
		header.DocType = "matroska"
	}
	info := &webm.Info{TimecodeScale: 1000000, MuxingApp: "parley", WritingApp: "parley", DateUTC: time.Now()}
	main := m.track(false)
	if main < 0 {
		main = m.track(true)
	}
	return []mkvcore.BlockWriterOption{
		mkvcore.WithEBMLHeader(&header),
		mkvcore.WithSegmentInfo(info),
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(cuesReserve),
		mkvcore.WithMinMaxClusterDuration(m.tracks[main].number, 1000, 5000),
		mkvcore.WithOnFatalHandler(m.setError),
		mkvcore.WithOnErrorHandler(func(error) {}),
	}
}

func (m *muxer) setError(err error) {
	m.errMu.Lock()
	defer m.errMu.Unlock()
	if m.err == nil {
		m.err = err
	}
}

func (m *muxer) error() error {
	m.errMu.Lock()
	defer m.errMu.Unlock()
	return m.err
}

// entry is the track's TrackEntry.
func (t *muxTrack) entry() webm.TrackEntry {
	e := webm.TrackEntry{TrackNumber: t.number, TrackUID: t.number, Name: string(t.codec)}
	switch t.codec {
	case codecOpus:
		e.CodecID, e.TrackType, e.CodecPrivate = "A_OPUS", 2, opusHead(2)
		e.SeekPreRoll = 80000000
		e.Audio = &webm.Audio{SamplingFrequency: 48000, Channels: 2}
		return e
	case codecVP8:
		e.CodecID = "V_VP8"
	case codecVP9:
		e.CodecID = "V_VP9"
	case codecH264:
		e.CodecID, e.CodecPrivate = "V_MPEG4/ISO/AVC", t.config
	}
	w, h := t.width, t.height
	if w == 0 || h == 0 {
		w, h = 640, 480 // not known yet; decoders take the size from the bitstream
	}
	e.TrackType, e.Video = 1, &webm.Video{PixelWidth: uint64(w), PixelHeight: uint64(h)}
	return e
}

// close writes what is queued, then the Cues and Duration, and closes the file.
func (m *muxer) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return m.error()
	}
	err := m.pump(true)
	m.closed = true
	if !m.started {
		return errors.Join(err, errNoMedia)
	}
	for _, w := range m.writers {
		w.Close()
	}
	return errors.Join(err, m.error())
}

// stats returns what has been written: frames and the time span in ms.
func (m *muxer) stats() (frames int, durationMS int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.firstMS < 0 {
		return 0, 0
	}
	return m.frames, m.lastMS - m.firstMS
}

// written returns how many frames of track i are in the file.
func (m *muxer) written(i int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tracks[i].frames
}

// size returns the first video keyframe's size.
func (m *muxer) size() (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := m.track(false); i >= 0 {
		return m.tracks[i].width, m.tracks[i].height
	}
	return 0, 0
}
