package rtc

import (
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"parley/media"
)

// maxOfferSize bounds an SDP offer; real offers are a few kilobytes.
const maxOfferSize = 64 << 10

// offerInfo is what an offer carries that the ingest can record.
type offerInfo struct {
	audio bool // an Opus audio section
	video bool // a VP8, VP9 or H.264 video section
}

// kind is the clip kind the offer records.
func (o offerInfo) kind() media.ClipKind {
	if o.video {
		return media.KindVideo
	}
	return media.KindAudio
}

// checkOffer validates a WHIP offer: parseable SDP, at most one audio and one video section,
// and at least one section with a codec the ingest records.
func checkOffer(offer string) (offerInfo, error) {
	var info offerInfo
	if len(offer) > maxOfferSize {
		return info, media.Errorf(media.ETOOLARGE, "the SDP offer is larger than %d bytes", maxOfferSize)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return info, media.Errorf(media.EINVALID, "malformed SDP offer: %v", err)
	}
	if len(d.MediaDescriptions) == 0 {
		return info, media.Errorf(media.EINVALID, "the SDP offer has no media sections")
	}
	var audios, videos int
	for _, m := range d.MediaDescriptions {
		switch m.MediaName.Media {
		case "audio":
			audios++
			info.audio = info.audio || offersCodec(m, true)
		case "video":
			videos++
			info.video = info.video || offersCodec(m, false)
		}
	}
	if audios > 1 || videos > 1 {
		return info, media.Errorf(media.EINVALID, "too many tracks: at most one audio and one video track")
	}
	if !info.audio && !info.video {
		return info, media.Errorf(media.EUNSUPPORTED, "the offer has no supported codec: Opus audio, VP8, VP9 or H.264 video")
	}
	return info, nil
}

// offersCodec reports whether a media section offers a codec the ingest records.
func offersCodec(m *sdp.MediaDescription, audio bool) bool {
	if m.MediaName.Port.Value == 0 {
		return false
	}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		if c, ok := rtpmapCodec(a.Value); ok && c.audio() == audio {
			return true
		}
	}
	return false
}

// offeredVideoCodec returns the first video codec, in the publisher's order of preference,
// that the ingest records.
func offeredVideoCodec(offer string) (codec, bool) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return "", false
	}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "video" || m.MediaName.Port.Value == 0 {
			continue
		}
		for _, pt := range m.MediaName.Formats {
			if c, ok := formatCodec(m, pt); ok && !c.audio() {
				return c, true
			}
		}
	}
	return "", false
}

// formatCodec returns the recordable codec of payload type pt of a media section. H.264 needs
// packetization-mode=1 (FU-A), the only mode browsers use and the ingest registers.
func formatCodec(m *sdp.MediaDescription, pt string) (codec, bool) {
	var c codec
	ok := false
	for _, a := range m.Attributes {
		if p, _, _ := strings.Cut(a.Value, " "); a.Key == "rtpmap" && p == pt {
			c, ok = rtpmapCodec(a.Value)
		}
	}
	if !ok || c != codecH264 {
		return c, ok
	}
	for _, a := range m.Attributes {
		if p, fmtp, _ := strings.Cut(a.Value, " "); a.Key == "fmtp" && p == pt {
			return c, strings.Contains(fmtp, "packetization-mode=1")
		}
	}
	return c, false
}

// rtpmapCodec parses "96 VP8/90000".
func rtpmapCodec(v string) (codec, bool) {
	_, enc, ok := strings.Cut(v, " ")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(enc, "/")
	return codecOf(name)
}

// answerVideoCodec returns the codec of the answer's accepted video section, if any.
func answerVideoCodec(answer string) (codec, bool) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(answer); err != nil {
		return "", false
	}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "video" || m.MediaName.Port.Value == 0 || len(m.MediaName.Formats) == 0 {
			continue
		}
		for _, a := range m.Attributes {
			if pt, _, _ := strings.Cut(a.Value, " "); a.Key == "rtpmap" && pt == m.MediaName.Formats[0] {
				return rtpmapCodec(a.Value)
			}
		}
	}
	return "", false
}

// answerHasAudio reports whether the answer accepted an audio section.
func answerHasAudio(answer string) bool {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(answer); err != nil {
		return false
	}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media == "audio" && m.MediaName.Port.Value != 0 {
			return true
		}
	}
	return false
}

// capBitrate adds b=AS and b=TIAS lines to the video section of an SDP answer, which browsers
// honour as the most they may send.
func capBitrate(answer string, bps int) string {
	if bps <= 0 {
		return answer
	}
	lines := strings.SplitAfter(answer, "\r\n")
	var b strings.Builder
	inVideo := false
	for _, l := range lines {
		if strings.HasPrefix(l, "m=") {
			inVideo = strings.HasPrefix(l, "m=video")
			b.WriteString(l)
			if inVideo {
				continue
			}
		}
		if inVideo && strings.HasPrefix(l, "c=") {
			b.WriteString(l)
			b.WriteString("b=AS:" + strconv.Itoa(bps/1000) + "\r\n")
			b.WriteString("b=TIAS:" + strconv.Itoa(bps) + "\r\n")
			inVideo = false
			continue
		}
		if !strings.HasPrefix(l, "m=") {
			b.WriteString(l)
		}
	}
	return b.String()
}
