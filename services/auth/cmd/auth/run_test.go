package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"golang.org/x/crypto/scrypt"

	"github.com/ticketing/common/session"
	"github.com/ticketing/common/testkit"
)

const jwtKey = "auth-test-key"

type authServer struct {
	url  string
	logs *testkit.LogBuffer
	db   *mongo.Database
}

// startAuth runs the real service (run, as main calls it) on a fresh database.
func startAuth(t *testing.T, extra map[string]string) *authServer {
	t.Helper()
	db := testkit.MongoDB(t)
	env := map[string]string{"PORT": "0", "MONGO_URI": testkit.MongoURI(t, db.Name()), "JWT_KEY": jwtKey, "LOG_LEVEL": "debug"}
	for k, v := range extra {
		env[k] = v
	}
	svc := testkit.RunService(t, "auth", run, env)
	return &authServer{url: svc.URL, logs: svc.Logs, db: db}
}

type response struct {
	status  int
	body    string
	cookies []string
}

func (s *authServer) do(t *testing.T, method, path, body string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, body: string(b), cookies: resp.Header.Values("Set-Cookie")}
}

// sessionCookie turns a Set-Cookie into the Cookie header a browser would send back.
func sessionCookie(t *testing.T, r response) http.Header {
	t.Helper()
	require.Len(t, r.cookies, 1, r.body)
	nameValue, _, _ := strings.Cut(r.cookies[0], ";")
	return http.Header{"Cookie": {nameValue}}
}

func TestAuthFlow(t *testing.T) {
	s := startAuth(t, nil)

	signup := s.do(t, "POST", "/api/users/signup", `{"email":" buyer@test.dev ","password":" pass1 "}`, nil)
	require.Equal(t, 201, signup.status, signup.body)
	var created struct{ ID, Email string }
	require.NoError(t, json.Unmarshal([]byte(signup.body), &created))
	assert.Regexp(t, `^[0-9a-f]{24}$`, created.ID)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"email":"buyer@test.dev"}`, created.ID), signup.body, "user only, never the password")
	require.Len(t, signup.cookies, 1)
	assert.Regexp(t, `^session=[A-Za-z0-9+/=]+; Path=/; HttpOnly; SameSite=Lax$`, signup.cookies[0])
	cookie := sessionCookie(t, signup)

	cu := s.do(t, "GET", "/api/users/currentuser", "", cookie)
	require.Equal(t, 200, cu.status)
	var current struct {
		CurrentUser map[string]any `json:"currentUser"`
	}
	require.NoError(t, json.Unmarshal([]byte(cu.body), &current))
	assert.Equal(t, created.ID, current.CurrentUser["id"])
	assert.Equal(t, "buyer@test.dev", current.CurrentUser["email"])
	iat, exp := current.CurrentUser["iat"].(float64), current.CurrentUser["exp"].(float64)
	assert.InDelta(t, 24*3600, exp-iat, 1, "exp = iat + 24h by default")

	out := s.do(t, "POST", "/api/users/signout", "", cookie)
	assert.Equal(t, 200, out.status)
	assert.JSONEq(t, `{}`, out.body)
	require.Len(t, out.cookies, 1)
	assert.Contains(t, out.cookies[0], "session=;")
	assert.Contains(t, out.cookies[0], "Max-Age=0")
	assert.Contains(t, out.cookies[0], "Expires=Thu, 01 Jan 1970 00:00:00 GMT")

	cu = s.do(t, "GET", "/api/users/currentuser", "", nil)
	assert.JSONEq(t, `{"currentUser":null}`, cu.body)

	in := s.do(t, "POST", "/api/users/signin", `{"email":"buyer@test.dev","password":"pass1"}`, nil)
	require.Equal(t, 200, in.status, in.body)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"email":"buyer@test.dev"}`, created.ID), in.body)
	cu = s.do(t, "GET", "/api/users/currentuser", "", sessionCookie(t, in))
	assert.Contains(t, cu.body, created.ID)

	secure := s.do(t, "POST", "/api/users/signin", `{"email":"buyer@test.dev","password":"pass1"}`,
		http.Header{"X-Forwarded-Proto": {"https"}})
	require.Len(t, secure.cookies, 1)
	assert.Contains(t, secure.cookies[0], "; Secure", "Secure behind an HTTPS ingress")

	assert.NotContains(t, s.logs.String(), "pass1", "passwords never reach the log")
}

func TestAuthRefusals(t *testing.T) {
	s := startAuth(t, nil)
	first := s.do(t, "POST", "/api/users/signup", `{"email":"taken@test.dev","password":"pass1"}`, nil)
	require.Equal(t, 201, first.status, first.body)

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		want   string
	}{
		{"email in use", "POST", "/api/users/signup", `{"email":"taken@test.dev","password":"other"}`, 400,
			`{"errors":[{"message":"Email in use"}]}`},
		{"wrong password", "POST", "/api/users/signin", `{"email":"taken@test.dev","password":"nope1"}`, 400,
			`{"errors":[{"message":"Invalid credentials"}]}`},
		{"unknown email", "POST", "/api/users/signin", `{"email":"ghost@test.dev","password":"pass1"}`, 400,
			`{"errors":[{"message":"Invalid credentials"}]}`},
		{"signup bad email and short password", "POST", "/api/users/signup", `{"email":"nope","password":"abc"}`, 400,
			`{"errors":[{"message":"Email must be valid","field":"email"},{"message":"Password must be between 4 and 20 characters","field":"password"}]}`},
		{"signup password too long after trim", "POST", "/api/users/signup", `{"email":"x@test.dev","password":"  123456789012345678901  "}`, 400,
			`{"errors":[{"message":"Password must be between 4 and 20 characters","field":"password"}]}`},
		{"signin blank password", "POST", "/api/users/signin", `{"email":"taken@test.dev","password":"   "}`, 400,
			`{"errors":[{"message":"You must supply a password","field":"password"}]}`},
		{"signin password as number", "POST", "/api/users/signin", `{"email":"taken@test.dev","password":1234}`, 400,
			`{"errors":[{"message":"You must supply a password","field":"password"}]}`},
		{"malformed json", "POST", "/api/users/signup", `{"email":`, 400,
			`{"errors":[{"message":"Request body is not valid JSON"}]}`},
		{"2 MiB body", "POST", "/api/users/signup", `{"email":"` + strings.Repeat("a", 2<<20) + `"}`, 413,
			`{"errors":[{"message":"Request body is larger than 1 MiB"}]}`},
		{"unknown route", "GET", "/api/users/nothing", "", 404, `{"errors":[{"message":"Not Found"}]}`},
		{"unknown method", "DELETE", "/api/users/signup", "", 404, `{"errors":[{"message":"Not Found"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, tt.method, tt.path, tt.body, nil)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
			assert.Empty(t, r.cookies, "a refusal sets no cookie")
		})
	}
}

func TestSessionsFromElsewhere(t *testing.T) {
	s := startAuth(t, nil)
	id := primitive.NewObjectID().Hex()
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		require.NoError(t, err)
		return tok
	}
	now := time.Now().Unix()
	node := jwt.MapClaims{"id": id, "email": "node@test.dev", "iat": now}
	tests := []struct {
		name   string
		cookie string
		signed bool
	}{
		{"node edition cookie", "session=" + session.EncodeCookieValue(sign(jwt.SigningMethodHS256, []byte(jwtKey), node)), true},
		{"node edition legacy name", "express:sess=" + session.EncodeCookieValue(sign(jwt.SigningMethodHS256, []byte(jwtKey), node)), true},
		{"another key", "session=" + session.EncodeCookieValue(sign(jwt.SigningMethodHS256, []byte("other"), node)), false},
		{"alg none", "session=" + session.EncodeCookieValue(sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, node)), false},
		{"expired", "session=" + session.EncodeCookieValue(sign(jwt.SigningMethodHS256, []byte(jwtKey),
			jwt.MapClaims{"id": id, "email": "node@test.dev", "iat": now - 7200, "exp": now - 3600})), false},
		{"malformed token", "session=" + session.EncodeCookieValue("x.y.z"), false},
		{"garbage base64", "session=!!!notbase64", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, "GET", "/api/users/currentuser", "", http.Header{"Cookie": {tt.cookie}})
			require.Equal(t, 200, r.status, "never a 5xx for a bad cookie")
			if tt.signed {
				assert.Contains(t, r.body, id)
			} else {
				assert.JSONEq(t, `{"currentUser":null}`, r.body)
			}
		})
	}
}

func TestNodeEditionPasswordHashSignsIn(t *testing.T) {
	s := startAuth(t, nil)
	// Build the stored hash independently, exactly as the Node edition does.
	salt := "0123456789abcdef"
	key, err := scrypt.Key([]byte("legacy-pass"), []byte(salt), 16384, 8, 1, 64)
	require.NoError(t, err)
	_, err = s.db.Collection("users").InsertOne(context.Background(), bson.M{
		"_id": primitive.NewObjectID(), "email": "old@test.dev", "password": hex.EncodeToString(key) + "." + salt,
	})
	require.NoError(t, err)

	r := s.do(t, "POST", "/api/users/signin", `{"email":"old@test.dev","password":"legacy-pass"}`, nil)
	assert.Equal(t, 200, r.status, r.body)
	r = s.do(t, "POST", "/api/users/signin", `{"email":"old@test.dev","password":"legacy-pasS"}`, nil)
	assert.Equal(t, 400, r.status, r.body)
}

func TestRacingSignUpsOneEmail(t *testing.T) {
	s := startAuth(t, nil)
	const racers = 8
	statuses := make(chan int, racers)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			statuses <- s.do(t, "POST", "/api/users/signup", `{"email":"race@test.dev","password":"pass1"}`, nil).status
		}()
	}
	start.Done()
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	assert.Equal(t, map[int]int{201: 1, 400: racers - 1}, count)
}

func TestSignInBruteForceIsSlowed(t *testing.T) {
	s := startAuth(t, map[string]string{"SIGNIN_MAX_FAILURES_PER_EMAIL": "3"})
	require.Equal(t, 201, s.do(t, "POST", "/api/users/signup", `{"email":"target@test.dev","password":"pass1"}`, nil).status)
	for i := 0; i < 3; i++ {
		require.Equal(t, 400, s.do(t, "POST", "/api/users/signin", `{"email":"target@test.dev","password":"guess"}`, nil).status)
	}
	r := s.do(t, "POST", "/api/users/signin", `{"email":"target@test.dev","password":"pass1"}`, nil)
	assert.Equal(t, 429, r.status)
	assert.JSONEq(t, `{"errors":[{"message":"Too many attempts, try again later"}]}`, r.body)
}

func TestConfigNamesEveryMissingVariable(t *testing.T) {
	err := run(context.Background(), func(k string) string {
		if k == "SESSION_TTL" {
			return "soon"
		}
		return ""
	}, io.Discard)
	require.Error(t, err)
	for _, name := range []string{"MONGO_URI", "JWT_KEY", "SESSION_TTL"} {
		assert.Contains(t, err.Error(), name)
	}
}
