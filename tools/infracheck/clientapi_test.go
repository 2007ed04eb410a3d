package infracheck

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// apiRoute is one "path service port" triple of the client's API_ROUTES, or
// one /api rule of the Ingress.
type apiRoute struct {
	Path, Service string
	Port          int32
}

func (a apiRoute) String() string { return fmt.Sprintf("%s -> %s:%d", a.Path, a.Service, a.Port) }

// clientAPIProblems: server-side rendering must reach the services the way
// the Ingress routes them, over cluster DNS, and never through the public
// entry point (on DigitalOcean its load balancer speaks the PROXY protocol
// and TLS redirects plain HTTP). So client-config's API_ROUTES equals the
// Ingress's /api rules, names no ingress controller, and the network
// policies let the client reach every pod behind those Services.
func clientAPIProblems(r *rendering) []error {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, problemf("%s: client API: %s", r.Target.Name, fmt.Sprintf(format, args...)))
	}
	data, ok := r.configMapData("client-config")
	if !ok {
		return []error{problemf("%s: client API: no ConfigMap client-config", r.Target.Name)}
	}
	if u := data["API_INTERNAL_URL"]; u != "" {
		add("API_INTERNAL_URL=%s sends server-side requests through the ingress controller, the public entry point; use API_ROUTES", u)
	}
	routes, err := parseAPIRoutes(data["API_ROUTES"])
	if err != nil {
		add("%v", err)
		return problems
	}
	want := ingressAPIRoutes(r)
	for _, rt := range routes {
		if !slices.Contains(want, rt) {
			add("API_ROUTES has %s, which the Ingress does not route", rt)
		}
	}
	for _, rt := range want {
		if !slices.Contains(routes, rt) {
			add("API_ROUTES lacks the Ingress's %s", rt)
		}
	}

	var policies []*networkingv1.NetworkPolicy
	for _, o := range r.byKind("NetworkPolicy") {
		policies = append(policies, o.Typed.(*networkingv1.NetworkPolicy))
	}
	ends := endpoints(r.workloads())
	client, ok := endpointNamed(ends, "client")
	if !ok {
		add("no client workload")
		return problems
	}
	for _, rt := range routes {
		o, ok := r.find("Service", rt.Service)
		if !ok {
			add("%s: no Service %s", rt, rt.Service)
			continue
		}
		svc := o.Typed.(*corev1.Service)
		port, ok := servicePort(svc, rt.Port)
		if !ok {
			add("%s: Service %s has no port %d", rt, rt.Service, rt.Port)
			continue
		}
		reached := false
		for _, e := range ends {
			if !e.ours || len(svc.Spec.Selector) == 0 || !selectsMap(svc.Spec.Selector, e.labels) {
				continue
			}
			for _, cp := range e.ports {
				if targetPortIs(cp, port.TargetPort, port.Port) {
					reached = true
					if !allowedByPolicies(policies, client, e, cp, corev1.ProtocolTCP) {
						add("%s: the network policies refuse client -> %s:%d", rt, e.name, cp.ContainerPort)
					}
				}
			}
		}
		if !reached {
			add("%s: Service %s selects no pod with its target port", rt, rt.Service)
		}
	}
	return problems
}

// parseAPIRoutes reads API_ROUTES as the client does (client/src/lib/api-routes.ts).
func parseAPIRoutes(raw string) ([]apiRoute, error) {
	words := strings.Fields(raw)
	if len(words) == 0 || len(words)%3 != 0 {
		return nil, fmt.Errorf("API_ROUTES %q is not \"path service port\" triples", raw)
	}
	var routes []apiRoute
	for i := 0; i < len(words); i += 3 {
		port, err := strconv.ParseInt(words[i+2], 10, 32)
		if err != nil || !strings.HasPrefix(words[i], "/") {
			return nil, fmt.Errorf("API_ROUTES entry %q is not \"path service port\"", strings.Join(words[i:i+3], " "))
		}
		routes = append(routes, apiRoute{Path: words[i], Service: words[i+1], Port: int32(port)})
	}
	return routes, nil
}

// ingressAPIRoutes are the Ingress rules under /api.
func ingressAPIRoutes(r *rendering) []apiRoute {
	var out []apiRoute
	for _, o := range r.byKind("Ingress") {
		for _, rule := range o.Typed.(*networkingv1.Ingress).Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if b := p.Backend.Service; b != nil && (p.Path == "/api" || strings.HasPrefix(p.Path, "/api/")) {
					out = append(out, apiRoute{Path: p.Path, Service: b.Name, Port: b.Port.Number})
				}
			}
		}
	}
	return out
}

func servicePort(svc *corev1.Service, port int32) (corev1.ServicePort, bool) {
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			return p, true
		}
	}
	return corev1.ServicePort{}, false
}
