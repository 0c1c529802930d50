package api

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"

	"parley/media"
)

func TestErrorResponse(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"invalid", media.Errorf(media.EINVALID, "bad title"), 400, "invalid", "bad title"},
		{"wrapped not found", fmt.Errorf("get clip: %w", media.Errorf(media.ENOTFOUND, "clip x not found")), 404, "not_found", "clip x not found"},
		{"unauthorized", media.Errorf(media.EUNAUTHORIZED, "no"), 401, "unauthorized", "no"},
		{"forbidden", media.Errorf(media.EFORBIDDEN, "no"), 403, "forbidden", "no"},
		{"conflict", media.Errorf(media.ECONFLICT, "no"), 409, "conflict", "no"},
		{"gone", media.Errorf(media.EGONE, "expired"), 410, "gone", "expired"},
		{"precondition", media.Errorf(media.EPRECONDITION, "etag"), 412, "precondition", "etag"},
		{"precondition required", media.Errorf(media.EPRECONDREQ, "if-match"), 428, "precondition_required", "if-match"},
		{"too large", media.Errorf(media.ETOOLARGE, "big"), 413, "too_large", "big"},
		{"unsupported", media.Errorf(media.EUNSUPPORTED, "codec"), 415, "unsupported", "codec"},
		{"unavailable", media.Errorf(media.EUNAVAILABLE, "full"), 503, "unavailable", "full"},
		{"plain error hides detail", errors.New("dial tcp: secret host"), 500, "internal", "internal error"},
		{"fiber route", fiber.ErrNotFound, 404, "not_found", "Not Found"},
		{"fiber method", fiber.ErrMethodNotAllowed, 405, "method_not_allowed", "Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := errorResponse(tt.err)
			got := []any{status, body.Error.Code, body.Error.Message}
			want := []any{tt.wantStatus, tt.wantCode, tt.wantMsg}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errorResponse (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryCodeHasStatus keeps the mapper complete as codes are added.
func TestEveryCodeHasStatus(t *testing.T) {
	for _, code := range []string{media.EINVALID, media.ENOTFOUND, media.EUNAUTHORIZED, media.EFORBIDDEN,
		media.ECONFLICT, media.ETOOLARGE, media.EUNSUPPORTED, media.EGONE, media.EUNAVAILABLE,
		media.EPRECONDITION, media.EPRECONDREQ, media.EINTERNAL} {
		if statusOf[code] == 0 {
			t.Errorf("code %q has no HTTP status", code)
		}
	}
}
