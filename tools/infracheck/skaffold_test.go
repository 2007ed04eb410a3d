package infracheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	latest "github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	"github.com/bmatcuk/doublestar/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	yamlv3 "gopkg.in/yaml.v3"
	"sigs.k8s.io/yaml"
)

// skaffoldAPIVersion is the schema skaffold.yaml is written against.
const skaffoldAPIVersion = "skaffold/v4beta13"

// skaffoldConfig holds the fields of skaffold.yaml this repository uses,
// decoded strictly: a field not listed here is a mistake or needs adding.
type skaffoldConfig struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Build struct {
		Local struct {
			Push        *bool `yaml:"push"`
			UseBuildkit *bool `yaml:"useBuildkit"`
			Concurrency *int  `yaml:"concurrency"`
		} `yaml:"local"`
		Artifacts []skaffoldArtifact `yaml:"artifacts"`
	} `yaml:"build"`
	Manifests skaffoldManifests `yaml:"manifests"`
	Deploy    struct {
		Kubectl *struct{} `yaml:"kubectl"`
	} `yaml:"deploy"`
	Profiles []struct {
		Name      string             `yaml:"name"`
		Manifests *skaffoldManifests `yaml:"manifests"`
		Patches   []struct {
			Op    string `yaml:"op"`
			Path  string `yaml:"path"`
			Value any    `yaml:"value"`
		} `yaml:"patches"`
	} `yaml:"profiles"`
}

type skaffoldArtifact struct {
	Image   string `yaml:"image"`
	Context string `yaml:"context"`
	Docker  *struct {
		Dockerfile string `yaml:"dockerfile"`
		Target     string `yaml:"target"`
	} `yaml:"docker"`
	Sync *struct {
		Manual []struct {
			Src  string `yaml:"src"`
			Dest string `yaml:"dest"`
		} `yaml:"manual"`
	} `yaml:"sync"`
}

type skaffoldManifests struct {
	Kustomize *struct {
		Paths []string `yaml:"paths"`
	} `yaml:"kustomize"`
}

// TestSkaffold checks skaffold.yaml offline: strictly decoded into our own
// struct and into skaffold's own v4beta13 types (the skaffold module's
// schema/latest package), validated against the JSON schema that module
// ships, and every path it names exists.
func TestSkaffold(t *testing.T) {
	require.Equal(t, skaffoldAPIVersion, latest.Version, "the skaffold module's latest schema is not the one skaffold.yaml uses")
	schema := skaffoldSchema(t)
	requireNoProblems(t, skaffoldProblems(repoRoot(t), schema))
}

// skaffoldSchema compiles the JSON schema of skaffoldAPIVersion from the
// skaffold module in the module cache (it is there: this test imports it).
func skaffoldSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/GoogleContainerTools/skaffold/v2").Output()
	require.NoError(t, err, "go list -m github.com/GoogleContainerTools/skaffold/v2")
	dir := strings.TrimSpace(string(out))
	require.NotEmpty(t, dir, "the skaffold module is not in the module cache")
	path := filepath.Join(dir, "docs-v2", "content", "en", "schemas", strings.TrimPrefix(skaffoldAPIVersion, "skaffold/")+".json")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("skaffold.json", doc))
	schema, err := c.Compile("skaffold.json")
	require.NoError(t, err)
	return schema
}

func decodeYAMLStrict(data []byte, out any) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func skaffoldProblems(root string, schema *jsonschema.Schema) []error {
	path := filepath.Join(root, "skaffold.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, problemf("skaffold.yaml: "+format, args...))
	}

	// Skaffold reads its file with yaml.v3 and KnownFields into these types.
	var official latest.SkaffoldConfig
	if err := decodeYAMLStrict(data, &official); err != nil {
		add("skaffold's %s types refuse it: %v", latest.Version, err)
	}
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return append(problems, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return append(problems, err)
	}
	if err := schema.Validate(doc); err != nil {
		add("does not match skaffold's JSON schema for %s: %s", skaffoldAPIVersion, schemaErrorSummary(err))
	}
	var cfg skaffoldConfig
	if err := decodeYAMLStrict(data, &cfg); err != nil {
		return append(problems, problemf("skaffold.yaml: %v", err))
	}

	if cfg.APIVersion != skaffoldAPIVersion || cfg.Kind != "Config" {
		add("apiVersion %q kind %q, want %s Config", cfg.APIVersion, cfg.Kind, skaffoldAPIVersion)
	}
	var images []string
	for i, a := range cfg.Build.Artifacts {
		images = append(images, a.Image)
		ctx := filepath.Join(root, a.Context)
		if a.Context == "" || !exists(ctx) {
			add("artifact %d (%s): context %q does not exist", i, a.Image, a.Context)
			continue
		}
		if a.Docker == nil {
			add("artifact %d (%s): not a docker artifact", i, a.Image)
			continue
		}
		dockerfile := filepath.Join(ctx, a.Docker.Dockerfile)
		df, err := parseDockerfile(dockerfile)
		if err != nil {
			add("artifact %d (%s): %v", i, a.Image, err)
			continue
		}
		if a.Docker.Target != "" && !slices.ContainsFunc(df.stages, func(s stage) bool { return s.name == a.Docker.Target }) {
			add("artifact %d (%s): %s has no stage %q", i, a.Image, a.Docker.Dockerfile, a.Docker.Target)
		}
		if a.Sync != nil {
			for _, rule := range a.Sync.Manual {
				matches, err := doublestar.Glob(os.DirFS(ctx), rule.Src)
				if err != nil || len(matches) == 0 {
					add("artifact %d (%s): sync src %q matches no file in %s", i, a.Image, rule.Src, a.Context)
				}
			}
		}
	}
	var want []string
	for _, name := range ownImages() {
		want = append(want, "ticketing/"+name)
	}
	slices.Sort(images)
	slices.Sort(want)
	if !slices.Equal(images, want) {
		add("artifacts build %v, want one per image of ours %v", images, want)
	}

	checkPaths := func(where string, m *skaffoldManifests) {
		if m == nil || m.Kustomize == nil || len(m.Kustomize.Paths) == 0 {
			add("%s: no kustomize paths", where)
			return
		}
		for _, p := range m.Kustomize.Paths {
			if !exists(filepath.Join(root, p, "kustomization.yaml")) {
				add("%s: kustomize path %s has no kustomization.yaml", where, p)
			}
		}
	}
	checkPaths("manifests", &cfg.Manifests)
	if m := cfg.Manifests.Kustomize; m != nil && !slices.Equal(m.Paths, []string{"infra/k8s/overlays/dev"}) {
		add("manifests: kustomize paths %v, want [infra/k8s/overlays/dev]", m.Paths)
	}

	var generic any
	if err := yamlv3.Unmarshal(data, &generic); err != nil {
		return append(problems, err)
	}
	prodImages := map[string]string{}
	if k, err := prodKustomization(root); err == nil {
		for _, img := range k.Images {
			prodImages[img.Name] = img.NewName
		}
	} else {
		problems = append(problems, err)
	}
	var profiles []string
	for _, p := range cfg.Profiles {
		profiles = append(profiles, p.Name)
		if p.Manifests != nil {
			checkPaths("profile "+p.Name, p.Manifests)
		}
		for _, patch := range p.Patches {
			if err := jsonPointerProblem(generic, patch.Op, patch.Path); err != nil {
				add("profile %s: patch %s %s: %v", p.Name, patch.Op, patch.Path, err)
			}
			// The prod profile renames the images to those of the prod
			// overlay, so skaffold replaces them after kustomize.
			if rest, ok := strings.CutPrefix(patch.Path, "/build/artifacts/"); ok && strings.HasSuffix(rest, "/image") && patch.Op == "replace" {
				i, err := strconv.Atoi(strings.TrimSuffix(rest, "/image"))
				if err != nil || i >= len(cfg.Build.Artifacts) {
					continue
				}
				if want := prodImages[cfg.Build.Artifacts[i].Image]; p.Name == "prod" && patch.Value != want {
					add("profile prod renames %s to %v, but the prod overlay names it %q", cfg.Build.Artifacts[i].Image, patch.Value, want)
				}
			}
		}
	}
	for _, want := range []string{"prod", "network-policies"} {
		if !slices.Contains(profiles, want) {
			add("no profile %q", want)
		}
	}
	return problems
}

// schemaErrorSummary keeps the deepest errors of a validation: the schema's
// anyOf alternatives otherwise repeat every mismatch once per alternative.
func schemaErrorSummary(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	deepest := -1
	var msgs []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		msg := e.Error()
		switch depth := len(e.InstanceLocation); {
		case depth > deepest:
			deepest, msgs = depth, []string{msg}
		case depth == deepest && !slices.Contains(msgs, msg):
			msgs = append(msgs, msg)
		}
	}
	walk(ve)
	return strings.Join(msgs, "; ")
}

// jsonPointerProblem checks that a JSON patch's path exists in doc (for add,
// that its parent does).
func jsonPointerProblem(doc any, op, pointer string) error {
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	if op == "add" {
		parts = parts[:len(parts)-1]
	}
	cur := doc
	for _, part := range parts {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return fmt.Errorf("no %q", part)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return fmt.Errorf("no index %q", part)
			}
			cur = v[i]
		default:
			return fmt.Errorf("%q is inside a scalar", part)
		}
	}
	return nil
}
