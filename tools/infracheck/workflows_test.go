package infracheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/stretchr/testify/require"
	yamlv3 "gopkg.in/yaml.v3"
)

// workflow holds what the checks read of a workflow; actionlint checks the
// rest of its structure.
type workflow struct {
	On          yamlv3.Node `yaml:"on"`
	Permissions any         `yaml:"permissions"`
	Env         map[string]string
	Jobs        map[string]struct {
		Permissions any `yaml:"permissions"`
		Strategy    struct {
			Matrix map[string]any `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestWorkflows lints every workflow with actionlint's Go API and checks what
// issue 6 asks of them.
func TestWorkflows(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	require.Subset(t, names, []string{"ci.yml", "deploy.yml"})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			requireNoProblems(t, workflowProblems(root, f))
		})
	}
}

// pinnedUses: an action at a full version (vX.Y.Z) or a commit, never a
// branch or a moving major tag.
var pinnedUses = regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+\.\d+\.\d+|[0-9a-f]{40})$`)

// secretsInRun: a run script that expands ${{ secrets.X }} itself (a script
// named secrets.sh is fine).
var secretsInRun = regexp.MustCompile(`\$\{\{[^}]*\bsecrets\.`)

func workflowProblems(root, path string) []error {
	rel, _ := filepath.Rel(root, path)
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, problemf("%s: %s", rel, fmt.Sprintf(format, args...)))
	}

	// actionlint checks the inputs of the actions it knows by their major
	// tag (actions/checkout@v6); lint a copy whose pinned versions read as
	// their majors. Nothing else in the text changes.
	majors := regexp.MustCompile(`(uses:\s*[\w.-]+/[\w./-]+@v\d+)\.\d+\.\d+`).ReplaceAll(data, []byte("$1"))
	opts := &actionlint.LinterOptions{}
	// Its shell scripts go through shellcheck when the machine has it.
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	}
	var out bytes.Buffer
	linter, err := actionlint.NewLinter(&out, opts)
	if err != nil {
		return []error{err}
	}
	errs, err := linter.Lint(path, majors, nil)
	if err != nil {
		return []error{err}
	}
	for _, e := range errs {
		add("%d:%d: %s [%s]", e.Line, e.Column, e.Message, e.Kind)
	}

	var wf workflow
	if err := yamlv3.Unmarshal(data, &wf); err != nil {
		return append(problems, problemf("%s: %v", rel, err))
	}
	if wf.Permissions == nil {
		add("no top-level permissions: the token would get the repository's defaults")
	}
	for name, job := range wf.Jobs {
		for _, perms := range []any{wf.Permissions, job.Permissions} {
			if s, ok := perms.(string); ok && s == "write-all" {
				add("job %s: permissions write-all", name)
			}
		}
		for _, step := range job.Steps {
			if step.Uses != "" && !strings.HasPrefix(step.Uses, "./") && !pinnedUses.MatchString(step.Uses) {
				add("job %s: uses %s: pin a full version (vX.Y.Z) or a commit", name, step.Uses)
			}
			if secretsInRun.MatchString(step.Run) {
				add("job %s: a run script reads secrets.*; pass secrets through env:", name)
			}
		}
	}

	switch filepath.Base(path) {
	case "ci.yml":
		problems = append(problems, ciProblems(root, rel, data, wf)...)
	case "deploy.yml":
		for _, want := range []string{
			"doctl registry login",
			"doctl kubernetes cluster kubeconfig save",
			"kustomize edit set image",
			"kubectl apply -k",
			"rollout status",
			"KUSTOMIZE_VERSION: v5.8.2",
			"secrets.DIGITALOCEAN_ACCESS_TOKEN",
			"secrets.JWT_KEY",
			"secrets.STRIPE_KEY",
		} {
			if !bytes.Contains(data, []byte(want)) {
				add("does not contain %q", want)
			}
		}
		// Its triggers (after CI, not on push) are deploy_test.go's checks.
	}
	return problems
}

// ciProblems: CI runs on push and pull request, runs .ci/run, and its Go
// matrix covers every module of go.work (tools/infracheck has its own job).
func ciProblems(root, rel string, data []byte, wf workflow) []error {
	var problems []error
	for _, event := range []string{"push", "pull_request"} {
		if !triggers(wf, event) {
			problems = append(problems, problemf("%s: does not run on %s", rel, event))
		}
	}
	if !bytes.Contains(data, []byte(".ci/run")) {
		problems = append(problems, problemf("%s: never runs .ci/run", rel))
	}
	modules, err := workModules(root)
	if err != nil {
		return append(problems, err)
	}
	var matrix []string
	for _, job := range wf.Jobs {
		if m, ok := job.Strategy.Matrix["module"].([]any); ok {
			for _, v := range m {
				matrix = append(matrix, fmt.Sprint(v))
			}
		}
	}
	for _, m := range modules {
		if m == "tools/infracheck" {
			continue
		}
		if !slices.Contains(matrix, m) {
			problems = append(problems, problemf("%s: the go matrix does not test module %s (go.work uses it)", rel, m))
		}
	}
	return problems
}

func triggers(wf workflow, event string) bool {
	switch wf.On.Kind {
	case yamlv3.ScalarNode:
		return wf.On.Value == event
	case yamlv3.SequenceNode:
		return slices.ContainsFunc(wf.On.Content, func(n *yamlv3.Node) bool { return n.Value == event })
	case yamlv3.MappingNode:
		for i := 0; i < len(wf.On.Content); i += 2 {
			if wf.On.Content[i].Value == event {
				return true
			}
		}
	}
	return false
}

// workModules are the directories go.work uses, relative to the root.
func workModules(root string) ([]string, error) {
	f, err := os.Open(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mods []string
	inUse := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch {
		case strings.HasPrefix(line, "use ("):
			inUse = true
		case inUse && line == ")":
			inUse = false
		case inUse && line != "" && !strings.HasPrefix(line, "//"):
			mods = append(mods, strings.TrimPrefix(filepath.ToSlash(line), "./"))
		case strings.HasPrefix(line, "use "):
			mods = append(mods, strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, "use ")), "./"))
		}
	}
	return mods, s.Err()
}
