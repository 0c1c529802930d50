package api

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"parley/media"
)

// statusOf maps domain error codes to HTTP status codes.
var statusOf = map[string]int{
	media.EINVALID:      fiber.StatusBadRequest,
	media.EUNAUTHORIZED: fiber.StatusUnauthorized,
	media.EFORBIDDEN:    fiber.StatusForbidden,
	media.ENOTFOUND:     fiber.StatusNotFound,
	media.ECONFLICT:     fiber.StatusConflict,
	media.EGONE:         fiber.StatusGone,
	media.EPRECONDITION: fiber.StatusPreconditionFailed,
	media.ETOOLARGE:     fiber.StatusRequestEntityTooLarge,
	media.EUNSUPPORTED:  fiber.StatusUnsupportedMediaType,
	media.EPRECONDREQ:   fiber.StatusPreconditionRequired,
	media.EUNAVAILABLE:  fiber.StatusServiceUnavailable,
	media.EINTERNAL:     fiber.StatusInternalServerError,
}

// fiberCodes names the errors fiber itself raises (unknown route, wrong method, ...).
var fiberCodes = map[int]string{
	fiber.StatusNotFound:              media.ENOTFOUND,
	fiber.StatusMethodNotAllowed:      "method_not_allowed",
	fiber.StatusRequestEntityTooLarge: media.ETOOLARGE,
	fiber.StatusUnsupportedMediaType:  media.EUNSUPPORTED,
	fiber.StatusRequestTimeout:        "timeout",
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// errorHandler is the one place errors become HTTP responses: {"error":{"code","message"}}.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, body := errorResponse(err)
		if status >= 500 {
			log.Error("request", "method", c.Method(), "path", c.Path(), "err", err)
		}
		if status == fiber.StatusServiceUnavailable {
			c.Set(fiber.HeaderRetryAfter, "5")
		}
		return c.Status(status).JSON(body)
	}
}

func errorResponse(err error) (int, errorBody) {
	var b errorBody
	var fe *fiber.Error
	if errors.As(err, &fe) {
		b.Error.Code, b.Error.Message = fiberCode(fe.Code), fe.Message
		return fe.Code, b
	}
	b.Error.Code, b.Error.Message = media.ErrorCode(err), media.ErrorMessage(err)
	return statusOf[b.Error.Code], b
}

func fiberCode(status int) string {
	if code, ok := fiberCodes[status]; ok {
		return code
	}
	if status >= 500 {
		return media.EINTERNAL
	}
	return media.EINVALID
}
