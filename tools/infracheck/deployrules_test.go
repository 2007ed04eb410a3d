package infracheck

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// prodDeployProblems are the rules a first deploy to DigitalOcean needs that
// no schema check sees: pages can reach the API, the certificate can be
// issued, images can be pulled, the bus cannot fill its volume, images are
// pinned, the databases ask for a password and are backed up.
func prodDeployProblems(root string, r *rendering) []error {
	var problems []error
	problems = append(problems, clientAPIProblems(r)...)
	problems = append(problems, acmeProblems(root, r)...)
	problems = append(problems, pullSecretProblems(r)...)
	problems = append(problems, natsLimitProblems(r)...)
	problems = append(problems, jetStreamLimitProblems(r)...)
	problems = append(problems, imagePinProblems(root, r)...)
	problems = append(problems, mongoAuthProblems(r)...)
	problems = append(problems, backupProblems(r)...)
	return problems
}

func TestProdDeployRules(t *testing.T) {
	root := repoRoot(t)
	renderings, decodeProblems, err := renderAll(filepath.Join(root, "infra", "k8s"), t.TempDir(), "overlays/prod")
	require.NoError(t, err)
	requireNoProblems(t, decodeProblems)
	require.Len(t, renderings, 1)
	for _, p := range prodDeployProblems(root, renderings[0]) {
		t.Error(p)
	}
}
