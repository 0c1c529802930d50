package waveform

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"parley/media/ffmpeg"
	"parley/media/mediatest"
)

// Fixture layout: 1 s of silence, 1 s of a full-scale 440 Hz tone, 1 s of silence, at 8 kHz,
// drawn at 100 pixels a second.
const (
	fixtureRate = 8000
	fixtureSPP  = 80
	toneExpr    = "if(between(t,1,2-1/8000),sin(2*PI*440*t),0)"
)

// makeWAV has ffmpeg render a lavfi aevalsrc expression (channels separated by "|") to a WAV
// with the given PCM codec. ffmpeg writes a LIST chunk before the data.
func makeWAV(t testing.TB, path, expr, codec string) string {
	t.Helper()
	mediatest.Require(t, "ffmpeg")
	src := fmt.Sprintf("aevalsrc='%s':s=%d:d=3", expr, fixtureRate)
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", src, "-c:a", codec, "-f", "wav", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make fixture: %v\n%s", err, out)
	}
	return path
}

// peaksOf runs FromWAV on a file.
func peaksOf(t testing.TB, path string, spp, bits int) *Peaks {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := FromWAV(f, spp, bits)
	if err != nil {
		t.Fatalf("FromWAV %s: %v", filepath.Base(path), err)
	}
	return p
}

// pixelRange is the lowest min and highest max over pixels [from, to).
func pixelRange(p *Peaks, from, to int) (lo, hi int) {
	lo, hi = p.Data[2*from], p.Data[2*from+1]
	for i := from; i < to; i++ {
		lo, hi = min(lo, p.Data[2*i]), max(hi, p.Data[2*i+1])
	}
	return lo, hi
}

// checkSegments verifies silence / full-scale tone / silence in the three seconds of the
// fixture, allowing two pixels at each edge for the tone's start and end.
func checkSegments(t testing.TB, p *Peaks, quiet, loud int) {
	t.Helper()
	pps := float64(p.SampleRate) / float64(p.SamplesPerPixel)
	sec := func(s float64) int { return int(math.Round(s * pps)) }
	if d := float64(p.Length) - 3*pps; d < -1 || d > 2 {
		t.Fatalf("length %d pixels, want %.1f for 3 s", p.Length, 3*pps)
	}
	for _, seg := range []struct {
		name     string
		from, to int
		loud     bool
	}{
		{"first silence", 0, sec(1) - 2, false},
		{"tone", sec(1) + 2, sec(2) - 2, true},
		{"last silence", sec(2) + 2, p.Length, false},
	} {
		lo, hi := pixelRange(p, seg.from, seg.to)
		if seg.loud && (lo > -loud || hi < loud) {
			t.Errorf("%s (pixels %d–%d): peaks %d…%d, want beyond ±%d", seg.name, seg.from, seg.to, lo, hi, loud)
		}
		if !seg.loud && (lo < -quiet || hi > quiet) {
			t.Errorf("%s (pixels %d–%d): peaks %d…%d, want within ±%d", seg.name, seg.from, seg.to, lo, hi, quiet)
		}
	}
}

func TestFromWAVSegments(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		codec       string
		bits        int
		quiet, loud int
	}{
		{"pcm_s16le", 16, 1, 32000},
		{"pcm_s16le", 8, 0, 125},
		{"pcm_u8", 16, 0, 32000},
		{"pcm_s24le", 8, 0, 125},
		{"pcm_s32le", 16, 1, 32000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s to %d bits", tt.codec, tt.bits), func(t *testing.T) {
			path := makeWAV(t, filepath.Join(dir, tt.codec+".wav"), toneExpr, tt.codec)
			checkListBeforeData(t, path)
			p := peaksOf(t, path, fixtureSPP, tt.bits)
			if p.SampleRate != fixtureRate || p.SamplesPerPixel != fixtureSPP || p.Bits != tt.bits || p.Channels != 1 {
				t.Errorf("header %d Hz, %d spp, %d bits, %d channels", p.SampleRate, p.SamplesPerPixel, p.Bits, p.Channels)
			}
			checkSegments(t, p, tt.quiet, tt.loud)
		})
	}
}

// checkListBeforeData makes sure the fixture has the chunk layout FromWAV must cope with.
func checkListBeforeData(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	list, pcm := bytes.Index(data, []byte("LIST")), bytes.Index(data, []byte("data"))
	if list < 0 || list > pcm {
		t.Fatalf("fixture has no LIST chunk before its data (LIST at %d, data at %d)", list, pcm)
	}
}

func TestFromWAVDownmix(t *testing.T) {
	dir := t.TempDir()
	tone := "sin(2*PI*440*t)"
	tests := []struct {
		name     string
		expr     string
		min, max int // bounds of the whole waveform at 16 bits
	}{
		{"same on both", tone + "|" + tone, -32767, 32767},
		{"left only", tone + "|0", -16384, 16383},
		{"opposite phases cancel", tone + "|-" + tone, -1, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := makeWAV(t, filepath.Join(dir, fmt.Sprint(i, ".wav")), tt.expr, "pcm_s16le")
			p := peaksOf(t, path, fixtureSPP, 16)
			lo, hi := pixelRange(p, 0, p.Length)
			if d1, d2 := lo-tt.min, hi-tt.max; d1 < -2 || d1 > 2 || d2 < -2 || d2 > 2 {
				t.Errorf("peaks %d…%d, want %d…%d (±2)", lo, hi, tt.min, tt.max)
			}
		})
	}
}

// TestFromWAVRecording goes the way the worker does: an Opus recording, decoded by ffmpeg
// with WAVArgs at DefaultSampleRate, drawn at SamplesPerPixelFor.
func TestFromWAVRecording(t *testing.T) {
	dir := t.TempDir()
	mediatest.Require(t, "ffmpeg")
	rec := filepath.Join(dir, "voice.webm")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
		"-i", "aevalsrc='"+toneExpr+"':s=48000:d=3", "-c:a", "libopus", rec)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make recording: %v\n%s", err, out)
	}
	r, ctx := new(ffmpeg.Runner), context.Background()
	pr, err := r.Probe(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(dir, "voice.wav")
	if err := r.Run(ctx, ffmpeg.WAVArgs(rec, wav, DefaultSampleRate)); err != nil {
		t.Fatal(err)
	}
	spp := SamplesPerPixelFor(pr.DurationMS, DefaultSampleRate)
	p := peaksOf(t, wav, spp, 8)
	if spp != DefaultSampleRate/100 {
		t.Fatalf("%d samples per pixel, want %d (100 pixels a second)", spp, DefaultSampleRate/100)
	}
	checkSegments(t, p, 2, 110) // Opus is lossy: near silence, near full scale
}

func TestFromWAVErrors(t *testing.T) {
	valid := wavBytes(1, 16, []int{1, 2, 3, 4})
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not riff", []byte("hello world, this is text")},
		{"truncated header", valid[:20]},
		{"data before fmt", append([]byte("RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00"), 1, 2, 3, 4)},
		{"huge LIST", append(append([]byte{}, valid[:36]...), "LIST\xf0\xff\xff\x7fINFO"...)},
		{"float samples", withFormat(valid, 3)},
		{"12-bit samples", withBits(valid, 12)},
		{"no channels", withChannels(valid, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromWAV(bytes.NewReader(tt.data), 10, 8)
			if !errors.Is(err, ErrNotWAV) {
				t.Errorf("FromWAV = %+v, %v; want ErrNotWAV", p, err)
			}
		})
	}
}

// wavBytes builds a small PCM WAV with a LIST chunk between fmt and data, the way ffmpeg
// lays them out.
func wavBytes(chans, bits int, samples []int) []byte {
	var data bytes.Buffer
	for _, s := range samples {
		switch bits {
		case 8:
			data.WriteByte(byte(s + 128))
		default:
			binary.Write(&data, binary.LittleEndian, int16(s))
		}
	}
	list := []byte("INFOISFT\x0e\x00\x00\x00Lavf59.27.100\x00")
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+24+8+len(list)+8+data.Len()))
	b.WriteString("WAVEfmt ")
	blockAlign := chans * bits / 8
	for _, v := range []any{uint32(16), uint16(1), uint16(chans), uint32(8000),
		uint32(8000 * blockAlign), uint16(blockAlign), uint16(bits)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("LIST")
	binary.Write(&b, binary.LittleEndian, uint32(len(list)))
	b.Write(list)
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

// fmt chunk field offsets in wavBytes output.
const (
	offFormat   = 20
	offChannels = 22
	offBits     = 34
)

func withFormat(b []byte, v uint16) []byte   { return patch16(b, offFormat, v) }
func withChannels(b []byte, v uint16) []byte { return patch16(b, offChannels, v) }
func withBits(b []byte, v uint16) []byte     { return patch16(b, offBits, v) }

func patch16(b []byte, off int, v uint16) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint16(c[off:], v)
	return c
}

func TestFromWAVBuilt(t *testing.T) {
	tests := []struct {
		name    string
		chans   int
		bits    int
		samples []int
		spp     int
		want    []int
	}{
		{"mono 16", 1, 16, []int{100, -200, 300, 400, -32768}, 2, []int{-200, 100, 300, 400, -32768, -32768}},
		{"stereo 16", 2, 16, []int{100, 300, -100, -300, 7, 9}, 1, []int{200, 200, -200, -200, 8, 8}},
		{"mono 8-bit file", 1, 8, []int{-128, 127, 0}, 3, []int{-32768, 32512}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromWAV(bytes.NewReader(wavBytes(tt.chans, tt.bits, tt.samples)), tt.spp, 16)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(p.Data) != fmt.Sprint(tt.want) {
				t.Errorf("data %v, want %v", p.Data, tt.want)
			}
		})
	}
}

func FuzzFromWAV(f *testing.F) {
	f.Add(wavBytes(1, 16, []int{1, -2, 3}), 2)
	f.Add(wavBytes(2, 16, []int{1, -2, 3, 4}), 1)
	f.Add(wavBytes(1, 8, []int{1, -2, 3}), 5)
	f.Add(withBits(wavBytes(1, 16, []int{1}), 24), 1)
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"), 3)
	f.Fuzz(func(t *testing.T, data []byte, spp int) {
		p, err := FromWAV(bytes.NewReader(data), spp, 8)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil && p.Length > 0 {
			t.Fatalf("FromWAV made invalid peaks: %v", err)
		}
	})
}
