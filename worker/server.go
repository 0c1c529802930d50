package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"time"

	"github.com/hibiken/asynq"

	"parley/media"
)

// Deps are what the task handlers work with. HTTP, Log and TempDir are optional.
type Deps struct {
	Service    *media.Service
	Store      media.Store
	Blobs      media.Blobs
	Transcoder media.Transcoder       // ffmpeg in production
	Waveform   media.WaveformRenderer // peaks and their image
	HTTP       *http.Client           // for webhook deliveries; defaults to a client with a 30 s timeout
	Log        *slog.Logger           // defaults to discarding
	TempDir    string                 // scratch space for transcoding; defaults to os.TempDir()
}

// handlers holds the task handlers and what they share.
type handlers struct {
	Deps
	q *Queue
}

func newHandlers(d Deps, q *Queue) *handlers {
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	d.Log = orDiscard(d.Log)
	return &handlers{Deps: d, q: q}
}

func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

// NewMux routes every task type to its handler; q enqueues the follow-up work.
func NewMux(d Deps, q *Queue) *asynq.ServeMux {
	h := newHandlers(d, q)
	mux := asynq.NewServeMux()
	mux.Use(h.logTask)
	mux.HandleFunc(TypeTranscode, h.transcode)
	mux.HandleFunc(TypeWaveform, h.waveform)
	mux.HandleFunc(TypeThreadReply, h.threadReply)
	mux.HandleFunc(TypeWebhookDeliver, h.deliverWebhook)
	mux.HandleFunc(TypeReconcile, h.reconcile)
	mux.HandleFunc(TypeRetention, h.retention)
	return mux
}

// logTask logs every failed task with its type, clip (if any), attempt and error: at warn
// level when it will be retried, at error level when not.
func (h *handlers) logTask(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		err := next.ProcessTask(ctx, t)
		if err == nil {
			return nil
		}
		n, _ := asynq.GetRetryCount(ctx)
		max, _ := asynq.GetMaxRetry(ctx)
		level := slog.LevelWarn
		if n >= max || errors.Is(err, asynq.SkipRetry) {
			level = slog.LevelError
		}
		h.Log.Log(ctx, level, "task", "type", t.Type(), "clip", clipOf(t), "retried", n, "err", err)
		return err
	})
}

// ServerConfig is the asynq configuration NewServer uses, for callers that adjust it.
// Idle pickup is ~200 ms and retries are checked every second; media work goes first.
func ServerConfig(log *slog.Logger, concurrency int) asynq.Config {
	return asynq.Config{
		Concurrency:              concurrency,
		TaskCheckInterval:        200 * time.Millisecond,
		DelayedTaskCheckInterval: time.Second,
		RetryDelayFunc:           RetryDelay,
		Queues:                   map[string]int{QueueMedia: 6, QueueEvents: 3, QueueMaintenance: 1},
		Logger:                   asynqLogger{orDiscard(log)},
		ShutdownTimeout:          30 * time.Second,
	}
}

// NewServer returns an asynq server running concurrency tasks at a time; see ServerConfig.
func NewServer(r asynq.RedisConnOpt, log *slog.Logger, concurrency int) *asynq.Server {
	return asynq.NewServer(r, ServerConfig(log, concurrency))
}

// RetryDelay waits 1 s before the first retry and twice as long before each next one, up to
// an hour, with up to 10% jitter so that failures of many tasks do not retry in lockstep.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Hour
	if n < 12 {
		d = min(time.Second<<n, time.Hour)
	}
	return d + rand.N(d/10+1)
}

// asynqLogger adapts slog to asynq's Logger.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }

// Fatal logs and exits, as asynq's Logger contract requires.
func (l asynqLogger) Fatal(args ...any) {
	l.log.Error(fmt.Sprint(args...))
	os.Exit(1)
}

var _ asynq.Logger = asynqLogger{}

// clipOf returns the clip a task is about, for logs; "" if none.
func clipOf(t *asynq.Task) string {
	var p ClipPayload
	if json.Unmarshal(t.Payload(), &p) != nil {
		return ""
	}
	return p.ClipID
}
