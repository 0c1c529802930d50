package rtc

import (
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pion/interceptor"
)

// TestAVSync records a clip with a white flash and a beep at the same instants while the video
// reaches the ingest 200 ms after the audio: alignment by Sender Reports must put them within
// 20 ms of each other in the recording (arrival times would be 200 ms off).
func TestAVSync(t *testing.T) {
	e := newEnv(t, Config{})
	c := syncClip(t)
	late := impairment{delay: 200 * time.Millisecond, videoOnly: true}
	clip, stats, _ := record(t, e, PublisherOptions{Interceptors: []interceptor.Factory{late}}, c)
	t.Logf("tracks %+v", stats)
	path := e.original(t, clip)
	flashes, beeps := flashTimes(t, path), beepTimes(t, path)
	if len(flashes) < 4 || len(beeps) < 4 {
		t.Fatalf("found %d flashes and %d beeps, want ≥ 4 each", len(flashes), len(beeps))
	}
	for _, f := range flashes {
		off := nearest(beeps, f) - f
		t.Logf("flash at %.3f s, beep offset %+.1f ms", f, off*1000)
		if math.Abs(off) > 0.020 {
			t.Errorf("flash at %.3f s: beep is %+.1f ms away, want within ±20 ms", f, off*1000)
		}
	}
}

// syncClip is 6 s of black video with one white frame at 0.5 s, 1.5 s, … and a 1 kHz beep
// starting at the same instants.
func syncClip(t testing.TB) Clip {
	t.Helper()
	video := "color=black:size=320x240:rate=30,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='eq(mod(n\\,30)\\,15)'"
	audio := "aevalsrc='if(between(mod(t\\,1)\\,0.5\\,0.6)\\,0.8*sin(2*PI*1000*t)\\,0)':s=48000"
	var c Clip
	var err error
	if c.Video, err = LoadIVF(fixture(t, "flash.ivf", vp8Args(video, 6)...)); err != nil {
		t.Fatal(err)
	}
	if c.Audio, err = LoadOgg(fixture(t, "beep.ogg", opusArgs(audio, 6)...)); err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	ptsTime = regexp.MustCompile(`pts_time:([0-9.]+)`)
	yavg    = regexp.MustCompile(`YAVG=([0-9.]+)`)
	silence = regexp.MustCompile(`silence_end: ([0-9.]+)`)
)

// flashTimes returns the times of frames that turn bright after a dark one.
func flashTimes(t testing.TB, path string) []float64 {
	t.Helper()
	out := ffmpegLog(t, "-i", path, "-map", "0:v:0", "-vf", "signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG", "-f", "null", "-")
	var times []float64
	var at float64
	dark := true
	for _, l := range regexp.MustCompile(`\n`).Split(out, -1) {
		if m := ptsTime.FindStringSubmatch(l); m != nil {
			at, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := yavg.FindStringSubmatch(l); m != nil {
			y, _ := strconv.ParseFloat(m[1], 64)
			if y > 128 && dark {
				times = append(times, at)
			}
			dark = y <= 128
		}
	}
	return times
}

// beepTimes returns the times where silence ends.
func beepTimes(t testing.TB, path string) []float64 {
	t.Helper()
	out := ffmpegLog(t, "-i", path, "-map", "0:a:0", "-af", "silencedetect=noise=-30dB:d=0.2", "-f", "null", "-")
	var times []float64
	for _, m := range silence.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		times = append(times, v)
	}
	return times
}

func ffmpegLog(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-nostats"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func nearest(xs []float64, v float64) float64 {
	best := math.Inf(1)
	for _, x := range xs {
		if math.Abs(x-v) < math.Abs(best-v) {
			best = x
		}
	}
	return best
}
