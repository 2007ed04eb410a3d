package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLargeBodyOverTheWire sends 2 MiB bodies to a real server, as the
// ingress passes them on: each is refused with the JSON 413 at once (not a
// 500, not a reset connection, not a wait for a timeout), whether the
// client announced its length or not.
func TestLargeBodyOverTheWire(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.engine)
	t.Cleanup(srv.Close)
	big := `{"email":"` + strings.Repeat("x", 2<<20) + `"}`

	tests := []struct {
		name    string
		chunked bool
	}{
		{"with Content-Length", false},
		{"chunked", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 5 {
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/open", strings.NewReader(big))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/json")
				if tt.chunked {
					req.ContentLength = -1
					req.Body = io.NopCloser(strings.NewReader(big))
				}
				start := time.Now()
				resp, err := srv.Client().Do(req)
				require.NoError(t, err, "request %d", i)
				body, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				require.NoError(t, err)
				took := time.Since(start)
				assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(body))
				assert.JSONEq(t, `{"errors":[{"message":"Request body is larger than 1 MiB"}]}`, string(body))
				assert.Less(t, took, 5*time.Second, "refused at once")
				if i == 0 {
					t.Logf("refused in %s", took)
				}
			}
		})
	}
}
