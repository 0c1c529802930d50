package rtc

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pion/rtp"

	"parley/media"
	"parley/media/localfs"
)

func TestReorder(t *testing.T) {
	type out struct {
		Seq  uint16
		Lost bool
	}
	pkt := func(seq uint16, ts uint32) *rtp.Packet {
		return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}}
	}
	tests := []struct {
		name  string
		in    []*rtp.Packet
		flush bool
		want  []out
	}{
		{"in order, held until the span is buffered", []*rtp.Packet{pkt(1, 0), pkt(2, 50), pkt(3, 101)}, false,
			[]out{{1, false}, {2, false}, {3, false}}},
		{"held start", []*rtp.Packet{pkt(1, 0), pkt(2, 50)}, false, nil},
		{"late first packet joins the start", []*rtp.Packet{pkt(5, 40), pkt(4, 30), pkt(6, 200)}, false,
			[]out{{4, false}, {5, false}, {6, false}}},
		{"reordered and duplicated", []*rtp.Packet{pkt(1, 0), pkt(3, 20), pkt(2, 10), pkt(3, 20), pkt(4, 200), pkt(2, 10)}, false,
			[]out{{1, false}, {2, false}, {3, false}, {4, false}}},
		{"gap given up when overdue", []*rtp.Packet{pkt(1, 0), pkt(2, 200), pkt(4, 210), pkt(5, 400)}, false,
			[]out{{1, false}, {2, false}, {4, true}, {5, false}}},
		{"gap waits while young", []*rtp.Packet{pkt(1, 0), pkt(2, 200), pkt(4, 210)}, false,
			[]out{{1, false}, {2, false}}},
		{"repair fills the gap", []*rtp.Packet{pkt(1, 0), pkt(2, 200), pkt(4, 210), pkt(3, 205)}, false,
			[]out{{1, false}, {2, false}, {3, false}, {4, false}}},
		{"flush gives up gaps", []*rtp.Packet{pkt(1, 0), pkt(3, 20)}, true,
			[]out{{1, false}, {3, true}}},
		{"wrap", []*rtp.Packet{pkt(65534, 0), pkt(0, 20), pkt(65535, 10), pkt(1, 300)}, false,
			[]out{{65534, false}, {65535, false}, {0, false}, {1, false}}},
		{"late after release is dropped", []*rtp.Packet{pkt(1, 0), pkt(2, 200), pkt(1, 0)}, true,
			[]out{{1, false}, {2, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []out
			r := newReorder(100, func(p *rtp.Packet, lost bool) { got = append(got, out{p.SequenceNumber, lost}) })
			for _, p := range tt.in {
				r.push(p)
			}
			if tt.flush {
				r.flush()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("released (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNacker(t *testing.T) {
	n := newNacker()
	t0 := time.Unix(0, 0)
	steps := []struct {
		at      time.Duration
		missing []int64
		want    []uint16
	}{
		{0, []int64{5}, nil},                                // too young: may be reordering
		{nackTick, []int64{5}, []uint16{5}},                 // asked
		{2 * nackTick, []int64{5, 9}, nil},                  // 5 asked recently, 9 young
		{3 * nackTick, []int64{5, 9}, []uint16{5, 9}},       // retry 5, ask 9
		{3*nackTick + time.Millisecond, []int64{5, 9}, nil}, // rate limited
		{5 * nackTick, []int64{9}, []uint16{9}},             // 5 repaired
		{6 * nackTick, []int64{65536 + 3}, nil},             // new gap after a wrap
		{7 * nackTick, []int64{65536 + 3}, []uint16{3}},     // sent as a 16-bit number
	}
	for i, s := range steps {
		got := n.due(s.missing, t0.Add(s.at))
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("step %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestTrackClock(t *testing.T) {
	sc := &sessionClock{}
	c := newTrackClock(90000, sc)
	base := time.Unix(1_700_000_000, 0)
	c.arrived(0xffffff00, base)
	ext := c.extend(0xffffff00)
	if _, ok := c.time(ext, false); ok {
		t.Fatal("time known before a Sender Report")
	}
	ntp := uint64(1_700_000_000+ntpEpochOffset)<<32 | 1<<31 // .5 s
	c.senderReport(uint32(0xffffff00+45000-1<<32), ntp, base.Add(10*time.Millisecond))
	after := c.extend(0x00000100) // wrapped: 512 ticks after 0xffffff00
	tests := []struct {
		ext  int64
		want int64
	}{
		{ext, base.UnixNano()},                              // 0.5 s before the report's instant
		{after, base.UnixNano() + 512*1_000_000_000/90000},  // across the wrap
		{ext + 90000, base.UnixNano() + int64(time.Second)}, // one second of ticks
	}
	for _, tt := range tests {
		got, ok := c.time(tt.ext, false)
		if !ok || got-tt.want > 1000 || tt.want-got > 1000 {
			t.Errorf("time(%d) = %d, %v; want %d ± 1 µs", tt.ext, got, ok, tt.want)
		}
	}
}

func TestVP8AndVP9Keyframes(t *testing.T) {
	for _, tt := range []struct {
		codec codec
		args  []string
	}{
		{codecVP8, vp8Args("testsrc2=size=352x288:rate=30", 0.2)},
		{codecVP9, []string{"-f", "lavfi", "-i", "testsrc2=size=352x288:rate=30", "-t", "0.2", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "3", "-f", "ivf"}},
	} {
		t.Run(string(tt.codec), func(t *testing.T) {
			frames, err := LoadIVF(fixture(t, string(tt.codec)+"-352x288.ivf", tt.args...))
			if err != nil {
				t.Fatal(err)
			}
			var got []bool
			for i, f := range frames {
				key, w, h := tt.codec.keyframe(f.Data)
				got = append(got, key)
				if key && (w != 352 || h != 288) {
					t.Errorf("frame %d: keyframe of %dx%d, want 352x288", i, w, h)
				}
			}
			if len(got) < 2 || !got[0] || got[1] {
				t.Errorf("keyframes %v, want the first frame only (then every -g)", got)
			}
		})
	}
}

func TestCheckOffer(t *testing.T) {
	tests := []struct {
		name  string
		offer string
		want  offerInfo
		code  string
	}{
		{"video and audio", offerFor(t, "video/VP8", "audio/opus"), offerInfo{audio: true, video: true}, ""},
		{"voice", offerFor(t, "audio/opus"), offerInfo{audio: true}, ""},
		{"H.264", offerFor(t, "video/H264"), offerInfo{video: true}, ""},
		{"unsupported video with voice", offerFor(t, "video/AV1", "audio/opus"), offerInfo{audio: true}, ""},
		{"nothing usable", offerFor(t, "audio/PCMU"), offerInfo{}, media.EUNSUPPORTED},
		{"garbage", "v=0\r\nnonsense", offerInfo{}, media.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkOffer(tt.offer)
			if code := codeOf(err); code != tt.code {
				t.Fatalf("checkOffer: %v, want code %q", err, tt.code)
			}
			if err == nil && got != tt.want {
				t.Errorf("checkOffer = %+v, want %+v; kind %s", got, tt.want, got.kind())
			}
		})
	}
}

func TestCapBitrate(t *testing.T) {
	in := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
	want := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:2500\r\nb=TIAS:2500000\r\na=mid:1\r\n"
	if diff := cmp.Diff(want, capBitrate(in, 2_500_000)); diff != "" {
		t.Errorf("capBitrate (-want +got):\n%s", diff)
	}
	if got := capBitrate(in, 0); got != in {
		t.Errorf("capBitrate without a cap changed the answer:\n%s", got)
	}
}

// TestStreamedUpload writes a file of several regions through the spool, rewrites bytes in
// the first and a middle region after they may have been sent (as ebml-go does with Duration,
// SeekHead and Cues), and checks that the completed object equals the file.
func TestStreamedUpload(t *testing.T) {
	ctx := context.Background()
	blobs, err := localfs.New(t.TempDir(), "http://127.0.0.1:1", []byte("rtc-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1000, RegionSize, 3*RegionSize + 12345} {
		f, err := createSpoolFile(filepath.Join(t.TempDir(), "x.webm"))
		if err != nil {
			t.Fatal(err)
		}
		up, err := blobs.NewUpload(ctx, "k", "video/webm")
		if err != nil {
			t.Fatal(err)
		}
		st := newStreamer(f, up, testLogger(t))
		data := make([]byte, size)
		rand.Read(data)
		for off := 0; off < size; off += 64 << 10 {
			f.Write(data[off:min(off+64<<10, size)])
		}
		for _, at := range []int64{100, RegionSize + 7} {
			if at+4 < int64(size) {
				f.Seek(at, io.SeekStart)
				f.Write([]byte("EDIT"))
				copy(data[at:], "EDIT")
			}
		}
		f.Seek(0, io.SeekEnd)
		f.Close()
		if err := st.finish(ctx); err != nil {
			t.Fatalf("finish %d bytes: %v", size, err)
		}
		rc, err := blobs.Get(ctx, "k", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) {
			t.Errorf("object of %d bytes differs from the %d-byte file", len(got), size)
		}
		f.f.Close()
		os.Remove(f.f.Name())
	}
}

// TestLongRecording writes four minutes (over two upload regions) through the muxer, spool
// and streamed upload, and checks that ebml-go's finishing writes (Duration, SeekHead, Cues)
// only went back into the first region, which is sent last, and that the object is a
// complete, seekable WebM.
func TestLongRecording(t *testing.T) {
	e := newEnv(t, Config{})
	c := testClip(t, true)
	ctx := context.Background()
	dir := t.TempDir()
	f, err := createSpoolFile(mediaPath(dir, "long", "webm"))
	if err != nil {
		t.Fatal(err)
	}
	up, err := e.blobs.NewUpload(ctx, "long.webm", "video/webm")
	if err != nil {
		t.Fatal(err)
	}
	st := newStreamer(f, up, testLogger(t))
	m := newMuxer(f, []codec{codecOpus, codecVP8}, time.Hour)
	if err := feed(m, loop(c.Audio, 4*time.Minute), loop(c.Video, 4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(m.close(), st.finish(ctx)); err != nil {
		t.Fatal(err)
	}
	if f.length() < 2*RegionSize {
		t.Fatalf("only %d bytes: the test needs several regions", f.length())
	}
	if f.rewrote > RegionSize {
		t.Errorf("ebml-go rewrote up to byte %d, beyond the first region", f.rewrote)
	}
	obj := filepath.Join(t.TempDir(), "long.webm")
	rc, err := e.blobs.Get(ctx, "long.webm", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	os.WriteFile(obj, b, 0o600)
	if d := probeFloat(t, obj, "-show_entries", "format=duration"); math.Abs(d-240) > 0.1 {
		t.Errorf("duration %.3f s, want 240", d)
	}
	if errs := decodeErrors(t, obj); errs != "" {
		t.Errorf("decoding reports:\n%s", errs)
	}
	// Cues let a player seek straight to the end: reading from 235 s must not scan the file.
	out := ffmpegLog(t, "-v", "debug", "-ss", "235", "-i", obj, "-frames:v", "1", "-f", "null", "-")
	read := regexp.MustCompile(`Statistics: (\d+) bytes read`).FindStringSubmatch(out)
	if read == nil {
		t.Fatalf("no read statistics from ffmpeg:\n%s", out)
	}
	if n, _ := strconv.Atoi(read[1]); n > len(b)/4 {
		t.Errorf("seeking to 235 s read %d bytes of %d: no usable Cues", n, len(b))
	}
}

func TestBlockTimeIncreasesStrictly(t *testing.T) {
	const t0 = int64(1_000_000_000_000)
	tests := []struct {
		name     string
		ns, last int64
		want     int64
	}{
		{"first frame at t0", t0, -1, 0},
		{"first frame before t0", t0 - 5e6, -1, 0},
		{"normal step", t0 + 40e6, 0, 40},
		{"same time as the previous frame", t0 + 125e6, 125, 126},
		{"clock stepped back", t0 + 100e6, 125, 126},
		{"sub-millisecond step", t0 + 125_400_000, 125, 126},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := blockTime(tt.ns, t0, tt.last); got != tt.want {
				t.Errorf("blockTime(%d, t0, %d) = %d, want %d", tt.ns-t0, tt.last, got, tt.want)
			}
		})
	}
}

// FuzzCheckOffer checks that no offer makes validation panic or fail with anything but a
// client error, and that accepted offers go on to codec selection without panicking.
func FuzzCheckOffer(f *testing.F) {
	const offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n" +
		"a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
	for _, s := range []string{offer, "", "v=0\r\n", strings.Replace(offer, "VP8", "AV1", 1), offer + offer[strings.Index(offer, "m=video"):]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := checkOffer(s)
		if err != nil {
			switch media.ErrorCode(err) {
			case media.EINVALID, media.EUNSUPPORTED, media.ETOOLARGE:
				return
			}
			t.Fatalf("checkOffer(%q) = %v: not a client error", s, err)
		}
		if info.video {
			offeredVideoCodec(s)
		}
	})
}
