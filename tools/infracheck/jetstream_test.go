package infracheck

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

const jetStreamComponent = "components/jetstream"

// withData is o's ConfigMap with key's value changed by edit.
func withData(t *testing.T, o object, key string, edit func(string) string) *corev1.ConfigMap {
	t.Helper()
	cm := o.Typed.(*corev1.ConfigMap).DeepCopy()
	require.Contains(t, cm.Data, key)
	cm.Data[key] = edit(cm.Data[key])
	return cm
}

// TestJetStreamComponent renders production with components/jetstream, as
// infra/k8s/README.md says to switch, and the dev overlay with it (no
// network policies there: its policy patch must then change nothing), and
// runs every manifest check on both, then checks what the component is for:
// a 3-node JetStream cluster in place of NATS Streaming, which the services
// are told to use.
func TestJetStreamComponent(t *testing.T) {
	root := repoRoot(t)
	k8sDir := filepath.Join(root, "infra", "k8s")
	tmp := t.TempDir()
	prodHost, err := prodHost(root)
	require.NoError(t, err)
	targets := []target{
		{Name: "overlays/prod+jetstream", Dir: "overlays/prod", Components: []string{jetStreamComponent}},
		{Name: "overlays/dev+jetstream", Dir: "overlays/dev", Components: []string{jetStreamComponent}},
	}
	for _, tg := range targets {
		t.Run(tg.Name, func(t *testing.T) {
			r, decodeProblems, err := render(k8sDir, tg, tmp)
			require.NoError(t, err)
			requireNoProblems(t, decodeProblems)
			prod := strings.HasPrefix(tg.Name, "overlays/prod")

			t.Run("hardening", func(t *testing.T) { requireNoProblems(t, hardeningProblems(r)) })
			t.Run("references", func(t *testing.T) { requireNoProblems(t, referenceProblems(r)) })
			t.Run("network policies", func(t *testing.T) {
				if prod {
					require.NotEmpty(t, r.byKind("NetworkPolicy"))
				} else {
					require.Empty(t, r.byKind("NetworkPolicy"), "the component adds no policy of its own")
				}
				requireNoProblems(t, networkPolicyProblems(r))
			})
			t.Run("ingress", func(t *testing.T) { requireNoProblems(t, ingressProblems(r, prodHost)) })
			t.Run("no secrets", func(t *testing.T) { requireNoProblems(t, secretObjectProblems(r)) })
			if prod {
				t.Run("images from one place", func(t *testing.T) { requireNoProblems(t, prodImageProblems(root, r)) })
				t.Run("deploy rules", func(t *testing.T) { requireNoProblems(t, prodDeployProblems(root, r)) })
			}

			t.Run("a JetStream cluster replaces NATS Streaming", func(t *testing.T) {
				o, ok := r.find("StatefulSet", "nats")
				require.True(t, ok)
				sts := o.Typed.(*appsv1.StatefulSet)
				assert.Equal(t, int32(3), replicas(sts.Spec.Replicas))
				spec := sts.Spec.Template.Spec
				require.Len(t, spec.Containers, 1)
				name, tag, _ := splitImage(spec.Containers[0].Image)
				assert.Equal(t, "nats", name)
				assert.Equal(t, thirdPartyImages()["nats"].Tag, tag)
				assert.NotNil(t, containerPort(spec.Containers[0], "client"), "clients still connect on the client port")
				require.NotNil(t, spec.Affinity)
				require.NotNil(t, spec.Affinity.PodAntiAffinity)
				anti := spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
				require.Len(t, anti, 1, "one node per machine, required")
				assert.Equal(t, "kubernetes.io/hostname", anti[0].TopologyKey)
				assert.Equal(t, "nats", anti[0].LabelSelector.MatchLabels["app.kubernetes.io/name"])
				_, ok = r.find("PodDisruptionBudget", "nats")
				assert.True(t, ok)

				svc, ok := r.find("Service", "nats")
				require.True(t, ok)
				s := svc.Typed.(*corev1.Service)
				assert.True(t, s.Spec.PublishNotReadyAddresses, "the nodes find each other before they are ready")
				assert.Equal(t, "nats", sts.Spec.ServiceName)

				conf, ok := r.configMapData("nats-server")
				require.True(t, ok)
				for _, route := range []string{"nats://nats-0.nats:6222", "nats://nats-1.nats:6222", "nats://nats-2.nats:6222"} {
					assert.Contains(t, conf["nats.conf"], route)
				}
				assert.Contains(t, conf["nats.conf"], "store_dir: /data")
			})
			t.Run("store limits are checked", func(t *testing.T) {
				// The deploy rules above passed; a stream larger than the
				// store must not.
				broken := *r
				broken.Objects = nil
				for _, o := range r.Objects {
					if o.Kind == "ConfigMap" && strings.HasPrefix(o.Name, "nats-server") {
						o.Typed = withData(t, o, "nats.conf", func(conf string) string {
							return strings.Replace(conf, "max_file_store: 1536M", "max_file_store: 512M", 1)
						})
					}
					broken.Objects = append(broken.Objects, o)
				}
				problems := jetStreamLimitProblems(&broken)
				require.Len(t, problems, 1)
				assert.Contains(t, problems[0].Error(), "JETSTREAM_MAX_BYTES 1073741824 is more than the store's max_file_store 536870912")
			})
			t.Run("the services use it", func(t *testing.T) {
				cfg, ok := r.configMapData("nats-config")
				require.True(t, ok)
				assert.Equal(t, "jetstream", cfg["EVENT_BUS"])
				assert.Equal(t, "3", cfg["JETSTREAM_REPLICAS"])
			})
		})
	}
}
