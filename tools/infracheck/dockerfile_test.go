package infracheck

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
	line int
}

type stage struct {
	base, name string
	instrs     []instruction
}

type dockerfile struct {
	path   string
	stages []stage
}

// parseDockerfile reads the instructions of a Dockerfile: enough of the
// format for the checks (comments, continuations, FROM ... AS stages).
func parseDockerfile(p string) (*dockerfile, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	df := &dockerfile{path: p}
	var cur strings.Builder
	start := 0
	lineNo := 0
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			fields := strings.Fields(in.args)
			st := stage{}
			for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
				fields = fields[1:]
			}
			if len(fields) == 0 {
				return fmt.Errorf("%s:%d: FROM without an image", p, in.line)
			}
			st.base = fields[0]
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			}
			df.stages = append(df.stages, st)
			return nil
		}
		if len(df.stages) == 0 {
			if in.cmd == "ARG" {
				return nil
			}
			return fmt.Errorf("%s:%d: %s before the first FROM", p, in.line, in.cmd)
		}
		last := &df.stages[len(df.stages)-1]
		last.instrs = append(last.instrs, in)
		return nil
	}
	s := bufio.NewScanner(f)
	for s.Scan() {
		lineNo++
		line := s.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = lineNo
		}
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(body)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(df.stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", p)
	}
	return df, nil
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// env is what ENV and ARG set in a stage before instruction index n
// (ARG without a default is empty, as in a build that does not pass it).
func (s stage) env(n int) map[string]string {
	vars := map[string]string{}
	for _, in := range s.instrs[:n] {
		switch in.cmd {
		case "ENV":
			words := shellWords(in.args, vars)
			if len(words) >= 1 && !strings.Contains(words[0], "=") {
				vars[words[0]] = strings.Join(words[1:], " ")
				continue
			}
			for _, w := range words {
				k, v, _ := strings.Cut(w, "=")
				vars[k] = v
			}
		case "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			if _, set := vars[k]; !set {
				vars[k] = v
			}
		}
	}
	return vars
}

// copyArgs splits COPY's flags, sources and destination.
func copyArgs(args string) (flags map[string]string, srcs []string, dest string) {
	flags = map[string]string{}
	var words []string
	if strings.HasPrefix(args, "[") {
		_ = json.Unmarshal([]byte(args), &words)
	} else {
		words = strings.Fields(args)
	}
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		k, v, _ := strings.Cut(strings.TrimPrefix(words[0], "--"), "=")
		flags[k] = v
		words = words[1:]
	}
	if len(words) < 2 {
		return flags, nil, ""
	}
	return flags, words[:len(words)-1], words[len(words)-1]
}

// shellWords splits a shell command line the way sh would for the simple
// commands Dockerfiles run: quotes, backslashes and $VAR / ${VAR}.
func shellWords(s string, vars map[string]string) []string {
	var words []string
	var cur strings.Builder
	inWord, single, double := false, false, false
	expand := func(i int) int {
		rest := s[i+1:]
		var name string
		var n int
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			if end < 0 {
				return i
			}
			name, n = rest[1:end], end+1
		} else {
			m := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`).FindString(rest)
			if m == "" {
				cur.WriteByte('$')
				return i
			}
			name, n = m, len(m)
		}
		cur.WriteString(vars[name])
		return i + n
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case single:
			if c == '\'' {
				single = false
			} else {
				cur.WriteByte(c)
			}
		case double:
			switch c {
			case '"':
				double = false
			case '\\':
				if i+1 < len(s) {
					i++
					cur.WriteByte(s[i])
				}
			case '$':
				i = expand(i)
			default:
				cur.WriteByte(c)
			}
		case c == '\'':
			single, inWord = true, true
		case c == '"':
			double, inWord = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '$':
			i = expand(i)
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// goBuild is the `go build` RUN of a service's build stage, ready to run
// outside Docker: the container paths its COPYs fill are mapped back to the
// repository, any other absolute path into out.
type goBuild struct {
	dir    string
	argv   []string
	env    map[string]string
	output string // host path of -o
	line   int
}

func goBuildCommand(root string, df *dockerfile, out string) (*goBuild, error) {
	st := df.stages[0]
	workdir := "/"
	type mapping struct{ container, host string }
	var maps []mapping
	for i, in := range st.instrs {
		switch in.cmd {
		case "WORKDIR":
			workdir = containerPath(workdir, in.args)
		case "COPY":
			flags, srcs, dest := copyArgs(in.args)
			if _, ok := flags["from"]; ok || len(srcs) != 1 {
				continue
			}
			host := filepath.Join(root, filepath.FromSlash(srcs[0]))
			if info, err := os.Stat(host); err != nil || !info.IsDir() {
				continue
			}
			maps = append(maps, mapping{containerPath(workdir, dest), host})
		case "RUN":
			vars := st.env(i)
			words := shellWords(in.args, vars)
			if len(words) < 2 || words[0] != "go" || words[1] != "build" {
				continue
			}
			resolve := func(p string) string {
				best := mapping{}
				for _, m := range maps {
					if (p == m.container || strings.HasPrefix(p, m.container+"/")) && len(m.container) > len(best.container) {
						best = m
					}
				}
				if best.host == "" {
					return filepath.Join(out, filepath.FromSlash(p))
				}
				return filepath.Join(best.host, filepath.FromSlash(strings.TrimPrefix(p, best.container)))
			}
			b := &goBuild{dir: resolve(workdir), env: vars, line: in.line}
			for j, w := range words {
				if strings.HasPrefix(w, "/") {
					w = resolve(w)
					if j > 0 && words[j-1] == "-o" {
						b.output = w
					}
				}
				b.argv = append(b.argv, w)
			}
			if b.output == "" {
				return nil, fmt.Errorf("%s:%d: go build without -o /absolute/path", df.path, in.line)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s: no RUN go build in the first stage", df.path)
}

// containerPath resolves p against the working directory, as WORKDIR and
// COPY do.
func containerPath(workdir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(workdir, p)
}

// dockerfileProblems checks one Go service's Dockerfile against the rules of
// issue 6 and skaffold debug's expectations.
func dockerfileProblems(root, svc string) []error {
	p := filepath.Join(root, "services", svc, "Dockerfile")
	df, err := parseDockerfile(p)
	if err != nil {
		return []error{err}
	}
	rel, _ := filepath.Rel(root, p)
	var problems []error
	add := func(line int, format string, args ...any) {
		problems = append(problems, problemf("%s:%d: %s", rel, line, fmt.Sprintf(format, args...)))
	}
	if len(df.stages) < 2 {
		return []error{problemf("%s: %d stages, want a build stage and a final one", rel, len(df.stages))}
	}
	build, final := df.stages[0], df.stages[len(df.stages)-1]
	if !regexp.MustCompile(`^golang:1\.26(\.\d+)?(-[a-z0-9]+)?$`).MatchString(build.base) {
		add(0, "build stage FROM %s, want golang:1.26", build.base)
	}
	if final.base != "gcr.io/distroless/static-debian12:nonroot" {
		add(0, "final stage FROM %s, want gcr.io/distroless/static-debian12:nonroot", final.base)
	}

	// Every COPY from the context names something that exists there.
	for _, st := range df.stages {
		for _, in := range st.all("COPY") {
			flags, srcs, _ := copyArgs(in.args)
			if len(srcs) == 0 {
				add(in.line, "COPY without a source and a destination")
			}
			if _, ok := flags["from"]; ok {
				continue
			}
			for _, src := range srcs {
				if !exists(filepath.Join(root, filepath.FromSlash(src))) {
					add(in.line, "COPY source %s does not exist in the build context (the repository root)", src)
				}
			}
		}
	}

	b, err := goBuildCommand(root, df, "/nonexistent")
	if err != nil {
		problems = append(problems, err)
	} else {
		env := build.env(len(build.instrs))
		if env["GOWORK"] != "off" || env["CGO_ENABLED"] != "0" {
			add(b.line, "the build stage must set ENV GOWORK=off CGO_ENABLED=0")
		}
		runArgs := ""
		for _, in := range build.all("RUN") {
			if in.line == b.line {
				runArgs = in.args
			}
		}
		if !strings.Contains(runArgs, "-trimpath") {
			add(b.line, "go build without -trimpath")
		}
		if !strings.Contains(runArgs, `-gcflags="${SKAFFOLD_GO_GCFLAGS}"`) {
			add(b.line, `go build must pass -gcflags="${SKAFFOLD_GO_GCFLAGS}" (skaffold debug sets it)`)
		}
		if _, declared := build.env(slices.IndexFunc(build.instrs, func(in instruction) bool { return in.line == b.line }))["SKAFFOLD_GO_GCFLAGS"]; !declared {
			add(b.line, "ARG SKAFFOLD_GO_GCFLAGS is not declared before go build")
		}
		if regexp.MustCompile(`-ldflags[= ]["']?[^"']*-[sw]\b`).MatchString(runArgs) {
			add(b.line, "-ldflags -s/-w strips the DWARF data Delve needs under skaffold debug")
		}
		if !slices.Contains(b.argv, "./cmd/"+svc) {
			add(b.line, "go build does not build ./cmd/%s", svc)
		}
	}

	var user, entry string
	envFinal := final.env(len(final.instrs))
	exposed := false
	var copied []string
	for _, in := range final.instrs {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entry = in.args
		case "EXPOSE":
			exposed = exposed || slices.Contains(strings.Fields(in.args), "3000")
		case "RUN":
			add(in.line, "RUN in the final stage: distroless has no shell")
		case "CMD":
			if !strings.HasPrefix(in.args, "[") {
				add(in.line, "CMD in shell form: distroless has no shell")
			}
		case "COPY":
			flags, _, dest := copyArgs(in.args)
			if flags["from"] != "" {
				copied = append(copied, dest)
			}
		}
	}
	if !slices.Contains([]string{"nonroot", "nonroot:nonroot", "65532", "65532:65532"}, user) {
		add(0, "final stage USER %q, want nonroot", user)
	}
	if envFinal["GOTRACEBACK"] != "single" {
		add(0, "final stage must set ENV GOTRACEBACK=single (how skaffold debug recognises Go)")
	}
	if !exposed {
		add(0, "final stage does not EXPOSE 3000")
	}
	var argv []string
	if err := json.Unmarshal([]byte(entry), &argv); err != nil || len(argv) != 1 || !slices.Contains(copied, argv[0]) {
		add(0, "ENTRYPOINT %s must be the exec form of the one binary copied from the build stage %v", entry, copied)
	}

	ignore := filepath.Join(root, "services", svc, "Dockerfile.dockerignore")
	data, err := os.ReadFile(ignore)
	if err != nil {
		problems = append(problems, problemf("%s: %v", rel, err))
	} else {
		lines := strings.Split(string(data), "\n")
		for _, want := range []string{"*", "!common/", "!services/" + svc + "/"} {
			if !slices.Contains(lines, want) {
				problems = append(problems, problemf("services/%s/Dockerfile.dockerignore: no line %q", svc, want))
			}
		}
	}
	return problems
}

// TestDockerfiles checks each service's Dockerfile without Docker.
func TestDockerfiles(t *testing.T) {
	root := repoRoot(t)
	for _, svc := range goServices() {
		t.Run(svc, func(t *testing.T) {
			requireNoProblems(t, dockerfileProblems(root, svc))
		})
	}
	t.Run("root .dockerignore", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
		require.NoError(t, err)
		lines := strings.Split(string(data), "\n")
		for _, want := range []string{"*", "!common/", "!services/"} {
			require.Contains(t, lines, want)
		}
	})
}

// TestDockerfileBuildCommands runs each Dockerfile's `go build` as written,
// outside Docker (same environment, same flags, SKAFFOLD_GO_GCFLAGS empty),
// so a build step that would break in Docker breaks here. The first run
// compiles every dependency with -trimpath (minutes on 2 cores); later runs
// hit the build cache. It runs when INFRACHECK_BUILDS=1 (the manifests job
// of .github/workflows/ci.yml): `make test` already builds every service,
// and recompiling the whole graph with -trimpath would add minutes to it.
func TestDockerfileBuildCommands(t *testing.T) {
	if os.Getenv("INFRACHECK_BUILDS") != "1" {
		t.Skip("builds every service as its Dockerfile does; set INFRACHECK_BUILDS=1")
	}
	root := repoRoot(t)
	for _, svc := range goServices() {
		t.Run(svc, func(t *testing.T) {
			df, err := parseDockerfile(filepath.Join(root, "services", svc, "Dockerfile"))
			require.NoError(t, err)
			out := t.TempDir()
			b, err := goBuildCommand(root, df, out)
			require.NoError(t, err)
			cmd := exec.Command(b.argv[0], b.argv[1:]...)
			cmd.Dir = b.dir
			cmd.Env = os.Environ()
			for k, v := range b.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			// As in Docker: no workspace file and no VCS information in the
			// context, and the local toolchain.
			cmd.Env = append(cmd.Env, "GOFLAGS=-mod=readonly -buildvcs=false", "GOTOOLCHAIN=local")
			began := time.Now()
			output, err := cmd.CombinedOutput()
			require.NoError(t, err, "in %s: %s\n%s", b.dir, strings.Join(b.argv, " "), output)
			t.Logf("%s in %s", strings.Join(b.argv, " "), time.Since(began).Round(time.Millisecond))
			requireStatic(t, b.output)
		})
	}
}

// requireStatic: distroless static has no C library, so the binary must
// not ask for a dynamic loader.
func requireStatic(t *testing.T, binary string) {
	t.Helper()
	f, err := elf.Open(binary)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "%s is dynamically linked", binary)
	}
}
