package rtc

import (
	"fmt"
	"net"
	"syscall"
)

// setReadBuffer asks for an n-byte receive buffer on c. With CAP_NET_ADMIN (root, or a
// container granted it) it is set beyond net.core.rmem_max; otherwise the kernel caps it.
func setReadBuffer(c *net.UDPConn, n int) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("udp read buffer: %w", err)
	}
	var forced error
	if err := raw.Control(func(fd uintptr) {
		forced = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
	}); err != nil {
		return fmt.Errorf("udp read buffer: %w", err)
	}
	if forced == nil {
		return nil
	}
	if err := c.SetReadBuffer(n); err != nil {
		return fmt.Errorf("udp read buffer: %w", err)
	}
	return nil
}
