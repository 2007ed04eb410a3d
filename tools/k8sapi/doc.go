// Package k8sapi is a module of its own, outside go.work, that builds a
// Kubernetes API server and the etcd it stores in, for `make dryrun`:
// infra/k8s/dryrun.sh starts both on this machine and has kubectl apply
// every overlay with --dry-run=server, so the manifests meet a real API
// server's validation and defaulting without a cluster. It is kept out of
// the workspace because building kube-apiserver takes minutes, which
// `make test` must not pay.
package k8sapi
