package rtc

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pion/webrtc/v4"

	"parley/media"
)

func TestCheckIfMatch(t *testing.T) {
	const cur = `"abc123"`
	tests := []struct {
		ifMatch string
		restart bool
		want    string // error code, "" for none
	}{
		{"", false, ""},
		{"*", false, ""},
		{`"abc123"`, false, ""},
		{`W/"abc123"`, false, ""},
		{`"other", "abc123"`, false, ""},
		{`"other"`, false, media.EPRECONDITION},
		{"", true, media.EPRECONDREQ},
		{"*", true, ""},
		{`"abc123"`, true, ""},
		{`"other"`, true, media.EPRECONDITION},
	}
	for _, tt := range tests {
		var got string
		if err := checkIfMatch(tt.ifMatch, cur, tt.restart); err != nil {
			got = media.ErrorCode(err)
		}
		if got != tt.want {
			t.Errorf("checkIfMatch(%q, restart %v) = %q, want %q", tt.ifMatch, tt.restart, got, tt.want)
		}
	}
}

// TestPatch checks the conditional rules on a live session, then performs an ICE restart
// and records across it.
func TestPatch(t *testing.T) {
	e := newEnv(t, Config{})
	p, res := publish(t, e, PublisherOptions{}, true)
	ctx := context.Background()
	restartFrag := "a=ice-ufrag:newufrag\r\na=ice-pwd:newpasswordnewpassword12\r\n"
	tests := []struct {
		name, session, ifMatch, frag, code string
	}{
		{"unknown session", "nosuchsession", "", "a=end-of-candidates\r\n", media.ENOTFOUND},
		{"trickle, stale tag", res.SessionID, `"stale"`, "a=end-of-candidates\r\n", media.EPRECONDITION},
		{"trickle, any tag", res.SessionID, "*", "a=end-of-candidates\r\n", ""},
		{"trickle, current tag", res.SessionID, res.ETag, "a=end-of-candidates\r\n", ""},
		{"trickle, no tag", res.SessionID, "", "a=end-of-candidates\r\n", ""},
		{"restart without If-Match", res.SessionID, "", restartFrag, media.EPRECONDREQ},
		{"restart, stale tag", res.SessionID, `"stale"`, restartFrag, media.EPRECONDITION},
		{"not an sdpfrag", res.SessionID, "", "hello\r\n", media.EINVALID},
		{"bad candidate", res.SessionID, "", "a=candidate:nonsense\r\n", media.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.ing.Patch(ctx, tt.session, tt.ifMatch, tt.frag)
			if got := codeOf(err); got != tt.code {
				t.Errorf("patch: %v (code %q), want %q", err, got, tt.code)
			}
		})
	}
	c := testClip(t, true)
	first := Clip{Video: c.Video[:60], Audio: c.Audio[:100]}
	if _, _, err := p.Send(ctx, first); err != nil {
		t.Fatal(err)
	}
	pr := restartICE(t, e, p, res)
	if !pr.Restarted || pr.ETag == res.ETag || !strings.Contains(pr.Answer, "a=candidate:") {
		t.Fatalf("restart result %+v, want restarted with a new tag and candidates", pr)
	}
	second := Clip{Video: c.Video[60:], Audio: c.Audio[100:]}
	if _, _, err := p.Send(ctx, second); err != nil {
		t.Fatal(err)
	}
	s, _ := e.ing.session(res.SessionID)
	settle(len(c.Video)+len(c.Audio), s)
	clip, err := e.ing.Stop(ctx, res.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	got := countFrames(t, e.original(t, clip), "v:0")
	t.Logf("recorded %d of %d video frames across an ICE restart", got, len(c.Video))
	// Packets sent while the new pair is being checked are lost, and with them the video up to
	// the next keyframe of the pre-encoded stream (every 60 frames); the last 30 frames after
	// the keyframe at 120 must arrive over the restarted ICE.
	if got < len(first.Video)+30 {
		t.Errorf("recorded %d video frames, want the %d sent before the restart and ≥ 30 after", got, len(first.Video))
	}
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return media.ErrorCode(err)
}

// restartICE restarts the publisher's ICE through Patch and applies the answer frag.
func restartICE(t testing.TB, e *env, p *Publisher, res *media.PublishResult) *media.PatchResult {
	t.Helper()
	ctx := context.Background()
	o, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		t.Fatal(err)
	}
	p.regather()
	if err := p.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	if err := p.waitGathered(ctx); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	frag := p.Frag()
	p.mu.Unlock()
	pr, err := e.ing.Patch(ctx, res.SessionID, res.ETag, frag)
	if err != nil {
		t.Fatalf("restart patch: %v", err)
	}
	f, err := parseSDPFrag(pr.Answer)
	if err != nil {
		t.Fatalf("answer frag: %v\n%s", err, pr.Answer)
	}
	answer := p.pc.RemoteDescription().SDP
	answer = strings.ReplaceAll(answer, "a=ice-ufrag:"+sdpAttribute(answer, "ice-ufrag"), "a=ice-ufrag:"+f.Ufrag)
	answer = strings.ReplaceAll(answer, "a=ice-pwd:"+sdpAttribute(answer, "ice-pwd"), "a=ice-pwd:"+f.Pwd)
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("apply restart answer: %v", err)
	}
	return pr
}

func TestParseSDPFrag(t *testing.T) {
	cand := "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"
	tests := []struct {
		name string
		body string
		want sdpFrag
		code string
	}{
		{"RFC 8840 example", "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\na=group:BUNDLE 0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=" + cand + "\r\na=end-of-candidates\r\n",
			sdpFrag{Ufrag: "EsAw", Pwd: "P2uYro0UCOQ4zxjKXaWCBui1", Candidates: []fragCandidate{{Mid: "0", Value: cand}}, End: true}, ""},
		{"bare candidate, LF only", "a=" + cand + "\n", sdpFrag{Candidates: []fragCandidate{{Value: cand}}}, ""},
		{"second section", "m=audio 9 RTP/AVP 0\na=mid:a\nm=video 9 RTP/AVP 0\na=" + cand + "\n", sdpFrag{Candidates: []fragCandidate{{MLineIndex: 1, Value: cand}}}, ""},
		{"empty", "", sdpFrag{}, ""},
		{"short ufrag", "a=ice-ufrag:abc\r\n", sdpFrag{}, media.EINVALID},
		{"bad ufrag char", "a=ice-ufrag:ab cd\r\n", sdpFrag{}, media.EINVALID},
		{"conflicting ufrag", "a=ice-ufrag:abcd\r\na=ice-ufrag:efgh\r\n", sdpFrag{}, media.EINVALID},
		{"not sdp", "GET / HTTP/1.1\r\n", sdpFrag{}, media.EINVALID},
		{"bad candidate", "a=candidate:1 1 udp\r\n", sdpFrag{}, media.EINVALID},
		{"too large", strings.Repeat("a=x\r\n", maxFragSize), sdpFrag{}, media.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSDPFrag(tt.body)
			if code := codeOf(err); code != tt.code {
				t.Fatalf("parseSDPFrag: %v (code %q), want %q", err, code, tt.code)
			}
			if err == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("parseSDPFrag (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// FuzzParseSDPFrag checks that any body parses or fails with a client error, and that what
// parses survives being written out and parsed again.
func FuzzParseSDPFrag(f *testing.F) {
	f.Add("a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n")
	f.Add("a=candidate:2 1 tcp 1671430143 10.0.0.1 9 typ host tcptype passive\n")
	f.Add("m=video\na=mid:\x00\na=ice-pwd:" + strings.Repeat("x", 300))
	f.Fuzz(func(t *testing.T, body string) {
		frag, err := parseSDPFrag(body)
		if err != nil {
			if code := media.ErrorCode(err); code != media.EINVALID && code != media.ETOOLARGE {
				t.Fatalf("error %v has code %s, want a client error", err, code)
			}
			return
		}
		again, err := parseSDPFrag(formatFrag(frag))
		if err != nil {
			t.Fatalf("reparse of %q: %v", formatFrag(frag), err)
		}
		if diff := cmp.Diff(frag, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// formatFrag writes a parsed frag back out, one m= section per candidate.
func formatFrag(f sdpFrag) string {
	var b strings.Builder
	if f.Ufrag != "" {
		b.WriteString("a=ice-ufrag:" + f.Ufrag + "\r\n")
	}
	if f.Pwd != "" {
		b.WriteString("a=ice-pwd:" + f.Pwd + "\r\n")
	}
	line := -1
	for _, c := range f.Candidates {
		for line < c.MLineIndex {
			b.WriteString("m=audio 9 RTP/AVP 0\r\n")
			line++
		}
		if c.Mid != "" {
			b.WriteString("a=mid:" + c.Mid + "\r\n")
		}
		b.WriteString("a=" + c.Value + "\r\n")
	}
	if f.End {
		b.WriteString("a=end-of-candidates\r\n")
	}
	return b.String()
}
