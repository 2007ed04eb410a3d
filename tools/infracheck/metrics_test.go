package infracheck

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// serviceMonitor is the Prometheus Operator's monitoring.coreos.com/v1
// ServiceMonitor, reduced to the fields the manifests use. It is a CRD with
// no k8s.io/api type; decoding strictly into this keeps a misspelled field
// failing, and a field not listed here fails until it is added.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              serviceMonitorSpec `json:"spec"`
}

type serviceMonitorSpec struct {
	JobLabel          string                    `json:"jobLabel,omitempty"`
	Selector          metav1.LabelSelector      `json:"selector"`
	NamespaceSelector *monitorNamespaceSelector `json:"namespaceSelector,omitempty"`
	Endpoints         []monitorEndpoint         `json:"endpoints"`
}

type monitorNamespaceSelector struct {
	Any        bool     `json:"any,omitempty"`
	MatchNames []string `json:"matchNames,omitempty"`
}

type monitorEndpoint struct {
	Port          string              `json:"port,omitempty"`
	TargetPort    *intstr.IntOrString `json:"targetPort,omitempty"`
	Path          string              `json:"path,omitempty"`
	Scheme        string              `json:"scheme,omitempty"`
	Interval      string              `json:"interval,omitempty"`
	ScrapeTimeout string              `json:"scrapeTimeout,omitempty"`
}

// monitorDuration is the CRD's pattern for interval and scrapeTimeout.
var monitorDuration = regexp.MustCompile(`^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`)

// The scraper is kube-prometheus-stack's Prometheus: pods labelled
// app.kubernetes.io/name=prometheus in namespace monitoring. Grafana runs
// beside it and never needs the services.
func scraperEndpoints() (prometheus, grafana endpoint) {
	prometheus = endpoint{name: "prometheus", namespace: "monitoring", ip: "10.244.4.10",
		labels: map[string]string{"app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": "kube-prometheus-stack-prometheus"}}
	grafana = endpoint{name: "grafana", namespace: "monitoring", ip: "10.244.4.11",
		labels: map[string]string{"app.kubernetes.io/name": "grafana"}}
	return prometheus, grafana
}

// dashboardMetrics are what the dashboard must show (issue 13): requests,
// latency, event lag and hold expiries.
func dashboardMetrics() []string {
	return []string{
		"http_requests_total",
		"http_request_duration_seconds_bucket",
		"events_handling_lag_seconds_bucket",
		"expiration_timers_total",
		"expiration_publish_delay_seconds_bucket",
	}
}

// TestMetrics: in prod, Prometheus scrapes every Go service's /metrics,
// the network policies let it (and only it) reach that port, and the
// Grafana dashboard queries only metrics the services export.
func TestMetrics(t *testing.T) {
	root := repoRoot(t)
	requireNoProblems(t, metricsProblems(t, root, root))
}

// metricsProblems renders overlays/prod under root and checks its
// scraping, network policies and dashboard; metric names are looked up in
// the Go source under goRoot.
func metricsProblems(t *testing.T, root, goRoot string) []error {
	renderings, problems, err := renderAll(filepath.Join(root, "infra", "k8s"), t.TempDir(), "overlays/prod")
	if err != nil {
		return []error{err}
	}
	if len(renderings) != 1 {
		return []error{problemf("rendered %d targets, want overlays/prod", len(renderings))}
	}
	r := renderings[0]
	problems = append(problems, scrapeProblems(r)...)
	problems = append(problems, scrapeNetworkProblems(r)...)
	declared, err := declaredMetricNames(goRoot)
	if err != nil {
		return append(problems, err)
	}
	return append(problems, dashboardProblems(r, declared)...)
}

// metricsPort is the container port a Go service serves /metrics on: the
// port of its readiness probe, since one HTTP server serves /readyz and
// /metrics.
func metricsPort(w workload) (corev1.Container, corev1.ContainerPort, error) {
	for _, c := range w.Template.Spec.Containers {
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil {
			continue
		}
		if p, ok := resolveContainerPort(c, c.ReadinessProbe.HTTPGet.Port); ok {
			return c, p, nil
		}
		return c, corev1.ContainerPort{}, fmt.Errorf("container %s: readiness probe port %s is not a port of the container", c.Name, c.ReadinessProbe.HTTPGet.Port.String())
	}
	return corev1.Container{}, corev1.ContainerPort{}, fmt.Errorf("no container with an HTTP readiness probe, so no port serving /metrics")
}

func resolveContainerPort(c corev1.Container, port intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p, true
		}
	}
	return corev1.ContainerPort{}, false
}

// goServiceDeployments are the rendered Deployments of the Go services,
// and a problem for each one missing.
func goServiceDeployments(r *rendering) ([]workload, []error) {
	var out []workload
	var problems []error
	all := r.workloads()
	for _, name := range goServices() {
		i := slices.IndexFunc(all, func(w workload) bool { return w.Kind == "Deployment" && w.Name == name })
		if i < 0 {
			problems = append(problems, problemf("%s: no Deployment/%s", r.Target.Name, name))
			continue
		}
		out = append(out, all[i])
	}
	return out, problems
}

// scrapeProblems: every Go service Deployment is scraped on the port that
// serves /metrics, by a ServiceMonitor selecting a Service in front of that
// port or by prometheus.io annotations on its pods; every ServiceMonitor is
// well formed and selects some Service.
func scrapeProblems(r *rendering) []error {
	deployments, problems := goServiceDeployments(r)
	add := func(format string, args ...any) {
		problems = append(problems, problemf("%s: %s", r.Target.Name, fmt.Sprintf(format, args...)))
	}
	var monitors []object
	for _, o := range r.byKind("ServiceMonitor") {
		monitors = append(monitors, o)
		sm := o.Typed.(*serviceMonitor)
		if len(sm.Spec.Endpoints) == 0 {
			add("%s: no endpoints", o)
		}
		for i, ep := range sm.Spec.Endpoints {
			if (ep.Port == "") == (ep.TargetPort == nil) {
				add("%s: endpoints[%d]: set exactly one of port and targetPort", o, i)
			}
			for field, d := range map[string]string{"interval": ep.Interval, "scrapeTimeout": ep.ScrapeTimeout} {
				if !monitorDuration.MatchString(d) {
					add("%s: endpoints[%d]: %s %q is not a Prometheus duration", o, i, field, d)
				}
			}
			if ep.Path != "" && !strings.HasPrefix(ep.Path, "/") {
				add("%s: endpoints[%d]: path %q does not start with /", o, i, ep.Path)
			}
			if ep.Scheme != "" && ep.Scheme != "http" && ep.Scheme != "https" {
				add("%s: endpoints[%d]: scheme %q", o, i, ep.Scheme)
			}
		}
		if !slices.ContainsFunc(r.byKind("Service"), func(s object) bool { return monitorSelects(o, s) }) {
			add("%s: selects no Service", o)
		}
	}

	for _, w := range deployments {
		c, port, err := metricsPort(w)
		if err != nil {
			add("%s: %v", w, err)
			continue
		}
		if annotatedForScrape(w.Template.Annotations, port) {
			continue
		}
		scraped := false
		var services []string
		for _, so := range r.byKind("Service") {
			svc := so.Typed.(*corev1.Service)
			if so.Namespace != namespace || len(svc.Spec.Selector) == 0 || !selectsMap(svc.Spec.Selector, w.Template.Labels) {
				continue
			}
			for _, sp := range svc.Spec.Ports {
				target := sp.TargetPort
				if target.Type == intstr.Int && target.IntVal == 0 {
					target = intstr.FromInt32(sp.Port)
				}
				if p, ok := resolveContainerPort(c, target); !ok || p.ContainerPort != port.ContainerPort {
					continue
				}
				services = append(services, fmt.Sprintf("Service/%s port %s", svc.Name, sp.Name))
				for _, mo := range monitors {
					if monitorSelects(mo, so) && monitorScrapes(mo.Typed.(*serviceMonitor), sp, c, port) {
						scraped = true
					}
				}
			}
		}
		if !scraped {
			add("%s: no ServiceMonitor scrapes /metrics on its port %s (%d) through a Service (Services in front of it: %v), and its pods have no prometheus.io/scrape annotations",
				w, port.Name, port.ContainerPort, services)
		}
	}
	return problems
}

// monitorSelects: the ServiceMonitor looks in the Service's namespace and
// its selector matches the Service's labels (an empty selector matches all,
// as the operator reads it).
func monitorSelects(mo, so object) bool {
	sm := mo.Typed.(*serviceMonitor)
	switch ns := sm.Spec.NamespaceSelector; {
	case ns == nil || (!ns.Any && len(ns.MatchNames) == 0):
		if so.Namespace != mo.Namespace {
			return false
		}
	case !ns.Any && !slices.Contains(ns.MatchNames, so.Namespace):
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(so.Typed.(*corev1.Service).Labels))
}

// monitorScrapes: one of the ServiceMonitor's endpoints is this Service
// port (by name) or this container port (targetPort), asking for /metrics
// over plain HTTP, which is what the services serve.
func monitorScrapes(sm *serviceMonitor, sp corev1.ServicePort, c corev1.Container, port corev1.ContainerPort) bool {
	for _, ep := range sm.Spec.Endpoints {
		onPort := ep.Port != "" && ep.Port == sp.Name
		if ep.TargetPort != nil {
			p, ok := resolveContainerPort(c, *ep.TargetPort)
			onPort = ok && p.ContainerPort == port.ContainerPort
		}
		if onPort && (ep.Path == "" || ep.Path == "/metrics") && (ep.Scheme == "" || ep.Scheme == "http") {
			return true
		}
	}
	return false
}

// annotatedForScrape: the prometheus.io annotations many scrape configs
// read, naming this port (or none) and /metrics (or no path).
func annotatedForScrape(a map[string]string, port corev1.ContainerPort) bool {
	if a["prometheus.io/scrape"] != "true" {
		return false
	}
	if p, ok := a["prometheus.io/port"]; ok && p != strconv.Itoa(int(port.ContainerPort)) {
		return false
	}
	path, ok := a["prometheus.io/path"]
	return !ok || path == "/metrics"
}

// scrapeNetworkProblems: the network policies let Prometheus reach the
// metrics port of every Go service, and nothing else of ours; the rest of
// the monitoring namespace reaches nothing of ours.
func scrapeNetworkProblems(r *rendering) []error {
	var policies []*networkingv1.NetworkPolicy
	for _, o := range r.byKind("NetworkPolicy") {
		policies = append(policies, o.Typed.(*networkingv1.NetworkPolicy))
	}
	if len(policies) == 0 {
		return []error{problemf("%s: no NetworkPolicies rendered", r.Target.Name)}
	}
	deployments, _ := goServiceDeployments(r) // scrapeProblems reports those missing
	var problems []error
	needed := map[connection]bool{}
	for _, w := range deployments {
		if _, port, err := metricsPort(w); err == nil {
			needed[connection{"prometheus", w.Name, port.ContainerPort, corev1.ProtocolTCP}] = true
		}
	}
	prometheus, grafana := scraperEndpoints()
	for _, to := range endpoints(r.workloads()) {
		if !to.ours {
			continue
		}
		for _, p := range to.ports {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			for _, from := range []endpoint{prometheus, grafana} {
				c := connection{from.name, to.name, p.ContainerPort, proto}
				allowed := allowedByPolicies(policies, from, to, p, proto)
				switch {
				case !allowed && needed[c]:
					problems = append(problems, problemf("%s: network policies refuse %s (namespace %s), which scraping /metrics needs", r.Target.Name, c, from.namespace))
				case allowed && !needed[c]:
					problems = append(problems, problemf("%s: network policies allow %s (namespace %s), which scraping does not need", r.Target.Name, c, from.namespace))
				}
			}
		}
	}
	return problems
}

// dashboard is what the checks read of a Grafana dashboard.
type dashboard struct {
	UID        string           `json:"uid"`
	Title      string           `json:"title"`
	Panels     []dashboardPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type dashboardPanel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"` // a collapsed row's
}

// dashboardProblems: the rendered ConfigMaps labelled for Grafana's sidecar
// hold dashboards that parse, and every PromQL query in them (panels and
// variables) names only metrics the Go services declare; together they show
// dashboardMetrics.
func dashboardProblems(r *rendering, declared map[string]bool) []error {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, problemf("%s: %s", r.Target.Name, fmt.Sprintf(format, args...)))
	}
	queried := map[string]bool{}
	found := 0
	for _, o := range r.byKind("ConfigMap") {
		cm := o.Typed.(*corev1.ConfigMap)
		if cm.Labels["grafana_dashboard"] != "1" {
			continue
		}
		for key, text := range cm.Data {
			found++
			where := fmt.Sprintf("%s key %s", o, key)
			if !strings.HasSuffix(key, ".json") {
				add("%s: Grafana loads only *.json files", where)
			}
			var d dashboard
			if err := json.Unmarshal([]byte(text), &d); err != nil {
				add("%s: %v", where, err)
				continue
			}
			if d.UID == "" || d.Title == "" {
				add("%s: no uid or title", where)
			}
			var exprs []string
			for _, v := range d.Templating.List {
				if v.Type != "query" {
					continue
				}
				var q string
				if err := json.Unmarshal(v.Query, &q); err != nil {
					var obj struct {
						Query string `json:"query"`
					}
					if err := json.Unmarshal(v.Query, &obj); err != nil {
						add("%s: variable %s: query is neither a string nor {query}", where, v.Name)
						continue
					}
					q = obj.Query
				}
				exprs = append(exprs, labelValuesExpr(q))
			}
			ids := map[int]bool{}
			var walk func(ps []dashboardPanel)
			walk = func(ps []dashboardPanel) {
				for _, p := range ps {
					if ids[p.ID] {
						add("%s: panel id %d is used twice", where, p.ID)
					}
					ids[p.ID] = true
					walk(p.Panels)
					if p.Type == "row" || p.Type == "text" {
						continue
					}
					if len(p.Targets) == 0 {
						add("%s: panel %q has no queries", where, p.Title)
					}
					for _, t := range p.Targets {
						exprs = append(exprs, t.Expr)
					}
				}
			}
			walk(d.Panels)
			for _, e := range exprs {
				names := promqlMetricNames(e)
				if len(names) == 0 {
					add("%s: query %q names no metric", where, e)
				}
				for _, n := range names {
					queried[n] = true
					if !metricDeclared(n, declared) {
						add("%s: query %q: metric %s is not declared in the Go services' source", where, e, n)
					}
				}
			}
		}
	}
	if found == 0 {
		add("no ConfigMap labelled grafana_dashboard=1 holds a dashboard")
		return problems
	}
	for _, m := range dashboardMetrics() {
		if !queried[m] {
			add("the dashboard does not query %s", m)
		}
	}
	return problems
}

// labelValuesExpr is the series selector of Grafana's label_values(expr,
// label) variable query, or the query itself.
func labelValuesExpr(q string) string {
	if m := regexp.MustCompile(`^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`).FindStringSubmatch(q); m != nil {
		return m[1]
	}
	return q
}

// metricDeclared: the name, or for a histogram's or summary's series the
// name without its suffix, is declared.
func metricDeclared(name string, declared map[string]bool) bool {
	if declared[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && declared[base] {
			return true
		}
	}
	return false
}

// declaredMetricNames are the string literals of the non-test Go files
// under common/ and services/ that use the Prometheus client: every metric
// the services export is named in one of them.
func declaredMetricNames(root string) (map[string]bool, error) {
	literal := regexp.MustCompile(`"([a-zA-Z_:][a-zA-Z0-9_:]*)"`)
	names := map[string]bool{}
	for _, dir := range []string{"common", "services"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "vendor" || d.Name() == "testdata" || d.Name() == "node_modules" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !strings.Contains(string(src), `"github.com/prometheus/client_golang/`) {
				return nil
			}
			for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
				names[m[1]] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("metric names in the Go source: %w", err)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no Go file under %s/common or %s/services uses the Prometheus client", root, root)
	}
	return names, nil
}

// promqlWords are PromQL's aggregation operators and keywords: identifiers
// that are not metric names even when no '(' follows.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true, "and": true, "or": true, "unless": true, "bool": true,
	"offset": true, "atan2": true, "inf": true, "nan": true,
}

// promqlLabelLists are the keywords followed by a parenthesised list of
// label names.
var promqlLabelLists = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// promqlMetricNames are the metric names a PromQL expression (with
// Grafana's $variables) selects: identifiers that are not functions,
// operators, keywords or label names, outside strings, label matchers and
// range or subquery brackets.
func promqlMetricNames(expr string) []string {
	var names []string
	identStart := func(b byte) bool { return b == '_' || b == ':' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') }
	ident := func(b byte) bool { return identStart(b) || (b >= '0' && b <= '9') }
	// skipString returns the index after the quoted string starting at i.
	skipString := func(i int) int {
		q := expr[i]
		for i++; i < len(expr) && expr[i] != q; i++ {
			if expr[i] == '\\' && q != '`' {
				i++
			}
		}
		return i + 1
	}
	// skip returns the index after the bracket matching expr[i], stepping
	// over quoted strings.
	skip := func(i int, open, close byte) int {
		depth := 0
		for i < len(expr) {
			switch expr[i] {
			case '"', '\'', '`':
				i = skipString(i)
				continue
			case open:
				depth++
			case close:
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(expr)
	}
	nextNonSpace := func(i int) int {
		for i < len(expr) && (expr[i] == ' ' || expr[i] == '\t' || expr[i] == '\n') {
			i++
		}
		return i
	}
	for i := 0; i < len(expr); {
		b := expr[i]
		switch {
		case b == '"' || b == '\'' || b == '`':
			i = skipString(i)
		case b == '{':
			i = skip(i, '{', '}')
		case b == '[':
			i = skip(i, '[', ']')
		case b == '$':
			// A Grafana variable: $name or ${name}.
			i++
			if i < len(expr) && expr[i] == '{' {
				i = skip(i, '{', '}')
			}
			for i < len(expr) && ident(expr[i]) {
				i++
			}
		case b >= '0' && b <= '9', b == '.':
			// A number or a duration (5m, 1e3, 0x1f).
			for i < len(expr) && (ident(expr[i]) || expr[i] == '.') {
				i++
			}
		case identStart(b):
			start := i
			for i < len(expr) && ident(expr[i]) {
				i++
			}
			word := expr[start:i]
			next := nextNonSpace(i)
			switch {
			case promqlLabelLists[strings.ToLower(word)]:
				if next < len(expr) && expr[next] == '(' {
					i = skip(next, '(', ')')
				}
			case promqlWords[strings.ToLower(word)]:
			case next < len(expr) && expr[next] == '(':
				// A function call.
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

// TestPromqlMetricNames: the dashboard check sees every metric name of a
// query and nothing else.
func TestPromqlMetricNames(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		{`http_requests_total`, []string{"http_requests_total"}},
		{`sum by (job, status) (rate(http_requests_total{namespace="ticketing", job=~"$job", route!~"/healthz|/readyz"}[$__rate_interval]))`, []string{"http_requests_total"}},
		{`histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket{a="}"}[5m])))`, []string{"http_request_duration_seconds_bucket"}},
		{`sum(rate(a_total[1m])) / sum without (x) (rate(b_total[1m] offset 5m))`, []string{"a_total", "b_total"}},
		{`a * on(job) group_left(route) b > bool 0.5`, []string{"a", "b"}},
		{`sum(increase(expiration_timers_total{outcome="fired"}[1h])) or vector(0)`, []string{"expiration_timers_total"}},
		{`label_replace(up, "dst", "$1", "src", "(.*)")`, []string{"up"}},
		{`max_over_time(x:rate5m[1h:5m])`, []string{"x:rate5m"}},
		{`${datasource} 1e3`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			require.Equal(t, tc.want, promqlMetricNames(tc.expr))
		})
	}
	require.Equal(t, `http_requests_total{namespace="ticketing"}`, labelValuesExpr(`label_values(http_requests_total{namespace="ticketing"}, job)`))
}

// TestMetricsChecksCatchBreakage breaks a copy of the manifests one way at
// a time, starting from the manifests before issue 13 (no metrics
// component in prod), and requires the metrics checks to say so.
func TestMetricsChecksCatchBreakage(t *testing.T) {
	root := repoRoot(t)
	metrics := func(p ...string) string {
		return filepath.Join(append([]string{"infra", "k8s", "components", "metrics"}, p...)...)
	}
	prod := filepath.Join("infra", "k8s", "overlays", "prod", "kustomization.yaml")
	cases := []struct {
		name string
		file string
		brk  func(t *testing.T, path string)
		want []string
	}{
		{"prod without the metrics component", prod,
			edit("  - ../../components/metrics\n", ""),
			[]string{"Deployment/auth: no ServiceMonitor scrapes /metrics", "Deployment/expiration: no ServiceMonitor scrapes /metrics",
				"network policies refuse prometheus -> orders:3000/TCP", "no ConfigMap labelled grafana_dashboard=1"}},
		{"ServiceMonitor on a port the Service lacks", metrics("service-monitor.yaml"),
			edit("- port: http", "- port: metrics"), []string{"Deployment/tickets: no ServiceMonitor scrapes /metrics"}},
		{"ServiceMonitor asks another path", metrics("service-monitor.yaml"),
			edit("path: /metrics", "path: /metric"), []string{"Deployment/orders: no ServiceMonitor scrapes /metrics"}},
		{"ServiceMonitor with a malformed interval", metrics("service-monitor.yaml"),
			edit("interval: 30s", "interval: 30 seconds"), []string{`interval "30 seconds" is not a Prometheus duration`}},
		{"ServiceMonitor with a misspelled field", metrics("service-monitor.yaml"),
			edit("interval: 30s", "intervall: 30s"), []string{`unknown field "spec.endpoints[0].intervall"`}},
		{"Service without the label the ServiceMonitor selects", metrics("service-labels.yaml"),
			edit("    app.kubernetes.io/name: payments", "    app.kubernetes.io/name: payment"), []string{"Deployment/payments: no ServiceMonitor scrapes /metrics"}},
		{"scrape allowed from the wrong namespace", metrics("network-policy.yaml"),
			edit("kubernetes.io/metadata.name: monitoring", "kubernetes.io/metadata.name: prometheus"),
			[]string{"network policies refuse prometheus -> payments:3000/TCP"}},
		{"the whole monitoring namespace let in", metrics("network-policy.yaml"),
			edit("          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: prometheus\n", ""),
			[]string{"network policies allow grafana -> auth:3000/TCP"}},
		{"expiration left out of the scrape policy", metrics("network-policy.yaml"),
			edit("          - payments\n          - expiration\n  policyTypes", "          - payments\n  policyTypes"),
			[]string{"network policies refuse prometheus -> expiration:3000/TCP"}},
		{"dashboard queries a metric nobody exports", metrics("dashboard.json"),
			edit("expiration_timers_total{", "expiration_holds_total{"),
			[]string{"metric expiration_holds_total is not declared", "the dashboard does not query expiration_timers_total"}},
		{"dashboard is not JSON", metrics("dashboard.json"),
			edit(`"uid": "ticketing-services",`, `"uid": "ticketing-services"`), []string{"invalid character"}},
	}
	t.Run("the unbroken copy passes", func(t *testing.T) {
		tmp := t.TempDir()
		copyDeploymentFiles(t, root, tmp)
		requireNoProblems(t, metricsProblems(t, tmp, root))
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case renders its own copy
			tmp := t.TempDir()
			copyDeploymentFiles(t, root, tmp)
			tc.brk(t, filepath.Join(tmp, tc.file))
			after := metricsProblems(t, tmp, root)
			require.NotEmpty(t, after, "breaking %s went unnoticed", tc.file)
			for _, p := range after {
				t.Log(p)
			}
			for _, want := range tc.want {
				require.True(t, slices.ContainsFunc(after, func(p error) bool { return strings.Contains(p.Error(), want) }),
					"no problem mentions %q", want)
			}
		})
	}
}
