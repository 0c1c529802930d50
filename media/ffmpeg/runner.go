package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Runner runs ffmpeg and ffprobe. The zero value finds both on PATH and does not log.
type Runner struct {
	FFmpeg  string       // program path; "" means "ffmpeg" from PATH
	FFprobe string       // program path; "" means "ffprobe" from PATH
	Log     *slog.Logger // optional; each run is logged at debug level
	Preset  string       // x264 preset of MP4s; "" means DefaultPreset
}

// stderrTail is how much of a failed run's stderr goes into its error.
const stderrTail = 2048

// rejectedInput are stderr lines by which ffmpeg and ffprobe say the input itself is unusable.
var rejectedInput = []string{
	"Invalid data found when processing input",
	"EBML header parsing failed",
	"moov atom not found",
	"could not find codec parameters",
	"does not contain any stream",
	"matches no streams",
	"Decoder (codec",
	"Failed to open codec",
	"Could not open decoder",
	"Error while opening decoder",
}

// Run runs ffmpeg with args; a failure carries the end of its stderr and wraps
// ErrUnsupported when ffmpeg rejected the input data.
func (r *Runner) Run(ctx context.Context, args []string) error {
	_, err := r.run(ctx, r.program(r.FFmpeg, "ffmpeg"), args)
	return err
}

// Probe describes in; ErrUnsupported when it is not media or has no audio or video stream.
func (r *Runner) Probe(ctx context.Context, in string) (*Probe, error) {
	out, err := r.run(ctx, r.program(r.FFprobe, "ffprobe"), ProbeArgs(in))
	if err != nil {
		return nil, err
	}
	p, err := ParseProbe(out)
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", in, err)
	}
	if !p.HasVideo && !p.HasAudio {
		return nil, fmt.Errorf("probe %s: no audio or video stream: %w", in, ErrUnsupported)
	}
	return p, nil
}

func (r *Runner) program(path, name string) string {
	if path != "" {
		return path
	}
	return name
}

// run executes one program and returns its stdout.
func (r *Runner) run(ctx context.Context, prog string, args []string) ([]byte, error) {
	var stdout bytes.Buffer
	stderr := &tailWriter{max: stderrTail}
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	start := time.Now()
	err := cmd.Run()
	r.logRun(ctx, prog, args, time.Since(start), err)
	if err != nil {
		return nil, runError(ctx, prog, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func (r *Runner) logRun(ctx context.Context, prog string, args []string, took time.Duration, err error) {
	if r.Log == nil {
		return
	}
	r.Log.DebugContext(ctx, "exec", "program", filepath.Base(prog), "args", args, "took", took, "err", err)
}

// runError explains a failed run: cancelled, not runnable, or the program's own complaint.
func runError(ctx context.Context, prog string, err error, stderr string) error {
	name := filepath.Base(prog)
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", name, ctx.Err())
	}
	msg := strings.TrimSpace(stderr)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if rejected(msg) {
		return fmt.Errorf("%s: %s: %w", name, msg, ErrUnsupported)
	}
	return fmt.Errorf("%s: %w: %s", name, err, msg)
}

func rejected(stderr string) bool {
	for _, s := range rejectedInput {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	buf []byte
	cut bool
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
		w.cut = true
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	if w.cut {
		return "…" + string(w.buf)
	}
	return string(w.buf)
}

var _ io.Writer = (*tailWriter)(nil)

// Renditions are the paths of the files Runner.Renditions made; "" means not made.
type Renditions struct {
	MP4           string
	Audio         string
	Poster        string
	Storyboard    string
	StoryboardVTT string
}

// Rendition file names inside the Renditions directory.
const (
	MP4Name           = "video.mp4"
	AudioName         = "audio.m4a"
	PosterName        = "poster.jpg"
	StoryboardName    = "storyboard.jpg"
	StoryboardVTTName = "storyboard.vtt"
)

// Renditions makes the full set for a probed input in dir: for video an MP4, a poster and a
// storyboard sprite with its WebVTT (which refers to the sprite as "storyboard.jpg"); for
// audio only an M4A. Files are written to dir under the *Name constants.
func (r *Runner) Renditions(ctx context.Context, in, dir string, p *Probe) (Renditions, error) {
	switch {
	case p == nil:
		return Renditions{}, errors.New("renditions: no probe")
	case p.HasVideo:
		return r.videoRenditions(ctx, in, dir, p)
	case p.HasAudio:
		out := filepath.Join(dir, AudioName)
		if err := r.Run(ctx, M4AArgs(in, out)); err != nil {
			return Renditions{}, fmt.Errorf("m4a: %w", err)
		}
		return Renditions{Audio: out}, nil
	}
	return Renditions{}, fmt.Errorf("renditions: no audio or video stream: %w", ErrUnsupported)
}

func (r *Runner) videoRenditions(ctx context.Context, in, dir string, p *Probe) (Renditions, error) {
	rs := Renditions{MP4: filepath.Join(dir, MP4Name), Poster: filepath.Join(dir, PosterName)}
	if err := r.MP4(ctx, in, rs.MP4, p); err != nil {
		return Renditions{}, err
	}
	if err := r.Run(ctx, PosterArgs(in, rs.Poster, p)); err != nil {
		return Renditions{}, fmt.Errorf("poster: %w", err)
	}
	sprite, vtt, err := r.Storyboard(ctx, in, dir, p)
	if err != nil {
		return Renditions{}, err
	}
	rs.Storyboard, rs.StoryboardVTT = sprite, vtt
	return rs, nil
}

// MP4 transcodes in to out with MP4Args: the MP4 step of Renditions.
func (r *Runner) MP4(ctx context.Context, in, out string, p *Probe) error {
	if err := r.Run(ctx, MP4Args(in, out, p, r.Preset)); err != nil {
		return fmt.Errorf("mp4: %w", err)
	}
	return nil
}

// Storyboard writes the sprite and its WebVTT into dir and returns both paths.
func (r *Runner) Storyboard(ctx context.Context, in, dir string, p *Probe) (sprite, vtt string, err error) {
	sb := PlanStoryboard(p.DurationMS, p.Width, p.Height)
	sprite, vtt = filepath.Join(dir, StoryboardName), filepath.Join(dir, StoryboardVTTName)
	if err := r.Run(ctx, StoryboardArgs(in, sprite, sb)); err != nil {
		return "", "", fmt.Errorf("storyboard: %w", err)
	}
	doc := StoryboardVTT(sb, StoryboardName, p.DurationMS)
	if err := os.WriteFile(vtt, []byte(doc), 0o644); err != nil {
		return "", "", fmt.Errorf("write storyboard vtt: %w", err)
	}
	return sprite, vtt, nil
}
