package rtc

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// benchChild is the publisher process of one benchmark phase, as the parent sees it: it
// reads the child's report lines and hangs it up by closing its stdin.
type benchChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	lines  *bufio.Scanner
	stderr *tailBuffer

	once sync.Once
	err  error
}

// startChild starts command with cfg in BenchPublishersEnv.
func startChild(ctx context.Context, command func(context.Context) *exec.Cmd, cfg benchChildConfig) (*benchChild, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode publisher config: %w", err)
	}
	cmd := command(ctx)
	cmd.Env = append(cmd.Environ(), BenchPublishersEnv+"="+string(js))
	c := &benchChild{cmd: cmd, stderr: &tailBuffer{max: 8 << 10}}
	cmd.Stderr, cmd.WaitDelay = c.stderr, 10*time.Second
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("publisher stdin: %w", err)
	}
	if c.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("publisher stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start publishers: %w", err)
	}
	c.lines = bufio.NewScanner(c.stdout)
	c.lines.Buffer(make([]byte, 64<<10), 1<<20)
	return c, nil
}

// next reads the child's next report, which must be event; errors it reports come back as
// an error.
func (c *benchChild) next(event string) (benchChildReport, error) {
	var r benchChildReport
	for c.lines.Scan() {
		line, ok := strings.CutPrefix(c.lines.Text(), benchReportPrefix)
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return r, fmt.Errorf("decode publisher report: %w", err)
		}
		if len(r.Errors) > 0 {
			return r, fmt.Errorf("publishers: %s", strings.Join(r.Errors, "; "))
		}
		if r.Event != event {
			return r, fmt.Errorf("publishers: got %q, want %q", r.Event, event)
		}
		return r, nil
	}
	err := cmp.Or(c.lines.Err(), io.ErrUnexpectedEOF)
	return r, fmt.Errorf("read publisher report %q: %w\n%s", event, err, c.stderr)
}

// hangup closes the child's stdin, which makes it close its publishers and exit, and waits
// for it (killing it if it lingers). Later calls return the first outcome.
func (c *benchChild) hangup() error {
	c.once.Do(func() {
		c.stdin.Close()
		kill := time.AfterFunc(15*time.Second, func() { c.cmd.Process.Kill() })
		defer kill.Stop()
		io.Copy(io.Discard, c.stdout)
		if err := c.cmd.Wait(); err != nil {
			c.err = fmt.Errorf("wait for publishers: %w\n%s", err, c.stderr)
		}
	})
	return c.err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.b))
}

// cpuTime is the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapInUse is the heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// procStatus reads a size (e.g. "VmRSS", "VmHWM") from /proc/self/status in bytes; 0 where
// there is none.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetMemory returns freed memory to the system and resets the peak RSS (VmHWM), so that
// a phase's RSS figures are its own.
func resetMemory() {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // Linux ≥ 4.0; best effort
}

// udpDrops is how many datagrams the kernel dropped at the UDP sockets bound to port (its
// receive buffer was full), from /proc/net/udp and udp6.
func udpDrops(port int) int {
	n := 0
	for _, f := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			n += socketDrops(strings.Fields(line), port)
		}
	}
	return n
}

// socketDrops reads the drops column of a /proc/net/udp line if its local port is port.
func socketDrops(fields []string, port int) int {
	if len(fields) < 13 {
		return 0
	}
	_, hex, _ := strings.Cut(fields[1], ":")
	if p, err := strconv.ParseInt(hex, 16, 32); err != nil || int(p) != port {
		return 0
	}
	d, _ := strconv.Atoi(fields[len(fields)-1])
	return d
}
