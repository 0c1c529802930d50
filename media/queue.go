package media

import "context"

// Queue carries work to the workers. Enqueueing work already queued is harmless:
// every task is idempotent and the database says what is still owed.
type Queue interface {
	// EnqueueProcessing asks the workers to produce a clip's renditions.
	EnqueueProcessing(ctx context.Context, clipID string) error
	Ping(ctx context.Context) error
}
