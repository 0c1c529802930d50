package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/media/ffmpeg"
)

// Config is every setting of the binary. Each is a flag whose default comes from a
// PARLEY_* environment variable; unset production settings mean the embedded default.
type Config struct {
	Addr         string        // HTTP listen address
	BaseURL      string        // public origin used in links; default http://localhost:<port>
	DataDir      string        // embedded state: SQLite file, blobs, spool, secrets
	DatabaseURL  string        // postgres://… for PostgreSQL; empty = SQLite in DataDir
	RedisURL     string        // redis://…; empty = in-process Redis-compatible server
	S3Endpoint   string        // host:port; empty = blobs in DataDir
	S3AccessKey  string        //
	S3SecretKey  string        //
	S3Bucket     string        //
	S3Region     string        //
	S3Secure     bool          // https to S3
	AdminToken   string        // accepted as admin API key of the default workspace
	Secret       string        // signs local media URLs; default generated in DataDir
	UDPPort      int           // WebRTC ICE port (UDP mux and ICE-TCP)
	ICELoopback  bool          // offer loopback candidates and accept only loopback peers (local use, tests)
	ICEListenIP  string        // address the WebRTC port binds to; empty = all interfaces
	PublicIPs    string        // comma-separated NAT 1:1 addresses for ICE candidates
	ICEServers   string        // comma-separated stun:/turn: URLs for clients
	MaxSessions  int           // concurrent recordings
	MaxRecording time.Duration // longest recording without a link limit
	Concurrency  int           // worker task concurrency
	X264Preset   string        // speed/size trade-off of MP4 transcodes
	LogLevel     string        // debug, info, warn, error
	LogFormat    string        // text or json
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, err := strconv.ParseBool(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// flags registers every setting on fs.
func (c *Config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("PARLEY_ADDR", ":8080"), "HTTP listen address (PARLEY_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", env("PARLEY_BASE_URL", ""), "public origin for links, e.g. https://parley.example.com (PARLEY_BASE_URL; default http://localhost:<port>)")
	fs.StringVar(&c.DataDir, "data-dir", env("PARLEY_DATA_DIR", "./data"), "directory for embedded state (PARLEY_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("PARLEY_DATABASE_URL", ""), "PostgreSQL URL; empty = SQLite in the data dir (PARLEY_DATABASE_URL)")
	fs.StringVar(&c.RedisURL, "redis-url", env("PARLEY_REDIS_URL", ""), "Redis URL for the task queue; empty = in-process server (PARLEY_REDIS_URL)")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", env("PARLEY_S3_ENDPOINT", ""), "S3 host:port; empty = blobs in the data dir (PARLEY_S3_ENDPOINT)")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", env("PARLEY_S3_ACCESS_KEY", ""), "S3 access key (PARLEY_S3_ACCESS_KEY)")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", env("PARLEY_S3_SECRET_KEY", ""), "S3 secret key (PARLEY_S3_SECRET_KEY)")
	fs.StringVar(&c.S3Bucket, "s3-bucket", env("PARLEY_S3_BUCKET", "parley"), "S3 bucket, created when missing (PARLEY_S3_BUCKET)")
	fs.StringVar(&c.S3Region, "s3-region", env("PARLEY_S3_REGION", "us-east-1"), "S3 region (PARLEY_S3_REGION)")
	fs.BoolVar(&c.S3Secure, "s3-secure", envBool("PARLEY_S3_SECURE", false), "use https to reach S3 (PARLEY_S3_SECURE)")
	fs.StringVar(&c.AdminToken, "admin-token", env("PARLEY_ADMIN_TOKEN", ""), "admin API key of the default workspace; empty = generate one on first start (PARLEY_ADMIN_TOKEN)")
	fs.StringVar(&c.Secret, "secret", env("PARLEY_SECRET", ""), "key signing local media URLs; empty = generated in the data dir (PARLEY_SECRET)")
	fs.IntVar(&c.UDPPort, "udp-port", envInt("PARLEY_UDP_PORT", 8443), "WebRTC port: ICE over UDP and TCP (PARLEY_UDP_PORT)")
	fs.BoolVar(&c.ICELoopback, "ice-loopback", envBool("PARLEY_ICE_LOOPBACK", false), "WebRTC on loopback only: for a browser on the same machine, and tests (PARLEY_ICE_LOOPBACK)")
	fs.StringVar(&c.ICEListenIP, "ice-listen-ip", env("PARLEY_ICE_LISTEN_IP", ""), "address the WebRTC port binds to; empty = all (PARLEY_ICE_LISTEN_IP)")
	fs.StringVar(&c.PublicIPs, "public-ip", env("PARLEY_PUBLIC_IP", ""), "comma-separated public addresses for ICE candidates behind 1:1 NAT (PARLEY_PUBLIC_IP)")
	fs.StringVar(&c.ICEServers, "ice-servers", env("PARLEY_ICE_SERVERS", ""), "comma-separated STUN/TURN URLs offered to clients, turn:user:pass@host:port for credentials (PARLEY_ICE_SERVERS)")
	fs.IntVar(&c.MaxSessions, "max-sessions", envInt("PARLEY_MAX_SESSIONS", 200), "concurrent recordings (PARLEY_MAX_SESSIONS)")
	fs.DurationVar(&c.MaxRecording, "max-recording", envDuration("PARLEY_MAX_RECORDING", time.Hour), "longest recording (PARLEY_MAX_RECORDING)")
	fs.StringVar(&c.X264Preset, "x264-preset", env("PARLEY_X264_PRESET", ffmpeg.DefaultPreset), "x264 preset of MP4s: "+strings.Join(ffmpeg.Presets, ", ")+" (PARLEY_X264_PRESET)")
	fs.IntVar(&c.Concurrency, "concurrency", envInt("PARLEY_CONCURRENCY", 2), "worker tasks at once (PARLEY_CONCURRENCY)")
	fs.StringVar(&c.LogLevel, "log-level", env("PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("PARLEY_LOG_FORMAT", "text"), "text or json (PARLEY_LOG_FORMAT)")
}

const usageText = `Parley: asynchronous video and voice messages.

Usage:
  parley [flags]           everything in one process (embedded defaults when nothing is configured)
  parley serve [flags]     HTTP API, pages and WHIP ingest
  parley worker [flags]    background processing (asynq)
  parley migrate [flags]   apply database migrations and exit

Flags (each defaults to the environment variable named):
`

// parseArgs splits the command from its flags and parses them.
func parseArgs(args []string, stderr io.Writer) (string, *Config, error) {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	c := &Config{}
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	c.flags(fs)
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	return cmd, c, c.normalize()
}

// normalize fills derived defaults and checks combinations.
func (c *Config) normalize() error {
	if c.BaseURL == "" {
		port := c.Addr[strings.LastIndex(c.Addr, ":")+1:]
		c.BaseURL = "http://localhost:" + port
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if !slices.Contains(ffmpeg.Presets, c.X264Preset) {
		return fmt.Errorf("PARLEY_X264_PRESET %q is not one of %s", c.X264Preset, strings.Join(ffmpeg.Presets, ", "))
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		return fmt.Errorf("PARLEY_S3_ENDPOINT needs PARLEY_S3_ACCESS_KEY and PARLEY_S3_SECRET_KEY")
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
