package rtc

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/media"
)

// TestRecordVideo records the 5 s VP8/Opus clip and checks the stored original.
func TestRecordVideo(t *testing.T) {
	for _, trickle := range []bool{false, true} {
		t.Run(map[bool]string{false: "candidates in offer", true: "trickle"}[trickle], func(t *testing.T) {
			e := newEnv(t, Config{})
			if trickle {
				checkTrickled(t, e)
			}
			clip, stats, sent := record(t, e, PublisherOptions{Trickle: trickle}, testClip(t, true))
			t.Logf("sent video %d audio %d; tracks %+v", sent[0], sent[1], stats)
			checkOriginal(t, e, clip, media.KindVideo, sent)
		})
	}
}

// TestRecordOverTCP records a publisher that can only use ICE-TCP (UDP blocked), through the
// passive TCP candidates on the ingest's port.
func TestRecordOverTCP(t *testing.T) {
	e := newEnv(t, Config{})
	p, res := publish(t, e, PublisherOptions{TCP: true}, false)
	s, _ := e.ing.session(res.SessionID)
	pair, err := s.pc.GetTransceivers()[0].Receiver().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Protocol != webrtc.ICEProtocolTCP {
		t.Fatalf("selected pair %v, %v; want TCP", pair, err)
	}
	c := testClip(t, false)
	v, a, err := p.Send(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	settle(v+a, s)
	clip, err := e.ing.Stop(context.Background(), res.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	checkOriginal(t, e, clip, media.KindAudio, [2]int{v, a})
}

// checkTrickled publishes without candidates in the offer and checks that the ingest selected
// the publisher's host candidate that came by Patch (not one learned from its checks).
func checkTrickled(t *testing.T, e *env) {
	t.Helper()
	p, res := publish(t, e, PublisherOptions{Trickle: true}, false)
	s, _ := e.ing.session(res.SessionID)
	pair, err := s.pc.GetTransceivers()[0].Receiver().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Remote.Typ != webrtc.ICECandidateTypeHost {
		t.Errorf("selected pair %v, %v; want the trickled host candidate", pair, err)
	}
	p.Close()
	e.ing.Stop(context.Background(), res.SessionID)
}

// TestRecordVoice records audio only: a voice clip.
func TestRecordVoice(t *testing.T) {
	e := newEnv(t, Config{})
	clip, _, sent := record(t, e, PublisherOptions{}, testClip(t, false))
	checkOriginal(t, e, clip, media.KindAudio, sent)
	if got := probe(t, e.original(t, clip), "-show_entries", "stream=codec_type"); got != "audio" {
		t.Errorf("streams = %q, want audio only", got)
	}
}

func checkOriginal(t *testing.T, e *env, clip *media.Clip, kind media.ClipKind, sent [2]int) {
	t.Helper()
	if clip.Status != media.StatusProcessing || clip.Kind != kind || clip.Interrupted {
		t.Errorf("clip status %s kind %s interrupted %v, want processing %s false", clip.Status, clip.Kind, clip.Interrupted, kind)
	}
	path := e.original(t, clip)
	if errs := decodeErrors(t, path); errs != "" {
		t.Errorf("decoding the original reports:\n%s", errs)
	}
	d := probeFloat(t, path, "-show_entries", "format=duration")
	if math.Abs(d-5) > 0.1 {
		t.Errorf("original duration %.3f s, want 5 s ± 100 ms", d)
	}
	if math.Abs(float64(clip.DurationMS)-5000) > 100 {
		t.Errorf("clip duration %d ms, want 5000 ± 100", clip.DurationMS)
	}
	if kind == media.KindVideo {
		if got := countFrames(t, path, "v:0"); got != sent[0] {
			t.Errorf("original has %d video frames, sent %d", got, sent[0])
		}
		if clip.Width != 320 || clip.Height != 240 {
			t.Errorf("clip size %dx%d, want 320x240", clip.Width, clip.Height)
		}
	}
	if got := countFrames(t, path, "a:0"); got != sent[1] {
		t.Errorf("original has %d audio frames, sent %d", got, sent[1])
	}
}

// TestRecordH264 records H.264 video (as Safari sends) into a Matroska original.
func TestRecordH264(t *testing.T) {
	e := newEnv(t, Config{})
	h264 := fixture(t, "pattern.h264", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "5",
		"-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-x264-params", "slices=1:sliced-threads=0", "-profile:v", "baseline",
		"-g", "60", "-bsf:v", "h264_mp4toannexb", "-f", "h264")
	c := testClip(t, false)
	var err error
	if c.Video, err = LoadH264(h264, time.Second/30); err != nil {
		t.Fatal(err)
	}
	clip, stats, sent := record(t, e, PublisherOptions{VideoMime: webrtc.MimeTypeH264}, c)
	t.Logf("sent video %d audio %d; tracks %+v", sent[0], sent[1], stats)
	if !strings.HasSuffix(clip.Media.Original, ".mkv") {
		t.Errorf("original %s, want a Matroska file", clip.Media.Original)
	}
	checkOriginal(t, e, clip, media.KindVideo, sent)
}

// TestResolutionChange records video whose size changes midway (Chromium adapts to
// bandwidth): the recording keeps going and notes the first size.
func TestResolutionChange(t *testing.T) {
	e := newEnv(t, Config{})
	small, err := LoadIVF(fixture(t, "small.ivf", vp8Args("testsrc2=size=320x240:rate=30", 2.5)...))
	if err != nil {
		t.Fatal(err)
	}
	large, err := LoadIVF(fixture(t, "large.ivf", vp8Args("testsrc2=size=480x360:rate=30", 2.5)...))
	if err != nil {
		t.Fatal(err)
	}
	c := testClip(t, false)
	c.Video = append(small, large...)
	clip, _, sent := record(t, e, PublisherOptions{}, c)
	checkOriginal(t, e, clip, media.KindVideo, sent)
	sizes := probe(t, e.original(t, clip), "-select_streams", "v:0", "-show_entries", "frame=width,height", "-of", "csv=p=0")
	if !strings.Contains(sizes, "320,240") || !strings.Contains(sizes, "480,360") {
		t.Errorf("decoded frame sizes do not include both 320x240 and 480x360")
	}
}

func TestSPSSize(t *testing.T) {
	for _, tt := range []struct{ profile, size string }{{"baseline", "320x240"}, {"high", "1920x1080"}, {"high", "642x362"}} {
		t.Run(tt.profile+" "+tt.size, func(t *testing.T) {
			path := fixture(t, "sps-"+tt.profile+"-"+tt.size+".h264", "-f", "lavfi", "-i", "color=gray:size="+tt.size+":rate=30", "-frames:v", "1",
				"-c:v", "libx264", "-preset", "ultrafast", "-profile:v", tt.profile, "-pix_fmt", "yuv420p", "-f", "h264")
			aus, err := LoadH264(path, time.Second/30)
			if err != nil || len(aus) == 0 {
				t.Fatalf("load: %v", err)
			}
			key, w, h := codecH264.keyframe(annexBToAVC(aus[0].Data))
			if got := fmt.Sprintf("%dx%d", w, h); !key || got != tt.size {
				t.Errorf("keyframe %v, size %s; want a keyframe of %s", key, got, tt.size)
			}
		})
	}
}

// annexBToAVC turns start-code delimited NAL units into 4-byte length-prefixed ones.
func annexBToAVC(b []byte) []byte {
	var out []byte
	for _, nal := range bytes.Split(b, []byte{0, 0, 0, 1}) {
		if len(nal) > 0 {
			out = binary.BigEndian.AppendUint32(out, uint32(len(nal)))
			out = append(out, nal...)
		}
	}
	return out
}
