package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"parley/media"
)

// Periodic task types. RunPeriodic enqueues each once per period however many workers run it.
//
// Recorder links need no upkeep: a link is checked for expiry and uses when it is used.
const (
	// TypeReconcile re-enqueues clips that have sat in processing too long (work lost from Redis).
	TypeReconcile = "periodic:reconcile"
	// TypeRetention deletes the clips (blobs, then rows) of workspaces with a retention
	// period that were created before it.
	TypeRetention = "periodic:retention"
)

// Batch sizes of the periodic work.
const (
	reconcileLimit = 1000
	retentionBatch = 100
)

// newPeriodic is the periodic task of a type for the period starting at bucket. Its ID names
// the period, and the finished task is kept for the period so that no other worker repeats it.
func newPeriodic(typ string, bucket time.Time, every time.Duration) job {
	id := typ + ":" + strconv.FormatInt(bucket.Unix(), 10)
	return newJob(typ, struct{}{}, QueueMaintenance, id,
		asynq.MaxRetry(2), asynq.Timeout(10*time.Minute), asynq.Retention(2*every))
}

// RunPeriodic reconciles every processing clip at once (work may have been lost while no
// worker ran), then enqueues the periodic tasks now and every period until ctx ends. N workers may
// each run it: the tasks are deduplicated per period. It blocks; run it in a goroutine.
func RunPeriodic(ctx context.Context, d Deps, q *Queue, every time.Duration) {
	log := orDiscard(d.Log)
	if n, err := d.Service.Reconcile(ctx, true, reconcileLimit); err != nil {
		log.Error("reconcile at start", "err", err)
	} else if n > 0 {
		log.Info("reconciled at start", "clips", n)
	}
	enqueuePeriodic(ctx, q, time.Now(), every, log)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			enqueuePeriodic(ctx, q, now, every, log)
		}
	}
}

func enqueuePeriodic(ctx context.Context, q *Queue, now time.Time, every time.Duration, log *slog.Logger) {
	bucket := now.Truncate(every)
	for _, typ := range []string{TypeReconcile, TypeRetention} {
		if err := q.enqueue(ctx, newPeriodic(typ, bucket, every)); err != nil {
			log.Error("enqueue periodic task", "type", typ, "err", err)
		}
	}
}

// reconcile is the handler of TypeReconcile.
func (h *handlers) reconcile(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Service.Reconcile(ctx, false, reconcileLimit)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	abandoned, err := h.Service.ExpireAbandoned(ctx, reconcileLimit)
	if err != nil {
		return fmt.Errorf("expire abandoned recordings: %w", err)
	}
	if n+abandoned > 0 {
		h.Log.Info("reconciled", "clips", n, "abandoned", abandoned)
	}
	return nil
}

// retention is the handler of TypeRetention.
func (h *handlers) retention(ctx context.Context, _ *asynq.Task) error {
	ws, err := h.Store.ListWorkspaces(ctx)
	if err != nil {
		return fmt.Errorf("list workspaces: %w", err)
	}
	for _, w := range ws {
		if w.RetentionDays <= 0 {
			continue
		}
		cutoff := time.Now().AddDate(0, 0, -w.RetentionDays)
		if err := h.expireClips(ctx, w.ID, cutoff); err != nil {
			return err
		}
	}
	return nil
}

// expireClips deletes a workspace's clips created before cutoff, except ones still recording.
func (h *handlers) expireClips(ctx context.Context, workspaceID string, cutoff time.Time) error {
	for {
		clips, err := h.Store.ClipsCreatedBefore(ctx, workspaceID, cutoff, retentionBatch)
		if err != nil {
			return fmt.Errorf("list clips of %s before %s: %w", workspaceID, cutoff, err)
		}
		deleted, err := h.deleteClips(ctx, clips)
		if err != nil || deleted == 0 || len(clips) < retentionBatch {
			return err
		}
	}
}

// deleteClips deletes clips that are not recording and returns how many.
func (h *handlers) deleteClips(ctx context.Context, clips []*media.Clip) (int, error) {
	n := 0
	for _, c := range clips {
		if c.Status == media.StatusRecording {
			continue
		}
		if err := h.deleteClip(ctx, c); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		h.Log.Info("retention deleted clips", "clips", n)
	}
	return n, nil
}

// deleteClip deletes a clip's blobs, then its row.
func (h *handlers) deleteClip(ctx context.Context, c *media.Clip) error {
	for _, key := range mediaKeys(c.Media) {
		if err := h.Blobs.Delete(ctx, key); err != nil {
			return fmt.Errorf("delete object %s: %w", key, err)
		}
	}
	if err := h.Store.DeleteClip(ctx, c.ID); err != nil {
		return fmt.Errorf("delete clip %s: %w", c.ID, err)
	}
	return nil
}

// mediaKeys lists the keys of a clip's objects that exist.
func mediaKeys(m media.MediaKeys) []string {
	var keys []string
	for _, k := range []string{m.Original, m.MP4, m.Audio, m.Poster, m.Waveform, m.WaveformImage, m.Storyboard, m.StoryboardVTT, m.Captions} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}
