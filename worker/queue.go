// Package worker runs Parley's background work on asynq: transcoding clips, drawing
// waveforms, attaching replies to threads, delivering webhooks and periodic upkeep.
//
// Every task is a type constant, a constructor and a handler side by side. asynq delivers at
// least once, so every handler is idempotent: the metadata store says what is still owed, blob
// keys are deterministic, events carry IDs derived from what happened, and task IDs keep one
// copy of each piece of work in the queue.
//
// Wiring, e.g. in cmd/parley:
//
//	q := worker.NewQueue(asynq.NewClient(redisOpt))
//	q.Inspector = asynq.NewInspector(redisOpt)
//	srv := worker.NewServer(redisOpt, log, 4)
//	err := srv.Start(worker.NewMux(deps, q)) // srv.Shutdown() on exit
//	go worker.RunPeriodic(ctx, deps, q, time.Minute)
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"parley/media"
)

// Queue names, in priority order.
const (
	QueueMedia       = "media"       // transcoding and waveforms
	QueueEvents      = "events"      // thread replies and webhook deliveries
	QueueMaintenance = "maintenance" // periodic upkeep
)

// Queue enqueues Parley's tasks. It implements media.Queue.
type Queue struct {
	client *asynq.Client

	// Inspector, when set, lets a task whose ID is held by an archived (given up) copy be
	// enqueued again, e.g. when a failed clip is processed anew. Without it such an enqueue
	// is a no-op, like any other enqueue of work already queued.
	Inspector *asynq.Inspector
}

var _ media.Queue = (*Queue)(nil)

// NewQueue returns a Queue that enqueues through c.
func NewQueue(c *asynq.Client) *Queue { return &Queue{client: c} }

// EnqueueProcessing asks the workers to transcode a clip. Work already queued is success.
func (q *Queue) EnqueueProcessing(ctx context.Context, clipID string) error {
	return q.enqueue(ctx, newTranscode(clipID))
}

// Ping checks that Redis answers.
func (q *Queue) Ping(ctx context.Context) error {
	if err := q.client.Ping(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// job is a task with where and how it is always enqueued; id is its asynq task ID, which
// keeps one copy of the same work in the queue.
type job struct {
	task  *asynq.Task
	queue string
	id    string
	opts  []asynq.Option
}

// newJob makes a job; payload is marshalled as JSON.
func newJob(typ string, payload any, queue, id string, opts ...asynq.Option) job {
	b, err := json.Marshal(payload)
	if err != nil {
		panic("worker: marshal payload: " + err.Error()) // payloads are plain structs
	}
	return job{task: asynq.NewTask(typ, b), queue: queue, id: id, opts: opts}
}

// enqueue adds a job unless a copy with its ID is already queued (which is success).
func (q *Queue) enqueue(ctx context.Context, j job) error {
	err := q.add(ctx, j)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		err = q.replaceArchived(ctx, j)
	}
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s %s: %w", j.task.Type(), j.id, err)
	}
	return nil
}

// add enqueues a job once.
func (q *Queue) add(ctx context.Context, j job) error {
	opts := append([]asynq.Option{asynq.Queue(j.queue), asynq.TaskID(j.id)}, j.opts...)
	_, err := q.client.EnqueueContext(ctx, j.task, opts...)
	return err
}

// replaceArchived deletes an archived copy holding the job's ID and enqueues the job again.
// It returns asynq.ErrTaskIDConflict when the copy is live (pending, active, retry...).
func (q *Queue) replaceArchived(ctx context.Context, j job) error {
	if q.Inspector == nil {
		return asynq.ErrTaskIDConflict
	}
	info, err := q.Inspector.GetTaskInfo(j.queue, j.id)
	if errors.Is(err, asynq.ErrTaskNotFound) {
		return q.add(ctx, j) // the copy finished meanwhile
	}
	if err != nil || info.State != asynq.TaskStateArchived {
		return asynq.ErrTaskIDConflict
	}
	if err := q.Inspector.DeleteTask(j.queue, j.id); err != nil {
		return fmt.Errorf("delete archived task: %w", err)
	}
	return q.add(ctx, j)
}
