#!/usr/bin/env bash
# Creates or updates the app's Secrets in its namespace; the deploy workflow
# runs it before every apply, and it is the way to make them by hand.
#
#   JWT_KEY=... STRIPE_KEY=sk_... [STRIPE_PUBLISHABLE_KEY=pk_...] [STRIPE_WEBHOOK_SECRET=whsec_...] \
#     [SPACES_ENDPOINT=https://fra1.digitaloceanspaces.com SPACES_BUCKET=... \
#      SPACES_ACCESS_KEY_ID=... SPACES_SECRET_ACCESS_KEY=...] infra/k8s/secrets.sh
#
# JWT_KEY and STRIPE_KEY are set from the environment each time;
# STRIPE_WEBHOOK_SECRET (the signing secret of the Stripe webhook endpoint
# https://<host>/api/payments/webhook) joins stripe-secret only when set. Each
# service's database user (<service>-mongo-credentials: username, password)
# is made once with a random hex password, which needs no escaping in a
# connection string, and kept on later runs. To rotate one, delete its
# Secret, run this again, then restart a member of its replica set (its
# replica-set sidecar sets the new password through the primary) and then
# the service.
#
# Each replica set's own Secret (<service>-mongo-admin: keyfile, username,
# password) is also made once and kept: the keyfile with which its members
# prove themselves to each other, and its admin user (root), made when the
# set is founded, which founds it, keeps the service's user and takes the
# backups. Changing either on a running set is a manual procedure
# (infra/k8s/README.md), so this never replaces them.
#
# backup-spaces (endpoint, bucket, access-key-id, secret-access-key: the
# DigitalOcean Spaces bucket the nightly dumps go to) is set from SPACES_*
# each time all four are given; with none given it is left as it is, and
# the backups fail until it exists (a warning says so).
set -euo pipefail

: "${JWT_KEY:?the key the services sign sessions with}"
: "${STRIPE_KEY:?Stripe secret key}"
ns=${NAMESPACE:-ticketing}

apply() { kubectl apply -f -; }

kubectl create namespace "$ns" --dry-run=client -o yaml | apply
kubectl -n "$ns" create secret generic jwt-secret \
  --from-literal=JWT_KEY="$JWT_KEY" --dry-run=client -o yaml | apply
stripe_keys=(--from-literal=STRIPE_KEY="$STRIPE_KEY")
if [[ -n ${STRIPE_WEBHOOK_SECRET:-} ]]; then
  stripe_keys+=(--from-literal=STRIPE_WEBHOOK_SECRET="$STRIPE_WEBHOOK_SECRET")
fi
kubectl -n "$ns" create secret generic stripe-secret \
  "${stripe_keys[@]}" --dry-run=client -o yaml | apply
if [[ -n ${STRIPE_PUBLISHABLE_KEY:-} ]]; then
  kubectl -n "$ns" create configmap client-stripe \
    --from-literal=NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY="$STRIPE_PUBLISHABLE_KEY" --dry-run=client -o yaml | apply
fi
for db in auth tickets orders payments; do
  if ! kubectl -n "$ns" get secret "$db-mongo-credentials" >/dev/null 2>&1; then
    kubectl -n "$ns" create secret generic "$db-mongo-credentials" \
      --from-literal=username="$db" --from-literal=password="$(openssl rand -hex 24)"
  fi
  if ! kubectl -n "$ns" get secret "$db-mongo-admin" >/dev/null 2>&1; then
    # MongoDB takes 6 to 1024 base64 characters as a keyfile.
    kubectl -n "$ns" create secret generic "$db-mongo-admin" \
      --from-literal=keyfile="$(openssl rand -base64 756 | tr -d '\n')" \
      --from-literal=username=admin --from-literal=password="$(openssl rand -hex 24)"
  fi
done
spaces=(SPACES_ENDPOINT SPACES_BUCKET SPACES_ACCESS_KEY_ID SPACES_SECRET_ACCESS_KEY)
given=0
for v in "${spaces[@]}"; do
  if [[ -n ${!v:-} ]]; then given=$((given + 1)); fi
done
if ((given == ${#spaces[@]})); then
  kubectl -n "$ns" create secret generic backup-spaces \
    --from-literal=endpoint="$SPACES_ENDPOINT" --from-literal=bucket="$SPACES_BUCKET" \
    --from-literal=access-key-id="$SPACES_ACCESS_KEY_ID" \
    --from-literal=secret-access-key="$SPACES_SECRET_ACCESS_KEY" --dry-run=client -o yaml | apply
elif ((given > 0)); then
  echo "secrets.sh: set all of ${spaces[*]}, or none" >&2
  exit 1
elif ! kubectl -n "$ns" get secret backup-spaces >/dev/null 2>&1; then
  echo "secrets.sh: warning: no Secret backup-spaces and no SPACES_* given: the database backups fail until it exists" >&2
fi
