package infracheck

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// goMemLimitBytes reads a GOMEMLIMIT value as the Go runtime does: a whole
// number of bytes with an optional B, KiB, MiB, GiB or TiB suffix.
func goMemLimitBytes(v string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			x, err := strconv.ParseInt(n, 10, 64)
			if err != nil || x < 0 {
				return 0, fmt.Errorf("%q is not a GOMEMLIMIT", v)
			}
			return x << u.shift, nil
		}
	}
	x, err := strconv.ParseInt(v, 10, 64)
	if err != nil || x < 0 {
		return 0, fmt.Errorf("%q is not a GOMEMLIMIT", v)
	}
	return x, nil
}

// goMemLimitProblems: every container that sets GOMEMLIMIT sets it as a
// value below its memory limit. Equal to the limit (as a resourceFieldRef
// gives) the runtime only collects hard when the kernel is about to kill the
// container for what the heap does not count.
func goMemLimitProblems(r *rendering) []error {
	var problems []error
	for _, w := range r.workloads() {
		for _, c := range w.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.Name != "GOMEMLIMIT" {
					continue
				}
				if e.ValueFrom != nil || e.Value == "" {
					problems = append(problems, fmt.Errorf("%s container %s: GOMEMLIMIT must be a value below the memory limit, not taken from elsewhere", w, c.Name))
					continue
				}
				n, err := goMemLimitBytes(e.Value)
				if err != nil {
					problems = append(problems, fmt.Errorf("%s container %s: %w", w, c.Name, err))
					continue
				}
				limit := c.Resources.Limits[corev1.ResourceMemory]
				if limit.IsZero() || n >= limit.Value() {
					problems = append(problems, fmt.Errorf("%s container %s: GOMEMLIMIT %s is not below its memory limit %s", w, c.Name, e.Value, limit.String()))
				}
			}
		}
	}
	return problems
}

func TestGoMemLimitBelowTheLimit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{{"230MiB", 230 << 20}, {"1GiB", 1 << 30}, {"4096", 4096}, {"512KiB", 512 << 10}, {"10B", 10}} {
		got, err := goMemLimitBytes(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
	_, err := goMemLimitBytes("256Mi")
	require.Error(t, err, "a Kubernetes quantity is not a GOMEMLIMIT")

	eachOverlay(t, goMemLimitProblems, "overlays/prod", "overlays/dev")
}
