package mediatest

import (
	"context"
	"path/filepath"
	"testing"

	sqlstore "parley/media/sql"
)

// Store opens and migrates the metadata store at dsn and closes it at cleanup.
func Store(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate store: %v", err)
	}
	return st
}

// SQLiteStore returns a fresh, migrated SQLite store in a temporary directory.
func SQLiteStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	return Store(t, filepath.Join(t.TempDir(), "parley.db"))
}
