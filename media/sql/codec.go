package sql

import (
	dbsql "database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// micros is how times are stored: unix microseconds, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros turns a stored time back into a UTC time.Time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nowMicros is the current time at the precision the store keeps.
func nowMicros() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// nullMicros stores an optional time: NULL when absent.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

// timePtr reads an optional time.
func timePtr(v dbsql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullInt stores an optional integer: NULL when absent.
func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// intPtr reads an optional integer.
func intPtr(v dbsql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	n := v.Int64
	return &n
}

// nullBytes stores optional bytes as text: NULL when nil.
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// bytesOf reads optional bytes stored as text.
func bytesOf(v dbsql.NullString) []byte {
	if !v.Valid {
		return nil
	}
	return []byte(v.String)
}

// jsonText stores a value as JSON text; a nil slice is NULL.
func jsonText(v any) (any, error) {
	if s, ok := v.([]string); ok && s == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return string(b), nil
}

// fromJSON reads JSON text into v; NULL leaves v alone.
func fromJSON(text dbsql.NullString, v any) error {
	if !text.Valid {
		return nil
	}
	if err := json.Unmarshal([]byte(text.String), v); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return nil
}

// limitOrAll turns "0 or less means no limit" into a LIMIT value.
func limitOrAll(n int) int64 {
	if n <= 0 {
		return math.MaxInt64
	}
	return int64(n)
}

// round sets each time to what the store keeps (microseconds, UTC), so that a value the
// caller holds after a Create equals what a Get returns.
func round(ts ...*time.Time) {
	for _, t := range ts {
		*t = fromMicros(micros(*t))
	}
}

// roundPtr returns a new pointer to the stored form of an optional time.
func roundPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	r := fromMicros(micros(*t))
	return &r
}
