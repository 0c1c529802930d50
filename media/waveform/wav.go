package waveform

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// ErrNotWAV is wrapped by FromWAV's errors for input it cannot read as PCM WAV.
var ErrNotWAV = errors.New("not a PCM WAV file")

// WAV format codes this package reads.
const (
	formatPCM        = 1
	formatExtensible = 0xFFFE
)

// chunkFrames is how many sample frames FromWAV decodes at a time.
const chunkFrames = 8192

// FromWAV computes the peaks of a PCM WAV file (8, 16, 24 or 32 bits; several channels are
// mixed down to mono), one min/max pair per samplesPerPixel frames, scaled to bits. Chunks
// before the data, such as the LIST chunk ffmpeg writes, are skipped. It reads the PCM
// data in chunks through a buffer, never the whole file at once.
func FromWAV(r io.ReadSeeker, samplesPerPixel, bits int) (*Peaks, error) {
	if err := checkChunks(r); err != nil {
		return nil, err
	}
	d := wav.NewDecoder(newBufReadSeeker(r))
	d.ReadInfo()
	if err := checkFormat(d); err != nil {
		return nil, err
	}
	b := NewBuilder(int(d.SampleRate), samplesPerPixel, bits)
	if err := decodeInto(d, b); err != nil {
		return nil, err
	}
	return b.Peaks(), nil
}

func checkFormat(d *wav.Decoder) error {
	if err := d.Err(); err != nil {
		return fmt.Errorf("read wav header: %v: %w", err, ErrNotWAV)
	}
	switch {
	case d.WavAudioFormat != formatPCM && d.WavAudioFormat != formatExtensible:
		return fmt.Errorf("wav format %#x: %w", d.WavAudioFormat, ErrNotWAV)
	case d.NumChans < 1 || d.NumChans > maxChannels:
		return fmt.Errorf("wav with %d channels: %w", d.NumChans, ErrNotWAV)
	case d.SampleRate < 1 || d.SampleRate > maxRate:
		return fmt.Errorf("wav sample rate %d: %w", d.SampleRate, ErrNotWAV)
	case d.BitDepth != 8 && d.BitDepth != 16 && d.BitDepth != 24 && d.BitDepth != 32:
		return fmt.Errorf("wav with %d-bit samples: %w", d.BitDepth, ErrNotWAV)
	}
	return nil
}

// decodeInto feeds the PCM data to b, a chunk at a time, mixed down to mono 16-bit.
func decodeInto(d *wav.Decoder, b *Builder) error {
	chans := int(d.NumChans)
	buf := &audio.IntBuffer{Data: make([]int, chunkFrames*chans)}
	mono := make([]int16, chunkFrames)
	toInt16 := converter(int(d.BitDepth))
	for {
		n, err := d.PCMBuffer(buf)
		if err != nil {
			return fmt.Errorf("read wav data: %v: %w", err, ErrNotWAV)
		}
		if n == 0 {
			return nil
		}
		frames := n / chans
		mixDown(mono[:frames], buf.Data[:frames*chans], chans, toInt16)
		b.Add(mono[:frames])
	}
}

// mixDown averages each frame's channels into one 16-bit sample.
func mixDown(dst []int16, src []int, chans int, toInt16 func(int) int) {
	if chans == 1 {
		for i, v := range src {
			dst[i] = int16(toInt16(v))
		}
		return
	}
	for i := range dst {
		sum := 0
		for _, v := range src[i*chans : (i+1)*chans] {
			sum += toInt16(v)
		}
		dst[i] = int16(sum / chans)
	}
}

// converter returns the function that takes a decoded sample of bitDepth bits to 16 bits.
// go-audio gives 8-bit samples unsigned, the others signed.
func converter(bitDepth int) func(int) int {
	switch bitDepth {
	case 8:
		return func(v int) int { return (v - 128) << 8 }
	case 24:
		return func(v int) int { return v >> 8 }
	case 32:
		return func(v int) int { return v >> 16 }
	}
	return func(v int) int { return v }
}

// checkChunks walks the RIFF chunk headers up to the data chunk and rejects files whose
// chunks claim more bytes than the file has, before go-audio allocates by those claims.
// It leaves r at the start.
func checkChunks(r io.ReadSeeker) error {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("wav size: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("wav rewind: %w", err)
	}
	if err := walkChunks(bufio.NewReader(io.LimitReader(r, size)), size); err != nil {
		return err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("wav rewind: %w", err)
	}
	return nil
}

func walkChunks(br *bufio.Reader, size int64) error {
	var riff [12]byte
	if _, err := io.ReadFull(br, riff[:]); err != nil || string(riff[:4]) != "RIFF" || string(riff[8:]) != "WAVE" {
		return fmt.Errorf("no RIFF/WAVE header: %w", ErrNotWAV)
	}
	pos, sawFmt := int64(12), false
	for {
		id, n, err := chunkHeader(br)
		if err != nil {
			return fmt.Errorf("chunk at %d: %v: %w", pos, err, ErrNotWAV)
		}
		switch {
		case id == "data" && sawFmt:
			return nil
		case id == "data" || (id == "fmt " && n < 16):
			return fmt.Errorf("%q chunk at %d before a usable fmt chunk: %w", id, pos, ErrNotWAV)
		case n+n%2 > size-pos-8:
			return fmt.Errorf("%q chunk at %d claims %d bytes, file has %d: %w", id, pos, n, size, ErrNotWAV)
		}
		sawFmt = sawFmt || id == "fmt "
		if _, err := br.Discard(int(n + n%2)); err != nil {
			return fmt.Errorf("skip %q chunk: %v: %w", id, err, ErrNotWAV)
		}
		pos += 8 + n + n%2
	}
}

func chunkHeader(r io.Reader) (string, int64, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", 0, err
	}
	return string(h[:4]), int64(binary.LittleEndian.Uint32(h[4:])), nil
}

// bufReadSeeker buffers reads from a ReadSeeker and still seeks. Its reads fill p unless
// the input ends, so a caller that reads whole samples never gets half of one.
type bufReadSeeker struct {
	r  io.ReadSeeker
	br *bufio.Reader
}

func newBufReadSeeker(r io.ReadSeeker) *bufReadSeeker {
	return &bufReadSeeker{r: r, br: bufio.NewReaderSize(r, 64<<10)}
}

func (b *bufReadSeeker) Read(p []byte) (int, error) {
	n, err := io.ReadFull(b.br, p)
	if n > 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return n, nil
	}
	return n, err
}

func (b *bufReadSeeker) Seek(offset int64, whence int) (int64, error) {
	if whence == io.SeekCurrent {
		offset -= int64(b.br.Buffered())
	}
	pos, err := b.r.Seek(offset, whence)
	b.br.Reset(b.r)
	return pos, err
}
