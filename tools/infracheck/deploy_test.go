package infracheck

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yamlv3 "gopkg.in/yaml.v3"
)

// The deploy pipeline's rules (issue 13): it starts only once CI succeeded for
// the commit it deploys, never plans from github.event.before, smoke-tests the
// public site after the rollout and rolls back when either fails. actionlint
// and the pins are TestWorkflows' checks.

// deployPipeline is what the pipeline rules read of deploy.yml.
type deployPipeline struct {
	On   yamlv3.Node `yaml:"on"`
	Jobs map[string]struct {
		If    string `yaml:"if"`
		Needs any    `yaml:"needs"`
		Steps []deployPipelineStep
	} `yaml:"jobs"`
}

type deployPipelineStep struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

func (s deployPipelineStep) label() string {
	return cmp.Or(s.Name, s.ID, s.Uses, strings.SplitN(s.Run, "\n", 2)[0])
}

var (
	// statusCheck: an if with one of these runs even when a needed job did not succeed.
	statusCheck = regexp.MustCompile(`\b(always|cancelled|failure)\(\)`)
	// smokeScript: the script a smoke test step runs, by its name.
	smokeScript = regexp.MustCompile(`[\w./-]*smoke[\w.-]*\.sh`)
)

// deployPipelineProblems checks deploy.yml's text against the rules; ciName is
// the name: of the CI workflow, root the repository the scripts it runs are in.
func deployPipelineProblems(root string, data []byte, ciName string) []error {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, problemf("deploy.yml: %s", fmt.Sprintf(format, args...)))
	}
	var wf deployPipeline
	if err := yamlv3.Unmarshal(data, &wf); err != nil {
		return []error{problemf("deploy.yml: %v", err)}
	}
	text := string(data)

	events := triggerEvents(wf.On)
	for _, event := range slices.Sorted(maps.Keys(events)) {
		if event != "workflow_run" && event != "workflow_dispatch" {
			add("starts on %s, which does not wait for CI", event)
		}
	}
	var afterCI struct {
		Workflows []string `yaml:"workflows"`
		Types     []string `yaml:"types"`
		Branches  []string `yaml:"branches"`
	}
	if n := events["workflow_run"]; n != nil {
		if err := n.Decode(&afterCI); err != nil {
			add("on.workflow_run: %v", err)
		}
	}
	if !slices.Contains(afterCI.Workflows, ciName) || !slices.Equal(afterCI.Types, []string{"completed"}) ||
		!slices.Contains(afterCI.Branches, "main") {
		add("is not started by CI completing on main (on: workflow_run: workflows: [%s], types: [completed], branches: [main])", ciName)
	}

	jobs := slices.Sorted(maps.Keys(wf.Jobs))
	// roots: the jobs that need none, where CI's conclusion is checked.
	roots := slices.DeleteFunc(slices.Clone(jobs), func(name string) bool { return len(jobNeeds(wf.Jobs[name].Needs)) > 0 })
	asksCI := false
	for _, name := range jobs {
		job := wf.Jobs[name]
		cond := strings.Join(strings.Fields(job.If), " ")
		needs := jobNeeds(job.Needs)
		if len(needs) == 0 {
			// A completed CI run calls this workflow whatever its conclusion.
			if !strings.Contains(cond, "github.event.workflow_run.conclusion == 'success'") {
				add("job %s does not require github.event.workflow_run.conclusion == 'success': it would deploy a commit CI failed", name)
			}
			for _, step := range job.Steps {
				if (strings.Contains(step.Run, "gh api") || strings.Contains(step.Run, "curl")) &&
					(strings.Contains(step.Run, "actions/workflows/") || strings.Contains(step.Run, "check-runs")) {
					asksCI = true
				}
			}
		} else if statusCheck.MatchString(cond) && !slices.ContainsFunc(needs, func(n string) bool {
			return slices.Contains(roots, n) && strings.Contains(cond, "needs."+n+".result == 'success'")
		}) {
			add("job %s: if %q runs it even when the job that checks CI's conclusion did not succeed (require needs.<that job>.result == 'success')", name, cond)
		}
		for _, step := range job.Steps {
			if strings.HasPrefix(step.Uses, "actions/checkout@") && step.With["ref"] == "" {
				add("job %s: checks out without ref: under workflow_run that is main's newest commit, not the one CI tested", name)
			}
			if strings.Contains(step.Run, "GITHUB_SHA") {
				add("job %s: step %q: GITHUB_SHA is main's newest commit under workflow_run, not the one CI tested", name, step.label())
			}
		}
	}
	if _, manual := events["workflow_dispatch"]; manual && !asksCI {
		add("a manual deploy (workflow_dispatch) does not ask the GitHub API whether CI passed for its commit")
	}
	if !strings.Contains(text, "github.event.workflow_run.head_sha") {
		add("never names github.event.workflow_run.head_sha, the commit CI tested")
	}
	if strings.Contains(text, "github.event.before") {
		add("uses github.event.before: a push whose deploy failed or never ran would never be built; plan against what the cluster runs")
	}

	rollouts := 0
	for _, name := range jobs {
		steps := wf.Jobs[name].Steps
		rollout := slices.IndexFunc(steps, func(s deployPipelineStep) bool { return strings.Contains(s.Run, "rollout status") })
		if rollout < 0 {
			continue
		}
		rollouts++
		if !strings.Contains(steps[rollout].Run, "--timeout") {
			add("job %s: kubectl rollout status without --timeout", name)
		}
		smoke := indexAfter(steps, rollout, func(s deployPipelineStep) bool { return smokeScript.MatchString(s.Run) })
		if smoke < 0 {
			add("job %s: no smoke test step (a run of infra/k8s/smoke.sh or another *smoke*.sh) after the rollout status step", name)
		} else if script := smokeScript.FindString(steps[smoke].Run); !exists(filepath.Join(root, script)) {
			add("job %s: the smoke test step runs %s, which does not exist", name, script)
		}
		undo := indexAfter(steps, max(rollout, smoke), func(s deployPipelineStep) bool { return strings.Contains(s.Run, "rollout undo") })
		if undo < 0 {
			add("job %s: no kubectl rollout undo step after the rollout status and smoke test steps", name)
		} else if !strings.Contains(steps[undo].If, "failure()") {
			add("job %s: the rollback step %q does not run on failure (if: failure())", name, steps[undo].label())
		}
	}
	if rollouts == 0 {
		add("no step waits for kubectl rollout status")
	}
	return problems
}

// triggerEvents are the events of a workflow's on:, each with its
// configuration (nil in the scalar and list forms).
func triggerEvents(on yamlv3.Node) map[string]*yamlv3.Node {
	events := map[string]*yamlv3.Node{}
	switch on.Kind {
	case yamlv3.ScalarNode:
		events[on.Value] = nil
	case yamlv3.SequenceNode:
		for _, n := range on.Content {
			events[n.Value] = nil
		}
	case yamlv3.MappingNode:
		for i := 0; i+1 < len(on.Content); i += 2 {
			events[on.Content[i].Value] = on.Content[i+1]
		}
	}
	return events
}

// jobNeeds reads a job's needs:, a name or a list of names.
func jobNeeds(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var names []string
		for _, n := range v {
			names = append(names, fmt.Sprint(n))
		}
		return names
	}
	return nil
}

func indexAfter(steps []deployPipelineStep, after int, match func(deployPipelineStep) bool) int {
	for i := after + 1; i < len(steps); i++ {
		if match(steps[i]) {
			return i
		}
	}
	return -1
}

// ciWorkflowName is the name: of .github/workflows/ci.yml, which workflow_run
// names it by.
func ciWorkflowName(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "ci.yml"))
	require.NoError(t, err)
	var ci struct {
		Name string `yaml:"name"`
	}
	require.NoError(t, yamlv3.Unmarshal(data, &ci))
	require.NotEmpty(t, ci.Name, "ci.yml has no name:")
	return ci.Name
}

func TestDeployPipeline(t *testing.T) {
	root := repoRoot(t)
	ciName := ciWorkflowName(t, root)
	current, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "deploy.yml"))
	require.NoError(t, err)
	// replaceN breaks one rule of today's deploy.yml: its first n old (all for n < 0).
	replaceN := func(old, new string, n int) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			require.Contains(t, string(current), old, "the breakage no longer applies to deploy.yml")
			return []byte(strings.Replace(string(current), old, new, n))
		}
	}
	replace := func(old, new string) func(t *testing.T) []byte { return replaceN(old, new, 1) }
	tests := []struct {
		name string
		text func(t *testing.T) []byte
		// want: every problem reported, each by a part of its message.
		want []string
	}{
		{"deploy.yml", func(*testing.T) []byte { return current }, nil},
		{"deploy.yml before issue 13, push-triggered", func(*testing.T) []byte { return []byte(deployBeforeIssue13) }, []string{
			"starts on push, which does not wait for CI",
			"is not started by CI completing on main",
			"job plan does not require github.event.workflow_run.conclusion == 'success'",
			"job build: checks out without ref",
			`job build: step "build and push": GITHUB_SHA`,
			`job plan: step "changed images": GITHUB_SHA`,
			"job deploy: checks out without ref",
			`job deploy: step "image tags": GITHUB_SHA`,
			"job plan: checks out without ref",
			"a manual deploy (workflow_dispatch) does not ask the GitHub API",
			"never names github.event.workflow_run.head_sha",
			"uses github.event.before",
			"job deploy: no smoke test step",
			"job deploy: no kubectl rollout undo step",
		}},
		{"also starts on push", replace("on:\n  workflow_run:", "on:\n  push:\n    branches:\n      - main\n  workflow_run:"),
			[]string{"starts on push, which does not wait for CI"}},
		{"starts when CI is requested too", replace("types:\n      - completed", "types:\n      - requested\n      - completed"),
			[]string{"is not started by CI completing on main"}},
		{"deploys whatever CI concluded", replace("github.event.workflow_run.conclusion == 'success' &&", ""),
			[]string{"job plan does not require github.event.workflow_run.conclusion == 'success'"}},
		{"deploy job runs after a skipped plan", replace("!cancelled() && needs.plan.result == 'success' &&", "!cancelled() &&"),
			[]string{"job deploy: if"}},
		{"deploy job trusts a skipped build", replace("!cancelled() && needs.plan.result == 'success' &&", "always() && needs.build.result == 'success' ||"),
			[]string{"job deploy: if"}},
		{"manual deploy without CI's verdict", replace(`"repos/$GITHUB_REPOSITORY/actions/workflows/ci.yml/runs"`, `"repos/$GITHUB_REPOSITORY"`),
			[]string{"a manual deploy (workflow_dispatch) does not ask the GitHub API"}},
		{"builds main's head", replace("ref: ${{ needs.plan.outputs.sha }}", "fetch-depth: 1"),
			[]string{"job build: checks out without ref"}},
		{"tags with GITHUB_SHA", replace(`ref="$repo:$SHA"`, `ref="$repo:$GITHUB_SHA"`),
			[]string{`job build: step "build and push": GITHUB_SHA`}},
		{"plans from the push's before", replace("DISPATCH_SHA: ${{ github.sha }}", "DISPATCH_SHA: ${{ github.event.before }}"),
			[]string{"uses github.event.before"}},
		{"rollout without a timeout", replace(`rollout status "$workload" --timeout="${left}s"`, `rollout status "$workload"`),
			[]string{"job deploy: kubectl rollout status without --timeout"}},
		{"no smoke test", replace(`bash infra/k8s/smoke.sh "https://$HOST"`, `curl -fsS "https://$HOST"`),
			[]string{"job deploy: no smoke test step"}},
		{"smoke script missing", replace("bash infra/k8s/smoke.sh", "bash infra/k8s/smoke-gone.sh"),
			[]string{"job deploy: the smoke test step runs infra/k8s/smoke-gone.sh, which does not exist"}},
		{"rollback that never runs on failure", replace("if: (failure() || cancelled()) && steps.before.outcome == 'success'", "if: steps.before.outcome == 'success'"),
			[]string{`job deploy: the rollback step "roll back" does not run on failure`}},
		{"no rollback", replaceN("rollout undo", "rollout history", -1),
			[]string{"job deploy: no kubectl rollout undo step"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deployPipelineProblems(root, tt.text(t), ciName)
			if tt.want == nil {
				requireNoProblems(t, got)
				return
			}
			for _, want := range tt.want {
				assert.True(t, slices.ContainsFunc(got, func(p error) bool { return strings.Contains(p.Error(), want) }),
					"no problem says %q; got:\n%s", want, joinProblems(got))
			}
			for _, p := range got {
				assert.True(t, slices.ContainsFunc(tt.want, func(w string) bool { return strings.Contains(p.Error(), w) }),
					"unexpected problem: %v", p)
			}
		})
	}
}

// TestDeploySmokeScript runs infra/k8s/smoke.sh against a fake of the public
// API (the routes it uses, as CONTRACT.md describes them) that fails in one
// way per case.
func TestDeploySmokeScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("infra/k8s/smoke.sh needs %s, which is not on the PATH", tool)
		}
	}
	script := filepath.Join(repoRoot(t), "infra", "k8s", "smoke.sh")
	tests := []struct {
		name string
		api  *smokeAPI
		// wait: SMOKE_WAIT_SECONDS; whole seconds, as bash counts them.
		wait int
		// wantErr: empty when the script must pass, else a part of its message.
		wantErr string
	}{
		{"passes, waiting for the ticket to reach orders", &smokeAPI{orderMisses: 2}, 30, ""},
		{"the site does not answer", &smokeAPI{fail: map[string]int{"GET /api/users/currentuser": 503}}, 1,
			"the site did not answer GET /api/users/currentuser with 200 within 1s"},
		{"sign-up refused", &smokeAPI{fail: map[string]int{"POST /api/users/signup": 500}}, 1,
			"sign up smoke-"},
		{"the session cookie is lost", &smokeAPI{noCookie: true}, 1,
			"the session cookie did not sign in"},
		{"ticket list fails", &smokeAPI{fail: map[string]int{"GET /api/tickets": 500}}, 1,
			"list tickets: got HTTP 500, want 200"},
		{"ticket creation refused", &smokeAPI{fail: map[string]int{"POST /api/tickets": 401}}, 1,
			"create a ticket: got HTTP 401, want 201"},
		{"the ticket never reaches orders", &smokeAPI{orderMisses: 1 << 30}, 1,
			"still 404 after 1s (the ticket never reached the orders service)"},
		{"reservation refused", &smokeAPI{fail: map[string]int{"POST /api/orders": 400}}, 1,
			"got HTTP 400, want 201"},
		{"cancel answers 200", &smokeAPI{fail: map[string]int{"DELETE /api/orders/{id}": 200}}, 1,
			"got HTTP 200, want 204"},
		{"cancel does not cancel", &smokeAPI{cancelIgnored: true}, 1,
			"status is not cancelled after the cancel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.api.handler())
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", script, srv.URL)
			cmd.Env = append(os.Environ(), fmt.Sprintf("SMOKE_WAIT_SECONDS=%d", tt.wait))
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Contains(t, stdout.String(), "smoke: passed against "+srv.URL)
				tt.api.mu.Lock()
				defer tt.api.mu.Unlock()
				assert.Len(t, tt.api.users, 2, "a seller and a buyer")
				require.Len(t, tt.api.orders, 1)
				for _, o := range tt.api.orders {
					assert.Equal(t, "cancelled", o.Status)
				}
				return
			}
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "the script must fail")
			assert.Equal(t, 1, exit.ExitCode())
			assert.Contains(t, stderr.String(), "smoke: FAIL: ")
			assert.Contains(t, stderr.String(), tt.wantErr)
		})
	}
}

// smokeAPI fakes the routes smoke.sh uses, in memory.
type smokeAPI struct {
	// fail answers these routes (ServeMux patterns) with this status.
	fail map[string]int
	// orderMisses: POST /api/orders answers 404 this many times first, as
	// while ticket:created is still on its way to the orders service.
	orderMisses   int
	noCookie      bool
	cancelIgnored bool

	mu      sync.Mutex
	nextID  int
	users   map[string]string // id -> email
	tickets map[string]*smokeTicket
	orders  map[string]*smokeOrder
}

type smokeTicket struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Price   float64 `json:"price"`
	UserID  string  `json:"userId"`
	Version int     `json:"version"`
	OrderID string  `json:"orderId,omitempty"`
	Status  string  `json:"status"`
}

type smokeOrder struct {
	ID        string      `json:"id"`
	UserID    string      `json:"userId"`
	Status    string      `json:"status"`
	ExpiresAt string      `json:"expiresAt"`
	Ticket    smokeTicket `json:"ticket"`
	Version   int         `json:"version"`
}

func (a *smokeAPI) handler() http.Handler {
	a.users = map[string]string{}
	a.tickets = map[string]*smokeTicket{}
	a.orders = map[string]*smokeOrder{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/users/currentuser", a.currentUser)
	mux.HandleFunc("POST /api/users/signup", a.signup)
	mux.HandleFunc("GET /api/tickets", a.listTickets)
	mux.HandleFunc("POST /api/tickets", a.createTicket)
	mux.HandleFunc("POST /api/orders", a.createOrder)
	mux.HandleFunc("GET /api/orders/{id}", a.order)
	mux.HandleFunc("DELETE /api/orders/{id}", a.cancelOrder)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); a.fail[pattern] != 0 {
			smokeReply(w, a.fail[pattern], map[string]any{"errors": []map[string]string{{"message": "injected"}}})
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

func smokeReply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func smokeError(w http.ResponseWriter, status int, message string) {
	smokeReply(w, status, map[string]any{"errors": []map[string]string{{"message": message}}})
}

func (a *smokeAPI) id() string {
	a.nextID++
	return fmt.Sprintf("%024x", a.nextID)
}

// user is the signed-in user's id; the fake's session cookie is the id itself.
func (a *smokeAPI) user(r *http.Request) string {
	c, err := r.Cookie("session")
	if err != nil || a.users[c.Value] == "" {
		return ""
	}
	return c.Value
}

func (a *smokeAPI) currentUser(w http.ResponseWriter, r *http.Request) {
	id := a.user(r)
	if id == "" {
		smokeReply(w, http.StatusOK, map[string]any{"currentUser": nil})
		return
	}
	smokeReply(w, http.StatusOK, map[string]any{"currentUser": map[string]string{"id": id, "email": a.users[id]}})
}

func (a *smokeAPI) signup(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Email == "" || len(in.Password) < 4 || len(in.Password) > 20 {
		smokeError(w, http.StatusBadRequest, "bad sign-up")
		return
	}
	if slices.Contains(slices.Collect(maps.Values(a.users)), in.Email) {
		smokeError(w, http.StatusBadRequest, "Email in use")
		return
	}
	id := a.id()
	a.users[id] = in.Email
	if !a.noCookie {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	smokeReply(w, http.StatusCreated, map[string]string{"id": id, "email": in.Email})
}

func (a *smokeAPI) listTickets(w http.ResponseWriter, _ *http.Request) {
	list := []*smokeTicket{}
	for _, t := range a.tickets {
		if t.OrderID == "" {
			list = append(list, t)
		}
	}
	smokeReply(w, http.StatusOK, list)
}

func (a *smokeAPI) createTicket(w http.ResponseWriter, r *http.Request) {
	user := a.user(r)
	if user == "" {
		smokeError(w, http.StatusUnauthorized, "Not authorized")
		return
	}
	var in struct {
		Title string
		Price float64
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" || in.Price <= 0 {
		smokeError(w, http.StatusBadRequest, "bad ticket")
		return
	}
	t := &smokeTicket{ID: a.id(), Title: in.Title, Price: in.Price, UserID: user, Status: "available"}
	a.tickets[t.ID] = t
	smokeReply(w, http.StatusCreated, t)
}

func (a *smokeAPI) createOrder(w http.ResponseWriter, r *http.Request) {
	user := a.user(r)
	if user == "" {
		smokeError(w, http.StatusUnauthorized, "Not authorized")
		return
	}
	var in struct{ TicketID string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		smokeError(w, http.StatusBadRequest, "TicketId must be provided")
		return
	}
	t, ok := a.tickets[in.TicketID]
	if a.orderMisses > 0 || !ok {
		a.orderMisses--
		smokeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if t.OrderID != "" {
		smokeError(w, http.StatusBadRequest, "Ticket is already reserved")
		return
	}
	o := &smokeOrder{ID: a.id(), UserID: user, Status: "created", ExpiresAt: time.Now().Add(15 * time.Minute).UTC().Format("2006-01-02T15:04:05.000Z"), Ticket: *t}
	t.OrderID = o.ID
	a.orders[o.ID] = o
	smokeReply(w, http.StatusCreated, o)
}

// ownOrder is the caller's order named in the path, or false after an error reply.
func (a *smokeAPI) ownOrder(w http.ResponseWriter, r *http.Request) (*smokeOrder, bool) {
	user := a.user(r)
	if user == "" {
		smokeError(w, http.StatusUnauthorized, "Not authorized")
		return nil, false
	}
	o, ok := a.orders[r.PathValue("id")]
	if !ok {
		smokeError(w, http.StatusNotFound, "Not Found")
		return nil, false
	}
	if o.UserID != user {
		smokeError(w, http.StatusUnauthorized, "Not authorized")
		return nil, false
	}
	return o, true
}

func (a *smokeAPI) order(w http.ResponseWriter, r *http.Request) {
	if o, ok := a.ownOrder(w, r); ok {
		smokeReply(w, http.StatusOK, o)
	}
}

func (a *smokeAPI) cancelOrder(w http.ResponseWriter, r *http.Request) {
	o, ok := a.ownOrder(w, r)
	if !ok {
		return
	}
	if !a.cancelIgnored {
		o.Status = "cancelled"
		o.Version++
		a.tickets[o.Ticket.ID].OrderID = ""
	}
	w.WriteHeader(http.StatusNoContent)
}

// deployBeforeIssue13 is deploy.yml as it was before issue 13 (commit
// fd409ad): it deployed every push, planned from github.event.before, and had
// neither a smoke test nor a rollback. TestDeployPipeline checks that the rules
// name each of those.
const deployBeforeIssue13 = `# Every push to main: build and push the images whose sources changed to
# DigitalOcean's container registry, tagged with the commit, then apply
# infra/k8s/overlays/prod to the DigitalOcean Kubernetes cluster.
#
# Repository settings it reads (Settings -> Secrets and variables -> Actions):
#   secrets   DIGITALOCEAN_ACCESS_TOKEN  a DigitalOcean API token (registry + cluster)
#             JWT_KEY                    the services' session signing key
#             STRIPE_KEY                 Stripe's secret key
#   variables DIGITALOCEAN_CLUSTER       the Kubernetes cluster's name
#             STRIPE_PUBLISHABLE_KEY     optional: Stripe's publishable key for the client
# Image names come from infra/k8s/overlays/prod/kustomization.yaml (images:).
name: deploy

on:
  push:
    branches:
      - main
  workflow_dispatch:
    inputs:
      rebuild:
        description: Build every image, not only the changed ones
        type: boolean
        default: false

permissions:
  contents: read

# One deploy at a time, in push order; a running deploy is never cancelled.
concurrency:
  group: deploy-production
  cancel-in-progress: false

env:
  NAMESPACE: ticketing
  OVERLAY: infra/k8s/overlays/prod
  KUSTOMIZE_VERSION: v5.8.2

jobs:
  plan:
    name: which images to build
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    outputs:
      images: ${{ steps.plan.outputs.images }}
    steps:
      - uses: actions/checkout@v6.0.0
        with:
          fetch-depth: 0
      - uses: digitalocean/action-doctl@v2.5.1
        with:
          token: ${{ secrets.DIGITALOCEAN_ACCESS_TOKEN }}
      - name: kubeconfig
        env:
          CLUSTER: ${{ vars.DIGITALOCEAN_CLUSTER }}
        run: doctl kubernetes cluster kubeconfig save --expiry-seconds 600 "$CLUSTER"
      - id: plan
        name: changed images
        env:
          BEFORE: ${{ github.event.before }}
          REBUILD: ${{ github.event_name == 'workflow_dispatch' && inputs.rebuild }}
        run: |
          set -euo pipefail
          all=false
          if [[ "$REBUILD" == true || -z "$BEFORE" || "$BEFORE" =~ ^0+$ ]] || ! git cat-file -e "$BEFORE^{commit}" 2>/dev/null; then
            all=true
          fi
          build=()
          for image in $(yq '.images[].name' "$OVERLAY/kustomization.yaml"); do
            name=${image#ticketing/}
            if [[ $name == client ]]; then watch=(client); else watch=(common "services/$name"); fi
            if $all; then
              reason="rebuild requested or no previous commit"
            elif ! kubectl -n "$NAMESPACE" get deployment "$name" >/dev/null 2>&1; then
              reason="not deployed yet"
            elif ! git diff --quiet "$BEFORE" "$GITHUB_SHA" -- "${watch[@]}"; then
              reason="sources changed"
            else
              echo "$name: unchanged, the deployed image stays"
              continue
            fi
            echo "$name: build ($reason)"
            build+=("$name")
          done
          if (( ${#build[@]} )); then
            json=$(printf '%s\n' "${build[@]}" | jq -Rnc '[inputs]')
          else
            json='[]'
          fi
          echo "images=$json" >> "$GITHUB_OUTPUT"

  build:
    name: build ${{ matrix.image }}
    needs: plan
    if: needs.plan.outputs.images != '[]'
    runs-on: ubuntu-24.04
    timeout-minutes: 30
    strategy:
      fail-fast: true
      matrix:
        image: ${{ fromJSON(needs.plan.outputs.images) }}
    steps:
      - uses: actions/checkout@v6.0.0
      - uses: digitalocean/action-doctl@v2.5.1
        with:
          token: ${{ secrets.DIGITALOCEAN_ACCESS_TOKEN }}
      - name: registry login
        run: doctl registry login --expiry-seconds 1800
      - name: build and push
        env:
          IMAGE: ${{ matrix.image }}
        run: |
          set -euo pipefail
          repo=$(yq ".images[] | select(.name == \"ticketing/$IMAGE\") | .newName" "$OVERLAY/kustomization.yaml")
          ref="$repo:$GITHUB_SHA"
          if [[ $IMAGE == client ]]; then
            docker build --tag "$ref" client
          else
            # The repository root is the context: the module's replace needs common/.
            docker build --file "services/$IMAGE/Dockerfile" --tag "$ref" .
          fi
          docker push "$ref"

  deploy:
    name: apply the prod overlay
    needs:
      - plan
      - build
    if: always() && needs.plan.result == 'success' && (needs.build.result == 'success' || needs.build.result == 'skipped')
    runs-on: ubuntu-24.04
    timeout-minutes: 30
    environment: production
    steps:
      - uses: actions/checkout@v6.0.0
      - uses: actions/setup-go@v6.0.0
        with:
          go-version: "1.26.x"
          cache: false
      - name: kustomize
        run: |
          GOBIN="$RUNNER_TEMP/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
      - uses: digitalocean/action-doctl@v2.5.1
        with:
          token: ${{ secrets.DIGITALOCEAN_ACCESS_TOKEN }}
      - name: kubeconfig
        env:
          CLUSTER: ${{ vars.DIGITALOCEAN_CLUSTER }}
        run: doctl kubernetes cluster kubeconfig save --expiry-seconds 1200 "$CLUSTER"
      - name: namespace and secrets
        env:
          JWT_KEY: ${{ secrets.JWT_KEY }}
          STRIPE_KEY: ${{ secrets.STRIPE_KEY }}
          STRIPE_PUBLISHABLE_KEY: ${{ vars.STRIPE_PUBLISHABLE_KEY }}
        run: |
          set -euo pipefail
          apply() { kubectl apply -f -; }
          kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | apply
          kubectl -n "$NAMESPACE" create secret generic jwt-secret \
            --from-literal=JWT_KEY="$JWT_KEY" --dry-run=client -o yaml | apply
          kubectl -n "$NAMESPACE" create secret generic stripe-secret \
            --from-literal=STRIPE_KEY="$STRIPE_KEY" --dry-run=client -o yaml | apply
          if [[ -n "$STRIPE_PUBLISHABLE_KEY" ]]; then
            kubectl -n "$NAMESPACE" create configmap client-stripe \
              --from-literal=NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY="$STRIPE_PUBLISHABLE_KEY" --dry-run=client -o yaml | apply
          fi
      - name: image tags
        env:
          BUILT: ${{ needs.plan.outputs.images }}
        working-directory: ${{ env.OVERLAY }}
        run: |
          set -euo pipefail
          for image in $(yq '.images[].name' kustomization.yaml); do
            name=${image#ticketing/}
            if jq -e --arg n "$name" 'index($n) != null' <<<"$BUILT" >/dev/null; then
              kustomize edit set image "$image=*:$GITHUB_SHA"
            else
              current=$(kubectl -n "$NAMESPACE" get deployment "$name" \
                -o jsonpath="{.spec.template.spec.containers[?(@.name==\"$name\")].image}")
              kustomize edit set image "$image=$current"
            fi
          done
          kustomize build . | grep -E '^\s+image: ' | sort -u
      - name: apply
        run: kubectl apply -k "$OVERLAY"
      - name: load balancer host name
        # The DigitalOcean ingress-nginx manifest turns on the PROXY protocol;
        # with the host name set, traffic from inside the cluster to the public
        # host (cert-manager's self check) goes through the load balancer too.
        run: |
          set -euo pipefail
          # shellcheck disable=SC1091
          source "$OVERLAY/public-host.env"
          if kubectl -n ingress-nginx get service ingress-nginx-controller >/dev/null 2>&1; then
            kubectl -n ingress-nginx annotate service ingress-nginx-controller --overwrite \
              "service.beta.kubernetes.io/do-loadbalancer-hostname=$HOST"
          else
            echo "::warning::ingress-nginx is not installed; see infra/k8s/README.md"
          fi
      - name: rollout status
        run: |
          set -euo pipefail
          for workload in $(kubectl -n "$NAMESPACE" get statefulsets,deployments -o name); do
            kubectl -n "$NAMESPACE" rollout status "$workload" --timeout=5m
          done
`
