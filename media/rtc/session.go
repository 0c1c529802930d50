package rtc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/media"
)

// bitrateWindow is the span (in seconds) over which a session's bitrate is measured against
// MaxBitrate.
const bitrateWindow = 10

// session is one WHIP publisher being recorded.
type session struct {
	id, clipID, workspaceID string
	kind                    media.ClipKind
	ext                     string
	ing                     *Ingest
	pc                      *webrtc.PeerConnection
	answer                  string
	limit                   time.Duration
	startedAt               time.Time
	file                    *spoolFile
	side                    *sidecarFile
	stream                  *streamer
	mux                     *muxer
	clock                   *sessionClock
	ready                   chan struct{} // closed once the session is registered
	stopped                 chan struct{} // closed when finalizing starts
	firstMedia              chan struct{} // closed at the first packet
	firstOnce               sync.Once

	mu          sync.Mutex
	etag        string
	remoteUfrag string
	closing     bool
	readers     []*trackReader
	tracks      sync.WaitGroup

	lastMedia atomic.Int64 // Unix ns of the last packet
	bytes     atomic.Int64 // RTP payload bytes received

	once   sync.Once
	fin    chan struct{} // closed when finalizing is over
	clip   *media.Clip
	err    error
	timing StopTiming
}

// StopTiming is where finalizing a session (Stop) spends its time.
type StopTiming struct {
	Hangup time.Duration // closing the peer connection, flushing the tracks
	File   time.Duration // writing what was buffered, Cues and Duration
	Upload time.Duration // the remaining parts and Complete
	Domain time.Duration // FinishRecording (database, queue)
}

// newSession sets up the spool, the upload and the muxer of a started clip.
func (i *Ingest) newSession(ctx context.Context, pc *webrtc.PeerConnection, clip *media.Clip, limit time.Duration, answer string) (*session, error) {
	s := &session{
		id: media.NewID(), clipID: clip.ID, workspaceID: clip.WorkspaceID, kind: clip.Kind, ing: i, pc: pc,
		answer: answer, limit: limit, startedAt: time.Now(), clock: &sessionClock{},
		ready: make(chan struct{}), stopped: make(chan struct{}), fin: make(chan struct{}), firstMedia: make(chan struct{}),
	}
	s.lastMedia.Store(time.Now().UnixNano())
	s.etag = etag(sdpAttribute(answer, "ice-ufrag"))
	s.remoteUfrag = sdpAttribute(pc.RemoteDescription().SDP, "ice-ufrag")
	codecs := sessionCodecs(answer)
	s.ext = "webm"
	if len(codecs) > 0 {
		s.ext = codecs[len(codecs)-1].container()
	}
	if err := s.openSpool(ctx, codecs); err != nil {
		return nil, err
	}
	pc.OnTrack(s.onTrack)
	pc.OnICEConnectionStateChange(func(st webrtc.ICEConnectionState) {
		if st == webrtc.ICEConnectionStateFailed {
			go s.finalize(context.Background(), true, "ice failed")
		}
	})
	return s, nil
}

// sessionCodecs lists the answer's accepted codecs: audio first, then video.
func sessionCodecs(answer string) []codec {
	var cs []codec
	if answerHasAudio(answer) {
		cs = append(cs, codecOpus)
	}
	if v, ok := answerVideoCodec(answer); ok {
		cs = append(cs, v)
	}
	return cs
}

func (s *session) contentType() string {
	switch {
	case s.ext == "mkv":
		return "video/x-matroska"
	case s.kind == media.KindAudio:
		return "audio/webm"
	}
	return "video/webm"
}

func (s *session) sidecar() sidecar {
	_, dur := s.mux.stats()
	w, h := s.mux.size()
	return sidecar{ClipID: s.clipID, Kind: s.kind, Ext: s.ext, StartedAt: s.startedAt, DurationMS: dur, Width: w, Height: h, ContentType: s.contentType()}
}

// openSpool creates the spool file, its sidecar, the multipart upload and the muxer.
func (s *session) openSpool(ctx context.Context, codecs []codec) error {
	dir := s.ing.cfg.SpoolDir
	f, err := createSpoolFile(mediaPath(dir, s.clipID, s.ext))
	if err != nil {
		return err
	}
	s.file, s.mux = f, newMuxer(f, codecs, s.limit)
	if s.side, err = createSidecar(dir, s.sidecar()); err != nil {
		f.remove(dir, s.clipID)
		return err
	}
	up, err := s.ing.blobs.NewUpload(ctx, media.OriginalKey(s.clipID, s.ext), s.contentType())
	if err != nil {
		s.side.close()
		f.remove(dir, s.clipID)
		return fmt.Errorf("start upload: %w", err)
	}
	s.stream = newStreamer(f, up, s.ing.log)
	return nil
}

// sdpAttribute returns the first value of an a=<name>: line.
func sdpAttribute(sdp, name string) string {
	for _, l := range strings.Split(sdp, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), "a="+name+":"); ok {
			return v
		}
	}
	return ""
}

func (s *session) currentETag() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.etag
}

// media notes that a packet arrived.
func (s *session) media(now time.Time, bytes int) {
	s.lastMedia.Store(now.UnixNano())
	s.bytes.Add(int64(bytes))
	s.firstOnce.Do(func() { close(s.firstMedia) })
}

// watch ends the session at its duration limit (counted from the first packet), after
// Inactivity without media, or when it stays above the bitrate cap; it also keeps the
// sidecar's duration current.
func (s *session) watch() {
	var limit <-chan time.Time
	first := s.firstMedia
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var window []int64
	for {
		select {
		case <-s.stopped:
			return
		case <-first:
			first, limit = nil, time.After(s.limit)
			continue
		case <-limit:
			go s.finalize(context.Background(), false, "duration limit")
			return
		case <-tick.C:
		}
		if reason := s.check(&window); reason != "" {
			go s.finalize(context.Background(), true, reason)
			return
		}
		s.checkpoint()
	}
}

// check returns why the session must end now, or "".
func (s *session) check(window *[]int64) string {
	if time.Since(time.Unix(0, s.lastMedia.Load())) > s.ing.cfg.inactivity() {
		return "inactive"
	}
	span := s.ing.bitrateWindow
	*window = append(*window, s.bytes.Load())
	if len(*window) > span+1 {
		*window = (*window)[1:]
	}
	w := *window
	limit := int64(s.ing.cfg.MaxBitrate)
	if limit > 0 && len(w) > span && (w[len(w)-1]-w[0])*8/int64(span) > 2*limit {
		return "over the bitrate limit"
	}
	return ""
}

// checkpoint writes the buffered recording and the current sidecar to the spool, so that a
// crash loses at most the last second.
func (s *session) checkpoint() {
	if err := errors.Join(s.file.flush(), s.side.update(s.sidecar())); err != nil {
		s.ing.log.Warn("checkpoint spool", "clip", s.clipID, "err", err)
	}
}

// finalize ends the session once; later calls wait for and return the same outcome.
func (s *session) finalize(ctx context.Context, interrupted bool, reason string) (*media.Clip, error) {
	s.once.Do(func() { go s.finish(interrupted, reason) })
	select {
	case <-s.fin:
		return s.clip, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// finish stops the track readers, completes the file and the upload, reports the recording to
// the domain, and closes the peer connection.
func (s *session) finish(interrupted bool, reason string) {
	defer close(s.fin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s.ing.log.Info("recording ends", "session", s.id, "clip", s.clipID, "reason", reason, "interrupted", interrupted)
	close(s.stopped)
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	t0 := time.Now()
	s.interruptReads()
	s.tracks.Wait()
	s.timing.Hangup = time.Since(t0)
	s.clip, s.err = s.complete(ctx, interrupted)
	s.side.close()
	if err := s.pc.Close(); err != nil {
		s.ing.log.Warn("close peer connection", "session", s.id, "err", err)
	}
	s.ing.release()
	s.ing.log.Info("recording finished", "session", s.id, "clip", s.clipID, "err", s.err, "hangup", s.timing.Hangup,
		"file", s.timing.File, "upload", s.timing.Upload, "domain", s.timing.Domain)
	time.AfterFunc(time.Minute, func() { s.ing.forget(s.id) })
}

// interruptReads wakes every track reader at once: they see the session stopping, flush what
// they hold and end. The peer connection is closed after the recording is complete, off the
// path of the DELETE response.
func (s *session) interruptReads() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.readers {
		t.track.SetReadDeadline(time.Now())
	}
}

// complete finishes the file and the upload and tells the domain.
func (s *session) complete(ctx context.Context, interrupted bool) (*media.Clip, error) {
	dir := s.ing.cfg.SpoolDir
	t0 := time.Now()
	err := s.mux.close()
	s.timing.File = time.Since(t0)
	if errors.Is(err, errNoMedia) {
		return nil, s.noMedia(ctx)
	}
	if err != nil {
		s.ing.log.Error("finish webm; uploading what was written", "clip", s.clipID, "err", err)
	}
	t1 := time.Now()
	if err := s.stream.finish(ctx); err != nil {
		return nil, fmt.Errorf("upload original of %s (kept in the spool for recovery): %w", s.clipID, err)
	}
	s.timing.Upload = time.Since(t1)
	if err := s.file.remove(dir, s.clipID); err != nil {
		s.ing.log.Warn("remove spool file", "clip", s.clipID, "err", err)
	}
	_, dur := s.mux.stats()
	w, h := s.mux.size()
	r := media.Recording{OriginalKey: media.OriginalKey(s.clipID, s.ext), DurationMS: dur, Width: w, Height: h, Interrupted: interrupted}
	t2 := time.Now()
	defer func() { s.timing.Domain = time.Since(t2) }()
	return s.ing.rec.FinishRecording(ctx, s.clipID, r)
}

// noMedia fails the clip of a session that never received a frame.
func (s *session) noMedia(ctx context.Context) error {
	if err := s.stream.abort(ctx); err != nil {
		s.ing.log.Warn("abort upload", "clip", s.clipID, "err", err)
	}
	if err := s.file.remove(s.ing.cfg.SpoolDir, s.clipID); err != nil {
		s.ing.log.Warn("remove spool file", "clip", s.clipID, "err", err)
	}
	if err := s.ing.rec.FailRecording(ctx, s.clipID, "no media was received"); err != nil {
		return fmt.Errorf("fail recording: %w", err)
	}
	return media.Errorf(media.EINVALID, "the recording received no media; clip %s failed", s.clipID)
}

func (i *Ingest) forget(id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	delete(i.sessions, id)
}
