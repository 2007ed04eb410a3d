package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopTimeout is how long a child gets between SIGTERM and SIGKILL.
const stopTimeout = 5 * time.Second

// part is something up starts that listens on a port of its own.
type part struct {
	name    string // as in log prefixes, pid files and flags
	defPort int    // for `up` without --ephemeral
}

// depParts are the dependencies, in start order, named for their role as in
// the cluster ("mongo" is FerretDB here). A NATS monitor has no process of
// its own but needs a port like the rest.
func depParts() []part {
	return []part{
		{name: "mongo", defPort: 27017},
		{name: "nats", defPort: 4222},
		{name: "nats-monitor", defPort: 8222},
		{name: "redis", defPort: 6379},
		{name: "stripe-mock", defPort: 12111},
	}
}

func portFlag(name string) string { return name + "-port" }

func portEnv(name string) string {
	return "LOCAL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_PORT"
}

// upConfig is what the up command was asked to do.
type upConfig struct {
	dataDir   string // empty with ephemeral until a temporary one is made
	ephemeral bool
	depsOnly  bool
	noClient  bool
	clientDir string
	ingress   string
	envFile   string
	binDir    string
	timeout   time.Duration
	bus       string // busStan or busJetStream
	replicas  int    // copies of each service
	ha        bool   // three-node bus and Redis with Sentinel
	// portFlags holds the --<part>-port values; 0 means not given.
	portFlags map[string]*int
}

func parseUpFlags(args []string, stdout io.Writer) (cfg upConfig, help bool, err error) {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&cfg.dataDir, "data", ".data", "directory that keeps the data across runs (not with --ephemeral)")
	fs.BoolVar(&cfg.ephemeral, "ephemeral", false, "use free ports and a temporary data directory removed at exit (for tests)")
	fs.BoolVar(&cfg.depsOnly, "deps-only", false, "start only the dependencies, not the services, nginx or the client")
	fs.BoolVar(&cfg.noClient, "no-client", false, "do not start the web client (nginx still serves the API)")
	fs.StringVar(&cfg.clientDir, "client-dir", "client", "directory of the built web client (make client builds it)")
	fs.StringVar(&cfg.ingress, "ingress", filepath.Join("infra", "k8s", "base", "ingress.yaml"), "Ingress manifest that nginx's routes are generated from")
	fs.StringVar(&cfg.envFile, "env-file", "", "also write the export lines to this file (atomically) once everything is up")
	fs.StringVar(&cfg.binDir, "bin", "bin", "directory holding stripe-mock and the service binaries")
	fs.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "how long each part may take to accept connections")
	fs.StringVar(&cfg.bus, "bus", busStan, "event bus: stan (NATS Streaming) or jetstream (nats-server with JetStream); the services get it as EVENT_BUS")
	fs.IntVar(&cfg.replicas, "replicas", 1, "copies of each service, behind nginx's round-robin upstreams (each its own process, port and NATS client id)")
	fs.BoolVar(&cfg.ha, "ha", false, "run the bus as three clustered nodes and Redis as a master, two replicas and three Sentinels")
	cfg.portFlags = make(map[string]*int)
	for _, p := range allParts() {
		cfg.portFlags[p.name] = fs.Int(portFlag(p.name), 0,
			fmt.Sprintf("port for %s (default %d, or $%s; a free one with --ephemeral)", p.name, p.defPort, portEnv(p.name)))
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return cfg, help, err
	}
	if cfg.bus != busStan && cfg.bus != busJetStream {
		return cfg, false, fmt.Errorf("up: --bus %q: want %s or %s", cfg.bus, busStan, busJetStream)
	}
	if cfg.replicas < 1 || cfg.replicas > maxReplicas {
		return cfg, false, fmt.Errorf("up: --replicas %d: want 1 to %d", cfg.replicas, maxReplicas)
	}
	if cfg.ephemeral {
		dataSet := false
		fs.Visit(func(f *flag.Flag) { dataSet = dataSet || f.Name == "data" })
		if dataSet {
			return cfg, false, errors.New("up: --data and --ephemeral exclude each other (--ephemeral uses a temporary directory)")
		}
		cfg.dataDir = ""
	}
	return cfg, false, nil
}

func allParts() []part {
	parts := append(depParts(), haParts()...)
	for _, s := range services() {
		parts = append(parts, part{name: s.name, defPort: s.port})
	}
	parts = append(parts, replicaParts(services(), maxReplicas)...)
	return append(parts, frontParts(true)...)
}

// resolvePorts picks each part's port: its flag, else (without --ephemeral)
// its LOCAL_<PART>_PORT variable or the fixed default, else a free port.
// The environment is ignored with --ephemeral so a test run never lands on
// the ports of a `make up` configured through the environment.
func resolvePorts(cfg upConfig, parts []part, getenv func(string) string) (map[string]int, error) {
	ports := make(map[string]int, len(parts))
	var missing []string
	var errs []error
	for _, p := range parts {
		if v := *cfg.portFlags[p.name]; v > 0 {
			ports[p.name] = v
			continue
		}
		if cfg.ephemeral {
			missing = append(missing, p.name)
			continue
		}
		ports[p.name] = p.defPort
		if s := getenv(portEnv(p.name)); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v <= 0 || v > 65535 {
				errs = append(errs, fmt.Errorf("%s=%q is not a port number", portEnv(p.name), s))
				continue
			}
			ports[p.name] = v
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	free, err := freePorts(len(missing))
	if err != nil {
		return nil, err
	}
	for i, name := range missing {
		ports[name] = free[i]
	}
	return ports, nil
}

// runUp starts the fleet and keeps it running until SIGINT/SIGTERM or ctx
// ends, then stops the services and after them the dependencies.
func runUp(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) (err error) {
	cfg, help, err := parseUpFlags(args, stdout)
	if help || err != nil {
		return err
	}
	out := &syncWriter{w: stdout}
	log := slog.New(slog.NewTextHandler(newLineWriter(out, "local"), nil))

	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	parts := depParts()
	if cfg.ha {
		parts = append(parts, haParts()...)
	}
	var svcs []service
	if !cfg.depsOnly {
		svcs = services()
		for _, s := range svcs {
			parts = append(parts, part{name: s.name, defPort: s.port})
		}
		parts = append(parts, replicaParts(svcs, cfg.replicas)...)
		parts = append(parts, frontParts(!cfg.noClient)...)
	}
	ports, err := resolvePorts(cfg, parts, getenv)
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}

	binDir, err := filepath.Abs(cfg.binDir)
	if err != nil {
		return fmt.Errorf("up: resolve --bin: %w", err)
	}
	bins, err := findBinaries(binDir, svcs, cfg)
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}

	dataDir, cleanup, err := prepareDataDir(cfg)
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}
	defer func() {
		if cerr := cleanup(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("up: %w", cerr))
		}
	}()

	// After claiming the data dir, so a second `make up` hears that one is
	// running rather than that its ports are taken.
	if !cfg.ephemeral {
		var errs []error
		for _, p := range parts {
			if err := checkPortFree(ports[p.name]); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w (is another `make up` or a system service running? choose another with --%s or %s)",
					p.name, err, portFlag(p.name), portEnv(p.name)))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("up: %w", err)
		}
	}

	key, err := jwtKey(getenv, cfg.ephemeral, dataDir)
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}
	f := &fleet{dataDir: dataDir, ports: ports, jwtKey: key, bus: cfg.bus, services: svcs, replicas: cfg.replicas, ha: cfg.ha,
		withNginx: !cfg.depsOnly, withClient: !cfg.depsOnly && !cfg.noClient}

	// Stop whatever started, however we leave: services first, since they
	// depend on the rest.
	defer func() {
		log.Info("stopping")
		stopAll(f.front, stopTimeout)
		stopAll(f.svcs, stopTimeout)
		stopAll(f.deps, stopTimeout)
		log.Info("stopped")
	}()

	if err := f.start(ctx, cfg, bins, getenv, out, log); err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while starting: not a failure
		}
		return fmt.Errorf("up: %w", err)
	}

	exports := formatExports(f.exports())
	if cfg.envFile != "" {
		if err := writeFileAtomic(cfg.envFile, []byte(exports), 0o600); err != nil {
			return fmt.Errorf("up: env file: %w", err)
		}
		// The addresses in it die with us; a stale file would send the next
		// reader to ports nobody listens on.
		defer func() {
			if err := os.Remove(cfg.envFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
				log.Warn("remove env file", "err", err)
			}
		}()
	}
	fmt.Fprint(out, exports)
	if !cfg.ephemeral {
		fmt.Fprint(out, f.summary())
	}

	<-ctx.Done()
	// A second Ctrl-C now kills the launcher at once; the kernel then kills
	// the children (see childSysProcAttr).
	stopSignals()
	log.Info("signal received; press Ctrl-C again to kill everything at once")
	return nil
}

// binaries are the programs up runs.
type binaries struct {
	self, redis, stripeMock string
	services                map[string]string
	// nginx, node and clientServer are set when the front runs.
	nginx, node, clientServer string
}

// findBinaries checks up front that every program exists, so a missing one
// is one clear error instead of a child that crashes and restarts forever.
func findBinaries(binDir string, svcs []service, cfg upConfig) (binaries, error) {
	var b binaries
	var errs []error
	self, err := os.Executable()
	if err != nil {
		errs = append(errs, fmt.Errorf("find own executable: %w", err))
	}
	b.self = self
	if b.redis, err = exec.LookPath("redis-server"); err != nil {
		errs = append(errs, fmt.Errorf("redis-server is not on PATH (make deps installs it): %w", err))
	}
	b.stripeMock = filepath.Join(binDir, "stripe-mock")
	if _, err := os.Stat(b.stripeMock); err != nil {
		errs = append(errs, fmt.Errorf("stripe-mock missing (make deps installs it): %w", err))
	}
	b.services = make(map[string]string, len(svcs))
	for _, s := range svcs {
		path := filepath.Join(binDir, s.name)
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("service %s not built (make build): %w", s.name, err))
		}
		b.services[s.name] = path
	}
	if !cfg.depsOnly {
		if b.nginx, err = findNginx(); err != nil {
			errs = append(errs, err)
		}
		if _, err := os.Stat(cfg.ingress); err != nil {
			errs = append(errs, fmt.Errorf("ingress manifest (nginx's routes come from it; --ingress names another): %w", err))
		}
	}
	if !cfg.depsOnly && !cfg.noClient {
		if b.node, err = exec.LookPath("node"); err != nil {
			errs = append(errs, fmt.Errorf("node is not on PATH (the web client needs Node.js 20): %w", err))
		}
		if b.clientServer, err = clientServer(cfg.clientDir); err != nil {
			errs = append(errs, err)
		}
	}
	return b, errors.Join(errs...)
}

// prepareDataDir makes the data directory and its subdirectories and claims
// it with local.pid. cleanup releases it, and removes it if ephemeral.
func prepareDataDir(cfg upConfig) (dir string, cleanup func() error, err error) {
	if cfg.ephemeral {
		dir, err = os.MkdirTemp("", "ticketing-local-")
		if err != nil {
			return "", nil, fmt.Errorf("make temporary data dir: %w", err)
		}
		cleanup = func() error { return removeAllPatiently(dir, 2*time.Second) }
	} else {
		dir, err = filepath.Abs(cfg.dataDir)
		if err != nil {
			return "", nil, fmt.Errorf("resolve --data: %w", err)
		}
		cleanup = func() error { return nil }
	}
	fail := func(err error) (string, func() error, error) {
		return "", nil, errors.Join(err, cleanup())
	}
	for _, sub := range []string{"mongo", "nats", "redis", "nginx", "pids"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fail(fmt.Errorf("make data dir: %w", err))
		}
	}
	pidFile := filepath.Join(dir, "local.pid")
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 && pid != os.Getpid() && launcherAlive(pid) {
			return fail(fmt.Errorf("already running as pid %d with data in %s (make down stops it)", pid, dir))
		}
	}
	if err := writeFileAtomic(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fail(err)
	}
	removeAll := cleanup
	cleanup = func() error {
		err := os.Remove(pidFile)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return errors.Join(err, removeAll())
	}
	return dir, cleanup, nil
}

// removeAllPatiently removes dir, retrying for a while: a grandchild we never
// saw (redis forks to rewrite its log) can still be writing there just after
// its parent stopped.
func removeAllPatiently(dir string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := os.RemoveAll(dir)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// launcherAlive says whether pid is a running `local up`. Where /proc tells
// what the process is, an unrelated one that reused the pid after a reboot
// or a kill -9 does not count.
func launcherAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(cmdline) == 0 {
		// No /proc here, or a process caught mid-exec or exiting: trust
		// the pid.
		return true
	}
	return slices.Contains(strings.Split(string(cmdline), "\x00"), "up")
}
