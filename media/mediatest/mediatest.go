// Package mediatest finds the real services integration tests run against. Under CI=true a
// missing service fails the test; elsewhere it skips with the reason.
package mediatest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for schema set-up

	"parley/media"
)

// Unavailable fails under CI and skips otherwise.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("required test service missing (CI): %s", msg)
	}
	t.Skipf("test service missing: %s", msg)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// PostgresURL returns a URL to a fresh schema of the test PostgreSQL, dropped at cleanup.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := env("PARLEY_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		Unavailable(t, "postgres at %s: %v", base, err)
	}
	schema := "t_" + media.NewID()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisAddr returns the address of the test Redis. Tests that flush must use their own db.
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := env("PARLEY_TEST_REDIS_ADDR", "127.0.0.1:6379")
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Unavailable(t, "redis at %s: %v", addr, err)
	}
	c.Close()
	return addr
}

// S3Config is how to reach the test S3 server.
type S3Config struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Secure    bool
}

// S3 returns the test S3 server's settings (started by the test command).
func S3(t testing.TB) S3Config {
	t.Helper()
	c := S3Config{
		Endpoint:  os.Getenv("PARLEY_TEST_S3_ENDPOINT"),
		AccessKey: env("PARLEY_TEST_S3_ACCESS_KEY", "parleytest"),
		SecretKey: env("PARLEY_TEST_S3_SECRET_KEY", "parleytestsecret"),
		Secure:    strings.HasPrefix(os.Getenv("PARLEY_TEST_S3_ENDPOINT"), "https://"),
	}
	c.Endpoint = strings.TrimPrefix(strings.TrimPrefix(c.Endpoint, "https://"), "http://")
	if c.Endpoint == "" {
		Unavailable(t, "no S3 server: PARLEY_TEST_S3_ENDPOINT is not set (the test command starts one)")
	}
	conn, err := net.DialTimeout("tcp", c.Endpoint, 2*time.Second)
	if err != nil {
		Unavailable(t, "S3 at %s: %v", c.Endpoint, err)
	}
	conn.Close()
	return c
}

// Require fails under CI and skips otherwise when a program is not on PATH; it returns its path.
func Require(t testing.TB, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Unavailable(t, "%s not installed", program)
	}
	return p
}
