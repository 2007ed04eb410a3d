package errs

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRetryOnConflict(t *testing.T) {
	other := errors.New("store down")
	exists := errors.New("exists")
	conflict := fmt.Errorf("update v3: %w", ErrConflict)
	tests := []struct {
		name      string
		attempts  int
		results   []error // what each try returns; past the end, nil
		alsoRetry []error
		wantTries int
		wantErr   error
	}{
		{"first try", 5, nil, nil, 1, nil},
		{"after two conflicts", 5, []error{conflict, conflict}, nil, 3, nil},
		{"gives up after attempts", 3, []error{conflict, conflict, conflict, conflict}, nil, 3, ErrConflict},
		{"another error at once", 5, []error{conflict, other}, nil, 2, other},
		{"a sentinel the caller also retries", 5, []error{exists, conflict}, []error{exists}, 3, nil},
		{"that sentinel is not retried unless asked", 5, []error{exists}, nil, 1, exists},
		{"at least one try", 0, []error{conflict}, nil, 1, ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tries := 0
			err := RetryOnConflict(tt.attempts, func() error {
				tries++
				if tries <= len(tt.results) {
					return tt.results[tries-1]
				}
				return nil
			}, tt.alsoRetry...)
			assert.Equal(t, tt.wantTries, tries)
			if tt.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}
