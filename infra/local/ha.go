package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// up --ha runs the stateful parts as a cluster runs them in prod, so losing
// one node can be tried here: the bus as three clustered nodes (NATS
// Streaming's Raft cluster, or three JetStream servers holding the stream
// three times; services list all three in NATS_URL), and Redis as a master with two
// replicas watched by three Sentinels (the expiration service finds the
// master through them). The local store stays one FerretDB process: it
// cannot form a replica set (ARCHITECTURE.md §4).

// haNodes is how many nodes the bus and Redis run as under --ha.
const haNodes = 3

// sentinelMaster is the name the Sentinels know the Redis master by
// (REDIS_MASTER_NAME), as in prod.
const sentinelMaster = "ticketing"

// haRedisRestartAfter keeps a killed Redis node away long enough for the
// Sentinels to notice (sentinelDownAfter) and promote a replica, as a lost
// node would be away in a cluster; started again at once, it would be back
// before anyone noticed and a failover would never be tried.
const haRedisRestartAfter = 5 * time.Second

// sentinelDownAfter is how long the Sentinels wait before they call a
// silent master down.
const sentinelDownAfter = time.Second

// nodeName names node i (from 1) of a part: the first keeps the part's
// name, as copies of a service do.
func nodeName(part string, i int) string { return copyName(part, i) }

// haParts are the ports the extra nodes need: NATS client, monitor and
// route ports, Redis replicas and Sentinels.
func haParts() []part {
	var parts []part
	for i := 1; i <= haNodes; i++ {
		if i > 1 {
			parts = append(parts,
				part{name: nodeName("nats", i), defPort: 4222 + i - 1},
				part{name: nodeName("nats", i) + "-monitor", defPort: 8222 + i - 1},
				part{name: nodeName("redis", i), defPort: 6379 + i - 1})
		}
		parts = append(parts,
			part{name: nodeName("nats", i) + "-route", defPort: 6222 + i - 1},
			part{name: nodeName("sentinel", i), defPort: 26379 + i - 1})
	}
	return parts
}

// natsNodeURLs are the client URLs of the bus's nodes.
func (f *fleet) natsNodeURLs() []string {
	n := 1
	if f.ha {
		n = haNodes
	}
	urls := make([]string, n)
	for i := range urls {
		urls[i] = "nats://" + hostPort(f.ports[nodeName("nats", i+1)])
	}
	return urls
}

// natsMonitorURLs are the bus nodes' monitoring addresses, so a test can
// ask which is the Raft leader.
func (f *fleet) natsMonitorURLs() []string {
	urls := make([]string, len(f.natsNodeURLs()))
	for i := range urls {
		urls[i] = "http://" + hostPort(f.ports[nodeName("nats", i+1)+"-monitor"])
	}
	return urls
}

// natsClusterSpecs are the bus's three clustered nodes, routes between
// them: NATS Streaming nodes each with its own file store and Raft log, or
// JetStream servers each with its own store.
func (f *fleet) natsClusterSpecs(self string, env func() []string) []procSpec {
	var routes, peers []string
	for i := 1; i <= haNodes; i++ {
		routes = append(routes, "nats://"+hostPort(f.ports[nodeName("nats", i)+"-route"]))
		peers = append(peers, nodeName("nats", i))
	}
	cmd := "nats"
	if f.busName() == busJetStream {
		cmd = "jetstream"
	}
	specs := make([]procSpec, 0, haNodes)
	for i := 1; i <= haNodes; i++ {
		name := nodeName("nats", i)
		args := []string{cmd, "--dir", filepath.Join(f.dataDir, cmd, name),
			"--port", strconv.Itoa(f.ports[name]), "--monitor-port", strconv.Itoa(f.ports[name+"-monitor"]),
			"--node", name, "--cluster-port", strconv.Itoa(f.ports[name+"-route"]), "--routes", strings.Join(routes, ",")}
		if cmd == "nats" {
			args = append(args, "--peers", strings.Join(peers, ","))
		}
		specs = append(specs, procSpec{name: name, path: self, env: env, addr: hostPort(f.ports[name]), args: args})
	}
	return specs
}

// sentinelAddrs are the Sentinels' host:port, as REDIS_SENTINELS lists them.
func (f *fleet) sentinelAddrs() []string {
	addrs := make([]string, haNodes)
	for i := range addrs {
		addrs[i] = hostPort(f.ports[nodeName("sentinel", i+1)])
	}
	return addrs
}

// redisNodeAddrs are the Redis nodes' host:port, node 1 first.
func (f *fleet) redisNodeAddrs() []string {
	addrs := make([]string, haNodes)
	for i := range addrs {
		addrs[i] = hostPort(f.ports[nodeName("redis", i+1)])
	}
	return addrs
}

// redisHASpecs are the three Redis nodes and the three Sentinels. A node
// that starts asks the Sentinels which node is master and follows it; at
// the very first start none knows yet and node 1 is master.
func (f *fleet) redisHASpecs(redis string, env func() []string) ([]procSpec, error) {
	var specs []procSpec
	for i := 1; i <= haNodes; i++ {
		name := nodeName("redis", i)
		port := f.ports[name]
		dir := filepath.Join(f.dataDir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("make %s: %w", dir, err)
		}
		base := redisArgs(port, dir)
		specs = append(specs, procSpec{
			name: name, path: redis, env: env, addr: hostPort(port), restartAfter: haRedisRestartAfter,
			argsAt: func() []string {
				master := askMaster(f.sentinelAddrs())
				if master == "" {
					master = hostPort(f.ports["redis"])
				}
				if master == hostPort(port) {
					return base
				}
				host, mport, _ := net.SplitHostPort(master)
				return append(base, "--replicaof", host, mport)
			},
		})
	}
	for i := 1; i <= haNodes; i++ {
		name := nodeName("sentinel", i)
		dir := filepath.Join(f.dataDir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("make %s: %w", dir, err)
		}
		conf := filepath.Join(dir, "sentinel.conf")
		// A Sentinel rewrites its file with what it learns (the current
		// master, the replicas, the other Sentinels); a restart keeps it.
		if _, err := os.Stat(conf); err != nil {
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
				"sentinel monitor %s 127.0.0.1 %d 2\n"+
				"sentinel down-after-milliseconds %s %d\n"+
				"sentinel failover-timeout %s 10000\n"+
				"sentinel parallel-syncs %s 1\n",
				f.ports[name], dir, sentinelMaster, f.ports["redis"],
				sentinelMaster, sentinelDownAfter.Milliseconds(), sentinelMaster, sentinelMaster)
			if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
				return nil, fmt.Errorf("write %s: %w", conf, err)
			}
		}
		specs = append(specs, procSpec{
			name: name, path: redis, env: env, addr: hostPort(f.ports[name]),
			args: []string{conf, "--sentinel"},
		})
	}
	return specs, nil
}

// redisArgs run one Redis in the foreground with an append-only file in dir.
func redisArgs(port int, dir string) []string {
	return []string{"--port", strconv.Itoa(port), "--dir", dir,
		"--appendonly", "yes", "--bind", "127.0.0.1", "--daemonize", "no"}
}

// askMaster asks the Sentinels, in turn, where the master is; "" when none
// answers with one.
func askMaster(sentinels []string) string {
	for _, s := range sentinels {
		if addr, err := sentinelMasterAddr(s, sentinelMaster); err == nil && addr != "" {
			return addr
		}
	}
	return ""
}

// sentinelMasterAddr asks one Sentinel for a master's host:port, in the
// Redis protocol: an array of two bulk strings, or a nil when it knows none.
func sentinelMasterAddr(sentinel, master string) (string, error) {
	c, err := net.DialTimeout("tcp", sentinel, 500*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	args := []string{"SENTINEL", "get-master-addr-by-name", master}
	req := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		req += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(req)); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(head, "*2") {
		return "", nil // *-1: no such master yet
	}
	var parts []string
	for range 2 {
		if _, err := r.ReadString('\n'); err != nil { // $len
			return "", err
		}
		v, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		parts = append(parts, strings.TrimRight(v, "\r\n"))
	}
	return net.JoinHostPort(parts[0], parts[1]), nil
}
