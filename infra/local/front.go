package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
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

// writeNginxConfig generates nginx.conf from the Ingress manifest for the
// ports of this fleet. Backends that do not run here (the client under
// --no-client) answer 503 and are logged by the caller.
func (f *fleet) writeNginxConfig(manifest string) (conf string, missing []string, err error) {
	data, err := os.ReadFile(manifest)
	if err != nil {
		return "", nil, fmt.Errorf("ingress manifest (nginx's routes come from it; --ingress names another): %w", err)
	}
	routes, err := parseIngress(data)
	if err != nil {
		return "", nil, fmt.Errorf("ingress manifest %s: %w", manifest, err)
	}
	backends := make(map[string]int, len(f.services)+1)
	for _, s := range f.services {
		backends[s.name] = f.ports[s.name]
	}
	if f.withClient {
		backends["client"] = f.ports["client"]
	}
	dir := filepath.Join(f.dataDir, "nginx") // made by prepareDataDir
	text, missing, err := renderNginx(routes, nginxSettings{port: f.ports["nginx"], dir: dir, backends: backends, source: manifest})
	if err != nil {
		return "", nil, fmt.Errorf("ingress manifest %s: %w", manifest, err)
	}
	conf = filepath.Join(dir, "nginx.conf")
	if err := writeFileAtomic(conf, []byte(text), 0o644); err != nil {
		return "", nil, err
	}
	return conf, missing, nil
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
		// Optional settings a person may give the launcher for the client.
		for _, name := range []string{"NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "API_HOST", "NODE_OPTIONS"} {
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
