package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"parley/api"
	"parley/media"
	"parley/media/ffmpeg"
	"parley/media/rtc"
	"parley/media/waveform"
	"parley/worker"
)

// shutdownGrace bounds how long in-flight requests, recordings and tasks get at shutdown.
const shutdownGrace = 25 * time.Second

func runMigrate(ctx context.Context, cfg *Config, log *slog.Logger) error {
	d := &deps{cfg: cfg, log: log}
	defer d.close()
	if err := d.openStore(ctx); err != nil {
		return err
	}
	log.Info("migrated", "database", d.store.Dialect())
	return nil
}

// runAll serves HTTP and ingest and runs the workers in one process.
func runAll(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	d, err := openDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.close()
	return together(ctx, func(ctx context.Context) error { return serve(ctx, d, stdout) },
		func(ctx context.Context) error { return work(ctx, d) })
}

func runServe(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	d, err := openDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.close()
	return serve(ctx, d, stdout)
}

func runWorker(ctx context.Context, cfg *Config, log *slog.Logger) error {
	d, err := openDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.close()
	probes := d.server(ctx, nil).ProbeApp()
	return together(ctx, func(ctx context.Context) error { return work(ctx, d) },
		func(ctx context.Context) error { return listen(ctx, probes, d) })
}

// together runs fns until ctx ends or one fails, then stops the rest and waits for them.
func together(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(ctx)
			cancel()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// serve runs the HTTP API and the WHIP ingest until ctx ends, then drains both.
func serve(ctx context.Context, d *deps, stdout io.Writer) error {
	if err := d.ensureAdmin(ctx, stdout); err != nil {
		return err
	}
	ingest, err := d.openIngest(ctx)
	if err != nil {
		return err
	}
	err = listen(ctx, d.server(ctx, ingest).App(), d)
	closeCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return errors.Join(err, ingest.Close(closeCtx))
}

// listen serves app on the configured address until ctx ends, then lets requests finish.
func listen(ctx context.Context, app *fiber.App, d *deps) error {
	ln, err := net.Listen("tcp", d.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", d.cfg.Addr, err)
	}
	d.log.Info("listening", "addr", ln.Addr().String(), "base_url", d.cfg.BaseURL)
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return errors.Join(err, app.ShutdownWithContext(shutdownCtx))
}

func (d *deps) server(ctx context.Context, ingest media.Ingest) *api.Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &api.Server{
		Service: d.service, Blobs: d.blobs, BaseURL: d.cfg.BaseURL, Log: d.log,
		Ingest: ingest, BlobHandler: d.blobHandler, ICEServers: iceServers(d.cfg.ICEServers),
		Registry: reg, Done: ctx.Done(),
		Ready: map[string]api.Pinger{"database": d.store, "queue": d.queue, "blobs": d.blobs},
	}
}

func (d *deps) openIngest(ctx context.Context) (*rtc.Ingest, error) {
	in, err := rtc.New(rtc.Config{
		UDPPort: d.cfg.UDPPort, Loopback: d.cfg.ICELoopback, ListenIP: d.cfg.ICEListenIP, PublicIPs: splitList(d.cfg.PublicIPs), MaxSessions: d.cfg.MaxSessions,
		SpoolDir: filepath.Join(d.cfg.DataDir, "spool"), ICEServers: rtcICEServers(d.cfg.ICEServers),
	}, d.service, d.blobs, d.log)
	if err != nil {
		return nil, fmt.Errorf("start ingest: %w", err)
	}
	if n, err := in.Recover(ctx); err != nil {
		d.log.Error("recover recordings", "err", err)
	} else if n > 0 {
		d.log.Info("recovered interrupted recordings", "count", n)
	}
	return in, nil
}

// work runs the asynq workers and periodic jobs until ctx ends, then lets tasks finish.
func work(ctx context.Context, d *deps) error {
	if err := ffmpeg.Ensure(ctx, d.log); err != nil {
		return err
	}
	tmp := filepath.Join(d.cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return fmt.Errorf("create worker temp dir: %w", err)
	}
	wd := worker.Deps{Service: d.service, Store: d.store, Blobs: d.blobs,
		Transcoder: ffmpeg.Transcoder{Runner: &ffmpeg.Runner{Log: d.log, Preset: d.cfg.X264Preset}},
		Waveform:   waveform.Renderer{}, HTTP: &http.Client{Timeout: 15 * time.Second}, Log: d.log, TempDir: tmp}
	srv := worker.NewServer(d.redis, d.log, d.cfg.Concurrency)
	if err := srv.Start(worker.NewMux(wd, d.queue)); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	worker.RunPeriodic(ctx, wd, d.queue, time.Minute)
	srv.Shutdown()
	return nil
}

// iceServers parses "stun:host:port" and "turn:user:pass@host:port" entries.
func iceServers(list string) []api.ICEServer {
	var out []api.ICEServer
	for _, v := range splitList(list) {
		s := api.ICEServer{URL: v}
		scheme, rest, _ := strings.Cut(v, ":")
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			s.URL = scheme + ":" + rest[i+1:]
			s.Username, s.Credential, _ = strings.Cut(rest[:i], ":")
		}
		out = append(out, s)
	}
	return out
}

func rtcICEServers(list string) []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, s := range iceServers(list) {
		out = append(out, webrtc.ICEServer{URLs: []string{s.URL}, Username: s.Username, Credential: s.Credential})
	}
	return out
}
