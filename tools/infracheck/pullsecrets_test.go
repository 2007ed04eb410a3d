package infracheck

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// doRegistry is where production images come from.
const doRegistry = "registry.digitalocean.com/"

// pullSecretProblems: every pod that runs an image from the DigitalOcean
// registry can pull it. The registry integration creates the Secret
// registry-<registry name> in each namespace and gives it to the default
// ServiceAccount only; a pod under its own ServiceAccount needs it in its
// own imagePullSecrets or in that ServiceAccount's.
func pullSecretProblems(r *rendering) []error {
	var problems []error
	for _, w := range r.workloads() {
		spec := w.Template.Spec
		secrets := map[string]bool{}
		for _, s := range spec.ImagePullSecrets {
			secrets[s.Name] = true
		}
		sa := spec.ServiceAccountName
		if sa == "" || sa == "default" {
			continue // the integration's own pull secret applies
		}
		if o, ok := r.find("ServiceAccount", sa); ok {
			for _, s := range o.Typed.(*corev1.ServiceAccount).ImagePullSecrets {
				secrets[s.Name] = true
			}
		}
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			rest, ok := strings.CutPrefix(c.Image, doRegistry)
			if !ok {
				continue
			}
			registry, _, _ := strings.Cut(rest, "/")
			if want := "registry-" + registry; !secrets[want] {
				problems = append(problems, problemf("%s: %s container %s: cannot pull %s: neither the pod nor ServiceAccount %s has the pull secret %s",
					r.Target.Name, w, c.Name, c.Image, sa, want))
			}
		}
	}
	return problems
}
