package waveform

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkBuilder measures peak building on PCM in memory, as seconds of audio per second
// (x_realtime), at the rates the worker decodes at.
func BenchmarkBuilder(b *testing.B) {
	for _, rate := range []int{DefaultSampleRate, 48000} {
		b.Run(fmt.Sprint(rate, "Hz"), func(b *testing.B) {
			samples := make([]int16, 60*rate) // a minute
			for i := range samples {
				samples[i] = int16(i * 2654435761 >> 16)
			}
			spp := SamplesPerPixelFor(60_000, rate)
			b.SetBytes(int64(2 * len(samples)))
			for b.Loop() {
				bl := NewBuilder(rate, spp, 8)
				for s := samples; len(s) > 0; s = s[min(len(s), chunkFrames):] {
					bl.Add(s[:min(len(s), chunkFrames)])
				}
				bl.Peaks()
			}
			b.ReportMetric(60*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
		})
	}
}

// BenchmarkFromWAV measures FromWAV on a 60 s mono 16-bit WAV file (ffmpeg's layout, with a
// LIST chunk) at DefaultSampleRate.
func BenchmarkFromWAV(b *testing.B) {
	samples := make([]int, 60*DefaultSampleRate)
	for i := range samples {
		samples[i] = int(int16(i * 2654435761 >> 16))
	}
	path := filepath.Join(b.TempDir(), "minute.wav")
	if err := os.WriteFile(path, wavBytes(1, 16, samples), 0o644); err != nil {
		b.Fatal(err)
	}
	spp := SamplesPerPixelFor(60_000, DefaultSampleRate)
	b.SetBytes(int64(2 * len(samples)))
	for b.Loop() {
		fromFile(b, path, spp)
	}
	b.ReportMetric(60*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

func fromFile(b *testing.B, path string, spp int) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := FromWAV(f, spp, 8); err != nil {
		b.Fatal(err)
	}
}
