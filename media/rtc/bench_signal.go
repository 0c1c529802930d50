package rtc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"parley/media"
)

// benchSignal is the benchmark's loopback signalling endpoint: a minimal WHIP POST (an
// application/sdp offer in, 201 with the answer and the session in Location out, no trickle)
// in front of an ingest. It keeps the sessions it started for the benchmark to measure.
type benchSignal struct {
	ing *Ingest
	req media.PublishRequest // principal and recording of every publish
	log *slog.Logger
	srv *http.Server
	url string

	mu       sync.Mutex
	sessions []*session
}

// startSignal listens on a loopback port and serves Publish until close.
func startSignal(ing *Ingest, req media.PublishRequest, log *slog.Logger) (*benchSignal, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen signalling: %w", err)
	}
	s := &benchSignal{ing: ing, req: req, log: log, url: "http://" + l.Addr().String() + "/whip"}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(l)
	return s, nil
}

func (s *benchSignal) close() { s.srv.Close() }

// ServeHTTP answers a POSTed offer.
func (s *benchSignal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an SDP offer", http.StatusMethodNotAllowed)
		return
	}
	offer, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read offer", http.StatusBadRequest)
		return
	}
	res, err := s.publish(r.Context(), string(offer))
	if err != nil {
		s.log.Warn("bench publish", "err", err)
		http.Error(w, err.Error(), benchStatus(err))
		return
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/whip/"+res.SessionID)
	w.Header().Set("ETag", res.ETag)
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, res.Answer)
}

// publish starts a session and keeps it.
func (s *benchSignal) publish(ctx context.Context, offer string) (*media.PublishResult, error) {
	req := s.req
	req.Offer = offer
	res, err := s.ing.Publish(ctx, req)
	if err != nil {
		return nil, err
	}
	ss, err := s.ing.session(res.SessionID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = append(s.sessions, ss)
	return res, nil
}

// started returns the sessions started so far.
func (s *benchSignal) started() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*session(nil), s.sessions...)
}

// benchStatus is the HTTP status of a publish error.
func benchStatus(err error) int {
	switch media.ErrorCode(err) {
	case media.EINVALID, media.EUNSUPPORTED:
		return http.StatusBadRequest
	case media.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// whipClient is the publisher process's side of benchSignal: an ingest that only publishes.
type whipClient struct {
	url    string
	client *http.Client
}

var _ media.Ingest = whipClient{}

// Publish POSTs the offer and returns the answer and the session from Location.
func (c whipClient) Publish(ctx context.Context, req media.PublishRequest) (*media.PublishResult, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewBufferString(req.Offer))
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/sdp")
	resp, err := c.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("post offer: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("post offer: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/whip/")
	return &media.PublishResult{SessionID: id, ETag: resp.Header.Get("ETag"), Answer: string(body)}, nil
}

// Patch is not part of the benchmark's signalling (no trickle).
func (whipClient) Patch(context.Context, string, string, string) (*media.PatchResult, error) {
	return nil, errors.New("patch: not supported by the bench signalling")
}

// Stop is the parent's job: it stops the sessions itself to time Stop.
func (whipClient) Stop(context.Context, string) (*media.Clip, error) {
	return nil, errors.New("stop: not supported by the bench signalling")
}

// SessionClip is unknown to the publisher process.
func (whipClient) SessionClip(string) (string, string, bool) { return "", "", false }
