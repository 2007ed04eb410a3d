// Package errs holds the error kinds every service uses and the one table
// that turns them into an HTTP status and the contract's JSON error body.
//
// Domain code returns (or wraps with %w) an *Error; HTTP code calls Response.
// Anything that is not an *Error is our own fault and becomes a 500 whose
// details stay in the log.
package errs

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind says what went wrong from the caller's point of view.
type Kind int

const (
	KindInternal        Kind = iota // our fault: 500, details only in the log
	KindValidation                  // request fields failed their rules: 400, one entry per field
	KindBadRequest                  // a business rule said no, or the request is malformed: 400
	KindNotAuthorized               // no session, or not the owner: 401
	KindNotFound                    // unknown resource or route: 404
	KindConflict                    // the record changed under us (version miss): 409
	KindTooLarge                    // body over the limit: 413
	KindTooManyRequests             // rate limited: 429
	KindPaymentFailed               // the card was declined: 402
	KindUnavailable                 // a dependency is down: 503
)

// Status is the one table from kind to HTTP status.
func (k Kind) Status() int {
	switch k {
	case KindValidation, KindBadRequest:
		return http.StatusBadRequest
	case KindNotAuthorized:
		return http.StatusUnauthorized
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindTooManyRequests:
		return http.StatusTooManyRequests
	case KindPaymentFailed:
		return http.StatusPaymentRequired
	case KindUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// FieldError is one entry of the contract's error body.
type FieldError struct {
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Body is the contract's error body: {"errors":[{"message","field"}]}.
type Body struct {
	Errors []FieldError `json:"errors"`
}

// Error is an error the caller is told about.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError // only for KindValidation
	Err     error        // cause, for the log only
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Kind == KindValidation && len(e.Fields) > 0 {
		msg = e.Fields[0].Field + ": " + e.Fields[0].Message
		if len(e.Fields) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(e.Fields)-1)
		}
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Sentinels shared by every service. Services declare their own rule errors
// with BadRequest and friends and compare them with errors.Is.
var (
	ErrNotAuthorized = &Error{Kind: KindNotAuthorized, Message: "Not authorized"}
	ErrNotFound      = &Error{Kind: KindNotFound, Message: "Not Found"}
	ErrConflict      = &Error{Kind: KindConflict, Message: "The record was changed by someone else, try again"}
	ErrTooLarge      = &Error{Kind: KindTooLarge, Message: "Request body is larger than 1 MiB"}
	ErrBusy          = &Error{Kind: KindUnavailable, Message: "Too many requests right now, try again in a moment"}
)

// BadRequest is a 400 with one message, for a business rule that said no.
func BadRequest(msg string) *Error { return &Error{Kind: KindBadRequest, Message: msg} }

// Validation is a 400 with one entry per failed field.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: KindValidation, Message: "Invalid request", Fields: fields}
}

// New makes an error of any kind with a message for the caller.
func New(kind Kind, msg string) *Error { return &Error{Kind: kind, Message: msg} }

// Wrap keeps kind and message of a caller-facing error and records a cause for the log.
func Wrap(e *Error, cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// Is lets errors.Is(Wrap(ErrX, cause), ErrX) hold: same kind and message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Kind == e.Kind && t.Message == e.Message
}

// Response maps any error to the status and body to send. Errors that are not
// an *Error, and KindInternal ones, hide their details.
func Response(err error) (int, Body) {
	var e *Error
	if !errors.As(err, &e) || e.Kind == KindInternal {
		return http.StatusInternalServerError, Body{Errors: []FieldError{{Message: "Something went wrong"}}}
	}
	if e.Kind == KindValidation && len(e.Fields) > 0 {
		return e.Kind.Status(), Body{Errors: e.Fields}
	}
	return e.Kind.Status(), Body{Errors: []FieldError{{Message: e.Message}}}
}

// IsInternal reports whether err would be answered with a 500, which is what
// must be logged with its details.
func IsInternal(err error) bool {
	var e *Error
	return !errors.As(err, &e) || e.Kind == KindInternal
}

// Refused says that err is a refusal: the write it answers stored nothing
// for certain. A version conflict is one, and so is each of refusals (a
// store's duplicate key, turned into the domain's own error). Any other
// error may hide a write the database took before the answer was lost (the
// caller hung up, a timeout, a dropped connection), so whatever would have
// followed a success (waking the outbox relay) must follow it too.
func Refused(err error, refusals ...error) bool {
	if errors.Is(err, ErrConflict) {
		return true
	}
	for _, r := range refusals {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}
