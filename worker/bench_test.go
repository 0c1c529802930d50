package worker

import (
	"testing"
	"time"

	"parley/media"
)

// BenchmarkPipeline measures a clip from enqueue to ready through a real asynq server: a
// 2 s 320x240 VP8/Opus WebM (video) or a 2 s Opus WebM (voice).
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range []struct {
		name, fixture string
		kind          media.ClipKind
	}{{"video", "video.webm", media.KindVideo}, {"voice", "voice.webm", media.KindAudio}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, envOptions{store: "sqlite", blobs: "localfs", db: dbPipeline})
			e.startServer(time.Second)
			fixture(b, bc.fixture)
			b.ResetTimer()
			for range b.N {
				c := e.processingClip(bc.fixture, bc.kind, "")
				if got := e.waitTerminal(c.ID); got.Status != media.StatusReady {
					b.Fatalf("clip %s: %s", got.Status, got.Reason)
				}
			}
		})
	}
}
