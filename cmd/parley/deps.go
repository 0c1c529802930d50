package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"

	"parley/media"
	"parley/media/localfs"
	"parley/media/s3"
	sqlstore "parley/media/sql"
	"parley/worker"
)

// deps are the opened adapters one process shares.
type deps struct {
	cfg         *Config
	log         *slog.Logger
	store       *sqlstore.Store
	blobs       media.Blobs
	blobHandler http.Handler // local blobs serve their signed URLs through the API
	redis       asynq.RedisConnOpt
	queue       *worker.Queue
	service     *media.Service
	closers     []func()
}

// openDeps opens the store (migrated), blobs and queue named by cfg, embedded where unset.
func openDeps(ctx context.Context, cfg *Config, log *slog.Logger) (*deps, error) {
	d := &deps{cfg: cfg, log: log}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	for _, open := range []func(context.Context) error{d.openStore, d.openBlobs, d.openQueue} {
		if err := open(ctx); err != nil {
			d.close()
			return nil, err
		}
	}
	d.service = media.NewService(d.store, d.queue)
	d.service.Log, d.service.Blobs = log, d.blobs
	d.service.MaxRecordingS = int(cfg.MaxRecording / time.Second)
	return d, nil
}

func (d *deps) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

func (d *deps) databaseURL() string {
	if d.cfg.DatabaseURL != "" {
		return d.cfg.DatabaseURL
	}
	return filepath.Join(d.cfg.DataDir, "parley.db")
}

func (d *deps) openStore(ctx context.Context) error {
	st, err := sqlstore.Open(ctx, d.databaseURL())
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	d.closers = append(d.closers, func() { st.Close() })
	d.store = st
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	return nil
}

func (d *deps) openBlobs(ctx context.Context) error {
	if d.cfg.S3Endpoint != "" {
		return d.openS3(ctx)
	}
	secret, err := d.secret()
	if err != nil {
		return err
	}
	b, err := localfs.New(filepath.Join(d.cfg.DataDir, "blobs"), d.cfg.BaseURL, secret)
	if err != nil {
		return fmt.Errorf("open local blobs: %w", err)
	}
	d.blobs, d.blobHandler = b, b
	return nil
}

func (d *deps) openS3(ctx context.Context) error {
	b, err := s3.New(s3.Config{
		Endpoint: d.cfg.S3Endpoint, AccessKey: d.cfg.S3AccessKey, SecretKey: d.cfg.S3SecretKey,
		Bucket: d.cfg.S3Bucket, Region: d.cfg.S3Region, Secure: d.cfg.S3Secure,
	})
	if err != nil {
		return fmt.Errorf("open s3: %w", err)
	}
	if err := b.EnsureBucket(ctx); err != nil {
		return fmt.Errorf("ensure bucket %s: %w", d.cfg.S3Bucket, err)
	}
	d.blobs = b
	return nil
}

// secret returns the key for local signed URLs: PARLEY_SECRET or one kept in the data dir.
func (d *deps) secret() ([]byte, error) {
	if d.cfg.Secret != "" {
		return []byte(d.cfg.Secret), nil
	}
	path := filepath.Join(d.cfg.DataDir, "secret")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return b, nil
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, fmt.Errorf("generate secret: %w", err)
	}
	enc := []byte(hex.EncodeToString(key))
	if err := os.WriteFile(path, enc, 0o600); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	return enc, nil
}

func (d *deps) openQueue(ctx context.Context) error {
	opt, err := d.redisOpt()
	if err != nil {
		return err
	}
	d.redis = opt
	client, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	d.closers = append(d.closers, func() { client.Close(); insp.Close() })
	d.queue = worker.NewQueue(client)
	d.queue.Inspector = insp
	return nil
}

func (d *deps) redisOpt() (asynq.RedisConnOpt, error) {
	if d.cfg.RedisURL != "" {
		opt, err := asynq.ParseRedisURI(d.cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("parse PARLEY_REDIS_URL: %w", err)
		}
		return opt, nil
	}
	addr, stop, err := startMiniredis(d.log)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, stop)
	return asynq.RedisClientOpt{Addr: addr}, nil
}

// startMiniredis runs the in-process Redis-compatible server of the embedded default.
// Its clock only moves when told, so a ticker advances it with real time (TTLs, leases).
func startMiniredis(log *slog.Logger) (string, func(), error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return "", nil, fmt.Errorf("start embedded redis: %w", err)
	}
	done := make(chan struct{})
	go tickMiniredis(m, done)
	log.Info("embedded redis", "addr", m.Addr())
	return m.Addr(), func() { close(done); m.Close() }, nil
}

func tickMiniredis(m *miniredis.Miniredis, done <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			m.FastForward(now.Sub(last))
			last = now
		}
	}
}

// ensureAdmin accepts PARLEY_ADMIN_TOKEN as admin key of the default workspace, or creates
// and prints one the first time a workspace has none.
func (d *deps) ensureAdmin(ctx context.Context, stdout io.Writer) error {
	if _, err := d.service.EnsureWorkspace(ctx, media.DefaultWorkspaceID, "Default"); err != nil {
		return err
	}
	if d.cfg.AdminToken != "" {
		if !strings.HasPrefix(d.cfg.AdminToken, media.LinkTokenPrefix+"_") {
			_, err := d.service.StoreAPIKey(ctx, media.DefaultWorkspaceID, "admin (PARLEY_ADMIN_TOKEN)", d.cfg.AdminToken, true)
			return err
		}
		return errors.New("PARLEY_ADMIN_TOKEN must not start with rl_")
	}
	return d.printNewAdminKey(ctx, stdout)
}

func (d *deps) printNewAdminKey(ctx context.Context, stdout io.Writer) error {
	has, err := d.service.HasAdminKey(ctx, media.DefaultWorkspaceID)
	if err != nil || has {
		return err
	}
	_, token, err := d.service.CreateAPIKey(ctx, media.DefaultWorkspaceID, "admin", true)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Admin API key (shown once, stored hashed): %s\n", token)
	return nil
}
