package infracheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// route is one path of the Ingress and the Service behind it.
type route struct{ path, service string }

// wantRoutes are the public routes (CONTRACT.md §2), in the Ingress's order.
func wantRoutes() []route {
	return []route{
		{"/api/users", "auth"},
		{"/api/tickets", "tickets"},
		{"/api/orders", "orders"},
		{"/api/payments", "payments"},
		{"/", "client"},
	}
}

const devHost = "ticketing.dev"

// TestManifests renders base and every overlay, each with and without the
// network policies component, with kustomize's Go API, decodes every object
// strictly into its k8s.io/api type and checks it.
func TestManifests(t *testing.T) {
	root := repoRoot(t)
	renderings, decodeProblems, err := renderAll(filepath.Join(root, "infra", "k8s"), t.TempDir())
	require.NoError(t, err)

	t.Run("every object decodes strictly", func(t *testing.T) {
		requireNoProblems(t, decodeProblems)
	})
	t.Run("targets", func(t *testing.T) {
		var names []string
		for _, r := range renderings {
			names = append(names, r.Target.Name)
		}
		for _, want := range []string{"base", "base+network-policies", "overlays/dev", "overlays/dev+network-policies",
			"overlays/dev-network-policies", "overlays/prod"} {
			require.Contains(t, names, want)
		}
	})
	prodHost, err := prodHost(root)
	require.NoError(t, err)
	for _, r := range renderings {
		t.Run(r.Target.Name, func(t *testing.T) {
			t.Run("hardening", func(t *testing.T) { requireNoProblems(t, hardeningProblems(r)) })
			t.Run("references", func(t *testing.T) { requireNoProblems(t, referenceProblems(r)) })
			t.Run("network policies", func(t *testing.T) {
				if strings.Contains(r.Target.Name, "network-policies") || strings.HasPrefix(r.Target.Name, "overlays/prod") {
					require.NotEmpty(t, r.byKind("NetworkPolicy"), "this target should have the network policies")
				}
				requireNoProblems(t, networkPolicyProblems(r))
			})
			t.Run("ingress", func(t *testing.T) { requireNoProblems(t, ingressProblems(r, prodHost)) })
			t.Run("no secrets", func(t *testing.T) { requireNoProblems(t, secretObjectProblems(r)) })
			if strings.HasPrefix(r.Target.Name, "overlays/prod") {
				t.Run("images from one place", func(t *testing.T) { requireNoProblems(t, prodImageProblems(root, r)) })
			}
		})
	}
}

// TestIngressFile checks infra/k8s/base/ingress.yaml itself, which infra/local
// reads to generate its nginx config: one plain Ingress document.
func TestIngressFile(t *testing.T) {
	requireNoProblems(t, ingressFileProblems(repoRoot(t)))
}

func ingressFileProblems(root string) []error {
	path := filepath.Join(root, "infra", "k8s", "base", "ingress.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	docs := 0
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) != "" {
			docs++
		}
	}
	if docs != 1 {
		return []error{problemf("%s: %d YAML documents, want exactly one Ingress", path, docs)}
	}
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return []error{problemf("%s: %v", path, err)}
	}
	typed, err := decodeStrict("networking.k8s.io/v1", "Ingress", raw)
	if err != nil {
		return []error{problemf("%s: %v", path, err)}
	}
	r := &rendering{Target: target{Name: "base/ingress.yaml"}, Objects: []object{{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Typed: typed}}}
	return ingressShapeProblems(r, typed.(*networkingv1.Ingress), devHost)
}

// ingressProblems: exactly one Ingress with the public routes; in prod on
// the host from public-host.env with TLS, elsewhere on ticketing.dev.
func ingressProblems(r *rendering, prodHost string) []error {
	ings := r.byKind("Ingress")
	if len(ings) != 1 {
		return []error{problemf("%s: %d Ingresses, want 1", r.Target.Name, len(ings))}
	}
	ing := ings[0].Typed.(*networkingv1.Ingress)
	host := devHost
	if strings.HasPrefix(r.Target.Name, "overlays/prod") {
		host = prodHost
	}
	return ingressShapeProblems(r, ing, host)
}

func ingressShapeProblems(r *rendering, ing *networkingv1.Ingress, host string) []error {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, problemf("%s: Ingress/%s: %s", r.Target.Name, ing.Name, fmt.Sprintf(format, args...)))
	}
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
		add("ingressClassName is not nginx")
	}
	if len(ing.Spec.Rules) != 1 {
		add("%d rules, want 1", len(ing.Spec.Rules))
		return problems
	}
	rule := ing.Spec.Rules[0]
	if rule.Host != host {
		add("host is %q, want %q", rule.Host, host)
	}
	var got []route
	if rule.HTTP != nil {
		for _, p := range rule.HTTP.Paths {
			if p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix {
				add("path %s is not pathType Prefix", p.Path)
			}
			if b := p.Backend.Service; b == nil || b.Port.Number != 3000 {
				add("path %s does not go to a Service's port 3000", p.Path)
				continue
			}
			got = append(got, route{p.Path, p.Backend.Service.Name})
		}
	}
	if !slices.Equal(got, wantRoutes()) {
		add("routes are %v, want %v", got, wantRoutes())
	}
	if host != devHost {
		if len(ing.Spec.TLS) != 1 || !slices.Equal(ing.Spec.TLS[0].Hosts, []string{host}) || ing.Spec.TLS[0].SecretName == "" {
			add("tls must be one entry for %s with a secretName", host)
		}
		if ing.Annotations["cert-manager.io/cluster-issuer"] == "" {
			add("no cert-manager.io/cluster-issuer annotation: nobody would issue the certificate")
		}
	}
	return problems
}

// prodHost is the production host, set once in overlays/prod/public-host.env.
func prodHost(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "infra", "k8s", "overlays", "prod", "public-host.env"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "HOST="); ok {
			if v == "" || v == devHost {
				return "", fmt.Errorf("public-host.env: HOST %q is not a production host", v)
			}
			return v, nil
		}
	}
	return "", fmt.Errorf("public-host.env: no HOST=")
}

// prodKustomization is overlays/prod/kustomization.yaml, decoded strictly.
func prodKustomization(root string) (*types.Kustomization, error) {
	path := filepath.Join(root, "infra", "k8s", "overlays", "prod", "kustomization.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var k types.Kustomization
	strict, err := kjson.UnmarshalStrict(raw, &k)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("%s: %v", path, strict)
	}
	return &k, nil
}

// prodImageProblems: every image of ours in prod is exactly what the prod
// kustomization's images list says, the one place the pipeline edits.
func prodImageProblems(root string, r *rendering) []error {
	k, err := prodKustomization(root)
	if err != nil {
		return []error{err}
	}
	listed := map[string]string{}
	for _, img := range k.Images {
		listed[img.Name] = img.NewName + ":" + img.NewTag
		if !strings.HasPrefix(img.NewName, "registry.digitalocean.com/") || img.NewTag == "" || img.Digest != "" {
			return []error{problemf("prod kustomization: image %s must have a registry.digitalocean.com newName and a newTag", img.Name)}
		}
	}
	var problems []error
	for _, name := range ownImages() {
		if _, ok := listed["ticketing/"+name]; !ok {
			problems = append(problems, problemf("prod kustomization: images has no entry for ticketing/%s", name))
		}
	}
	for _, w := range r.workloads() {
		for _, c := range allContainers(w) {
			name, _, _ := splitImage(c.Image)
			base := name[strings.LastIndex(name, "/")+1:]
			if !slices.Contains(ownImages(), base) {
				continue
			}
			if want := listed["ticketing/"+base]; c.Image != want {
				problems = append(problems, problemf("%s: %s container %s: image %s, want %s from the images list", r.Target.Name, w, c.Name, c.Image, want))
			}
		}
	}
	return problems
}

// secretObjectProblems: no Secret is rendered (they are made outside the
// repository) and no ConfigMap holds a key that names a secret.
func secretObjectProblems(r *rendering) []error {
	patterns := secretPatterns()
	var problems []error
	for _, o := range r.Objects {
		switch o.Kind {
		case "Secret":
			problems = append(problems, problemf("%s: %s: Secrets are created with kubectl or by the deploy workflow, never committed", r.Target.Name, o))
		case "ConfigMap":
			if cm, ok := o.Typed.(*corev1.ConfigMap); ok {
				for k := range cm.Data {
					if secretName(k) {
						problems = append(problems, problemf("%s: %s: key %s names a secret; use a Secret", r.Target.Name, o, k))
					}
				}
			}
		}
		problems = append(problems, secretTextProblems(patterns, r.Target.Name+": "+o.String(), o.JSON)...)
	}
	return problems
}

// secretPatterns are the shapes of credentials that must never be committed.
func secretPatterns() map[string]*regexp.Regexp {
	return map[string]*regexp.Regexp{
		"Stripe secret key":           regexp.MustCompile(`\b[sr]k_(live|test)_[0-9A-Za-z]{10,}`),
		"Stripe webhook secret":       regexp.MustCompile(`\bwhsec_[0-9A-Za-z]{10,}`),
		"DigitalOcean token":          regexp.MustCompile(`\bdo[opr]_v1_[0-9a-f]{32,}`),
		"GitHub token":                regexp.MustCompile(`\b(gh[pousr]_[0-9A-Za-z]{30,}|github_pat_[0-9A-Za-z_]{30,})`),
		"AWS access key":              regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`),
		"private key":                 regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
		"JSON Web Token":              regexp.MustCompile(`\beyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}\.`),
		"secret-named literal value":  regexp.MustCompile(`(?i)\b(JWT_KEY|STRIPE_KEY|[A-Z_]*(SECRET|TOKEN|PASSWORD))["']?\s*[:=]\s*["']?[0-9A-Za-z+/_.-]{12,}`),
		"base64 value in a data: map": regexp.MustCompile(`(?m)^\s*data:\s*\n(\s+[A-Za-z0-9_.-]+:\s*[A-Za-z0-9+/]{16,}={0,2}\s*\n)+`),
	}
}

// secretTextProblems looks for credential-shaped text in a file or object.
func secretTextProblems(patterns map[string]*regexp.Regexp, where string, data []byte) []error {
	var problems []error
	for what, re := range patterns {
		if loc := re.FindIndex(data); loc != nil {
			line := bytes.Count(data[:loc[0]], []byte("\n")) + 1
			problems = append(problems, problemf("%s:%d: looks like a %s", where, line, what))
		}
	}
	return problems
}

// TestNoSecretsInRepo greps every file this part of the repository owns —
// manifests, workflows, skaffold.yaml, Dockerfiles and ignore files — for
// credentials.
func TestNoSecretsInRepo(t *testing.T) {
	root := repoRoot(t)
	files, err := deploymentFiles(root)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	patterns := secretPatterns()
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, f)
		requireNoProblems(t, secretTextProblems(patterns, rel, data))
	}
}

// deploymentFiles are the files the secret scan reads.
func deploymentFiles(root string) ([]string, error) {
	var files []string
	for _, dir := range []string{filepath.Join(root, "infra", "k8s"), filepath.Join(root, ".github")} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"skaffold.yaml", ".dockerignore", filepath.Join("client", "Dockerfile")} {
		if p := filepath.Join(root, name); exists(p) {
			files = append(files, p)
		}
	}
	for _, svc := range goServices() {
		for _, name := range []string{"Dockerfile", "Dockerfile.dockerignore"} {
			if p := filepath.Join(root, "services", svc, name); exists(p) {
				files = append(files, p)
			}
		}
	}
	return files, nil
}
