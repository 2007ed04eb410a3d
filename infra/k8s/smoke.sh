#!/usr/bin/env bash
# Smoke test of a running Ticketing site through its public URL, the way a
# browser reaches it (ingress, cookies, the bus between tickets and orders):
# signs up a seller, lists tickets, creates a ticket, signs up a buyer who
# reserves it (POST /api/orders -> 201) and cancels the order again.
#
#   infra/k8s/smoke.sh https://ticketing.example.com   # what the deploy workflow runs
#   infra/k8s/smoke.sh http://localhost:8080           # the local fleet (make up)
#   SMOKE_INSECURE=1 infra/k8s/smoke.sh https://ticketing.dev   # self-signed certificate
#
# SMOKE_WAIT_SECONDS (default 180) bounds the two waits: for the site to answer
# at all (a fresh rollout, a certificate being issued), and for the new ticket
# to reach the orders service over the bus (its POST /api/orders is a 404 until
# then). Any other unexpected status ends the test with a non-zero exit and the
# request, the status and the response body on stderr.
#
# Every run leaves two users (smoke-<run>-seller/buyer@example.com) and one
# ticket titled "Smoke test <run>" behind: the API has no route that deletes them.
# Needs bash, curl and jq.

# The jq filters name their --arg variables ($e, $t, ...) in single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail

usage() {
	echo "usage: $0 BASE_URL   (e.g. $0 https://ticketing.example.com)" >&2
	exit 2
}

(($# == 1)) || usage
base=${1%/}
[[ $base =~ ^https?://[^/]+$ ]] || usage
for tool in curl jq; do
	command -v "$tool" >/dev/null || {
		echo "smoke: needs $tool on the PATH" >&2
		exit 2
	}
done
wait_seconds=${SMOKE_WAIT_SECONDS:-180}
[[ $wait_seconds =~ ^[0-9]+$ ]] || {
	echo "smoke: SMOKE_WAIT_SECONDS must be a whole number of seconds" >&2
	exit 2
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl_opts=(--silent --show-error --max-time 15)
if [[ ${SMOKE_INSECURE:-} == 1 ]]; then
	curl_opts+=(--insecure)
fi
started=$SECONDS
run="$(date -u +%Y%m%d%H%M%S)-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"

# request JAR METHOD PATH [JSON]: one request with JAR's cookies; sets status,
# body and last (the request, for messages). A transport error is status 000.
status="" body="" last=""
request() {
	local jar=$1 method=$2 path=$3 data=${4:-}
	local args=("${curl_opts[@]}" --request "$method" --cookie "$jar" --cookie-jar "$jar"
		--output "$work/body" --write-out '%{http_code}')
	if [[ -n $data ]]; then
		args+=(--header 'Content-Type: application/json' --data "$data")
	fi
	last="$method $base$path"
	rm -f "$work/body"
	status=$(curl "${args[@]}" "$base$path" 2>"$work/curl-error") || status=000
	if [[ -s $work/body ]]; then
		body=$(<"$work/body")
	else
		body=$(<"$work/curl-error")
	fi
}

fail() {
	{
		echo "smoke: FAIL: $*"
		echo "  request:  $last"
		echo "  status:   $status"
		echo "  response: ${body:0:2000}"
	} >&2
	exit 1
}

# expect WANT WHAT: the last request answered WANT.
expect() {
	[[ $status == "$1" ]] || fail "$2: got HTTP $status, want $1"
}

# check JQ WHAT [jq args...]: the last response body satisfies the jq filter.
check() {
	local filter=$1 what=$2
	shift 2
	jq -e "$@" "$filter" <<<"$body" >/dev/null 2>&1 || fail "$what"
}

ok() {
	printf 'smoke: ok  %s\n' "$*"
}

# new_jar NAME: an empty cookie jar (curl reads a missing file as no cookies,
# but an existing one makes the intent plain).
new_jar() {
	: >"$work/$1.cookies"
	echo "$work/$1.cookies"
}

anonymous=$(new_jar anonymous)
deadline=$((SECONDS + wait_seconds))
while :; do
	request "$anonymous" GET /api/users/currentuser
	[[ $status == 200 ]] && break
	((SECONDS < deadline)) || fail "the site did not answer GET /api/users/currentuser with 200 within ${wait_seconds}s"
	sleep 2
done
check 'has("currentUser")' 'GET /api/users/currentuser: no currentUser in the response'
ok "the site answers: $base"

# signup NAME: signs up a fresh user whose cookies go to NAME's jar; prints its id.
signup() {
	local jar=$1 email="smoke-$run-$2@example.com"
	local password
	password="smoke-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	request "$jar" POST /api/users/signup "$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')"
	expect 201 "sign up $email"
	check '.email == $e and (.id | test("^[0-9a-f]{24}$"))' "sign up $email: the response is not the new user" --arg e "$email"
	user_id=$(jq -r .id <<<"$body")
	# The session cookie must come back through the ingress (Secure over HTTPS).
	request "$jar" GET /api/users/currentuser
	expect 200 "current user of $email"
	check '.currentUser.id == $id' "current user of $email: the session cookie did not sign in" --arg id "$user_id"
	ok "signed up $email ($user_id)"
}

seller=$(new_jar seller)
signup "$seller" seller
seller_id=$user_id

request "$anonymous" GET /api/tickets
expect 200 "list tickets"
check 'type == "array"' "list tickets: the response is not an array"
ok "listed tickets ($(jq length <<<"$body") available)"

title="Smoke test $run"
request "$seller" POST /api/tickets "$(jq -nc --arg t "$title" '{title: $t, price: 10}')"
expect 201 "create a ticket"
check '.title == $t and .price == 10 and .userId == $u and (.id | test("^[0-9a-f]{24}$"))' \
	"create a ticket: the response is not the new ticket" --arg t "$title" --arg u "$seller_id"
ticket_id=$(jq -r .id <<<"$body")
ok "created ticket $ticket_id"

buyer=$(new_jar buyer)
signup "$buyer" buyer

# The orders service learns of the ticket from ticket:created on the bus; until
# then it answers 404 for it.
order_body=$(jq -nc --arg id "$ticket_id" '{ticketId: $id}')
deadline=$((SECONDS + wait_seconds))
while :; do
	request "$buyer" POST /api/orders "$order_body"
	[[ $status == 404 ]] || break
	((SECONDS < deadline)) || fail "reserve ticket $ticket_id: still 404 after ${wait_seconds}s (the ticket never reached the orders service)"
	sleep 1
done
expect 201 "reserve ticket $ticket_id"
check '.status == "created" and .ticket.id == $t and (.id | test("^[0-9a-f]{24}$"))' \
	"reserve ticket $ticket_id: the response is not a created order for it" --arg t "$ticket_id"
order_id=$(jq -r .id <<<"$body")
ok "reserved it as another user: order $order_id"

request "$buyer" DELETE "/api/orders/$order_id"
expect 204 "cancel order $order_id"
request "$buyer" GET "/api/orders/$order_id"
expect 200 "read order $order_id"
check '.status == "cancelled"' "read order $order_id: status is not cancelled after the cancel"
ok "cancelled order $order_id"

echo "smoke: passed against $base in $((SECONDS - started))s"
