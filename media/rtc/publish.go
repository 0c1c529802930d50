package rtc

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/media"
)

// Publish answers a WHIP offer, starts the clip and begins recording.
func (i *Ingest) Publish(ctx context.Context, req media.PublishRequest) (*media.PublishResult, error) {
	info, err := checkOffer(req.Offer)
	if err != nil {
		return nil, err
	}
	if err := i.reserve(); err != nil {
		return nil, err
	}
	s, err := i.publish(ctx, req, info)
	if err != nil {
		i.release()
		return nil, err
	}
	return &media.PublishResult{SessionID: s.id, ETag: s.currentETag(), Answer: s.answer, ClipID: s.clipID}, nil
}

func (i *Ingest) publish(ctx context.Context, req media.PublishRequest, info offerInfo) (*session, error) {
	pc, answer, err := i.negotiate(ctx, req.Offer)
	if err != nil {
		return nil, err
	}
	r := req.Recording
	r.Kind = info.kind()
	clip, limit, err := i.rec.StartRecording(ctx, req.Principal, r)
	if err != nil {
		pc.Close()
		return nil, err
	}
	s, err := i.newSession(ctx, pc, clip, limit, answer)
	if err != nil {
		pc.Close()
		i.failClip(clip.ID, "the recording could not start")
		return nil, err
	}
	i.mu.Lock()
	i.sessions[s.id] = s
	i.mu.Unlock()
	close(s.ready)
	go s.watch()
	return s, nil
}

// negotiate creates the peer connection and answers the offer with every server candidate.
func (i *Ingest) negotiate(ctx context.Context, offer string) (*webrtc.PeerConnection, string, error) {
	pc, err := i.api.NewPeerConnection(webrtc.Configuration{ICEServers: i.cfg.ICEServers})
	if err != nil {
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		pc.Close()
		return nil, "", media.Errorf(media.EINVALID, "unusable SDP offer: %v", err)
	}
	if err := preferVideoCodec(pc, offer); err != nil {
		pc.Close()
		return nil, "", err
	}
	answer, err := i.answer(ctx, pc)
	if err != nil {
		pc.Close()
		return nil, "", err
	}
	return pc, answer, nil
}

// preferVideoCodec limits the answer's video section to the publisher's most preferred codec
// the ingest records (all its payload types, with RTX where offered), so that one muxer track
// fits what arrives.
func preferVideoCodec(pc *webrtc.PeerConnection, offer string) error {
	c, ok := offeredVideoCodec(offer)
	if !ok {
		return nil
	}
	var want []webrtc.RTPCodecParameters
	for _, v := range videoCodecs() {
		if vc, _ := codecOf(v.MimeType); vc == c {
			want = append(want, v.params()...)
		}
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Kind() != webrtc.RTPCodecTypeVideo {
			continue
		}
		if err := tr.SetCodecPreferences(negotiable(tr, want)); err != nil {
			return media.Errorf(media.EUNSUPPORTED, "video codec %s: %v", c, err)
		}
	}
	return nil
}

// negotiable keeps the codecs the transceiver can negotiate with this offer (pion refuses
// preferences the offer lacks, e.g. RTX from a publisher that does not offer it).
func negotiable(tr *webrtc.RTPTransceiver, codecs []webrtc.RTPCodecParameters) []webrtc.RTPCodecParameters {
	var out []webrtc.RTPCodecParameters
	for _, c := range codecs {
		if tr.SetCodecPreferences([]webrtc.RTPCodecParameters{c}) == nil {
			out = append(out, c)
		}
	}
	return out
}

// answer creates the local answer and waits for candidate gathering to complete.
func (i *Ingest) answer(ctx context.Context, pc *webrtc.PeerConnection) (string, error) {
	a, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", media.Errorf(media.EUNSUPPORTED, "cannot answer the offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(a); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("gather candidates: timed out")
	}
	return capBitrate(pc.LocalDescription().SDP, i.cfg.MaxBitrate), nil
}

// failClip marks a clip failed, logging rather than returning errors: it is clean-up.
func (i *Ingest) failClip(clipID, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := i.rec.FailRecording(ctx, clipID, reason); err != nil {
		i.log.Warn("fail recording", "clip", clipID, "err", err)
	}
}
