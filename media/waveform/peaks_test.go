package waveform

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestBuilder(t *testing.T) {
	tests := []struct {
		name    string
		spp     int
		bits    int
		samples []int16
		want    []int
	}{
		{"empty", 4, 16, nil, []int{}},
		{"pairs", 2, 16, []int16{1, -2, 3, 4, -5}, []int{-2, 1, 3, 4, -5, -5}},
		{"one per pixel", 1, 16, []int16{7, -7}, []int{7, 7, -7, -7}},
		{"odd pixel size", 3, 16, []int16{5, 1, 9, -3, 2, 2, 0}, []int{1, 9, -3, 2, 0, 0}},
		{"8 bits like audiowaveform", 4, 8, []int16{32767, -32768, 255, -255, 256, -256, 0, 0},
			[]int{-128, 127, -1, 1}},
		{"spp below 1 is 1", 0, 16, []int16{3, 4}, []int{3, 3, 4, 4}},
		{"unknown bits are 16", 2, 12, []int16{300, -300}, []int{-300, 300}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(8000, tt.spp, tt.bits)
			b.Add(tt.samples)
			p := b.Peaks()
			if diff := cmp.Diff(tt.want, p.Data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			if p.Length != len(tt.want)/2 || p.Validate() != nil {
				t.Errorf("length %d for %d values; Validate: %v", p.Length, len(p.Data), p.Validate())
			}
		})
	}
}

// TestBuilderSplit feeds the same samples in every split: the peaks must not depend on it.
func TestBuilderSplit(t *testing.T) {
	samples := make([]int16, 257)
	for i := range samples {
		samples[i] = int16((i*7919)%65536 - 32768)
	}
	whole := NewBuilder(8000, 10, 16)
	whole.Add(samples)
	want := whole.Peaks()
	for cut := range len(samples) {
		b := NewBuilder(8000, 10, 16)
		b.Add(samples[:cut])
		b.Peaks() // must not disturb the stream
		b.Add(samples[cut:])
		if diff := cmp.Diff(want, b.Peaks()); diff != "" {
			t.Fatalf("split at %d (-whole +split):\n%s", cut, diff)
		}
	}
}

func samplePeaks() *Peaks {
	b := NewBuilder(22050, 220, 8)
	tone := make([]int16, 220*20)
	for i := range tone {
		tone[i] = int16((i%50 - 25) * 1300 * (i / 220) / 20)
	}
	b.Add(tone)
	return b.Peaks()
}

func TestJSON(t *testing.T) {
	p := samplePeaks()
	data, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "peaks.json.golden", data)
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			yield(k)
		}
	})
	want := []string{"bits", "channels", "data", "length", "sample_rate", "samples_per_pixel", "version"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("JSON fields (-want +got):\n%s", diff)
	}
	back, err := ParseJSON(data)
	if err != nil {
		t.Fatalf("ParseJSON of our own JSON: %v", err)
	}
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseJSON(t *testing.T) {
	const ok = `{"version":2,"channels":1,"sample_rate":48000,"samples_per_pixel":512,"bits":8,"length":2,"data":[-1,1,-128,127]}`
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"valid", ok, ""},
		{"two channels", strings.Replace(strings.Replace(ok, `"channels":1`, `"channels":2`, 1), `"length":2`, `"length":1`, 1), ""},
		{"empty waveform", `{"version":2,"channels":1,"sample_rate":8000,"samples_per_pixel":80,"bits":16,"length":0,"data":[]}`, ""},
		{"version 1", strings.Replace(ok, `"version":2`, `"version":1`, 1), "version"},
		{"missing channels", strings.Replace(ok, `"channels":1,`, ``, 1), `"channels" missing`},
		{"extra field", strings.Replace(ok, `"bits":8`, `"bits":8,"extra":true`, 1), "fields"},
		{"bits 12", strings.Replace(ok, `"bits":8`, `"bits":12`, 1), "bits"},
		{"zero rate", strings.Replace(ok, `48000`, `0`, 1), "sample rate"},
		{"length mismatch", strings.Replace(ok, `"length":2`, `"length":3`, 1), "values"},
		{"out of 8-bit range", strings.Replace(ok, `127`, `128`, 1), "outside"},
		{"string number", strings.Replace(ok, `"bits":8`, `"bits":"8"`, 1), "parse peaks"},
		{"not an object", `[1,2]`, "parse peaks"},
		{"garbage", `{"version":2`, "parse peaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tt.doc))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ParseJSON error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParseJSON(f *testing.F) {
	good, _ := samplePeaks().JSON()
	f.Add(good)
	f.Add([]byte(`{"version":2,"channels":1,"sample_rate":1,"samples_per_pixel":1,"bits":16,"length":0,"data":[]}`))
	f.Add([]byte(`{"version":2,"channels":3,"sample_rate":1,"samples_per_pixel":1,"bits":8,"length":1e9,"data":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseJSON(data)
		if err != nil {
			return
		}
		out, err := p.JSON()
		if err != nil {
			t.Fatalf("JSON of parsed peaks: %v", err)
		}
		back, err := ParseJSON(out)
		if err != nil {
			t.Fatalf("our JSON does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(p, back); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		if p.Length > 0 {
			if err := p.SVG(new(bytes.Buffer), 7, 5); err != nil {
				t.Fatalf("SVG of valid peaks: %v", err)
			}
		}
	})
}

func TestSamplesPerPixelFor(t *testing.T) {
	tests := []struct {
		name       string
		durationMS int64
		rate       int
		want       int
	}{
		{"short", 5_000, 22050, 220},
		{"a minute", 60_000, 48000, 480},
		{"at the cap", 60_000, 8000, 80},
		{"ten minutes", 600_000, 22050, 2205},
		{"an hour", 3_600_000, 8000, 4800},
		{"zero", 0, 22050, 220},
		{"nonsense", -5, -1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SamplesPerPixelFor(tt.durationMS, tt.rate)
			if got != tt.want {
				t.Errorf("SamplesPerPixelFor(%d, %d) = %d, want %d", tt.durationMS, tt.rate, got, tt.want)
			}
			if pixels := tt.durationMS * int64(tt.rate) / 1000 / int64(got); pixels > maxPixels {
				t.Errorf("%d pixels, more than %d", pixels, maxPixels)
			}
		})
	}
}

// stepPeaks is silence, full scale, silence: 10 pixels each at 8 bits.
func stepPeaks() *Peaks {
	p := &Peaks{Version: 2, Channels: 1, SampleRate: 8000, SamplesPerPixel: 80, Bits: 8, Length: 30}
	for i := range 30 {
		v := 0
		if i >= 10 && i < 20 {
			v = 127
		}
		p.Data = append(p.Data, -v-boolInt(v > 0), v)
	}
	return p
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPNG(t *testing.T) {
	tests := []struct{ w, h int }{{300, 60}, {30, 30}, {7, 3}, {1000, 100}}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := stepPeaks().PNG(&buf, tt.w, tt.h); err != nil {
			t.Fatalf("PNG %dx%d: %v", tt.w, tt.h, err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("decode PNG: %v", err)
		}
		if got := img.Bounds().Size(); got.X != tt.w || got.Y != tt.h {
			t.Fatalf("PNG size %v, want %dx%d", got, tt.w, tt.h)
		}
		painted := func(x, y int) bool { _, _, _, a := img.At(x, y).RGBA(); return a > 0 }
		loud, quiet := tt.w/2, tt.w/10
		if !painted(loud, 0) || !painted(loud, tt.h-1) || painted(quiet, 0) || !painted(quiet, tt.h/2) {
			t.Errorf("%dx%d: loud column top/bottom painted %v/%v; quiet column top %v, middle %v",
				tt.w, tt.h, painted(loud, 0), painted(loud, tt.h-1), painted(quiet, 0), painted(quiet, tt.h/2))
		}
	}
}

func TestSVG(t *testing.T) {
	var buf bytes.Buffer
	if err := stepPeaks().SVG(&buf, 15, 20); err != nil {
		t.Fatal(err)
	}
	golden(t, "step.svg.golden", buf.Bytes())
	var doc struct {
		XMLName xml.Name `xml:"svg"`
		Width   int      `xml:"width,attr"`
		Height  int      `xml:"height,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("SVG is not XML: %v", err)
	}
	if doc.Width != 15 || doc.Height != 20 || !strings.HasPrefix(doc.Path.D, "M0 ") || !strings.HasSuffix(doc.Path.D, "Z") {
		t.Errorf("SVG %dx%d, path %q", doc.Width, doc.Height, doc.Path.D)
	}
}

func TestRenderErrors(t *testing.T) {
	empty := NewBuilder(8000, 80, 8).Peaks()
	bad := stepPeaks()
	bad.Length = 31
	tests := []struct {
		name string
		p    *Peaks
		w, h int
	}{
		{"empty", empty, 10, 10},
		{"invalid", bad, 10, 10},
		{"zero width", stepPeaks(), 0, 10},
		{"huge", stepPeaks(), 10, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.PNG(new(bytes.Buffer), tt.w, tt.h); err == nil {
				t.Error("PNG: no error")
			}
			if err := tt.p.SVG(new(bytes.Buffer), tt.w, tt.h); err == nil {
				t.Error("SVG: no error")
			}
		})
	}
}

func TestWriteDat(t *testing.T) {
	tests := []struct {
		name string
		p    *Peaks
		want []byte
	}{
		{"8 bits", &Peaks{Version: 2, Channels: 1, SampleRate: 8000, SamplesPerPixel: 80, Bits: 8, Length: 2,
			Data: []int{-128, 127, -1, 1}}, []byte{
			2, 0, 0, 0, 1, 0, 0, 0, 0x40, 0x1f, 0, 0, 80, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
			0x80, 0x7f, 0xff, 0x01}},
		{"16 bits", &Peaks{Version: 2, Channels: 1, SampleRate: 48000, SamplesPerPixel: 512, Bits: 16, Length: 1,
			Data: []int{-32768, 258}}, []byte{
			2, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xbb, 0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
			0x00, 0x80, 0x02, 0x01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.p.WriteDat(&buf); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, buf.Bytes()); diff != "" {
				t.Errorf("WriteDat (-want +got):\n%s", diff)
			}
		})
	}
}
