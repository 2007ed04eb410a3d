package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureProxy is what testdata/ingress.yaml's annotations say.
var fixtureProxy = proxySettings{bodySize: "8m", readTimeout: 180, nextUpstream: "off"}

func TestParseIngress(t *testing.T) {
	fixture, err := os.ReadFile("testdata/ingress.yaml")
	require.NoError(t, err)

	const head = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: x\n"
	tests := []struct {
		name    string
		yaml    string
		want    []ingressRoute
		wantErr string
	}{
		{
			name: "the fixture, in manifest order",
			yaml: string(fixture),
			want: []ingressRoute{
				{host: "ticketing.dev", path: "/api/users", pathType: "Prefix", service: "auth", proxy: fixtureProxy},
				{host: "ticketing.dev", path: "/api/tickets", pathType: "Prefix", service: "tickets", proxy: fixtureProxy},
				{host: "ticketing.dev", path: "/api/orders", pathType: "Prefix", service: "orders", proxy: fixtureProxy},
				{host: "ticketing.dev", path: "/api/payments", pathType: "Prefix", service: "payments", proxy: fixtureProxy},
				{host: "ticketing.dev", path: "/", pathType: "Prefix", service: "client", proxy: fixtureProxy},
			},
		},
		{
			name: "other kinds in a multi-document file are skipped",
			yaml: "apiVersion: v1\nkind: Service\nmetadata:\n  name: auth\n---\n" + head +
				"spec:\n  rules:\n    - http:\n        paths:\n          - path: /x\n            pathType: Exact\n            backend:\n              service:\n                name: a\n",
			want: []ingressRoute{{path: "/x", pathType: "Exact", service: "a", proxy: defaultProxy}},
		},
		{
			name:    "a body size nginx would not read",
			yaml:    head + "  annotations:\n    nginx.ingress.kubernetes.io/proxy-body-size: 2 MB\nspec: {}\n",
			wantErr: `proxy-body-size "2 MB" is not a size`,
		},
		{
			name:    "a read timeout that is no number of seconds",
			yaml:    head + "  annotations:\n    nginx.ingress.kubernetes.io/proxy-read-timeout: 3m\nspec: {}\n",
			wantErr: `proxy-read-timeout "3m" is not a positive number of seconds`,
		},
		{
			name:    "a retry condition nginx does not know",
			yaml:    head + "  annotations:\n    nginx.ingress.kubernetes.io/proxy-next-upstream: always\nspec: {}\n",
			wantErr: `proxy-next-upstream "always" is not off or a list`,
		},
		{
			name: "retry conditions and a timeout pass through",
			yaml: head + "  annotations:\n    nginx.ingress.kubernetes.io/proxy-next-upstream: error timeout http_502\n    nginx.ingress.kubernetes.io/proxy-read-timeout: \"5\"\n" +
				"spec:\n  rules:\n    - http:\n        paths:\n          - path: /x\n            pathType: Exact\n            backend:\n              service:\n                name: a\n",
			want: []ingressRoute{{path: "/x", pathType: "Exact", service: "a", proxy: proxySettings{bodySize: "1m", readTimeout: 5, nextUpstream: "error timeout http_502"}}},
		},
		{
			name:    "a backend name that is no Kubernetes service name",
			yaml:    head + "spec:\n  rules:\n    - http:\n        paths:\n          - path: /x\n            pathType: Prefix\n            backend:\n              service:\n                name: \"a b;\"\n",
			wantErr: `backend service "a b;" is not a Kubernetes service name`,
		},
		{
			name:    "no Ingress at all",
			yaml:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: auth\n",
			wantErr: "no Ingress paths found",
		},
		{
			name:    "an old apiVersion",
			yaml:    "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: old\n",
			wantErr: `apiVersion "extensions/v1beta1"`,
		},
		{
			name:    "a resource backend",
			yaml:    head + "spec:\n  rules:\n    - http:\n        paths:\n          - path: /x\n            pathType: Prefix\n            backend:\n              resource:\n                kind: Bucket\n",
			wantErr: `path "/x": backend has no service name`,
		},
		{
			name:    "a missing pathType",
			yaml:    head + "spec:\n  rules:\n    - http:\n        paths:\n          - path: /x\n            backend:\n              service:\n                name: a\n",
			wantErr: `pathType ""`,
		},
		{
			name:    "a path that would break the config",
			yaml:    head + "spec:\n  rules:\n    - http:\n        paths:\n          - path: \"/x; }\"\n            pathType: Prefix\n            backend:\n              service:\n                name: a\n",
			wantErr: "a path must start with /",
		},
		{
			name:    "a rewrite annotation changes what paths mean",
			yaml:    head + "  annotations:\n    nginx.ingress.kubernetes.io/rewrite-target: /$2\nspec:\n  rules:\n    - http:\n        paths:\n          - path: /x\n            pathType: Prefix\n            backend:\n              service:\n                name: a\n",
			wantErr: "rewrite-target is not supported",
		},
		{
			name:    "not YAML",
			yaml:    "kind: [",
			wantErr: "document 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIngress([]byte(tt.yaml))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNginxLocations(t *testing.T) {
	tests := []struct {
		pathType, path string
		want           []string
	}{
		{"Prefix", "/", []string{"/"}},
		{"Prefix", "/api/users", []string{"= /api/users", "/api/users/"}},
		{"Prefix", "/api/users/", []string{"= /api/users", "/api/users/"}},
		{"Exact", "/healthz", []string{"= /healthz"}},
		{"ImplementationSpecific", "/static", []string{"/static"}},
	}
	for _, tt := range tests {
		t.Run(tt.pathType+" "+tt.path, func(t *testing.T) {
			assert.Equal(t, tt.want, nginxLocations(ingressRoute{path: tt.path, pathType: tt.pathType}))
		})
	}
}

func TestRenderNginx(t *testing.T) {
	fixture, err := os.ReadFile("testdata/ingress.yaml")
	require.NoError(t, err)
	routes, err := parseIngress(fixture)
	require.NoError(t, err)
	all := map[string][]int{"auth": {3001}, "tickets": {3002, 3012}, "orders": {3003}, "payments": {3005}, "client": {3000}}

	tests := []struct {
		name        string
		routes      []ingressRoute
		settings    nginxSettings
		contains    []string
		notContains []string
		missing     []string
		wantErr     string
	}{
		{
			name:     "every backend running",
			routes:   routes,
			settings: nginxSettings{port: 8080, dir: "/d/nginx", backends: all, source: "ingress.yaml", workerConnections: 21600, openFiles: 22624},
			contains: []string{
				"# Generated by bin/local from ingress.yaml",
				"daemon off;\nworker_processes auto;\nworker_rlimit_nofile 22624;\npid",
				"events {\n    worker_connections 21600;\n    multi_accept on;\n}",
				// Keep-alive to every backend: HTTP/1.1, no Connection
				// header passed on unless upgrading, idle connections kept.
				"proxy_http_version 1.1;",
				"proxy_set_header Connection $connection_upgrade;",
				"map $http_upgrade $connection_upgrade {\n        default upgrade;\n        \"\" \"\";\n    }",
				"upstream auth {\n        server 127.0.0.1:3001;\n        keepalive 320;\n        keepalive_requests 10000;\n        keepalive_timeout 60s;\n    }",
				"upstream client {\n        server 127.0.0.1:3000;\n        keepalive 320;",
				// Two copies of tickets (up --replicas 2): one server each.
				"upstream tickets {\n        server 127.0.0.1:3002;\n        server 127.0.0.1:3012;\n        keepalive 320;",
				`pid "/d/nginx/nginx.pid";`,
				`proxy_temp_path "/d/nginx/proxy_temp";`,
				"listen 127.0.0.1:8080 default_server;\n        server_name ticketing.dev;",
				"location = /api/users {\n            client_max_body_size 8m;\n            proxy_read_timeout 180s;\n            proxy_next_upstream off;\n            proxy_pass http://auth;\n        }",
				"location /api/users/ {\n            client_max_body_size 8m;\n            proxy_read_timeout 180s;\n            proxy_next_upstream off;\n            proxy_pass http://auth;\n        }",
				"location /api/tickets/ {\n            client_max_body_size 8m;\n            proxy_read_timeout 180s;\n            proxy_next_upstream off;\n            proxy_pass http://tickets;",
				"location /api/orders/ {\n            client_max_body_size 8m;\n            proxy_read_timeout 180s;\n            proxy_next_upstream off;\n            proxy_pass http://orders;",
				"location /api/payments/ {\n            client_max_body_size 8m;\n            proxy_read_timeout 180s;\n            proxy_next_upstream off;\n            proxy_pass http://payments;",
				"location / {\n            client_max_body_size 8m;\n            proxy_read_timeout 180s;\n            proxy_next_upstream off;\n            proxy_pass http://client;",
				"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
			},
			notContains: []string{"return 503", "master_process off", "user "},
		},
		{
			name:     "a backend that is not running answers 503 in the API's error shape",
			routes:   routes,
			settings: nginxSettings{port: 9000, dir: "/d", backends: map[string][]int{"auth": {1}, "tickets": {2}, "orders": {3}, "payments": {5}}, workerConnections: 1, openFiles: 1},
			contains: []string{
				"location / {\n            client_max_body_size 8m;\n            proxy_read_timeout 180s;\n            proxy_next_upstream off;\n            default_type application/json;\n            return 503 '{\"errors\":[{\"message\":\"client is not running on this machine\"}]}';",
			},
			notContains: []string{"upstream client"},
			missing:     []string{"client"},
		},
		{
			name:     "workers started by root run as the launcher's user",
			routes:   routes,
			settings: nginxSettings{port: 1, dir: "/d", backends: all, workerConnections: 1, openFiles: 1, user: "root root"},
			contains: []string{"user root root;\npid"},
		},
		{
			name:     "limits left unset",
			routes:   routes,
			settings: nginxSettings{port: 1, dir: "/d", backends: all},
			wantErr:  "worker connections (0) and open files (0) must be positive",
		},
		{
			name: "a catch-all host is the default server; each host gets its own server",
			routes: []ingressRoute{
				{host: "a.example", path: "/", pathType: "Prefix", service: "client"},
				{host: "", path: "/api/users", pathType: "Prefix", service: "auth"},
			},
			settings: nginxSettings{port: 1, dir: "/d", backends: all, workerConnections: 1, openFiles: 1},
			contains: []string{
				"listen 127.0.0.1:1;\n        server_name a.example;",
				"listen 127.0.0.1:1 default_server;\n        server_name \"\";",
			},
		},
		{
			name: "two paths that meet in one location",
			routes: []ingressRoute{
				{path: "/a", pathType: "Prefix", service: "auth"},
				{path: "/a/", pathType: "Prefix", service: "client"},
			},
			settings: nginxSettings{port: 1, dir: "/d", backends: all, workerConnections: 1, openFiles: 1},
			wantErr:  `path "/a/" (Prefix) and "/a" both map to nginx location "= /a"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, missing, err := renderNginx(tt.routes, tt.settings)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			for _, s := range tt.contains {
				assert.Contains(t, conf, s)
			}
			for _, s := range tt.notContains {
				assert.NotContains(t, conf, s)
			}
			assert.Equal(t, tt.missing, missing)
			assert.Equal(t, strings.Count(conf, "{"), strings.Count(conf, "}"), "braces balance")
		})
	}
}

// TestRepositoryIngressMapsToLocalParts reads the real manifest: every
// backend it names must be something `up` runs, or its paths would answer
// 503 on this machine.
func TestRepositoryIngressMapsToLocalParts(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "k8s", "base", "ingress.yaml"))
	require.NoError(t, err)
	routes, err := parseIngress(data)
	require.NoError(t, err)
	local := map[string]bool{"client": true}
	for _, s := range services() {
		local[s.name] = true
	}
	paths := map[string]string{}
	for _, r := range routes {
		assert.True(t, local[r.service], "backend %q of %s is not a part of the local fleet", r.service, r.path)
		paths[r.path] = r.service
	}
	assert.Equal(t, map[string]string{
		"/api/users": "auth", "/api/tickets": "tickets", "/api/orders": "orders", "/api/payments": "payments", "/": "client",
	}, paths, "CONTRACT.md §2's routes")
	// The services answer a body over 1 MiB with the contract's JSON 413;
	// the ingress must let at least a 2 MiB body through to them, with room.
	for _, r := range routes {
		assert.GreaterOrEqual(t, nginxSizeBytes(t, r.proxy.bodySize), int64(4<<20), "proxy-body-size of %s", r.path)
		// A service answers within its queue wait plus its 30 s; the
		// ingress waits longer than bin/local's queue wait (localStoreEnv),
		// and never sends a request twice.
		assert.Greater(t, r.proxy.readTimeout, int(localQueueTimeout.Seconds())+30, "proxy-read-timeout of %s", r.path)
		assert.Equal(t, "off", r.proxy.nextUpstream, "proxy-next-upstream of %s", r.path)
	}
}

// nginxSizeBytes reads nginx's size syntax (8m, 512k, 100).
func nginxSizeBytes(t *testing.T, s string) int64 {
	t.Helper()
	mult := map[byte]int64{'k': 1 << 10, 'K': 1 << 10, 'm': 1 << 20, 'M': 1 << 20, 'g': 1 << 30, 'G': 1 << 30}
	m, ok := mult[s[len(s)-1]]
	if ok {
		s = s[:len(s)-1]
	} else {
		m = 1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "size %q", s)
	return n * m
}

func TestSizeNginx(t *testing.T) {
	want := 2*frontClients + 5*upstreamKeepalive
	tests := []struct {
		name      string
		available uint64
		want      nginxLimits
	}{
		{"room for every client", math.MaxUint64, nginxLimits{workerConnections: want, openFiles: want + nginxSpareFiles, wantFiles: want + nginxSpareFiles}},
		{"exactly enough", uint64(want + nginxSpareFiles), nginxLimits{workerConnections: want, openFiles: want + nginxSpareFiles, wantFiles: want + nginxSpareFiles}},
		{"a hard limit of 20,000", 20000, nginxLimits{workerConnections: 20000 - nginxSpareFiles, openFiles: 20000, wantFiles: want + nginxSpareFiles, short: true}},
		{"a tiny limit keeps most for connections", 1024, nginxLimits{workerConnections: 768, openFiles: 1024, wantFiles: want + nginxSpareFiles, short: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sizeNginx(5, tt.available)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, got.workerConnections, got.openFiles, "nginx warns when connections exceed its open files")
		})
	}
}
