package waveform

import (
	"cmp"
	"fmt"
	"io"

	"parley/media"
)

// Renderer is the domain's media.WaveformRenderer: peaks at a resolution a player can use,
// with Bits of precision, and a Width×Height PNG.
type Renderer struct {
	Bits   int // 8 or 16; 0 means 8
	Width  int // of the PNG; 0 means 1200
	Height int // of the PNG; 0 means 240
}

var _ media.WaveformRenderer = Renderer{}

// Render reads a mono 16-bit WAV and writes its peaks as JSON and as a PNG.
func (r Renderer) Render(wav io.ReadSeeker, sampleRate int, durationMS int64, json, image io.Writer) error {
	p, err := FromWAV(wav, SamplesPerPixelFor(durationMS, sampleRate), cmp.Or(r.Bits, 8))
	if err != nil {
		return fmt.Errorf("peaks: %w", err)
	}
	doc, err := p.JSON()
	if err != nil {
		return fmt.Errorf("peaks json: %w", err)
	}
	if _, err := json.Write(doc); err != nil {
		return fmt.Errorf("write peaks json: %w", err)
	}
	if err := p.PNG(image, cmp.Or(r.Width, 1200), cmp.Or(r.Height, 240)); err != nil {
		return fmt.Errorf("waveform png: %w", err)
	}
	return nil
}
