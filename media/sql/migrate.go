package sql

import (
	"context"
	dbsql "database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockKey is the PostgreSQL advisory lock held while migrating ("parley" in ASCII).
const migrateLockKey = 0x7061726c6579

// migration is one numbered schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// Migrate brings the schema up to date. It runs in one transaction that first takes a lock
// (an advisory lock on PostgreSQL, the write lock on SQLite), so processes starting together
// apply each migration exactly once, and a failed migration leaves nothing behind.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *dbsql.Tx) error {
		if err := s.lockForMigration(ctx, tx); err != nil {
			return err
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if !applied[m.version] {
				if err := apply(ctx, tx, m); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// migrations reads the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, name := range names {
		m, err := readMigration(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// readMigration reads one file named like "migrations/0001_init.sql".
func readMigration(path string) (migration, error) {
	base := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
	num, name, _ := strings.Cut(base, "_")
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return migration{}, fmt.Errorf("migration %s: name must start with a number: %w", path, err)
	}
	b, err := migrationFiles.ReadFile(path)
	if err != nil {
		return migration{}, fmt.Errorf("read migration %s: %w", path, err)
	}
	return migration{version: v, name: name, sql: string(b)}, nil
}

// lockForMigration serialises migrating processes. SQLite transactions here begin
// IMMEDIATE, which already holds the database's write lock.
func (s *Store) lockForMigration(ctx context.Context, tx *dbsql.Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLockKey)); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	return nil
}

// appliedVersions creates the schema_migrations table if needed and reads it.
func appliedVersions(ctx context.Context, tx *dbsql.Tx) (map[int64]bool, error) {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// apply runs one migration and records it.
func apply(ctx context.Context, tx *dbsql.Tx, m migration) error {
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %d %s: %w", m.version, m.name, err)
	}
	const record = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
	if _, err := tx.ExecContext(ctx, record, m.version, m.name, micros(nowMicros())); err != nil {
		return fmt.Errorf("record migration %d: %w", m.version, err)
	}
	return nil
}
