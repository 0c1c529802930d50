package localfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Sweep removes what a crash can leave behind: temporary files and multipart uploads
// untouched for longer than age. Uploads still in progress must be younger than age.
func (b *Blobs) Sweep(ctx context.Context, age time.Duration) error {
	cutoff := b.now().Add(-age)
	for _, sub := range []string{"tmp", "uploads"} {
		if err := sweepDir(ctx, filepath.Join(b.dir, sub), cutoff); err != nil {
			return fmt.Errorf("sweep %s: %w", sub, err)
		}
	}
	return nil
}

// sweepDir removes the entries of dir last modified before cutoff.
func sweepDir(ctx context.Context, dir string, cutoff time.Time) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
