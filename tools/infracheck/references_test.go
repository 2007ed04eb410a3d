package infracheck

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// namespace is where everything of the app lives.
const namespace = "ticketing"

// externalSecrets are the Secrets the manifests use and nobody commits: made
// with kubectl (infra/k8s/README.md) or by the deploy workflow, with these keys.
func externalSecrets() map[string][]string {
	return map[string][]string{
		"jwt-secret":                 {"JWT_KEY"},
		"stripe-secret":              {"STRIPE_KEY", "STRIPE_WEBHOOK_SECRET"},
		"auth-mongo-credentials":     {"username", "password"},
		"tickets-mongo-credentials":  {"username", "password"},
		"orders-mongo-credentials":   {"username", "password"},
		"payments-mongo-credentials": {"username", "password"},
		// Each replica set's keyfile and admin user (base/mongo).
		"auth-mongo-admin":     {"keyfile", "username", "password"},
		"tickets-mongo-admin":  {"keyfile", "username", "password"},
		"orders-mongo-admin":   {"keyfile", "username", "password"},
		"payments-mongo-admin": {"keyfile", "username", "password"},
		// The Spaces bucket the database backups go to.
		"backup-spaces": {"endpoint", "bucket", "access-key-id", "secret-access-key"},
	}
}

// referenceProblems checks that what the objects name exists: Services
// select pods and their target ports, the Ingress names Services and ports,
// env and volumes name ConfigMaps and Secrets (and a Secret's keys), PodDisruptionBudgets select
// pods, and everything namespaced is in the app's namespace.
func referenceProblems(r *rendering) []error {
	var problems []error
	add := func(o fmt.Stringer, format string, args ...any) {
		problems = append(problems, problemf("%s: %s: %s", r.Target.Name, o, fmt.Sprintf(format, args...)))
	}
	workloads := r.workloads()

	if _, ok := r.find("Namespace", namespace); !ok {
		problems = append(problems, problemf("%s: no Namespace %s", r.Target.Name, namespace))
	}
	for _, o := range r.Objects {
		if o.Kind != "Namespace" && o.Namespace != namespace {
			add(o, "namespace is %q, want %q", o.Namespace, namespace)
		}
	}

	for _, o := range r.byKind("Service") {
		svc := o.Typed.(*corev1.Service)
		var pods []corev1.PodTemplateSpec
		for _, w := range workloads {
			if len(svc.Spec.Selector) > 0 && selectsMap(svc.Spec.Selector, w.Template.Labels) {
				pods = append(pods, w.Template)
			}
		}
		if len(pods) == 0 {
			add(o, "selector %v selects no pods", svc.Spec.Selector)
			continue
		}
		for _, p := range svc.Spec.Ports {
			if !podsHavePort(pods, p.TargetPort, p.Port) {
				add(o, "port %s: target port %s is not a port of the selected pods", p.Name, p.TargetPort.String())
			}
		}
	}

	for _, o := range r.byKind("Ingress") {
		ing := o.Typed.(*networkingv1.Ingress)
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				if b == nil {
					add(o, "path %s has no service backend", p.Path)
					continue
				}
				so, ok := r.find("Service", b.Name)
				if !ok {
					add(o, "path %s: Service %s is not rendered", p.Path, b.Name)
					continue
				}
				svc := so.Typed.(*corev1.Service)
				if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool {
					return (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Number != 0 && sp.Port == b.Port.Number)
				}) {
					add(o, "path %s: Service %s has no port %v", p.Path, b.Name, b.Port)
				}
			}
		}
	}

	for _, w := range workloads {
		for _, c := range allContainers(w) {
			for _, from := range c.EnvFrom {
				if ref := from.ConfigMapRef; ref != nil && !optional(ref.Optional) {
					if _, ok := r.find("ConfigMap", ref.Name); !ok {
						add(w, "container %s: envFrom ConfigMap %s is not rendered", c.Name, ref.Name)
					}
				}
				if ref := from.SecretRef; ref != nil {
					if _, ok := externalSecrets()[ref.Name]; !ok {
						add(w, "container %s: envFrom Secret %s is not one of externalSecrets()", c.Name, ref.Name)
					}
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil && !optional(ref.Optional) {
					data, ok := r.configMapData(ref.Name)
					if _, has := data[ref.Key]; !ok || !has {
						add(w, "container %s: env %s: ConfigMap %s key %s is not rendered", c.Name, e.Name, ref.Name, ref.Key)
					}
				}
				if ref := e.ValueFrom.SecretKeyRef; ref != nil {
					if !slices.Contains(externalSecrets()[ref.Name], ref.Key) {
						add(w, "container %s: env %s: Secret %s key %s is not one of externalSecrets() (documented in infra/k8s/README.md)", c.Name, e.Name, ref.Name, ref.Key)
					}
				}
			}
		}
	}

	for _, w := range workloads {
		for _, v := range w.Template.Spec.Volumes {
			if v.Secret == nil {
				continue
			}
			keys, ok := externalSecrets()[v.Secret.SecretName]
			if !ok {
				add(w, "volume %s: Secret %s is not one of externalSecrets()", v.Name, v.Secret.SecretName)
				continue
			}
			for _, item := range v.Secret.Items {
				if !slices.Contains(keys, item.Key) {
					add(w, "volume %s: Secret %s key %s is not one of externalSecrets()", v.Name, v.Secret.SecretName, item.Key)
				}
			}
		}
	}

	for _, o := range r.byKind("PodDisruptionBudget") {
		pdb := o.Typed.(*policyv1.PodDisruptionBudget)
		if !slices.ContainsFunc(workloads, func(w workload) bool { return selects(pdb.Spec.Selector, w.Template.Labels) }) {
			add(o, "selects no pods")
		}
	}
	return problems
}

func optional(b *bool) bool { return b != nil && *b }

// selectsMap is a Service's equality selector.
func selectsMap(sel, podLabels map[string]string) bool {
	for k, v := range sel {
		if podLabels[k] != v {
			return false
		}
	}
	return true
}

func podsHavePort(pods []corev1.PodTemplateSpec, target intstr.IntOrString, port int32) bool {
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if targetPortIs(cp, target, port) {
					return true
				}
			}
		}
	}
	return false
}

// targetPortIs: a Service port (port, targetPort target) sends to container port cp.
func targetPortIs(cp corev1.ContainerPort, target intstr.IntOrString, port int32) bool {
	switch {
	case target.Type == intstr.String && target.StrVal != "":
		return cp.Name == target.StrVal
	case target.Type == intstr.Int && target.IntVal != 0:
		return cp.ContainerPort == target.IntVal
	default:
		return cp.ContainerPort == port
	}
}
