package rtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"parley/media"
)

// BenchOptions configure BenchIngest. Recordings and Blobs are the real ones the lead wires
// (the clips it creates are real clips); Video is pre-encoded VP8 (720p at 1.5 Mbps for the
// figures in the report), Voice is Opus (32 kbps).
type BenchOptions struct {
	Recordings   Recordings
	Blobs        media.Blobs
	Principal    media.Principal
	SpoolDir     string
	Log          *slog.Logger
	Video        []Sample
	Voice        []Sample
	VideoStreams int             // concurrent video publishers (with voice); default 4
	VoiceStreams int             // concurrent voice-only publishers; default 8
	Duration     time.Duration   // how long each publisher sends in real time; default 10 s
	LongClips    []time.Duration // recordings synthesised through the muxer and uploader (e.g. 1 and 10 minutes)
}

// Report is what BenchIngest measured.
type Report struct {
	Video PhaseReport
	Voice PhaseReport
	Long  []LongReport
}

// PhaseReport describes N publishers recorded concurrently over loopback WebRTC. CPU and heap
// include the publishers, which run in the same process: they bound the ingest's cost.
type PhaseReport struct {
	Streams      int
	Duration     time.Duration
	CPUPerStream float64 // share of one core per stream (ingest and publisher together)
	FramesSent   int
	FramesKept   int
	// FramesDropped were assembled incomplete or waited for a keyframe; PacketsGivenUp were
	// never repaired by NACK.
	FramesDropped  int
	PacketsGivenUp int
	HeapPerRec     int64 // heap growth per recording (bytes), sampled at the end of sending
	MaxRSS         int64 // process peak RSS (bytes)
	StopMax        time.Duration
	StopMean       time.Duration
	StopSlowest    StopTiming // where the slowest Stop spent its time
}

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

// BenchIngest runs the ingest benchmark: video and voice publishers on loopback, then long
// synthesised recordings.
func BenchIngest(ctx context.Context, o BenchOptions) (Report, error) {
	o = o.withDefaults()
	var r Report
	ing, err := New(Config{ListenIP: "127.0.0.1", Loopback: true, SpoolDir: o.SpoolDir, MaxSessions: o.VideoStreams + o.VoiceStreams + 1}, o.Recordings, o.Blobs, o.Log)
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

// benchPhase records n publishers of clip concurrently.
func benchPhase(ctx context.Context, ing *Ingest, o BenchOptions, n int, clip Clip) (PhaseReport, error) {
	r := PhaseReport{Streams: n, Duration: o.Duration}
	if n <= 0 {
		return r, nil
	}
	clip = Clip{Video: loop(clip.Video, o.Duration), Audio: loop(clip.Audio, o.Duration)}
	heap0 := heapInUse()
	pubs, sessions, err := connectAll(ctx, ing, o, n, len(clip.Video) > 0)
	defer closeAll(pubs)
	if err != nil {
		return r, err
	}
	cpu0, wall0 := cpuTime(), time.Now()
	sent, err := sendAll(ctx, pubs, clip)
	if err != nil {
		return r, err
	}
	r.CPUPerStream = (cpuTime() - cpu0).Seconds() / time.Since(wall0).Seconds() / float64(n)
	r.HeapPerRec = (heapInUse() - heap0) / int64(n)
	r.FramesSent = sent
	for _, s := range sessions {
		settle(s, sent/n)
	}
	r.StopMax, r.StopMean, err = stopAll(ctx, ing, sessions)
	for _, s := range sessions {
		if total(s.timing) > total(r.StopSlowest) {
			r.StopSlowest = s.timing
		}
		for _, st := range s.stats() {
			r.FramesKept += st.Frames
			r.FramesDropped += st.Dropped
			r.PacketsGivenUp += st.Skipped
			o.Log.Debug("bench track", "session", s.id, "stats", fmt.Sprintf("%+v", st))
		}
	}
	r.MaxRSS = maxRSS()
	return r, err
}

func total(t StopTiming) time.Duration { return t.Hangup + t.File + t.Upload + t.Domain }

func connectAll(ctx context.Context, ing *Ingest, o BenchOptions, n int, video bool) ([]*Publisher, []*session, error) {
	var pubs []*Publisher
	var sessions []*session
	for range n {
		p, err := NewPublisher(PublisherOptions{Loopback: true}, video)
		if err != nil {
			return pubs, sessions, err
		}
		pubs = append(pubs, p)
		res, err := p.Publish(ctx, ing, media.PublishRequest{Principal: o.Principal, Recording: media.RecordingRequest{Kind: media.KindAny, Title: "bench"}})
		if err != nil {
			return pubs, sessions, err
		}
		if err := p.Connected(ctx); err != nil {
			return pubs, sessions, err
		}
		s, err := ing.session(res.SessionID)
		if err != nil {
			return pubs, sessions, err
		}
		sessions = append(sessions, s)
	}
	return pubs, sessions, nil
}

func closeAll(pubs []*Publisher) {
	for _, p := range pubs {
		p.Close()
	}
}

// sendAll plays the clip on every publisher at once and returns the frames sent in total.
func sendAll(ctx context.Context, pubs []*Publisher, clip Clip) (int, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	var errs []error
	for _, p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, a, err := p.Send(ctx, clip)
			mu.Lock()
			defer mu.Unlock()
			total += v + a
			errs = append(errs, err)
		}()
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// settle waits until a session assembled want frames or its count stops moving for 2 s.
func settle(s *session, want int) {
	last, still := -1, 0
	for still < 20 {
		n := 0
		for _, st := range s.stats() {
			n += st.Frames
		}
		if n >= want {
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

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024 // kilobytes on Linux
}

func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// String formats the report as a small table.
func (r Report) String() string {
	var b strings.Builder
	for _, p := range []struct {
		name string
		r    PhaseReport
	}{{"video 720p+voice", r.Video}, {"voice only", r.Voice}} {
		fmt.Fprintf(&b, "%-17s streams %d × %s: CPU %.1f%% of a core per stream, frames kept %d/%d (dropped %d, packets given up %d), heap %.1f MiB per recording, peak RSS %.0f MiB, Stop max %s mean %s (slowest: %+v)\n",
			p.name, p.r.Streams, p.r.Duration, 100*p.r.CPUPerStream, p.r.FramesKept, p.r.FramesSent, p.r.FramesDropped, p.r.PacketsGivenUp,
			float64(p.r.HeapPerRec)/(1<<20), float64(p.r.MaxRSS)/(1<<20), p.r.StopMax.Round(time.Millisecond), p.r.StopMean.Round(time.Millisecond), p.r.StopSlowest)
	}
	for _, l := range r.Long {
		fmt.Fprintf(&b, "long %-12s %.1f MiB: muxed and streamed in %s, Stop→playable %s (close %s, last parts %s, complete %s)\n",
			l.Duration, float64(l.Bytes)/(1<<20), l.Write.Round(time.Millisecond), l.Finish.Round(time.Millisecond),
			l.Close.Round(time.Millisecond), l.Parts.Round(time.Millisecond), l.Complete.Round(time.Millisecond))
	}
	return b.String()
}
