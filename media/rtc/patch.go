package rtc

import (
	"context"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"parley/media"
)

// Patch applies a trickle-ICE sdpfrag, or performs an ICE restart when the frag carries new
// credentials. If-Match may be absent, "*" or the current ETag for trickle; a restart
// requires it ("*" or the current ETag).
func (i *Ingest) Patch(ctx context.Context, sessionID, ifMatch, body string) (*media.PatchResult, error) {
	s, err := i.session(sessionID)
	if err != nil {
		return nil, err
	}
	frag, err := parseSDPFrag(body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, media.Errorf(media.ECONFLICT, "session %s has ended", sessionID)
	}
	restart := frag.restart(s.remoteUfrag)
	if err := checkIfMatch(ifMatch, s.etag, restart); err != nil {
		return nil, err
	}
	if restart {
		return s.restartICE(ctx, frag)
	}
	if err := s.addCandidates(frag); err != nil {
		return nil, err
	}
	return &media.PatchResult{ETag: s.etag}, nil
}

// checkIfMatch applies RFC 9725's conditional rules to a PATCH.
func checkIfMatch(ifMatch, current string, restart bool) error {
	ifMatch = strings.TrimSpace(ifMatch)
	switch {
	case ifMatch == "" && restart:
		return media.Errorf(media.EPRECONDREQ, "an ICE restart needs an If-Match header")
	case ifMatch == "" || ifMatch == "*":
		return nil
	case etagMatches(ifMatch, current):
		return nil
	}
	return media.Errorf(media.EPRECONDITION, "If-Match %s does not match the ICE session %s", ifMatch, current)
}

// etagMatches compares an If-Match list with the current tag, ignoring weakness and quotes.
func etagMatches(ifMatch, current string) bool {
	norm := func(t string) string { return strings.Trim(strings.TrimPrefix(strings.TrimSpace(t), "W/"), `"`) }
	for _, t := range strings.Split(ifMatch, ",") {
		if norm(t) == norm(current) {
			return true
		}
	}
	return false
}

// addCandidates adds trickled remote candidates.
func (s *session) addCandidates(frag sdpFrag) error {
	for _, c := range frag.Candidates {
		init := webrtc.ICECandidateInit{Candidate: c.Value}
		if c.Mid != "" {
			init.SDPMid = &c.Mid
		} else {
			idx := uint16(c.MLineIndex)
			init.SDPMLineIndex = &idx
		}
		if err := s.pc.AddICECandidate(init); err != nil {
			return media.Errorf(media.EINVALID, "candidate %q: %v", c.Value, err)
		}
	}
	return nil
}

// restartICE applies the publisher's new credentials and candidates to its offer, answers it
// and returns the server's new credentials and candidates as an sdpfrag.
func (s *session) restartICE(ctx context.Context, frag sdpFrag) (*media.PatchResult, error) {
	if frag.Pwd == "" {
		return nil, media.Errorf(media.EINVALID, "an ICE restart needs a=ice-pwd")
	}
	offer, err := restartOffer(s.pc.RemoteDescription().SDP, frag)
	if err != nil {
		return nil, err
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return nil, media.Errorf(media.EINVALID, "ICE restart: %v", err)
	}
	answer, err := s.ing.answer(ctx, s.pc)
	if err != nil {
		return nil, err
	}
	s.remoteUfrag = frag.Ufrag
	s.etag = etag(sdpAttribute(answer, "ice-ufrag"))
	return &media.PatchResult{Restarted: true, ETag: s.etag, Answer: answerFrag(answer)}, nil
}

// restartOffer rewrites an offer with new ICE credentials and the frag's candidates.
func restartOffer(offer string, frag sdpFrag) (string, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return "", fmt.Errorf("parse stored offer: %w", err)
	}
	d.Attributes = replaceICE(d.Attributes, frag, nil)
	for i, m := range d.MediaDescriptions {
		m.Attributes = replaceICE(m.Attributes, frag, fragCandidates(frag, m, i))
	}
	d.Origin.SessionVersion++
	b, err := d.Marshal()
	if err != nil {
		return "", fmt.Errorf("marshal restart offer: %w", err)
	}
	return string(b), nil
}

// replaceICE drops old credentials and candidates and adds the new ones where there were old.
func replaceICE(attrs []sdp.Attribute, frag sdpFrag, candidates []string) []sdp.Attribute {
	var out []sdp.Attribute
	for _, a := range attrs {
		switch a.Key {
		case "ice-ufrag":
			out = append(out, sdp.Attribute{Key: a.Key, Value: frag.Ufrag})
		case "ice-pwd":
			out = append(out, sdp.Attribute{Key: a.Key, Value: frag.Pwd})
		case "candidate", "end-of-candidates":
		default:
			out = append(out, a)
		}
	}
	for _, c := range candidates {
		out = append(out, sdp.Attribute{Key: "candidate", Value: strings.TrimPrefix(c, "candidate:")})
	}
	return out
}

// fragCandidates returns the frag's candidates for media section m (index i).
func fragCandidates(frag sdpFrag, m *sdp.MediaDescription, i int) []string {
	mid, _ := m.Attribute("mid")
	var out []string
	for _, c := range frag.Candidates {
		if (c.Mid != "" && c.Mid == mid) || (c.Mid == "" && c.MLineIndex == i) {
			out = append(out, c.Value)
		}
	}
	return out
}

// answerFrag extracts the sdpfrag (RFC 8840) of an answer: credentials, then each media
// section's mid and candidates.
func answerFrag(answer string) string {
	var b strings.Builder
	b.WriteString("a=ice-ufrag:" + sdpAttribute(answer, "ice-ufrag") + "\r\n")
	b.WriteString("a=ice-pwd:" + sdpAttribute(answer, "ice-pwd") + "\r\n")
	for _, l := range strings.Split(answer, "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, "m=") || strings.HasPrefix(l, "a=mid:") || strings.HasPrefix(l, "a=candidate:") || l == "a=end-of-candidates" {
			b.WriteString(l + "\r\n")
		}
	}
	return b.String()
}
