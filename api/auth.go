package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"parley/media"
)

const principalKey = "parley.principal"

// authenticate resolves the bearer token and stores the principal for the handlers.
func (s *Server) authenticate(c *fiber.Ctx) error {
	p, err := s.Service.Authenticate(c.UserContext(), bearer(c.Get(fiber.HeaderAuthorization)))
	if err != nil {
		return err
	}
	c.Locals(principalKey, p)
	return c.Next()
}

// bearer extracts the token from an Authorization header ("" if none).
func bearer(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func principal(c *fiber.Ctx) media.Principal {
	p, _ := c.Locals(principalKey).(media.Principal)
	return p
}
