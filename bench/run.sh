#!/usr/bin/env bash
# make bench: build the fleet and the load generator, start a throw-away
# fleet (bin/local up --ephemeral) with a short hold window, run the load
# scenarios against it, and write bench/results/<date>.md with the figures,
# the machine and the commit (plus the JSON and SVG chart of each run).
#
# Knobs (environment): BENCH_DURATION (30s), BENCH_CONCURRENCY (16),
# BENCH_HOLD_SECONDS (10), BENCH_RACE_TICKETS (200), BENCH_RACE_BUYERS (20),
# BENCH_EDITS (2000), BENCH_SETTLE (600s), BENCH_OUT (bench/results),
# BENCH_NAME (the UTC date).
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"
GO=${GO:-go}
duration=${BENCH_DURATION:-30s}
concurrency=${BENCH_CONCURRENCY:-16}
hold=${BENCH_HOLD_SECONDS:-10}
race_tickets=${BENCH_RACE_TICKETS:-200}
race_buyers=${BENCH_RACE_BUYERS:-20}
edits=${BENCH_EDITS:-2000}
settle=${BENCH_SETTLE:-600s}
out=${BENCH_OUT:-bench/results}
name=${BENCH_NAME:-$(date -u +%Y-%m-%d)}
mkdir -p "$out"

echo "bench: building the fleet and the load generator"
make --no-print-directory build >/dev/null
# The load generator is a module of its own with no workspace dependency,
# so it builds the same with or without go.work.
(cd tools/loadgen && GOWORK=off "$GO" build -o "$root/bin/loadgen" .)

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
launcher=
# shellcheck disable=SC2317 # called by the EXIT trap
stop_fleet() {
  if [[ -n $launcher ]] && kill -0 "$launcher" 2>/dev/null; then
    kill -TERM "$launcher"
    for _ in $(seq 150); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$launcher" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_fleet EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench: starting a fleet (hold window ${hold}s; its log: $work/fleet.log)"
EXPIRATION_WINDOW_SECONDS=$hold bin/local up --ephemeral --no-client --bin bin --env-file "$work/env" >"$work/fleet.log" 2>&1 &
launcher=$!
for _ in $(seq 1800); do
  [[ -f $work/env ]] && break
  if ! kill -0 "$launcher" 2>/dev/null; then
    echo "bench: the fleet exited while starting; its log:" >&2
    tail -n 30 "$work/fleet.log" >&2
    exit 1
  fi
  sleep 0.1
done
[[ -f $work/env ]] || { echo "bench: the fleet was not up within 3 minutes" >&2; tail -n 30 "$work/fleet.log" >&2; exit 1; }
# shellcheck disable=SC1091
source "$work/env"

status=0
# run NAME ARGS...: one load generator run, its outputs named after it.
run() {
  local part=$1
  shift
  echo "bench: $part: loadgen $*"
  if ! bin/loadgen -mongo "$TEST_MONGO_URI" -grace 5s -settle "$settle" -timeout 90m \
    -json "$out/$name-$part.json" -svg "$out/$name-$part.svg" -md "$work/$part.md" "$@" | tee "$work/$part.txt"; then
    status=1
  fi
}

# Through nginx, as a browser's requests go: the ingress is part of the
# figures.
run ingress -base "$APP_URL" -scenarios browse,purchase,race \
  -duration "$duration" -concurrency "$concurrency" \
  -race-tickets "$race_tickets" -race-buyers "$race_buyers" -race-concurrency 5
# While the edits run: which process of the fleet uses the CPU (from
# /proc, over 5 s), and, where perf is installed, where FerretDB spends it.
profile() {
  sleep 5
  local pids=() names=() t0=() t1=()
  for f in "$LOCAL_DATA_DIR"/pids/*.pid; do
    pids+=("$(<"$f")")
    names+=("$(basename "$f" .pid)")
  done
  ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
  for p in "${pids[@]}"; do t0+=("$(ticks "$p")"); done
  sleep 5
  for p in "${pids[@]}"; do t1+=("$(ticks "$p")"); done
  local hz
  hz=$(getconf CLK_TCK)
  for i in "${!pids[@]}"; do
    awk -v n="${names[$i]}" -v d=$(( ${t1[$i]} - ${t0[$i]} )) -v hz="$hz" 'BEGIN {printf "%s %.0f\n", n, d * 100 / hz / 5}'
  done | sort -k2 -nr >"$work/cpu.txt"
  if command -v perf >/dev/null; then
    perf record -F 199 -g -p "$(<"$LOCAL_DATA_DIR/pids/mongo.pid")" -o "$work/perf.data" -- sleep 10 >/dev/null 2>&1 || true
  fi
}
profile &
profiler=$!
# The edit sequences all in flight at once go to the services' own ports:
# nginx's worker_connections (1024, two per proxied request) would refuse
# most of 2,000 at once before they reached a service.
run edits -auth-url "$AUTH_URL" -tickets-url "$TICKETS_URL" -orders-url "$ORDERS_URL" -payments-url "$PAYMENTS_URL" \
  -scenarios edits -edits "$edits" -request-timeout 10m -event-timeout 10m
wait "$profiler" || true

echo "bench: micro-benchmarks (go test -bench ./tests/bench)"
micro=$work/micro.txt
if ! TEST_MONGO_URI=$TEST_MONGO_URI "$GO" test -run '^$' -bench . -benchmem -count 1 ./tests/bench/ >"$micro" 2>&1; then
  status=1
fi
cat "$micro"

report=$out/$name.md
commit=$(git rev-parse --short=12 HEAD)
# Only changes to what was built count; this run's own outputs do not.
dirty=$(git status --porcelain --untracked-files=no -- . ":(exclude)$out" | head -c1)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
{
  echo "# Benchmark $name"
  echo
  echo "Produced by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| commit | \`$commit\`${dirty:+ (with uncommitted changes)} |"
  echo "| machine | $(nproc) CPUs ($cpu), $mem memory, $(uname -sr) |"
  echo "| Go | $("$GO" env GOVERSION) |"
  echo "| load average before the run | $loadavg (other work on the machine shares its CPUs with the fleet) |"
  echo "| fleet | \`bin/local up --ephemeral --no-client\`: every service, FerretDB (SQLite, with the \`_id\` index in use: infra/local/cmd/ferretpatch), NATS Streaming, Redis and stripe-mock as its own process on this machine; hold window ${hold} s |"
  echo
  echo "Figures are what this machine measured in one run, not promises: the load generator shares the machine's CPUs with the whole fleet."
  echo "Latencies are per request, client-side, nearest-rank percentiles. Event lags are measured through the API by polling every 25 ms (100 ms for lapsing holds), so each is an upper bound with that resolution."
  echo
  echo "## Through the ingress: browse, purchase, race"
  echo
  echo "Browse and purchase ran $duration each with $concurrency flows in flight (purchase leaves every 5th order unpaid to lapse); race put up $race_tickets tickets, $race_buyers buyers each, 5 tickets raced at a time."
  echo "Chart: [$name-ingress.svg]($name-ingress.svg); all figures: [$name-ingress.json]($name-ingress.json)."
  cat "$work/ingress.md"
  echo
  echo "## Edits: $edits create → update(10) → update(15) sequences in flight at once"
  echo
  echo "Against the services' own ports. Chart: [$name-edits.svg]($name-edits.svg); all figures: [$name-edits.json]($name-edits.json)."
  cat "$work/edits.md"
  echo
  echo "## Where the time went during the edits"
  echo
  echo "CPU use of each process of the fleet over 5 s, 5 s into the edits (100% is one core):"
  echo
  echo "| process | CPU % |"
  echo "|---|--:|"
  awk '{printf "| %s | %s |\n", $1, $2}' "$work/cpu.txt" 2>/dev/null || true
  if [[ -s $work/perf.data ]]; then
    echo
    echo "FerretDB's CPU by function over the 10 s after that (\`perf record -g\`, inclusive share of its samples, FerretDB and SQLite frames):"
    echo
    echo '```'
    perf report -i "$work/perf.data" --stdio --children --sort symbol -g none 2>/dev/null |
      grep -E '^ +[0-9.]+%.*(FerretDB|sqlite)' | awk 'NR <= 14 {printf "%7s  %s\n", $1, $4}' || true
    echo '```'
  fi
  echo
  echo "## Hot paths (\`go test -bench . -benchmem ./tests/bench\`)"
  echo
  echo '```'
  grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$micro" || true
  echo '```'
} >"$report"
echo "bench: wrote $report"
exit $status
