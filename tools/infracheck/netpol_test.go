package infracheck

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// endpoint is one end of a connection: a pod of ours, a pod elsewhere in the
// cluster, or an address outside it.
type endpoint struct {
	name      string
	namespace string // "" outside the cluster
	labels    map[string]string
	ip        string
	ports     []corev1.ContainerPort // what it listens on
	ours      bool                   // our namespace's policies apply to it
}

// connection is one (from, to, port) the evaluation looks at.
type connection struct {
	from, to string
	port     int32
	protocol corev1.Protocol
}

func (c connection) String() string {
	return fmt.Sprintf("%s -> %s:%d/%s", c.from, c.to, c.port, c.protocol)
}

// expectedTraffic is exactly what the architecture needs; with the network
// policies on, everything else must be refused.
func expectedTraffic(workloads []workload) map[connection]bool {
	tcp := corev1.ProtocolTCP
	want := map[connection]bool{}
	for _, svc := range []string{"auth", "tickets", "orders", "payments", "client"} {
		want[connection{"ingress-nginx", svc, 3000, tcp}] = true
	}
	for _, svc := range []string{"auth", "tickets", "orders", "payments"} {
		set := svc + "-mongo"
		want[connection{svc, set, 27017, tcp}] = true
		// The members replicate and elect among themselves; the nightly
		// backup reads its own set and uploads to Spaces.
		want[connection{set, set, 27017, tcp}] = true
		want[connection{set + "-backup", set, 27017, tcp}] = true
		want[connection{set + "-backup", "internet", 443, tcp}] = true
		// infra/k8s/restore.sh's pod, as TestRestoreScript names it.
		want[connection{set + "-restore", set, 27017, tcp}] = true
		want[connection{set + "-restore", "internet", 443, tcp}] = true
	}
	for _, svc := range []string{"tickets", "orders", "payments", "expiration"} {
		want[connection{svc, "nats", 4222, tcp}] = true
	}
	// The NATS nodes talk to each other on their route port (NATS
	// Streaming's Raft, or JetStream's with components/jetstream).
	if port, ok := natsRoutePort(workloads); ok {
		want[connection{"nats", "nats", port, tcp}] = true
	}
	// expiration asks a Sentinel for the master, then uses the master; the
	// Redis pods replicate, and the Sentinels watch them and each other.
	for _, port := range []int32{6379, 26379} {
		want[connection{"expiration", "redis", port, tcp}] = true
		want[connection{"redis", "redis", port, tcp}] = true
	}
	want[connection{"payments", "internet", 443, tcp}] = true
	// Server-side rendering asks the API services directly (API_ROUTES).
	for _, svc := range []string{"auth", "tickets", "orders", "payments"} {
		want[connection{"client", svc, 3000, tcp}] = true
	}
	want[connection{"ingress-nginx", acmeSolver, acmeSolverPort, tcp}] = true
	// Every pod may look names up, cert-manager's solver included.
	for _, name := range append(workloadNames(workloads), acmeSolver) {
		want[connection{name, "dns", 53, corev1.ProtocolUDP}] = true
		want[connection{name, "dns", 53, tcp}] = true
	}
	return want
}

// natsRoutePort is the nats workload's cluster route port, if it has one.
func natsRoutePort(workloads []workload) (int32, bool) {
	for _, w := range workloads {
		if w.Name != "nats" {
			continue
		}
		for _, c := range w.Template.Spec.Containers {
			if p := containerPort(c, "cluster"); p != nil {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// networkPolicyProblems evaluates the rendered policies the way a CNI does
// for every pair of endpoints and every port they listen on, and compares the
// result with expectedTraffic.
func networkPolicyProblems(r *rendering) []error {
	var policies []*networkingv1.NetworkPolicy
	for _, o := range r.byKind("NetworkPolicy") {
		policies = append(policies, o.Typed.(*networkingv1.NetworkPolicy))
	}
	if len(policies) == 0 {
		return nil
	}
	var problems []error
	workloads := r.workloads()
	ends := endpoints(workloads)

	// Every policy's pod selectors must select something: a typo in a label
	// would otherwise silently allow or refuse nothing.
	for _, p := range policies {
		if len(p.Spec.PodSelector.MatchLabels)+len(p.Spec.PodSelector.MatchExpressions) > 0 && !selectsAnyPod(&p.Spec.PodSelector, ends) {
			problems = append(problems, problemf("%s: NetworkPolicy/%s: podSelector selects no pods", r.Target.Name, p.Name))
		}
		var peers []networkingv1.NetworkPolicyPeer
		for _, rule := range p.Spec.Ingress {
			peers = append(peers, rule.From...)
		}
		for _, rule := range p.Spec.Egress {
			peers = append(peers, rule.To...)
		}
		for _, peer := range peers {
			if peer.PodSelector != nil && peer.NamespaceSelector == nil && !selectsAnyPod(peer.PodSelector, ends) {
				problems = append(problems, problemf("%s: NetworkPolicy/%s: peer podSelector %v selects no pods", r.Target.Name, p.Name, peer.PodSelector.MatchLabels))
			}
		}
	}

	want := expectedTraffic(workloads)
	for _, from := range ends {
		if from.namespace == "" {
			continue // nothing from outside the cluster reaches a pod but through ingress-nginx
		}
		for _, to := range ends {
			for _, p := range to.ports {
				proto := p.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				c := connection{from.name, to.name, p.ContainerPort, proto}
				allowed := allowedByPolicies(policies, from, to, p, proto)
				switch {
				case allowed && !want[c] && (from.ours || to.ours):
					problems = append(problems, problemf("%s: network policies allow %s, which the architecture does not need", r.Target.Name, c))
				case !allowed && want[c]:
					problems = append(problems, problemf("%s: network policies refuse %s, which the architecture needs", r.Target.Name, c))
				}
			}
		}
	}
	return problems
}

// acmeSolver is the pod cert-manager starts in our namespace while it proves
// the public host for a certificate (HTTP-01): no workload of ours, but our
// policies apply to it.
const (
	acmeSolver     = "acme-http01-solver"
	acmeSolverPort = 8089
)

// endpoints are every pod the policies are evaluated for: our workloads,
// cert-manager's solver, and the parties outside our namespace.
func endpoints(workloads []workload) []endpoint {
	var ends []endpoint
	for i, w := range workloads {
		var ports []corev1.ContainerPort
		for _, c := range w.Template.Spec.Containers {
			ports = append(ports, c.Ports...)
		}
		ends = append(ends, endpoint{name: w.Name, namespace: namespace, labels: w.Template.Labels,
			ip: fmt.Sprintf("10.244.1.%d", i+10), ports: ports, ours: true})
	}
	ends = append(ends,
		endpoint{name: "ingress-nginx", namespace: "ingress-nginx", ip: "10.244.2.10",
			labels: map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
			ports:  []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}, {ContainerPort: 443, Protocol: corev1.ProtocolTCP}}},
		endpoint{name: "dns", namespace: "kube-system", ip: "10.244.3.10", labels: map[string]string{"k8s-app": "kube-dns"},
			ports: []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {ContainerPort: 53, Protocol: corev1.ProtocolTCP}}},
		// A documentation address stands for the public internet (Stripe).
		endpoint{name: "internet", ip: "203.0.113.10",
			ports: []corev1.ContainerPort{{ContainerPort: 443, Protocol: corev1.ProtocolTCP}, {ContainerPort: 80, Protocol: corev1.ProtocolTCP}}},
		endpoint{name: "private-network", ip: "10.20.30.40",
			ports: []corev1.ContainerPort{{ContainerPort: 443, Protocol: corev1.ProtocolTCP}}},
		endpoint{name: acmeSolver, namespace: namespace, ip: "10.244.1.250", ours: true,
			labels: map[string]string{"acme.cert-manager.io/http01-solver": "true"},
			ports:  []corev1.ContainerPort{{ContainerPort: acmeSolverPort, Protocol: corev1.ProtocolTCP}}},
	)
	return ends
}

func workloadNames(workloads []workload) []string {
	var names []string
	for _, w := range workloads {
		names = append(names, w.Name)
	}
	return names
}

// endpointNamed is the endpoint called name.
func endpointNamed(ends []endpoint, name string) (endpoint, bool) {
	for _, e := range ends {
		if e.name == name {
			return e, true
		}
	}
	return endpoint{}, false
}

func selectsAnyPod(sel *metav1.LabelSelector, ends []endpoint) bool {
	for _, e := range ends {
		if e.ours && npSelects(sel, e.labels) {
			return true
		}
	}
	return false
}

// npSelects is a NetworkPolicy selector: empty selects everything.
func npSelects(sel *metav1.LabelSelector, lbls map[string]string) bool {
	if sel == nil {
		return true
	}
	if len(sel.MatchExpressions) == 0 {
		// The common case, without building a labels.Selector each time.
		for k, v := range sel.MatchLabels {
			if lbls[k] != v {
				return false
			}
		}
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(lbls))
}

func policyTypes(p *networkingv1.NetworkPolicy) []networkingv1.PolicyType {
	if len(p.Spec.PolicyTypes) > 0 {
		return p.Spec.PolicyTypes
	}
	types := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(p.Spec.Egress) > 0 {
		types = append(types, networkingv1.PolicyTypeEgress)
	}
	return types
}

func applies(p *networkingv1.NetworkPolicy, pod endpoint, typ networkingv1.PolicyType) bool {
	if !pod.ours {
		return false
	}
	hasType := false
	for _, t := range policyTypes(p) {
		hasType = hasType || t == typ
	}
	return hasType && npSelects(&p.Spec.PodSelector, pod.labels)
}

// allowedByPolicies: the sender's egress and the receiver's ingress must both
// allow the connection, where our policies apply to them.
func allowedByPolicies(policies []*networkingv1.NetworkPolicy, from, to endpoint, port corev1.ContainerPort, proto corev1.Protocol) bool {
	egressApplies, egressAllows := false, false
	ingressApplies, ingressAllows := false, false
	for _, p := range policies {
		if applies(p, from, networkingv1.PolicyTypeEgress) {
			egressApplies = true
			for _, rule := range p.Spec.Egress {
				if peersMatch(rule.To, to) && portsMatch(rule.Ports, port, proto) {
					egressAllows = true
				}
			}
		}
		if applies(p, to, networkingv1.PolicyTypeIngress) {
			ingressApplies = true
			for _, rule := range p.Spec.Ingress {
				if peersMatch(rule.From, from) && portsMatch(rule.Ports, port, proto) {
					ingressAllows = true
				}
			}
		}
	}
	return (!egressApplies || egressAllows) && (!ingressApplies || ingressAllows)
}

func peersMatch(peers []networkingv1.NetworkPolicyPeer, e endpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for _, peer := range peers {
		if peerMatches(peer, e) {
			return true
		}
	}
	return false
}

func peerMatches(peer networkingv1.NetworkPolicyPeer, e endpoint) bool {
	if peer.IPBlock != nil {
		addr, err := netip.ParseAddr(e.ip)
		if err != nil || e.namespace != "" {
			return false // ipBlock is for addresses outside the cluster
		}
		if !inCIDR(addr, peer.IPBlock.CIDR) {
			return false
		}
		for _, ex := range peer.IPBlock.Except {
			if inCIDR(addr, ex) {
				return false
			}
		}
		return true
	}
	if e.namespace == "" {
		return false
	}
	if peer.NamespaceSelector != nil {
		if !npSelects(peer.NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": e.namespace}) {
			return false
		}
	} else if e.namespace != namespace {
		return false
	}
	return npSelects(peer.PodSelector, e.labels)
}

func inCIDR(addr netip.Addr, cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Contains(addr)
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, port corev1.ContainerPort, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		want := corev1.ProtocolTCP
		if p.Protocol != nil {
			want = *p.Protocol
		}
		if want != proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			if p.Port.StrVal == port.Name {
				return true
			}
		case p.EndPort != nil:
			if port.ContainerPort >= p.Port.IntVal && port.ContainerPort <= *p.EndPort {
				return true
			}
		case p.Port.IntVal == port.ContainerPort:
			return true
		}
	}
	return false
}
