package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"parley/media"
)

type commentView struct {
	ID        string    `json:"id"`
	ThreadID  string    `json:"thread_id"`
	ClipID    *string   `json:"clip_id"`
	AtMS      *int64    `json:"at_ms"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

func newCommentView(c *media.Comment) commentView {
	return commentView{ID: c.ID, ThreadID: c.ThreadID, ClipID: optional(c.ClipID), AtMS: c.AtMS,
		Author: c.Author, Body: c.Body, CreatedAt: c.CreatedAt}
}

type reactionView struct {
	ID        string    `json:"id"`
	ClipID    string    `json:"clip_id"`
	Emoji     string    `json:"emoji"`
	AtMS      *int64    `json:"at_ms"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

func newReactionView(r *media.Reaction) reactionView {
	return reactionView{ID: r.ID, ClipID: r.ClipID, Emoji: r.Emoji, AtMS: r.AtMS, Author: r.Author, CreatedAt: r.CreatedAt}
}

func (s *Server) socialRoutes(v1 fiber.Router) {
	v1.Get("/threads/:id/comments", s.listComments)
	v1.Post("/threads/:id/comments", s.addComment)
	v1.Get("/clips/:id/reactions", s.listReactions)
	v1.Post("/clips/:id/reactions", s.addReaction)
}

func (s *Server) addComment(c *fiber.Ctx) error {
	var req struct {
		ClipID string `json:"clip_id"`
		AtMS   *int64 `json:"at_ms"`
		Author string `json:"author"`
		Body   string `json:"body"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cm, err := s.Service.AddComment(c.UserContext(), principal(c), c.Params("id"),
		media.CommentRequest{ClipID: req.ClipID, AtMS: req.AtMS, Author: req.Author, Body: req.Body})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(newCommentView(cm))
}

func (s *Server) listComments(c *fiber.Ctx) error {
	comments, err := s.Service.Comments(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	views := make([]commentView, 0, len(comments))
	for _, cm := range comments {
		views = append(views, newCommentView(cm))
	}
	return c.JSON(fiber.Map{"comments": views})
}

func (s *Server) addReaction(c *fiber.Ctx) error {
	var req struct {
		Emoji  string `json:"emoji"`
		AtMS   *int64 `json:"at_ms"`
		Author string `json:"author"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	r, err := s.Service.AddReaction(c.UserContext(), principal(c), c.Params("id"), req.Emoji, req.Author, req.AtMS)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(newReactionView(r))
}

func (s *Server) listReactions(c *fiber.Ctx) error {
	reactions, err := s.Service.Reactions(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	views := make([]reactionView, 0, len(reactions))
	for _, r := range reactions {
		views = append(views, newReactionView(r))
	}
	return c.JSON(fiber.Map{"reactions": views})
}
