package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
)

// ErrNotInstalled is returned by Ensure when ffmpeg or ffprobe is missing and cannot be
// installed here.
var ErrNotInstalled = errors.New("ffmpeg and ffprobe must be on PATH (e.g. apt-get install ffmpeg)")

// Ensure installs ffmpeg with apt-get when it is missing and we are root; otherwise a
// missing ffmpeg or ffprobe is ErrNotInstalled.
func Ensure(ctx context.Context, log *slog.Logger) error {
	if installed() {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		return ErrNotInstalled
	}
	if log != nil {
		log.InfoContext(ctx, "installing ffmpeg with apt-get")
	}
	if err := aptGet(ctx, "update"); err != nil {
		return err
	}
	if err := aptGet(ctx, "install", "-y", "--no-install-recommends", "ffmpeg"); err != nil {
		return err
	}
	if !installed() {
		return fmt.Errorf("install ffmpeg: still missing: %w", ErrNotInstalled)
	}
	return nil
}

func installed() bool {
	_, err1 := exec.LookPath("ffmpeg")
	_, err2 := exec.LookPath("ffprobe")
	return err1 == nil && err2 == nil
}

// aptGet runs apt-get non-interactively; its output's tail goes into the error.
func aptGet(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("apt-get %s: %w: %s", args[0], err, out[max(0, len(out)-stderrTail):])
	}
	return nil
}
