package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"parley/media"
)

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 64 << 10

// readBody returns a copy of the request body, or ETOOLARGE past limit bytes.
// The app streams request bodies, so large ones are refused here with a clear error
// instead of a reset connection.
func readBody(c *fiber.Ctx, limit int) ([]byte, error) {
	if n := c.Request().Header.ContentLength(); n > limit {
		return nil, tooLarge(c, limit)
	}
	var r io.Reader = bytes.NewReader(c.Body())
	if s := c.Context().RequestBodyStream(); s != nil {
		r = s
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, media.Errorf(media.EINVALID, "read request body: %v", err)
	}
	if len(b) > limit {
		return nil, tooLarge(c, limit)
	}
	return b, nil
}

// tooLarge refuses a body and closes the connection: the unread rest of the body must not
// be taken for the next request.
func tooLarge(c *fiber.Ctx, limit int) error {
	c.Context().SetConnectionClose()
	return media.Errorf(media.ETOOLARGE, "request body is larger than %d bytes", limit)
}

// decodeJSON strictly decodes one JSON object into v: unknown fields, trailing data and
// wrong types are client errors.
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return media.Errorf(media.EINVALID, "request body must be a JSON object")
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return media.Errorf(media.EINVALID, "invalid JSON: %s", describeJSONError(err))
	}
	if d.More() {
		return media.Errorf(media.EINVALID, "invalid JSON: unexpected data after the object")
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return media.Errorf(media.EINVALID, "invalid JSON: unexpected data after the object")
	}
	return nil
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type)
	}
	return err.Error()
}

// bindJSON reads and decodes the request's JSON body into v.
func bindJSON(c *fiber.Ctx, v any) error {
	if !isJSON(c.Get(fiber.HeaderContentType)) {
		return media.Errorf(media.EUNSUPPORTED, "Content-Type must be application/json")
	}
	b, err := readBody(c, maxJSONBody)
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

func isJSON(contentType string) bool {
	mt := mediaType(contentType)
	return mt == "application/json" || mt == ""
}

// mediaType returns the lower-case media type of a Content-Type header, without parameters.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
