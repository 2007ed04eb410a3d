package infracheck

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The flags the backups and restores are made with, and TestDumpAndRestore
// proves against a real server: a whole database in one gzipped archive,
// put back over what is there.
var (
	dumpFlags    = []string{"--archive", "--gzip"}
	restoreFlags = []string{"--archive", "--gzip", "--drop"}
)

// commandLine is the line of a container's shell script that runs tool,
// with its continuation lines joined, or "".
func commandLine(c corev1.Container, tool string) string {
	script := strings.Join(append(slices.Clone(c.Command), c.Args...), "\n")
	script = strings.ReplaceAll(script, "\\\n", " ")
	for _, line := range strings.Split(script, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == tool {
			return line
		}
	}
	return ""
}

// hasFlag: the command line passes flag, alone or as flag=value.
func hasFlag(line, flag string) bool {
	return slices.ContainsFunc(strings.Fields(line), func(f string) bool { return f == flag || strings.HasPrefix(f, flag+"=") })
}

// backupProblems: every MongoDB replica set has a CronJob, <set>-backup,
// that dumps the set's database with dumpFlags from a secondary where one
// is up, never two at once, and uploads the dump.
func backupProblems(r *rendering) []error {
	var problems []error
	instances := map[string]mongoInstance{}
	for _, w := range r.workloads() {
		if w.Kind != "StatefulSet" || mongodContainer(w.Template.Spec) < 0 {
			continue
		}
		inst, err := mongoUserInit(r, w.Template.Spec)
		if err != nil {
			continue // mongoAuthProblems says so
		}
		inst.Workload = w
		instances[w.Name] = inst
	}
	for _, set := range slices.Sorted(maps.Keys(instances)) {
		inst := instances[set]
		add := func(format string, args ...any) {
			problems = append(problems, problemf("%s: %s: backup: %s", r.Target.Name, inst.Workload, fmt.Sprintf(format, args...)))
		}
		o, ok := r.find("CronJob", set+"-backup")
		if !ok {
			add("no CronJob %s-backup: the database is never backed up", set)
			continue
		}
		cj := o.Typed.(*batchv1.CronJob)
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			add("CronJob/%s: concurrencyPolicy is not Forbid: a slow dump could overlap the next", o.Name)
		}
		spec := cj.Spec.JobTemplate.Spec.Template.Spec
		var dump, upload string
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			env := containerEnv(r, c)
			if line := commandLine(c, "mongodump"); line != "" {
				dump = line
				if db := env["MONGO_DATABASE"]; !strings.Contains(line, `--db="$MONGO_DATABASE"`) || db == nil || db.Value != inst.Database {
					add("CronJob/%s: mongodump does not dump the database %s (--db=\"$MONGO_DATABASE\")", o.Name, inst.Database)
				}
				if !strings.Contains(strings.Join(c.Command, "\n"), "readPreference=secondaryPreferred") {
					add("CronJob/%s: mongodump does not read from a secondary (readPreference=secondaryPreferred)", o.Name)
				}
			}
			if line := commandLine(c, "aws"); strings.Contains(line, " s3 cp ") {
				upload = line
			}
		}
		for _, f := range dumpFlags {
			if !hasFlag(dump, f) {
				add("CronJob/%s: mongodump without %s", o.Name, f)
			}
		}
		if upload == "" {
			add("CronJob/%s: no container uploads the dump (aws s3 cp)", o.Name)
		}
	}
	return problems
}

// fakeKubectl is a kubectl for restore.sh that answers from the rendering:
// the backup CronJob's images, a Deployment of three copies, a pod that
// ends in phase; it records every call and keeps what is applied.
const fakeKubectl = `#!/usr/bin/env bash
echo "$*" >> "$FAKE_DIR/calls"
if [[ $1 == -n ]]; then shift 2; fi
case "$1 $2" in
  "get cronjob") printf '%s' "$FAKE_IMAGES" ;;
  "get deployment") printf 3 ;;
  "get pod") printf '%s' "$FAKE_PHASE" ;;
  "apply -f") cat > "$FAKE_DIR/applied.yaml" ;;
  "logs "*) echo "logs: $*" ;;
esac
`

// TestRestoreScript runs infra/k8s/restore.sh with a fake kubectl and checks
// the pod it applies as every workload is checked (decoded strictly,
// hardened, pinned, its Secrets known, let through by the network policies
// to its set and to Spaces only), that it restores with restoreFlags into
// the service's database, and that the service is stopped meanwhile and
// started again only after a restore that succeeded.
func TestRestoreScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("infra/k8s/restore.sh needs bash, which is not on the PATH")
	}
	root := repoRoot(t)
	renderings, decodeProblems, err := renderAll(filepath.Join(root, "infra", "k8s"), t.TempDir(), "overlays/prod")
	require.NoError(t, err)
	requireNoProblems(t, decodeProblems)
	r := renderings[0]
	o, ok := r.find("CronJob", "orders-mongo-backup")
	require.True(t, ok)
	backup := o.Typed.(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec
	images := backup.InitContainers[0].Image + " " + backup.Containers[0].Image

	run := func(t *testing.T, phase string, args ...string) (dir, stdout, stderr string, err error) {
		dir = t.TempDir()
		bin := filepath.Join(dir, "bin")
		require.NoError(t, os.MkdirAll(bin, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(bin, "kubectl"), []byte(fakeKubectl), 0o755))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(root, "infra", "k8s", "restore.sh")}, args...)...)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"FAKE_DIR="+dir, "FAKE_IMAGES="+images, "FAKE_PHASE="+phase)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		return dir, out.String(), errOut.String(), err
	}
	calls := func(t *testing.T, dir string) []string {
		data, err := os.ReadFile(filepath.Join(dir, "calls"))
		require.NoError(t, err)
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}

	t.Run("restores into the service's database with the service stopped", func(t *testing.T) {
		const dumpObject = "orders-mongo/2026-12-04T023000Z.archive.gz"
		dir, stdout, _, err := run(t, "Succeeded", "orders", dumpObject)
		require.NoError(t, err)
		assert.Contains(t, stdout, "restored orders-mongo from "+dumpObject)

		got := calls(t, dir)
		stop := slices.Index(got, "-n ticketing scale deployment orders --replicas=0")
		apply := slices.Index(got, "-n ticketing apply -f -")
		start := slices.Index(got, "-n ticketing scale deployment orders --replicas=3")
		require.True(t, stop >= 0 && apply > stop && start > apply, "stop orders, restore, start orders again, in that order: %v", got)

		data, err := os.ReadFile(filepath.Join(dir, "applied.yaml"))
		require.NoError(t, err)
		raw, err := yaml.YAMLToJSON(data)
		require.NoError(t, err)
		typed, err := decodeStrict("v1", "Pod", raw)
		require.NoError(t, err)
		pod := typed.(*corev1.Pod)
		assert.Equal(t, corev1.RestartPolicyNever, pod.Spec.RestartPolicy)

		var restore corev1.Container
		for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
			if commandLine(c, "mongorestore") != "" {
				restore = c
			}
			if strings.Contains(strings.Join(c.Command, " "), "aws s3 cp") {
				assert.Contains(t, c.Env, corev1.EnvVar{Name: "OBJECT", Value: dumpObject})
			}
		}
		line := commandLine(restore, "mongorestore")
		require.NotEmpty(t, line, "no container runs mongorestore")
		for _, f := range restoreFlags {
			assert.True(t, hasFlag(line, f), "mongorestore without %s: %s", f, line)
		}
		assert.Contains(t, line, `--nsInclude="$MONGO_DATABASE.*"`)
		assert.Contains(t, restore.Env, corev1.EnvVar{Name: "MONGO_DATABASE", Value: "orders"})

		// The pod among the rendered objects, as a Job named for what it
		// is, goes through the checks every workload goes through.
		job := &batchv1.Job{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}}}
		with := *r
		with.Objects = append(slices.Clone(r.Objects), object{APIVersion: "batch/v1", Kind: "Job", Name: "orders-mongo-restore", Namespace: namespace, Typed: job})
		requireNoProblems(t, hardeningProblems(&with))
		requireNoProblems(t, referenceProblems(&with))
		requireNoProblems(t, networkPolicyProblems(&with))
		requireNoProblems(t, imagePinProblems(root, &with))
	})
	t.Run("a failed restore leaves the service stopped", func(t *testing.T) {
		dir, _, stderr, err := run(t, "Failed", "orders", "orders-mongo/x.archive.gz")
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Contains(t, stderr, "orders stays at 0 copies")
		assert.Contains(t, stderr, "kubectl -n ticketing scale deployment orders --replicas=3")
		assert.NotContains(t, calls(t, dir), "-n ticketing scale deployment orders --replicas=3")
	})
	t.Run("refuses what is no database of ours", func(t *testing.T) {
		_, _, stderr, err := run(t, "Succeeded", "client", "x")
		require.Error(t, err)
		assert.Contains(t, stderr, "usage:")
	})
}

// mongoTool is the path of a MongoDB database tool: in MONGO_TOOLS_DIR when
// set, else on the PATH.
func mongoTool(name string) (string, error) {
	if dir := os.Getenv("MONGO_TOOLS_DIR"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
	return exec.LookPath(name)
}

// TestBackupsOfProd: every set in production is backed up as described.
func TestBackupsOfProd(t *testing.T) {
	eachOverlay(t, backupProblems, "overlays/prod")
}

// TestDumpAndRestore dumps a database with mongodump, changes it, and puts
// it back with mongorestore, with dumpFlags and restoreFlags (the flags of
// the backups and of restore.sh), against the server at TEST_MONGO_URI
// (make test's FerretDB), and requires every document and index back as
// dumped. The MongoDB database tools are no package of a registry this
// project reaches (the Go module proxy does not serve
// github.com/mongodb/mongo-tools, whose tags are not Go module versions), so
// the test skips unless mongodump and mongorestore are on the PATH or in
// MONGO_TOOLS_DIR; with them, it treats TEST_MONGO_URI as every other test
// of the repository does.
func TestDumpAndRestore(t *testing.T) {
	dump, errDump := mongoTool("mongodump")
	restore, errRestore := mongoTool("mongorestore")
	if err := errors.Join(errDump, errRestore); err != nil {
		t.Skipf("mongodump and mongorestore are not installed (MONGO_TOOLS_DIR or the PATH): %v", err)
	}
	uri := os.Getenv("TEST_MONGO_URI")
	if uri == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_MONGO_URI not set under CI=true; run via make test")
		}
		t.Skip("TEST_MONGO_URI not set; run via make test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	require.NoError(t, err)
	defer func() { _ = client.Disconnect(context.Background()) }()
	name := fmt.Sprintf("infracheck_restore_%d", time.Now().UnixNano())
	db := client.Database(name)
	defer func() { _ = db.Drop(context.Background()) }()

	// A database shaped like a service's: records with versions and an
	// outbox, a unique index, and a second collection.
	tickets, orders := db.Collection("tickets"), db.Collection("orders")
	var want []any
	for i := range 40 {
		want = append(want, bson.D{
			{Key: "_id", Value: fmt.Sprintf("t%02d", i)}, {Key: "title", Value: fmt.Sprintf("concert %d", i)},
			{Key: "price", Value: float64(i) + 0.5}, {Key: "version", Value: int32(i % 3)},
			{Key: "outbox", Value: bson.A{bson.D{{Key: "id", Value: fmt.Sprintf("e%d", i)}, {Key: "subject", Value: "ticket:updated"}}}},
		})
	}
	_, err = tickets.InsertMany(ctx, want)
	require.NoError(t, err)
	_, err = tickets.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "title", Value: 1}}, Options: options.Index().SetUnique(true).SetName("title_unique")})
	require.NoError(t, err)
	_, err = orders.InsertOne(ctx, bson.D{{Key: "_id", Value: "o1"}, {Key: "ticket", Value: "t01"}, {Key: "status", Value: "created"}})
	require.NoError(t, err)
	before := collectionDocs(ctx, t, db)

	// The server's address in a config file, as the backup and restore
	// pods hand it over (with credentials, which stay off the command line).
	tmp := t.TempDir()
	archive, config := filepath.Join(tmp, "dump.archive.gz"), filepath.Join(tmp, "tools.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf("uri: %q\n", uri)), 0o600))
	withValues := func(flags []string, extra ...string) []string {
		out := []string{"--config=" + config}
		for _, f := range flags {
			if f == "--archive" {
				f += "=" + archive
			}
			out = append(out, f)
		}
		return append(out, extra...)
	}
	runTool := func(path string, args ...string) {
		t.Helper()
		out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
		t.Logf("%s %s:\n%s", filepath.Base(path), strings.Join(args[1:], " "), out)
		require.NoError(t, err)
	}
	runTool(dump, withValues(dumpFlags, "--db="+name)...)

	// What happens after the dump and must be undone by the restore.
	_, err = tickets.DeleteMany(ctx, bson.D{{Key: "version", Value: int32(0)}})
	require.NoError(t, err)
	_, err = tickets.UpdateOne(ctx, bson.D{{Key: "_id", Value: "t01"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "price", Value: 999.0}}}})
	require.NoError(t, err)
	_, err = tickets.InsertOne(ctx, bson.D{{Key: "_id", Value: "t99"}, {Key: "title", Value: "after the dump"}})
	require.NoError(t, err)
	require.NoError(t, orders.Drop(ctx))
	require.NotEqual(t, before, collectionDocs(ctx, t, db))

	restoreArgs := withValues(restoreFlags, "--nsInclude="+name+".*")
	var build bson.M
	require.NoError(t, db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&build))
	_, ferret := build["ferretdbVersion"]
	if ferret {
		// mongorestore sends every index with the namespace option "ns",
		// which MongoDB ignores and FerretDB refuses; the documents are
		// still checked here, the indexes on a real MongoDB only (each
		// service also makes its own indexes when it starts).
		restoreArgs = append(restoreArgs, "--noIndexRestore")
	}
	runTool(restore, restoreArgs...)

	assert.Equal(t, before, collectionDocs(ctx, t, db), "the database is as dumped")
	if ferret {
		t.Log("FerretDB: indexes not restored (it refuses mongorestore's ns index option); documents checked")
		return
	}
	var indexes []bson.M
	cur, err := tickets.Indexes().List(ctx)
	require.NoError(t, err)
	require.NoError(t, cur.All(ctx, &indexes))
	assert.True(t, slices.ContainsFunc(indexes, func(ix bson.M) bool { return ix["name"] == "title_unique" && ix["unique"] == true }),
		"the unique index is back: %v", indexes)
	_, err = tickets.InsertOne(ctx, bson.D{{Key: "_id", Value: "dup"}, {Key: "title", Value: "concert 1"}})
	assert.True(t, mongo.IsDuplicateKeyError(err), "the restored unique index holds: %v", err)
}

// collectionDocs is every document of every collection of db, by collection
// and in _id order, as extended JSON.
func collectionDocs(ctx context.Context, t *testing.T, db *mongo.Database) map[string][]string {
	t.Helper()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	out := map[string][]string{}
	for _, n := range names {
		cur, err := db.Collection(n).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		require.NoError(t, err)
		var docs []bson.Raw
		require.NoError(t, cur.All(ctx, &docs))
		for _, d := range docs {
			out[n] = append(out[n], d.String())
		}
	}
	return out
}
