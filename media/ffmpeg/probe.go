package ffmpeg

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"parley/media"
	"strconv"
	"strings"
)

// ErrUnsupported marks input that ffmpeg cannot use: corrupt data, an unknown container, or
// no usable audio or video stream. Retrying does not help; callers treat it as permanent.
var ErrUnsupported = media.ErrUnsupportedMedia

// Probe is what ffprobe says about a media file, reduced to what the renditions need.
// It describes the first video and the first audio stream (cover art is not video).
type Probe struct {
	DurationMS int64
	HasVideo   bool
	HasAudio   bool
	Width      int
	Height     int
	VideoCodec string
	AudioCodec string
	Format     string // container, as ffprobe names it, e.g. "matroska,webm"
	FrameRate  float64
}

// ProbeArgs returns the ffprobe arguments that describe in as JSON for ParseProbe.
func ProbeArgs(in string) []string {
	return []string{"-v", "error", "-print_format", "json", "-show_format", "-show_streams", inputPath(in)}
}

// probeJSON is the part of ffprobe's JSON output that Probe is made from.
type probeJSON struct {
	Streams []probeStream `json:"streams"`
	Format  *struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

type probeStream struct {
	CodecType   string            `json:"codec_type"`
	CodecName   string            `json:"codec_name"`
	Width       int               `json:"width"`
	Height      int               `json:"height"`
	AvgRate     string            `json:"avg_frame_rate"`
	RealRate    string            `json:"r_frame_rate"`
	Duration    string            `json:"duration"`
	Tags        map[string]string `json:"tags"`
	Disposition map[string]int    `json:"disposition"`
}

// ParseProbe turns the output of ffprobe run with ProbeArgs into a Probe. Data that is not
// ffprobe's JSON (no "format" object) is an error. A file without streams parses; the
// caller decides (Runner.Probe reports ErrUnsupported).
func ParseProbe(data []byte) (*Probe, error) {
	var pj probeJSON
	if err := json.Unmarshal(data, &pj); err != nil {
		return nil, fmt.Errorf("parse ffprobe json: %w", err)
	}
	if pj.Format == nil {
		return nil, errors.New("parse ffprobe json: no format object")
	}
	p := &Probe{Format: pj.Format.FormatName}
	for _, s := range pj.Streams {
		p.addStream(s)
	}
	p.DurationMS = parseSeconds(pj.Format.Duration)
	if p.DurationMS == 0 {
		p.DurationMS = streamsDuration(pj.Streams)
	}
	return p, nil
}

// addStream records s if it is the first usable stream of its type.
func (p *Probe) addStream(s probeStream) {
	switch {
	case s.CodecType == "video" && !p.HasVideo && s.Disposition["attached_pic"] == 0:
		p.HasVideo = s.Width > 0 && s.Height > 0
		p.VideoCodec, p.Width, p.Height = s.CodecName, s.Width, s.Height
		p.FrameRate = parseRate(s.AvgRate)
		if p.FrameRate == 0 {
			p.FrameRate = parseRate(s.RealRate)
		}
	case s.CodecType == "audio" && !p.HasAudio:
		p.HasAudio = true
		p.AudioCodec = s.CodecName
	}
}

// streamsDuration is the longest stream duration, from the stream field or, for Matroska
// written by ffmpeg, its DURATION tag; 0 when none is known.
func streamsDuration(streams []probeStream) int64 {
	var longest int64
	for _, s := range streams {
		d := parseSeconds(s.Duration)
		if d == 0 {
			d = parseClock(s.Tags["DURATION"])
		}
		longest = max(longest, d)
	}
	return longest
}

// parseSeconds converts ffprobe's "12.345000" to milliseconds; anything unusable is 0.
func parseSeconds(s string) int64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0 && f <= 1e9) { // also rejects NaN and ±Inf
		return 0
	}
	return int64(math.Round(f * 1000))
}

// parseClock converts "HH:MM:SS.fraction" to milliseconds; anything unusable is 0.
func parseClock(s string) int64 {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || h < 0 || h > 1e5 || m < 0 || m > 59 {
		return 0
	}
	return int64(h*3600+m*60)*1000 + parseSeconds(parts[2])
}

// parseRate converts a rational like "30000/1001" to a float; "0/0" and garbage are 0.
func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		den = "1"
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || !(d > 0 && n > 0 && n/d <= 1e6) {
		return 0
	}
	return n / d
}
