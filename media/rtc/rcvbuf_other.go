//go:build !linux

package rtc

import (
	"fmt"
	"net"
)

// setReadBuffer asks for an n-byte receive buffer on c.
func setReadBuffer(c *net.UDPConn, n int) error {
	if err := c.SetReadBuffer(n); err != nil {
		return fmt.Errorf("udp read buffer: %w", err)
	}
	return nil
}
