//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/virdx/vxplatform-infra/e2e/internal/policyjson"
	"github.com/virdx/vxplatform-infra/e2e/jobrunner"
	"github.com/virdx/vxplatform-infra/internal/backupenv"
	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/stacks"
)

// The joints: the minio resources the engine applied through the minio test
// double (e2e/miniotest) are on the local test MinIO, and the jobs the program
// declares really run, through the job runner (e2e/jobrunner), with the Secrets
// the program wrote.

// joints is the state the joints steps share.
type joints struct {
	runner *jobrunner.Runner
	dbs    map[string]*jobrunner.Database // by stack
	// rows are the digests of the rows each environment's database was seeded with.
	rows map[string]string
}

// databaseStacks are the stacks whose databases the job runner stands in for.
var databaseStacks = []string{"production", "staging", "public", "pr-123"}

const backupImage = "ghcr.io/virdx/vxplatform-backup"

// mcEnv is the environment of the harness's own mc runs: the credentials in
// MC_HOST_local, mc's config in the test's directory, and the instance's CA as
// mc's system roots (SSL_CERT_FILE), as the double's mc gets it from the engine.
func (h *harness) mcEnv() []string {
	u := url.URL{Scheme: "https", Host: h.minio.Endpoint, User: url.UserPassword(h.minio.RootUser, h.minio.RootPassword)}
	return append(withTrust(os.Environ(), h.minio.CAFile), "MC_HOST_local="+u.String(), "MC_CONFIG_DIR="+filepath.Join(h.dirOrTemp(), "mc"))
}

// dirOrTemp is the harness directory; before it exists (the empty-MinIO check),
// a directory removed at the end of the test.
func (h *harness) dirOrTemp() string {
	if h.dir != "" {
		return h.dir
	}
	if t, ok := h.tb.(interface{ TempDir() string }); ok {
		return t.TempDir()
	}
	return os.TempDir()
}

// mcJSON runs `mc --json ARGS` and returns its JSON lines.
func (h *harness) mcJSON(ctx context.Context, args ...string) ([]map[string]any, error) {
	cmd := exec.CommandContext(ctx, h.minio.Client, append([]string{"--json", "--no-color"}, args...)...)
	cmd.Env = h.mcEnv()
	out, err := cmd.Output()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var obj map[string]any
		if json.Unmarshal(sc.Bytes(), &obj) == nil {
			if obj["status"] == "error" {
				return lines, fmt.Errorf("mc %s: %v", strings.Join(args, " "), obj["error"])
			}
			lines = append(lines, obj)
		}
	}
	if err != nil {
		return lines, fmt.Errorf("mc %s: %w", strings.Join(args, " "), err)
	}
	return lines, nil
}

func (h *harness) rootS3() *minio.Client {
	return h.s3Client(h.minio.RootUser, h.minio.RootPassword)
}

// platformNames are the buckets, users and policies the stacks make on MinIO.
func isPlatformName(name string) bool { return strings.HasPrefix(name, "dataplatform-") }

// minioState is what MinIO holds of the platform: every bucket with its
// versioning, lifecycle and policy, every user with its status and policies,
// every policy document. Equal states mean nothing was changed.
func (h *harness) minioState(ctx context.Context) (map[string]string, error) {
	state := map[string]string{}
	s3 := h.rootS3()
	buckets, err := s3.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range buckets {
		if !isPlatformName(b.Name) {
			continue
		}
		v, err := s3.GetBucketVersioning(ctx, b.Name)
		if err != nil {
			return nil, err
		}
		lc, _ := s3.GetBucketLifecycle(ctx, b.Name)
		lcJSON, _ := json.Marshal(lc)
		policy, _ := s3.GetBucketPolicy(ctx, b.Name)
		state["bucket/"+b.Name] = fmt.Sprintf("created %s versioning %s lifecycle %s policy %s", b.CreationDate.Format(time.RFC3339Nano), v.Status, lcJSON, policy)
	}
	users, err := h.mcJSON(ctx, "admin", "user", "ls", "local")
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if name, _ := u["accessKey"].(string); isPlatformName(name) {
			state["user/"+name] = fmt.Sprintf("%v %v", u["userStatus"], u["policyName"])
		}
	}
	policies, err := h.mcJSON(ctx, "admin", "policy", "ls", "local")
	if err != nil {
		return nil, err
	}
	for _, p := range policies {
		name, _ := p["policy"].(string)
		if !isPlatformName(name) {
			continue
		}
		info, err := h.mcJSON(ctx, "admin", "policy", "info", "local", name)
		if err != nil {
			return nil, err
		}
		pi, _ := info[0]["policyInfo"].(map[string]any)
		doc, _ := json.Marshal(pi["Policy"])
		canonical, err := policyjson.Canonical(string(doc))
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", name, err)
		}
		// The dates show a rewrite even of the same document.
		state["policy/"+name] = fmt.Sprintf("created %v updated %v %s", pi["CreateDate"], pi["UpdateDate"], canonical)
	}
	return state, nil
}

// requireEmptyMinIO: a bucket or user left by another run would make the
// double's creates fail far from the cause.
func (h *harness) requireEmptyMinIO() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	state, err := h.minioState(ctx)
	if err != nil {
		h.tb.Fatalf("the local test MinIO at %s does not answer (%v): eval \"$(VX_MINIO_TLS=1 scripts/test-servers.sh start)\"", h.minio.URL(), err)
	}
	if len(state) > 0 {
		h.tb.Fatalf("the test MinIO at %s already holds %s: restart the test servers (scripts/test-servers.sh stop && VX_MINIO_TLS=1 scripts/test-servers.sh start, data starts empty)",
			h.minio.Endpoint, strings.Join(slices.Sorted(maps.Keys(state)), ", "))
	}
}

// removePlatformFromMinIO removes the platform's buckets (with their objects),
// users and policies: protected buckets outlive their stacks.
func (h *harness) removePlatformFromMinIO(ctx context.Context) error {
	state, err := h.minioState(ctx)
	if err != nil {
		return err
	}
	var problems []string
	for key := range state {
		kind, name, _ := strings.Cut(key, "/")
		switch kind {
		case "bucket":
			err = h.rootS3().RemoveBucketWithOptions(ctx, name, minio.RemoveBucketOptions{ForceDelete: true})
		case "user":
			_, err = h.mcJSON(ctx, "admin", "user", "remove", "local", name)
		case "policy":
			continue // after the users they are attached to
		}
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	for key := range state {
		if name, ok := strings.CutPrefix(key, "policy/"); ok {
			if _, err := h.mcJSON(ctx, "admin", "policy", "remove", "local", name); err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("removing the platform from MinIO: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (h *harness) stopDatabases() {
	if h.joints == nil {
		return
	}
	for stack, db := range h.joints.dbs {
		if err := db.Stop(); err != nil {
			h.tb.Logf("stopping the database of %s: %v", stack, err)
		}
	}
}

func loadEnv(t *testing.T, stack string, cfg stacks.Config) stacks.Environment {
	t.Helper()
	env, err := stacks.Load(stack, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func rulesOf(lc *lifecycle.Configuration) []lifecycle.Rule {
	if lc == nil {
		return nil
	}
	return lc.Rules
}

// checkIdentitiesOnMinIO: every central identity of the stacks is a user on
// MinIO with exactly its own policy attached, whose document is the identity's.
func (h *harness) checkIdentitiesOnMinIO(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	n := 0
	for _, s := range deployOrder {
		env := loadEnv(t, s, cfgs[s])
		for _, b := range env.Storage.OwnedBuckets {
			if ok, err := h.rootS3().BucketExists(ctx, b.Name); err != nil || !ok {
				t.Errorf("stack %s: bucket %s is not on MinIO (%v)", s, b.Name, err)
			}
			if b.Versioned {
				if v, err := h.rootS3().GetBucketVersioning(ctx, b.Name); err != nil || v.Status != "Enabled" {
					t.Errorf("bucket %s: versioning %q (%v), want Enabled", b.Name, v.Status, err)
				}
			}
			if b.RetentionDays > 0 {
				lc, err := h.rootS3().GetBucketLifecycle(ctx, b.Name)
				expires := false
				for _, r := range rulesOf(lc) {
					expires = expires || (r.ID == "expire-backups" && r.RuleFilter.Prefix == stacks.BackupObjectPrefix && int(r.Expiration.Days) == b.RetentionDays)
				}
				if err != nil || !expires {
					t.Errorf("bucket %s: lifecycle %+v (%v), want dumps under %s expired after %d days", b.Name, lc, err, stacks.BackupObjectPrefix, b.RetentionDays)
				}
			}
		}
		for _, id := range env.Storage.Identities {
			if id.Store != stacks.StoreCentral {
				continue
			}
			n++
			info, err := h.mcJSON(ctx, "admin", "user", "info", "local", id.Name)
			if err != nil {
				t.Errorf("stack %s: identity %s is not a MinIO user: %v", s, id.Name, err)
				continue
			}
			if got := info[0]["policyName"]; got != id.Name || info[0]["userStatus"] != "enabled" {
				t.Errorf("user %s: policies %v, status %v; want exactly its own policy %s, enabled", id.Name, got, info[0]["userStatus"], id.Name)
			}
			want, _ := id.PolicyJSON()
			policy, err := h.mcJSON(ctx, "admin", "policy", "info", "local", id.Name)
			if err != nil {
				t.Errorf("policy %s: %v", id.Name, err)
				continue
			}
			got, _ := json.Marshal(policy[0]["policyInfo"].(map[string]any)["Policy"])
			if !policyjson.Equal(string(got), want) {
				t.Errorf("policy %s on MinIO:\n  %s\nthe identity's document:\n  %s", id.Name, got, want)
			}
		}
	}
	t.Logf("%d central identities are MinIO users with exactly their own policy", n)
}

// startDatabases builds vxbackup, starts each environment's database from its
// StatefulSet with the program's credentials, maps its Service to it, and seeds
// it with rows of its own.
func (h *harness) startDatabases(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	repo, err := localenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	vxbackup := filepath.Join(h.dir, "bin", "vxbackup")
	build := exec.CommandContext(ctx, "go", "build", "-o", vxbackup, "./cmd/vxbackup")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building vxbackup: %v\n%s", err, out)
	}
	imageEnv, err := dockerfileEnv(filepath.Join(repo, "cmd", "vxbackup", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	imageEnv["PATH"] = "/usr/local/bin:/usr/bin:/bin"
	runs := filepath.Join(h.dir, "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		t.Fatal(err)
	}
	h.joints = &joints{
		runner: &jobrunner.Runner{Client: h.cs, Dir: runs, Services: map[jobrunner.Service]string{},
			Images: map[string]jobrunner.Image{backupImage: {Command: "vxbackup", Path: vxbackup, Env: imageEnv}},
			// The image's trust store holds the central MinIO's CA.
			TrustedCAFile: h.minio.CAFile},
		dbs:  map[string]*jobrunner.Database{},
		rows: map[string]string{},
	}
	for _, s := range databaseStacks {
		env := loadEnv(t, s, cfgs[s])
		name := env.ResourceName("postgres")
		db, err := h.joints.runner.StartDatabase(ctx, env.Namespace, name)
		if err != nil {
			t.Fatalf("stack %s: %v", s, err)
		}
		h.joints.dbs[s] = db
		svc, err := h.cs.CoreV1().Services(env.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range svc.Spec.Ports {
			h.joints.runner.Services[jobrunner.Service{Namespace: env.Namespace, Name: name, Port: int(p.Port)}] = db.Addr
		}
		if s != "pr-123" { // a preview's database starts empty and is restored
			h.joints.rows[s] = seed(ctx, t, db, s)
		}
		t.Logf("stack %s: database %s of user %s on %s (password from Secret %s)", s, db.Database, db.User, db.Addr, env.ResourceName("postgres-credentials"))
	}
}

// dockerfileEnv is the ENV of the image's final stage: what the container
// runtime gives the process before the pod's own variables.
func dockerfileEnv(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && strings.EqualFold(f[0], "FROM"):
			env = map[string]string{}
		case len(f) == 2 && strings.EqualFold(f[0], "ENV") && strings.Contains(f[1], "="):
			k, v, _ := strings.Cut(f[1], "=")
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil, fmt.Errorf("%s: no ENV in the final stage", path)
	}
	return env, nil
}

// seed fills a database with rows that name their environment and returns
// their digest.
func seed(ctx context.Context, t *testing.T, db *jobrunner.Database, stack string) string {
	t.Helper()
	conn, err := db.Connect(ctx, db.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE samples (id int PRIMARY KEY, source text NOT NULL, payload jsonb NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	n := map[string]int{"production": 3000, "staging": 1200, "public": 700}[stack]
	if _, err := conn.Exec(ctx, `INSERT INTO samples SELECT i, $1, jsonb_build_object('i', i, 'env', $1::text) FROM generate_series(1, $2) i`, stack, n); err != nil {
		t.Fatal(err)
	}
	return digest(ctx, t, db)
}

// digest is the row count and md5 of every row of the samples table.
func digest(ctx context.Context, t *testing.T, db *jobrunner.Database) string {
	t.Helper()
	conn, err := db.Connect(ctx, db.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var count int
	var sum string
	err = conn.QueryRow(ctx, `SELECT count(*), coalesce(md5(string_agg(s::text, ',' ORDER BY id)), '') FROM samples s`).Scan(&count, &sum)
	if err != nil {
		return "no samples table: " + err.Error()
	}
	return fmt.Sprintf("%d rows, md5 %s", count, sum)
}

// runJob runs a pod template with the job runner and fails unless it exits 0.
func (h *harness) runJob(ctx context.Context, t *testing.T, what, namespace, pod string, get func() (corev1.PodTemplateSpec, error)) jobrunner.Result {
	t.Helper()
	tmpl, err := get()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := h.joints.runner.Run(ctx, namespace, pod, tmpl)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("%s exited %d:\n%s", what, res.ExitCode, res.Stderr)
	}
	// It reached the central MinIO over HTTPS, trusting its CA through the
	// image's trust store (the runner's stand-in), as the program declares.
	requireVar(t, res, "SSL_CERT_FILE", h.minio.CAFile)
	if _, ok := res.Process.Lookup(backupenv.S3UseTLS); ok {
		requireVar(t, res, backupenv.S3UseTLS, "true")
	}
	t.Logf("%s: exit 0 in %s, backup %s", what, time.Since(start).Round(10*time.Millisecond), strings.TrimSpace(res.Stdout))
	return res
}

// secretKeys are the access and secret key in an identity's Kubernetes Secret.
func (h *harness) secretKeys(ctx context.Context, t *testing.T, namespace, secret string) (string, string) {
	t.Helper()
	s, err := h.cs.CoreV1().Secrets(namespace).Get(ctx, secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, secretKey := string(s.Data["accessKeyId"]), string(s.Data["secretAccessKey"])
	if key == "" || secretKey == "" {
		t.Fatalf("Secret %s/%s lacks accessKeyId or secretAccessKey (keys: %v)", namespace, secret, slices.Sorted(maps.Keys(s.Data)))
	}
	return key, secretKey
}

func requireVar(t *testing.T, res jobrunner.Result, name, want string) {
	t.Helper()
	if got, _ := res.Process.Lookup(name); got != want {
		t.Errorf("the job ran with %s=%q, want %q", name, got, want)
	}
}

// checkProductionBackup: production's backup CronJob writes a backup with
// production's backup identity into production's backup bucket, and that
// identity can neither read nor delete it.
func (h *harness) checkProductionBackup(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	env := loadEnv(t, "production", cfgs["production"])
	res := h.runJob(ctx, t, "production's backup CronJob", env.Namespace, "backup-manual",
		func() (corev1.PodTemplateSpec, error) {
			return h.joints.runner.CronJobPod(ctx, env.Namespace, env.ResourceName("backup"))
		})
	id := strings.TrimSpace(res.Stdout)
	key, secret := h.secretKeys(ctx, t, env.Namespace, env.ResourceName("s3-backup"))
	requireVar(t, res, "AWS_ACCESS_KEY_ID", key)
	if key != "dataplatform-production-backup" {
		t.Errorf("the backup ran as %s, want production's backup identity", key)
	}
	bucket, prefix := env.Backup.Bucket, env.Backup.Prefix
	objects := []string{prefix + "dumps/" + id + ".pgdump", prefix + "manifests/" + id + ".json"}
	for _, o := range objects {
		if _, err := h.rootS3().StatObject(ctx, bucket, o, minio.StatObjectOptions{}); err != nil {
			t.Errorf("backup object %s/%s: %v", bucket, o, err)
		}
	}
	backup := h.s3Client(key, secret)
	for _, o := range objects {
		if err := readObject(ctx, backup, bucket, o); minio.ToErrorResponse(err).Code != "AccessDenied" {
			t.Errorf("the backup identity reading %s/%s: %v, want AccessDenied", bucket, o, err)
		}
		if err := backup.RemoveObject(ctx, bucket, o, minio.RemoveObjectOptions{}); minio.ToErrorResponse(err).Code != "AccessDenied" {
			t.Errorf("the backup identity deleting %s/%s: %v, want AccessDenied", bucket, o, err)
		}
		if _, err := h.rootS3().StatObject(ctx, bucket, o, minio.StatObjectOptions{}); err != nil {
			t.Errorf("%s/%s after the backup identity's delete: %v", bucket, o, err)
		}
	}
}

func readObject(ctx context.Context, c *minio.Client, bucket, key string) error {
	o, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return err
	}
	defer o.Close()
	_, err = io.Copy(io.Discard, o)
	return err
}

// checkStagingRestore: a Job created from staging's suspended restore CronJob
// (as the README says to) replaces staging's database with production's rows,
// using staging's restore identity.
func (h *harness) checkStagingRestore(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	env := loadEnv(t, "staging", cfgs["staging"])
	db := h.joints.dbs["staging"]
	if got := digest(ctx, t, db); got != h.joints.rows["staging"] || got == h.joints.rows["production"] {
		t.Fatalf("staging's database before the restore: %s; want its own rows %s", got, h.joints.rows["staging"])
	}
	jobName := fmt.Sprintf("restore-%d", time.Now().Unix())
	if _, err := h.joints.runner.CreateJobFromCronJob(ctx, env.Namespace, env.ResourceName("restore-from-production"), jobName); err != nil {
		t.Fatal(err)
	}
	res := h.runJob(ctx, t, "staging's restore Job "+jobName, env.Namespace, jobName,
		func() (corev1.PodTemplateSpec, error) { return h.joints.runner.JobPod(ctx, env.Namespace, jobName) })
	requireVar(t, res, "AWS_ACCESS_KEY_ID", "dataplatform-staging-restore")
	key, _ := h.secretKeys(ctx, t, env.Namespace, env.ResourceName("s3-restore"))
	requireVar(t, res, "AWS_ACCESS_KEY_ID", key)
	if got, want := digest(ctx, t, db), h.joints.rows["production"]; got != want {
		t.Errorf("staging's database after the restore: %s; want production's %s", got, want)
	} else {
		t.Logf("staging's database now holds production's rows: %s", got)
	}
}

// checkPreviewRestore: public's backup CronJob writes a backup, then pr-123's
// restore Job loads it into the preview's database.
func (h *harness) checkPreviewRestore(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	public := loadEnv(t, "public", cfgs["public"])
	h.runJob(ctx, t, "public's backup CronJob", public.Namespace, "backup-manual",
		func() (corev1.PodTemplateSpec, error) {
			return h.joints.runner.CronJobPod(ctx, public.Namespace, public.ResourceName("backup"))
		})
	preview := loadEnv(t, "pr-123", cfgs["pr-123"])
	db := h.joints.dbs["pr-123"]
	if got := digest(ctx, t, db); got == h.joints.rows["public"] {
		t.Fatalf("the preview's database already holds public's rows before its restore")
	}
	job := preview.ResourceName("restore-from-public")
	res := h.runJob(ctx, t, "pr-123's restore Job "+job, preview.Namespace, job,
		func() (corev1.PodTemplateSpec, error) { return h.joints.runner.JobPod(ctx, preview.Namespace, job) })
	requireVar(t, res, "AWS_ACCESS_KEY_ID", "dataplatform-pr-123-restore")
	if got, want := digest(ctx, t, db), h.joints.rows["public"]; got != want {
		t.Errorf("pr-123's database after its restore: %s; want public's %s", got, want)
	} else {
		t.Logf("pr-123's database holds the latest public backup: %s", got)
	}
}

// access is what an identity may do in one bucket (the README's matrix,
// written out here rather than taken from the program).
type access struct {
	bucket, prefix string
	read, write    bool
	delete         bool
}

var wantMatrix = map[string][]access{
	"dataplatform-production-app":    {{bucket: "dataplatform-prod", read: true, write: true, delete: true}},
	"dataplatform-production-viewer": {{bucket: "dataplatform-prod", read: true}},
	"dataplatform-production-backup": {{bucket: "dataplatform-backups-production", prefix: "postgres/", write: true}},
	// pgBackRest: read, write and delete its own repository (deletes only hide).
	"dataplatform-production-archive": {{bucket: "dataplatform-backups-production", prefix: "pgbackrest/", read: true, write: true, delete: true}},
	"dataplatform-staging-app":        {{bucket: "dataplatform-prod", read: true}, {bucket: "dataplatform-dev", read: true, write: true, delete: true}},
	"dataplatform-staging-viewer":     {{bucket: "dataplatform-prod", read: true}, {bucket: "dataplatform-dev", read: true}},
	"dataplatform-staging-backup":     {{bucket: "dataplatform-backups-staging", prefix: "postgres/", write: true}},
	"dataplatform-staging-archive":    {{bucket: "dataplatform-backups-staging", prefix: "pgbackrest/", read: true, write: true, delete: true}},
	"dataplatform-staging-restore":    {{bucket: "dataplatform-backups-production", prefix: "postgres/", read: true}},
	"dataplatform-public-app":         {{bucket: "dataplatform-public", read: true, write: true, delete: true}},
	"dataplatform-public-viewer":      {{bucket: "dataplatform-public", read: true}},
	"dataplatform-public-backup":      {{bucket: "dataplatform-backups-public", prefix: "postgres/", write: true}},
	"dataplatform-pr-123-app":         {{bucket: "dataplatform-public", read: true}},
	"dataplatform-pr-123-viewer":      {{bucket: "dataplatform-public", read: true}},
	"dataplatform-pr-123-restore":     {{bucket: "dataplatform-backups-public", prefix: "postgres/", read: true}},
}

var centralBuckets = []string{"dataplatform-prod", "dataplatform-dev", "dataplatform-public",
	"dataplatform-backups-production", "dataplatform-backups-staging", "dataplatform-backups-public"}

// allowed is whether the matrix lets an identity do op on key in bucket.
func allowed(identity, bucket, key, op string) bool {
	for _, a := range wantMatrix[identity] {
		if a.bucket != bucket || !strings.HasPrefix(key, a.prefix) {
			continue
		}
		switch op {
		case "list", "read":
			return a.read
		case "write":
			return a.write
		case "delete":
			return a.delete
		}
	}
	return false
}

// checkAccessMatrix: with the keys from the Kubernetes Secrets the program
// created, every identity × central bucket × prefix × operation is allowed or
// refused exactly as the matrix says, on the MinIO the engine configured.
func (h *harness) checkAccessMatrix(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	root := h.rootS3()
	prefixes := []string{"data/", "postgres/", "pgbackrest/"}
	probe := func(bucket, key string) {
		if _, err := root.PutObject(ctx, bucket, key, strings.NewReader("probe"), 5, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range centralBuckets {
		for _, p := range prefixes {
			probe(b, p+"matrix-probe.txt")
		}
	}
	seen := map[string]bool{}
	cells, allowedCells := 0, 0
	for _, s := range databaseStacks {
		env := loadEnv(t, s, cfgs[s])
		for _, id := range env.Storage.Identities {
			if id.Store != stacks.StoreCentral {
				continue
			}
			if _, ok := wantMatrix[id.Name]; !ok {
				t.Errorf("identity %s of %s is not in the test's matrix", id.Name, s)
				continue
			}
			seen[id.Name] = true
			key, secret := h.secretKeys(ctx, t, env.Namespace, env.ResourceName("s3-"+string(id.Purpose)))
			if key != id.Name {
				t.Errorf("Secret %s holds access key %s, want %s", env.ResourceName("s3-"+string(id.Purpose)), key, id.Name)
			}
			c := h.s3Client(key, secret)
			for _, b := range centralBuckets {
				for _, p := range prefixes {
					for _, op := range []string{"list", "read", "write", "delete"} {
						target := p + "matrix-probe.txt"
						if op == "delete" {
							target = p + "matrix-delete-" + id.Name + ".txt"
							probe(b, target)
						}
						want := allowed(id.Name, b, target, op)
						err := tryOp(ctx, c, op, b, p, target, id.Name)
						code := minio.ToErrorResponse(err).Code
						switch {
						case want && err != nil:
							t.Errorf("%s %s on %s/%s: %v, want allowed", id.Name, op, b, target, err)
						case !want && code != "AccessDenied":
							t.Errorf("%s %s on %s/%s: %v, want AccessDenied", id.Name, op, b, target, err)
						}
						if op == "delete" && want == (err == nil) {
							_, statErr := root.StatObject(ctx, b, target, minio.StatObjectOptions{})
							if gone := minio.ToErrorResponse(statErr).Code == "NoSuchKey"; gone != want {
								t.Errorf("%s delete on %s/%s: object gone=%v, want %v", id.Name, b, target, gone, want)
							}
						}
						cells++
						if want {
							allowedCells++
						}
					}
				}
			}
		}
	}
	for name := range wantMatrix {
		if !seen[name] {
			t.Errorf("the matrix lists %s, but no stack has that identity", name)
		}
	}
	t.Logf("access matrix: %d cells (%d identities × %d buckets × %d prefixes × 4 operations) hold on %s: %d allowed, %d refused",
		cells, len(seen), len(centralBuckets), len(prefixes), h.minio.Endpoint, allowedCells, cells-allowedCells)
}

func tryOp(ctx context.Context, c *minio.Client, op, bucket, prefix, key, who string) error {
	switch op {
	case "list":
		for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix}) {
			if o.Err != nil {
				return o.Err
			}
		}
		return nil
	case "read":
		return readObject(ctx, c, bucket, key)
	case "write":
		body := "written by " + who
		_, err := c.PutObject(ctx, bucket, prefix+"matrix-write-"+who+".txt", strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
		return err
	case "delete":
		return c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{})
	}
	return fmt.Errorf("unknown operation %s", op)
}

// checkSecondUpTouchesNothing: a second up of every stack with no change makes
// no step and leaves MinIO exactly as it was.
func (h *harness) checkSecondUpTouchesNothing(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	before, err := h.minioState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mutations, calls := h.traceMutations(ctx, t, func() {
		for _, s := range deployOrder {
			out := h.up(t, s, cfgs[s])
			if changed := out.Changed(); len(changed) > 0 {
				t.Errorf("a second up of %s changed:\n  %s", s, describeSteps(changed))
			}
		}
	})
	if len(mutations) > 0 {
		t.Errorf("MinIO served %d changing calls during the second up:\n  %s", len(mutations), strings.Join(mutations, "\n  "))
	} else {
		t.Logf("mc admin trace: no changing S3 or admin call during the second up (%d calls in all)", calls)
	}
	after, err := h.minioState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if after[k] != before[k] {
			diffs = append(diffs, fmt.Sprintf("%s: %s -> %s", k, before[k], after[k]))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diffs = append(diffs, k+" appeared")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("the second up changed MinIO:\n  %s", strings.Join(diffs, "\n  "))
	} else {
		t.Logf("MinIO unchanged: %d buckets, users and policies", len(before))
	}
}

// checkPreviewIdentitiesRemoved: after pr-123's destroy its central identities
// are gone from MinIO, and pr-124's are still there.
func (h *harness) checkPreviewIdentitiesRemoved(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	state, err := h.minioState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"pr-123", "pr-124"} {
		for _, id := range loadEnv(t, s, cfgs[s]).Storage.Identities {
			if id.Store != stacks.StoreCentral {
				continue
			}
			_, user := state["user/"+id.Name]
			_, policy := state["policy/"+id.Name]
			if want := s == "pr-124"; user != want || policy != want {
				t.Errorf("after destroying pr-123: user %s on MinIO=%v, policy=%v; want %v", id.Name, user, policy, want)
			}
		}
	}
}

// traceMutations runs f while `mc admin trace --all` records every call MinIO
// serves, and returns the S3 and admin calls that change something (all but
// Get*, List*, Head*, Info*, Stat*, ...). Markers (a HEAD of a bucket that does
// not exist) show when the trace has started and that it saw everything up to
// the end of f.
func (h *harness) traceMutations(ctx context.Context, t *testing.T, f func()) (mutations []string, calls int) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.minio.Client, "--json", "admin", "trace", "--all", "local")
	cmd.Env = h.mcEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read continuously: MinIO drops trace events for a subscriber that lags.
	var mu sync.Mutex
	var records []traceRecord
	ended := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		dec := json.NewDecoder(stdout)
		for {
			var r traceRecord
			err := dec.Decode(&r)
			mu.Lock()
			if err != nil {
				ended = true
				mu.Unlock()
				return
			}
			records = append(records, r)
			mu.Unlock()
		}
	}()
	defer func() { cancel(); cmd.Wait(); <-done }() // cancel kills exactly this process
	// waitFor returns the index of the record of the marker's HEAD request.
	waitFor := func(marker string) int {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			h.rootS3().BucketExists(ctx, marker) // no such bucket: only the trace shows it
			time.Sleep(200 * time.Millisecond)
			mu.Lock()
			for i, r := range records {
				if strings.Contains(r.Path, marker) {
					mu.Unlock()
					return i
				}
			}
			stopped := ended
			mu.Unlock()
			if stopped {
				t.Fatal("mc admin trace ended early")
			}
		}
		t.Fatalf("mc admin trace did not show the marker %s within 30s", marker)
		return 0
	}
	start := waitFor("vx-trace-start-" + randomName())
	f()
	end := waitFor("vx-trace-end-" + randomName())
	mu.Lock()
	defer mu.Unlock()
	for _, r := range records[start+1 : end] {
		if strings.Contains(r.Path, "vx-trace-") || !(strings.HasPrefix(r.API, "s3.") || strings.HasPrefix(r.API, "admin.")) {
			continue
		}
		calls++
		if !readOnlyCall(r.API) {
			mutations = append(mutations, r.API+" "+r.Path)
		}
	}
	return mutations, calls
}

type traceRecord struct {
	API  string `json:"api"`
	Path string `json:"path"`
}

// readOnlyCall: S3 and admin API names that only read.
func readOnlyCall(api string) bool {
	name := api[strings.Index(api, ".")+1:]
	for _, p := range []string{"Get", "List", "Head", "Info", "Stat", "Account", "Server", "Trace", "Health", "DataUsage", "Storage"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func randomName() string { return fmt.Sprintf("%x", time.Now().UnixNano()) }

// checkNoCredentialsInSystemTemp: no file this run wrote into the system's
// temporary directory (outside the harness's own directory, removed at the
// end) holds the control plane's address or the MinIO root password, i.e. a
// kubeconfig or a MinIO configuration.
func (h *harness) checkNoCredentialsInSystemTemp(t *testing.T) {
	tmp := os.TempDir()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	checked := 0
	for _, e := range entries {
		path := filepath.Join(tmp, e.Name())
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.ModTime().Before(h.started) || path == h.dir || info.Size() > 1<<20 {
			continue
		}
		checked++
		b, err := os.ReadFile(path)
		if err != nil {
			continue // another user's file
		}
		if strings.Contains(string(b), h.server) || strings.Contains(string(b), h.minio.RootPassword) {
			left = append(left, path)
		}
	}
	if len(left) > 0 {
		t.Errorf("files with this run's credentials in %s: %s", tmp, strings.Join(left, ", "))
	} else {
		t.Logf("%d files written to %s since the start (by anyone): none holds this run's kubeconfig or MinIO password", checked, tmp)
	}
}
