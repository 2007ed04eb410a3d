package main

import (
	"strconv"
	"strings"
)

// up --replicas N runs N copies of every service, as a cluster runs several
// pods of one Deployment: each its own process on its own port, with its
// own NATS client id, behind nginx's round-robin upstream. The copies of
// one service reach the local store through that service's funnel (see
// funnel.go), so they keep the {_id, version} guarantee one copy has.

// maxReplicas bounds --replicas: copy ports step by 10 from the service's.
const maxReplicas = 9

// copyName names copy i (from 1) of a service: the first keeps the service's
// own name, so pid files, URLs and logs read as they do with one copy.
func copyName(svc string, i int) string {
	if i == 1 {
		return svc
	}
	return svc + "-" + strconv.Itoa(i)
}

// funnelPart is the port part of service db's funnel into the store.
func funnelPart(db string) string { return "mongo-funnel-" + db }

// replicaParts are the ports that copies beyond the first, and the
// funnels, need: copy i of a service defaults to its port + 10*(i-1), the
// funnels to 27101 onwards.
func replicaParts(svcs []service, n int) []part {
	if n <= 1 {
		return nil
	}
	var parts []part
	for i, s := range svcs {
		for c := 2; c <= n; c++ {
			parts = append(parts, part{name: copyName(s.name, c), defPort: s.port + 10*(c-1)})
		}
		parts = append(parts, part{name: funnelPart(s.name), defPort: 27101 + i})
	}
	return parts
}

// copies are the process names of service s's copies.
func (f *fleet) copies(s service) []string {
	names := make([]string, 0, max(f.replicas, 1))
	for i := 1; i <= max(f.replicas, 1); i++ {
		names = append(names, copyName(s.name, i))
	}
	return names
}

// serviceMongoURI is where service db's copies reach the store: through
// its funnel when there are several copies, else straight.
func (f *fleet) serviceMongoURI(db string) string {
	if p, ok := f.ports[funnelPart(db)]; ok {
		return storeURI(p, db)
	}
	return f.mongoURI(db)
}

// funnelArgs are the store's --funnel flags, one per service with copies.
func (f *fleet) funnelArgs() []string {
	var args []string
	for _, s := range f.services {
		if p, ok := f.ports[funnelPart(s.name)]; ok {
			args = append(args, "--funnel", hostPort(p))
		}
	}
	return args
}

// urlVar is the variable holding a process's URL: TICKETS_URL,
// TICKETS_2_URL.
func urlVar(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_URL"
}
