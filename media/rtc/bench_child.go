package rtc

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"parley/media"
)

// BenchPublishersEnv names the environment variable that carries the configuration (JSON) of
// the benchmark's publisher process; see RunBenchPublishers.
const BenchPublishersEnv = "PARLEY_BENCH_PUBLISHERS"

// benchReportPrefix starts every report line of the publisher process, so that the parent
// can tell them from whatever else the process prints (e.g. a test binary's PASS).
const benchReportPrefix = "parley-bench: "

// benchChildConfig is what BenchIngest tells its publisher process.
type benchChildConfig struct {
	URL      string // signalling endpoint: POST application/sdp, 201 with the answer
	Clip     string // gob file of the (looped) Clip every publisher plays
	Streams  int
	Parallel int // publishers connecting at once
}

// benchChildReport is one line the publisher process writes: "sending" once every publisher
// is connected, then "sent" with the result when sending is over (or failed).
type benchChildReport struct {
	Event    string        `json:"event"`
	Video    int           `json:"video"`    // video frames sent
	Audio    int           `json:"audio"`    // audio frames sent
	CPU      time.Duration `json:"cpu"`      // process CPU (getrusage SELF) while sending
	Wall     time.Duration `json:"wall"`     // how long sending took
	TotalCPU time.Duration `json:"totalCPU"` // process CPU from start to the end of sending
	PeakRSS  int64         `json:"peakRSS"`  // VmHWM (bytes)
	MaxLate  time.Duration `json:"maxLate"`  // the latest a sample was written after its time
	Errors   []string      `json:"errors,omitempty"`
}

// RunBenchPublishers is the benchmark's publisher process: it reads its configuration
// (config, the value of BenchPublishersEnv), connects the publishers through the parent's
// signalling endpoint, plays the clip on all of them in real time, reports on out and hangs
// up when in reaches EOF (the parent closes it after stopping the sessions).
func RunBenchPublishers(ctx context.Context, log *slog.Logger, config string, in io.Reader, out io.Writer) error {
	var cfg benchChildConfig
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	clip, err := readClip(cfg.Clip)
	if err != nil {
		return reportFailure(out, err)
	}
	t0 := time.Now()
	pubs, err := connectPublishers(ctx, cfg, len(clip.Video) > 0)
	defer closeAll(pubs)
	if err != nil {
		return reportFailure(out, err)
	}
	log.Info("publishers connected", "streams", len(pubs), "took", time.Since(t0))
	if err := writeReport(out, benchChildReport{Event: "sending"}); err != nil {
		return err
	}
	r := sendPublishers(ctx, pubs, clip)
	if err := writeReport(out, r); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, in) // until the parent hangs up
	return err
}

// closeAll hangs up every publisher.
func closeAll(pubs []*Publisher) {
	for _, p := range pubs {
		p.Close()
	}
}

// writeReport writes one report line.
func writeReport(out io.Writer, r benchChildReport) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if _, err := fmt.Fprintf(out, "%s%s\n", benchReportPrefix, b); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// reportFailure reports err as the final result and returns it.
func reportFailure(out io.Writer, err error) error {
	return errors.Join(err, writeReport(out, benchChildReport{Event: "sent", Errors: []string{err.Error()}}))
}

// connectPublishers connects cfg.Streams publishers, cfg.Parallel at a time.
func connectPublishers(ctx context.Context, cfg benchChildConfig, video bool) ([]*Publisher, error) {
	client := whipClient{url: cfg.URL, client: &http.Client{Timeout: time.Minute}}
	pubs := make([]*Publisher, cfg.Streams)
	errs := make([]error, cfg.Streams)
	sem := make(chan struct{}, max(cfg.Parallel, 1))
	var wg sync.WaitGroup
	for i := range pubs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			pubs[i], errs[i] = connectPublisher(ctx, client, video)
		})
	}
	wg.Wait()
	var ok []*Publisher
	for _, p := range pubs {
		if p != nil {
			ok = append(ok, p)
		}
	}
	return ok, errors.Join(errs...)
}

// connectPublisher creates a minimal publisher, publishes it and waits until it is connected.
func connectPublisher(ctx context.Context, ing media.Ingest, video bool) (*Publisher, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	p, err := NewPublisher(PublisherOptions{Loopback: true, Minimal: true}, video)
	if err != nil {
		return nil, err
	}
	if _, err := p.Publish(ctx, ing, media.PublishRequest{}); err != nil {
		p.Close()
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := p.Connected(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// startSpread is the span over which the publishers start sending.
const startSpread = time.Second

// sendPublishers plays the clip on every publisher at once, their starts spread evenly over
// startSpread as people pressing record independently would be (started together, hundreds of
// 720p keyframes would arrive within one frame interval), and reports what was sent.
func sendPublishers(ctx context.Context, pubs []*Publisher, clip Clip) benchChildReport {
	r := benchChildReport{Event: "sent"}
	var mu sync.Mutex
	var wg sync.WaitGroup
	cpu0, t0 := cpuTime(), time.Now()
	for i, p := range pubs {
		start := t0.Add(time.Duration(i) * startSpread / time.Duration(len(pubs)))
		wg.Go(func() {
			s := sendClip(ctx, p, clip, start)
			mu.Lock()
			defer mu.Unlock()
			r.add(s)
		})
	}
	wg.Wait()
	r.CPU, r.Wall, r.TotalCPU, r.PeakRSS = cpuTime()-cpu0, time.Since(t0), cpuTime(), procStatus("VmHWM")
	return r
}

// add counts one publisher's result; it keeps the first errors only.
func (r *benchChildReport) add(s benchChildReport) {
	r.Video += s.Video
	r.Audio += s.Audio
	r.MaxLate = max(r.MaxLate, s.MaxLate)
	if len(r.Errors) < 10 {
		r.Errors = append(r.Errors, s.Errors...)
	}
}

// sendClip plays a clip on one publisher in real time from start, both tracks paced from it.
func sendClip(ctx context.Context, p *Publisher, clip Clip, start time.Time) benchChildReport {
	var r benchChildReport
	var wg sync.WaitGroup
	var vlate time.Duration
	var verr error
	if p.video != nil {
		wg.Go(func() { r.Video, vlate, verr = paceLate(ctx, p.video, clip.Video, start) })
	}
	n, alate, aerr := paceLate(ctx, p.audio, clip.Audio, start)
	wg.Wait()
	r.Audio, r.MaxLate = n, max(alate, vlate)
	for _, err := range []error{verr, aerr} {
		if err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	return r
}

// paceLate writes samples at their presentation times from start and returns how many it
// wrote and the latest it woke after a sample's time.
func paceLate(ctx context.Context, t *webrtc.TrackLocalStaticSample, samples []Sample, start time.Time) (int, time.Duration, error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var at, late time.Duration
	for i, s := range samples {
		due := start.Add(at)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return i, late, ctx.Err()
			case <-timer.C:
			}
		}
		late = max(late, time.Since(due))
		if err := t.WriteSample(pmedia.Sample{Data: s.Data, Duration: s.Duration}); err != nil {
			return i, late, fmt.Errorf("write sample: %w", err)
		}
		at += s.Duration
	}
	return len(samples), late, nil
}

// writeClip stores a clip for the publisher process.
func writeClip(path string, c Clip) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create clip file: %w", err)
	}
	if err := gob.NewEncoder(f).Encode(c); err != nil {
		f.Close()
		return fmt.Errorf("encode clip: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close clip file: %w", err)
	}
	return nil
}

// readClip loads a clip stored by writeClip.
func readClip(path string) (Clip, error) {
	var c Clip
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("open clip file: %w", err)
	}
	defer f.Close()
	if err := gob.NewDecoder(f).Decode(&c); err != nil {
		return c, fmt.Errorf("decode clip: %w", err)
	}
	return c, nil
}
