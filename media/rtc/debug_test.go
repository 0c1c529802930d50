package rtc

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

type nackCounter struct{}

func (nackCounter) NewInterceptor(string) (interceptor.Interceptor, error) { return &nackCount{}, nil }

type nackCount struct{ interceptor.NoOp }

func (n *nackCount) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		i, attr, err := r.Read(b, a)
		if err == nil {
			pkts, _ := rtcp.Unmarshal(b[:i])
			for _, p := range pkts {
				if nk, ok := p.(*rtcp.TransportLayerNack); ok {
					fmt.Println("NACK", nk.MediaSSRC, nk.Nacks)
				}
			}
		}
		return i, attr, err
	})
}

func (n *nackCount) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	fmt.Printf("local stream ssrc %d rtx %d fb %v mime %s\n", info.SSRC, info.SSRCRetransmission, info.RTCPFeedback, info.MimeType)
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h.SSRC == info.SSRCRetransmission && info.SSRCRetransmission != 0 {
			fmt.Println("RTX out", h.SequenceNumber)
		}
		return w.Write(h, payload, a)
	})
}
