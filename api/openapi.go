package api

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPI describes every route of the app (OpenAPI 3.1); a test keeps the two in step.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) openAPIDoc(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(openAPI)
}
