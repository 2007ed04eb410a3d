package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
)

// The front of the fleet: nginx in the role of the cluster's ingress, and
// the Next.js client behind it. Both listen on ports of their own.

func frontParts(withClient bool) []part {
	parts := []part{{name: "nginx", defPort: 8080}}
	if withClient {
		parts = append(parts, part{name: "client", defPort: 3000})
	}
	return parts
}

// nginxArgs runs nginx in the foreground on conf, with dir as its prefix and
// its start-up messages on stderr rather than in /var/log/nginx, which a
// non-root user cannot write.
func nginxArgs(dir, conf string) []string {
	return []string{"-p", dir, "-c", conf, "-e", "stderr"}
}

// findNginx looks on PATH and then where Debian puts it, since /usr/sbin is
// not on a normal user's PATH.
func findNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/nginx"
	if _, err := os.Stat(debian); err != nil {
		return "", errors.New("nginx is not installed (make deps installs it)")
	}
	return debian, nil
}

// clientServer is the built client's standalone server, or an error telling
// how to build it.
func clientServer(clientDir string) (string, error) {
	dir, err := filepath.Abs(clientDir)
	if err != nil {
		return "", fmt.Errorf("resolve --client-dir: %w", err)
	}
	server := filepath.Join(dir, ".next", "standalone", "server.js")
	if _, err := os.Stat(server); err != nil {
		return "", fmt.Errorf("the client is not built (make client builds it, or pass --no-client): %w", err)
	}
	return server, nil
}

const (
	// frontClients is how many clients at once the local nginx holds, as
	// the cluster's ingress does; 2,000 half-reset at 1,024 connections.
	frontClients = 10_000
	// nginxSpareFiles are a worker's descriptors besides its connections:
	// listening socket, logs, its channel to the master, request bodies
	// buffered to temporary files.
	nginxSpareFiles = 1024
)

// nginxLimits sizes each nginx worker for frontClients clients, each of
// which costs a connection from the client and one to its backend, plus
// the idle connections kept to each of upstreams backends. The workers'
// open-file limit (worker_rlimit_nofile) cannot pass the limit nginx
// inherits, available; when that is too small, connections shrink to fit
// and short says so.
type nginxLimits struct {
	workerConnections, openFiles int
	// wantFiles is what frontClients would need; short is available < wantFiles.
	wantFiles int
	short     bool
}

func sizeNginx(upstreams int, available uint64) nginxLimits {
	conns := 2*frontClients + upstreams*upstreamKeepalive
	l := nginxLimits{workerConnections: conns, openFiles: conns + nginxSpareFiles}
	l.wantFiles = l.openFiles
	if available < uint64(l.openFiles) {
		l.short = true
		l.openFiles = int(available)
		l.workerConnections = l.openFiles - min(nginxSpareFiles, l.openFiles/4)
	}
	return l
}

// nginxUser is whom nginx's workers run as when the launcher is root:
// itself, since nginx's default (nobody) may not reach the data directory
// (a temporary one is private to its owner) to buffer a request body.
// Empty when not root, where nginx ignores the directive with a warning.
func nginxUser() string {
	if os.Geteuid() != 0 {
		return ""
	}
	u, err := user.Current()
	if err != nil {
		return "root root"
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return u.Username
	}
	return u.Username + " " + g.Name
}

// writeNginxConfig generates nginx.conf from the Ingress manifest for the
// ports of this fleet, sized for frontClients with the open-file limit it
// gets the launcher (which nginx inherits). Backends that do not run here
// (the client under --no-client) answer 503 and are logged by the caller.
func (f *fleet) writeNginxConfig(manifest string) (conf string, missing []string, limits nginxLimits, err error) {
	data, err := os.ReadFile(manifest)
	if err != nil {
		return "", nil, limits, fmt.Errorf("ingress manifest (nginx's routes come from it; --ingress names another): %w", err)
	}
	routes, err := parseIngress(data)
	if err != nil {
		return "", nil, limits, fmt.Errorf("ingress manifest %s: %w", manifest, err)
	}
	backends := make(map[string][]int, len(f.services)+1)
	for _, s := range f.services {
		for _, name := range f.copies(s) {
			backends[s.name] = append(backends[s.name], f.ports[name])
		}
	}
	if f.withClient {
		backends["client"] = []int{f.ports["client"]}
	}
	upstreams := map[string]bool{}
	for _, r := range routes {
		if _, ok := backends[r.service]; ok {
			upstreams[r.service] = true
		}
	}
	want := sizeNginx(len(upstreams), math.MaxUint64).openFiles
	available, err := raiseOpenFileLimit(uint64(want))
	if err != nil {
		return "", nil, limits, fmt.Errorf("nginx: %w", err)
	}
	limits = sizeNginx(len(upstreams), available)

	dir := filepath.Join(f.dataDir, "nginx") // made by prepareDataDir
	text, missing, err := renderNginx(routes, nginxSettings{
		port: f.ports["nginx"], dir: dir, backends: backends, source: manifest,
		workerConnections: limits.workerConnections, openFiles: limits.openFiles, user: nginxUser(),
	})
	if err != nil {
		return "", nil, limits, fmt.Errorf("ingress manifest %s: %w", manifest, err)
	}
	conf = filepath.Join(dir, "nginx.conf")
	if err := writeFileAtomic(conf, []byte(text), 0o644); err != nil {
		return "", nil, limits, err
	}
	return conf, missing, limits, nil
}

// clientEnv is what the client's pod gets in a cluster, pointed at the
// local nginx: the server renders pages by calling the API through it.
func (f *fleet) clientEnv(getenv func(string) string) func() []string {
	return func() []string {
		env := append(baseEnv(getenv),
			"NODE_ENV=production",
			"NEXT_TELEMETRY_DISABLED=1",
			"PORT="+strconv.Itoa(f.ports["client"]),
			"HOSTNAME=127.0.0.1",
			"API_INTERNAL_URL="+f.appURL(),
		)
		// Optional settings a person may give the launcher for the client;
		// EXPIRATION_WINDOW_SECONDS is the hold the Purchase button names,
		// the same value the orders service gets.
		for _, name := range []string{"NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "API_HOST", "NODE_OPTIONS", "EXPIRATION_WINDOW_SECONDS"} {
			if v := getenv(name); v != "" {
				env = append(env, name+"="+v)
			}
		}
		return env
	}
}

// appURL is where the whole app answers: nginx. nginx listens on IPv4
// only, so the address says 127.0.0.1; a person may type localhost.
func (f *fleet) appURL() string { return "http://" + hostPort(f.ports["nginx"]) }

// browserURL is the address to open, as a person would type it.
func (f *fleet) browserURL() string { return "http://localhost:" + strconv.Itoa(f.ports["nginx"]) }
