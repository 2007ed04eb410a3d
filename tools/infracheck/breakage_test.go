package infracheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// copyDeploymentFiles copies what the checks read into dst: the manifests,
// workflows, skaffold.yaml, Dockerfiles and the files they name.
func copyDeploymentFiles(t *testing.T, root, dst string) {
	t.Helper()
	for _, dir := range []string{filepath.Join("infra", "k8s"), ".github", filepath.Join("client", "src"), filepath.Join("client", "public")} {
		if exists(filepath.Join(root, dir)) {
			require.NoError(t, copyTree(filepath.Join(root, dir), filepath.Join(dst, dir)))
		}
	}
	files := []string{"skaffold.yaml", "go.work", ".dockerignore", filepath.Join("client", "Dockerfile"),
		filepath.Join("common", "go.mod"), filepath.Join("common", "go.sum")}
	for _, svc := range goServices() {
		for _, name := range []string{"Dockerfile", "Dockerfile.dockerignore", "go.mod", "go.sum"} {
			files = append(files, filepath.Join("services", svc, name))
		}
		require.NoError(t, os.MkdirAll(filepath.Join(dst, "services", svc, "cmd", svc), 0o755))
	}
	for _, f := range files {
		if exists(filepath.Join(root, f)) {
			require.NoError(t, copyFile(filepath.Join(root, f), filepath.Join(dst, f)))
		}
	}
}

// edit replaces old with new in root/file; old must occur.
func edit(old, new string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Contains(t, string(data), old, "the breakage no longer applies to %s", path)
		require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(string(data), old, new)), 0o644))
	}
}

// removeBlock deletes the first YAML key named key and everything indented
// under it.
func removeBlock(key string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		lines := strings.Split(string(data), "\n")
		indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
		for i, l := range lines {
			if strings.TrimSpace(l) != key+":" {
				continue
			}
			j := i + 1
			for j < len(lines) && (strings.TrimSpace(lines[j]) == "" || indent(lines[j]) > indent(l)) {
				j++
			}
			lines = append(lines[:i], lines[j:]...)
			require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644))
			return
		}
		t.Fatalf("no key %s in %s", key, path)
	}
}

// manifestProblems runs every manifest check on the named targets.
func manifestProblems(t *testing.T, root string, names ...string) []error {
	renderings, problems, err := renderAll(filepath.Join(root, "infra", "k8s"), t.TempDir(), names...)
	if err != nil {
		return []error{err}
	}
	if len(renderings) != len(names) {
		return []error{problemf("rendered %d of the targets %v", len(renderings), names)}
	}
	host, err := prodHost(root)
	if err != nil {
		return []error{err}
	}
	for _, r := range renderings {
		problems = append(problems, hardeningProblems(r)...)
		problems = append(problems, referenceProblems(r)...)
		problems = append(problems, networkPolicyProblems(r)...)
		problems = append(problems, ingressProblems(r, host)...)
		problems = append(problems, secretObjectProblems(r)...)
		if strings.HasPrefix(r.Target.Name, "overlays/prod") {
			problems = append(problems, prodImageProblems(root, r)...)
			problems = append(problems, prodDeployProblems(root, r)...)
			problems = append(problems, availabilityProblems(r)...)
		}
	}
	return problems
}

// TestChecksCatchBreakage breaks a copy of the real files on purpose, one
// way at a time, and requires the check to say so: each check can fail.
// Run with -v to see what each reports.
func TestChecksCatchBreakage(t *testing.T) {
	root := repoRoot(t)
	schema := skaffoldSchema(t)
	// The unbroken copy passes every check below, so each failure is the breakage's.
	pristine := t.TempDir()
	copyDeploymentFiles(t, root, pristine)
	// Each manifest breakage is rendered in the one target that shows it.
	manifests := func(target string) func(t *testing.T, root string) []error {
		return func(t *testing.T, root string) []error { return manifestProblems(t, root, target) }
	}
	workflows := func(t *testing.T, root string) []error {
		var problems []error
		for _, f := range []string{"ci.yml", "deploy.yml"} {
			problems = append(problems, workflowProblems(root, filepath.Join(root, ".github", "workflows", f))...)
		}
		return problems
	}
	skaffold := func(t *testing.T, root string) []error { return skaffoldProblems(root, schema) }
	dockerfile := func(t *testing.T, root string) []error { return dockerfileProblems(root, "auth") }

	k8s := func(p ...string) string { return filepath.Join(append([]string{"infra", "k8s"}, p...)...) }
	cases := []struct {
		name  string
		file  string
		brk   func(t *testing.T, path string)
		check func(t *testing.T, root string) []error
		want  string
	}{
		{"manifest: misspelled field", k8s("base", "auth.yaml"),
			edit("readinessProbe:", "readinesProbe:"), manifests("base"), `unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"manifest: wrong value type", k8s("base", "nats.yaml"),
			edit("replicas: 3", `replicas: "three"`), manifests("base"), "cannot unmarshal string into Go struct field"},
		{"manifest: missing probe", k8s("base", "tickets.yaml"),
			removeBlock("livenessProbe"), manifests("base"), "Deployment/tickets container tickets: probes: no livenessProbe"},
		{"manifest: missing limits", k8s("base", "orders.yaml"),
			removeBlock("limits"), manifests("base"), "requests and limits: missing limits.cpu, limits.memory"},
		{"manifest: root user", k8s("base", "mongo", "mongo.yaml"),
			edit("runAsUser: 999", "runAsUser: 0"), manifests("base"), "runs as non-root: runAsUser is 0"},
		{"manifest: writable root filesystem", k8s("base", "redis.yaml"),
			edit("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"), manifests("base"), "StatefulSet/redis container redis: read-only root filesystem"},
		{"manifest: NATS client id not from the pod", k8s("base", "tickets.yaml"),
			edit("              valueFrom:\n                fieldRef:\n                  fieldPath: metadata.name", "              value: tickets"),
			manifests("base"), "NATS_CLIENT_ID is not valueFrom.fieldRef metadata.name"},
		{"manifest: no disruption budget", k8s("base", "payments.yaml"),
			edit("---\napiVersion: policy/v1\nkind: PodDisruptionBudget", "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unused\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: x\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      nothing: here\n---\napiVersion: v1\nkind: ConfigMap"),
			manifests("base"), "Deployment/payments: disruption budget: 2 replicas and no PodDisruptionBudget selects them"},
		{"manifest: secret committed", k8s("base", "namespace.yaml"),
			edit("    pod-security.kubernetes.io/warn: restricted\n", "    pod-security.kubernetes.io/warn: restricted\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: jwt-secret\ndata:\n  JWT_KEY: c3VwZXItc2VjcmV0LWtleS0xMjM0NQ==\n"),
			manifests("base"), "Secret/jwt-secret: Secrets are created with kubectl"},
		{"manifest: image without a version", k8s("base", "redis.yaml"),
			edit("image: redis:7.4.9", "image: redis:latest"), manifests("base"), `a third-party image must name its version`},
		{"manifest: ingress to a missing service", k8s("base", "ingress.yaml"),
			edit("name: payments", "name: payment"), manifests("base"), "Service payment is not rendered"},
		{"manifest: network policy lets the wrong service in", k8s("components", "network-policies", "data.yaml"),
			edit("              app.kubernetes.io/name: expiration\n        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: redis\n",
				"              app.kubernetes.io/name: payments\n        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: redis\n"),
			manifests("base+network-policies"), "network policies refuse expiration -> redis:6379/TCP"},
		{"manifest: prod image from elsewhere", k8s("overlays", "prod", "kustomization.yaml"),
			edit("newName: registry.digitalocean.com/ticketing/auth", "newName: docker.io/someone/auth"), manifests("overlays/prod"), "registry.digitalocean.com"},
		{"deploy: pages ask the API through the ingress", k8s("base", "kustomization.yaml"),
			edit("      - NEXT_TELEMETRY_DISABLED=1\n", "      - NEXT_TELEMETRY_DISABLED=1\n      - API_INTERNAL_URL=http://ingress-nginx-controller.ingress-nginx.svc.cluster.local\n"),
			manifests("overlays/prod"), "sends server-side requests through the ingress controller"},
		{"deploy: the client cannot reach a service", k8s("components", "network-policies", "services.yaml"),
			edit("              app.kubernetes.io/name: payments\n      ports:\n        - protocol: TCP\n          port: 3000\n",
				"              app.kubernetes.io/name: payments\n      ports:\n        - protocol: TCP\n          port: 3001\n"),
			manifests("overlays/prod"), "client API: /api/payments -> payments:3000: the network policies refuse client -> payments:3000"},
		{"deploy: the ACME solver is fenced off", k8s("components", "network-policies", "services.yaml"),
			edit("port: 8089", "port: 8090"), manifests("overlays/prod"), "refuse ingress-nginx -> cert-manager's HTTP-01 solver"},
		{"deploy: no ClusterIssuer", k8s("cluster", "cluster-issuer.yaml"),
			edit("name: letsencrypt-prod", "name: letsencrypt-staging"), manifests("overlays/prod"), "want the ClusterIssuer letsencrypt-prod the Ingress names"},
		{"deploy: no pull secret", k8s("overlays", "prod", "kustomization.yaml"),
			edit("- name: registry-ticketing", "- name: registry-elsewhere"), manifests("overlays/prod"), "has the pull secret registry-ticketing"},
		{"deploy: NATS store outgrows its volume", k8s("base", "nats.yaml"),
			edit("- 48MB", "- 480MB"), manifests("overlays/prod"), "over 75% of the 1073741824-byte volume"},
		{"deploy: NATS keeps messages forever", k8s("base", "nats.yaml"),
			edit("            - --max_age\n            - 168h\n", ""), manifests("overlays/prod"), "max_age is not set"},
		{"deploy: image off its pin", k8s("base", "redis.yaml"),
			edit("image: redis:7.4.9", "image: redis:7.4.2"), manifests("overlays/prod"), "pinned to redis:7.4.9"},
		{"deploy: Dockerfile image off its pin", filepath.Join("client", "Dockerfile"),
			edit("FROM node:26.13.0-slim AS run", "FROM node:20-slim AS run"), manifests("overlays/prod"), "client/Dockerfile: image node:20-slim: pinned to node:26.13.0-slim"},
		{"deploy: mongod without access control", k8s("base", "mongo", "mongo.yaml"),
			edit("            - --auth\n", ""), manifests("overlays/prod"), "runs mongod without --auth"},
		{"deploy: a service connects with another database's credentials", k8s("base", "orders.yaml"),
			edit("name: orders-mongo-credentials\n                  key: password", "name: tickets-mongo-credentials\n                  key: password"),
			manifests("overlays/prod"), "MONGO_USERNAME and MONGO_PASSWORD must be the keys username and password of one Secret"},
		{"availability: a single Redis", k8s("base", "redis.yaml"),
			edit("  replicas: 3\n  # Each pod finds", "  replicas: 1\n  # Each pod finds"), manifests("overlays/prod"),
			"StatefulSet/redis: availability: 1 replicas: a stateful part needs three copies"},
		{"availability: NATS nodes may share a machine", k8s("base", "nats.yaml"),
			edit("topologyKey: kubernetes.io/hostname", "topologyKey: topology.kubernetes.io/zone"), manifests("overlays/prod"),
			"StatefulSet/nats: availability: no required pod anti-affinity on kubernetes.io/hostname"},
		{"availability: a drain may take two Redis pods", k8s("base", "redis.yaml"),
			edit("  name: redis\nspec:\n  maxUnavailable: 1", "  name: redis\nspec:\n  maxUnavailable: 2"), manifests("overlays/prod"),
			"PodDisruptionBudget/redis lets 2 of 3 go: a drain could take the majority"},
		{"availability: writes acknowledged by the primary alone", k8s("base", "orders.yaml"),
			edit("&w=majority", ""), manifests("overlays/prod"), `Deployment/orders: availability: container orders: MONGO_URI: w is "", want majority`},
		{"availability: a set founded with fewer members than run", k8s("base", "mongo", "mongo.yaml"),
			edit("- name: MONGO_REPLICAS\n              value: \"3\"", "- name: MONGO_REPLICAS\n              value: \"2\""), manifests("overlays/prod"),
			`founds the set with MONGO_REPLICAS "2" members, but the StatefulSet runs 3`},
		{"workflow: undefined expression", filepath.Join(".github", "workflows", "ci.yml"),
			edit("${{ matrix.module }}", "${{ matrix.modul }}"), workflows, `property "modul" is not defined`},
		{"workflow: unpinned action", filepath.Join(".github", "workflows", "deploy.yml"),
			edit("digitalocean/action-doctl@v2.5.1", "digitalocean/action-doctl@main"), workflows, "pin a full version"},
		{"workflow: unknown input", filepath.Join(".github", "workflows", "ci.yml"),
			edit("cache-dependency-path: client/package-lock.json", "cache-dependency-paths: client/package-lock.json"), workflows, `input "cache-dependency-paths" is not defined`},
		{"skaffold: misspelled field", "skaffold.yaml",
			edit("dockerfile: services/auth/Dockerfile", "dockerfle: services/auth/Dockerfile"), skaffold, "field dockerfle not found"},
		{"skaffold: wrong value type", "skaffold.yaml",
			edit("concurrency: 2", "concurrency: two"), skaffold, "does not match skaffold's JSON schema"},
		{"skaffold: missing Dockerfile", "skaffold.yaml",
			edit("dockerfile: services/auth/Dockerfile", "dockerfile: services/auth/Dockerfile.missing"), skaffold, "Dockerfile.missing: no such file"},
		{"dockerfile: COPY of a missing path", filepath.Join("services", "auth", "Dockerfile"),
			edit("COPY services/auth/ /src/services/auth/", "COPY service/auth/ /src/services/auth/"), dockerfile, "COPY source service/auth/ does not exist"},
		{"dockerfile: stripped binary", filepath.Join("services", "auth", "Dockerfile"),
			edit("go build -trimpath", `go build -ldflags="-s -w" -trimpath`), dockerfile, "strips the DWARF data"},
		{"dockerfile: root user", filepath.Join("services", "auth", "Dockerfile"),
			edit("USER nonroot:nonroot", "USER root"), dockerfile, `final stage USER "root"`},
	}
	t.Run("the unbroken copy passes", func(t *testing.T) {
		requireNoProblems(t, manifestProblems(t, pristine, "base", "base+network-policies", "overlays/prod"))
		requireNoProblems(t, workflows(t, pristine))
		requireNoProblems(t, skaffold(t, pristine))
		requireNoProblems(t, dockerfile(t, pristine))
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			copyDeploymentFiles(t, root, tmp)
			tc.brk(t, filepath.Join(tmp, tc.file))
			after := tc.check(t, tmp)
			require.NotEmpty(t, after, "breaking %s went unnoticed", tc.file)
			found := false
			for _, p := range after {
				t.Log(p)
				found = found || strings.Contains(p.Error(), tc.want)
			}
			require.True(t, found, "no problem mentions %q", tc.want)
		})
	}
}
