package infracheck

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// mongoInstance is one MongoDB workload: the database its user is made for
// and the Secret that user's credentials come from.
type mongoInstance struct {
	Workload workload
	Database string
	Secret   string
}

// mongoAuthProblems: mongod runs with access control, an init container
// makes the one user of its database from a Secret, and each service
// connects as that user with the credentials from the same Secret.
func mongoAuthProblems(r *rendering) []error {
	var problems []error
	add := func(w fmt.Stringer, format string, args ...any) {
		problems = append(problems, problemf("%s: %s: mongod auth: %s", r.Target.Name, w, fmt.Sprintf(format, args...)))
	}
	instances := map[string]mongoInstance{} // by Service name
	for _, w := range r.workloads() {
		spec := w.Template.Spec
		i := mongodContainer(spec)
		if i < 0 {
			continue
		}
		if !slices.Contains(append(slices.Clone(spec.Containers[i].Command), spec.Containers[i].Args...), "--auth") {
			add(w, "container %s runs mongod without --auth: anyone who reaches the port reads every database", spec.Containers[i].Name)
		}
		inst, err := mongoUserInit(r, spec)
		if err != nil {
			add(w, "%v", err)
			continue
		}
		inst.Workload = w
		for _, name := range selectingServices(r, w) {
			instances[name] = inst
		}
	}
	if len(instances) == 0 {
		return problems
	}
	for _, w := range r.workloads() {
		for _, c := range w.Template.Spec.Containers {
			env := containerEnv(r, c)
			uri, ok := env["MONGO_URI"]
			if !ok {
				continue
			}
			if uri == nil {
				add(w, "container %s: MONGO_URI comes from a ConfigMap, where no credentials belong", c.Name)
				continue
			}
			if err := mongoURIProblem(uri.Value, env, instances); err != nil {
				add(w, "container %s: MONGO_URI: %v", c.Name, err)
			}
		}
	}
	return problems
}

// mongodContainer is the index of the container that runs the mongo image, or -1.
func mongodContainer(spec corev1.PodSpec) int {
	return slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { name, _, _ := splitImage(c.Image); return name == "mongo" })
}

// selectingServices are the names of the Services whose selector picks w's pods.
func selectingServices(r *rendering, w workload) []string {
	var names []string
	for _, o := range r.byKind("Service") {
		if svc := o.Typed.(*corev1.Service); len(svc.Spec.Selector) > 0 && selectsMap(svc.Spec.Selector, w.Template.Labels) {
			names = append(names, o.Name)
		}
	}
	return names
}

// mongoUserInit finds the init container that makes the database's user and
// where its database name and credentials come from.
func mongoUserInit(r *rendering, spec corev1.PodSpec) (mongoInstance, error) {
	for _, c := range spec.InitContainers {
		env := containerEnv(r, c)
		user, pwd, db := env["MONGO_USERNAME"], env["MONGO_PASSWORD"], env["MONGO_DATABASE"]
		if user == nil || pwd == nil || db == nil {
			continue
		}
		secret, err := sameSecret(user, pwd)
		if err != nil {
			return mongoInstance{}, fmt.Errorf("init container %s: %w", c.Name, err)
		}
		if db.Value == "" {
			return mongoInstance{}, fmt.Errorf("init container %s: MONGO_DATABASE has no value", c.Name)
		}
		return mongoInstance{Database: db.Value, Secret: secret}, nil
	}
	return mongoInstance{}, fmt.Errorf("no init container makes the database user (env MONGO_DATABASE, MONGO_USERNAME, MONGO_PASSWORD)")
}

// sameSecret: user and password are the keys username and password of one Secret.
func sameSecret(user, pwd *corev1.EnvVar) (string, error) {
	ref := func(v *corev1.EnvVar) *corev1.SecretKeySelector {
		if v.ValueFrom == nil {
			return nil
		}
		return v.ValueFrom.SecretKeyRef
	}
	u, p := ref(user), ref(pwd)
	if u == nil || p == nil || u.Name != p.Name || u.Key != "username" || p.Key != "password" {
		return "", fmt.Errorf("%s and %s must be the keys username and password of one Secret", user.Name, pwd.Name)
	}
	return u.Name, nil
}

var envRef = regexp.MustCompile(`^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$`)

// mongoURI is a mongodb:// connection string taken apart. Go's url package
// refuses the comma-separated host list of a replica set's seed list.
type mongoURI struct {
	User, Password string
	Hosts          []string // host:port, as written
	Database       string
	Options        url.Values
}

func parseMongoURI(raw string) (mongoURI, error) {
	rest, ok := strings.CutPrefix(raw, "mongodb://")
	if !ok {
		return mongoURI{}, fmt.Errorf("%q is not a mongodb:// URI", raw)
	}
	var u mongoURI
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		u.User, u.Password, _ = strings.Cut(rest[:i], ":")
		rest = rest[i+1:]
	}
	hosts, rest, _ := strings.Cut(rest, "/")
	hosts, query, hasQuery := strings.Cut(hosts, "?")
	if !hasQuery {
		rest, query, _ = strings.Cut(rest, "?")
	}
	u.Database = rest
	for _, h := range strings.Split(hosts, ",") {
		if h == "" {
			return mongoURI{}, fmt.Errorf("%q has an empty host", raw)
		}
		u.Hosts = append(u.Hosts, h)
	}
	opts, err := url.ParseQuery(query)
	if err != nil {
		return mongoURI{}, fmt.Errorf("%q: options: %w", raw, err)
	}
	u.Options = opts
	return u, nil
}

// mongoHostInstance is the MongoDB Service a URI's host belongs to: the
// Service itself (name:port) or one of its pods (pod.service:port).
func mongoHostInstance(host string, instances map[string]mongoInstance) (string, bool) {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	if _, ok := instances[name]; ok {
		return name, true
	}
	pod, svc, ok := strings.Cut(name, ".")
	inst, known := instances[svc]
	// A pod has a name in DNS under its StatefulSet's own Service only.
	if !ok || !known || inst.Workload.ServiceName != svc {
		return "", false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(pod, inst.Workload.Name+"-"))
	if err != nil || !strings.HasPrefix(pod, inst.Workload.Name+"-") || n < 0 || int32(n) >= inst.Workload.Replicas {
		return "", false
	}
	return svc, true
}

// mongoURIProblem: the URI names a MongoDB Service of ours (or its pods),
// its database, and credentials that Kubernetes fills in from that
// database's Secret.
func mongoURIProblem(raw string, env map[string]*corev1.EnvVar, instances map[string]mongoInstance) error {
	u, err := parseMongoURI(raw)
	if err != nil {
		return err
	}
	var svc string
	for _, h := range u.Hosts {
		s, ok := mongoHostInstance(h, instances)
		switch {
		case !ok:
			return fmt.Errorf("%q: host %s is no MongoDB Service of ours nor one of its pods", raw, h)
		case svc != "" && s != svc:
			return fmt.Errorf("%q mixes the hosts of %s and %s", raw, svc, s)
		}
		svc = s
	}
	inst := instances[svc]
	if u.Database != inst.Database {
		return fmt.Errorf("%q names database %q, but %s makes its user for %q", raw, u.Database, inst.Workload, inst.Database)
	}
	um, pm := envRef.FindStringSubmatch(u.User), envRef.FindStringSubmatch(u.Password)
	if um == nil || pm == nil || env[um[1]] == nil || env[pm[1]] == nil {
		return fmt.Errorf("%q carries no credentials from the environment ($(USER):$(PASSWORD)@...)", raw)
	}
	secret, err := sameSecret(env[um[1]], env[pm[1]])
	if err != nil {
		return err
	}
	if secret != inst.Secret {
		return fmt.Errorf("credentials from Secret %s, but %s makes its user from %s", secret, inst.Workload, inst.Secret)
	}
	return nil
}
