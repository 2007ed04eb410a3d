# Developer entry points; see ARCHITECTURE.md §4 for what runs where.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
# One shell per recipe, so a recipe can set a trap and keep variables.
.ONESHELL:
.DEFAULT_GOAL := help

GO ?= go
# Where `make up` keeps its data across runs (FerretDB, NATS, Redis, pids).
DATA ?= .data
# Service commands built into bin/: ./services/<name>/cmd/<name>.
SERVICES := auth tickets orders expiration payments
STRIPE_MOCK_VERSION := v0.203.0
# Debian packages as command:package; a missing command installs its package.
APT_DEPS := redis-server:redis-server nginx:nginx chromium:chromium jq:jq
# How long `make test` waits for the launcher to bring the dependencies up.
UP_TIMEOUT ?= 120
# The event bus of `make up`, `make bench` and `make faults`: stan (NATS
# Streaming) or jetstream (NATS JetStream).
BUS ?= stan
export BUS
# Copies of each service `make up` and `make faults` run (behind nginx), and
# HA=1 for the three-node bus and Redis with Sentinel (bin/local up --ha).
REPLICAS ?= 1
HA ?=

# Tests fail instead of skipping when a dependency is missing under CI=true;
# pass CI on as given (also from `make test CI=true`), and unset if unset.
ifdef CI
export CI
endif

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help deps build up down test test-go clean bench fuzz faults dryrun

help:
	@echo "make deps         install redis-server, nginx, chromium, jq and bin/stripe-mock if missing"
	@echo "make build        build bin/local and the services ($(SERVICES))"
	@echo "make client       install the web client's packages and build it"
	@echo "make up           run the whole fleet in the foreground (Ctrl-C stops it); BUS=jetstream for NATS JetStream, as for bench and faults; REPLICAS=2 for two copies of each service, HA=1 for a three-node bus and Redis with Sentinel"
	@echo "make down         stop a 'make up' running elsewhere"
	@echo "make test         every check (test-go and test-client), ending with one summary line"
	@echo "make test-go      gofmt, go vet, go test -race over every module (needs the dependencies: bin/local with --deps-only -- make test-go)"
	@echo "make test-client  the client's lint, type check, unit and browser tests, on a fleet of their own"
	@echo "make clean        remove $(DATA)/ and bin/"
	@echo "make bench        load scenarios on a fresh fleet; writes bench/results/<date>.md"
	@echo "make fuzz         every fuzz target for FUZZTIME ($(FUZZTIME)) each"
	@echo "make faults       the fault suite's long form (kill -9 each part under load, database outage)"
	@echo "make dryrun       every Kubernetes overlay through a real API server built here (kubectl apply --dry-run=server)"

deps: bin/stripe-mock
	@missing=()
	for dep in $(APT_DEPS); do
	  command -v "$${dep%%:*}" >/dev/null 2>&1 || missing+=("$${dep#*:}")
	done
	if (( $${#missing[@]} )); then
	  echo "installing $${missing[*]}"
	  $(SUDO) apt-get update
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$${missing[@]}"
	fi

bin/stripe-mock:
	GOBIN=$(CURDIR)/bin $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

# bin/local embeds FerretDB built with two lines changed (see
# infra/local/cmd/ferretpatch): a filter naming _id uses the _id index, as on
# MongoDB, instead of a scan of the collection.
build:
	work=$$($(GO) run ./infra/local/cmd/ferretpatch -out bin/ferretdb)
	GOWORK=$$work $(GO) build -o bin/ ./infra/local
	$(GO) build -o bin/ $(foreach s,$(SERVICES),./services/$(s)/cmd/$(s)) ./tools/testsum

up: deps build client
	exec bin/local up --data $(DATA) --bus $(BUS) --replicas $(REPLICAS) $(if $(HA),--ha)

down:
	@pidfile=$(DATA)/local.pid
	if [[ ! -f $$pidfile ]]; then echo "not running (no $$pidfile)"; exit 0; fi
	pid=$$(<"$$pidfile")
	if ! kill -0 "$$pid" 2>/dev/null; then echo "not running (stale $$pidfile)"; rm -f "$$pidfile"; exit 0; fi
	kill -TERM "$$pid"
	for _ in $$(seq 300); do
	  kill -0 "$$pid" 2>/dev/null || { echo "stopped (pid $$pid)"; exit 0; }
	  sleep 0.1
	done
	echo "pid $$pid is still running 30s after SIGTERM" >&2
	exit 1

# Every check, then one line for the whole run: the Go checks against
# throw-away dependencies of their own (bin/local with --deps-only), the
# client's (test-client), and the total.
test: deps build client
	@mkdir -p $(DATA)
	rm -f $(DATA)/go.summary $(DATA)/client.summary
	status=0
	bin/local with --deps-only --timeout $(UP_TIMEOUT)s --log $(DATA)/test-local.log --pid-file $(DATA)/test-local.pid \
	  -- $(MAKE) --no-print-directory test-go || status=1
	$(MAKE) --no-print-directory test-client CLIENT_SUMMARY=$(CURDIR)/$(DATA)/client.summary || status=1
	bin/testsum total $(DATA)/go.summary $(DATA)/client.summary || status=1
	exit $$status

# gofmt, go vet and go test -race over every module, against the
# dependencies a `bin/local with` around it started (TEST_MONGO_URI, ...);
# ends with "go: N passed, N failed" in $(DATA)/go.summary.
test-go:
	@status=0
	unformatted=$$(git ls-files --cached --others --exclude-standard -- '*.go' | while read -r f; do [[ -f $$f ]] && echo "$$f"; done | xargs -r gofmt -l)
	if [[ -n $$unformatted ]]; then
	  echo "gofmt: these files need formatting (gofmt -w):"; echo "$$unformatted"
	  status=1
	fi
	modules=$$($(GO) list -m -f '{{.Dir}}/...')
	$(GO) vet $$modules || status=1
	$(GO) test -race -count=1 -json $$modules 2>&1 | bin/testsum --summary-file $(DATA)/go.summary || status=1
	exit $$status

# The web client (client/): `npm ci` when its lockfile changes, `next build`
# into client/.next when a source file does; each is skipped when up to date.
CLIENT_ENV := PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 NEXT_TELEMETRY_DISABLED=1
CLIENT_SRC := $(shell find client \( -name node_modules -o -name .next -o -name test-results -o -name playwright-report -o -name e2e \) -prune \
	-o -type f ! -name '*.test.ts' ! -name '*.test.tsx' ! -name '*.tsbuildinfo' ! -name next-env.d.ts -print 2>/dev/null)
# The Ingress manifest that the fleet's nginx takes its routes from.
INGRESS ?= infra/k8s/base/ingress.yaml
# How long a reservation lasts in the browser tests' fleet, in seconds.
CLIENT_HOLD_SECONDS ?= 5

.PHONY: client test-client

client: client/.next/standalone/server.js

client/node_modules/.package-lock.json: client/package.json client/package-lock.json
	(cd client && $(CLIENT_ENV) npm ci --no-audit --no-fund)
	touch $@

client/.next/standalone/server.js: client/node_modules/.package-lock.json $(CLIENT_SRC)
	(cd client && $(CLIENT_ENV) npm run build)
	touch $@

# The client's lint, type check and unit tests, then its browser tests in
# Debian's Chromium against a whole fleet of its own (free ports, holds of
# CLIENT_HOLD_SECONDS), through nginx as a person would use it. Ends with
# "client: N passed, N failed", also written to CLIENT_SUMMARY when set.
test-client: deps build client
	@mkdir -p $(DATA)
	results=$(CURDIR)/$(DATA)/client-results
	rm -rf "$$results" client/test-results/screenshots
	mkdir -p "$$results"
	export $(CLIENT_ENV)
	check() {
	  local name=$$1; shift
	  echo "== client: $$name"
	  if (cd client && "$$@"); then echo "$$name: ok" >>"$$results/steps"; else echo "$$name: FAIL" >>"$$results/steps"; fi
	}
	check lint npm run --silent lint
	check typecheck npm run --silent typecheck
	echo "== client: unit tests"
	(cd client && npx vitest run --reporter=default --reporter=json --outputFile.json="$$results/unit.json") || true
	echo "== client: browser tests (the fleet's log: $(DATA)/client-test-local.log)"
	EXPIRATION_WINDOW_SECONDS=$(CLIENT_HOLD_SECONDS) bin/local with --ingress $(INGRESS) --timeout $(UP_TIMEOUT)s \
	  --log $(DATA)/client-test-local.log --pid-file $(DATA)/client-test-local.pid \
	  -- bash -c 'cd client && BASE_URL=$$APP_URL PLAYWRIGHT_JSON_OUTPUT_FILE="$$0/browser.json" npx playwright test --reporter=list,json' "$$results" || true
	node client/scripts/test-summary.mjs "$$results" $(CLIENT_SUMMARY)

clean:
	rm -rf $(DATA) bin

# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 60s

# A throw-away fleet with a short hold window, the load scenarios against it,
# and bench/results/<date>.md with the figures, the machine and the commit.
bench: deps build
	bench/run.sh

# Every fuzz target for $(FUZZTIME) each; `make test` replays only their seeds.
fuzz: deps build
	FUZZTIME=$(FUZZTIME) tests/security/fuzz.sh

# The fault suite's long form; `make test` runs the short one.
# Every overlay through a real Kubernetes API server (--dry-run=server),
# built and started on this machine: infra/k8s/dryrun.sh.
dryrun:
	infra/k8s/dryrun.sh

faults: deps build
	FAULTS_LONG=1 FAULTS_BUS=$(BUS) $(GO) test -race -count=1 -v -timeout 30m ./tests/faults/
