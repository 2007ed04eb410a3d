package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolvePorts(t *testing.T) {
	parts := []part{{name: "mongo", defPort: 27017}, {name: "redis", defPort: 6379}, {name: "auth", defPort: 3001}}
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    map[string]int // 0: any free port
		wantErr string
	}{
		{
			name: "fixed defaults",
			want: map[string]int{"mongo": 27017, "redis": 6379, "auth": 3001},
		},
		{
			name: "flag beats env beats default",
			args: []string{"--mongo-port", "1111"},
			env:  map[string]string{"LOCAL_MONGO_PORT": "2222", "LOCAL_REDIS_PORT": "3333"},
			want: map[string]int{"mongo": 1111, "redis": 3333, "auth": 3001},
		},
		{
			name: "ephemeral picks free ports but keeps flags and ignores env",
			args: []string{"--ephemeral", "--auth-port", "4444"},
			env:  map[string]string{"LOCAL_MONGO_PORT": "2222"},
			want: map[string]int{"mongo": 0, "redis": 0, "auth": 4444},
		},
		{
			name:    "malformed env is an error naming the variable",
			env:     map[string]string{"LOCAL_REDIS_PORT": "six"},
			wantErr: `LOCAL_REDIS_PORT="six" is not a port number`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, help, err := parseUpFlags(tt.args, io.Discard)
			require.NoError(t, err)
			require.False(t, help)
			got, err := resolvePorts(cfg, parts, env(tt.env))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(tt.want))
			for name, want := range tt.want {
				if want == 0 {
					assert.Positive(t, got[name], name)
					assert.NotContains(t, []int{2222, 27017, 6379}, got[name], name)
					continue
				}
				assert.Equal(t, want, got[name], name)
			}
		})
	}
}

func TestParseUpFlagsRejectsDataWithEphemeral(t *testing.T) {
	_, _, err := parseUpFlags([]string{"--ephemeral", "--data", "x"}, io.Discard)
	require.ErrorContains(t, err, "--data and --ephemeral")
}

func testFleet() *fleet {
	return &fleet{
		dataDir:  "/tmp/d",
		ports:    map[string]int{"mongo": 1, "nats": 2, "nats-monitor": 3, "redis": 4, "stripe-mock": 5, "auth": 6},
		jwtKey:   "k",
		services: []service{{name: "auth", port: 3001}},
	}
}

func TestServiceEnv(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"PATH": "/bin", "EXPIRATION_WINDOW_SECONDS": "15", "SECRET": "x"}[k]
	}
	envFn := testFleet().serviceEnv(service{name: "auth", port: 3001}, "auth", getenv)
	first, second := envMap(envFn()), envMap(envFn())

	want := map[string]string{
		"PATH":                      "/bin",
		"PORT":                      "6",
		"MONGO_URI":                 "mongodb://127.0.0.1:1/auth?maxPoolSize=1",
		"NATS_URL":                  "nats://127.0.0.1:2",
		"NATS_CLUSTER_ID":           "ticketing",
		"JWT_KEY":                   "k",
		"REDIS_URL":                 "redis://127.0.0.1:4",
		"STRIPE_KEY":                "sk_test_123",
		"STRIPE_API_BASE":           "http://127.0.0.1:5",
		"EXPIRATION_WINDOW_SECONDS": "15",
		"COOKIE_SECURE":             "false",
		"EVENT_BUS":                 "stan",
		// Sized for the local store's one connection, next to maxPoolSize=1.
		"HTTP_MAX_IN_FLIGHT":    "8",
		"HTTP_QUEUE_TIMEOUT":    "2m0s",
		"OUTBOX_RELAY_WORKERS":  "16",
		"OUTBOX_SWEEP_INTERVAL": "1h",
	}
	clientID := first["NATS_CLIENT_ID"]
	delete(first, "NATS_CLIENT_ID")
	assert.Equal(t, want, first, "the launcher's other variables (SECRET) stay out")
	assert.True(t, strings.HasPrefix(clientID, "auth-"), clientID)
	assert.NotEqual(t, clientID, second["NATS_CLIENT_ID"], "each start needs its own NATS client id")
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestExports(t *testing.T) {
	var names []string
	for _, v := range testFleet().exports() {
		names = append(names, v.name)
	}
	assert.Equal(t, []string{
		"TEST_MONGO_URI", "TEST_NATS_URL", "TEST_REDIS_ADDR", "TEST_REDIS_URL", "TEST_STRIPE_API_BASE",
		"AUTH_URL", "JWT_KEY", "LOCAL_DATA_DIR",
	}, names)
	assert.Equal(t, "export TEST_MONGO_URI='mongodb://127.0.0.1:1/?maxPoolSize=1'\n",
		formatExports(testFleet().exports()[:1]))
}

func TestFrontExportsAndSummary(t *testing.T) {
	tests := []struct {
		name                  string
		withNginx, withClient bool
		wantVars              map[string]string
		wantLast              string
	}{
		{
			name:      "nginx and the client",
			withNginx: true, withClient: true,
			wantVars: map[string]string{"APP_URL": "http://127.0.0.1:8", "CLIENT_URL": "http://127.0.0.1:7"},
			wantLast: "Open http://localhost:8 in a browser.",
		},
		{
			name:      "--no-client",
			withNginx: true,
			wantVars:  map[string]string{"APP_URL": "http://127.0.0.1:8"},
			wantLast:  "The API answers at http://localhost:8/api/... (no web client: --no-client).",
		},
		{
			name:     "--deps-only",
			wantVars: map[string]string{},
			wantLast: "stripe-mock  http://127.0.0.1:5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := testFleet()
			f.ports["client"], f.ports["nginx"] = 7, 8
			f.withNginx, f.withClient = tt.withNginx, tt.withClient
			got := map[string]string{}
			for _, v := range f.exports() {
				if v.name == "APP_URL" || v.name == "CLIENT_URL" {
					got[v.name] = v.value
				}
			}
			assert.Equal(t, tt.wantVars, got)
			lines := strings.Split(strings.TrimSpace(f.summary()), "\n")
			assert.Equal(t, tt.wantLast, strings.TrimSpace(lines[len(lines)-1]))
		})
	}
}

func TestClientEnv(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"PATH": "/bin", "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY": "pk_test_1", "EXPIRATION_WINDOW_SECONDS": "5", "JWT_KEY": "secret", "SECRET": "x"}[k]
	}
	f := testFleet()
	f.ports["client"], f.ports["nginx"] = 7, 8
	assert.Equal(t, map[string]string{
		"PATH":                               "/bin",
		"NODE_ENV":                           "production",
		"NEXT_TELEMETRY_DISABLED":            "1",
		"PORT":                               "7",
		"HOSTNAME":                           "127.0.0.1",
		"API_INTERNAL_URL":                   "http://127.0.0.1:8",
		"NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY": "pk_test_1",
		"EXPIRATION_WINDOW_SECONDS":          "5",
	}, envMap(f.clientEnv(getenv)()), "the client reaches the API through nginx and gets no secrets")
}

func TestUpFlagsForTheFront(t *testing.T) {
	cfg, help, err := parseUpFlags([]string{"--no-client", "--nginx-port", "9090", "--ingress", "x.yaml", "--client-dir", "web"}, io.Discard)
	require.NoError(t, err)
	require.False(t, help)
	assert.True(t, cfg.noClient)
	assert.Equal(t, "x.yaml", cfg.ingress)
	assert.Equal(t, "web", cfg.clientDir)
	assert.Equal(t, 9090, *cfg.portFlags["nginx"])
	assert.Equal(t, 0, *cfg.portFlags["client"], "--client-port exists too")

	cfg, _, err = parseUpFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "infra/k8s/base/ingress.yaml", cfg.ingress)
	assert.Equal(t, "client", cfg.clientDir)
}

func TestLauncherAlive(t *testing.T) {
	start := func(t *testing.T, name string, args ...string) int {
		cmd := exec.Command(name, args...)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		pid := cmd.Process.Pid
		// Just after exec, /proc shows an empty command line for a moment.
		waitFor(t, 5*time.Second, "the command line in /proc", func() bool {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			return err == nil && len(b) > 0
		})
		return pid
	}
	tests := []struct {
		name string
		pid  func(t *testing.T) int
		want bool
	}{
		// "; :" stops sh from exec'ing sleep in its place, which would
		// change the command line under the test.
		{"a running launcher", func(t *testing.T) int { return start(t, "sh", "-c", "sleep 30; :", "local", "up") }, true},
		{"an unrelated process that reused the pid", func(t *testing.T) int { return start(t, "sleep", "30") }, false},
		{"no such process", func(t *testing.T) int {
			cmd := exec.Command("true")
			require.NoError(t, cmd.Run())
			return cmd.Process.Pid
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, launcherAlive(tt.pid(t)))
		})
	}
}
