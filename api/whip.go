package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"parley/media"
)

// maxSDPBody bounds WHIP offers and sdpfrags.
const maxSDPBody = 128 << 10

// ICEServer is a STUN or TURN server offered to WHIP clients (RFC 9725 section 4.6).
type ICEServer struct {
	URL        string
	Username   string
	Credential string
}

const (
	sdpType     = "application/sdp"
	sdpFragType = "application/trickle-ice-sdpfrag"
	clipHeader  = "Parley-Clip-Id"
)

func (s *Server) whipRoutes(app *fiber.App) {
	w := app.Group("/whip", s.whipCORS)
	w.Options("", s.whipOptions)
	w.Options("/:session", s.whipOptions)
	w.Post("", s.authenticate, s.whipPublish)
	w.Patch("/:session", s.authenticate, s.whipSession, s.whipPatch)
	w.Delete("/:session", s.authenticate, s.whipSession, s.whipStop)
}

// whipCORS lets browser publishers on other origins use WHIP with bearer tokens.
func (s *Server) whipCORS(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set(fiber.HeaderAccessControlAllowMethods, "POST, PATCH, DELETE, OPTIONS")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, If-Match")
	c.Set(fiber.HeaderAccessControlExposeHeaders, "Location, ETag, Link, Accept-Patch, "+clipHeader)
	return c.Next()
}

func (s *Server) whipOptions(c *fiber.Ctx) error {
	c.Set("Accept-Post", sdpType)
	c.Set("Accept-Patch", sdpFragType)
	c.Set(fiber.HeaderAccessControlMaxAge, "86400")
	s.setICELinks(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) ingest() (media.Ingest, error) {
	if s.Ingest == nil {
		return nil, media.Errorf(media.EUNAVAILABLE, "recording is not enabled on this server")
	}
	return s.Ingest, nil
}

func (s *Server) whipPublish(c *fiber.Ctx) error {
	in, err := s.ingest()
	if err != nil {
		return err
	}
	offer, err := readTyped(c, sdpType, maxSDPBody)
	if err != nil {
		return err
	}
	rec, err := recordingRequest(c)
	if err != nil {
		return err
	}
	res, err := in.Publish(c.UserContext(), media.PublishRequest{Principal: principal(c), Offer: offer, Recording: rec})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/whip/"+res.SessionID)
	c.Set(fiber.HeaderETag, quoteETag(res.ETag))
	c.Set(clipHeader, res.ClipID)
	c.Set("Accept-Patch", sdpFragType)
	s.setICELinks(c)
	c.Set(fiber.HeaderContentType, sdpType)
	return c.Status(fiber.StatusCreated).SendString(res.Answer)
}

// readTyped checks the Content-Type and returns the body (at most limit bytes) as a string.
func readTyped(c *fiber.Ctx, want string, limit int) (string, error) {
	if mediaType(c.Get(fiber.HeaderContentType)) != want {
		return "", media.Errorf(media.EUNSUPPORTED, "Content-Type must be %s", want)
	}
	b, err := readBody(c, limit)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// recordingRequest reads where an API-key publisher wants the clip (query parameters).
func recordingRequest(c *fiber.Ctx) (media.RecordingRequest, error) {
	kind, err := media.ParseKind(c.Query("kind"))
	if err != nil {
		return media.RecordingRequest{}, err
	}
	req := media.RecordingRequest{ThreadID: c.Query("thread_id"), ReplyTo: c.Query("reply_to"), Kind: kind, Title: c.Query("title")}
	if v := c.Query("reply_at_ms"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			return req, media.Errorf(media.EINVALID, "reply_at_ms must be a non-negative integer")
		}
		req.ReplyAtMS = &ms
	}
	return req, media.ValidateTitle(req.Title)
}

// whipSession admits only the workspace that owns the session; others see 404.
func (s *Server) whipSession(c *fiber.Ctx) error {
	in, err := s.ingest()
	if err != nil {
		return err
	}
	_, ws, ok := in.SessionClip(c.Params("session"))
	if !ok || ws != principal(c).WorkspaceID {
		return media.Errorf(media.ENOTFOUND, "WHIP session not found")
	}
	return c.Next()
}

func (s *Server) whipPatch(c *fiber.Ctx) error {
	frag, err := readTyped(c, sdpFragType, maxSDPBody)
	if err != nil {
		return err
	}
	res, err := s.Ingest.Patch(c.UserContext(), c.Params("session"), unquoteETag(c.Get(fiber.HeaderIfMatch)), frag)
	if err != nil {
		return err
	}
	if !res.Restarted {
		return c.SendStatus(fiber.StatusNoContent)
	}
	c.Set(fiber.HeaderETag, quoteETag(res.ETag))
	c.Set(fiber.HeaderContentType, sdpFragType)
	return c.Status(fiber.StatusOK).SendString(res.Answer)
}

func (s *Server) whipStop(c *fiber.Ctx) error {
	clip, err := s.Ingest.Stop(c.UserContext(), c.Params("session"))
	if err != nil {
		return err
	}
	v, err := s.clipView(c.UserContext(), clip)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) setICELinks(c *fiber.Ctx) {
	for _, ice := range s.ICEServers {
		c.Response().Header.Add(fiber.HeaderLink, iceLink(ice))
	}
}

// iceLink formats an ICE server as a Link header value (RFC 9725 section 4.6).
func iceLink(ice ICEServer) string {
	v := fmt.Sprintf("<%s>; rel=\"ice-server\"", ice.URL)
	if ice.Username != "" {
		v += fmt.Sprintf("; username=%q; credential=%q; credential-type=\"password\"", ice.Username, ice.Credential)
	}
	return v
}

func quoteETag(tag string) string { return `"` + tag + `"` }

// unquoteETag strips quotes and a weak prefix; "*" stays "*".
func unquoteETag(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	return strings.Trim(v, `"`)
}
