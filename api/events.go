package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"parley/media"
)

// Live-update timing: how often a stream looks for changes, how often it proves it is alive
// (a disconnect is only noticed when a write fails), and how long one stream lasts before the
// client's EventSource reconnects.
const (
	eventPoll      = time.Second
	eventHeartbeat = 15 * time.Second
	eventLifetime  = 10 * time.Minute
)

// threadLoader reads a thread and the clips a viewer may see.
type threadLoader func(ctx context.Context) (*media.Thread, []*media.Clip, error)

// threadEvents streams the thread (with its clips) as Server-Sent Events whenever it changes.
func (s *Server) threadEvents(c *fiber.Ctx) error {
	p, id := principal(c), c.Params("id")
	return s.streamEvents(c, func(ctx context.Context) (*media.Thread, []*media.Clip, error) {
		return s.Service.Thread(ctx, p, id)
	})
}

// streamEvents checks the viewer may load the thread, then streams it as it changes.
func (s *Server) streamEvents(c *fiber.Ctx, load threadLoader) error {
	if _, _, err := load(c.UserContext()); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		s.streamThread(w, load)
	})
	return nil
}

func (s *Server) streamThread(w *bufio.Writer, load threadLoader) {
	ctx, cancel := context.WithTimeout(context.Background(), eventLifetime)
	defer cancel()
	poll, beat := time.NewTicker(eventPoll), time.NewTicker(eventHeartbeat)
	defer poll.Stop()
	defer beat.Stop()
	var last []byte
	for s.pushSnapshot(ctx, w, load, &last) {
		select {
		case <-ctx.Done():
			return
		case <-s.Done:
			return
		case <-beat.C:
			if writeComment(w, "heartbeat") != nil {
				return
			}
		case <-poll.C:
		}
	}
}

// pushSnapshot sends the thread if it changed since last. It returns false when the stream
// should end: the client is gone or the viewer may no longer see the thread. Other load
// errors (a busy database) are logged and tried again at the next poll.
func (s *Server) pushSnapshot(ctx context.Context, w *bufio.Writer, load threadLoader, last *[]byte) bool {
	next, err := threadSnapshot(ctx, load)
	switch {
	case err != nil && endsStream(err):
		return false
	case err != nil:
		s.log().Warn("live thread update", "err", err)
		return true
	case bytes.Equal(next, *last):
		return true
	}
	*last = next
	return writeEvent(w, "thread", next) == nil
}

// endsStream reports whether a load error means the viewer lost access (or time ran out).
func endsStream(err error) bool {
	switch media.ErrorCode(err) {
	case media.ENOTFOUND, media.EGONE, media.EFORBIDDEN, media.EUNAUTHORIZED:
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// threadSnapshot renders the thread as JSON without signed URLs, so unchanged state
// compares equal; clients fetch the clip for fresh media URLs.
func threadSnapshot(ctx context.Context, load threadLoader) ([]byte, error) {
	t, clips, err := load(ctx)
	if err != nil {
		return nil, err
	}
	type clipState struct {
		ID, Status, Kind string
		ReplyTo          *string `json:"reply_to"`
		DurationMS       int64   `json:"duration_ms"`
		Media            []string
	}
	states := make([]clipState, 0, len(clips))
	for _, c := range clips {
		states = append(states, clipState{ID: c.ID, Status: string(c.Status), Kind: string(c.Kind),
			ReplyTo: optional(c.ReplyTo), DurationMS: c.DurationMS, Media: renditionNames(c.Media)})
	}
	return json.Marshal(map[string]any{"id": t.ID, "reply_count": t.ReplyCount, "last_activity_at": t.LastActivityAt, "clips": states})
}

// renditionNames lists which renditions a clip has.
func renditionNames(m media.MediaKeys) []string {
	var names []string
	for name, key := range map[string]string{"original": m.Original, "mp4": m.MP4, "audio": m.Audio, "poster": m.Poster, "waveform": m.Waveform} {
		if key != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func writeEvent(w *bufio.Writer, name string, data []byte) error {
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data); err != nil {
		return err
	}
	return w.Flush()
}

func writeComment(w *bufio.Writer, text string) error {
	if _, err := fmt.Fprintf(w, ": %s\n\n", text); err != nil {
		return err
	}
	return w.Flush()
}
