package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"parley/media/mediatest"
)

// tailAllowance lets the last packets reach the server before DELETE (loopback: well under it).
const tailAllowance = 300 * time.Millisecond

func TestWHIPRecordsVideoOverHTTP(t *testing.T) {
	fx := makeFixture(t, 5*time.Second, true)
	in := MustStart(t, nil)
	p := newPublisher(t, fx)
	p.Publish(t, in.BaseURL+"/whip", in.AdminToken, true)
	if strings.Contains(p.Offer, "a=candidate") {
		t.Fatalf("trickle offer carries candidates:\n%s", p.Offer)
	}
	c := publishAndStop(t, in, p)
	if c.Kind != "video" || !within(time.Duration(c.DurationMS)*time.Millisecond, 5*time.Second, 100*time.Millisecond) {
		t.Errorf("clip kind %s, duration %d ms; want video, 5000 ± 100 ms", c.Kind, c.DurationMS)
	}
	checkOriginal(t, c, map[string]string{"audio": "opus", "video": "vp8"}, 5*time.Second)
	if c.Media.MP4 == nil {
		t.Fatalf("ready video clip has no mp4: %+v", c.Media)
	}
	mp4 := ffprobe(t, fetch(t, *c.Media.MP4))
	if diff := cmp.Diff(map[string]string{"audio": "aac", "video": "h264"}, mp4.codecs()); diff != "" {
		t.Errorf("mp4 codecs (-want +got):\n%s", diff)
	}
	if !within(mp4.duration(), 5*time.Second, 250*time.Millisecond) {
		t.Errorf("mp4 duration %s, want 5s ± 250ms", mp4.duration())
	}
}

func TestWHIPRecordsVoiceOverHTTP(t *testing.T) {
	fx := makeFixture(t, 5*time.Second, false)
	in := MustStart(t, nil)
	p := newPublisher(t, fx)
	p.Publish(t, in.BaseURL+"/whip", in.AdminToken, false)
	if !strings.Contains(p.Offer, "a=candidate") {
		t.Fatalf("non-trickle offer has no candidates:\n%s", p.Offer)
	}
	c := publishAndStop(t, in, p)
	if c.Kind != "audio" {
		t.Errorf("clip kind %s, want audio", c.Kind)
	}
	checkOriginal(t, c, map[string]string{"audio": "opus"}, 5*time.Second)
	if c.Media.Audio == nil || c.Media.Waveform == nil {
		t.Fatalf("ready voice clip lacks audio or waveform: %+v", c.Media)
	}
	audio := ffprobe(t, fetch(t, *c.Media.Audio))
	if _, ok := audio.codecs()["audio"]; !ok || !within(audio.duration(), 5*time.Second, 250*time.Millisecond) {
		t.Errorf("audio rendition: streams %v, duration %s; want audio, 5s ± 250ms", audio.codecs(), audio.duration())
	}
	checkWaveform(t, *c.Media.Waveform)
}

// publishAndStop sends the publisher's media once connected, stops it and waits for
// processing. The clip must go from processing (the DELETE answer) to ready.
func publishAndStop(t testing.TB, in *instance, p *whipPublisher) clipJSON {
	t.Helper()
	p.WaitConnected(t)
	if err := p.Send(context.Background()); err != nil {
		t.Fatalf("send media: %v", err)
	}
	time.Sleep(tailAllowance)
	stopped := p.Stop(t)
	c, seen := waitClip(t, in, p.ClipID, 60*time.Second)
	if stopped.Status != seen[0] {
		seen = append([]string{stopped.Status}, seen...)
	}
	if diff := cmp.Diff([]string{"processing", "ready"}, seen); diff != "" {
		t.Fatalf("clip statuses (-want +got):\n%s\nlog:\n%s", diff, in.out)
	}
	return c
}

// checkOriginal fetches the original (whole and by Range) and checks its streams, length and
// that it decodes cleanly.
func checkOriginal(t testing.TB, c clipJSON, codecs map[string]string, length time.Duration) {
	t.Helper()
	if c.Media.Original == nil {
		t.Fatalf("clip has no original: %+v", c.Media)
	}
	path := fetch(t, *c.Media.Original)
	checkRange(t, *c.Media.Original, path)
	p := ffprobe(t, path)
	t.Logf("original: %s, streams %v, clip duration_ms %d", p.duration(), p.codecs(), c.DurationMS)
	if diff := cmp.Diff(codecs, p.codecs()); diff != "" {
		t.Errorf("original codecs (-want +got):\n%s", diff)
	}
	if !within(p.duration(), length, 100*time.Millisecond) {
		t.Errorf("original duration %s, want %s ± 100ms", p.duration(), length)
	}
	if errs := decodeErrors(t, path); errs != "" {
		t.Errorf("original does not decode cleanly:\n%s", errs)
	}
}

// checkWaveform fetches audiowaveform JSON v2 and checks it has peaks.
func checkWaveform(t testing.TB, url string) {
	t.Helper()
	var w struct {
		Version int   `json:"version"`
		Length  int   `json:"length"`
		Data    []int `json:"data"`
	}
	data, err := os.ReadFile(fetch(t, url))
	if err != nil {
		t.Fatalf("read waveform: %v", err)
	}
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatalf("waveform is not JSON: %v", err)
	}
	if w.Version != 2 || w.Length == 0 || len(w.Data) == 0 {
		t.Errorf("waveform version %d, length %d, %d values; want version 2 with peaks", w.Version, w.Length, len(w.Data))
	}
}

func TestKillDuringRecordingRecovers(t *testing.T) {
	bin := buildParley(t)
	fx := makeFixture(t, 9*time.Second, true)
	env := withDefaults(t, nil)
	in := startProcess(t, bin, env)
	p := newPublisher(t, fx)
	p.Publish(t, in.BaseURL+"/whip", in.AdminToken, false)
	p.WaitConnected(t)
	recorded := sendThenKill(t, in, p, 6*time.Second)
	again := startProcess(t, bin, env)
	c, seen := waitClip(t, again.instance, p.ClipID, 60*time.Second)
	if diff := cmp.Diff("interrupted", c.Status); diff != "" {
		t.Fatalf("status after restart (-want +got):\n%s\nstatuses %v\nlog:\n%s", diff, seen, again.out)
	}
	if !inOrder(append([]string{"recording"}, seen...), "recording", "processing", "interrupted") {
		t.Errorf("statuses %v do not follow recording → processing → interrupted", seen)
	}
	if !logged(again.out.String(), "recovered", p.ClipID) {
		t.Errorf("restarted parley's log does not mention recovering clip %s:\n%s", p.ClipID, again.out)
	}
	checkPlayable(t, "original", c.Media.Original, recorded)
	checkPlayable(t, "mp4", c.Media.MP4, recorded)
}

// sendThenKill sends media for about d while the clip records, then SIGKILLs parley in the
// middle of the recording. It returns how long media was sent.
func sendThenKill(t testing.TB, in *process, p *whipPublisher, d time.Duration) time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- p.Send(ctx) }()
	time.Sleep(d)
	var c clipJSON
	if code := in.Do(t, "GET", "/api/v1/clips/"+p.ClipID, nil, &c); code != http.StatusOK || c.Status != "recording" {
		t.Fatalf("before the kill: GET clip = %d, status %q; want 200, recording", code, c.Status)
	}
	in.kill(t)
	recorded := time.Since(start)
	cancel()
	<-done
	return recorded
}

// checkPlayable downloads a rendition and checks it decodes cleanly and holds at least all but
// the last few seconds of what was recorded.
func checkPlayable(t testing.TB, name string, url *string, recorded time.Duration) {
	t.Helper()
	if url == nil {
		t.Errorf("recovered clip has no %s", name)
		return
	}
	path := fetch(t, *url)
	if errs := decodeErrors(t, path); errs != "" {
		t.Errorf("recovered %s does not decode cleanly:\n%s", name, errs)
	}
	end := packetEnd(t, path)
	t.Logf("recovered %s holds %s of media; %s were recorded", name, end, recorded)
	if end < recorded-3*time.Second || end > recorded+500*time.Millisecond {
		t.Errorf("recovered %s holds %s of media; %s were recorded", name, end, recorded)
	}
}

// logged reports whether one line of log holds every one of words.
func logged(log string, words ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		n := 0
		for _, w := range words {
			if strings.Contains(line, w) {
				n++
			}
		}
		if n == len(words) {
			return true
		}
	}
	return false
}

// inOrder reports whether got is a sequence of want's values in want's order, each at most once.
func inOrder(got []string, want ...string) bool {
	i := 0
	for _, g := range got {
		for i < len(want) && want[i] != g {
			i++
		}
		if i == len(want) {
			return false
		}
		i++
	}
	return true
}

// buildParley builds the binary into a temporary directory.
func buildParley(t testing.TB) string {
	t.Helper()
	gobin := mediatest.Require(t, "go")
	bin := filepath.Join(t.TempDir(), "parley")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a parley binary run by a test: Stop sends SIGTERM, kill sends SIGKILL.
type process struct {
	*instance
	cmd *exec.Cmd
}

// startProcess runs the parley binary with env (and no other PARLEY_* variables) and the
// arguments given, and waits until it is healthy.
func startProcess(t testing.TB, bin string, env map[string]string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	in := &instance{BaseURL: env["PARLEY_BASE_URL"], AdminToken: env["PARLEY_ADMIN_TOKEN"], DataDir: env["PARLEY_DATA_DIR"],
		Env: env, done: make(chan int, 1), out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = in.out, in.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	in.cancel = func() { cmd.Process.Signal(syscall.SIGTERM) }
	go func() {
		cmd.Wait()
		in.done <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { in.Stop(t) })
	in.waitHealthy(t)
	return &process{instance: in, cmd: cmd}
}

// kill ends the process with SIGKILL and waits for it.
func (p *process) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill parley: %v", err)
	}
	code := <-p.done
	p.done <- code
}
