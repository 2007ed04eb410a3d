package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The Ingress manifest is the one place the routes are defined; on one
// machine nginx serves them from a config generated here, as ingress-nginx
// does from the same manifest in a cluster.

// ingressRoute is one path of an Ingress rule.
type ingressRoute struct {
	host     string // "" matches any host
	path     string
	pathType string // Prefix, Exact or ImplementationSpecific
	service  string
	proxy    proxySettings
}

// proxySettings are how nginx passes a route's requests on, read from the
// Ingress's ingress-nginx annotations with ingress-nginx's defaults.
type proxySettings struct {
	// bodySize is the largest request body nginx passes on, in nginx's
	// size syntax (proxy-body-size, default 1m).
	bodySize string
	// readTimeout is how long nginx waits for the service's answer, in
	// seconds (proxy-read-timeout, default 60).
	readTimeout int
	// nextUpstream is when nginx tries the request again on another
	// connection (proxy-next-upstream, default "error timeout"). "off"
	// keeps a request that reached a service from being sent twice.
	nextUpstream string
}

const (
	bodySizeAnnotation     = "nginx.ingress.kubernetes.io/proxy-body-size"
	readTimeoutAnnotation  = "nginx.ingress.kubernetes.io/proxy-read-timeout"
	nextUpstreamAnnotation = "nginx.ingress.kubernetes.io/proxy-next-upstream"
)

// defaultProxy is ingress-nginx's behaviour without annotations.
var defaultProxy = proxySettings{bodySize: "1m", readTimeout: 60, nextUpstream: "error timeout"}

var nextUpstreamValue = regexp.MustCompile(`^(off|(error|timeout|invalid_header|http_[0-9]{3}|non_idempotent)( (error|timeout|invalid_header|http_[0-9]{3}|non_idempotent))*)$`)

// proxyFromAnnotations reads an Ingress's proxy annotations.
func proxyFromAnnotations(a map[string]string) (proxySettings, error) {
	p := defaultProxy
	if v, ok := a[bodySizeAnnotation]; ok {
		if !nginxSize.MatchString(v) {
			return p, fmt.Errorf("%s %q is not a size like 2m", bodySizeAnnotation, v)
		}
		p.bodySize = v
	}
	if v, ok := a[readTimeoutAnnotation]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return p, fmt.Errorf("%s %q is not a positive number of seconds", readTimeoutAnnotation, v)
		}
		p.readTimeout = n
	}
	if v, ok := a[nextUpstreamAnnotation]; ok {
		if !nextUpstreamValue.MatchString(v) {
			return p, fmt.Errorf("%s %q is not off or a list of error, timeout, invalid_header, http_NNN, non_idempotent", nextUpstreamAnnotation, v)
		}
		p.nextUpstream = v
	}
	return p, nil
}

var nginxSize = regexp.MustCompile(`^[0-9]+[kKmMgG]?$`)

// serviceName is what Kubernetes allows as a Service's name (a DNS-1035
// label); the generated config uses it as an upstream's name.
var serviceName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ingressManifest holds the few fields of a networking.k8s.io/v1 Ingress
// that decide where a request goes; the rest is ignored.
type ingressManifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		Rules []struct {
			Host string `yaml:"host"`
			HTTP struct {
				Paths []struct {
					Path     string `yaml:"path"`
					PathType string `yaml:"pathType"`
					Backend  struct {
						Service *struct {
							Name string `yaml:"name"`
						} `yaml:"service"`
					} `yaml:"backend"`
				} `yaml:"paths"`
			} `yaml:"http"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

// unsupportedAnnotations change what a path means in ingress-nginx; a
// config that ignored them would route differently here than in a cluster.
var unsupportedAnnotations = []string{
	"nginx.ingress.kubernetes.io/rewrite-target",
	"nginx.ingress.kubernetes.io/use-regex",
	"nginx.ingress.kubernetes.io/app-root",
}

// parseIngress reads every Ingress in a (multi-document) manifest and
// returns its paths in manifest order. Other kinds are skipped.
func parseIngress(data []byte) ([]ingressRoute, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var routes []ingressRoute
	var errs []error
	for doc := 1; ; doc++ {
		var m ingressManifest
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		if m.Kind != "Ingress" {
			continue
		}
		if m.APIVersion != "networking.k8s.io/v1" {
			errs = append(errs, fmt.Errorf("ingress %q: apiVersion %q, want networking.k8s.io/v1", m.Metadata.Name, m.APIVersion))
			continue
		}
		for _, a := range unsupportedAnnotations {
			if _, ok := m.Metadata.Annotations[a]; ok {
				errs = append(errs, fmt.Errorf("ingress %q: annotation %s is not supported by the local nginx", m.Metadata.Name, a))
			}
		}
		proxy, err := proxyFromAnnotations(m.Metadata.Annotations)
		if err != nil {
			errs = append(errs, fmt.Errorf("ingress %q: %w", m.Metadata.Name, err))
			continue
		}
		for _, rule := range m.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				r := ingressRoute{host: rule.Host, path: p.Path, pathType: p.PathType, proxy: proxy}
				where := fmt.Sprintf("ingress %q, host %q, path %q", m.Metadata.Name, rule.Host, p.Path)
				if p.Backend.Service == nil || p.Backend.Service.Name == "" {
					errs = append(errs, fmt.Errorf("%s: backend has no service name", where))
					continue
				}
				r.service = p.Backend.Service.Name
				if !serviceName.MatchString(r.service) {
					errs = append(errs, fmt.Errorf("%s: backend service %q is not a Kubernetes service name", where, r.service))
					continue
				}
				if !strings.HasPrefix(p.Path, "/") || strings.ContainsAny(p.Path, " \t;{}'\"\\") {
					errs = append(errs, fmt.Errorf("%s: a path must start with / and hold no spaces, quotes, ';' or braces", where))
					continue
				}
				if !slices.Contains([]string{"Prefix", "Exact", "ImplementationSpecific"}, p.PathType) {
					errs = append(errs, fmt.Errorf("%s: pathType %q, want Prefix, Exact or ImplementationSpecific", where, p.PathType))
					continue
				}
				if strings.ContainsAny(rule.Host, " \t;{}'\"\\/") {
					errs = append(errs, fmt.Errorf("%s: malformed host", where))
					continue
				}
				routes = append(routes, r)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(routes) == 0 {
		return nil, errors.New("no Ingress paths found")
	}
	return routes, nil
}

// nginxSettings is what the generated config needs besides the routes.
type nginxSettings struct {
	port int
	// dir holds the pid file and nginx's temporary files.
	dir string
	// backends maps an Ingress backend service name to the local port its
	// process listens on. A backend missing here answers 503 (the client
	// under --no-client).
	backends map[string][]int
	// source names the manifest in the header comment.
	source string
	// workerConnections and openFiles are each worker's limits (see
	// nginxLimits); user is who the workers run as when nginx starts as
	// root (else nobody, who may not reach dir), empty otherwise.
	workerConnections, openFiles int
	user                         string
}

const (
	// upstreamKeepalive, upstreamKeepaliveRequests and
	// upstreamKeepaliveTimeout are ingress-nginx's defaults for the idle
	// connections each worker keeps to each backend. The timeout stays
	// under the services' idle timeout (120 s, httpx.Serve), so nginx never
	// reuses a connection that a service is closing.
	upstreamKeepalive         = 320
	upstreamKeepaliveRequests = 10000
	upstreamKeepaliveTimeout  = "60s"
)

// renderNginx turns routes into a whole nginx.conf. It also returns the
// backend services that have no local port, in first-use order.
func renderNginx(routes []ingressRoute, s nginxSettings) (conf string, missing []string, err error) {
	if s.workerConnections <= 0 || s.openFiles <= 0 {
		return "", nil, fmt.Errorf("worker connections (%d) and open files (%d) must be positive", s.workerConnections, s.openFiles)
	}
	var hosts []string
	byHost := map[string][]ingressRoute{}
	for _, r := range routes {
		if _, ok := byHost[r.host]; !ok {
			hosts = append(hosts, r.host)
		}
		byHost[r.host] = append(byHost[r.host], r)
	}
	// The default server answers whatever Host a request names (localhost:8080
	// in a browser here): the catch-all rule if there is one, else the first.
	def := hosts[0]
	if slices.Contains(hosts, "") {
		def = ""
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by bin/local from %s; edit that, not this.\n", s.source)
	// A master and one worker per CPU, as ingress-nginx runs. The launcher
	// supervises the master; once it exits, the launcher kills its process
	// group, so a kill -9 of the master leaves no worker holding the port.
	b.WriteString("daemon off;\nworker_processes auto;\n")
	fmt.Fprintf(&b, "worker_rlimit_nofile %d;\n", s.openFiles)
	if s.user != "" {
		fmt.Fprintf(&b, "user %s;\n", s.user)
	}
	fmt.Fprintf(&b, "pid %s;\n", quote(s.dir+"/nginx.pid"))
	b.WriteString("error_log stderr warn;\n")
	// Each worker alone can hold every client: the kernel does not spread
	// connections evenly over the workers.
	fmt.Fprintf(&b, "events {\n    worker_connections %d;\n    multi_accept on;\n}\n\nhttp {\n", s.workerConnections)
	b.WriteString("    access_log off;\n    server_tokens off;\n")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		// nginx makes these itself, but not their parents.
		fmt.Fprintf(&b, "    %s_temp_path %s;\n", t, quote(s.dir+"/"+t+"_temp"))
	}
	b.WriteString(`    proxy_http_version 1.1;
    proxy_connect_timeout 5s;
    # What ingress-nginx tells the services about the original request.
    proxy_set_header Host $http_host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $http_host;
    proxy_set_header Upgrade $http_upgrade;
    # HTTP/1.1 and no Connection header from the client (an empty value is
    # not sent) keep the connection to the backend open for the next
    # request; only a WebSocket upgrade passes Connection on.
    proxy_set_header Connection $connection_upgrade;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        "" "";
    }
`)
	// One upstream per backend that runs here, with its idle connections.
	var upstreams []string
	for _, r := range routes {
		if _, ok := s.backends[r.service]; ok && !slices.Contains(upstreams, r.service) {
			upstreams = append(upstreams, r.service)
		}
	}
	for _, name := range upstreams {
		// Round robin over a service's copies (up --replicas); a copy that
		// refuses a connection is passed over for the next.
		fmt.Fprintf(&b, "\n    upstream %s {\n", name)
		for _, port := range s.backends[name] {
			fmt.Fprintf(&b, "        server 127.0.0.1:%d;\n", port)
		}
		fmt.Fprintf(&b, "        keepalive %d;\n        keepalive_requests %d;\n        keepalive_timeout %s;\n    }\n",
			upstreamKeepalive, upstreamKeepaliveRequests, upstreamKeepaliveTimeout)
	}
	seenMissing := map[string]bool{}
	for _, host := range hosts {
		b.WriteString("\n    server {\n")
		listen := "127.0.0.1:" + strconv.Itoa(s.port)
		if host == def {
			listen += " default_server"
		}
		fmt.Fprintf(&b, "        listen %s;\n", listen)
		name := host
		if name == "" {
			name = `""`
		}
		fmt.Fprintf(&b, "        server_name %s;\n", name)
		seen := map[string]string{}
		for _, r := range byHost[host] {
			_, ok := s.backends[r.service]
			if !ok && !seenMissing[r.service] {
				seenMissing[r.service] = true
				missing = append(missing, r.service)
			}
			for _, loc := range nginxLocations(r) {
				if prev, dup := seen[loc]; dup {
					return "", nil, fmt.Errorf("host %q: path %q (%s) and %q both map to nginx location %q", host, r.path, r.pathType, prev, loc)
				}
				seen[loc] = r.path
				fmt.Fprintf(&b, "        location %s {\n", loc)
				fmt.Fprintf(&b, "            client_max_body_size %s;\n", r.proxy.bodySize)
				fmt.Fprintf(&b, "            proxy_read_timeout %ds;\n", r.proxy.readTimeout)
				fmt.Fprintf(&b, "            proxy_next_upstream %s;\n", r.proxy.nextUpstream)
				if ok {
					fmt.Fprintf(&b, "            proxy_pass http://%s;\n", r.service)
				} else {
					b.WriteString("            default_type application/json;\n")
					fmt.Fprintf(&b, "            return 503 '{\"errors\":[{\"message\":\"%s is not running on this machine\"}]}';\n", r.service)
				}
				b.WriteString("        }\n")
			}
		}
		b.WriteString("    }\n")
	}
	b.WriteString("}\n")
	return b.String(), missing, nil
}

// nginxLocations is how one Ingress path reads as nginx locations. A
// Prefix path matches whole path elements: /api/users matches /api/users and
// /api/users/x but not /api/usersx; nginx's longest-prefix choice then
// matches the Ingress rule that the longest path wins.
func nginxLocations(r ingressRoute) []string {
	switch r.pathType {
	case "Exact":
		return []string{"= " + r.path}
	case "Prefix":
		p := strings.TrimRight(r.path, "/")
		if p == "" {
			return []string{"/"}
		}
		return []string{"= " + p, p + "/"}
	default: // ImplementationSpecific: ingress-nginx reads it as a plain prefix
		return []string{r.path}
	}
}

// quote makes a file path safe as one nginx argument.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
