#!/usr/bin/env bash
# One-time setup of a DigitalOcean Kubernetes cluster for Ticketing: the
# registry integration, ingress-nginx, cert-manager and the Let's Encrypt
# ClusterIssuer, and Prometheus with Grafana (kube-prometheus-stack, whose
# ServiceMonitor type the prod overlay's metrics component uses). Idempotent: run it again to upgrade to the versions below.
#
#   CLUSTER=ticketing REGISTRY=ticketing HOST=tickets.example.com \
#   ACME_EMAIL=ops@example.com infra/k8s/cluster/setup.sh
#
# Needs doctl (authenticated), kubectl and helm on PATH. The app itself is
# deployed by .github/workflows/deploy.yml (or infra/k8s/README.md by hand).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

INGRESS_NGINX_CHART_VERSION=4.14.3
CERT_MANAGER_CHART_VERSION=v1.20.2
KUBE_PROMETHEUS_STACK_CHART_VERSION=88.5.3

: "${CLUSTER:?name of the DigitalOcean Kubernetes cluster}"
: "${REGISTRY:?name of the DigitalOcean container registry, registry.digitalocean.com/NAME}"
: "${HOST:?the public host name, as in infra/k8s/overlays/prod/public-host.env}"
: "${ACME_EMAIL:?contact address for the ACME account}"

echo "== kubectl context for $CLUSTER"
doctl kubernetes cluster kubeconfig save "$CLUSTER"

echo "== registry integration: a pull secret registry-$REGISTRY in every namespace"
doctl kubernetes cluster registry add "$CLUSTER"
kubectl create namespace ticketing --dry-run=client -o yaml | kubectl apply -f -

echo "== ingress-nginx $INGRESS_NGINX_CHART_VERSION"
helm upgrade --install ingress-nginx ingress-nginx \
  --repo https://kubernetes.github.io/ingress-nginx --version "$INGRESS_NGINX_CHART_VERSION" \
  --namespace ingress-nginx --create-namespace \
  --values ingress-nginx-values.yaml \
  --set-string "controller.service.annotations.service\.beta\.kubernetes\.io/do-loadbalancer-hostname=$HOST" \
  --wait --timeout 10m

echo "== cert-manager $CERT_MANAGER_CHART_VERSION"
helm upgrade --install cert-manager cert-manager \
  --repo https://charts.jetstack.io --version "$CERT_MANAGER_CHART_VERSION" \
  --namespace cert-manager --create-namespace \
  --set crds.enabled=true \
  --wait --timeout 10m

echo "== kube-prometheus-stack $KUBE_PROMETHEUS_STACK_CHART_VERSION"
# The release name is what components/metrics's ServiceMonitor selects
# (label release: kube-prometheus-stack); Grafana's sidecar loads the
# dashboard ConfigMap from every namespace.
helm upgrade --install kube-prometheus-stack kube-prometheus-stack \
  --repo https://prometheus-community.github.io/helm-charts --version "$KUBE_PROMETHEUS_STACK_CHART_VERSION" \
  --namespace monitoring --create-namespace \
  --set grafana.sidecar.dashboards.searchNamespace=ALL \
  --wait --timeout 15m

echo "== ClusterIssuer letsencrypt-prod"
sed "s/email: set-by-setup/email: $ACME_EMAIL/" cluster-issuer.yaml | kubectl apply -f -

ip=$(kubectl -n ingress-nginx get service ingress-nginx-controller -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
if [[ -z $ip ]]; then
  ip="the load balancer's address (kubectl -n ingress-nginx get service ingress-nginx-controller)"
fi
echo "done. Point an A record for $HOST at $ip."
