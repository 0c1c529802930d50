package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"parley/media/mediatest"
)

// GStreamer pipelines for simple-whip-client: a live tone and a live moving pattern.
const (
	gstAudio = "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! queue ! " +
		"opusenc ! rtpopuspay pt=111 ssrc=1 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111"
	gstVideo = "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! " +
		"videoconvert ! queue ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ssrc=2 ! queue ! " +
		"application/x-rtp,media=video,encoding-name=VP8,payload=96"
)

// igdStandIn replaces libgupnp-igd for whip-client: Debian 12's libnice pulls in libsoup3
// through it while whip-client links libsoup2, and it aborts ("libsoup2 symbols detected").
// libnice only imports these four functions and needs no UPnP here.
const igdStandIn = `void *gupnp_simple_igd_thread_new(void) { return 0; }
unsigned long gupnp_simple_igd_get_type(void) { return 0; }
void gupnp_simple_igd_add_port(void *igd, const char *proto, unsigned int ext_port,
	const char *local_ip, unsigned int local_port, unsigned int lease, const char *desc) {}
void gupnp_simple_igd_remove_port_local(void *igd, const char *proto, const char *local_ip,
	unsigned int local_port) {}
`

// whipClientRecordFor is how long whip-client sends media once connected.
const whipClientRecordFor = 5 * time.Second

func TestGStreamerWHIPClient(t *testing.T) {
	mediatest.Require(t, "whip-client")
	mediatest.Require(t, "gcc")
	mediatest.Require(t, "ip")
	mediatest.Require(t, "stdbuf")
	if os.Geteuid() != 0 {
		mediatest.Unavailable(t, "network namespaces for whip-client need root")
	}
	libDir := buildIGDStandIn(t)
	ns := newNetns(t)
	addr := net.JoinHostPort(ns.HostIP, fmt.Sprint(freePort(t)))
	in := MustStart(t, map[string]string{"PARLEY_ICE_LOOPBACK": "false", "PARLEY_ICE_LISTEN_IP": ns.HostIP,
		"PARLEY_ADDR": addr, "PARLEY_BASE_URL": "http://" + addr})
	t.Run("answer offers only the listen address", func(t *testing.T) { checkAnswerAddresses(t, in, ns.HostIP) })
	t.Run("trickle", func(t *testing.T) { recordWithWhipClient(t, in, ns, libDir) })
	t.Run("candidates in offer", func(t *testing.T) { recordWithWhipClient(t, in, ns, libDir, "-n") })
}

// checkAnswerAddresses posts an offer and checks every server candidate is on ip.
func checkAnswerAddresses(t *testing.T, in *instance, ip string) {
	p := newPublisher(t, fixture{})
	p.addTrack(t, webrtcOpus, "audio", nil)
	p.token = in.AdminToken
	p.offer(t, true)
	p.post(t, in.BaseURL+"/whip")
	defer p.end(t)
	var bad []string
	for _, c := range candidateAddresses(p.Answer) {
		if c != ip {
			bad = append(bad, c)
		}
	}
	if len(candidateAddresses(p.Answer)) == 0 || len(bad) > 0 {
		t.Errorf("answer candidates must all be on %s; others: %v\n%s", ip, bad, p.Answer)
	}
}

// candidateAddresses returns the connection address of each a=candidate line.
func candidateAddresses(sdp string) []string {
	var out []string
	for _, l := range strings.Split(sdp, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "a=candidate:"))
		if strings.HasPrefix(strings.TrimSpace(l), "a=candidate:") && len(f) > 5 {
			out = append(out, f[4])
		}
	}
	return out
}

// recordWithWhipClient records through a recorder link with whip-client in the namespace,
// stops it with SIGINT (it sends DELETE) and checks the clip is ready with audio and video.
func recordWithWhipClient(t *testing.T, in *instance, ns netns, libDir string, args ...string) {
	link := newWhipLink(t, in)
	launched := time.Now()
	wc := startWhipClient(t, ns, libDir, link.WhipURL, link.Token, args...)
	wc.waitOutput(t, "PeerConnection connected", 20*time.Second)
	time.Sleep(whipClientRecordFor)
	wc.interrupt(t)
	recorded := time.Since(launched)
	c := onlyClip(t, in, link.ThreadID)
	c, seen := waitClip(t, in, c.ID, 60*time.Second)
	if c.Status != "ready" || c.Kind != "video" {
		t.Fatalf("clip %s, statuses %v; want a ready video (whip-client sent DELETE)\nwhip-client:\n%s", c.Kind, seen, wc.out)
	}
	d := time.Duration(c.DurationMS) * time.Millisecond
	if d < whipClientRecordFor-500*time.Millisecond || d > recorded+250*time.Millisecond {
		t.Errorf("clip duration %s; whip-client was connected for %s and ran %s", d, whipClientRecordFor, recorded)
	}
	checkOriginal(t, c, map[string]string{"audio": "opus", "video": "vp8"}, d)
}

// recorderLink is POST /api/v1/recorder-links's answer.
type recorderLink struct {
	Token    string `json:"token"`
	WhipURL  string `json:"whip_url"`
	ThreadID string `json:"thread_id"`
}

// newWhipLink makes a thread and a video recorder link into it for a WHIP client.
func newWhipLink(t testing.TB, in *instance) recorderLink {
	t.Helper()
	var th thread
	if code := in.Do(t, "POST", "/api/v1/threads", map[string]string{"title": t.Name()}, &th); code != http.StatusCreated {
		t.Fatalf("create thread: %d", code)
	}
	var l recorderLink
	body := map[string]string{"thread_id": th.ID, "kind": "video"}
	if code := in.Do(t, "POST", "/api/v1/recorder-links", body, &l); code != http.StatusCreated {
		t.Fatalf("create recorder link: %d", code)
	}
	return l
}

// onlyClip returns the one clip of a thread.
func onlyClip(t testing.TB, in *instance, threadID string) clipJSON {
	t.Helper()
	var th struct {
		Clips []clipJSON `json:"clips"`
	}
	if code := in.Do(t, "GET", "/api/v1/threads/"+threadID, nil, &th); code != http.StatusOK {
		t.Fatalf("get thread: %d", code)
	}
	if len(th.Clips) != 1 {
		t.Fatalf("thread has %d clips, want 1", len(th.Clips))
	}
	return th.Clips[0]
}

// buildIGDStandIn compiles the libgupnp-igd stand-in and returns its directory.
func buildIGDStandIn(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "igd.c")
	if err := os.WriteFile(src, []byte(igdStandIn), 0o600); err != nil {
		t.Fatalf("write stand-in source: %v", err)
	}
	out, err := exec.Command("gcc", "-shared", "-fPIC", "-Wl,-soname,libgupnp-igd-1.0.so.4",
		"-o", filepath.Join(dir, "libgupnp-igd-1.0.so.4"), src).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc stand-in: %v\n%s", err, out)
	}
	return dir
}

// netns is a network namespace joined to the test's by a veth pair on 10.99.x.0/24.
type netns struct {
	Name   string
	HostIP string // the test's end, 10.99.x.1
	NSIP   string // the namespace's end, 10.99.x.2
}

// newNetns creates the namespace and veth pair; both are deleted at cleanup.
func newNetns(t testing.TB) netns {
	t.Helper()
	id, x := randomHex(t, 4), freeSubnet(t)
	ns := netns{Name: "pw" + id, HostIP: fmt.Sprintf("10.99.%d.1", x), NSIP: fmt.Sprintf("10.99.%d.2", x)}
	host, peer := "vh"+id, "vn"+id
	ip(t, "netns", "add", ns.Name)
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", ns.Name).Run()
		exec.Command("ip", "link", "del", host).Run() // gone with the namespace, normally
	})
	for _, args := range [][]string{
		{"link", "add", host, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", ns.Name},
		{"addr", "add", ns.HostIP + "/24", "dev", host},
		{"link", "set", host, "up"},
		{"-n", ns.Name, "addr", "add", ns.NSIP + "/24", "dev", peer},
		{"-n", ns.Name, "link", "set", peer, "up"},
		{"-n", ns.Name, "link", "set", "lo", "up"},
	} {
		ip(t, args...)
	}
	return ns
}

func ip(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// freeSubnet picks x in 10.99.x.0/24 that no local address uses.
func freeSubnet(t testing.TB) int {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("interface addresses: %v", err)
	}
	for range 50 {
		n, _ := rand.Int(rand.Reader, big.NewInt(250))
		x := int(n.Int64()) + 2
		if !strings.Contains(fmt.Sprint(addrs), fmt.Sprintf("10.99.%d.", x)) {
			return x
		}
	}
	t.Fatalf("no free 10.99.x.0/24 subnet")
	return 0
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// whipClient is a running simple-whip-client.
type whipClient struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// startWhipClient runs whip-client in the namespace with the stand-in library, line-buffered
// so its log can be followed.
func startWhipClient(t testing.TB, ns netns, libDir, url, token string, extra ...string) *whipClient {
	t.Helper()
	args := []string{"netns", "exec", ns.Name, "env", "LD_LIBRARY_PATH=" + libDir, "stdbuf", "-oL", "-eL",
		"whip-client", "-u", url, "-t", token, "-o", "-A", gstAudio, "-V", gstVideo}
	wc := &whipClient{cmd: exec.Command("ip", append(args, extra...)...), out: &syncBuffer{}, done: make(chan error, 1)}
	wc.cmd.Stdout, wc.cmd.Stderr = wc.out, wc.out
	if err := wc.cmd.Start(); err != nil {
		t.Fatalf("start whip-client: %v", err)
	}
	go func() { wc.done <- wc.cmd.Wait() }()
	t.Cleanup(func() {
		wc.cmd.Process.Kill()
		<-wc.done
		wc.done <- nil
	})
	return wc
}

// waitOutput waits until whip-client has printed s.
func (wc *whipClient) waitOutput(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(wc.out.String(), s) {
		select {
		case err := <-wc.done:
			wc.done <- err
			t.Fatalf("whip-client exited (%v) before %q:\n%s", err, s, wc.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("whip-client did not print %q within %s:\n%s", s, timeout, wc.out)
		}
	}
}

// interrupt sends SIGINT, on which whip-client DELETEs its session, and waits for it to exit.
func (wc *whipClient) interrupt(t testing.TB) {
	t.Helper()
	if err := wc.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("interrupt whip-client: %v", err)
	}
	select {
	case err := <-wc.done:
		wc.done <- err
		// Once stopping, it may log ICE failing as the server closes: only errors before count.
		before, _, _ := strings.Cut(wc.out.String(), "Stopping the WHIP client")
		if err != nil || strings.Contains(before, "[ERR]") {
			t.Errorf("whip-client ended with %v:\n%s", err, wc.out)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("whip-client still running 15s after SIGINT:\n%s", wc.out)
	}
	if !strings.Contains(wc.out.String(), "Disconnecting from server") {
		t.Errorf("whip-client did not disconnect from the server:\n%s", wc.out)
	}
}
