// Package ffmpeg builds ffmpeg and ffprobe command lines (pure functions, no I/O) and runs
// them. In and out arguments are local file paths; out files are overwritten.
package ffmpeg

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultPreset is the x264 preset MP4s are made with unless another is chosen: measured on
// 2 cores on a hard 720p test pattern, veryfast ran 2.5× realtime, superfast 4.2× and
// ultrafast 7.4× (at 1.6× superfast's size).
const DefaultPreset = "superfast"

// Presets are the x264 presets, fastest first.
var Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"}

// Encoding settings shared by the renditions.
const (
	x264CRF      = "23"
	audioBitrate = "128k"
	voiceBitrate = "96k"
	posterQ      = "3" // mjpeg qscale: 2 (best) … 31
	spriteQ      = "5"
	muxQueue     = "4096" // packets buffered while one stream starts late (WebRTC audio first)
)

// common starts every ffmpeg command: quiet except for errors, never reads stdin, overwrites.
func common() []string {
	return []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"}
}

// inputPath keeps a path that starts with "-" from being read as an option.
func inputPath(p string) string {
	if strings.HasPrefix(p, "-") {
		return "./" + p
	}
	return p
}

// MP4Args transcodes in to an H.264/AAC MP4 with the index first (+faststart), so that
// playback starts before the download ends. The video is scaled explicitly to the probed
// size (rounded down to even numbers), which keeps the output size constant when the
// recording changed resolution mid-stream; other aspect ratios are letterboxed. Without
// audio in p the output has no audio stream. A nil p scales to the input's even size.
// preset is an x264 preset; "" means DefaultPreset.
func MP4Args(in, out string, p *Probe, preset string) []string {
	if preset == "" {
		preset = DefaultPreset
	}
	args := append(common(), "-i", inputPath(in), "-map", "0:v:0")
	if p != nil && p.HasAudio {
		args = append(args, "-map", "0:a:0")
	}
	args = append(args, "-vf", fitFilter(p),
		"-c:v", "libx264", "-preset", preset, "-crf", x264CRF, "-pix_fmt", "yuv420p")
	if p != nil && p.HasAudio {
		args = append(args, "-c:a", "aac", "-b:a", audioBitrate)
	}
	return append(args, "-sn", "-dn", "-max_muxing_queue_size", muxQueue,
		"-movflags", "+faststart", "-f", "mp4", inputPath(out))
}

// M4AArgs extracts the first audio stream of in as AAC in an M4A with the index first.
func M4AArgs(in, out string) []string {
	return append(common(), "-i", inputPath(in), "-map", "0:a:0", "-vn", "-sn", "-dn",
		"-c:a", "aac", "-b:a", voiceBitrate, "-max_muxing_queue_size", muxQueue,
		"-movflags", "+faststart", "-f", "ipod", inputPath(out))
}

// PosterArgs takes one JPEG frame at PosterTime(p), at the size MP4Args produces.
func PosterArgs(in, out string, p *Probe) []string {
	return append(common(), "-ss", seconds(PosterTime(p)), "-i", inputPath(in),
		"-map", "0:v:0", "-frames:v", "1", "-vf", fitFilter(p),
		"-c:v", "mjpeg", "-q:v", posterQ, "-f", "image2", "-update", "1", inputPath(out))
}

// PosterTime is where the poster frame is taken, in milliseconds: 1 s in, or the middle of
// clips shorter than 2 s.
func PosterTime(p *Probe) int64 {
	if p == nil || p.DurationMS <= 0 {
		return 0
	}
	return min(1000, p.DurationMS/2)
}

// WAVArgs decodes the first audio stream of in to mono 16-bit PCM WAV at sampleRate.
func WAVArgs(in, out string, sampleRate int) []string {
	return append(common(), "-i", inputPath(in), "-map", "0:a:0", "-vn", "-sn", "-dn",
		"-ac", "1", "-ar", strconv.Itoa(sampleRate), "-c:a", "pcm_s16le", "-f", "wav", inputPath(out))
}

// RemuxArgs copies every stream of in into out without re-encoding; the container follows
// out's extension. A WebM written while streaming becomes seekable (Cues, Duration).
func RemuxArgs(in, out string) []string {
	return append(common(), "-i", inputPath(in), "-map", "0", "-c", "copy", inputPath(out))
}

// EvenSize is the output size for p: the probed size rounded down to even numbers (H.264
// in 4:2:0 needs them), or 0, 0 when unknown.
func EvenSize(p *Probe) (w, h int) {
	if p == nil || p.Width < 2 || p.Height < 2 {
		return 0, 0
	}
	return p.Width &^ 1, p.Height &^ 1
}

// fitFilter scales every frame into the output size, keeping the aspect ratio and padding
// the rest, so frames of another size (a mid-stream resolution change) still fit.
func fitFilter(p *Probe) string {
	w, h := EvenSize(p)
	if w == 0 {
		return "scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1"
	}
	return fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2,"+
		"pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1", w, h, w, h)
}

// seconds formats milliseconds as ffmpeg seconds, e.g. 1500 → "1.500".
func seconds(ms int64) string {
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}
