package infracheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// clusterIssuer is the part of cert-manager's ClusterIssuer we use; decoded
// strictly, so a misspelled field fails as it would at the API server.
type clusterIssuer struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		ACME struct {
			Server              string `json:"server"`
			Email               string `json:"email"`
			PrivateKeySecretRef struct {
				Name string `json:"name"`
			} `json:"privateKeySecretRef"`
			Solvers []struct {
				HTTP01 *struct {
					Ingress struct {
						IngressClassName string `json:"ingressClassName"`
					} `json:"ingress"`
				} `json:"http01"`
			} `json:"solvers"`
		} `json:"acme"`
	} `json:"spec"`
}

const clusterIssuerFile = "infra/k8s/cluster/cluster-issuer.yaml"

// acmeProblems: the TLS certificate the prod Ingress asks for can be issued.
// The ClusterIssuer it names is in the repository and solves HTTP-01 through
// the Ingress's class, and the network policies let ingress-nginx reach
// cert-manager's solver pod.
func acmeProblems(root string, r *rendering) []error {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, problemf("%s: TLS certificate: %s", r.Target.Name, fmt.Sprintf(format, args...)))
	}
	var ing *networkingv1.Ingress
	for _, o := range r.byKind("Ingress") {
		ing = o.Typed.(*networkingv1.Ingress)
	}
	if ing == nil {
		return []error{problemf("%s: TLS certificate: no Ingress", r.Target.Name)}
	}
	name := ing.Annotations["cert-manager.io/cluster-issuer"]
	if name == "" || len(ing.Spec.TLS) == 0 {
		add("the Ingress has no cert-manager.io/cluster-issuer annotation or no tls section")
		return problems
	}
	ci, err := readClusterIssuer(filepath.Join(root, filepath.FromSlash(clusterIssuerFile)))
	switch {
	case err != nil:
		add("the Ingress names ClusterIssuer %s: %v", name, err)
	case ci.Kind != "ClusterIssuer" || ci.APIVersion != "cert-manager.io/v1" || ci.Metadata.Name != name:
		add("%s is %s %s/%s, want the ClusterIssuer %s the Ingress names", clusterIssuerFile, ci.APIVersion, ci.Kind, ci.Metadata.Name, name)
	default:
		class := ""
		if ing.Spec.IngressClassName != nil {
			class = *ing.Spec.IngressClassName
		}
		solves := false
		for _, s := range ci.Spec.ACME.Solvers {
			solves = solves || (s.HTTP01 != nil && s.HTTP01.Ingress.IngressClassName == class)
		}
		if !solves {
			add("%s has no HTTP-01 solver for ingress class %q", clusterIssuerFile, class)
		}
		if ci.Spec.ACME.Server == "" || ci.Spec.ACME.PrivateKeySecretRef.Name == "" {
			add("%s needs spec.acme.server and privateKeySecretRef", clusterIssuerFile)
		}
	}

	var policies []*networkingv1.NetworkPolicy
	for _, o := range r.byKind("NetworkPolicy") {
		policies = append(policies, o.Typed.(*networkingv1.NetworkPolicy))
	}
	ends := endpoints(r.workloads())
	nginx, _ := endpointNamed(ends, "ingress-nginx")
	solver, _ := endpointNamed(ends, acmeSolver)
	port := corev1.ContainerPort{ContainerPort: acmeSolverPort, Protocol: corev1.ProtocolTCP}
	if !allowedByPolicies(policies, nginx, solver, port, corev1.ProtocolTCP) {
		add("the network policies refuse ingress-nginx -> cert-manager's HTTP-01 solver (label acme.cert-manager.io/http01-solver, port %d)", acmeSolverPort)
	}
	return problems
}

func readClusterIssuer(path string) (*clusterIssuer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ci clusterIssuer
	if err := dec.Decode(&ci); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &ci, nil
}
