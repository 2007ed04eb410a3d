#!/usr/bin/env bash
# Creates or updates the app's Secrets in its namespace; the deploy workflow
# runs it before every apply, and it is the way to make them by hand.
#
#   JWT_KEY=... STRIPE_KEY=sk_... [STRIPE_PUBLISHABLE_KEY=pk_...] [STRIPE_WEBHOOK_SECRET=whsec_...] infra/k8s/secrets.sh
#
# JWT_KEY and STRIPE_KEY are set from the environment each time;
# STRIPE_WEBHOOK_SECRET (the signing secret of the Stripe webhook endpoint
# https://<host>/api/payments/webhook) joins stripe-secret only when set. Each
# service's database user (<service>-mongo-credentials: username, password)
# is made once with a random hex password, which needs no escaping in a
# connection string, and kept on later runs. To rotate one, delete its
# Secret, run this again, then restart its MongoDB (the ensure-user init
# container sets the new password) and then the service.
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
done
