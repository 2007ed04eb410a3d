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
SERVICES := auth tickets orders expiration
STRIPE_MOCK_VERSION := v0.203.0
# Debian packages as command:package; a missing command installs its package.
APT_DEPS := redis-server:redis-server
# How long `make test` waits for the launcher to bring the dependencies up.
UP_TIMEOUT ?= 120

# Tests fail instead of skipping when a dependency is missing under CI=true;
# pass CI on as given (also from `make test CI=true`), and unset if unset.
ifdef CI
export CI
endif

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help deps build up down test clean

help:
	@echo "make deps    install redis-server and bin/stripe-mock if missing"
	@echo "make build   build bin/local and the services ($(SERVICES))"
	@echo "make up      run the whole fleet in the foreground (Ctrl-C stops it)"
	@echo "make down    stop a 'make up' running elsewhere"
	@echo "make test    gofmt, go vet and go test -race over every module"
	@echo "make clean   remove $(DATA)/ and bin/"

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

build:
	$(GO) build -o bin/ ./infra/local $(foreach s,$(SERVICES),./services/$(s)/cmd/$(s))

up: deps build
	exec bin/local up --data $(DATA)

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

# The launcher runs in the background with its own log; the env file it
# writes once everything is up tells the tests where things are.
test: deps build
	@mkdir -p $(DATA)
	envfile=$(DATA)/test.env log=$(DATA)/test-local.log pidfile=$(DATA)/test-local.pid
	stop_launcher() {
	  local pid=$$1
	  kill -TERM "$$pid" 2>/dev/null || return 0
	  for _ in $$(seq 150); do kill -0 "$$pid" 2>/dev/null || return 0; sleep 0.1; done
	  kill -KILL "$$pid" 2>/dev/null || true
	}
	# A launcher left by a killed run: stop it (its pid file names it).
	if [[ -f $$pidfile ]]; then
	  old=$$(<"$$pidfile")
	  if tr '\0' ' ' <"/proc/$$old/cmdline" 2>/dev/null | grep -q 'up --ephemeral'; then
	    echo "stopping the launcher of an earlier run (pid $$old)"
	    stop_launcher "$$old"
	  fi
	  rm -f "$$pidfile"
	fi
	rm -f "$$envfile"
	bin/local up --ephemeral --deps-only --env-file "$$envfile" >"$$log" 2>&1 &
	launcher=$$!
	echo "$$launcher" >"$$pidfile"
	trap 'stop_launcher $$launcher; rm -f "$$pidfile"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for _ in $$(seq $$(( $(UP_TIMEOUT) * 10 ))); do
	  [[ -f $$envfile ]] && break
	  if ! kill -0 "$$launcher" 2>/dev/null; then
	    echo "the launcher exited before the dependencies were up; its log ($$log):" >&2
	    tail -n 30 "$$log" >&2
	    exit 1
	  fi
	  sleep 0.1
	done
	if [[ ! -f $$envfile ]]; then
	  echo "the dependencies were not up within $(UP_TIMEOUT)s; the launcher's log ($$log):" >&2
	  tail -n 30 "$$log" >&2
	  exit 1
	fi
	source "$$envfile"
	status=0
	unformatted=$$(git ls-files --cached --others --exclude-standard -- '*.go' | while read -r f; do [[ -f $$f ]] && echo "$$f"; done | xargs -r gofmt -l)
	if [[ -n $$unformatted ]]; then
	  echo "gofmt: these files need formatting (gofmt -w):"; echo "$$unformatted"
	  status=1
	fi
	modules=$$($(GO) list -m -f '{{.Dir}}/...')
	$(GO) vet $$modules || status=1
	$(GO) test -race -count=1 -json $$modules 2>&1 | bin/local testsum || status=1
	exit $$status

clean:
	rm -rf $(DATA) bin
