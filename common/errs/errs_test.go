package errs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ticketing/common/errs"
)

func TestResponse(t *testing.T) {
	ruleErr := errs.BadRequest("Ticket is already reserved")
	tests := []struct {
		name   string
		err    error
		status int
		want   []errs.FieldError
	}{
		{"plain error is ours and hidden", errors.New("mongo: connection refused"), 500, []errs.FieldError{{Message: "Something went wrong"}}},
		{"internal kind is hidden", &errs.Error{Kind: errs.KindInternal, Message: "secret detail"}, 500, []errs.FieldError{{Message: "Something went wrong"}}},
		{"business rule", ruleErr, 400, []errs.FieldError{{Message: "Ticket is already reserved"}}},
		{"wrapped business rule", fmt.Errorf("reserve: %w", ruleErr), 400, []errs.FieldError{{Message: "Ticket is already reserved"}}},
		{"validation", errs.Validation(errs.FieldError{Message: "Title is required", Field: "title"}), 400,
			[]errs.FieldError{{Message: "Title is required", Field: "title"}}},
		{"not authorized", errs.ErrNotAuthorized, 401, []errs.FieldError{{Message: "Not authorized"}}},
		{"not found", fmt.Errorf("ticket x: %w", errs.ErrNotFound), 404, []errs.FieldError{{Message: "Not Found"}}},
		{"conflict with cause", errs.Wrap(errs.ErrConflict, errors.New("version 3")), 409, []errs.FieldError{{Message: errs.ErrConflict.Message}}},
		{"too large", errs.ErrTooLarge, 413, []errs.FieldError{{Message: "Request body is larger than 1 MiB"}}},
		{"rate limited", errs.New(errs.KindTooManyRequests, "Too many attempts, try again later"), 429, []errs.FieldError{{Message: "Too many attempts, try again later"}}},
		{"declined", errs.New(errs.KindPaymentFailed, "Your card was declined."), 402, []errs.FieldError{{Message: "Your card was declined."}}},
		{"unavailable", errs.New(errs.KindUnavailable, "Try again soon"), 503, []errs.FieldError{{Message: "Try again soon"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := errs.Response(tt.err)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.want, body.Errors)
			assert.Equal(t, tt.status == 500, errs.IsInternal(tt.err))
		})
	}
}

func TestWrapKeepsIdentity(t *testing.T) {
	cause := errors.New("matched 0")
	w := errs.Wrap(errs.ErrConflict, cause)
	assert.ErrorIs(t, w, errs.ErrConflict)
	assert.ErrorIs(t, w, cause)
	assert.NotErrorIs(t, w, errs.ErrNotFound)
	assert.Nil(t, errs.ErrConflict.Err, "the sentinel itself is not changed")
}

func TestRefused(t *testing.T) {
	taken := errors.New("ticket taken")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a version conflict", fmt.Errorf("update: %w", errs.ErrConflict), true},
		{"one of the refusals named", fmt.Errorf("insert: %w", taken), true},
		{"a refusal wrapped in the domain's error", errs.Wrap(errs.BadRequest("Ticket is already reserved"), taken), true},
		{"a lost answer", fmt.Errorf("update: %w", context.Canceled), false},
		{"another store failure", errors.New("connection reset"), false},
		{"no error", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errs.Refused(tt.err, taken))
		})
	}
}
