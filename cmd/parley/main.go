// Command parley runs Parley: with no arguments everything in one process on embedded
// defaults; `serve`, `worker` and `migrate` split it for production.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; tests call it with their own context and output.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, cfg, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	if err := dispatch(ctx, cmd, cfg, log, stdout); err != nil {
		log.Error("exit", "err", err)
		return 1
	}
	return 0
}

func dispatch(ctx context.Context, cmd string, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	switch cmd {
	case "":
		return runAll(ctx, cfg, log, stdout)
	case "serve":
		return runServe(ctx, cfg, log, stdout)
	case "worker":
		return runWorker(ctx, cfg, log)
	case "migrate":
		return runMigrate(ctx, cfg, log)
	}
	return fmt.Errorf("unknown command %q (parley -h lists them)", cmd)
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
