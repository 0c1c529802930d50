package sql_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/media"
	"parley/media/mediatest"
	mediasql "parley/media/sql"
)

// migrationCount is how many migration files the package embeds.
func migrationCount(t testing.TB) int {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("list migrations: %v (%d files)", err, len(files))
	}
	return len(files)
}

// appliedMigrations counts the rows of schema_migrations.
func appliedMigrations(t testing.TB, s *mediasql.Store) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatalf("count schema_migrations: %v", err)
	}
	return n
}

func TestMigrateIsIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		must(t, "CreateThread", s.CreateThread(ctx, &media.Thread{ID: "t", CreatedAt: t0}))
		must(t, "Migrate again", s.Migrate(ctx))
		must(t, "Migrate a third time", s.Migrate(ctx))
		diff(t, "applied migrations", migrationCount(t), appliedMigrations(t, s))
		_, err := s.GetThread(ctx, "t")
		must(t, "GetThread after re-migrating", err)
	})
}

func TestMigrateConcurrently(t *testing.T) {
	eachDSN(t, func(t *testing.T, dsn string) {
		const processes = 4
		stores := make([]*mediasql.Store, processes)
		for i := range stores {
			stores[i] = openStore(t, dsn)
		}
		var wg sync.WaitGroup
		errs := make([]error, processes)
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Migrate(context.Background()) })
		}
		wg.Wait()
		for i, err := range errs {
			must(t, fmt.Sprintf("Migrate by store %d", i), err)
		}
		diff(t, "applied migrations", migrationCount(t), appliedMigrations(t, stores[0]))
	})
}

func TestRestartKeepsData(t *testing.T) {
	eachDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		first := openMigrated(t, dsn)
		c := fullClip("c", "t", t0)
		must(t, "CreateClip", first.CreateClip(ctx, c))
		must(t, "Close", first.Close())

		second := openMigrated(t, dsn)
		got, err := second.GetClip(ctx, "c")
		must(t, "GetClip after restart", err)
		diff(t, "clip after restart", c, got)
		diff(t, "applied migrations", migrationCount(t), appliedMigrations(t, second))
	})
}

func TestOpenDialects(t *testing.T) {
	dir := t.TempDir()
	pg := mediatest.PostgresURL(t)
	tests := []struct {
		name, dsn, file, want string
	}{
		{"sqlite scheme", "sqlite://" + filepath.Join(dir, "a.db"), filepath.Join(dir, "a.db"), mediasql.SQLite},
		{"file URI", "file:" + filepath.Join(dir, "b.db"), filepath.Join(dir, "b.db"), mediasql.SQLite},
		{"file URI with params", "file:" + filepath.Join(dir, "c.db") + "?cache=private", filepath.Join(dir, "c.db"), mediasql.SQLite},
		{"plain path", filepath.Join(dir, "d.db"), filepath.Join(dir, "d.db"), mediasql.SQLite},
		{"memory", ":memory:", "", mediasql.SQLite},
		{"postgres", pg, "", mediasql.Postgres},
		{"postgresql", "postgresql" + strings.TrimPrefix(pg, "postgres"), "", mediasql.Postgres},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openMigrated(t, tt.dsn)
			diff(t, "Dialect", tt.want, s.Dialect())
			must(t, "Ping", s.Ping(ctx))
			id := media.NewID()
			must(t, "CreateThread", s.CreateThread(ctx, &media.Thread{ID: id, CreatedAt: t0}))
			_, err := s.GetThread(ctx, id)
			must(t, "GetThread", err)
			if tt.file != "" {
				if _, err := os.Stat(tt.file); err != nil {
					t.Errorf("database file: %v", err)
				}
			}
		})
	}
}

func TestOpenUnreachablePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := mediasql.Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreachable PostgreSQL succeeded")
	}
}

func TestSQLiteSettings(t *testing.T) {
	s := openMigrated(t, sqliteDSN(t))
	tests := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "15000"},
	}
	for _, tt := range tests {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		diff(t, "PRAGMA "+tt.pragma, tt.want, got)
	}
}

// TestSQLiteConcurrentWriters writes from many goroutines through two handles on one file,
// as two processes would; none may fail with "database is locked".
func TestSQLiteConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	dsn := sqliteDSN(t)
	stores := []*mediasql.Store{openMigrated(t, dsn), openMigrated(t, dsn)}
	must(t, "CreateThread", stores[0].CreateThread(ctx, &media.Thread{ID: "shared", CreatedAt: t0}))
	must(t, "CreateClip", stores[0].CreateClip(ctx, bareClip("clip", "w", "shared", t0)))
	const perStore = 20
	var wg sync.WaitGroup
	errs := make(chan error, 3*perStore*len(stores))
	for _, s := range stores {
		for range perStore {
			wg.Go(func() { errs <- writeSome(ctx, s) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "concurrent write", err)
	}
	th, err := stores[1].GetThread(ctx, "shared")
	must(t, "GetThread", err)
	c, err := stores[1].GetClip(ctx, "clip")
	must(t, "GetClip", err)
	n := perStore * len(stores)
	diff(t, "thread clip count and clip duration", [2]int64{int64(n), int64(n)}, [2]int64{int64(th.ClipCount), c.DurationMS})
}

// writeSome does what a request does to the database: create, touch and update.
func writeSome(ctx context.Context, s *mediasql.Store) error {
	if err := s.CreateThread(ctx, &media.Thread{ID: media.NewID(), CreatedAt: t0}); err != nil {
		return err
	}
	if err := s.TouchThread(ctx, "shared", 1, 0, t0); err != nil {
		return err
	}
	_, err := s.UpdateClip(ctx, "clip", func(c *media.Clip) error {
		c.DurationMS++
		return nil
	})
	return err
}
