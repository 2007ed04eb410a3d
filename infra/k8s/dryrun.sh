#!/usr/bin/env bash
# Sends every overlay to a real Kubernetes API server with
# `kubectl apply --dry-run=server`, as the deploy would apply it, without a
# cluster: builds kube-apiserver and etcd (tools/k8sapi, a module outside
# go.work) into bin/, starts both on this machine with throw-away data,
# creates the namespace and stand-ins for the two custom resource types
# (dryrun/crds.yaml), then applies overlays dev, dev-network-policies and
# prod, prod with the jetstream component, and the cluster's ClusterIssuer.
# The API server validates each object against its schema, defaults it and
# runs the built-in admission plugins; nothing is stored.
#
#   make dryrun          (or infra/k8s/dryrun.sh)
#
# Needs Go, kubectl and openssl. The first build of kube-apiserver takes
# about 6 minutes on 2 CPUs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

for cmd in go kubectl openssl curl; do
  command -v "$cmd" >/dev/null || { echo "dryrun: $cmd is not on PATH" >&2; exit 1; }
done

echo "== building kube-apiserver and etcd (tools/k8sapi) into bin/"
# The version go.mod pins, stamped as Kubernetes' own build does, so the
# server reports it and takes its defaults for that version.
k8s_version="$(cd tools/k8sapi && GOWORK=off go list -m -f '{{.Version}}' k8s.io/kubernetes)"
minor="${k8s_version#v1.}"
minor="${minor%%.*}"
pkg=k8s.io/component-base/version
(cd tools/k8sapi && GOWORK=off go build -o "$root/bin/" \
  -ldflags "-X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
  ./cmd/kube-apiserver ./cmd/etcd)

work="$(mktemp -d)"
overlay="$(mktemp -d "$root/infra/k8s/.dryrun.XXXXXX")" # inside the tree: kustomize reaches ../ from here
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" "$overlay"
}
trap cleanup EXIT

etcd_port="${DRYRUN_ETCD_PORT:-23790}"
api_port="${DRYRUN_API_PORT:-16443}"
token="$(openssl rand -hex 16)"
openssl genrsa -out "$work/sa.key" 2048 2>/dev/null
openssl rsa -in "$work/sa.key" -pubout -out "$work/sa.pub" 2>/dev/null
echo "$token,dryrun,1,system:masters" >"$work/tokens.csv"

bin/etcd --dir "$work/etcd" --listen "http://127.0.0.1:$etcd_port" --peer "http://127.0.0.1:$((etcd_port + 10))" \
  >"$work/etcd.log" 2>&1 &
pids+=($!)
bin/kube-apiserver --etcd-servers="http://127.0.0.1:$etcd_port" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" --cert-dir="$work/certs" \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-account-key-file="$work/sa.pub" --service-account-signing-key-file="$work/sa.key" \
  --token-auth-file="$work/tokens.csv" --authorization-mode=RBAC \
  --service-cluster-ip-range=10.96.0.0/16 >"$work/apiserver.log" 2>&1 &
pids+=($!)

echo "== waiting for the API server on 127.0.0.1:$api_port"
for _ in $(seq 120); do
  kill -0 "${pids[1]}" 2>/dev/null || break # it gave up (a port taken, say)
  if curl -sk -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" | grep -qx ok; then
    break
  fi
  sleep 1
done
if ! curl -sk -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" | grep -qx ok; then
  echo "dryrun: the API server did not become ready; its log:" >&2
  tail -30 "$work/apiserver.log" >&2
  exit 1
fi

export KUBECONFIG="$work/kubeconfig"
kubectl config set-cluster dryrun --server="https://127.0.0.1:$api_port" --insecure-skip-tls-verify=true >/dev/null
kubectl config set-credentials dryrun --token="$token" >/dev/null
kubectl config set-context dryrun --cluster=dryrun --user=dryrun >/dev/null
kubectl config use-context dryrun >/dev/null
echo "== kube-apiserver $(curl -sk -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/version" | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p')"

# A namespaced object's dry run needs its namespace to exist; a custom
# object's, its type.
kubectl create namespace ticketing --save-config >/dev/null
kubectl apply -f infra/k8s/dryrun/crds.yaml >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd --all >/dev/null

cat >"$overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../overlays/prod
components:
  - ../components/jetstream
YAML

failed=0
check() {
  local name="$1"; shift
  local out
  if out="$(kubectl apply --dry-run=server "$@" 2>&1)"; then
    echo "ok    $name: $(grep -c 'server dry run' <<<"$out") objects accepted"
  else
    echo "FAIL  $name:"
    # What the server refused, without the objects it accepted.
    grep -v '(server dry run)$' <<<"$out" | sed 's/^/      /'
    failed=1
  fi
}
echo "== kubectl apply --dry-run=server"
for o in dev dev-network-policies prod; do
  check "overlays/$o" -k "infra/k8s/overlays/$o"
done
check "overlays/prod + components/jetstream" -k "$overlay"
check "cluster/cluster-issuer.yaml" -f infra/k8s/cluster/cluster-issuer.yaml

if [[ $failed != 0 ]]; then
  echo "dryrun: the API server refused some objects (above)" >&2
  exit 1
fi
echo "dryrun: every overlay passed"
