package infracheck

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// hostnameKey is the node label that tells one machine from another.
const hostnameKey = "kubernetes.io/hostname"

// availabilityProblems: in production nothing is a single point of failure
// (issue 15). Every StatefulSet keeps three copies, one per node by a
// required anti-affinity term that keeps it apart from its own copies only;
// every Deployment keeps two; each has a PodDisruptionBudget that lets a
// drain proceed, and a StatefulSet's also keeps its majority. Every
// MONGO_URI names its replica set as its members run it, lists every
// member, and asks for retryable writes acknowledged by the majority.
func availabilityProblems(r *rendering) []error {
	var problems []error
	add := func(w fmt.Stringer, format string, args ...any) {
		problems = append(problems, problemf("%s: %s: availability: %s", r.Target.Name, w, fmt.Sprintf(format, args...)))
	}
	workloads := r.workloads()
	for _, w := range workloads {
		switch w.Kind {
		case "StatefulSet":
			if w.Replicas < 3 {
				add(w, "%d replicas: a stateful part needs three copies to keep a majority when one is lost", w.Replicas)
			}
			if err := hostAntiAffinityProblem(w, workloads); err != nil {
				add(w, "%v", err)
			}
		case "Deployment":
			if w.Replicas < 2 {
				add(w, "%d replica: while its pod is rescheduled nothing serves", w.Replicas)
			}
		default:
			continue
		}
		if err := budgetProblem(r, w); err != nil {
			add(w, "%v", err)
		}
	}
	problems = append(problems, mongoMemberCountProblems(r)...)
	sets, errs := mongoSets(r)
	for _, err := range errs {
		problems = append(problems, problemf("%s: availability: %v", r.Target.Name, err))
	}
	for _, w := range workloads {
		for _, c := range w.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.Name != "MONGO_URI" {
					continue
				}
				if err := mongoURIAvailabilityProblem(e.Value, sets); err != nil {
					add(w, "container %s: MONGO_URI: %v", c.Name, err)
				}
			}
		}
	}
	return problems
}

// hostAntiAffinityProblem: a required anti-affinity term on the hostname
// selects w's own pods and no other workload's (which would keep w off
// nodes it could share with them, and need a node per pod of both).
func hostAntiAffinityProblem(w workload, all []workload) error {
	var terms []corev1.PodAffinityTerm
	if a := w.Template.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		terms = a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	for _, term := range terms {
		if term.TopologyKey != hostnameKey || len(term.Namespaces) > 0 || term.NamespaceSelector != nil ||
			!selects(term.LabelSelector, w.Template.Labels) {
			continue
		}
		for _, other := range all {
			if other.String() != w.String() && selects(term.LabelSelector, other.Template.Labels) {
				return fmt.Errorf("its anti-affinity also selects the pods of %s: they could never share a node", other)
			}
		}
		return nil
	}
	return fmt.Errorf("no required pod anti-affinity on %s that selects its own pods: two copies may land on one node and go together", hostnameKey)
}

// budgetProblem: a PodDisruptionBudget selects w's pods, lets a drain evict
// at least one, and (for a StatefulSet, whose copies vote) never more than
// leaves a majority.
func budgetProblem(r *rendering, w workload) error {
	var pdb *policyv1.PodDisruptionBudget
	for _, o := range r.byKind("PodDisruptionBudget") {
		if p := o.Typed.(*policyv1.PodDisruptionBudget); selects(p.Spec.Selector, w.Template.Labels) {
			pdb = p
			break
		}
	}
	if pdb == nil {
		return fmt.Errorf("no PodDisruptionBudget selects its pods: a node drain may take every copy at once")
	}
	n := int(w.Replicas)
	var allowed int
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, n, true)
		if err != nil {
			return fmt.Errorf("PodDisruptionBudget/%s: %v", pdb.Name, err)
		}
		allowed = v
	case pdb.Spec.MinAvailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, n, true)
		if err != nil {
			return fmt.Errorf("PodDisruptionBudget/%s: %v", pdb.Name, err)
		}
		allowed = n - v
	}
	switch {
	case allowed < 1:
		return fmt.Errorf("PodDisruptionBudget/%s lets no pod of %d go: a node drain would never finish", pdb.Name, n)
	case w.Kind == "StatefulSet" && n-allowed < n/2+1:
		return fmt.Errorf("PodDisruptionBudget/%s lets %d of %d go: a drain could take the majority", pdb.Name, allowed, n)
	}
	return nil
}

// mongoSet is one MongoDB replica set: its StatefulSet and the set name its
// mongod runs with.
type mongoSet struct {
	Workload workload
	Name     string
}

// mongoSets are the MongoDB StatefulSets of r by their governing Service,
// under whose name their pods are found (pod.service).
func mongoSets(r *rendering) (map[string]mongoSet, []error) {
	sets := map[string]mongoSet{}
	var errs []error
	for _, w := range r.workloads() {
		i := mongodContainer(w.Template.Spec)
		if w.Kind != "StatefulSet" || i < 0 {
			continue
		}
		name, err := mongoReplicaSetName(w, w.Template.Spec.Containers[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w, err))
			continue
		}
		sets[w.ServiceName] = mongoSet{Workload: w, Name: name}
	}
	return sets, errs
}

var labelFieldPath = regexp.MustCompile(`^metadata\.labels\['([^']+)'\]$`)

// mongoReplicaSetName is the --replSet value of mongod in c, with a $(VAR)
// resolved the way the kubelet does: from the container's env, whose value
// may come from one of the pod's labels.
func mongoReplicaSetName(w workload, c corev1.Container) (string, error) {
	args := append(slices.Clone(c.Command), c.Args...)
	var name string
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--replSet="); ok {
			name = v
		} else if a == "--replSet" && i+1 < len(args) {
			name = args[i+1]
		}
	}
	if name == "" {
		return "", fmt.Errorf("mongod runs without --replSet: one server, no copy to fail over to")
	}
	m := envRef.FindStringSubmatch(name)
	if m == nil {
		return name, nil
	}
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == m[1] })
	switch {
	case i < 0:
		return "", fmt.Errorf("--replSet %s names no env of container %s", name, c.Name)
	case c.Env[i].ValueFrom == nil:
		return c.Env[i].Value, nil
	case c.Env[i].ValueFrom.FieldRef != nil:
		if l := labelFieldPath.FindStringSubmatch(c.Env[i].ValueFrom.FieldRef.FieldPath); l != nil && w.Template.Labels[l[1]] != "" {
			return w.Template.Labels[l[1]], nil
		}
	}
	return "", fmt.Errorf("--replSet %s: cannot tell its value from the manifest", name)
}

// mongoURIAvailabilityProblem: the URI's hosts are the members of one set,
// all of them, and its options name that set and majority writes retried
// once after a failover.
func mongoURIAvailabilityProblem(raw string, sets map[string]mongoSet) error {
	u, err := parseMongoURI(raw)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	var set *mongoSet
	for _, h := range u.Hosts {
		name := h
		if host, _, err := net.SplitHostPort(h); err == nil {
			name = host
		}
		listed[name] = true
		_, svc, _ := strings.Cut(name, ".")
		s, ok := sets[svc]
		if !ok {
			s, ok = sets[name]
		}
		if !ok {
			return fmt.Errorf("host %s is no member of a MongoDB replica set of ours", h)
		}
		if set != nil && set.Workload.Name != s.Workload.Name {
			return fmt.Errorf("hosts of two sets, %s and %s", set.Workload, s.Workload)
		}
		set = &s
	}
	var missing []string
	for i := range int(set.Workload.Replicas) {
		if m := set.Workload.Name + "-" + strconv.Itoa(i) + "." + set.Workload.ServiceName; !listed[m] {
			missing = append(missing, m)
		}
	}
	var wrong []string
	if got := u.Options.Get("replicaSet"); got != set.Name {
		wrong = append(wrong, fmt.Sprintf("replicaSet is %q, want %q (the name %s runs with)", got, set.Name, set.Workload))
	}
	if got := u.Options.Get("retryWrites"); got != "true" {
		wrong = append(wrong, fmt.Sprintf("retryWrites is %q, want true (a write cut by a failover is retried once)", got))
	}
	if got := u.Options.Get("w"); got != "majority" {
		wrong = append(wrong, fmt.Sprintf("w is %q, want majority (a write only the old primary had is rolled back)", got))
	}
	if len(missing) > 0 {
		wrong = append(wrong, fmt.Sprintf("does not list the members %s (the driver starts from the hosts it is given)", strings.Join(missing, ", ")))
	}
	if len(wrong) > 0 {
		return fmt.Errorf("%s", strings.Join(wrong, "; "))
	}
	return nil
}

// mongoMemberCountProblems: each set's replica-set sidecar founds the set
// with as many members as its StatefulSet runs (MONGO_REPLICAS), or member
// 0 would wait for members that never come, or leave some out.
func mongoMemberCountProblems(r *rendering) []error {
	var problems []error
	for _, w := range r.workloads() {
		if w.Kind != "StatefulSet" || mongodContainer(w.Template.Spec) < 0 {
			continue
		}
		found := false
		for _, c := range w.Template.Spec.InitContainers {
			for _, e := range c.Env {
				if e.Name != "MONGO_REPLICAS" {
					continue
				}
				found = true
				if n, err := strconv.Atoi(e.Value); err != nil || int32(n) != w.Replicas {
					problems = append(problems, problemf("%s: %s: container %s founds the set with MONGO_REPLICAS %q members, but the StatefulSet runs %d",
						r.Target.Name, w, c.Name, e.Value, w.Replicas))
				}
			}
		}
		if !found {
			problems = append(problems, problemf("%s: %s: no init container says how many members found the set (MONGO_REPLICAS)", r.Target.Name, w))
		}
	}
	return problems
}

// TestAvailability checks production, with NATS Streaming and with the
// JetStream component, for single points of failure.
func TestAvailability(t *testing.T) {
	eachOverlay(t, availabilityProblems, "overlays/prod", "overlays/prod+"+strings.TrimPrefix(jetStreamComponent, "components/"))
}

// TestMongoSetsFoundedWithEveryMember holds for the lighter dev overlay too.
func TestMongoSetsFoundedWithEveryMember(t *testing.T) {
	eachOverlay(t, mongoMemberCountProblems, "overlays/prod", "overlays/dev")
}
