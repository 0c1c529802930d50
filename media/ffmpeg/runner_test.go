package ffmpeg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"parley/media/mediatest"
)

// durationTolerance is how far a rendition's duration may be from its input's.
const durationTolerance = 100 // ms

func checkDuration(t testing.TB, what string, got, want int64) {
	t.Helper()
	if d := got - want; d < -durationTolerance || d > durationTolerance {
		t.Errorf("%s duration %d ms, input %d ms: off by more than %d ms", what, got, want, durationTolerance)
	}
}

// checkFaststart verifies an MP4 starts with ftyp and has its moov before its mdat.
func checkFaststart(t testing.TB, path string) {
	t.Helper()
	boxes := mediatest.MP4Boxes(t, path)
	moov, mdat := slices.Index(boxes, "moov"), slices.Index(boxes, "mdat")
	if len(boxes) == 0 || boxes[0] != "ftyp" || moov < 0 || mdat < 0 || moov > mdat {
		t.Errorf("%s top-level boxes %v: want ftyp first and moov before mdat", filepath.Base(path), boxes)
	}
}

func TestProbe(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		want Probe
	}{
		{"video", videoWebM(t, filepath.Join(dir, "v.webm"), "320x240", 2), Probe{DurationMS: 2000,
			HasVideo: true, HasAudio: true, Width: 320, Height: 240, VideoCodec: "vp8", AudioCodec: "opus",
			Format: "matroska,webm", FrameRate: 30}},
		{"audio", audioWebM(t, filepath.Join(dir, "a.webm"), 1.5), Probe{DurationMS: 1500,
			HasAudio: true, AudioCodec: "opus", Format: "matroska,webm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustProbe(t, tt.path)
			checkDuration(t, "probed", got.DurationMS, tt.want.DurationMS)
			got.DurationMS = tt.want.DurationMS
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("Probe (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenditionsVideo(t *testing.T) {
	dir := t.TempDir()
	in := videoWebM(t, filepath.Join(dir, "in.webm"), "1280x720", 3)
	p := mustProbe(t, in)
	rs, err := new(Runner).Renditions(context.Background(), in, dir, p)
	if err != nil {
		t.Fatalf("Renditions: %v", err)
	}
	want := Renditions{MP4: filepath.Join(dir, MP4Name), Poster: filepath.Join(dir, PosterName),
		Storyboard: filepath.Join(dir, StoryboardName), StoryboardVTT: filepath.Join(dir, StoryboardVTTName)}
	if diff := cmp.Diff(want, rs); diff != "" {
		t.Fatalf("Renditions (-want +got):\n%s", diff)
	}
	t.Run("mp4", func(t *testing.T) { checkMP4(t, rs.MP4, p) })
	t.Run("poster", func(t *testing.T) { checkPoster(t, rs.Poster, p) })
	t.Run("storyboard", func(t *testing.T) { checkStoryboard(t, rs, p) })
}

func checkMP4(t testing.TB, path string, in *Probe) {
	t.Helper()
	got := mustProbe(t, path)
	if got.VideoCodec != "h264" || got.AudioCodec != "aac" {
		t.Errorf("mp4 codecs %q/%q, want h264/aac", got.VideoCodec, got.AudioCodec)
	}
	if w, h := EvenSize(in); got.Width != w || got.Height != h {
		t.Errorf("mp4 size %dx%d, want %dx%d", got.Width, got.Height, w, h)
	}
	checkDuration(t, "mp4", got.DurationMS, in.DurationMS)
	checkFaststart(t, path)
}

func checkPoster(t testing.TB, path string, in *Probe) {
	t.Helper()
	format, w, h := imageSize(t, path)
	if ew, eh := EvenSize(in); format != "jpeg" || w != ew || h != eh {
		t.Errorf("poster %s %dx%d, want jpeg %dx%d", format, w, h, ew, eh)
	}
}

func checkStoryboard(t testing.TB, rs Renditions, in *Probe) {
	t.Helper()
	sb := PlanStoryboard(in.DurationMS, in.Width, in.Height)
	sprite := decodeJPEG(t, rs.Storyboard)
	if got, want := sprite.Bounds().Size(), image.Pt(sb.Columns*sb.TileW, sb.Rows*sb.TileH); got != want {
		t.Errorf("sprite size %v, want %v", got, want)
	}
	cues := parseVTT(t, rs.StoryboardVTT)
	if want := int(math.Round(float64(in.DurationMS) / 1000)); len(cues) != want {
		t.Errorf("vtt has %d cues, want %d (one a second, the last one until the end)", len(cues), want)
	}
	for i, c := range cues {
		checkCue(t, i, c, sprite, in.DurationMS)
	}
	if len(cues) > 0 && cues[len(cues)-1].endMS != in.DurationMS {
		t.Errorf("last cue ends at %d ms, want the clip's end %d ms", cues[len(cues)-1].endMS, in.DurationMS)
	}
}

// checkCue verifies a cue's times and that its tile lies in the sprite and shows a picture.
func checkCue(t testing.TB, i int, c cue, sprite image.Image, durationMS int64) {
	t.Helper()
	if c.url != StoryboardName {
		t.Errorf("cue %d refers to %q, want %q", i, c.url, StoryboardName)
	}
	if c.startMS != int64(i)*1000 || c.endMS <= c.startMS || c.endMS > max(durationMS, c.startMS+1000) {
		t.Errorf("cue %d times %d–%d ms", i, c.startMS, c.endMS)
	}
	if !c.rect.In(sprite.Bounds()) || c.rect.Empty() {
		t.Fatalf("cue %d tile %v outside sprite %v", i, c.rect, sprite.Bounds())
	}
	if mid := c.rect.Min.Add(c.rect.Size().Div(2)); isBlack(sprite, mid.X, mid.Y) {
		t.Errorf("cue %d tile %v is black in the middle: no frame drawn", i, c.rect)
	}
}

func isBlack(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return r>>8 < 24 && g>>8 < 24 && b>>8 < 24
}

type cue struct {
	startMS, endMS int64
	url            string
	rect           image.Rectangle
}

// parseVTT reads a storyboard WebVTT: a header, then cues of a timing line and a
// "url#xywh=x,y,w,h" line, separated by blank lines.
func parseVTT(t testing.TB, path string) []cue {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimSpace(string(data)), "\n\n")
	if blocks[0] != "WEBVTT" {
		t.Fatalf("vtt starts with %q, want WEBVTT", blocks[0])
	}
	var cues []cue
	for _, b := range blocks[1:] {
		cues = append(cues, parseCue(t, b))
	}
	return cues
}

func parseCue(t testing.TB, block string) cue {
	t.Helper()
	var c cue
	var h1, m1, s1, ms1, h2, m2, s2, ms2, x, y, w, h int
	sc := bufio.NewScanner(strings.NewReader(block))
	sc.Scan()
	_, err := fmt.Sscanf(sc.Text(), "%d:%d:%d.%d --> %d:%d:%d.%d", &h1, &m1, &s1, &ms1, &h2, &m2, &s2, &ms2)
	sc.Scan()
	url, frag, ok := strings.Cut(sc.Text(), "#xywh=")
	if _, err2 := fmt.Sscanf(frag, "%d,%d,%d,%d", &x, &y, &w, &h); err != nil || err2 != nil || !ok {
		t.Fatalf("bad cue %q: %v %v", block, err, err2)
	}
	c.startMS = int64(((h1*60+m1)*60+s1)*1000 + ms1)
	c.endMS = int64(((h2*60+m2)*60+s2)*1000 + ms2)
	c.url, c.rect = url, image.Rect(x, y, x+w, y+h)
	return c
}

func TestRenditionsAudio(t *testing.T) {
	dir := t.TempDir()
	in := audioWebM(t, filepath.Join(dir, "in.webm"), 2.5)
	p := mustProbe(t, in)
	rs, err := new(Runner).Renditions(context.Background(), in, dir, p)
	if err != nil {
		t.Fatalf("Renditions: %v", err)
	}
	if diff := cmp.Diff(Renditions{Audio: filepath.Join(dir, AudioName)}, rs); diff != "" {
		t.Fatalf("Renditions (-want +got):\n%s", diff)
	}
	got := mustProbe(t, rs.Audio)
	if got.HasVideo || got.AudioCodec != "aac" {
		t.Errorf("m4a: video %v, audio codec %q; want aac only", got.HasVideo, got.AudioCodec)
	}
	checkDuration(t, "m4a", got.DurationMS, p.DurationMS)
	checkFaststart(t, rs.Audio)
}

// TestMP4ResolutionChange transcodes a recording that turns from landscape to portrait
// halfway: the MP4 keeps the probed size and letterboxes the portrait part.
func TestMP4ResolutionChange(t *testing.T) {
	dir := t.TempDir()
	in := resolutionChangeWebM(t, dir)
	p := mustProbe(t, in)
	out := filepath.Join(dir, "out.mp4")
	if err := new(Runner).MP4(context.Background(), in, out, p); err != nil {
		t.Fatalf("MP4: %v", err)
	}
	checkMP4(t, out, p)
	last := filepath.Join(dir, "last.jpg")
	ffmpegFixture(t, "-sseof", "-0.5", "-i", out, "-frames:v", "1", "-update", "1", last)
	img := decodeJPEG(t, last)
	if !isBlack(img, 4, 180) || isBlack(img, 320, 180) {
		t.Errorf("last frame: want black bars left of a portrait picture (edge black %v, centre black %v)",
			isBlack(img, 4, 180), isBlack(img, 320, 180))
	}
}

func TestUnsupportedInput(t *testing.T) {
	dir := t.TempDir()
	random := randomFile(t, filepath.Join(dir, "random.webm"), 64<<10)
	text := filepath.Join(dir, "text.mp4")
	if err := os.WriteFile(text, []byte("hello, this is not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	video := &Probe{DurationMS: 3000, HasVideo: true, HasAudio: true, Width: 320, Height: 240}
	r, ctx := new(Runner), context.Background()
	tests := []struct {
		name string
		run  func() error
	}{
		{"probe random", func() error { _, err := r.Probe(ctx, random); return err }},
		{"probe text", func() error { _, err := r.Probe(ctx, text); return err }},
		{"mp4 random", func() error { return r.MP4(ctx, random, filepath.Join(dir, "o.mp4"), video) }},
		{"renditions random", func() error { _, err := r.Renditions(ctx, random, dir, video); return err }},
		{"renditions no streams", func() error { _, err := r.Renditions(ctx, random, dir, &Probe{}); return err }},
		{"wav random", func() error { return r.Run(ctx, WAVArgs(random, filepath.Join(dir, "o.wav"), 8000)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, ErrUnsupported) {
				t.Errorf("error = %v, want ErrUnsupported", err)
			}
		})
	}
}

func TestProbeNoStreams(t *testing.T) {
	dir := t.TempDir()
	in := videoWebM(t, filepath.Join(dir, "in.webm"), "160x120", 1)
	subs := filepath.Join(dir, "data.mkv")
	if err := os.WriteFile(filepath.Join(dir, "s.srt"), []byte("1\n00:00:00,000 --> 00:00:01,000\nhi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ffmpegFixture(t, "-i", filepath.Join(dir, "s.srt"), "-i", in, "-map", "0", "-c", "copy", subs)
	if _, err := new(Runner).Probe(context.Background(), subs); !errors.Is(err, ErrUnsupported) {
		t.Errorf("probe of a subtitles-only file: %v, want ErrUnsupported", err)
	}
}

func TestRunErrors(t *testing.T) {
	mediatest.Require(t, "ffmpeg")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		r        *Runner
		ctx      context.Context
		args     []string
		contains string
		is       error
	}{
		{"bad option", new(Runner), context.Background(), []string{"-no-such-option"}, "no-such-option", nil},
		{"missing program", &Runner{FFmpeg: "/nonexistent/ffmpeg"}, context.Background(), []string{"-version"}, "start ffmpeg", nil},
		{"cancelled", new(Runner), cancelled, []string{"-version"}, "ffmpeg", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Run(tt.ctx, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("Run error = %v, want one containing %q", err, tt.contains)
			}
			if errors.Is(err, ErrUnsupported) {
				t.Errorf("Run error %v is ErrUnsupported; it is not the input's fault", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Run error %v, want %v", err, tt.is)
			}
		})
	}
}

func TestWAVAndRemux(t *testing.T) {
	dir := t.TempDir()
	in := videoWebM(t, filepath.Join(dir, "in.webm"), "160x120", 1.5)
	r, ctx := new(Runner), context.Background()
	wav, remux := filepath.Join(dir, "out.wav"), filepath.Join(dir, "out.mkv")
	if err := r.Run(ctx, WAVArgs(in, wav, 16000)); err != nil {
		t.Fatalf("wav: %v", err)
	}
	if err := r.Run(ctx, RemuxArgs(in, remux)); err != nil {
		t.Fatalf("remux: %v", err)
	}
	pin, pwav, premux := mustProbe(t, in), mustProbe(t, wav), mustProbe(t, remux)
	if pwav.HasVideo || pwav.AudioCodec != "pcm_s16le" || pwav.Format != "wav" {
		t.Errorf("wav probe %+v, want pcm_s16le audio only", pwav)
	}
	checkDuration(t, "wav", pwav.DurationMS, pin.DurationMS)
	premux.Format, premux.DurationMS = pin.Format, pin.DurationMS
	if diff := cmp.Diff(pin, premux); diff != "" {
		t.Errorf("remux changed the streams (-in +out):\n%s", diff)
	}
}

func TestEnsure(t *testing.T) {
	if _, err := os.Stat("/usr/bin/ffmpeg"); err != nil {
		t.Skip("ffmpeg is not in /usr/bin")
	}
	t.Setenv("PATH", "/usr/bin:/bin")
	if err := Ensure(context.Background(), nil); err != nil {
		t.Errorf("Ensure with ffmpeg installed: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if err := Ensure(context.Background(), nil); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("Ensure without ffmpeg or apt-get on PATH: %v, want ErrNotInstalled", err)
	}
}

func TestMP4WithoutAudio(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "silent.webm")
	ffmpegFixture(t, "-f", "lavfi", "-i", "testsrc2=size=321x241:rate=25:duration=1.2",
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", in)
	p := mustProbe(t, in)
	out := filepath.Join(dir, "out.mp4")
	if err := new(Runner).MP4(context.Background(), in, out, p); err != nil {
		t.Fatalf("MP4: %v", err)
	}
	got := mustProbe(t, out)
	if got.HasAudio || got.VideoCodec != "h264" || got.Width != 320 || got.Height != 240 {
		t.Errorf("mp4 of a silent 321x241 video: %+v; want h264 320x240 without audio", got)
	}
	checkDuration(t, "mp4", got.DurationMS, p.DurationMS)
	checkFaststart(t, out)
}
