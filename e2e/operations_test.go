//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/virdx/vxplatform-infra/internal/ghapi/ghapitest"
	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/internal/stackops"
	"github.com/virdx/vxplatform-infra/internal/sweep"
	"github.com/virdx/vxplatform-infra/stacks"
)

// The delivery scripts (scripts/ci) run here exactly as the workflows run them,
// against the stacks the first step deployed: the same Pulumi CLI, file backend,
// PULUMI_HOME and kubeconfig as the harness (localenv.Env.Vars()), the policy
// pack, and a fake GitHub API for the pull request comment and the sweeper.

// opsPreview is the preview environment the scripts create and destroy
// (its volumes are counted in newHarness's localenv.Claims).
const opsPreview = 200

// scriptResult is one run of a CI script.
type scriptResult struct {
	stdout, stderr string
	exit           int
}

func (r scriptResult) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s\n--- stderr\n%s", r.exit, r.stdout, lastLines(r.stderr, 60))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runScript runs scripts/ci/<script> with the harness's Pulumi environment plus
// extra, and returns what it printed and its exit code.
func (h *harness) runScript(t *testing.T, extra map[string]string, script string, args ...string) scriptResult {
	t.Helper()
	repo, err := localenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(repo, "scripts", "ci", script)}, args...)...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(),
		"PULUMI="+h.env.Tools.Pulumi,
		"VX_POLICY_PACK="+h.env.Tools.PolicyPack,
		"VX_WORKDIR="+filepath.Join(h.env.Dir, "work"),
		"VX_BIN="+filepath.Join(h.dir, "bin"),
	)
	for k, v := range h.env.Vars() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range extra {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	res := scriptResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("scripts/ci/%s %v: %v", script, args, err)
	}
	fmt.Fprintf(h.log, "\n### scripts/ci/%s %s (%s)\n%s\n%s\n", script, strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond), res.stdout, res.stderr)
	t.Logf("scripts/ci/%s %s: exit %d after %s", script, strings.Join(args, " "), res.exit, time.Since(start).Round(100*time.Millisecond))
	return res
}

// configEnv is a stack config as the workflows pass it: VX_CONFIG_<key>.
func configEnv(cfg stacks.Config) map[string]string {
	env := map[string]string{}
	for k, v := range cfg {
		env["VX_CONFIG_"+k] = v
	}
	return env
}

// fakeGitHub is the GitHub API the scripts talk to, with the pull requests'
// states; opsPreview is open.
func fakeGitHub(t *testing.T, states map[int]string) (*ghapitest.Fake, map[string]string) {
	f := ghapitest.New(t, "virdx/vxplatform-infra", "e2e-token")
	for n, s := range states {
		f.SetState(n, s)
	}
	return f, map[string]string{"GITHUB_API_URL": f.Server.URL, "GITHUB_REPOSITORY": f.Repo, "GITHUB_TOKEN": f.Token}
}

// checkPreviewEnvironmentScript: the pull request job's script installs the
// pinned plugins (all present: nothing is downloaded), creates pr-200 with the
// config the job's environment supplies, and comments its outputs.
func (h *harness) checkPreviewEnvironmentScript(ctx context.Context, t *testing.T) {
	stack := fmt.Sprintf("pr-%d", opsPreview)
	if r := h.runScript(t, nil, "install-plugins.sh"); r.exit != 0 {
		t.Fatalf("install-plugins.sh: the pinned plugins are not the ones installed: %s", r)
	}
	gh, ghEnv := fakeGitHub(t, map[int]string{opsPreview: "open"})
	// Ingress off: the local plane has no ingress controller to give one an
	// address (the comment's URL line is tested in internal/stackops).
	cfg := localenv.Config(stack)
	env := configEnv(cfg)
	for k, v := range ghEnv {
		env[k] = v
	}
	r := h.runScript(t, env, "preview-environment.sh", fmt.Sprint(opsPreview))
	if r.exit != 0 {
		t.Fatalf("preview-environment.sh %d: %s", opsPreview, r)
	}
	loaded, err := stacks.Load(stack, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.deploymentsAvailable(ctx, loaded.Namespace, loaded.Instance(), time.Minute); err != nil {
		t.Error(err)
	}
	comments := gh.Comments(opsPreview)
	if len(comments) != 1 {
		t.Fatalf("pull request #%d has %d comments, want one from the preview job: %q", opsPreview, len(comments), comments)
	}
	if strings.Contains(comments[0], "Preview URL") {
		t.Errorf("the comment names a URL, but the preview has no ingress:\n%s", comments[0])
	}
	for _, want := range []string{stackops.Marker(stack), "| `namespace` | `" + loaded.Namespace + "` |",
		"| `frontendService` | `" + loaded.ResourceName("frontend") + "` |"} {
		if !strings.Contains(comments[0], want) {
			t.Errorf("the comment lacks %q:\n%s", want, comments[0])
		}
	}
	// A second push updates the same comment.
	if r := h.runScript(t, env, "preview-environment.sh", fmt.Sprint(opsPreview)); r.exit != 0 {
		t.Fatalf("second preview-environment.sh: %s", r)
	}
	if n := len(gh.Comments(opsPreview)); n != 1 {
		t.Errorf("after a second run pull request #%d has %d comments, want the one updated", opsPreview, n)
	}
}

// checkSweepAndDestroyScripts: the sweeper (dry run, on the real backend's
// stack list) names exactly the previews of closed pull requests and destroys
// nothing; the destroy script then removes pr-200's objects and its stack, and
// nothing of another preview or the shared namespace.
func (h *harness) checkSweepAndDestroyScripts(ctx context.Context, t *testing.T) {
	stack := fmt.Sprintf("pr-%d", opsPreview)
	// pr-124's pull request is open; every other preview's is closed.
	const openPR = 124
	_, ghEnv := fakeGitHub(t, map[int]string{123: "closed", openPR: "open", opsPreview: "closed"})
	stacksBefore := h.stackNames(t)
	if !contains(stacksBefore, stack) {
		t.Fatalf("stack %s is not in the backend (%v): the preview-environment step did not create it", stack, stacksBefore)
	}
	r := h.runScript(t, ghEnv, "sweep-previews.sh", "run", "-dry-run")
	if r.exit != 0 {
		t.Fatalf("sweep-previews.sh run -dry-run: %s", r)
	}
	for _, name := range stacksBefore {
		id, err := stacks.ParseStackName(name)
		if err != nil || id.Kind != stacks.KindPreview {
			continue
		}
		line := fmt.Sprintf("`%s` | #%d | would destroy", name, id.PRNumber)
		if named := strings.Contains(r.stderr, line); named != (id.PRNumber != openPR) {
			t.Errorf("the sweep summary names %q: %v, want %v (pull request open: %v):\n%s", line, named, !named, id.PRNumber == openPR, r.stderr)
		}
	}
	if after := h.stackNames(t); strings.Join(after, ",") != strings.Join(stacksBefore, ",") {
		t.Errorf("a dry run changed the stacks: %v, before %v", after, stacksBefore)
	}

	const ns = "data-platform-previews"
	before, err := h.snapshot(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.runScript(t, nil, "destroy-preview.sh", fmt.Sprint(opsPreview)); r.exit != 0 {
		t.Fatalf("destroy-preview.sh %d: %s", opsPreview, r)
	}
	var left []string
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := poll(waitCtx, time.Second, func() (bool, error) {
		var err error
		left, err = h.objectsOf(waitCtx, ns, stack)
		return len(left) == 0, err
	}); err != nil {
		t.Errorf("objects of %s still in %s after destroy-preview.sh: %v (%v)", stack, ns, left, err)
	}
	after, err := h.snapshot(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	for key, id := range before {
		if belongsTo(key, id.Labels, stack) {
			continue
		}
		if a, ok := after[key]; !ok || a.UID != id.UID || a.Spec != id.Spec {
			t.Errorf("destroy-preview.sh %d touched %s, which is not %s's", opsPreview, key, stack)
		}
	}
	var want []string
	for _, name := range stacksBefore {
		if name != stack {
			want = append(want, name)
		}
	}
	if names := h.stackNames(t); strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("stacks after destroy-preview.sh: %v; want %v (only %s removed)", names, want, stack)
	}
	if _, err := os.Stat(filepath.Join(h.env.Dir, "work", "Pulumi."+stack+".yaml")); !os.IsNotExist(err) {
		t.Errorf("Pulumi.%s.yaml still exists after the stack was removed (%v)", stack, err)
	}
}

// stackNames lists the backend's stacks as the sweeper reads them.
func (h *harness) stackNames(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command(h.env.Tools.Pulumi, "stack", "ls", "--json")
	cmd.Dir = filepath.Join(h.env.Dir, "work")
	cmd.Env = os.Environ()
	for k, v := range h.env.Vars() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pulumi stack ls --json: %v", err)
	}
	list, err := sweep.ParseStackList(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkRestoreStagingScript: the restore job's script runs the suspended
// CronJob once as a Job owned by it, waits for it and reports how it ended.
func (h *harness) checkRestoreStagingScript(ctx context.Context, t *testing.T) {
	const ns, cronJob = "data-platform-staging", "restore-from-production"
	cj, err := h.cs.BatchV1().CronJobs(ns).Get(ctx, cronJob, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the restore CronJob: %v", err)
	}
	// Earlier steps may have run the CronJob already (the joints' staging
	// restore): the script's run is the one Job of it that is new.
	before, err := h.cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	earlier := map[string]bool{}
	for _, j := range before.Items {
		earlier[j.Name] = true
	}
	r := h.runScript(t, map[string]string{"VX_KUBE_CONTEXT": localenv.KubeContext, "VX_RESTORE_TIMEOUT": "3m"}, "restore-staging.sh")
	if r.exit != 0 {
		t.Fatalf("restore-staging.sh: %s", r)
	}
	jobs, err := h.cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var run *batchv1.Job
	for i, j := range jobs.Items {
		if ownedBy(j.OwnerReferences, cj.UID) && !earlier[j.Name] {
			if run != nil {
				t.Fatalf("more than one new Job of CronJob %s: %s, %s", cronJob, run.Name, j.Name)
			}
			run = &jobs.Items[i]
		}
	}
	if run == nil {
		t.Fatalf("no Job owned by CronJob %s/%s after restore-staging.sh", ns, cronJob)
	}
	if !jobComplete(run) {
		t.Errorf("Job %s is not Complete: %+v", run.Name, run.Status.Conditions)
	}
	if want := "Job " + ns + "/" + run.Name + " succeeded"; !strings.Contains(r.stdout, want) {
		t.Errorf("restore-staging.sh did not report %q:\n%s", want, r)
	}
	if run.Spec.Template.Spec.Containers[0].Image != cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image {
		t.Errorf("the Job runs %s, the CronJob's template %s", run.Spec.Template.Spec.Containers[0].Image, cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image)
	}
	// A restore is in staging's Pulumi state as nothing: staging has not drifted.
	requireNoChanges(t, "staging", h.preview(t, "staging", localenv.Config("staging")))
}

func ownedBy(refs []metav1.OwnerReference, uid types.UID) bool {
	for _, o := range refs {
		if o.UID == uid {
			return true
		}
	}
	return false
}

func jobComplete(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// checkDriftScript: the drift job's script passes production as deployed, fails
// with exit 2 naming the resource after an edit behind Pulumi's back (the
// default-deny policy no longer denies ingress), and passes again once the edit
// is undone.
func (h *harness) checkDriftScript(ctx context.Context, t *testing.T) {
	const ns, policy = "data-platform-production", "default-deny"
	// The drift job runs on a fresh checkout, which holds none of the config the
	// deploy job set (image tags, secrets): the check must use the last update's.
	stackConfig := filepath.Join(h.env.Dir, "work", "Pulumi.production.yaml")
	if err := os.Remove(stackConfig); err != nil {
		t.Fatalf("the earlier jobs' stack config: %v", err)
	}
	if r := h.runScript(t, nil, "drift.sh", "production"); r.exit != 0 {
		t.Fatalf("drift.sh production on the stack as deployed, from a checkout without its config: %s", r)
	}
	if refreshed, err := os.ReadFile(stackConfig); err != nil || !strings.Contains(string(refreshed), "data-platform:frontendTag") {
		t.Errorf("drift.sh did not take the config of production's last update (%v):\n%s", err, refreshed)
	}
	edit := func(policyTypes string) {
		t.Helper()
		patch := []byte(`{"spec":{"policyTypes":` + policyTypes + `}}`)
		if _, err := h.cs.NetworkingV1().NetworkPolicies(ns).Patch(ctx, policy, types.MergePatchType, patch,
			metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatalf("editing NetworkPolicy %s/%s: %v", ns, policy, err)
		}
	}
	edit(`["Egress"]`)
	r := h.runScript(t, nil, "drift.sh", "production")
	if r.exit != 2 {
		t.Fatalf("drift.sh production after NetworkPolicy %s/%s was edited by hand: want exit 2 (drift), got %s", ns, policy, r)
	}
	if !regexp.MustCompile(`(?m)^  update kubernetes:networking.k8s.io/v1:NetworkPolicy \S*default-deny\b`).MatchString(r.stderr) {
		t.Errorf("drift.sh does not name the drifted NetworkPolicy:\n%s", r)
	}
	if !strings.Contains(r.stdout, "kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		t.Errorf("the drift report (job summary) does not list the NetworkPolicy:\n%s", r.stdout)
	}
	t.Logf("drift reported:\n%s", lastLines(r.stderr, 6))
	edit(`["Ingress","Egress"]`)
	if r := h.runScript(t, nil, "drift.sh", "production"); r.exit != 0 {
		t.Fatalf("drift.sh production after the edit was undone: %s", r)
	}
}

// checkReadOnlyPreview: the pull request job previews production with the
// identity of production-readonly (get, list and watch only): the preview
// succeeds and proposes nothing, and the same identity cannot deploy.
func (h *harness) checkReadOnlyPreview(ctx context.Context, t *testing.T, cfg stacks.Config) {
	kubeconfig := h.readOnlyKubeconfig(ctx, t)
	ro := map[string]string{"KUBECONFIG": kubeconfig}
	r := h.runScript(t, ro, "preview.sh", "production")
	if r.exit != 0 {
		t.Fatalf("preview.sh production with a read-only identity: %s", r)
	}
	// The Kubernetes provider keeps the kubeconfig it ran with in its state: the
	// one change a preview with another identity shows is that, and nothing in
	// the cluster.
	const onlyChange = "1 resource change(s):"
	const providerLine = "| update | `pulumi:providers:kubernetes` | `data-platform-kubernetes` | kubeconfig |"
	if !strings.Contains(r.stdout, onlyChange) || !strings.Contains(r.stdout, providerLine) {
		t.Errorf("the read-only preview of production proposes more than the provider's own identity (%q):\n%s", providerLine, r.stdout)
	}
	// The same identity cannot change anything: an up with a changed tag is refused.
	ro["VX_CONFIG_apiTag"] = "v9.9.9"
	r = h.runScript(t, ro, "deploy.sh", "production")
	if r.exit == 0 || !strings.Contains(r.stderr+r.stdout, "forbidden") {
		t.Errorf("deploy.sh production with the read-only identity: want it refused (forbidden), got %s", r)
	}
	// The refused up still recorded the read-only kubeconfig as the provider's
	// (the Kubernetes provider keeps the kubeconfig it ran with in its state, and
	// a refresh uses it): an up with the deploy identity and the harness's config
	// puts production back.
	h.up(t, "production", cfg)
}

// readOnlyKubeconfig makes a ServiceAccount that may only get, list and watch
// the kinds the platform creates, and a kubeconfig (context vx-local, as the
// stacks' kubeContext) that authenticates as it with a short-lived token.
func (h *harness) readOnlyKubeconfig(ctx context.Context, t *testing.T) string {
	t.Helper()
	const name, ns = "vx-ci-readonly", "kube-system"
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"", "apps", "batch", "networking.k8s.io", "policy"},
			Resources: []string{"*"},
			Verbs:     []string{"get", "list", "watch"},
		}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}},
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if _, err := h.cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = h.cs.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = h.cs.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
		_ = h.cs.CoreV1().ServiceAccounts(ns).Delete(ctx, name, metav1.DeleteOptions{})
	})
	expiry := int64(3600)
	tok, err := h.cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := clientcmd.LoadFromFile(h.env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cluster := admin.Clusters[admin.Contexts[localenv.KubeContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["vx-local"] = cluster
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts[localenv.KubeContext] = &clientcmdapi.Context{Cluster: "vx-local", AuthInfo: name}
	cfg.CurrentContext = localenv.KubeContext
	path := filepath.Join(h.dir, "readonly.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
