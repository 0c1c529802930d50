package rtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"parley/media"
)

// BenchOptions configure BenchIngest. Recordings and Blobs are the real ones the lead wires
// (the clips it creates are real clips); Video is pre-encoded VP8 (720p at 1.5 Mbps for the
// figures in the report), Voice is Opus (32 kbps).
type BenchOptions struct {
	Recordings Recordings
	Blobs      media.Blobs
	Principal  media.Principal
	SpoolDir   string
	Log        *slog.Logger
	Video      []Sample
	Voice      []Sample
	// PublisherCommand returns the command of the publisher process, one per phase: a program
	// that calls RunBenchPublishers (e.g. the test binary re-executed). BenchIngest adds
	// BenchPublishersEnv to its environment. Required.
	PublisherCommand func(ctx context.Context) *exec.Cmd
	VideoStreams     int             // concurrent video publishers (with voice); default 4
	VoiceStreams     int             // concurrent voice-only publishers; default 8
	Duration         time.Duration   // how long each publisher sends in real time; default 10 s
	Parallel         int             // publishers connecting at once; default 16
	LongClips        []time.Duration // recordings synthesised through the muxer and uploader (e.g. 1 and 10 minutes)
}

// Report is what BenchIngest measured.
type Report struct {
	Video PhaseReport
	Voice PhaseReport
	Long  []LongReport
}

// PhaseReport describes N publishers recorded concurrently over loopback WebRTC. The
// publishers run in a separate process: the server figures are the ingest's own (with
// whatever else the benchmark process does, which is little while sending).
type PhaseReport struct {
	Streams  int
	Duration time.Duration
	// CPUPerStream is the server's CPU (getrusage of this process) over the sending window,
	// as a share of one core per stream.
	CPUPerStream float64
	// PublisherCPUPerStream is the same for the publisher process.
	PublisherCPUPerStream float64
	PublisherMaxLate      time.Duration // the latest a publisher wrote a sample after its time
	PublisherPeakRSS      int64         // the publisher process's peak RSS (bytes)
	Video, Audio          FrameCount
	// FramesDropped were assembled incomplete or waited for a keyframe; PacketsGivenUp were
	// never repaired by NACK; UDPDrops are datagrams the kernel dropped at the ingest's socket
	// (receive buffer full).
	FramesDropped  int
	PacketsGivenUp int
	UDPDrops       int
	HeapPerRec     int64 // server heap growth per recording (bytes), after GC at the end of sending
	RSSPerRec      int64 // server RSS growth per recording (bytes), from before connecting to the end of sending
	PeakRSS        int64 // server peak RSS during the phase (VmHWM, bytes)
	StopMax        time.Duration
	StopMean       time.Duration
	StopSlowest    StopTiming // where the slowest Stop spent its time
}

// FrameCount counts one kind of frame: sent by the publishers, kept (written to the recording)
// by the ingest.
type FrameCount struct{ Sent, Kept int }

// LongReport describes one long recording written at full speed through the muxer, the spool
// and the streamed multipart upload, then finished as Stop finishes a session.
type LongReport struct {
	Duration time.Duration // media time
	Bytes    int64
	Write    time.Duration // time to mux and stream everything
	Finish   time.Duration // Stop→playable: Cues/Duration written, part 1 and tail sent, Complete
	// Where Finish goes: closing the WebM (Cues, Duration), sending the remaining parts
	// (part 1 and the tail), completing the upload.
	Close, Parts, Complete time.Duration
}

// BenchIngest runs the ingest benchmark: video and voice publishers (in a separate process)
// on loopback, then long synthesised recordings.
func BenchIngest(ctx context.Context, o BenchOptions) (Report, error) {
	o = o.withDefaults()
	var r Report
	if o.PublisherCommand == nil {
		return r, errors.New("bench: PublisherCommand is required")
	}
	ing, err := benchIngest(o)
	if err != nil {
		return r, err
	}
	defer ing.Close(context.Background())
	if r.Video, err = benchPhase(ctx, ing, o, o.VideoStreams, Clip{Video: o.Video, Audio: o.Voice}); err != nil {
		return r, fmt.Errorf("video phase: %w", err)
	}
	if r.Voice, err = benchPhase(ctx, ing, o, o.VoiceStreams, Clip{Audio: o.Voice}); err != nil {
		return r, fmt.Errorf("voice phase: %w", err)
	}
	for _, d := range o.LongClips {
		lr, err := benchLong(ctx, o, d)
		if err != nil {
			return r, fmt.Errorf("long clip %s: %w", d, err)
		}
		r.Long = append(r.Long, lr)
	}
	return r, nil
}

// benchIngest starts the ingest under test: room for every publisher, and an inactivity
// limit that outlasts connecting hundreds of them.
func benchIngest(o BenchOptions) (*Ingest, error) {
	cfg := Config{ListenIP: "127.0.0.1", Loopback: true, SpoolDir: o.SpoolDir,
		MaxSessions: o.VideoStreams + o.VoiceStreams + 1, Inactivity: time.Minute}
	ing, err := New(cfg, o.Recordings, o.Blobs, o.Log)
	if err != nil {
		return nil, err
	}
	return ing, nil
}

func (o BenchOptions) withDefaults() BenchOptions {
	if o.VideoStreams == 0 {
		o.VideoStreams = 4
	}
	if o.VoiceStreams == 0 {
		o.VoiceStreams = 8
	}
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Parallel == 0 {
		o.Parallel = 16
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// loop repeats samples to fill d.
func loop(samples []Sample, d time.Duration) []Sample {
	var out []Sample
	var at time.Duration
	for i := 0; len(samples) > 0 && at < d; i++ {
		s := samples[i%len(samples)]
		out = append(out, s)
		at += s.Duration
	}
	return out
}

// benchPhase records n publishers of clip concurrently. The publishers run in a child
// process and connect through a loopback signalling endpoint; this process only serves them.
func benchPhase(ctx context.Context, ing *Ingest, o BenchOptions, n int, clip Clip) (PhaseReport, error) {
	r := PhaseReport{Streams: n, Duration: o.Duration}
	if n <= 0 {
		return r, nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration+5*time.Minute)
	defer cancel()
	sig, err := startSignal(ing, media.PublishRequest{Principal: o.Principal, Recording: media.RecordingRequest{Kind: media.KindAny, Title: "bench"}}, o.Log)
	if err != nil {
		return r, err
	}
	defer sig.close()
	cfg := benchChildConfig{URL: sig.url, Streams: n, Parallel: o.Parallel}
	dir, err := writeBenchClip(&cfg, clip, o.Duration)
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	base := baseline(ing.Port())
	child, err := startChild(ctx, o.PublisherCommand, cfg)
	if err != nil {
		return r, err
	}
	defer child.hangup()
	sessions, err := r.measureSending(ing, child, sig, base)
	if err != nil {
		return r, err
	}
	r.StopMax, r.StopMean, err = stopAll(ctx, ing, sessions)
	r.count(sessions, o.Log)
	return r, errors.Join(err, child.hangup())
}

// writeBenchClip stores the clip, looped to d, in a new temporary directory for the
// publisher process and returns the directory.
func writeBenchClip(cfg *benchChildConfig, clip Clip, d time.Duration) (string, error) {
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return "", fmt.Errorf("create clip dir: %w", err)
	}
	cfg.Clip = filepath.Join(dir, "clip.gob")
	if err := writeClip(cfg.Clip, Clip{Video: loop(clip.Video, d), Audio: loop(clip.Audio, d)}); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// phaseBase is the server's state before a phase's publishers connect.
type phaseBase struct {
	heap, rss int64
	drops     int
}

// baseline returns freed memory to the system first, so that RSS growth is the phase's own.
func baseline(port int) phaseBase {
	resetMemory()
	return phaseBase{heap: heapInUse(), rss: procStatus("VmRSS"), drops: udpDrops(port)}
}

// measureSending waits until the publisher process has sent everything, records what the
// server and the publishers spent on it and returns the sessions once they have settled.
func (r *PhaseReport) measureSending(ing *Ingest, child *benchChild, sig *benchSignal, base phaseBase) ([]*session, error) {
	if _, err := child.next("sending"); err != nil {
		return nil, err
	}
	cpu0, wall0 := cpuTime(), time.Now()
	sent, err := child.next("sent")
	if err != nil {
		return nil, err
	}
	cpu, wall, n := cpuTime()-cpu0, time.Since(wall0), int64(r.Streams)
	r.RSSPerRec, r.PeakRSS = (procStatus("VmRSS")-base.rss)/n, procStatus("VmHWM")
	r.HeapPerRec = (heapInUse() - base.heap) / n
	r.CPUPerStream = cpu.Seconds() / wall.Seconds() / float64(n)
	r.PublisherCPUPerStream = sent.CPU.Seconds() / sent.Wall.Seconds() / float64(n)
	r.PublisherMaxLate, r.PublisherPeakRSS = sent.MaxLate, sent.PeakRSS
	r.Video.Sent, r.Audio.Sent = sent.Video, sent.Audio
	sessions := sig.started()
	if len(sessions) != r.Streams {
		return sessions, fmt.Errorf("publishers started %d sessions, want %d", len(sessions), r.Streams)
	}
	settle((sent.Video+sent.Audio)/r.Streams, sessions...)
	r.UDPDrops = udpDrops(ing.Port()) - base.drops
	return sessions, nil
}

// count adds up the frames the sessions kept and dropped and finds the slowest Stop.
func (r *PhaseReport) count(sessions []*session, log *slog.Logger) {
	for _, s := range sessions {
		if total(s.timing) > total(r.StopSlowest) {
			r.StopSlowest = s.timing
		}
		for _, st := range s.stats() {
			fc := &r.Video
			if st.Audio {
				fc = &r.Audio
			}
			fc.Kept += st.Written
			r.FramesDropped += st.Dropped
			r.PacketsGivenUp += st.Skipped
			log.Debug("bench track", "session", s.id, "stats", fmt.Sprintf("%+v", st))
		}
	}
}

func total(t StopTiming) time.Duration { return t.Hangup + t.File + t.Upload + t.Domain }

// settle waits until each session assembled want frames, or their total stops moving for 2 s.
func settle(want int, sessions ...*session) {
	last, still := -1, 0
	for still < 20 {
		n := 0
		for _, s := range sessions {
			for _, st := range s.stats() {
				n += st.Frames
			}
		}
		if n >= want*len(sessions) {
			return
		}
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopAll stops every session at once and returns the slowest and mean Stop.
func stopAll(ctx context.Context, ing *Ingest, sessions []*session) (time.Duration, time.Duration, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var worst, sum time.Duration
	var errs []error
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			_, err := ing.Stop(ctx, s.id)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			worst, sum = max(worst, d), sum+d
			errs = append(errs, err)
		}()
	}
	wg.Wait()
	return worst, sum / time.Duration(len(sessions)), errors.Join(errs...)
}

// benchLong writes d of video and voice through the recording path as fast as it goes, then
// finishes it and measures how long finishing takes.
func benchLong(ctx context.Context, o BenchOptions, d time.Duration) (LongReport, error) {
	r := LongReport{Duration: d}
	clipID := "bench" + media.NewID()
	f, err := createSpoolFile(mediaPath(o.SpoolDir, clipID, "webm"))
	if err != nil {
		return r, err
	}
	defer f.remove(o.SpoolDir, clipID)
	key := media.OriginalKey(clipID, "webm")
	up, err := o.Blobs.NewUpload(ctx, key, "video/webm")
	if err != nil {
		return r, fmt.Errorf("start upload: %w", err)
	}
	defer o.Blobs.Delete(context.Background(), key)
	st := newStreamer(f, up, o.Log)
	m := newMuxer(f, []codec{codecOpus, codecVP8}, d+time.Minute)
	t0 := time.Now()
	if err := feed(m, loop(o.Voice, d), loop(o.Video, d)); err != nil {
		st.abort(ctx)
		return r, err
	}
	r.Write = time.Since(t0)
	t1 := time.Now()
	err = m.close()
	r.Close = time.Since(t1)
	err = errors.Join(err, st.finish(ctx))
	r.Finish, r.Bytes, r.Parts, r.Complete = time.Since(t1), f.length(), st.parts, st.complete
	return r, err
}

// feed pushes audio and video frames to the muxer in time order with synthetic times.
func feed(m *muxer, audio, video []Sample) error {
	var ta, tv time.Duration
	at := time.Now()
	for len(audio) > 0 || len(video) > 0 {
		track, s := 0, Sample{}
		if len(video) > 0 && (len(audio) == 0 || tv < ta) {
			track, s, video = 1, video[0], video[1:]
		} else {
			s, audio = audio[0], audio[1:]
		}
		ts := &ta
		if track == 1 {
			ts = &tv
		}
		key, _, _ := m.tracks[track].codec.keyframe(s.Data)
		if err := m.push(track, frame{ns: int64(*ts), key: key, data: s.Data, at: at}); err != nil {
			return err
		}
		*ts += s.Duration
	}
	return nil
}

// String formats the report as a small table.
func (r Report) String() string {
	var b strings.Builder
	for _, p := range []struct {
		name string
		r    PhaseReport
	}{{"video 720p+voice", r.Video}, {"voice only", r.Voice}} {
		p.r.format(&b, p.name)
	}
	for _, l := range r.Long {
		fmt.Fprintf(&b, "long %-12s %.1f MiB: muxed and streamed in %s, Stop→playable %s (close %s, last parts %s, complete %s)\n",
			l.Duration, float64(l.Bytes)/(1<<20), l.Write.Round(time.Millisecond), l.Finish.Round(time.Millisecond),
			l.Close.Round(time.Millisecond), l.Parts.Round(time.Millisecond), l.Complete.Round(time.Millisecond))
	}
	return b.String()
}

// format writes one phase as three lines (go test keeps only ten lines of a benchmark's log).
func (p PhaseReport) format(b *strings.Builder, name string) {
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	fmt.Fprintf(b, "%-16s %d × %s; server: CPU %.2f%% of a core per stream, per recording heap %.2f MiB and RSS %.2f MiB, peak RSS %.0f MiB\n",
		name, p.Streams, p.Duration, 100*p.CPUPerStream, mib(p.HeapPerRec), mib(p.RSSPerRec), mib(p.PeakRSS))
	fmt.Fprintf(b, "  publishers: CPU %.2f%% per stream, pacing ≤ %s late, peak RSS %.0f MiB; kept/sent video %d/%d, audio %d/%d; dropped %d, given up %d, UDP drops %d\n",
		100*p.PublisherCPUPerStream, ms(p.PublisherMaxLate), mib(p.PublisherPeakRSS),
		p.Video.Kept, p.Video.Sent, p.Audio.Kept, p.Audio.Sent, p.FramesDropped, p.PacketsGivenUp, p.UDPDrops)
	t := p.StopSlowest
	fmt.Fprintf(b, "  Stop max %s mean %s; slowest: hangup %s, file %s, upload %s, domain %s\n",
		ms(p.StopMax), ms(p.StopMean), ms(t.Hangup), ms(t.File), ms(t.Upload), ms(t.Domain))
}
