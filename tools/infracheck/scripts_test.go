package infracheck

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// containerScripts are the shell scripts the containers of r run (command
// bash -c... or sh -c...), by where they are.
func containerScripts(r *rendering) map[string]string {
	scripts := map[string]string{}
	for _, w := range r.workloads() {
		for _, c := range allContainers(w) {
			cmd := append(slices.Clone(c.Command), c.Args...)
			if len(cmd) < 3 || (cmd[0] != "bash" && cmd[0] != "sh") || !strings.HasPrefix(cmd[1], "-") || !strings.Contains(cmd[1], "c") {
				continue
			}
			scripts[r.Target.Name+": "+w.String()+" container "+c.Name] = cmd[2]
		}
	}
	return scripts
}

// shellProblems: bash parses the script, and shellcheck (when the machine
// has it, as for the workflows) finds nothing. SC2016 is left out: the
// MongoDB scripts hand mongosh JavaScript in single quotes on purpose.
func shellProblems(where, script string) []error {
	var problems []error
	check := exec.Command("bash", "-n")
	check.Stdin = strings.NewReader(script)
	if out, err := check.CombinedOutput(); err != nil {
		problems = append(problems, problemf("%s: bash -n: %v: %s", where, err, bytes.TrimSpace(out)))
	}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		lint := exec.Command(sc, "--shell=bash", "--exclude=SC2016", "-")
		lint.Stdin = strings.NewReader(script)
		if out, err := lint.CombinedOutput(); err != nil {
			problems = append(problems, problemf("%s: shellcheck: %s", where, bytes.TrimSpace(out)))
		}
	}
	return problems
}

// TestShellScripts checks the scripts the containers run in every overlay
// and the scripts under infra/k8s.
func TestShellScripts(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not on the PATH")
	}
	eachOverlay(t, func(r *rendering) []error {
		var problems []error
		scripts := containerScripts(r)
		for _, where := range slices.Sorted(maps.Keys(scripts)) {
			problems = append(problems, shellProblems(where, scripts[where])...)
		}
		if len(scripts) == 0 {
			problems = append(problems, problemf("%s: no container scripts found: the check reads nothing", r.Target.Name))
		}
		return problems
	}, "overlays/prod", "overlays/dev", "overlays/prod+jetstream")

	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "infra", "k8s", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		script, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		requireNoProblems(t, shellProblems(rel, string(script)))
	}
}
