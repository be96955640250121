//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/internal/programtest"
	"github.com/virdx/vxplatform-infra/stacks"
)

// deployOrder: previews owns the namespace every pr-<N> deploys into.
var deployOrder = []string{"production", "staging", "public", "previews", "pr-123"}

// step runs one stage; later stages build on earlier ones, so the first failure
// ends the test.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

func TestEndToEnd(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfgs := map[string]stacks.Config{}
	for _, s := range append(deployOrder, "pr-124") {
		cfgs[s] = localenv.Config(s)
	}

	step(t, "deploy every stack", func(t *testing.T) {
		for _, s := range deployOrder {
			out := h.up(t, s, cfgs[s])
			checkOutputs(t, s, cfgs[s], out.Outputs)
		}
	})

	step(t, "the API server holds every declared object with its declared spec", func(t *testing.T) {
		for _, s := range deployOrder {
			objects, err := declaredObjects(s, cfgs[s])
			if err != nil {
				t.Fatal(err)
			}
			if problems := h.checkDeclared(ctx, objects); len(problems) > 0 {
				t.Errorf("stack %s: %d of %d declared objects differ on the server:\n  %s", s, len(problems), len(objects), strings.Join(problems, "\n  "))
			} else {
				t.Logf("stack %s: all %d declared objects are on the server as declared", s, len(objects))
			}
		}
	})

	step(t, "workloads run: Deployments Available, database ready, jobs in place", func(t *testing.T) {
		for _, s := range deployOrder {
			if s == "previews" {
				continue // the shared namespace only: no workloads
			}
			h.checkWorkloads(ctx, t, s, cfgs[s])
		}
	})

	step(t, "production's and staging's pgBackRest jobs and sidecars, with the certificates the engine wrote, complete mutual TLS, each only with its own", func(t *testing.T) {
		h.checkArchiveLinks(ctx, t, cfgs)
	})

	step(t, "the engine created every bucket and central identity on MinIO, each user with exactly its own policy", func(t *testing.T) {
		h.checkIdentitiesOnMinIO(ctx, t, cfgs)
	})

	step(t, "the job runner starts each environment's database with the credentials of the program's Secret", func(t *testing.T) {
		h.startDatabases(ctx, t, cfgs)
	})

	step(t, "production's backup CronJob writes a backup that its identity can neither read nor delete", func(t *testing.T) {
		h.checkProductionBackup(ctx, t, cfgs)
	})

	step(t, "staging's restore Job, created from the suspended CronJob, replaces staging's database with production's rows", func(t *testing.T) {
		h.checkStagingRestore(ctx, t, cfgs)
	})

	step(t, "a preview's restore Job loads the latest public backup", func(t *testing.T) {
		h.checkPreviewRestore(ctx, t, cfgs)
	})

	step(t, "every cell of the access matrix holds with the keys from the Kubernetes Secrets", func(t *testing.T) {
		h.checkAccessMatrix(ctx, t, cfgs)
	})

	step(t, "a second up of every stack touches nothing in MinIO", func(t *testing.T) {
		h.checkSecondUpTouchesNothing(ctx, t, cfgs)
	})

	step(t, "a second preview of every stack changes nothing", func(t *testing.T) {
		for _, s := range deployOrder {
			requireNoChanges(t, s, h.preview(t, s, cfgs[s]))
		}
	})

	step(t, "a new API image tag changes only the Deployment that runs it", func(t *testing.T) {
		h.checkImageTagChange(ctx, t, cfgs)
	})

	step(t, "destroying pr-123 leaves the previews namespace and pr-124 untouched", func(t *testing.T) {
		h.checkPreviewDestroy(ctx, t, cfgs)
	})

	step(t, "destroying pr-123 removed its central identities from MinIO", func(t *testing.T) {
		h.checkPreviewIdentitiesRemoved(ctx, t, cfgs)
	})

	step(t, "the policy pack blocks a public exposure of production", func(t *testing.T) {
		h.checkExposureBlocked(ctx, t, cfgs["production"])
	})

	step(t, "operations: the preview-environment script deploys pr-200 and comments its outputs", func(t *testing.T) { h.checkPreviewEnvironmentScript(ctx, t) })
	step(t, "operations: the sweeper names previews of closed pull requests, the destroy script removes pr-200", func(t *testing.T) { h.checkSweepAndDestroyScripts(ctx, t) })
	step(t, "operations: the restore-staging script runs the restore Job and reports it", func(t *testing.T) { h.checkRestoreStagingScript(ctx, t) })
	step(t, "operations: a read-only identity previews production and cannot deploy it", func(t *testing.T) { h.checkReadOnlyPreview(ctx, t, cfgs["production"]) })
	step(t, "operations: the drift script reports a change made behind Pulumi's back", func(t *testing.T) { h.checkDriftScript(ctx, t) })

	step(t, "no kubeconfig or MinIO credential of the run is left in the system temp directory", func(t *testing.T) {
		h.checkNoCredentialsInSystemTemp(t)
	})
}

// checkOutputs: the stack outputs of the real run equal those of the program under
// mocks (whose image digests are the stand-in's too).
func checkOutputs(t *testing.T, stack string, cfg stacks.Config, got auto.OutputMap) {
	t.Helper()
	want, err := programtest.StackOutputs(stack, underMocks(cfg))
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("stack %s: output %s missing", stack, k)
			continue
		}
		if !reflect.DeepEqual(normalize(w), normalize(g.Value)) {
			t.Errorf("stack %s: output %s = %v, the program under mocks says %v", stack, k, g.Value, w)
		}
	}
}

func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func requireNoChanges(t *testing.T, stack string, out localenv.Outcome) {
	t.Helper()
	if len(out.Steps) == 0 { // no events would make "no changes" vacuous
		t.Fatalf("preview of %s reported no steps at all: the engine's event stream was not received", stack)
	}
	if changed := out.Changed(); len(changed) > 0 {
		t.Errorf("preview of %s proposes %d changes, want none:\n  %s", stack, len(changed), describeSteps(changed))
	}
}

func describeSteps(steps []localenv.Step) string {
	var lines []string
	for _, s := range steps {
		line := s.Op + " " + s.URN
		if len(s.Diffs) > 0 {
			line += " (" + strings.Join(s.Diffs, ", ") + ")"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n  ")
}

// checkWorkloads: everything that should run, runs (kwok's fake nodes report pods
// Ready), and each environment has exactly its CronJobs and Jobs.
func (h *harness) checkWorkloads(ctx context.Context, t *testing.T, stack string, cfg stacks.Config) {
	t.Helper()
	env, err := stacks.Load(stack, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns, instance := env.Namespace, env.Instance()
	deps, err := h.deploymentsAvailable(ctx, ns, instance, time.Minute)
	if err != nil {
		t.Error(err)
	}
	wantDeps := []string{env.ResourceName("api"), env.ResourceName("frontend")}
	if env.Storage.TargetIsPreviewStore {
		wantDeps = append(wantDeps, env.ResourceName("object-store"))
	}
	var gotDeps []string
	for _, d := range deps {
		gotDeps = append(gotDeps, d.Name)
	}
	requireSameNames(t, stack+" Deployments", wantDeps, gotDeps)

	set, err := h.cs.AppsV1().StatefulSets(ns).Get(ctx, env.ResourceName("postgres"), metav1.GetOptions{})
	if err != nil {
		t.Errorf("stack %s: the database StatefulSet: %v", stack, err)
	} else if set.Status.ReadyReplicas != *set.Spec.Replicas {
		t.Errorf("stack %s: StatefulSet %s/%s has %d of %d replicas ready", stack, ns, set.Name, set.Status.ReadyReplicas, *set.Spec.Replicas)
	}
	claims, err := h.cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + instance})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims.Items {
		if c.Status.Phase != "Bound" {
			t.Errorf("stack %s: PersistentVolumeClaim %s/%s is %s, want Bound", stack, ns, c.Name, c.Status.Phase)
		}
	}

	var wantCrons, wantJobs []string
	if env.Backup.Enabled {
		wantCrons = append(wantCrons, env.ResourceName("backup"))
	}
	if src := env.Backup.RestoreFrom; src != nil && src.OnCreate {
		wantJobs = append(wantJobs, env.ResourceName("restore-from-"+src.Environment))
	} else if src != nil {
		wantCrons = append(wantCrons, env.ResourceName("restore-from-"+src.Environment))
	}
	if env.Backup.PointInTime != nil {
		for _, name := range []string{"pitr-full", "pitr-diff", "pitr-verify", "pitr-check", "pitr-restore"} {
			wantCrons = append(wantCrons, env.ResourceName(name))
		}
	}
	if env.Storage.TargetIsPreviewStore {
		wantJobs = append(wantJobs, env.ResourceName("object-store-init"))
	}
	selector := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + instance}
	crons, err := h.cs.BatchV1().CronJobs(ns).List(ctx, selector)
	if err != nil {
		t.Fatal(err)
	}
	var gotCrons []string
	for _, c := range crons.Items {
		gotCrons = append(gotCrons, c.Name)
		suspended := c.Spec.Suspend != nil && *c.Spec.Suspend
		// Restores run only on demand: their CronJobs are templates.
		if wantSuspended := strings.Contains(c.Name, "restore"); suspended != wantSuspended {
			t.Errorf("stack %s: CronJob %s/%s suspended=%v, want %v", stack, ns, c.Name, suspended, wantSuspended)
		}
	}
	requireSameNames(t, stack+" CronJobs", wantCrons, gotCrons)
	jobs, err := h.cs.BatchV1().Jobs(ns).List(ctx, selector)
	if err != nil {
		t.Fatal(err)
	}
	var gotJobs []string
	for _, j := range jobs.Items {
		gotJobs = append(gotJobs, j.Name)
	}
	requireSameNames(t, stack+" Jobs", wantJobs, gotJobs)
}

func requireSameNames(t *testing.T, what string, want, got []string) {
	t.Helper()
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, ",") != strings.Join(got, ",") {
		t.Errorf("%s: the server has %v, want %v", what, got, want)
	}
}

// fakeDigest is what the docker stand-in resolves a reference to (see
// e2e/standin: the sha256 of the reference), repeated here so that the test states
// the image it expects instead of trusting the code under test.
func fakeDigest(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// checkImageTagChange: production pins images by digest, so a new apiTag resolves
// to a new digest; preview and up must touch the api Deployment and nothing else.
func (h *harness) checkImageTagChange(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	const stack, ns, newTag = "production", "data-platform-production", "v1.4.3"
	if cfgs[stack]["apiTag"] == newTag {
		t.Fatalf("the base config already has apiTag %s", newTag)
	}
	cfg := programtest.With(cfgs[stack], "apiTag", newTag)
	before, err := h.snapshot(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	wantChange := "update " + "kubernetes:apps/v1:Deployment" + " data-platform-api"
	for _, op := range []string{"preview", "up"} {
		var out localenv.Outcome
		if op == "preview" {
			out = h.preview(t, stack, cfg)
		} else {
			out = h.up(t, stack, cfg)
		}
		changed := out.Changed()
		if len(changed) != 1 || changed[0].Op+" "+changed[0].Type+" "+changed[0].Name() != wantChange {
			t.Fatalf("%s of %s with apiTag=%s: want exactly [%s], got:\n  %s", op, stack, newTag, wantChange, describeSteps(changed))
		}
	}
	cfgs[stack] = cfg

	wantImage := "ghcr.io/virdx/vxplatform-api@" + fakeDigest("ghcr.io/virdx/vxplatform-api:"+newTag)
	api, err := h.cs.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := api.Spec.Template.Spec.Containers[0].Image; got != wantImage {
		t.Errorf("Deployment %s/api runs %s, want %s", ns, got, wantImage)
	}
	if _, err := h.deploymentsAvailable(ctx, ns, stack, time.Minute); err != nil {
		t.Error(err)
	}
	after, err := h.snapshot(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	var changedObjects []string
	for key, id := range before {
		if strings.HasPrefix(key, "pods/") || strings.HasPrefix(key, "replicasets/") {
			continue // the rollout replaces the api's pods and adds a ReplicaSet
		}
		if a, ok := after[key]; !ok || a.UID != id.UID || a.Spec != id.Spec {
			changedObjects = append(changedObjects, key)
		}
	}
	sort.Strings(changedObjects)
	if strings.Join(changedObjects, ",") != "deployments/api" {
		t.Errorf("objects changed in %s by the new apiTag: %v, want only [deployments/api]", ns, changedObjects)
	}
}

// checkPreviewDestroy deploys pr-124 next to pr-123, destroys pr-123 and checks
// that exactly pr-123's objects are gone.
func (h *harness) checkPreviewDestroy(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	const ns = "data-platform-previews"
	h.up(t, "pr-124", cfgs["pr-124"])
	if _, err := h.deploymentsAvailable(ctx, ns, "pr-124", time.Minute); err != nil {
		t.Fatal(err)
	}
	before, err := h.snapshot(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	h.destroy(t, "pr-123", cfgs["pr-123"])

	// Pods, ReplicaSets and the database claim go through the garbage collector
	// after Pulumi has deleted their owners.
	var left []string
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := poll(waitCtx, time.Second, func() (bool, error) {
		var err error
		left, err = h.objectsOf(waitCtx, ns, "pr-123")
		return len(left) == 0, err
	}); err != nil {
		t.Errorf("objects of pr-123 still in %s after its destroy: %v (%v)", ns, left, err)
	}
	active, err := h.namespaceActive(ctx, ns)
	if err != nil || !active {
		t.Fatalf("namespace %s is not Active after destroying pr-123 (%v)", ns, err)
	}
	after, err := h.snapshot(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	var touched []string
	kept := 0
	for key, id := range before {
		if belongsTo(key, id.Labels, "pr-123") {
			continue
		}
		kept++
		a, ok := after[key]
		switch {
		case !ok:
			touched = append(touched, key+" (deleted)")
		case a.UID != id.UID:
			touched = append(touched, key+" (replaced)")
		case a.Spec != id.Spec:
			touched = append(touched, key+" (changed)")
		}
	}
	sort.Strings(touched)
	if len(touched) > 0 {
		t.Errorf("destroying pr-123 touched objects that are not its own in %s:\n  %s", ns, strings.Join(touched, "\n  "))
	} else {
		t.Logf("%d objects of the namespace and pr-124 unchanged", kept)
	}
	for _, s := range []string{"previews", "pr-124"} {
		requireNoChanges(t, s, h.preview(t, s, cfgs[s]))
	}
}

// The violation the policy pack must report (policy/service.go).
const (
	exposurePolicy  = "kubernetes-service-no-external-exposure"
	exposureMessage = "spec.type is LoadBalancer"
)

// checkExposureBlocked previews production with one LoadBalancer Service added by
// the test's own program (see exposure_test.go) and expects the pack to block it.
func (h *harness) checkExposureBlocked(ctx context.Context, t *testing.T, cfg stacks.Config) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	out, err := h.stack(t, "production", cfg, withPublicExposure).Preview(ctx)
	if err == nil {
		t.Fatalf("preview of production with a LoadBalancer Service succeeded; the policy pack %s must block it", h.env.Tools.PolicyPack)
	}
	var found []string
	blocked := false
	for _, v := range out.Violations {
		found = append(found, fmt.Sprintf("[%s] %s/%s on %s: %s", v.Level, v.Pack, v.Policy, v.URN, v.Message))
		if v.Policy == exposurePolicy && v.Level == "mandatory" && strings.Contains(v.Message, exposureMessage) &&
			strings.HasSuffix(v.URN, "::"+exposureServiceName) {
			blocked = true
		}
	}
	if !blocked {
		t.Fatalf("preview failed (%v), but without a mandatory %s violation containing %q on %s; violations:\n  %s",
			err, exposurePolicy, exposureMessage, exposureServiceName, strings.Join(found, "\n  "))
	}
	t.Logf("blocked as expected: %s", strings.Join(found, "; "))
	if _, err := h.cs.CoreV1().Services("data-platform-production").Get(ctx, exposureServiceName, metav1.GetOptions{}); err == nil {
		t.Errorf("Service %s exists on the server after a blocked preview", exposureServiceName)
	}
}
