package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// fleet is the running processes and where they listen.
type fleet struct {
	dataDir  string
	ports    map[string]int
	jwtKey   string
	bus      string    // busStan or busJetStream
	services []service // those started
	replicas int       // copies of each service (up --replicas)
	ha       bool      // clustered bus, Redis with Sentinel (up --ha)
	// withNginx and withClient say whether the front runs (not with
	// --deps-only; no client with --no-client).
	withNginx, withClient bool
	deps                  []*proc
	svcs                  []*proc
	front                 []*proc
}

// The local store is FerretDB, whose filtered updates are atomic only over
// one connection per client (ARCHITECTURE.md §4). Everything the services
// size for a MongoDB pool is set for that one connection here, and only
// here: the pool itself in the URI, and the bounds on what queues for it.
func (f *fleet) mongoURI(db string) string { return storeURI(f.ports["mongo"], db) }

func storeURI(port int, db string) string {
	return "mongodb://" + hostPort(port) + "/" + db + "?maxPoolSize=1"
}

// localStoreEnv are the services' settings for that one connection. The
// requests in the handlers and the outbox relay's workers queue for it in
// turn, so their numbers split it between them: 8 requests at once against
// 16 relay workers keep the events of an edit storm going out as fast as
// the edits come in (10,000 sequences in flight: replicas agreed p99 0.8 s
// after the last answer; with 16 requests against 4 workers the events fell
// behind by tens of seconds). A request waits for its place up to
// localQueueTimeout, since this store drains a burst more slowly than
// MongoDB (that storm's last edits waited 74 s). The outbox sweep is
// hourly: FerretDB reads the whole collection for it, and a killed
// service, restarted by the supervisor, sends what it left with its
// start-up sweep.
func localStoreEnv() []string {
	return []string{"HTTP_MAX_IN_FLIGHT=8", "OUTBOX_RELAY_WORKERS=16", "OUTBOX_SWEEP_INTERVAL=1h",
		"HTTP_QUEUE_TIMEOUT=" + localQueueTimeout.String()}
}

// localQueueTimeout is how long a request waits for a place in a service on
// the local store before the service answers 503.
const localQueueTimeout = 120 * time.Second

func (f *fleet) natsURL() string { return strings.Join(f.natsNodeURLs(), ",") }

// busName is the event bus the fleet runs, stan unless --bus said otherwise.
func (f *fleet) busName() string {
	if f.bus == "" {
		return busStan
	}
	return f.bus
}

// natsSpec is the bus's process: this binary's nats (NATS Streaming) or
// jetstream subcommand, each with its store in a directory of its own under
// the data dir, on the same ports, so the services only need EVENT_BUS.
func (f *fleet) natsSpec(self string, env func() []string) procSpec {
	cmd := "nats"
	if f.busName() == busJetStream {
		cmd = "jetstream"
	}
	return procSpec{
		name: "nats", path: self, env: env, addr: hostPort(f.ports["nats"]),
		args: []string{cmd, "--dir", filepath.Join(f.dataDir, cmd),
			"--port", strconv.Itoa(f.ports["nats"]), "--monitor-port", strconv.Itoa(f.ports["nats-monitor"])},
	}
}
func (f *fleet) redisURL() string   { return "redis://" + hostPort(f.ports["redis"]) }
func (f *fleet) stripeBase() string { return "http://" + hostPort(f.ports["stripe-mock"]) }
func (f *fleet) serviceURL(name string) string {
	return "http://" + hostPort(f.ports[name])
}

// exports is the environment for tests and people, in printing order.
func (f *fleet) exports() []envVar {
	vars := []envVar{
		{"TEST_MONGO_URI", f.mongoURI("")},
		{"TEST_NATS_URL", f.natsURL()},
		{"TEST_REDIS_ADDR", hostPort(f.ports["redis"])},
		{"TEST_REDIS_URL", f.redisURL()},
		{"TEST_STRIPE_API_BASE", f.stripeBase()},
	}
	for _, s := range f.services {
		for _, name := range f.copies(s) {
			vars = append(vars, envVar{urlVar(name), f.serviceURL(name)})
		}
	}
	if f.withNginx {
		// The whole app through nginx, as a browser reaches it.
		vars = append(vars, envVar{"APP_URL", f.appURL()})
	}
	if f.withClient {
		vars = append(vars, envVar{"CLIENT_URL", f.serviceURL("client")})
	}
	if f.ha {
		vars = append(vars,
			envVar{"TEST_REDIS_SENTINELS", strings.Join(f.sentinelAddrs(), ",")},
			envVar{"TEST_REDIS_MASTER_NAME", sentinelMaster},
			envVar{"TEST_REDIS_NODES", strings.Join(f.redisNodeAddrs(), ",")},
			envVar{"TEST_NATS_MONITOR_URLS", strings.Join(f.natsMonitorURLs(), ",")})
	}
	return append(vars,
		envVar{"JWT_KEY", f.jwtKey},
		// Where pids/<name>.pid are, so a test can kill one child.
		envVar{"LOCAL_DATA_DIR", f.dataDir},
	)
}

// serviceEnv is what a cluster gives a service's pod.
func (f *fleet) serviceEnv(s service, copy string, getenv func(string) string) func() []string {
	return func() []string {
		env := append(baseEnv(getenv),
			"PORT="+strconv.Itoa(f.ports[copy]),
			"MONGO_URI="+f.serviceMongoURI(s.name),
			"NATS_URL="+f.natsURL(),
			"NATS_CLUSTER_ID="+natsClusterID,
			// NATS Streaming refuses a second live connection with one
			// client id, and a restarted process may start before the
			// server has noticed the old connection is gone.
			"NATS_CLIENT_ID="+s.name+"-"+randomHex(3),
			"EVENT_BUS="+f.busName(),
			"JWT_KEY="+f.jwtKey,
			"REDIS_URL="+f.redisURL(),
			"STRIPE_KEY=sk_test_123",
			"STRIPE_API_BASE="+f.stripeBase(),
			"COOKIE_SECURE=false",
		)
		env = append(env, localStoreEnv()...)
		if f.ha {
			env = append(env, "REDIS_SENTINELS="+strings.Join(f.sentinelAddrs(), ","), "REDIS_MASTER_NAME="+sentinelMaster)
			if f.busName() == busJetStream {
				env = append(env, "JETSTREAM_REPLICAS="+strconv.Itoa(haNodes))
			}
		}
		// Passed through: the hold length tests shorten, and LOG_LEVEL=debug
		// to trace every event published and handled.
		for _, name := range []string{"EXPIRATION_WINDOW_SECONDS", "LOG_LEVEL"} {
			if v := getenv(name); v != "" {
				env = append(env, name+"="+v)
			}
		}
		return env
	}
}

// start starts the dependencies, waits until they accept connections, then
// does the same for the services. Started processes are recorded in f even
// on error, so the caller can stop them.
func (f *fleet) start(ctx context.Context, cfg upConfig, bins binaries, getenv func(string) string, out io.Writer, log *slog.Logger) error {
	pidDir := filepath.Join(f.dataDir, "pids")
	base := func() []string { return baseEnv(getenv) }
	itoa := strconv.Itoa
	deps := []procSpec{{
		name: "mongo", path: bins.self, env: base, addr: hostPort(f.ports["mongo"]),
		args: append([]string{"ferretdb", "--dir", filepath.Join(f.dataDir, "mongo"), "--listen", hostPort(f.ports["mongo"])},
			f.funnelArgs()...),
	}}
	if f.ha {
		redis, err := f.redisHASpecs(bins.redis, base)
		if err != nil {
			return err
		}
		deps = append(deps, f.natsClusterSpecs(bins.self, base)...)
		deps = append(deps, redis...)
	} else {
		deps = append(deps, f.natsSpec(bins.self, base), procSpec{
			name: "redis", path: bins.redis, env: base, addr: hostPort(f.ports["redis"]),
			args: redisArgs(f.ports["redis"], filepath.Join(f.dataDir, "redis")),
		})
	}
	deps = append(deps,
		procSpec{
			name: "stripe-mock", path: bins.stripeMock, env: base, addr: hostPort(f.ports["stripe-mock"]),
			// -http-port, unlike -http-addr, also turns off its default
			// HTTPS listener on the fixed port 12112, which two fleets
			// would fight over. It binds every interface, which is
			// harmless for a mock.
			args: []string{"-http-port", itoa(f.ports["stripe-mock"])},
		})
	for _, spec := range deps {
		f.deps = append(f.deps, startProc(spec, out, log, pidDir))
	}
	for _, p := range f.deps {
		if err := p.waitReady(ctx, cfg.timeout); err != nil {
			return err
		}
		log.Info("up", "proc", p.spec.name, "addr", p.spec.addr)
	}

	for _, s := range f.services {
		for _, name := range f.copies(s) {
			spec := procSpec{name: name, path: bins.services[s.name], env: f.serviceEnv(s, name, getenv), addr: hostPort(f.ports[name])}
			f.svcs = append(f.svcs, startProc(spec, out, log, pidDir))
		}
	}
	for _, p := range f.svcs {
		if err := p.waitReady(ctx, cfg.timeout); err != nil {
			return err
		}
		log.Info("up", "proc", p.spec.name, "addr", p.spec.addr)
	}
	return f.startFront(ctx, cfg, bins, getenv, out, log)
}

// startFront starts nginx, with its config generated from the Ingress
// manifest, and the client behind it, and waits until both accept
// connections.
func (f *fleet) startFront(ctx context.Context, cfg upConfig, bins binaries, getenv func(string) string, out io.Writer, log *slog.Logger) error {
	if !f.withNginx {
		return nil
	}
	pidDir := filepath.Join(f.dataDir, "pids")
	conf, missing, limits, err := f.writeNginxConfig(cfg.ingress)
	if err != nil {
		return err
	}
	for _, name := range missing {
		log.Warn("an Ingress backend does not run here; nginx answers 503 for its paths", "service", name)
	}
	// One worker per CPU (worker_processes auto); a busy worker leaves new
	// connections to the others, so together they hold what one cannot.
	switch workers := runtime.NumCPU(); {
	case limits.short && workers*limits.workerConnections < 2*frontClients:
		log.Warn("the open-file limit keeps nginx below its size; raise the hard limit (ulimit -Hn) to serve more clients at once",
			"clients", frontClients, "open_files", limits.openFiles, "needed", limits.wantFiles,
			"worker_connections", limits.workerConnections, "workers", workers)
	case limits.short:
		log.Info("the open-file limit lets one nginx worker hold fewer than all clients; the workers together hold them",
			"clients", frontClients, "open_files", limits.openFiles, "needed", limits.wantFiles,
			"worker_connections", limits.workerConnections, "workers", workers)
	}
	specs := []procSpec{{
		name: "nginx", path: bins.nginx, env: func() []string { return baseEnv(getenv) },
		addr: hostPort(f.ports["nginx"]), args: nginxArgs(filepath.Dir(conf), conf), group: true,
	}}
	if f.withClient {
		specs = append(specs, procSpec{
			name: "client", path: bins.node, env: f.clientEnv(getenv),
			addr: hostPort(f.ports["client"]), args: []string{bins.clientServer},
		})
	}
	for _, spec := range specs {
		f.front = append(f.front, startProc(spec, out, log, pidDir))
	}
	for _, p := range f.front {
		if err := p.waitReady(ctx, cfg.timeout); err != nil {
			return err
		}
		log.Info("up", "proc", p.spec.name, "addr", p.spec.addr)
	}
	return nil
}

// summary tells a person where things are.
func (f *fleet) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nticketing is up; data in %s. Ctrl-C here or `make down` stops it.\n", f.dataDir)
	for _, s := range f.services {
		for _, name := range f.copies(s) {
			fmt.Fprintf(&b, "  %-12s %s\n", name, f.serviceURL(name))
		}
	}
	fmt.Fprintf(&b, "  %-12s %s\n", "mongo", f.mongoURI(""))
	fmt.Fprintf(&b, "  %-12s %s (%s, monitoring http://%s)\n", "nats", f.natsURL(), f.busName(), hostPort(f.ports["nats-monitor"]))
	fmt.Fprintf(&b, "  %-12s %s\n", "redis", f.redisURL())
	fmt.Fprintf(&b, "  %-12s %s\n", "stripe-mock", f.stripeBase())
	if f.withClient {
		fmt.Fprintf(&b, "  %-12s %s (served through nginx)\n", "client", f.serviceURL("client"))
	}
	if f.withNginx {
		fmt.Fprintf(&b, "  %-12s %s (routes from the Ingress manifest)\n", "nginx", f.appURL())
	}
	// Last, so it is what a person sees when the output stops.
	switch {
	case f.withClient:
		fmt.Fprintf(&b, "\nOpen %s in a browser.\n", f.browserURL())
	case f.withNginx:
		fmt.Fprintf(&b, "\nThe API answers at %s/api/... (no web client: --no-client).\n", f.browserURL())
	}
	return b.String()
}
