package waveform

// Builder computes peaks from a stream of mono 16-bit samples, a slice at a time, with no
// allocation per sample. The zero value is not usable; call NewBuilder.
type Builder struct {
	sampleRate int
	spp        int // samples per pixel
	bits       int
	data       []int
	n          int // samples in the current pixel so far
	lo, hi     int16
}

// NewBuilder returns a Builder for audio at sampleRate that makes one pixel (a min/max pair)
// of every samplesPerPixel samples, scaled to bits. A samplesPerPixel below 1 is taken as 1;
// bits other than 8 are taken as 16.
func NewBuilder(sampleRate, samplesPerPixel, bits int) *Builder {
	if bits != 8 {
		bits = 16
	}
	return &Builder{sampleRate: sampleRate, spp: max(1, samplesPerPixel), bits: bits}
}

// Add takes the next samples.
func (b *Builder) Add(samples []int16) {
	for len(samples) > 0 {
		k := min(len(samples), b.spp-b.n)
		lo, hi := minMax(samples[:k])
		if b.n == 0 {
			b.lo, b.hi = lo, hi
		} else {
			b.lo, b.hi = min(b.lo, lo), max(b.hi, hi)
		}
		b.n += k
		samples = samples[k:]
		if b.n == b.spp {
			b.data = append(b.data, b.scale(b.lo), b.scale(b.hi))
			b.n = 0
		}
	}
}

// minMax returns the smallest and largest of a non-empty slice. Two lanes of accumulators
// let the CPU work on both halves at once.
func minMax(s []int16) (lo, hi int16) {
	lo0, hi0, lo1, hi1 := s[0], s[0], s[0], s[0]
	i := 0
	for ; i+1 < len(s); i += 2 {
		a, c := s[i], s[i+1]
		lo0, hi0 = min(lo0, a), max(hi0, a)
		lo1, hi1 = min(lo1, c), max(hi1, c)
	}
	if i < len(s) {
		lo0, hi0 = min(lo0, s[i]), max(hi0, s[i])
	}
	return min(lo0, lo1), max(hi0, hi1)
}

// scale converts a 16-bit sample to the output's bits, like audiowaveform (8 bits: v/256).
func (b *Builder) scale(v int16) int {
	if b.bits == 8 {
		return int(v) / 256
	}
	return int(v)
}

// Peaks returns the peaks so far; a last, partly filled pixel is included. The Builder can
// go on taking samples afterwards.
func (b *Builder) Peaks() *Peaks {
	data := make([]int, len(b.data), len(b.data)+2)
	copy(data, b.data)
	if b.n > 0 {
		data = append(data, b.scale(b.lo), b.scale(b.hi))
	}
	return &Peaks{
		Version: Version, Channels: 1, SampleRate: b.sampleRate, SamplesPerPixel: b.spp,
		Bits: b.bits, Length: len(data) / 2, Data: data,
	}
}

// Pixels per second of audio that SamplesPerPixelFor aims for, and the most it allows.
const (
	pixelsPerSecond = 100
	maxPixels       = 6000
)

// DefaultSampleRate is a good rate to decode audio at for peaks: plenty for the envelope of
// speech and music, and half the work of 44.1 kHz.
const DefaultSampleRate = 22050

// SamplesPerPixelFor picks a resolution for a clip: 100 pixels a second, so a player can
// zoom, but no more than 6000 pixels for the whole clip (a 10-minute clip gets 10 a second).
func SamplesPerPixelFor(durationMS int64, sampleRate int) int {
	spp := max(1, sampleRate/pixelsPerSecond)
	total := max(durationMS, 0) * int64(max(sampleRate, 0)) / 1000
	if total/int64(spp) > maxPixels {
		spp = int((total + maxPixels - 1) / maxPixels)
	}
	return spp
}
