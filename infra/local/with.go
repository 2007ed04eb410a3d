package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// withConfig is what `local with` was asked for.
type withConfig struct {
	log, pidFile string
	timeout      time.Duration
	upArgs       []string // passed on to up, after --ephemeral --env-file
	command      []string
}

// launcherStopTimeout bounds how long a launcher may take to stop its fleet
// after SIGTERM before it is killed.
const launcherStopTimeout = 15 * time.Second

// parseWithArgs splits `local with` arguments: its own flags (--log F,
// --pid-file F, --timeout D, in either --flag value or --flag=value form),
// up's flags (everything else before "--", passed on in order) and the
// command after "--".
func parseWithArgs(args []string) (withConfig, error) {
	cfg := withConfig{timeout: 10 * time.Minute}
	sep := -1
	for i, a := range args {
		if a == "--" {
			sep = i
			break
		}
	}
	if sep < 0 || sep == len(args)-1 {
		return cfg, errors.New("with: no command: local with [flags] -- command [args]")
	}
	cfg.command = args[sep+1:]
	own := map[string]func(string) error{
		"log":      func(v string) error { cfg.log = v; return nil },
		"pid-file": func(v string) error { cfg.pidFile = v; return nil },
		"timeout": func(v string) (err error) {
			cfg.timeout, err = time.ParseDuration(v)
			if err == nil && cfg.timeout <= 0 {
				err = errors.New("must be positive")
			}
			return err
		},
	}
	for i := 0; i < sep; i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		set, ok := own[name]
		if !ok || !strings.HasPrefix(args[i], "-") {
			cfg.upArgs = append(cfg.upArgs, args[i])
			continue
		}
		if !hasValue {
			if i+1 >= sep {
				return cfg, fmt.Errorf("with: --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if err := set(value); err != nil {
			return cfg, fmt.Errorf("with: --%s=%q: %w", name, value, err)
		}
	}
	return cfg, nil
}

// runWith starts a throw-away fleet (local up --ephemeral with the given up
// flags) in the background, waits until it is up, runs the command with the
// fleet's variables (the env file's exports) added to its environment, and
// stops the fleet when the command ends, however it ends. The command's exit
// status is with's. This is the one way make, the bench and the fuzz run
// get a fleet of their own.
func runWith(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, "usage: local with [--log F] [--pid-file F] [--timeout D] [up flags] -- command [args]\n")
		return nil
	}
	cfg, err := parseWithArgs(args)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("with: %w", err)
	}
	work, err := os.MkdirTemp("", "local-with-*")
	if err != nil {
		return fmt.Errorf("with: %w", err)
	}
	defer func() { _ = os.RemoveAll(work) }()
	if cfg.log == "" {
		cfg.log = filepath.Join(work, "fleet.log")
	}
	if cfg.pidFile != "" {
		stopLeftover(cfg.pidFile, stdout)
	}

	envFile := filepath.Join(work, "fleet.env")
	launcher, err := startLauncher(self, append([]string{"up", "--ephemeral", "--env-file", envFile}, cfg.upArgs...), cfg.log)
	if err != nil {
		return err
	}
	if cfg.pidFile != "" {
		_ = os.WriteFile(cfg.pidFile, []byte(fmt.Sprint(launcher.Process.Pid)), 0o644)
		defer func() { _ = os.Remove(cfg.pidFile) }()
	}
	defer stopLauncher(launcher)

	// Ctrl-C reaches the command too (one process group); with only keeps
	// going until the command has ended, then stops the fleet.
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	exports, err := awaitEnvFile(ctx, envFile, launcher, cfg.timeout)
	if err != nil {
		fmt.Fprintf(stdout, "with: %v; the fleet's log (%s) ends:\n%s", err, cfg.log, logTail(cfg.log, 30))
		return exitCode(1)
	}
	vars, err := parseExports(exports)
	if err != nil {
		return fmt.Errorf("with: env file: %w", err)
	}
	return runCommand(cfg.command, vars)
}

// startLauncher runs `local up ...` with its output in logPath.
func startLauncher(self string, args []string, logPath string) (*exec.Cmd, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("with: fleet log: %w", err)
	}
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("with: start the fleet: %w", err)
	}
	go func() { _ = cmd.Wait(); _ = logFile.Close() }()
	return cmd, nil
}

// stopLauncher asks the launcher to stop its fleet, and kills it if it
// takes longer than launcherStopTimeout.
func stopLauncher(cmd *exec.Cmd) {
	if cmd.Process.Signal(syscall.SIGTERM) != nil {
		return // gone already
	}
	deadline := time.Now().Add(launcherStopTimeout)
	for time.Now().Before(deadline) {
		if cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
}

// stopLeftover stops the launcher named in pidFile if an earlier run left
// it behind (killed before it could clean up), so two fleets of one
// purpose never run at once.
func stopLeftover(pidFile string, stdout io.Writer) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil || pid <= 0 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), "up --ephemeral") {
		return
	}
	fmt.Fprintf(stdout, "with: stopping the fleet of an earlier run (pid %d)\n", pid)
	if p, err := os.FindProcess(pid); err == nil {
		stopLauncher(&exec.Cmd{Process: p})
	}
}

// awaitEnvFile waits until the launcher has written the env file, and
// fails early when the launcher exits first.
func awaitEnvFile(ctx context.Context, path string, launcher *exec.Cmd, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if data, err := os.ReadFile(path); err == nil {
			return string(data), nil
		}
		if launcher.Process.Signal(syscall.Signal(0)) != nil {
			return "", errors.New("the fleet exited while starting")
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the fleet was not up within %v", timeout)
		}
		select {
		case <-ctx.Done():
			return "", errors.New("interrupted while the fleet was starting")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runCommand runs command with vars added to the environment and returns
// its exit status as an exitCode.
func runCommand(command []string, vars []envVar) error {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	for _, v := range vars {
		cmd.Env = append(cmd.Env, v.name+"="+v.value)
	}
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if code := exit.ExitCode(); code > 0 {
			return exitCode(code)
		}
		return exitCode(1) // killed by a signal
	}
	if err != nil {
		return fmt.Errorf("with: %w", err)
	}
	return nil
}

// logTail is the last n lines of the file at path.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// parseExports reads the lines formatExports writes back into variables.
func parseExports(text string) ([]envVar, error) {
	var vars []envVar
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		rest, ok := strings.CutPrefix(line, "export ")
		name, quoted, found := strings.Cut(rest, "=")
		if !ok || !found || name == "" {
			return nil, fmt.Errorf("not an export line: %q", line)
		}
		value, err := shellUnquote(quoted)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		vars = append(vars, envVar{name: name, value: value})
	}
	return vars, nil
}

// shellUnquote undoes shellQuote: a bare word, or one single-quoted string
// in which '\” stands for a quote.
func shellUnquote(s string) (string, error) {
	if !strings.HasPrefix(s, "'") {
		return s, nil
	}
	if len(s) < 2 || !strings.HasSuffix(s, "'") {
		return "", fmt.Errorf("unbalanced quotes in %q", s)
	}
	return strings.ReplaceAll(s[1:len(s)-1], `'\''`, "'"), nil
}
