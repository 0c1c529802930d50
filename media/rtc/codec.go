package rtc

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// codec is a media format the ingest records.
type codec string

// Codecs the ingest accepts.
const (
	codecOpus codec = "opus"
	codecVP8  codec = "vp8"
	codecVP9  codec = "vp9"
	codecH264 codec = "h264"
)

// codecOf maps an RTP MIME type (or an SDP encoding name) to a supported codec.
func codecOf(name string) (codec, bool) {
	name = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(name, "audio/"), "video/"))
	switch c := codec(name); c {
	case codecOpus, codecVP8, codecVP9, codecH264:
		return c, true
	}
	return "", false
}

func (c codec) audio() bool { return c == codecOpus }

// container is the file extension of an original holding this video codec ("webm" or "mkv").
func (c codec) container() string {
	if c == codecH264 {
		return "mkv"
	}
	return "webm"
}

func (c codec) depacketizer() rtp.Depacketizer {
	switch c {
	case codecOpus:
		return &codecs.OpusPacket{}
	case codecVP8:
		return &codecs.VP8Packet{}
	case codecVP9:
		return &codecs.VP9Packet{}
	}
	return &codecs.H264Packet{IsAVC: true}
}

// clockRate is the RTP clock rate of the codec.
func (c codec) clockRate() int64 {
	if c.audio() {
		return 48000
	}
	return 90000
}

// keyframe reports whether a depacketized frame can be decoded on its own, and its size when
// the bitstream says (0, 0 otherwise).
func (c codec) keyframe(data []byte) (key bool, width, height int) {
	switch c {
	case codecOpus:
		return true, 0, 0
	case codecVP8:
		return vp8Keyframe(data)
	case codecVP9:
		return vp9Keyframe(data)
	}
	return h264Keyframe(data)
}

// vp8Keyframe parses the VP8 frame tag (RFC 6386 §9.1).
func vp8Keyframe(b []byte) (bool, int, int) {
	if len(b) < 10 || b[0]&1 != 0 {
		return false, 0, 0
	}
	if b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
		return false, 0, 0
	}
	w := binary.LittleEndian.Uint16(b[6:8]) & 0x3fff
	h := binary.LittleEndian.Uint16(b[8:10]) & 0x3fff
	return true, int(w), int(h)
}

// bits reads a byte slice most significant bit first; reads past the end give zeros.
type bits struct {
	b   []byte
	pos int
}

func (r *bits) read(n int) uint32 {
	var v uint32
	for range n {
		var bit uint32
		if r.pos/8 < len(r.b) {
			bit = uint32(r.b[r.pos/8]>>(7-r.pos%8)) & 1
		}
		v = v<<1 | bit
		r.pos++
	}
	return v
}

// vp9Keyframe parses a VP9 uncompressed header up to the frame size (VP9 spec §6.2).
func vp9Keyframe(b []byte) (bool, int, int) {
	r := &bits{b: b}
	if r.read(2) != 2 {
		return false, 0, 0
	}
	profile := r.read(1) | r.read(1)<<1
	if profile == 3 {
		r.read(1)
	}
	if r.read(1) == 1 || r.read(1) != 0 { // show_existing_frame, frame_type
		return false, 0, 0
	}
	r.read(2) // show_frame, error_resilient_mode
	if r.read(24) != 0x498342 {
		return false, 0, 0
	}
	vp9ColorConfig(r, profile)
	w, h := r.read(16)+1, r.read(16)+1
	return true, int(w), int(h)
}

func vp9ColorConfig(r *bits, profile uint32) {
	if profile >= 2 {
		r.read(1) // ten_or_twelve_bit
	}
	if r.read(3) != 7 { // color_space != CS_RGB
		r.read(1) // color_range
		if profile == 1 || profile == 3 {
			r.read(3) // subsampling_x, subsampling_y, reserved_zero
		}
		return
	}
	if profile == 1 || profile == 3 {
		r.read(1)
	}
}

// avcNALs calls fn for each NAL unit of a frame in 4-byte length-prefixed (AVC) form.
func avcNALs(b []byte, fn func(nal []byte)) {
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		if n <= 0 || n > len(b)-4 {
			return
		}
		fn(b[4 : 4+n])
		b = b[4+n:]
	}
}

// h264ParamSets returns the first SPS and PPS of an AVC frame.
func h264ParamSets(b []byte) (sps, pps []byte) {
	avcNALs(b, func(nal []byte) {
		switch {
		case len(nal) == 0:
		case nal[0]&0x1f == 7 && sps == nil:
			sps = append([]byte(nil), nal...)
		case nal[0]&0x1f == 8 && pps == nil:
			pps = append([]byte(nil), nal...)
		}
	})
	return sps, pps
}

// avcConfig builds an AVCDecoderConfigurationRecord (ISO 14496-15) from one SPS and PPS.
func avcConfig(sps, pps []byte) []byte {
	if len(sps) < 4 || len(pps) == 0 {
		return nil
	}
	b := []byte{1, sps[1], sps[2], sps[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	return append(b, pps...)
}

// opusHead is the CodecPrivate of an Opus track in WebM (RFC 7845 §5.1).
func opusHead(channels int) []byte {
	b := []byte("OpusHead")
	b = append(b, 1, byte(channels), 0, 0) // version, channels, pre-skip 0
	b = binary.LittleEndian.AppendUint32(b, 48000)
	return append(b, 0, 0, 0) // output gain, mapping family 0
}

// registerCodecs registers the codecs the ingest can record, with their feedback.
func registerCodecs(m *webrtc.MediaEngine) error {
	audio := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}
	if err := m.RegisterCodec(audio, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	for _, v := range videoCodecs() {
		if err := registerVideo(m, v); err != nil {
			return err
		}
	}
	return nil
}

// videoCodec is a video payload type and its RTX payload type.
type videoCodec struct {
	webrtc.RTPCodecCapability
	pt, rtx webrtc.PayloadType
}

// videoFeedback is the RTCP feedback negotiated for video: bandwidth estimation (REMB,
// transport-wide congestion control), keyframe requests and NACK.
var videoFeedback = []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "transport-cc"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}

func videoCodecs() []videoCodec {
	video := func(mime, fmtp string, pt webrtc.PayloadType) videoCodec {
		return videoCodec{webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: videoFeedback}, pt, pt + 1}
	}
	const h264 = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id="
	return []videoCodec{
		video(webrtc.MimeTypeVP8, "", 96),
		video(webrtc.MimeTypeVP9, "profile-id=0", 98),
		video(webrtc.MimeTypeVP9, "profile-id=2", 100),
		video(webrtc.MimeTypeH264, h264+"42001f", 102),
		video(webrtc.MimeTypeH264, h264+"42e01f", 106),
		video(webrtc.MimeTypeH264, h264+"4d001f", 108),
		video(webrtc.MimeTypeH264, h264+"64001f", 112),
	}
}

// params are the codec's and its RTX's parameters.
func (v videoCodec) params() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{
		{RTPCodecCapability: v.RTPCodecCapability, PayloadType: v.pt},
		{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: "apt=" + strconv.Itoa(int(v.pt))},
			PayloadType:        v.rtx,
		},
	}
}

func registerVideo(m *webrtc.MediaEngine, v videoCodec) error {
	for _, p := range v.params() {
		if err := m.RegisterCodec(p, webrtc.RTPCodecTypeVideo); err != nil {
			return err
		}
	}
	return nil
}
