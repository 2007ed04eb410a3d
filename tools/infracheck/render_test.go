package infracheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// networkPoliciesComponent is rendered with every target that does not
// include it already, so both variants are checked.
const networkPoliciesComponent = "components/network-policies"

// target is one thing `kustomize build` can render: a kustomization
// directory under infra/k8s, possibly with extra components.
type target struct {
	Name       string   // e.g. overlays/dev+network-policies
	Dir        string   // relative to infra/k8s
	Components []string // relative to infra/k8s
}

// object is one rendered manifest and its strict decoding into the
// k8s.io/api type of its kind (nil when that failed).
type object struct {
	APIVersion, Kind, Name, Namespace string
	JSON                              []byte
	Typed                             any
}

func (o object) String() string { return o.Kind + "/" + o.Name }

// rendering is everything one target renders to.
type rendering struct {
	Target  target
	Objects []object
}

// targets are base and every overlay under infra/k8s/overlays, each also
// with the network policies when it does not have them already (decided by
// rendering, in render).
func baseTargets(k8sDir string) ([]target, error) {
	targets := []target{{Name: "base", Dir: "base"}}
	entries, err := os.ReadDir(filepath.Join(k8sDir, "overlays"))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		dir := filepath.Join("overlays", e.Name())
		if e.IsDir() && exists(filepath.Join(k8sDir, dir, "kustomization.yaml")) {
			targets = append(targets, target{Name: filepath.ToSlash(dir), Dir: dir})
		}
	}
	return targets, nil
}

// renderAll renders every target, and each again with the network policies
// component where the target lacks network policies. Decode problems are
// returned, not fatal, so every one is reported. With names, it renders only
// those targets: a name ending in +<component> adds components/<component>
// (overlays/prod+jetstream).
func renderAll(k8sDir, tmp string, names ...string) ([]*rendering, []error, error) {
	targets, err := baseTargets(k8sDir)
	if err != nil {
		return nil, nil, err
	}
	var out []*rendering
	var problems []error
	do := func(tg target) (*rendering, error) {
		r, probs, err := render(k8sDir, tg, tmp)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		problems = append(problems, probs...)
		return r, nil
	}
	for _, tg := range targets {
		withNP := target{Name: tg.Name + "+network-policies", Dir: tg.Dir, Components: []string{networkPoliciesComponent}}
		if len(names) > 0 {
			for _, name := range names {
				dir, component, with := strings.Cut(name, "+")
				if name != tg.Name && (!with || dir != tg.Name) {
					continue
				}
				want := tg
				if with {
					want = target{Name: name, Dir: tg.Dir, Components: []string{"components/" + component}}
				}
				if _, err := do(want); err != nil {
					return nil, nil, err
				}
			}
			continue
		}
		r, err := do(tg)
		if err != nil {
			return nil, nil, err
		}
		if len(r.byKind("NetworkPolicy")) > 0 {
			continue
		}
		if _, err := do(withNP); err != nil {
			return nil, nil, err
		}
	}
	return out, problems, nil
}

// render runs kustomize (the Go API, on the real file system) on one target.
// A target with components gets a kustomization of its own under tmp that
// names the target's directory and the components.
func render(k8sDir string, tg target, tmp string) (*rendering, []error, error) {
	dir := filepath.Join(k8sDir, tg.Dir)
	if len(tg.Components) > 0 {
		dir = filepath.Join(tmp, strings.NewReplacer("/", "_", "+", "_").Replace(tg.Name))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
		rel := func(p string) string {
			r, err := filepath.Rel(dir, filepath.Join(k8sDir, p))
			if err != nil {
				return p
			}
			return filepath.ToSlash(r)
		}
		var b strings.Builder
		b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
		fmt.Fprintf(&b, "  - %s\ncomponents:\n", rel(tg.Dir))
		for _, c := range tg.Components {
			fmt.Fprintf(&b, "  - %s\n", rel(c))
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(b.String()), 0o644); err != nil {
			return nil, nil, err
		}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, nil, fmt.Errorf("kustomize build %s: %w", tg.Name, err)
	}
	r := &rendering{Target: tg}
	var problems []error
	for _, res := range resMap.Resources() {
		raw, err := res.MarshalJSON()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s/%s: %w", tg.Name, res.GetKind(), res.GetName(), err)
		}
		o := object{
			APIVersion: res.GetApiVersion(),
			Kind:       res.GetKind(),
			Name:       res.GetName(),
			Namespace:  res.GetNamespace(),
			JSON:       raw,
		}
		typed, err := decodeStrict(o.APIVersion, o.Kind, raw)
		if err != nil {
			problems = append(problems, problemf("%s: %s: %v", tg.Name, o, err))
		}
		o.Typed = typed
		r.Objects = append(r.Objects, o)
	}
	return r, problems, nil
}

// newTyped is the k8s.io/api type for an apiVersion and kind. A kind missing
// here fails the check until it is added, so nothing goes unchecked.
func newTyped(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "v1 Secret":
		return &corev1.Secret{}
	case "v1 Service":
		return &corev1.Service{}
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}
	case "v1 Pod":
		return &corev1.Pod{} // infra/k8s/restore.sh's one-off pod
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}
	case "apps/v1 DaemonSet":
		return &appsv1.DaemonSet{}
	case "batch/v1 Job":
		return &batchv1.Job{}
	case "batch/v1 CronJob":
		return &batchv1.CronJob{}
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1 Ingress":
		return &networkingv1.Ingress{}
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "rbac.authorization.k8s.io/v1 Role":
		return &rbacv1.Role{}
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		return &rbacv1.RoleBinding{}
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &serviceMonitor{} // metrics_test.go: a CRD, no k8s.io/api type
	}
	return nil
}

// decodeStrict decodes one object the way the API server does: field names
// are case-sensitive, and an unknown or duplicated field is an error. After
// an unknown or duplicated field the object is still returned, so the other
// checks do not report it missing as well.
func decodeStrict(apiVersion, kind string, raw []byte) (any, error) {
	typed := newTyped(apiVersion, kind)
	if typed == nil {
		return nil, fmt.Errorf("no k8s.io/api type known for apiVersion %q kind %q (add it to newTyped)", apiVersion, kind)
	}
	strict, err := kjson.UnmarshalStrict(raw, typed)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return typed, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return typed, nil
}

func (r *rendering) byKind(kind string) []object {
	var out []object
	for _, o := range r.Objects {
		if o.Kind == kind && o.Typed != nil {
			out = append(out, o)
		}
	}
	return out
}

func (r *rendering) find(kind, name string) (object, bool) {
	for _, o := range r.byKind(kind) {
		if o.Name == name {
			return o, true
		}
	}
	return object{}, false
}

// workload is anything that runs pods, reduced to what the checks read.
type workload struct {
	Kind, Name     string
	Replicas       int32
	Selector       *metav1.LabelSelector
	Template       corev1.PodTemplateSpec
	ClaimTemplates []corev1.PersistentVolumeClaim
	ServiceName    string // StatefulSet only
}

func (w workload) String() string { return w.Kind + "/" + w.Name }

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// autoscaledMin is the fewest copies a HorizontalPodAutoscaler keeps of
// Deployment name, or 0 when none scales it.
func (r *rendering) autoscaledMin(name string) int32 {
	if hpa := autoscalerOf(r, name); hpa != nil {
		return replicas(hpa.Spec.MinReplicas)
	}
	return 0
}

// eachOverlay renders each overlay and reports what check finds in it, one
// subtest per overlay.
func eachOverlay(t *testing.T, check func(r *rendering) []error, overlays ...string) {
	root := repoRoot(t)
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			renderings, decodeProblems, err := renderAll(filepath.Join(root, "infra", "k8s"), t.TempDir(), overlay)
			require.NoError(t, err)
			requireNoProblems(t, decodeProblems)
			require.Len(t, renderings, 1)
			for _, p := range check(renderings[0]) {
				t.Error(p)
			}
		})
	}
}

func (r *rendering) workloads() []workload {
	var out []workload
	for _, o := range r.Objects {
		switch v := o.Typed.(type) {
		case *appsv1.Deployment:
			n := replicas(v.Spec.Replicas)
			if v.Spec.Replicas == nil {
				n = max(n, r.autoscaledMin(o.Name)) // the autoscaler owns the count
			}
			out = append(out, workload{Kind: o.Kind, Name: o.Name, Replicas: n,
				Selector: v.Spec.Selector, Template: v.Spec.Template})
		case *appsv1.StatefulSet:
			out = append(out, workload{Kind: o.Kind, Name: o.Name, Replicas: replicas(v.Spec.Replicas),
				Selector: v.Spec.Selector, Template: v.Spec.Template,
				ClaimTemplates: v.Spec.VolumeClaimTemplates, ServiceName: v.Spec.ServiceName})
		case *appsv1.DaemonSet:
			out = append(out, workload{Kind: o.Kind, Name: o.Name, Replicas: 1,
				Selector: v.Spec.Selector, Template: v.Spec.Template})
		case *batchv1.Job:
			out = append(out, workload{Kind: o.Kind, Name: o.Name, Replicas: 1, Template: v.Spec.Template})
		case *batchv1.CronJob:
			out = append(out, workload{Kind: o.Kind, Name: o.Name, Replicas: 1, Template: v.Spec.JobTemplate.Spec.Template})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// configMapData is the data of a rendered ConfigMap, by its name or, for a
// generated one, by the name before kustomize appended its content hash.
func (r *rendering) configMapData(name string) (map[string]string, bool) {
	hashed := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `-[a-z0-9]{10}$`)
	for _, o := range r.byKind("ConfigMap") {
		if o.Name == name || hashed.MatchString(o.Name) {
			return o.Typed.(*corev1.ConfigMap).Data, true
		}
	}
	return nil, false
}
