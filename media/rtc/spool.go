package rtc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"parley/media"
)

// RegionSize is the size of the regions of a recording streamed as multipart parts.
const RegionSize = 8 << 20

// sidecar describes a spooled recording so that a restarted process can finish it.
type sidecar struct {
	ClipID      string         `json:"clip_id"`
	Kind        media.ClipKind `json:"kind"`
	Ext         string         `json:"ext"`
	StartedAt   time.Time      `json:"started_at"`
	DurationMS  int64          `json:"duration_ms"`
	Width       int            `json:"width"`
	Height      int            `json:"height"`
	ContentType string         `json:"content_type"`
}

func sidecarPath(dir, clipID string) string { return filepath.Join(dir, clipID+".json") }

func mediaPath(dir, clipID, ext string) string { return filepath.Join(dir, clipID+"."+ext) }

// sidecarFile is a session's sidecar, kept open and rewritten in place as the recording grows.
type sidecarFile struct {
	f *os.File
	n int // length of the last write: a shorter one is padded with spaces
}

// createSidecar writes a new sidecar atomically and keeps it open for updates.
func createSidecar(dir string, s sidecar) (*sidecarFile, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode sidecar: %w", err)
	}
	tmp := sidecarPath(dir, s.ClipID) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create sidecar: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("write sidecar: %w", err)
	}
	if err := os.Rename(tmp, sidecarPath(dir, s.ClipID)); err != nil {
		f.Close()
		return nil, fmt.Errorf("rename sidecar: %w", err)
	}
	return &sidecarFile{f: f, n: len(b)}, nil
}

// update rewrites the sidecar in place: one write of a few hundred bytes, which a killed
// process either made or did not.
func (w *sidecarFile) update(s sidecar) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode sidecar: %w", err)
	}
	if pad := w.n - len(b); pad > 0 {
		b = append(b, bytes.Repeat([]byte{' '}, pad)...)
	}
	if _, err := w.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("update sidecar: %w", err)
	}
	w.n = len(b)
	return nil
}

func (w *sidecarFile) close() error { return w.f.Close() }

func readSidecar(path string) (sidecar, error) {
	var s sidecar
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read sidecar: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode sidecar %s: %w", path, err)
	}
	return s, nil
}

// spoolBuffer is how much of a recording's tail gathers in memory before it is written to
// the spool file (the session also flushes it every second).
const spoolBuffer = 64 << 10

// spoolFile is the recording's local file: an io.WriteSeeker for ebml-go that tells the
// streamer how far the file has grown and which regions were rewritten.
type spoolFile struct {
	mu      sync.Mutex
	f       *os.File
	pos     int64
	size    int64
	tail    []byte         // the last bytes appended (up to size), not yet written to f
	sent    map[int64]bool // regions uploaded and not rewritten since
	closed  bool
	changed chan struct{} // signalled after every write
	rewrote int64         // end of the furthest write below the end of the file (seek-backs)
}

func createSpoolFile(path string) (*spoolFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	return &spoolFile{f: f, sent: map[int64]bool{}, changed: make(chan struct{}, 1)}, nil
}

// Write writes at the current position; regions it touches must be sent again. Appends
// gather in the tail buffer; a rewrite goes to the file at once.
func (s *spoolFile) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos == s.size {
		s.tail = append(s.tail, p...)
		s.advance(len(p))
		if len(s.tail) < spoolBuffer {
			return len(p), nil
		}
		return len(p), s.flushTail()
	}
	if err := s.flushTail(); err != nil {
		return 0, err
	}
	n, err := s.f.WriteAt(p, s.pos)
	s.rewrote = max(s.rewrote, s.pos+int64(n))
	s.advance(n)
	return n, err
}

// advance moves the position past n bytes written, unmarks the regions they touch and wakes
// the streamer when a region may be due.
func (s *spoolFile) advance(n int) {
	for r := s.pos / RegionSize; n > 0 && r <= (s.pos+int64(n)-1)/RegionSize; r++ {
		delete(s.sent, r)
	}
	before := s.size / RegionSize
	rewrite := s.pos < s.size
	s.pos += int64(n)
	s.size = max(s.size, s.pos)
	if !rewrite && s.size/RegionSize == before {
		return
	}
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// flushTail writes the tail buffer to the file.
func (s *spoolFile) flushTail() error {
	if len(s.tail) == 0 {
		return nil
	}
	_, err := s.f.WriteAt(s.tail, s.size-int64(len(s.tail)))
	s.tail = s.tail[:0]
	if err != nil {
		return fmt.Errorf("write spool file: %w", err)
	}
	return nil
}

// flush writes what is buffered to the file, so that a crash loses at most a second.
func (s *spoolFile) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushTail()
}

// Seek moves the write position.
func (s *spoolFile) Seek(offset int64, whence int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	if err := s.flushTail(); err != nil {
		return 0, err
	}
	s.pos = offset
	return offset, nil
}

// Close marks the file complete (ebml-go closes it when it has finished writing). It does not
// fsync: the file is uploaded at once, and a crash before that loses the session anyway.
func (s *spoolFile) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.flushTail()
}

// pending returns the regions due for upload: complete regions after the first that were not
// sent, or every unsent region once the file is final.
func (s *spoolFile) pending(final bool) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []int64
	n := (s.size + RegionSize - 1) / RegionSize
	for r := range n {
		complete := (r+1)*RegionSize <= s.size
		if !s.sent[r] && (final || (r > 0 && complete)) {
			rs = append(rs, r)
		}
	}
	return rs
}

// markSent records that a region went up, unless it was rewritten meanwhile (version check by
// comparing nothing: a write after this call deletes the mark again).
func (s *spoolFile) markSent(r int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[r] = true
}

// region returns a reader over region r and its size.
func (s *spoolFile) region(r int64) (io.Reader, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.flushTail(); err != nil {
		return nil, 0, err
	}
	size := min(RegionSize, s.size-r*RegionSize)
	return io.NewSectionReader(s.f, r*RegionSize, size), size, nil
}

func (s *spoolFile) length() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// streamer sends a growing spool file to blob storage as multipart parts: region k is part
// k+1. Parts 2…N go up while recording; part 1 (header, Duration, SeekHead, Cues, which
// ebml-go rewrites at the end) and the tail go up at finish.
type streamer struct {
	file   *spoolFile
	up     media.Upload
	log    interface{ Warn(string, ...any) }
	cancel context.CancelFunc // aborts an upload in flight
	quit   chan struct{}      // stops streaming after the part in flight
	done   chan struct{}
	once   sync.Once
	// timing of the last finish: sending the remaining parts, and Complete.
	parts, complete time.Duration
}

func newStreamer(file *spoolFile, up media.Upload, log interface{ Warn(string, ...any) }) *streamer {
	ctx, cancel := context.WithCancel(context.Background())
	s := &streamer{file: file, up: up, log: log, cancel: cancel, quit: make(chan struct{}), done: make(chan struct{})}
	go s.run(ctx)
	return s
}

// run uploads complete regions as the file grows.
func (s *streamer) run(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-s.quit:
			return
		case <-s.file.changed:
		}
		for _, r := range s.file.pending(false) {
			if err := s.send(ctx, r); err != nil && ctx.Err() == nil {
				s.log.Warn("stream part; it is sent again at the end", "part", r+1, "err", err)
			}
		}
	}
}

// send uploads region r. A write racing with the upload clears the mark again: the mark is
// set before reading, so a rewrite after it is never lost.
func (s *streamer) send(ctx context.Context, r int64) error {
	s.file.markSent(r)
	body, size, err := s.file.region(r)
	if err == nil {
		err = s.up.PutPart(ctx, int(r+1), body, size)
	}
	if err != nil {
		s.file.mu.Lock()
		delete(s.file.sent, r)
		s.file.mu.Unlock()
		return fmt.Errorf("put part %d: %w", r+1, err)
	}
	return nil
}

// finish stops streaming, sends every region not yet sent and completes the upload.
func (s *streamer) finish(ctx context.Context) error {
	s.stop()
	if s.file.length() == 0 {
		return errNoMedia
	}
	t0 := time.Now()
	for _, r := range s.file.pending(true) {
		if err := s.send(ctx, r); err != nil {
			return err
		}
	}
	t1 := time.Now()
	if err := s.up.Complete(ctx); err != nil {
		return fmt.Errorf("complete upload: %w", err)
	}
	s.parts, s.complete = t1.Sub(t0), time.Since(t1)
	return nil
}

// stop ends streaming once the part in flight is sent.
func (s *streamer) stop() {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	s.cancel()
}

// abort stops streaming and abandons the upload.
func (s *streamer) abort(ctx context.Context) error {
	s.cancel()
	s.stop()
	return s.up.Abort(ctx)
}

// remove deletes the spool file and its sidecar.
func (s *spoolFile) remove(dir, clipID string) error {
	name := s.f.Name()
	s.f.Close()
	return errors.Join(os.Remove(name), os.Remove(sidecarPath(dir, clipID)))
}
