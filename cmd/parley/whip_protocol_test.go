package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWHIPDiscoveryHeaders(t *testing.T) {
	in := MustStart(t, map[string]string{"PARLEY_ICE_SERVERS": "stun:stun.example.net:3478,turn:ann:s3cret@turn.example.net:3478"})
	req, _ := http.NewRequest(http.MethodOptions, in.BaseURL+"/whip", nil)
	req.Header.Set("Origin", "https://elsewhere.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("OPTIONS /whip: %v", err)
	}
	resp.Body.Close()
	got := []any{resp.StatusCode, resp.Header.Get("Accept-Post"), resp.Header.Get("Access-Control-Allow-Origin"),
		strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Parley-Clip-Id"), resp.Header.Values("Link")}
	want := []any{204, "application/sdp", "*", true, []string{
		`<stun:stun.example.net:3478>; rel="ice-server"`,
		`<turn:turn.example.net:3478>; rel="ice-server"; username="ann"; credential="s3cret"; credential-type="password"`,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OPTIONS /whip (-want +got):\n%s", diff)
	}
}

func TestWHIPSessionLimitAsksToRetry(t *testing.T) {
	in := MustStart(t, map[string]string{"PARLEY_MAX_SESSIONS": "1"})
	fx := makeFixture(t, 2*time.Second, false)
	first := newPublisher(t, fx)
	first.Publish(t, in.BaseURL+"/whip", in.AdminToken, false)
	if first.ETag == "" || !strings.HasPrefix(first.ETag, `"`) {
		t.Errorf("ETag = %q, want a quoted entity tag", first.ETag)
	}
	second := newPublisher(t, fx)
	second.offer(t, false)
	req, _ := http.NewRequest(http.MethodPost, in.BaseURL+"/whip", strings.NewReader(second.Offer))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+in.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("second POST /whip: %v", err)
	}
	resp.Body.Close()
	if diff := cmp.Diff([]any{503, true}, []any{resp.StatusCode, resp.Header.Get("Retry-After") != ""}); diff != "" {
		t.Errorf("second publisher over the limit: status, Retry-After (-want +got):\n%s", diff)
	}
}
