package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"parley/media"
)

type workspaceView struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	RetentionDays int       `json:"retention_days"`
	CreatedAt     time.Time `json:"created_at"`
}

func newWorkspaceView(w *media.Workspace) workspaceView {
	return workspaceView{ID: w.ID, Name: w.Name, RetentionDays: w.RetentionDays, CreatedAt: w.CreatedAt}
}

type apiKeyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Admin     bool       `json:"admin"`
	Key       string     `json:"key,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func newAPIKeyView(k *media.APIKey, secret string) apiKeyView {
	return apiKeyView{ID: k.ID, Name: k.Name, Admin: k.Admin, Key: secret, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

type webhookView struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func newWebhookView(w *media.Webhook, withSecret bool) webhookView {
	v := webhookView{ID: w.ID, URL: w.URL, Events: w.Events, CreatedAt: w.CreatedAt}
	if v.Events == nil {
		v.Events = []string{}
	}
	if withSecret {
		v.Secret = w.Secret
	}
	return v
}

func (s *Server) manageRoutes(v1 fiber.Router) {
	v1.Get("/workspace", s.getWorkspace)
	v1.Patch("/workspace", s.updateWorkspace)
	v1.Post("/workspaces", s.createWorkspace)
	v1.Get("/api-keys", s.listAPIKeys)
	v1.Post("/api-keys", s.createAPIKey)
	v1.Delete("/api-keys/:id", s.revokeAPIKey)
	v1.Get("/webhooks", s.listWebhooks)
	v1.Post("/webhooks", s.createWebhook)
	v1.Get("/webhooks/:id", s.getWebhook)
	v1.Patch("/webhooks/:id", s.updateWebhook)
	v1.Delete("/webhooks/:id", s.deleteWebhook)
}

func (s *Server) getWorkspace(c *fiber.Ctx) error {
	w, err := s.Service.Workspace(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(newWorkspaceView(w))
}

func (s *Server) updateWorkspace(c *fiber.Ctx) error {
	var req struct {
		Name          *string `json:"name"`
		RetentionDays *int    `json:"retention_days"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	w, err := s.Service.UpdateWorkspace(c.UserContext(), principal(c), req.Name, req.RetentionDays)
	if err != nil {
		return err
	}
	return c.JSON(newWorkspaceView(w))
}

func (s *Server) createWorkspace(c *fiber.Ctx) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	w, key, err := s.Service.CreateWorkspace(c.UserContext(), principal(c), req.Name)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"workspace": newWorkspaceView(w), "admin_key": key})
}

func (s *Server) listAPIKeys(c *fiber.Ctx) error {
	keys, err := s.Service.APIKeys(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	views := make([]apiKeyView, 0, len(keys))
	for _, k := range keys {
		views = append(views, newAPIKeyView(k, ""))
	}
	return c.JSON(fiber.Map{"api_keys": views})
}

func (s *Server) createAPIKey(c *fiber.Ctx) error {
	var req struct {
		Name  string `json:"name"`
		Admin bool   `json:"admin"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	k, secret, err := s.Service.NewAPIKey(c.UserContext(), principal(c), req.Name, req.Admin)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(newAPIKeyView(k, secret))
}

func (s *Server) revokeAPIKey(c *fiber.Ctx) error {
	if err := s.Service.RevokeAPIKey(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type webhookRequest struct {
	URL    *string  `json:"url"`
	Events []string `json:"events"`
}

func (s *Server) createWebhook(c *fiber.Ctx) error {
	var req webhookRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.URL == nil {
		return media.Errorf(media.EINVALID, "url is required")
	}
	w, err := s.Service.CreateWebhook(c.UserContext(), principal(c), *req.URL, req.Events)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(newWebhookView(w, true))
}

func (s *Server) listWebhooks(c *fiber.Ctx) error {
	hooks, err := s.Service.Webhooks(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	views := make([]webhookView, 0, len(hooks))
	for _, w := range hooks {
		views = append(views, newWebhookView(w, false))
	}
	return c.JSON(fiber.Map{"webhooks": views})
}

func (s *Server) getWebhook(c *fiber.Ctx) error {
	w, err := s.Service.Webhook(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(newWebhookView(w, false))
}

func (s *Server) updateWebhook(c *fiber.Ctx) error {
	var req webhookRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	w, err := s.Service.UpdateWebhook(c.UserContext(), principal(c), c.Params("id"), req.URL, req.Events)
	if err != nil {
		return err
	}
	return c.JSON(newWebhookView(w, false))
}

func (s *Server) deleteWebhook(c *fiber.Ctx) error {
	if err := s.Service.DeleteWebhook(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
