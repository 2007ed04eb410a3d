#!/usr/bin/env bash
# make bench: build the fleet and the load generator, start a throw-away
# fleet (bin/local up --ephemeral) with a short hold window, run the load
# scenarios against it through the ingress (nginx), and write
# bench/results/<date>.md with the figures, the machine and the commit (plus
# the JSON and SVG chart of each run). The runs, in order, on one fleet:
#
#   small  the store listed up to 100 tickets; browse, then purchase
#   rush   5,000 buyers arriving within 1 s for 500 tickets
#   storm  10,000 edit sequences in flight at once, then purchase at once,
#          while the fleet still works through the storm's events
#   flows  purchase alone at 2, 4, 8 and 16 flows, one run each, with the
#          machine's CPU use: where the fleet's capacity on this machine ends
#          (after the storm, whose agreement figure has the resolution of
#          one read of the whole replica, so the tickets these runs list
#          would coarsen it)
#   large  the store listed up to 100,000 tickets; browse, then purchase
#   idle   FerretDB's CPU over 60 s with nothing to do, 100,000 tickets stored
#
# About 25 minutes on this project's 2-CPU machine when every run settles,
# most of it the rush's 5,000 sign-ups (a password hash each, 12-21 a
# second here) and the listing of 100,000 tickets; each run whose state does
# not converge adds up to BENCH_SETTLE to that.
#
# Knobs (environment): BENCH_DURATION (30s), BENCH_CONCURRENCY (16),
# BENCH_HOLD_SECONDS (10), BENCH_SMALL_STORE (100), BENCH_LARGE_STORE
# (100000), BENCH_RUSH_BUYERS (5000), BENCH_RUSH_TICKETS (500),
# BENCH_RUSH_LAPSE (20, percent), BENCH_EDITS (10000), BENCH_IDLE_SECONDS
# (60), BENCH_FLOWS ("2 4 8 16"), BENCH_SETTLE (300s: how long each run's
# checks wait for the state to converge), BENCH_OUT (bench/results), BENCH_NAME (the UTC date, with
# -jetstream added on that bus), BUS (stan, or jetstream: the event bus the
# fleet runs, bin/local up --bus).
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"
GO=${GO:-go}
duration=${BENCH_DURATION:-30s}
concurrency=${BENCH_CONCURRENCY:-16}
hold=${BENCH_HOLD_SECONDS:-10}
small=${BENCH_SMALL_STORE:-100}
large=${BENCH_LARGE_STORE:-100000}
rush_buyers=${BENCH_RUSH_BUYERS:-5000}
rush_tickets=${BENCH_RUSH_TICKETS:-500}
rush_lapse=${BENCH_RUSH_LAPSE:-20}
edits=${BENCH_EDITS:-10000}
idle=${BENCH_IDLE_SECONDS:-60}
read -r -a flows <<<"${BENCH_FLOWS:-2 4 8 16}"
settle=${BENCH_SETTLE:-300s}
out=${BENCH_OUT:-bench/results}
bus=${BUS:-stan}
case $bus in
  stan) suffix= ;;
  jetstream) suffix=-jetstream ;;
  *) echo "bench: BUS must be stan or jetstream, not $bus" >&2; exit 2 ;;
esac
name=${BENCH_NAME:-$(date -u +%Y-%m-%d)$suffix}
mkdir -p "$out"
began=$(date +%s)
# The summary reads the runs' figures out of their JSON: fail now, not
# after the runs.
command -v jq >/dev/null || { echo "bench: needs jq (apt-get install jq) to read the runs' figures" >&2; exit 1; }

echo "bench: building the fleet and the load generator"
make --no-print-directory build >/dev/null
# The load generator is a module of its own with no workspace dependency,
# so it builds the same with or without go.work.
(cd tools/loadgen && GOWORK=off "$GO" build -o "$root/bin/loadgen" .)

# One fleet around the runs (bin/local with): the script runs itself again
# inside it, with the fleet's variables (APP_URL, LOCAL_DATA_DIR, ...).
fleetlog=.data/bench-$name-fleet.log
if [[ -z ${BENCH_IN_FLEET:-} ]]; then
  mkdir -p .data
  echo "bench: starting a fleet (hold window ${hold}s; its log: $fleetlog)"
  BENCH_IN_FLEET=1 EXPIRATION_WINDOW_SECONDS=$hold exec bin/local with --no-client --bus "$bus" --bin bin \
    --timeout 3m --log "$fleetlog" -- "$0" "$@"
fi

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
# shellcheck disable=SC2317 # called by the EXIT trap
finish() {
  # The fleet's log is the only record of what each service did: keep it
  # when a run failed a check, so a finding can be traced afterwards.
  if [[ ${status:-0} != 0 && -s $fleetlog ]]; then
    gzip -c "$fleetlog" >"$fleetlog.gz" &&
      echo "bench: a check failed; the fleet's log is in $fleetlog.gz" >&2
  fi
  rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

status=0
# run NAME ARGS...: one load generator run through the ingress, as a
# browser's requests go (nginx is part of the figures), its outputs named
# after it.
run() {
  local part=$1
  shift
  echo "bench: $part: loadgen $*"
  if ! bin/loadgen -base "$APP_URL" -mongo "$TEST_MONGO_URI" -grace 5s -settle "$settle" -timeout 90m \
    -json "$out/$name-$part.json" -svg "$out/$name-$part.svg" -md "$work/$part.md" "$@" | tee "$work/$part.txt"; then
    status=1
  fi
}

# cpu SECONDS FILE: each fleet process's CPU over SECONDS, from /proc (100 %
# is one core), busiest first, then a last line "machine" with the busy time
# of all the machine's CPUs in the same unit (every process, the load
# generator's and other work's included).
cpu() {
  local secs=$1 file=$2 pids=() names=() t0=() t1=() m0 m1 hz
  for f in "$LOCAL_DATA_DIR"/pids/*.pid; do
    pids+=("$(<"$f")")
    names+=("$(basename "$f" .pid)")
  done
  ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
  # Busy ticks of all CPUs: user through steal, less idle and iowait.
  machine() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
  for p in "${pids[@]}"; do t0+=("$(ticks "$p")"); done
  m0=$(machine)
  sleep "$secs"
  for p in "${pids[@]}"; do t1+=("$(ticks "$p")"); done
  m1=$(machine)
  hz=$(getconf CLK_TCK)
  percent() { awk -v n="$1" -v d="$2" -v hz="$hz" -v s="$secs" 'BEGIN {printf "%s %.1f\n", n, d * 100 / hz / s}'; }
  {
    for i in "${!pids[@]}"; do percent "${names[$i]}" $((${t1[$i]} - ${t0[$i]})); done | sort -k2 -nr
    percent machine $((m1 - m0))
  } >"$file"
}

# During the storm: which process uses the CPU (over 5 s, 5 s in), and,
# where perf is installed, where FerretDB spends it.
profile() {
  sleep 5
  cpu 5 "$work/cpu.txt"
  if command -v perf >/dev/null; then
    perf record -F 199 -g -p "$(<"$LOCAL_DATA_DIR/pids/mongo.pid")" -o "$work/perf.data" -- sleep 10 >/dev/null 2>&1 || true
  fi
}

run small -scenarios browse,purchase -seed-tickets "$small" -seed-total -browse-seed 0 \
  -duration "$duration" -concurrency "$concurrency"
run rush -scenarios rush -rush-buyers "$rush_buyers" -rush-tickets "$rush_tickets" -rush-lapse "$rush_lapse"
# Each of the storm's sequences holds a connection through nginx, which
# bin/local sizes for 10,000 clients at once.
(
  # Starts with the storm's first request (its sign-up is the only set-up).
  profile
) &
profiler=$!
run storm -scenarios edits,purchase -edits "$edits" -duration "$duration" -concurrency "$concurrency" \
  -request-timeout 10m -event-timeout 10m
wait "$profiler" || true
# The same purchase at growing numbers of flows. Each flow asks for its next
# step as soon as the last is answered, so past the fleet's capacity more
# flows only lengthen every queue: the CPU figures (10 s, 10 s in, so inside
# the load when BENCH_DURATION is the default 30 s) show where that is.
for f in "${flows[@]}"; do
  (
    sleep 10
    cpu 10 "$work/cpu-flows$f.txt"
  ) &
  sampler=$!
  run "flows$f" -scenarios purchase -duration "$duration" -concurrency "$f"
  wait "$sampler" || true
done
run large -scenarios browse,purchase -seed-tickets "$large" -seed-total -seed-concurrency 16 -browse-seed 0 \
  -duration "$duration" -concurrency "$concurrency"
echo "bench: FerretDB's CPU with nothing to do, over ${idle}s"
cpu "$idle" "$work/idle.txt"
stored_large=$(jq -r '[.phases[] | select(.name == "browse") | .counters["tickets stored at start"]][0] // "?"' "$out/$name-large.json")
stored_small=$(jq -r '[.phases[] | select(.name == "browse") | .counters["tickets stored at start"]][0] // "?"' "$out/$name-small.json")

echo "bench: micro-benchmarks (go test -bench ./tests/bench)"
micro=$work/micro.txt
if ! TEST_MONGO_URI=$TEST_MONGO_URI "$GO" test -run '^$' -bench . -benchmem -count 1 ./tests/bench/ >"$micro" 2>&1; then
  status=1
fi
cat "$micro"
minutes=$(( ($(date +%s) - began + 30) / 60 ))

# Figures picked out of a run's JSON: a phase's throughput, an endpoint's
# latency, an event lag, a check's failures, answers by kind.
j() { jq -r "$2" "$out/$name-$1.json"; }
rate() { j "$1" "[.phases[] | select(.name == \"$2\") | .throughputPerSec][0] // 0 | . * 10 | round / 10"; }
lat() { j "$1" "[.phases[] | select(.name == \"$2\") | .endpoints[]? | select(.endpoint == \"$3\") | .latency.${4}Ms][0] // 0 | . * 10 | round / 10"; }
alllat() { j "$1" "[.phases[] | select(.name == \"$2\") | .latency.${3}Ms][0] // 0 | . * 10 | round / 10"; }
lag() { j "$1" "[.phases[] | select(.name == \"$2\") | .lags[]? | select(.name == \"$3\") | .lag.${4}Ms][0] // \"none\" | if type == \"number\" then . * 10 | round / 10 else . end"; }
failures() { j "$1" "[.checks[] | select(.name == \"$2\") | .failures][0] // \"?\""; }
answers() { # RUN transport|5xx
  if [[ $2 == transport ]]; then
    j "$1" '[.phases[].endpoints[]?.statuses | to_entries[] | select(.key == "transport") | .value] | add // 0'
  else
    j "$1" '[.phases[].endpoints[]?.statuses | to_entries[] | select(.key != "transport" and (.key | tonumber) >= 500) | .value] | add // 0'
  fi
}
# met VALUE OP TARGET: yes or no ("none" is no).
met() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v !~ /^[0-9.]+$/) { print "no"; exit } ok = (op == "<") ? v + 0 < t + 0 : (op == ">=") ? v + 0 >= t + 0 : v + 0 == t + 0; print ok ? "yes" : "no" }'; }
row() { # WHAT TARGET-TEXT VALUE OP TARGET [UNIT]
  printf '| %s | %s | %s%s | %s |\n' "$1" "$2" "$3" "${6:-}" "$(met "$3" "$4" "$5")"
}

# cpu_rows FILE: a cpu() file as table rows.
cpu_rows() {
  awk '{n = ($1 == "mongo") ? "mongo (FerretDB)" : ($1 == "machine") ? "all CPUs (every process)" : $1; printf "| %s | %s |\n", n, $2}' "$1" 2>/dev/null || true
}

report=$out/$name.md
commit=$(git rev-parse --short=12 HEAD)
# Only changes to what was built count; this run's own outputs do not.
dirty=$(git status --porcelain --untracked-files=no -- . ":(exclude)$out" | head -c1)
cpuname=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
idle_store=$(awk '$1 == "mongo" {print $2}' "$work/idle.txt" 2>/dev/null)
idle_store=${idle_store:-?}
{
  echo "# Benchmark $name"
  echo
  echo "Produced by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC') in $minutes minutes."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| commit | \`$commit\`${dirty:+ (with uncommitted changes)} |"
  echo "| machine | $(nproc) CPUs ($cpuname), $mem memory, $(uname -sr) |"
  echo "| Go | $("$GO" env GOVERSION) |"
  echo "| load average before the run | $loadavg (other work on the machine shares its CPUs with the fleet) |"
  echo "| fleet | \`bin/local up --ephemeral --no-client\`: every service, FerretDB (SQLite, with the \`_id\` index in use: infra/local/cmd/ferretpatch), the event bus (\`$bus\`: $([[ $bus == stan ]] && echo "NATS Streaming" || echo "NATS JetStream")), Redis and stripe-mock as its own process on this machine; hold window ${hold} s |"
  echo
  echo "Figures are what this machine measured in one run, not promises: the load generator shares the machine's CPUs with the whole fleet."
  echo "Every request goes through nginx. Latencies are per request, client-side, nearest-rank percentiles. Event lags are measured through the API by polling (25 ms in purchase; 100 ms for lapsing holds, each read by its own \`GET /api/orders/:id\`, and in the rush), so each is an upper bound with that resolution."
  echo
  echo "## Against the targets"
  echo
  echo "| what | target | measured | met |"
  echo "|---|---|--:|---|"
  row "browse at $stored_small tickets stored: throughput" ">= 1,200 req/s" "$(rate small browse)" ">=" 1200 " req/s"
  row "browse at $stored_small tickets stored: p99, all requests" "< 50 ms" "$(alllat small browse p99)" "<" 50 " ms"
  row "browse at $stored_large tickets stored: throughput" ">= 1,000 req/s" "$(rate large browse)" ">=" 1000 " req/s"
  row "purchase ($concurrency flows, small store): ticket created → orderable p99" "< 100 ms" "$(lag small purchase 'ticket created → orderable' p99)" "<" 100 " ms"
  row "purchase ($concurrency flows, small store): payment → order complete p99" "< 200 ms" "$(lag small purchase 'payment → order complete' p99)" "<" 200 " ms"
  row "purchase ($concurrency flows, small store): unpaid hold cancelled, after expiresAt, p99" "< 500 ms" "$(lag small purchase 'expiresAt → order cancelled' p99)" "<" 500 " ms"
  row "purchase at $stored_large stored: ticket created → orderable p99" "< 100 ms" "$(lag large purchase 'ticket created → orderable' p99)" "<" 100 " ms"
  row "purchase at $stored_large stored: payment → order complete p99" "< 200 ms" "$(lag large purchase 'payment → order complete' p99)" "<" 200 " ms"
  row "purchase at $stored_large stored: unpaid hold cancelled, after expiresAt, p99" "< 500 ms" "$(lag large purchase 'expiresAt → order cancelled' p99)" "<" 500 " ms"
  row "purchase right after the edit storm: unpaid hold cancelled, after expiresAt, max" "< 10 s" "$(lag storm purchase 'expiresAt → order cancelled' max)" "<" 10000 " ms"
  row "rush, $rush_buyers buyers × $rush_tickets tickets: double sales (tickets held by two orders)" "0" "$(failures rush 'double reservations')" "==" 0
  row "rush: transport errors (no answer)" "0" "$(answers rush transport)" "==" 0
  row "rush: server errors (5xx)" "0" "$(answers rush 5xx)" "==" 0
  row "rush: holds not resolved (orders still created past hold + grace)" "0" "$(failures rush 'orders stuck in created past hold + grace')" "==" 0
  row "rush: replica mismatches (tickets → orders)" "0" "$(failures rush 'replica mismatches (tickets → orders: title, price, version)')" "==" 0
  row "edits, $edits sequences at once: transport errors (no answer)" "0" "$(answers storm transport)" "==" 0
  row "edits: server errors (5xx)" "0" "$(answers storm 5xx)" "==" 0
  row "edits: last answer → replicas agree, p99 over tickets" "< 2 s" "$(lag storm edits 'last answer → replicas agree' p99)" "<" 2000 " ms"
  echo
  echo "Also measured: the rush sold every ticket $(lag rush rush 'rush start → every ticket sold' max) ms after the first buyer arrived (see the rush below for what that includes);"
  echo "the edits' replicas all agreed $(lag storm edits 'last answer → replicas agree' max) ms after the last answer;"
  echo "\`GET /api/tickets?limit=100\` p50 was $(lat small browse 'GET /api/tickets' p50) ms with $stored_small tickets stored and $(lat large browse 'GET /api/tickets' p50) ms with $stored_large (p99 $(lat small browse 'GET /api/tickets' p99) and $(lat large browse 'GET /api/tickets' p99) ms);"
  echo "FerretDB used ${idle_store} % of a core over ${idle} s idle with $stored_large tickets stored."
  echo
  echo "## Small store: browse and purchase at $stored_small tickets"
  echo
  echo "The store was listed up to $small tickets through the API (phase \`seed\`), then browse and purchase ran $duration each with $concurrency flows in flight (browse: \`GET /api/tickets?limit=100\`, then one ticket; purchase leaves every 5th order unpaid to lapse)."
  echo "Chart: [$name-small.svg]($name-small.svg); all figures: [$name-small.json]($name-small.json)."
  cat "$work/small.md"
  echo
  echo "## Rush: $rush_buyers buyers arriving within 1 s for $rush_tickets tickets"
  echo
  echo "Set-up, outside the rush's figures (phase \`rush set-up\`): sellers list $rush_tickets tickets and $rush_buyers buyers sign up, 8 at a time."
  echo "Then each buyer arrives at its moment (evenly spread over 1 s), reads \`GET /api/tickets\`, opens one of the sale's tickets on it and tries \`POST /api/orders\`; a buyer who loses, or finds it reserved, goes back to the list, at most 3 times, and leaves when the list shows none of the sale's tickets."
  echo "Winners pay (\`POST /api/payments\`, Stripe test token) and wait for the order to be complete; every fifth winner ($rush_lapse %) lets the hold lapse instead."
  echo "A ticket whose hold lapsed (or that nobody reserved) goes to a buyer who left empty-handed: from its \`expiresAt\` that buyer looks at the ticket every 100 ms, reserves it once it is on sale again, and pays."
  echo "A ticket is **decided** when the order that bought it is seen complete; \"rush start → every ticket sold\" is from the first arrival until the last ticket was decided, so it includes the ${hold} s hold window of the lapsed holds and their resale."
  echo "Chart: [$name-rush.svg]($name-rush.svg); all figures: [$name-rush.json]($name-rush.json)."
  cat "$work/rush.md"
  echo
  echo "## Storm: $edits edit sequences at once, then purchase"
  echo
  echo "Each sequence is create → update(10) → update(15) of one ticket; all $edits are in flight at once, through nginx. From the last answer, the load generator reads the orders service's replica of the tickets back to back (each read takes the whole collection, so its duration is the resolution) and records, per edited ticket, when it was first seen at price 15, version 2: \"last answer → replicas agree\" (0 for a ticket that agreed before the last answer)."
  echo "Purchase ($duration, $concurrency flows) starts as soon as the last edit is answered, while the fleet still delivers the storm's events."
  echo "Chart: [$name-storm.svg]($name-storm.svg); all figures: [$name-storm.json]($name-storm.json)."
  cat "$work/storm.md"
  echo
  echo "### Where the time went during the storm"
  echo
  echo "CPU use of each process of the fleet over 5 s, 5 s into the edits (100% is one core):"
  echo
  echo "| process | CPU % |"
  echo "|---|--:|"
  cpu_rows "$work/cpu.txt"
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
  echo "## Purchase at growing numbers of flows"
  echo
  echo "Purchase alone, $duration per run, on the store the storm left; each flow asks for its next step as soon as the last is answered, so the fleet always has work while any flow waits. CPU over 10 s, 10 s into each run (100 % is one core): all of the machine's $(nproc) CPUs, and FerretDB's."
  echo "Where throughput stops growing the fleet is at its capacity on this machine: from there, each flow added is one more request in the queues, and every lag below (each is at least one request's round trip) grows with it."
  echo
  echo "| flows | purchase req/s | machine CPU | FerretDB CPU | \`POST /api/orders\` p50 | ticket created → orderable p99 | payment → order complete p99 | unpaid hold cancelled p99 |"
  echo "|--:|--:|--:|--:|--:|--:|--:|--:|"
  for f in "${flows[@]}"; do
    printf '| %s | %s | %s %% | %s %% | %s ms | %s ms | %s ms | %s ms |\n' "$f" "$(rate "flows$f" purchase)" \
      "$(awk '$1 == "machine" {print $2}' "$work/cpu-flows$f.txt" 2>/dev/null)" "$(awk '$1 == "mongo" {print $2}' "$work/cpu-flows$f.txt" 2>/dev/null)" \
      "$(lat "flows$f" purchase 'POST /api/orders' p50)" \
      "$(lag "flows$f" purchase 'ticket created → orderable' p99)" "$(lag "flows$f" purchase 'payment → order complete' p99)" \
      "$(lag "flows$f" purchase 'expiresAt → order cancelled' p99)"
  done
  echo
  echo "Every figure of each run: \`$name-flows<N>.json\`."
  echo
  echo "## Large store: browse and purchase at $stored_large tickets"
  echo
  echo "The store was listed up to $large tickets through the API, 16 at a time (phase \`seed\`, which waits until every check passes, so the scenarios meet a settled store), then browse and purchase ran as on the small store."
  echo "Chart: [$name-large.svg]($name-large.svg); all figures: [$name-large.json]($name-large.json)."
  cat "$work/large.md"
  echo
  echo "## Idle, $stored_large tickets stored"
  echo
  echo "CPU use of each process of the fleet over ${idle} s with no load, right after the large-store run (100% is one core):"
  echo
  echo "| process | CPU % |"
  echo "|---|--:|"
  cpu_rows "$work/idle.txt"
  echo
  echo "## Hot paths (\`go test -bench . -benchmem ./tests/bench\`)"
  echo
  echo '```'
  grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$micro" || true
  echo '```'
} >"$report"
echo "bench: wrote $report ($minutes minutes)"
exit $status
