package ffmpeg

import (
	"fmt"
	"math"
	"strings"
)

// Storyboard is a grid of thumbnails in one sprite image: tile i shows the frame at
// i*IntervalS seconds and sits at column i%Columns, row i/Columns.
type Storyboard struct {
	IntervalS float64
	Columns   int
	Rows      int
	TileW     int
	TileH     int
}

// Storyboard limits: thumbnails at most this many, this wide, and at least this far apart.
const (
	maxTiles       = 100
	maxColumns     = 10
	tileWidth      = 160
	minIntervalS   = 1.0
	defaultAspectH = 90 // tile height when the video size is unknown (16:9)
)

// PlanStoryboard picks the thumbnail interval and grid for a clip: one thumbnail a second,
// spread further apart for long clips so there are never more than 100 (a 10×10 sprite),
// each 160 px wide with the video's aspect ratio.
func PlanStoryboard(durationMS int64, w, h int) Storyboard {
	interval := max(minIntervalS, math.Ceil(float64(durationMS)/1000/maxTiles))
	tiles := tileCount(durationMS, interval, maxTiles)
	cols := min(tiles, maxColumns)
	return Storyboard{
		IntervalS: interval,
		Columns:   cols,
		Rows:      (tiles + cols - 1) / cols,
		TileW:     tileWidth,
		TileH:     tileHeight(w, h),
	}
}

// tileCount is how many thumbnails a clip of durationMS gets, one per interval, at most
// limit. A last interval shorter than half is left to the previous thumbnail: ffmpeg's fps
// filter emits no frame for it.
func tileCount(durationMS int64, interval float64, limit int) int {
	n := math.Round(float64(durationMS) / 1000 / interval)
	return int(max(1, min(n, float64(limit))))
}

// tileHeight is the even height of a tileWidth-wide thumbnail of a w×h video.
func tileHeight(w, h int) int {
	if w <= 0 || h <= 0 {
		return defaultAspectH
	}
	th := int(math.Round(float64(tileWidth)*float64(h)/float64(w)/2)) * 2
	return min(max(th, 2), 4*tileWidth)
}

// Tiles is the number of cells in the sprite.
func (sb Storyboard) Tiles() int { return sb.Columns * sb.Rows }

// StoryboardArgs renders the sprite for sb as one JPEG: a frame every IntervalS seconds,
// scaled into a tile (letterboxed), laid out in the grid. Unused cells stay black.
func StoryboardArgs(in, out string, sb Storyboard) []string {
	vf := fmt.Sprintf("fps=1/%s,scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2,"+
		"pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1,tile=%dx%d",
		formatFloat(sb.IntervalS), sb.TileW, sb.TileH, sb.TileW, sb.TileH, sb.Columns, sb.Rows)
	return append(common(), "-i", inputPath(in), "-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", vf, "-frames:v", "1", "-c:v", "mjpeg", "-q:v", spriteQ,
		"-f", "image2", "-update", "1", inputPath(out))
}

// StoryboardVTT is the WebVTT track that points players at the sprite's tiles: one cue per
// thumbnail, "spriteURL#xywh=x,y,w,h" (Media Fragments), for preview on hover. The last cue
// lasts until the end of the clip.
func StoryboardVTT(sb Storyboard, spriteURL string, durationMS int64) string {
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	if sb.IntervalS <= 0 || sb.Columns <= 0 {
		return b.String()
	}
	step := int64(math.Round(sb.IntervalS * 1000))
	n := tileCount(durationMS, sb.IntervalS, sb.Tiles())
	for i := range n {
		start, end := int64(i)*step, int64(i+1)*step
		if i == n-1 {
			end = max(durationMS, start+1)
		}
		x, y := (i%sb.Columns)*sb.TileW, (i/sb.Columns)*sb.TileH
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n",
			vttTime(start), vttTime(end), spriteURL, x, y, sb.TileW, sb.TileH)
	}
	return b.String()
}

// vttTime formats milliseconds as a WebVTT timestamp, "hh:mm:ss.ttt".
func vttTime(ms int64) string {
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// formatFloat prints f without trailing zeros: 1 → "1", 2.5 → "2.5".
func formatFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
}
