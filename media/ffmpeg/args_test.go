package ffmpeg

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name.golden, or rewrites the file under -update.
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

var (
	probe720 = &Probe{DurationMS: 12_345, HasVideo: true, HasAudio: true, Width: 1280, Height: 720,
		VideoCodec: "vp8", AudioCodec: "opus", Format: "matroska,webm", FrameRate: 30}
	probeOdd    = &Probe{DurationMS: 800, HasVideo: true, Width: 641, Height: 359, VideoCodec: "vp8"}
	probeSilent = &Probe{DurationMS: 5000, HasVideo: true, Width: 640, Height: 480, VideoCodec: "vp9"}
)

func TestArgsGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"probe", ProbeArgs("in.webm")},
		{"probe_dash", ProbeArgs("-in.webm")},
		{"mp4", MP4Args("in.webm", "out.mp4", probe720, "")},
		{"mp4_odd_size", MP4Args("in.webm", "out.mp4", probeOdd, "")},
		{"mp4_no_audio", MP4Args("in.webm", "out.mp4", probeSilent, "veryfast")},
		{"mp4_no_probe", MP4Args("in.webm", "out.mp4", nil, "")},
		{"m4a", M4AArgs("in.webm", "out.m4a")},
		{"poster", PosterArgs("in.webm", "poster.jpg", probe720)},
		{"poster_short", PosterArgs("in.webm", "poster.jpg", probeOdd)},
		{"storyboard", StoryboardArgs("in.webm", "sb.jpg", PlanStoryboard(12_345, 1280, 720))},
		{"storyboard_long", StoryboardArgs("in.webm", "sb.jpg", PlanStoryboard(1_234_567, 720, 1280))},
		{"wav", WAVArgs("in.webm", "out.wav", 16000)},
		{"remux", RemuxArgs("in.webm", "out.webm")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, "args_"+tt.name, strings.Join(tt.args, "\n")+"\n")
		})
	}
}

func TestStoryboardVTTGolden(t *testing.T) {
	tests := []struct {
		name       string
		durationMS int64
		w, h       int
	}{
		{"short", 3_500, 1280, 720},
		{"minute", 60_000, 640, 480},
		{"long", 754_321, 1280, 720},
		{"zero", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := PlanStoryboard(tt.durationMS, tt.w, tt.h)
			golden(t, "vtt_"+tt.name, StoryboardVTT(sb, "storyboard.jpg", tt.durationMS))
		})
	}
}

func TestPlanStoryboard(t *testing.T) {
	tests := []struct {
		name       string
		durationMS int64
		w, h       int
		want       Storyboard
	}{
		{"empty", 0, 0, 0, Storyboard{IntervalS: 1, Columns: 1, Rows: 1, TileW: 160, TileH: 90}},
		{"short 720p", 3_500, 1280, 720, Storyboard{IntervalS: 1, Columns: 4, Rows: 1, TileW: 160, TileH: 90}},
		{"minute 4:3", 60_000, 640, 480, Storyboard{IntervalS: 1, Columns: 10, Rows: 6, TileW: 160, TileH: 120}},
		{"100 s", 100_000, 1280, 720, Storyboard{IntervalS: 1, Columns: 10, Rows: 10, TileW: 160, TileH: 90}},
		{"101 s", 101_000, 1280, 720, Storyboard{IntervalS: 2, Columns: 10, Rows: 6, TileW: 160, TileH: 90}},
		{"hour portrait", 3_600_000, 720, 1280, Storyboard{IntervalS: 36, Columns: 10, Rows: 10, TileW: 160, TileH: 284}},
		{"odd size", 800, 641, 359, Storyboard{IntervalS: 1, Columns: 1, Rows: 1, TileW: 160, TileH: 90}},
		{"sliver", 10_000, 4000, 10, Storyboard{IntervalS: 1, Columns: 10, Rows: 1, TileW: 160, TileH: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanStoryboard(tt.durationMS, tt.w, tt.h)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PlanStoryboard(%d, %d, %d) (-want +got):\n%s", tt.durationMS, tt.w, tt.h, diff)
			}
		})
	}
}

func TestPosterTime(t *testing.T) {
	tests := []struct {
		name string
		p    *Probe
		want int64
	}{
		{"nil", nil, 0},
		{"unknown duration", &Probe{}, 0},
		{"short", &Probe{DurationMS: 800}, 400},
		{"two seconds", &Probe{DurationMS: 2000}, 1000},
		{"long", &Probe{DurationMS: 60_000}, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PosterTime(tt.p); got != tt.want {
				t.Errorf("PosterTime = %d, want %d", got, tt.want)
			}
		})
	}
}
