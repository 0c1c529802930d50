package media

import (
	"errors"
	"fmt"
)

// Error codes carried by domain errors. The HTTP layer maps each to a status.
const (
	EINVALID      = "invalid"               // the request is malformed or breaks a rule
	ENOTFOUND     = "not_found"             // the thing does not exist (or is not visible)
	EUNAUTHORIZED = "unauthorized"          // no valid credentials
	EFORBIDDEN    = "forbidden"             // credentials valid, action not allowed
	ECONFLICT     = "conflict"              // the state does not allow the change
	ETOOLARGE     = "too_large"             // a body or upload exceeds a limit
	EUNSUPPORTED  = "unsupported"           // media type, codec or feature not supported
	EGONE         = "gone"                  // expired, revoked or exhausted
	EUNAVAILABLE  = "unavailable"           // temporarily over capacity; try again later
	EPRECONDITION = "precondition"          // a conditional request did not match
	EPRECONDREQ   = "precondition_required" // the request must be conditional (If-Match missing)
	EINTERNAL     = "internal"              // anything else; never a client mistake
)

// Error is a domain error with a machine-readable code and a message fit for users.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns a domain error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first domain error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a generic one.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err carries ENOTFOUND.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
