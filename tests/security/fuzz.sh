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

# Dependencies around the whole run (bin/local with --deps-only): the
# script runs itself again inside them, with TEST_MONGO_URI and the rest set.
if [[ -z ${FUZZ_IN_FLEET:-} ]]; then
  FUZZ_IN_FLEET=1 exec bin/local with --deps-only --bin bin -- "$0" "$@"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
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
