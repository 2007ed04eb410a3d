package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// response is what a call returned: the status and the raw JSON body.
type response struct {
	Status int
	Body   []byte
}

// decode reads the body into out, failing the test on malformed JSON.
func (r response) decode(t require.TestingT, out any) {
	require.NoError(t, json.Unmarshal(r.Body, out), "body %s", r.Body)
}

// firstError is the message of the contract's error body, or "".
func (r response) firstError() string {
	var e struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(r.Body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Message
}

// caller is a person using the API with their own session cookie.
type caller struct {
	cookie string
}

func (c *caller) do(t require.TestingT, method, url string, body any) response {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	for _, ck := range res.Cookies() {
		if ck.Name == "session" {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	return response{Status: res.StatusCode, Body: data}
}

func signUp(t *testing.T, authURL, email string) *caller {
	t.Helper()
	c := &caller{}
	res := c.do(t, http.MethodPost, authURL+"/api/users/signup", map[string]string{"email": email, "password": "secret"})
	require.Equal(t, http.StatusCreated, res.Status, "signup: %s", res.Body)
	require.NotEmpty(t, c.cookie)
	return c
}
