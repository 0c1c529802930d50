package waveform

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// datFlag8Bit marks 8-bit data in the .dat header's flags.
const datFlag8Bit = 1

// WriteDat writes p in audiowaveform's binary format, version 2: a little-endian header
// (version, flags, sample rate, samples per pixel, length, channels) followed by the data
// as int8 or int16.
func (p *Peaks) WriteDat(w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	flags := uint32(0)
	if p.Bits == 8 {
		flags = datFlag8Bit
	}
	bw := bufio.NewWriter(w)
	header := []uint32{uint32(p.Version), flags, uint32(p.SampleRate), uint32(p.SamplesPerPixel),
		uint32(p.Length), uint32(p.Channels)}
	binary.Write(bw, binary.LittleEndian, header)
	for _, v := range p.Data {
		if p.Bits == 8 {
			bw.WriteByte(byte(int8(v)))
		} else {
			binary.Write(bw, binary.LittleEndian, int16(v))
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write waveform dat: %w", err)
	}
	return nil
}
