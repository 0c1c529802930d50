package api

import (
	"github.com/gofiber/fiber/v2"
)

type createThreadRequest struct {
	Title string `json:"title"`
}

func (s *Server) createThread(c *fiber.Ctx) error {
	var req createThreadRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	t, err := s.Service.CreateThread(c.UserContext(), principal(c), req.Title)
	if err != nil {
		return err
	}
	v, err := s.threadView(c.UserContext(), t, nil)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) getThread(c *fiber.Ctx) error {
	t, clips, err := s.Service.Thread(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	v, err := s.threadView(c.UserContext(), t, clips)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) getClip(c *fiber.Ctx) error {
	clip, err := s.Service.Clip(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	v, err := s.clipView(c.UserContext(), clip)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
