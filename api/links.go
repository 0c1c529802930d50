package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"parley/media"
)

type createLinkRequest struct {
	ThreadID     string `json:"thread_id"`
	ReplyTo      string `json:"reply_to"`
	Kind         string `json:"kind"`
	MaxDurationS int    `json:"max_duration_s"`
	ExpiresInS   int    `json:"expires_in_s"`
	MaxUses      int    `json:"max_uses"`
}

type linkView struct {
	ID           string     `json:"id"`
	Token        string     `json:"token,omitempty"`
	URL          string     `json:"url,omitempty"`
	WHIPURL      string     `json:"whip_url"`
	ThreadID     string     `json:"thread_id"`
	ReplyTo      *string    `json:"reply_to"`
	Kind         string     `json:"kind"`
	MaxDurationS int        `json:"max_duration_s"`
	MaxUses      int        `json:"max_uses"`
	Uses         int        `json:"uses"`
	ExpiresAt    *time.Time `json:"expires_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	CreatedAt    time.Time  `json:"created_at"`
}

func (s *Server) linkView(l *media.RecorderLink, token string) *linkView {
	v := &linkView{
		ID: l.ID, Token: token, WHIPURL: s.BaseURL + "/whip", ThreadID: l.ThreadID, ReplyTo: optional(l.ReplyTo),
		Kind: string(l.Kind), MaxDurationS: l.MaxDurationS, MaxUses: l.MaxUses, Uses: l.Uses,
		ExpiresAt: l.ExpiresAt, RevokedAt: l.RevokedAt, CreatedAt: l.CreatedAt,
	}
	if token != "" {
		v.URL = s.BaseURL + "/r/" + token
	}
	return v
}

func (s *Server) createRecorderLink(c *fiber.Ctx) error {
	var req createLinkRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	kind, err := media.ParseKind(req.Kind)
	if err != nil {
		return err
	}
	l, token, err := s.Service.CreateRecorderLink(c.UserContext(), principal(c), media.LinkRequest{
		ThreadID: req.ThreadID, ReplyTo: req.ReplyTo, Kind: kind,
		MaxDurationS: req.MaxDurationS, ExpiresInS: req.ExpiresInS, MaxUses: req.MaxUses,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(s.linkView(l, token))
}

func (s *Server) listRecorderLinks(c *fiber.Ctx) error {
	links, err := s.Service.RecorderLinks(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	views := make([]*linkView, 0, len(links))
	for _, l := range links {
		views = append(views, s.linkView(l, ""))
	}
	return c.JSON(fiber.Map{"recorder_links": views})
}

func (s *Server) revokeRecorderLink(c *fiber.Ctx) error {
	if err := s.Service.RevokeRecorderLink(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
