package rtc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"parley/media"
)

// Recover finishes the recordings a dead process left in the spool: each file is uploaded as
// its clip's original (a WebM streamed without Cues still decodes; the workers' MP4 is
// seekable) and reported with Interrupted set. It returns how many clips it finished.
func (i *Ingest) Recover(ctx context.Context) (int, error) {
	paths, err := filepath.Glob(filepath.Join(i.cfg.SpoolDir, "*.json"))
	if err != nil {
		return 0, fmt.Errorf("list spool: %w", err)
	}
	n := 0
	var errs []error
	for _, p := range paths {
		sc, err := readSidecar(p)
		if err != nil || i.liveClip(sc.ClipID) {
			errs = append(errs, err)
			continue
		}
		done, err := i.recoverOne(ctx, sc)
		if done {
			n++
		}
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// liveClip reports whether a clip belongs to a session of this process.
func (i *Ingest) liveClip(clipID string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, s := range i.sessions {
		if s.clipID == clipID {
			return true
		}
	}
	return false
}

// recoverOne uploads one spooled recording and finishes its clip.
func (i *Ingest) recoverOne(ctx context.Context, sc sidecar) (bool, error) {
	dir := i.cfg.SpoolDir
	path := mediaPath(dir, sc.ClipID, sc.Ext)
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		i.failClip(sc.ClipID, "the recording was interrupted before any media arrived")
		return false, removeSpool(dir, sc)
	}
	if err := patchDuration(path, sc.DurationMS); err != nil {
		i.log.Warn("patch duration of recovered recording", "clip", sc.ClipID, "err", err)
	}
	key := media.OriginalKey(sc.ClipID, sc.Ext)
	if err := i.putFile(ctx, key, path, sc.ContentType); err != nil {
		return false, err
	}
	r := media.Recording{OriginalKey: key, DurationMS: sc.DurationMS, Width: sc.Width, Height: sc.Height, Interrupted: true}
	_, err = i.rec.FinishRecording(ctx, sc.ClipID, r)
	if code := media.ErrorCode(err); err != nil && code != media.ECONFLICT && code != media.ENOTFOUND {
		return false, fmt.Errorf("finish recovered clip %s: %w", sc.ClipID, err)
	}
	if err != nil {
		i.log.Warn("recovered clip is no longer recording", "clip", sc.ClipID, "err", err)
	}
	i.log.Info("recovered recording", "clip", sc.ClipID, "duration_ms", sc.DurationMS)
	return err == nil, removeSpool(dir, sc)
}

func (i *Ingest) putFile(ctx context.Context, key, path, contentType string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open spool file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat spool file: %w", err)
	}
	if err := i.blobs.Put(ctx, key, f, fi.Size(), contentType); err != nil {
		return fmt.Errorf("put object %s: %w", key, err)
	}
	return nil
}

func removeSpool(dir string, sc sidecar) error {
	err := os.Remove(mediaPath(dir, sc.ClipID, sc.Ext))
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return errors.Join(err, os.Remove(sidecarPath(dir, sc.ClipID)))
}

// durationElement is the Duration element as ebml-go writes it: ID 0x4489, size 8, float64.
var durationElement = []byte{0x44, 0x89, 0x88}

// patchDuration writes the last known duration into the header of an unfinished file, which
// ebml-go left as a placeholder.
func patchDuration(path string, ms int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := f.ReadAt(head, 0)
	idx := bytes.Index(head[:n], durationElement)
	if idx < 0 || ms <= 0 {
		return errors.New("no duration element")
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(float64(ms)))
	_, err = f.WriteAt(b[:], int64(idx+len(durationElement)))
	return err
}
