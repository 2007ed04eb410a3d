// Package infracheck holds the offline checks of what deploys the app: the
// kustomize overlays under infra/k8s, skaffold.yaml, the GitHub workflows and
// the services' Dockerfiles. The checks are its tests (`go test -race ./...`
// here; make test runs them with every other module). They need no cluster,
// no Docker and no network: kustomize, the Kubernetes API types, actionlint
// and skaffold's schema are Go modules.
package infracheck
