// Package waveform turns PCM audio into peaks — the minimum and maximum of each run of
// samples that one pixel of a waveform drawing covers — in the audiowaveform JSON format
// version 2 that peaks.js and waveform-data.js read, and renders them as PNG or SVG.
package waveform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Peaks is audiowaveform's JSON format, version 2. Data holds a min and a max per pixel and
// channel: [min0, max0, min1, max1, …], scaled to Bits (8: −128…127, 16: −32768…32767).
type Peaks struct {
	Version         int   `json:"version"`
	Channels        int   `json:"channels"`
	SampleRate      int   `json:"sample_rate"`
	SamplesPerPixel int   `json:"samples_per_pixel"`
	Bits            int   `json:"bits"`
	Length          int   `json:"length"`
	Data            []int `json:"data"`
}

// Format limits.
const (
	Version     = 2
	maxChannels = 24
	maxRate     = 1 << 20
)

// JSON encodes p in the audiowaveform JSON format.
func (p *Peaks) JSON() ([]byte, error) {
	q := *p
	if q.Data == nil {
		q.Data = []int{}
	}
	data, err := json.Marshal(&q)
	if err != nil {
		return nil, fmt.Errorf("encode peaks: %w", err)
	}
	return data, nil
}

// fieldSet is the set of keys a version 2 document has, no more and no fewer.
var fieldSet = []string{"version", "channels", "sample_rate", "samples_per_pixel", "bits", "length", "data"}

// ParseJSON decodes an audiowaveform JSON version 2 document and checks it: every field of
// the version 2 set present and no other, and the values consistent (see Validate).
func ParseJSON(data []byte) (*Peaks, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("parse peaks: %w", err)
	}
	if err := checkFieldSet(fields); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Peaks
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse peaks: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func checkFieldSet(fields map[string]json.RawMessage) error {
	for _, k := range fieldSet {
		if _, ok := fields[k]; !ok {
			return fmt.Errorf("parse peaks: field %q missing", k)
		}
	}
	if len(fields) != len(fieldSet) {
		return fmt.Errorf("parse peaks: %d fields, want exactly %v", len(fields), fieldSet)
	}
	return nil
}

// Validate checks that p is a usable version 2 waveform: known version and bits, positive
// rates, and Length min/max pairs per channel within the range of Bits.
func (p *Peaks) Validate() error {
	switch {
	case p.Version != Version:
		return fmt.Errorf("peaks: version %d, want %d", p.Version, Version)
	case p.Bits != 8 && p.Bits != 16:
		return fmt.Errorf("peaks: bits %d, want 8 or 16", p.Bits)
	case p.Channels < 1 || p.Channels > maxChannels:
		return fmt.Errorf("peaks: %d channels", p.Channels)
	case p.SampleRate < 1 || p.SampleRate > maxRate || p.SamplesPerPixel < 1:
		return fmt.Errorf("peaks: sample rate %d, %d samples per pixel", p.SampleRate, p.SamplesPerPixel)
	case p.Length < 0 || p.Length > len(p.Data) || len(p.Data) != 2*p.Channels*p.Length:
		return fmt.Errorf("peaks: %d values for length %d and %d channels", len(p.Data), p.Length, p.Channels)
	}
	return p.checkRange()
}

func (p *Peaks) checkRange() error {
	lo, hi := -(1 << (p.Bits - 1)), 1<<(p.Bits-1)-1
	for i, v := range p.Data {
		if v < lo || v > hi {
			return fmt.Errorf("peaks: value %d at %d outside %d bits", v, i, p.Bits)
		}
	}
	return nil
}

// ErrEmpty is returned when there is nothing to draw.
var ErrEmpty = errors.New("waveform: no peaks")

// DurationMS is the length of audio the peaks cover, to the pixel.
func (p *Peaks) DurationMS() int64 {
	if p.SampleRate <= 0 {
		return 0
	}
	return int64(math.Round(float64(p.Length) * float64(p.SamplesPerPixel) * 1000 / float64(p.SampleRate)))
}
