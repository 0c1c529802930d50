// Package sql keeps Parley's metadata in PostgreSQL (production) or SQLite (the embedded
// default) through database/sql, with one set of migrations and portable SQL.
package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"parley/media"
)

// Dialects returned by Store.Dialect.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// sqliteParams make SQLite fit for many goroutines: WAL so readers never block the writer,
// a busy timeout so writers wait for each other instead of failing with "database is
// locked", and IMMEDIATE transactions so a transaction takes the write lock when it begins
// rather than failing when it upgrades.
const sqliteParams = "_pragma=busy_timeout(15000)&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// Store is the metadata database: a media.Store over PostgreSQL or SQLite.
// Open does not change the schema; call Migrate once at start-up (it is safe to call from
// several processes at once). Times are kept in UTC at microsecond precision; Create methods
// round the times of the value they are given the same way, so it equals what Get returns.
type Store struct {
	db      *dbsql.DB
	dialect string
}

var _ media.Store = (*Store)(nil)

// Open connects to the database named by dsn: "postgres://..." or "postgresql://..." for
// PostgreSQL; "sqlite://PATH", "file:PATH" or a plain path for SQLite (":memory:" works too).
func Open(ctx context.Context, dsn string) (*Store, error) {
	dialect, driver, name := parseDSN(dsn)
	db, err := dbsql.Open(driver, name)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	configurePool(db, dialect, name)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	return &Store{db: db, dialect: dialect}, nil
}

// parseDSN tells the dialect and returns the driver and the name to open it with.
func parseDSN(dsn string) (dialect, driver, name string) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return Postgres, "pgx", dsn
	}
	name = strings.TrimPrefix(dsn, "sqlite://")
	sep := "?"
	if strings.HasPrefix(name, "file:") && strings.Contains(name, "?") {
		sep = "&"
	}
	return SQLite, "sqlite", name + sep + sqliteParams
}

// configurePool sizes the connection pool for the dialect.
func configurePool(db *dbsql.DB, dialect, name string) {
	if dialect == Postgres {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		db.SetConnMaxLifetime(time.Hour)
		return
	}
	if strings.Contains(name, ":memory:") || strings.Contains(name, "mode=memory") {
		// Each connection to an in-memory database is a database of its own: keep one forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
}

// Dialect names the database behind the store: "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// DB returns the underlying database handle, for tools and tests.
func (s *Store) DB() *dbsql.DB { return s.db }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", s.dialect, err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// exec runs a statement and returns how many rows it changed.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// insert runs an INSERT ... ON CONFLICT DO NOTHING and turns "nothing inserted" into ECONFLICT.
func (s *Store) insert(ctx context.Context, what, id, query string, args ...any) error {
	n, err := s.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("insert %s %s: %w", what, id, err)
	}
	if n == 0 {
		return media.Errorf(media.ECONFLICT, "%s %s already exists", what, id)
	}
	return nil
}

// mustChange runs an UPDATE or DELETE of one row and turns "no row" into ENOTFOUND.
func (s *Store) mustChange(ctx context.Context, what, id, query string, args ...any) error {
	n, err := s.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("change %s %s: %w", what, id, err)
	}
	if n == 0 {
		return media.Errorf(media.ENOTFOUND, "%s %s not found", what, id)
	}
	return nil
}

// getOne scans a single row, turning "no rows" into ENOTFOUND.
func getOne[T any](row *dbsql.Row, scan func(scanner) (T, error), what, id string) (T, error) {
	v, err := scan(row)
	if errors.Is(err, dbsql.ErrNoRows) {
		return v, media.Errorf(media.ENOTFOUND, "%s %s not found", what, id)
	}
	if err != nil {
		return v, fmt.Errorf("get %s %s: %w", what, id, err)
	}
	return v, nil
}

// list runs a query and scans every row; what names the rows in an error.
func list[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), what, query string, args ...any) ([]T, error) {
	out, err := scanAll(ctx, s, scan, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}

func scanAll[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*dbsql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
