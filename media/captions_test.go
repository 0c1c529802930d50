package media_test

import (
	"strings"
	"testing"

	"parley/media"
)

func TestValidateVTT(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"minimal", "WEBVTT\n", ""},
		{"with cues", "WEBVTT - talk\n\n00:00.000 --> 00:01.500\nHello\n", ""},
		{"byte order mark", "\xef\xbb\xbfWEBVTT\n", ""},
		{"just the word", "WEBVTT", ""},
		{"srt", "1\n00:00:00,000 --> 00:00:01,000\nHello\n", media.EINVALID},
		{"glued", "WEBVTTX\n", media.EINVALID},
		{"binary", "WEBVTT\n\xff\xfe", media.EINVALID},
		{"empty", "", media.EINVALID},
		{"too large", "WEBVTT\n" + strings.Repeat("a", media.MaxCaptionsSize), media.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(media.ValidateVTT([]byte(tt.data))); got != tt.want {
				t.Errorf("ValidateVTT = %q, want %q", got, tt.want)
			}
		})
	}
}
