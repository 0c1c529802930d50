package media

import (
	"bytes"
	"context"
	"fmt"
	"unicode/utf8"
)

// MaxCaptionsSize bounds a captions file, in bytes.
const MaxCaptionsSize = 256 << 10

// ValidateVTT checks that data is a WebVTT file: UTF-8 text starting with "WEBVTT".
func ValidateVTT(data []byte) error {
	body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch {
	case len(data) > MaxCaptionsSize:
		return Errorf(ETOOLARGE, "captions are larger than %d bytes", MaxCaptionsSize)
	case !utf8.Valid(body):
		return Errorf(EINVALID, "captions must be UTF-8 text")
	case !bytes.HasPrefix(body, []byte("WEBVTT")) || (len(body) > 6 && !bytes.ContainsRune([]byte(" \t\r\n"), rune(body[6]))):
		return Errorf(EINVALID, "captions must be a WebVTT file (starting with WEBVTT)")
	}
	return nil
}

// SetCaptions stores a clip's captions (WebVTT), replacing any it had.
func (s *Service) SetCaptions(ctx context.Context, p Principal, clipID string, vtt []byte) (*Clip, error) {
	if _, err := s.Clip(ctx, p, clipID); err != nil {
		return nil, err
	}
	if err := ValidateVTT(vtt); err != nil {
		return nil, err
	}
	key := RenditionKey(clipID, "captions.vtt")
	if err := s.Blobs.Put(ctx, key, bytes.NewReader(vtt), int64(len(vtt)), "text/vtt; charset=utf-8"); err != nil {
		return nil, fmt.Errorf("put captions of clip %s: %w", clipID, err)
	}
	return s.Store.UpdateClip(ctx, clipID, func(c *Clip) error {
		c.Media.Captions = key
		return nil
	})
}
