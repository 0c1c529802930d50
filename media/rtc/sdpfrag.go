package rtc

import (
	"strings"

	"github.com/pion/ice/v4"

	"parley/media"
)

// maxFragSize and maxFragCandidates bound a trickle-ICE body.
const (
	maxFragSize       = 16 << 10
	maxFragCandidates = 64
)

// sdpFrag is a parsed application/trickle-ice-sdpfrag body (RFC 8840).
type sdpFrag struct {
	Ufrag      string
	Pwd        string
	Candidates []fragCandidate
	End        bool // a=end-of-candidates
}

// fragCandidate is one candidate line with the media section it belongs to.
type fragCandidate struct {
	Mid        string
	MLineIndex int
	Value      string // "candidate:..." without the "a="
}

// parseSDPFrag parses a trickle-ICE sdpfrag. Candidates are checked to be well formed.
func parseSDPFrag(body string) (sdpFrag, error) {
	var f sdpFrag
	if len(body) > maxFragSize {
		return f, media.Errorf(media.ETOOLARGE, "the sdpfrag is larger than %d bytes", maxFragSize)
	}
	mline, mid := -1, ""
	for n, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, "\r")
		var err error
		switch {
		case line == "":
		case strings.HasPrefix(line, "m="):
			mline, mid = mline+1, ""
		case strings.HasPrefix(line, "a=mid:"):
			mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a="):
			err = f.attribute(strings.TrimPrefix(line, "a="), mid, max(mline, 0))
		default:
			err = media.Errorf(media.EINVALID, "sdpfrag line %d: expected an a= or m= line", n+1)
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// attribute applies one a= line.
func (f *sdpFrag) attribute(a, mid string, mline int) error {
	key, value, _ := strings.Cut(a, ":")
	switch key {
	case "ice-ufrag":
		return setCredential(&f.Ufrag, value, "ice-ufrag", 4)
	case "ice-pwd":
		return setCredential(&f.Pwd, value, "ice-pwd", 22)
	case "end-of-candidates":
		f.End = true
	case "candidate":
		return f.candidate(a, mid, mline)
	}
	return nil // ice-options, group and others are not needed
}

// setCredential checks an ICE credential (RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/").
func setCredential(dst *string, v, name string, minLen int) error {
	if len(v) < minLen || len(v) > 256 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/") != "" {
		return media.Errorf(media.EINVALID, "sdpfrag: bad %s", name)
	}
	if *dst != "" && *dst != v {
		return media.Errorf(media.EINVALID, "sdpfrag: conflicting %s values", name)
	}
	*dst = v
	return nil
}

func (f *sdpFrag) candidate(a, mid string, mline int) error {
	if len(f.Candidates) >= maxFragCandidates {
		return media.Errorf(media.ETOOLARGE, "sdpfrag: more than %d candidates", maxFragCandidates)
	}
	if _, err := ice.UnmarshalCandidate(a); err != nil {
		return media.Errorf(media.EINVALID, "sdpfrag: bad candidate: %v", err)
	}
	f.Candidates = append(f.Candidates, fragCandidate{Mid: mid, MLineIndex: mline, Value: a})
	return nil
}

// restart reports whether the frag starts an ICE restart: credentials other than current.
func (f sdpFrag) restart(currentUfrag string) bool {
	return f.Ufrag != "" && f.Ufrag != currentUfrag
}
