package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"parley/media"
	"parley/web"
)

// threadPageRoutes serves the thread views: a recorder-link guest's, authorised by the token
// in the path, and the members' page shell, which reads the REST API with an API key.
func (s *Server) threadPageRoutes(app fiber.Router) {
	app.Get("/r/:token/thread", s.guestThread)
	app.Get("/r/:token/events", s.guestEvents)
	app.Get("/t/:id", s.threadPage)
}

// guestLoader reads the thread of a recorder link as its guest sees it. The token is resolved
// on every load, so a link revoked while a guest watches stops its stream.
func (s *Server) guestLoader(token string) threadLoader {
	return func(ctx context.Context) (*media.Thread, []*media.Clip, error) {
		l, err := s.recorderLink(ctx, token)
		if err != nil {
			return nil, nil, err
		}
		return s.Service.GuestThread(ctx, media.Principal{WorkspaceID: l.WorkspaceID, Link: l})
	}
}

// guestThread answers GET /r/{token}/thread: the link's thread with its unlisted clips and
// signed media URLs; 410 once the link expired or was revoked, 404 for an unknown token.
func (s *Server) guestThread(c *fiber.Ctx) error {
	t, clips, err := s.guestLoader(c.Params("token"))(c.UserContext())
	if err != nil {
		return err
	}
	v, err := s.threadView(c.UserContext(), t, clips)
	if err != nil {
		return err
	}
	setSecretURLHeaders(c)
	return c.JSON(v)
}

// guestEvents streams the guest's thread as Server-Sent Events whenever it changes.
func (s *Server) guestEvents(c *fiber.Ctx) error {
	setSecretURLHeaders(c)
	return s.streamEvents(c, s.guestLoader(c.Params("token")))
}

// setSecretURLHeaders keeps a response whose URL carries a secret out of caches and referrers.
func setSecretURLHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
}

// threadPageData is what the member thread page's module learns from the page: only where
// things are. The thread itself comes from the REST API with the member's API key.
type threadPageData struct {
	ThreadID string `json:"thread_id"`
	WHIPURL  string `json:"whip_url"`
}

// threadPage serves the member thread page shell for any well-formed thread id.
func (s *Server) threadPage(c *fiber.Ctx) error {
	id := c.Params("id")
	if !media.ValidID(id) {
		return s.pageError(c, media.Errorf(media.ENOTFOUND, "There is no thread at this address."))
	}
	origin, err := s.mediaOrigin(c.UserContext())
	if err != nil {
		return s.pageError(c, err)
	}
	p := &web.Page{Title: "Thread · Parley", Heading: "Thread", Data: threadPageData{ThreadID: id, WHIPURL: "/whip"}}
	return renderPage(c, fiber.StatusOK, web.ThreadPage, p, pagePolicy{recorder: true, fetchMedia: true, origins: origin})
}
