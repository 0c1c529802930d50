package waveform

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
)

// Colours of rendered waveforms.
var (
	waveColor   = color.NRGBA{R: 0x3b, G: 0x5b, B: 0xdb, A: 0xff}
	transparent = color.NRGBA{}
)

const waveHex = "#3b5bdb"

// maxSide bounds the width and height of a rendering.
const maxSide = 8192

// column is the extent of the waveform in one column of a drawing, as fractions of full
// scale: lo ≤ hi, both in [−1, 1].
type column struct{ lo, hi float64 }

// columns resamples the peaks to width columns: each column takes the lowest min and the
// highest max of the pixels (of every channel) that fall into it.
func (p *Peaks) columns(width int) []column {
	cols := make([]column, width)
	full := float64(int(1) << (p.Bits - 1))
	for x := range cols {
		first, last := p.Length*x/width, max(p.Length*(x+1)/width, p.Length*x/width+1)
		cols[x] = p.span(first, last, full)
	}
	return cols
}

// span is the column for pixels [first, last).
func (p *Peaks) span(first, last int, full float64) column {
	vals := p.Data[2*p.Channels*first : 2*p.Channels*last]
	lo, hi := vals[0], vals[1]
	for i := 2; i+1 < len(vals); i += 2 {
		lo, hi = min(lo, vals[i]), max(hi, vals[i+1])
	}
	return column{lo: max(-1, float64(lo)/full), hi: min(1, float64(hi)/full)}
}

// checkDraw rejects peaks that cannot be drawn and impossible sizes.
func (p *Peaks) checkDraw(width, height int) error {
	if width < 1 || height < 1 || width > maxSide || height > maxSide {
		return fmt.Errorf("waveform size %dx%d: want 1…%d each", width, height, maxSide)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Length == 0 {
		return ErrEmpty
	}
	return nil
}

// rows maps a column to the image rows it covers, top (inclusive) to bottom (exclusive),
// at least one row: +1 is the top edge, −1 the bottom.
func (c column) rows(height int) (top, bottom int) {
	mid := float64(height) / 2
	top = int(mid - c.hi*mid)
	bottom = max(int(mid-c.lo*mid+0.5), top+1)
	return min(top, height-1), min(bottom, height)
}

// PNG draws the waveform as a width×height PNG: bars in one colour on a transparent
// background, centred vertically, full scale filling the height.
func (p *Peaks) PNG(w io.Writer, width, height int) error {
	if err := p.checkDraw(width, height); err != nil {
		return err
	}
	img := image.NewPaletted(image.Rect(0, 0, width, height), color.Palette{transparent, waveColor})
	for x, c := range p.columns(width) {
		top, bottom := c.rows(height)
		for y := top; y < bottom; y++ {
			img.SetColorIndex(x, y, 1)
		}
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encode waveform png: %w", err)
	}
	return nil
}

// SVG draws the waveform as a width×height SVG document: one filled outline, the maxima
// left to right and the minima back.
func (p *Peaks) SVG(w io.Writer, width, height int) error {
	if err := p.checkDraw(width, height); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+
		`<path fill="%s" d="`, width, height, width, height, waveHex)
	cols := p.columns(width)
	for x, c := range cols {
		top, _ := c.rows(height)
		fmt.Fprintf(bw, "%s%d %d H%d ", pathCommand(x), x, top, x+1)
	}
	for x := len(cols) - 1; x >= 0; x-- {
		_, bottom := cols[x].rows(height)
		fmt.Fprintf(bw, "L%d %d H%d ", x+1, bottom, x)
	}
	bw.WriteString("Z\"/></svg>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write waveform svg: %w", err)
	}
	return nil
}

// pathCommand starts the outline with a move and continues it with lines.
func pathCommand(x int) string {
	if x == 0 {
		return "M"
	}
	return "L"
}
