package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/media/mediatest"
)

// fixture is media made by ffmpeg for a publisher to send: VP8 in IVF and Opus in Ogg with
// one 20 ms packet per page. An empty path leaves that track out.
type fixture struct {
	Video string
	Audio string
}

// makeFixture encodes a test pattern (when video is set) and a tone of the given length.
func makeFixture(t testing.TB, length time.Duration, video bool) fixture {
	t.Helper()
	mediatest.Require(t, "ffmpeg")
	dir := t.TempDir()
	secs := strconv.FormatFloat(length.Seconds(), 'f', 3, 64)
	f := fixture{Audio: filepath.Join(dir, "tone.ogg")}
	runFFmpeg(t, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", secs, "-ac", "2",
		"-c:a", "libopus", "-b:a", "48k", "-frame_duration", "20", "-page_duration", "20000", f.Audio)
	if video {
		f.Video = filepath.Join(dir, "pattern.ivf")
		runFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate="+strconv.Itoa(fixtureFPS), "-t", secs,
			"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k",
			"-g", "30", "-keyint_min", "30", "-auto-alt-ref", "0", "-lag-in-frames", "0", f.Video)
	}
	return f
}

func runFFmpeg(t testing.TB, args ...string) {
	t.Helper()
	args = append([]string{"-hide_banner", "-v", "error", "-y"}, args...)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// probe is the part of ffprobe's report the tests check.
type probe struct {
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
	} `json:"streams"`
}

// ffprobe reports on a media file.
func ffprobe(t testing.TB, path string) probe {
	t.Helper()
	mediatest.Require(t, "ffprobe")
	out, err := exec.Command("ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("decode ffprobe output %q: %v", out, err)
	}
	return p
}

// duration is the container's duration; 0 when ffprobe reports none.
func (p probe) duration() time.Duration {
	s, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// codecs maps each stream type to its codec, e.g. {"audio":"opus","video":"vp8"}.
func (p probe) codecs() map[string]string {
	out := map[string]string{}
	for _, s := range p.Streams {
		out[s.CodecType] = s.CodecName
	}
	return out
}

// packetEnd is where the last packet of any stream ends: the length of the content itself,
// whatever the container's header says.
func packetEnd(t testing.TB, path string) time.Duration {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=pts_time,duration_time",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe packets of %s: %v", path, err)
	}
	var end float64
	for _, line := range strings.Fields(string(out)) {
		pts, dur, _ := strings.Cut(line, ",")
		p, err1 := strconv.ParseFloat(pts, 64)
		d, err2 := strconv.ParseFloat(strings.TrimRight(dur, ","), 64)
		if err1 == nil && err2 == nil {
			end = max(end, p+d)
		}
	}
	return time.Duration(end * float64(time.Second))
}

// decodeErrors decodes every stream of a file and returns what ffmpeg complains about.
// Frames keep their own times (-fps_mode passthrough) counted in milliseconds, the recording's
// own unit (-enc_time_base): a recording's frame rate varies, and on a grid of the average
// frame interval ffmpeg would complain ("non monotonically increasing dts") when a busy camera
// delivers two frames within one interval, which is no fault of the file.
func decodeErrors(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-i", path, "-fps_mode", "passthrough",
		"-enc_time_base:v", "1:1000", "-f", "null", "-").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("ffmpeg exited with %v: %s", err, out)
	}
	return string(out)
}

// fetch downloads a URL into a temporary file and returns its path.
func fetch(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(strings.SplitN(url, "?", 2)[0]))
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatalf("download %s: %v", url, err)
	}
	return path
}

// checkRange asks for the first 100 bytes of url and expects exactly those bytes of full.
func checkRange(t testing.TB, url, full string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", "bytes=0-99")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s with Range: %v", url, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	want, _ := os.ReadFile(full)
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("GET with Range: bytes=0-99 = %d, want 206", resp.StatusCode)
	}
	if len(want) < 100 || !bytes.Equal(got, want[:100]) {
		t.Errorf("Range bytes=0-99 returned %d bytes that differ from the start of the object", len(got))
	}
}

// clipJSON is GET /api/v1/clips/{id} as the HTTP contract has it.
type clipJSON struct {
	ID         string `json:"id"`
	ThreadID   string `json:"thread_id"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Media      struct {
		Original *string `json:"original"`
		MP4      *string `json:"mp4"`
		Audio    *string `json:"audio"`
		Poster   *string `json:"poster"`
		Waveform *string `json:"waveform"`
	} `json:"media"`
}

func (c clipJSON) terminal() bool {
	return c.Status == "ready" || c.Status == "failed" || c.Status == "interrupted"
}

// waitClip polls a clip until it is ready, failed or interrupted, for at most timeout. It
// returns the last state and the statuses seen, in order, without repeats.
func waitClip(t testing.TB, in *instance, id string, timeout time.Duration) (clipJSON, []string) {
	t.Helper()
	var c clipJSON
	var seen []string
	deadline := time.Now().Add(timeout)
	for {
		if code := in.Do(t, "GET", "/api/v1/clips/"+id, nil, &c); code != http.StatusOK {
			t.Fatalf("GET clip %s = %d", id, code)
		}
		if len(seen) == 0 || seen[len(seen)-1] != c.Status {
			seen = append(seen, c.Status)
		}
		if c.terminal() {
			return c, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("clip %s still %s after %s (statuses %v); log:\n%s", id, c.Status, timeout, seen, in.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// within reports whether got is want ± tol.
func within(got, want, tol time.Duration) bool {
	return got >= want-tol && got <= want+tol
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
