#!/usr/bin/env bash
# make fuzz: run every fuzz target for FUZZTIME (default 60s) each, one
# after another, against throw-away dependencies (bin/local up --ephemeral
# --deps-only), as `go test -fuzz` needs them for the targets that run a
# service in-process. A crashing input is saved by the Go tool under the
# package's testdata/fuzz/<target>/, where plain `go test` replays it.
#
# FUZZTIME (60s), FUZZ_PARALLEL (1: the machine's two cores are shared),
# FUZZ_TARGETS (all below, space-separated "package:Target").
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"
GO=${GO:-go}
fuzztime=${FUZZTIME:-60s}
parallel=${FUZZ_PARALLEL:-1}
targets=${FUZZ_TARGETS:-"./tests/security:FuzzTicketsRoutes ./tests/security:FuzzOrdersRoutes ./tests/security:FuzzPaymentsRoutes ./tests/security:FuzzAuthRoutes ./tests/security:FuzzEventDecode ./tests/security:FuzzVerifyToken ./common/session:FuzzDecodeCookieValue"}

work=$(mktemp -d)
launcher=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [[ -n $launcher ]] && kill -0 "$launcher" 2>/dev/null; then
    kill -TERM "$launcher"
    for _ in $(seq 150); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$launcher" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bin/local up --ephemeral --deps-only --bin bin --env-file "$work/env" >"$work/deps.log" 2>&1 &
launcher=$!
for _ in $(seq 1200); do
  [[ -f $work/env ]] && break
  if ! kill -0 "$launcher" 2>/dev/null; then
    echo "fuzz: the dependencies exited while starting:" >&2
    tail -n 30 "$work/deps.log" >&2
    exit 1
  fi
  sleep 0.1
done
[[ -f $work/env ]] || { echo "fuzz: the dependencies were not up in time" >&2; exit 1; }
# shellcheck disable=SC1091
source "$work/env"
export CI=${CI:-true} # a missing dependency fails a target rather than skipping it

status=0
summary=()
for t in $targets; do
  pkg=${t%%:*} name=${t#*:}
  echo "fuzz: $name in $pkg for $fuzztime"
  start=$(date +%s)
  log=$work/$name.log
  if "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel "$parallel" "$pkg" >"$log" 2>&1; then
    result=ok
    tail -n 3 "$log"
  else
    result=FAILED
    status=1
    # The progress lines say little; the rest says what failed and where
    # the input that did it was saved.
    grep -v 'fuzz: elapsed' "$log" | tail -n 60
  fi
  summary+=("$(printf '%-24s %-20s %4ss  %s' "$name" "$pkg" "$(( $(date +%s) - start ))" "$result")")
done
echo
echo "fuzz summary (each for $fuzztime):"
printf '  %s\n' "${summary[@]}"
exit $status
