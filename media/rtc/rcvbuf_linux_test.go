package rtc

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestUDPReceiveBuffer checks the ingest's port got its receive buffer: all of it with
// CAP_NET_ADMIN (root), else as much as net.core.rmem_max allows. Linux reports twice the size
// asked for (the doubling covers its bookkeeping).
func TestUDPReceiveBuffer(t *testing.T) {
	e := newEnv(t, Config{})
	want := udpReadBuffer
	if os.Geteuid() != 0 {
		want = min(want, rmemMax(t))
	}
	if got := receiveBuffer(t, e.ing); got < 2*want {
		t.Errorf("SO_RCVBUF = %d, want ≥ %d (twice %d)", got, 2*want, want)
	}
}

func receiveBuffer(t *testing.T, ing *Ingest) int {
	t.Helper()
	raw, err := ing.udp.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var serr error
	if err := raw.Control(func(fd uintptr) { n, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatalf("getsockopt SO_RCVBUF: %v", serr)
	}
	return n
}

func rmemMax(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
