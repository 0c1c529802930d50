// Package api is Parley's HTTP surface: the REST API, WHIP ingest endpoints, pages and probes.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"

	"parley/media"
)

// Pinger is anything /readyz checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server holds what the HTTP handlers need. Service, Blobs and BaseURL are required.
type Server struct {
	Service *media.Service
	Blobs   media.Blobs
	BaseURL string // public origin, e.g. "https://parley.example.com"
	Log     *slog.Logger

	// Optional.
	Ingest      media.Ingest         // WHIP; nil answers 503
	BlobHandler http.Handler         // serves signed blob URLs under /blobs/ (local storage)
	ICEServers  []ICEServer          // STUN/TURN servers advertised in WHIP Link headers
	Ready       map[string]Pinger    // dependencies /readyz checks, by name
	Registry    *prometheus.Registry // where request metrics go; nil = a private registry
	MediaTTL    time.Duration        // lifetime of signed media URLs of unlisted clips; default 6h
	Done        <-chan struct{}      // closed at shutdown: ends live-update streams
}

// App builds the fiber application with every route.
func (s *Server) App() *fiber.App {
	app := s.newApp()
	s.routes(app)
	return app
}

// ProbeApp builds an application with only /healthz, /readyz and /metrics, for processes
// that serve no API (workers).
func (s *Server) ProbeApp() *fiber.App {
	return s.newApp()
}

func (s *Server) newApp() *fiber.App {
	app := fiber.New(fiber.Config{
		ErrorHandler:          errorHandler(s.log()),
		StreamRequestBody:     true,
		BodyLimit:             maxSDPBody,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           2 * time.Minute,
	})
	m := newHTTPMetrics(s.Registry)
	app.Use(recover.New())
	app.Use(m.middleware)
	app.Get("/metrics", adaptor.HTTPHandler(m.handler()))
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	return app
}

func (s *Server) routes(app *fiber.App) {
	if s.BlobHandler != nil {
		app.Get("/blobs/*", adaptor.HTTPHandler(s.BlobHandler))
	}
	app.Get("/api/v1/openapi.json", s.openAPIDoc) // before the group: public
	s.whipRoutes(app)
	v1 := app.Group("/api/v1", s.authenticate)
	v1.Get("/threads", s.listThreads)
	v1.Post("/threads", s.createThread)
	v1.Get("/threads/:id", s.getThread)
	v1.Get("/threads/:id/events", s.threadEvents)
	v1.Get("/clips/:id", s.getClip)
	v1.Patch("/clips/:id", s.updateClip)
	v1.Delete("/clips/:id", s.deleteClip)
	v1.Get("/clips/:id/download", s.downloadClip)
	v1.Put("/clips/:id/captions", s.putCaptions)
	s.socialRoutes(v1)
	s.manageRoutes(v1)
	v1.Post("/recorder-links", s.createRecorderLink)
	v1.Get("/recorder-links", s.listRecorderLinks)
	v1.Delete("/recorder-links/:id", s.revokeRecorderLink)
	s.pageRoutes(app)
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz checks every dependency; 503 names the ones that failed.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	ready := true
	for name, p := range s.Ready {
		checks[name] = "ok"
		if err := p.Ping(ctx); err != nil {
			checks[name], ready = err.Error(), false
		}
	}
	if !ready {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": checks})
	}
	return c.JSON(fiber.Map{"status": "ok", "checks": checks})
}
