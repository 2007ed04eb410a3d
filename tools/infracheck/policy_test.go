package infracheck

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probePaths are what an HTTP service's probes ask for.
type probePaths struct{ ready, live string }

// httpServices are the workloads that serve HTTP on port 3000 (a port named
// http), with the paths their probes must use. A new HTTP workload fails the
// hardening check until it is added here.
func httpServices() map[string]probePaths {
	goService := probePaths{ready: "/readyz", live: "/healthz"}
	return map[string]probePaths{
		"auth":       goService,
		"tickets":    goService,
		"orders":     goService,
		"payments":   goService,
		"expiration": goService,
		// The client's /healthz answers without calling the API, so a backend
		// outage never takes it out of the Service.
		"client": {ready: "/healthz", live: "/healthz"},
	}
}

// exception is a deliberate departure from one rule, with its reason.
type exception struct {
	targetPrefix, workload, container, rule, why string
}

func exceptions() []exception {
	return []exception{{
		targetPrefix: "overlays/dev", workload: "Deployment/client", container: "client",
		rule: "read-only root filesystem",
		why:  "in the dev overlay only, next dev and skaffold's file sync write into /app",
	}}
}

func excepted(targetName string, w workload, c corev1.Container, rule string) bool {
	for _, e := range exceptions() {
		if strings.HasPrefix(targetName, e.targetPrefix) && e.workload == w.String() && e.container == c.Name && e.rule == rule {
			return true
		}
	}
	return false
}

// containerCheck is what a rule sees of one container.
type containerCheck struct {
	r    *rendering
	w    workload
	c    corev1.Container
	init bool
}

type containerRule struct {
	name  string
	check func(x containerCheck) error
}

// containerRules are the hardening rules every container of every workload
// of every rendered target must pass.
func containerRules() []containerRule {
	return []containerRule{
		{"runs as non-root", func(x containerCheck) error {
			pod := x.w.Template.Spec.SecurityContext
			sc := x.c.SecurityContext
			nonRoot := pod != nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot
			if sc != nil && sc.RunAsNonRoot != nil {
				nonRoot = *sc.RunAsNonRoot
			}
			if !nonRoot {
				return fmt.Errorf("runAsNonRoot is not true")
			}
			uid := (*int64)(nil)
			if pod != nil {
				uid = pod.RunAsUser
			}
			if sc != nil && sc.RunAsUser != nil {
				uid = sc.RunAsUser
			}
			if uid != nil && *uid == 0 {
				return fmt.Errorf("runAsUser is 0")
			}
			return nil
		}},
		{"read-only root filesystem", func(x containerCheck) error {
			sc := x.c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				return fmt.Errorf("readOnlyRootFilesystem is not true")
			}
			return nil
		}},
		{"drops all capabilities", func(x containerCheck) error {
			sc := x.c.SecurityContext
			if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				return fmt.Errorf("capabilities.drop does not contain ALL")
			}
			if len(sc.Capabilities.Add) > 0 {
				return fmt.Errorf("capabilities.add is %v", sc.Capabilities.Add)
			}
			return nil
		}},
		{"no privilege escalation", func(x containerCheck) error {
			sc := x.c.SecurityContext
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				return fmt.Errorf("allowPrivilegeEscalation is not false")
			}
			if sc.Privileged != nil && *sc.Privileged {
				return fmt.Errorf("privileged")
			}
			return nil
		}},
		{"seccomp RuntimeDefault", func(x containerCheck) error {
			var p *corev1.SeccompProfile
			if pod := x.w.Template.Spec.SecurityContext; pod != nil {
				p = pod.SeccompProfile
			}
			if sc := x.c.SecurityContext; sc != nil && sc.SeccompProfile != nil {
				p = sc.SeccompProfile
			}
			if p == nil || p.Type != corev1.SeccompProfileTypeRuntimeDefault {
				return fmt.Errorf("seccompProfile is not RuntimeDefault (pod or container)")
			}
			return nil
		}},
		{"requests and limits", func(x containerCheck) error {
			var missing []string
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := x.c.Resources.Requests[name]
				limit, hasLimit := x.c.Resources.Limits[name]
				if !hasReq {
					missing = append(missing, "requests."+string(name))
				}
				if !hasLimit {
					missing = append(missing, "limits."+string(name))
				}
				if hasReq && hasLimit && req.Cmp(limit) > 0 {
					return fmt.Errorf("requests.%s %s is above limits.%s %s", name, req.String(), name, limit.String())
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("missing %s", strings.Join(missing, ", "))
			}
			return nil
		}},
		{"probes", func(x containerCheck) error {
			// A Job's pod runs to completion: nothing routes to it and
			// nothing should restart it for being busy.
			if x.init || x.w.Kind == "Job" || x.w.Kind == "CronJob" {
				return nil
			}
			probes := map[string]*corev1.Probe{
				"startupProbe": x.c.StartupProbe, "readinessProbe": x.c.ReadinessProbe, "livenessProbe": x.c.LivenessProbe,
			}
			for _, kind := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
				p := probes[kind]
				if p == nil {
					return fmt.Errorf("no %s", kind)
				}
				if err := probeHandlerProblem(p, x.c); err != nil {
					return fmt.Errorf("%s: %w", kind, err)
				}
			}
			return nil
		}},
		{"HTTP service probes", func(x containerCheck) error {
			port := containerPort(x.c, "http")
			if x.init || port == nil {
				return nil
			}
			want, ok := httpServices()[x.w.Name]
			if !ok {
				return fmt.Errorf("serves http but is not in httpServices(): add its probe paths there")
			}
			if port.ContainerPort != 3000 {
				return fmt.Errorf("port http is %d, want 3000", port.ContainerPort)
			}
			for _, p := range []struct {
				kind, path string
				probe      *corev1.Probe
			}{
				{"readinessProbe", want.ready, x.c.ReadinessProbe},
				{"livenessProbe", want.live, x.c.LivenessProbe},
				{"startupProbe", want.live, x.c.StartupProbe},
			} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					return fmt.Errorf("%s is not an httpGet", p.kind)
				}
				g := p.probe.HTTPGet
				if g.Path != p.path || (g.Port != intstr.FromString("http") && g.Port != intstr.FromInt32(3000)) {
					return fmt.Errorf("%s asks %s on port %s, want %s on http", p.kind, g.Path, g.Port.String(), p.path)
				}
			}
			return nil
		}},
		{"image", func(x containerCheck) error {
			return imageProblem(x.r.Target.Name, x.c.Image)
		}},
		{"NATS client id from the pod name", func(x containerCheck) error {
			env := containerEnv(x.r, x.c)
			_, hasURL := env["NATS_URL"]
			id, hasID := env["NATS_CLIENT_ID"]
			if !hasURL && !hasID {
				return nil
			}
			if !hasID {
				return fmt.Errorf("has NATS_URL but no NATS_CLIENT_ID")
			}
			if id == nil || id.ValueFrom == nil || id.ValueFrom.FieldRef == nil || id.ValueFrom.FieldRef.FieldPath != "metadata.name" {
				return fmt.Errorf("NATS_CLIENT_ID is not valueFrom.fieldRef metadata.name: two pods would share a client id")
			}
			return nil
		}},
		{"secrets by reference", func(x containerCheck) error {
			for _, e := range x.c.Env {
				if !secretName(e.Name) {
					continue
				}
				if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					return fmt.Errorf("env %s must come from a Secret (valueFrom.secretKeyRef)", e.Name)
				}
			}
			return nil
		}},
	}
}

// podRules apply to a workload's pod template as a whole.
func podRules() []struct {
	name  string
	check func(r *rendering, w workload) error
} {
	return []struct {
		name  string
		check func(r *rendering, w workload) error
	}{
		{"own service account, no token", func(r *rendering, w workload) error {
			spec := w.Template.Spec
			if spec.ServiceAccountName == "" || spec.ServiceAccountName == "default" {
				return fmt.Errorf("runs as the default service account")
			}
			if _, ok := r.find("ServiceAccount", spec.ServiceAccountName); !ok {
				return fmt.Errorf("service account %s is not rendered", spec.ServiceAccountName)
			}
			if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
				return fmt.Errorf("automountServiceAccountToken is not false")
			}
			return nil
		}},
		{"no host namespaces", func(_ *rendering, w workload) error {
			spec := w.Template.Spec
			if spec.HostNetwork || spec.HostPID || spec.HostIPC {
				return fmt.Errorf("uses a host namespace")
			}
			return nil
		}},
		{"selector matches the pods", func(_ *rendering, w workload) error {
			if w.Kind == "Job" || w.Kind == "CronJob" {
				return nil
			}
			if !selects(w.Selector, w.Template.Labels) {
				return fmt.Errorf("spec.selector does not select the template's labels")
			}
			return nil
		}},
		{"disruption budget", func(r *rendering, w workload) error {
			if w.Replicas < 2 {
				return nil
			}
			for _, o := range r.byKind("PodDisruptionBudget") {
				pdb := o.Typed.(*policyv1.PodDisruptionBudget)
				if !selects(pdb.Spec.Selector, w.Template.Labels) {
					continue
				}
				if m := pdb.Spec.MinAvailable; m != nil && m.Type == intstr.Int && m.IntVal >= w.Replicas {
					return fmt.Errorf("PodDisruptionBudget/%s minAvailable %d would block every drain of %d replicas", o.Name, m.IntVal, w.Replicas)
				}
				return nil
			}
			return fmt.Errorf("%d replicas and no PodDisruptionBudget selects them", w.Replicas)
		}},
		{"volumes", func(r *rendering, w workload) error {
			declared := map[string]bool{}
			for _, v := range w.Template.Spec.Volumes {
				declared[v.Name] = true
				if v.ConfigMap != nil {
					if _, ok := r.find("ConfigMap", v.ConfigMap.Name); !ok && (v.ConfigMap.Optional == nil || !*v.ConfigMap.Optional) {
						return fmt.Errorf("volume %s: ConfigMap %s is not rendered", v.Name, v.ConfigMap.Name)
					}
				}
			}
			for _, pvc := range w.ClaimTemplates {
				declared[pvc.Name] = true
				if _, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
					return fmt.Errorf("volumeClaimTemplate %s requests no storage", pvc.Name)
				}
			}
			for _, c := range allContainers(w) {
				for _, m := range c.VolumeMounts {
					if !declared[m.Name] {
						return fmt.Errorf("container %s mounts %s, which is not a volume", c.Name, m.Name)
					}
				}
			}
			return nil
		}},
		{"headless service of a StatefulSet", func(r *rendering, w workload) error {
			if w.Kind != "StatefulSet" {
				return nil
			}
			o, ok := r.find("Service", w.ServiceName)
			if !ok {
				return fmt.Errorf("serviceName %q is not a rendered Service", w.ServiceName)
			}
			svc := o.Typed.(*corev1.Service)
			if svc.Spec.ClusterIP != corev1.ClusterIPNone {
				return fmt.Errorf("Service %s is not headless (clusterIP: None)", svc.Name)
			}
			return nil
		}},
	}
}

// hardeningProblems runs every rule over every container and pod of r.
func hardeningProblems(r *rendering) []error {
	var problems []error
	for _, w := range r.workloads() {
		for _, rule := range podRules() {
			if err := rule.check(r, w); err != nil {
				problems = append(problems, problemf("%s: %s: %s: %v", r.Target.Name, w, rule.name, err))
			}
		}
		for i, c := range allContainers(w) {
			x := containerCheck{r: r, w: w, c: c, init: i < len(w.Template.Spec.InitContainers)}
			for _, rule := range containerRules() {
				if excepted(r.Target.Name, w, c, rule.name) {
					continue
				}
				if err := rule.check(x); err != nil {
					problems = append(problems, problemf("%s: %s container %s: %s: %v", r.Target.Name, w, c.Name, rule.name, err))
				}
			}
		}
	}
	return problems
}

func allContainers(w workload) []corev1.Container {
	return append(slices.Clone(w.Template.Spec.InitContainers), w.Template.Spec.Containers...)
}

func containerPort(c corev1.Container, name string) *corev1.ContainerPort {
	for i := range c.Ports {
		if c.Ports[i].Name == name {
			return &c.Ports[i]
		}
	}
	return nil
}

// probeHandlerProblem checks a probe has one handler and that a named port
// it uses exists.
func probeHandlerProblem(p *corev1.Probe, c corev1.Container) error {
	var port *intstr.IntOrString
	handlers := 0
	if p.HTTPGet != nil {
		handlers++
		port = &p.HTTPGet.Port
	}
	if p.TCPSocket != nil {
		handlers++
		port = &p.TCPSocket.Port
	}
	if p.Exec != nil {
		handlers++
		if len(p.Exec.Command) == 0 {
			return fmt.Errorf("exec with no command")
		}
	}
	if p.GRPC != nil {
		handlers++
	}
	if handlers != 1 {
		return fmt.Errorf("%d handlers, want 1", handlers)
	}
	if port != nil && port.Type == intstr.String && containerPort(c, port.StrVal) == nil {
		return fmt.Errorf("port %q is not a port of the container", port.StrVal)
	}
	return nil
}

// selects reports whether sel selects these labels; nil or empty selects nothing.
func selects(sel *metav1.LabelSelector, podLabels map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	return s.Matches(labels.Set(podLabels))
}

// containerEnv is the container's environment by name: its env entries, and
// the keys of the ConfigMaps it takes whole (as nil entries).
func containerEnv(r *rendering, c corev1.Container) map[string]*corev1.EnvVar {
	env := map[string]*corev1.EnvVar{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			continue
		}
		data, _ := r.configMapData(from.ConfigMapRef.Name)
		for k := range data {
			env[from.Prefix+k] = nil
		}
	}
	for i := range c.Env {
		env[c.Env[i].Name] = &c.Env[i]
	}
	return env
}

// secretName reports whether an environment variable or ConfigMap key names
// something secret. A Stripe publishable key is public by design.
func secretName(name string) bool {
	upper := strings.ToUpper(name)
	if strings.Contains(upper, "PUBLISHABLE") {
		return false
	}
	return regexp.MustCompile(`(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?)($|_)`).MatchString(upper)
}

// imageProblem applies the image rules: our own images are ticketing/<name>
// (skaffold replaces them) except in prod, where they come from the registry
// with a tag; every other image names a version, never latest.
func imageProblem(targetName, image string) error {
	name, tag, digest := splitImage(image)
	base := name[strings.LastIndex(name, "/")+1:]
	own := slices.Contains(ownImages(), base) && (strings.HasPrefix(name, "ticketing/") || strings.HasPrefix(name, "registry.digitalocean.com/"))
	prod := strings.HasPrefix(targetName, "overlays/prod")
	switch {
	case own && prod:
		if !strings.HasPrefix(name, "registry.digitalocean.com/") || tag == "" || tag == "latest" {
			return fmt.Errorf("%s: a production image must come from registry.digitalocean.com with the tag the deploy sets", image)
		}
	case own:
		if name != "ticketing/"+base || tag != "" || digest != "" {
			return fmt.Errorf("%s: want ticketing/%s with no tag, the name skaffold builds and replaces", image, base)
		}
	default:
		if digest == "" && !regexp.MustCompile(`^v?\d+\.\d+`).MatchString(tag) {
			return fmt.Errorf("%s: a third-party image must name its version (at least major.minor), not %q", image, tag)
		}
	}
	return nil
}

// splitImage splits name[:tag][@digest].
func splitImage(image string) (name, tag, digest string) {
	name = image
	if i := strings.Index(name, "@"); i >= 0 {
		name, digest = name[:i], name[i+1:]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}
