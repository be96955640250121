//go:build e2e

package e2e

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/internal/programtest"
	"github.com/virdx/vxplatform-infra/program"
	"github.com/virdx/vxplatform-infra/stacks"
)

// opTimeout bounds one Pulumi operation; the provider's own awaits time out after
// 10 minutes, so a hang shows up as the provider's message, not ours.
const opTimeout = 12 * time.Minute

// harness is one Pulumi Env plus clients of the local control plane.
type harness struct {
	tb     testing.TB
	env    *localenv.Env
	cs     *kubernetes.Clientset
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	dir    string
	log    *os.File
	// started and server are what a leftover temporary file of this run would
	// show: a time after the start, the control plane's address.
	started time.Time
	server  string
	// The local test servers (scripts/test-servers.sh): the MinIO the engine
	// configures through the minio test double, and PostgreSQL's programs.
	minio localenv.MinIO
	// minioRoots are exactly minio's CA: the roots of the harness's S3 clients.
	minioRoots *x509.CertPool
	pgBin      string
	// joints is the state of the joints steps (joints_test.go).
	joints *joints
}

// newHarness fails (never skips) when a tool or the control plane is missing,
// naming the command that provides it.
func newHarness(tb testing.TB) *harness {
	tb.Helper()
	repo, err := localenv.RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	tools, err := localenv.FindTools(repo, true)
	if err != nil {
		tb.Fatalf("%v\n(scripts/test.sh builds all of them in its e2e stage)", err)
	}
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		tb.Fatal("KUBECONFIG is not set: start the local control plane with  export KUBECONFIG=$(scripts/control-plane.sh start)")
	}
	cfg, err := localenv.RestConfig(kubeconfig)
	if err != nil {
		tb.Fatal(err)
	}
	// The harness deletes namespaces when it is done: only ever on a loopback server.
	if u, err := url.Parse(cfg.Host); err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		tb.Fatalf("KUBECONFIG=%s points at %s: the e2e test only runs against the local control plane on 127.0.0.1", kubeconfig, cfg.Host)
	}
	h := &harness{tb: tb, started: time.Now(), server: cfg.Host}
	servers, err := localenv.SharedServers()
	if err != nil {
		tb.Fatal(err)
	}
	h.minio, h.pgBin = *servers.MinIO, servers.Postgres.BinDir
	if h.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		tb.Fatal(err)
	}
	if h.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		tb.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(h.cs.Discovery())
	if err != nil {
		tb.Fatalf("the control plane at %s does not answer (%v): is it running? scripts/control-plane.sh status", cfg.Host, err)
	}
	h.mapper = restmapper.NewDiscoveryRESTMapper(groups)
	h.requireEmptyCluster()
	h.requireVerifiedTLS()
	h.requireEmptyMinIO()
	claims, err := localenv.Claims(append(deployOrder, "pr-124", "pr-200")...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := localenv.CheckVolumes(context.Background(), h.cs, claims); err != nil {
		tb.Fatal(err)
	}

	if h.dir, err = os.MkdirTemp("", "vx-e2e-"); err != nil {
		tb.Fatal(err)
	}
	// The databases the job runner starts run as the postgres user, which must
	// be able to reach their directories under this one (nothing else is
	// readable: the mode only allows passing through).
	if err := os.Chmod(h.dir, 0o711); err != nil {
		tb.Fatal(err)
	}
	if h.log, err = os.Create(filepath.Join(h.dir, "engine.log")); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if h.env, err = localenv.New(ctx, filepath.Join(h.dir, "pulumi"), tools, kubeconfig); err != nil {
		tb.Fatal(err)
	}
	h.env.Log = h.log
	// The engine and the minio test double trust the central MinIO's CA as
	// their system roots: the program names none.
	h.env.TrustedCAFile = h.minio.CAFile
	tb.Logf("engine output: %s", h.log.Name())
	tb.Cleanup(h.cleanup)
	return h
}

// platformNamespaces are the namespaces the stacks create.
var platformNamespaces = []string{"data-platform-production", "data-platform-staging", "data-platform-public", "data-platform-previews"}

// requireEmptyCluster: objects left by another run would make creates fail with
// "already exists", far from the cause.
func (h *harness) requireEmptyCluster() {
	for _, ns := range platformNamespaces {
		_, err := h.cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		if err == nil {
			h.tb.Fatalf("namespace %s already exists (left by scripts/deploy-local.sh or an earlier run kept with VX_E2E_KEEP=1): "+
				"use a fresh control plane: scripts/control-plane.sh stop && scripts/control-plane.sh start", ns)
		}
		if !apierrors.IsNotFound(err) {
			h.tb.Fatalf("get namespace %s: %v", ns, err)
		}
	}
}

// cleanup removes what the run deployed (namespaces, so protected resources too)
// and makes their volumes reusable; with VX_E2E_KEEP=1 or after a failure it
// keeps the engine log and state directory for inspection.
func (h *harness) cleanup() {
	h.log.Close()
	h.stopDatabases()
	if os.Getenv("VX_E2E_KEEP") == "1" {
		h.tb.Logf("VX_E2E_KEEP=1: kept the deployed namespaces and %s", h.dir)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, ns := range platformNamespaces {
		if err := h.cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			h.tb.Logf("cleanup: delete namespace %s: %v", ns, err)
		}
	}
	for _, ns := range platformNamespaces {
		if err := poll(ctx, time.Second, func() (bool, error) {
			_, err := h.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		}); err != nil {
			h.tb.Logf("cleanup: namespace %s still there: %v", ns, err)
		}
	}
	if _, err := localenv.RecycleVolumes(ctx, h.cs); err != nil {
		h.tb.Logf("cleanup: %v", err)
	}
	// Protected buckets outlive their stacks: the run removes what it made.
	if err := h.removePlatformFromMinIO(ctx); err != nil {
		h.tb.Logf("cleanup: %v", err)
	}
	if h.tb.Failed() {
		h.tb.Logf("kept %s (engine.log, Pulumi state) for inspection", h.dir)
		return
	}
	os.RemoveAll(h.dir)
}

// stack selects a stack running prog with cfg (program.Run when prog is nil).
func (h *harness) stack(tb testing.TB, name string, cfg stacks.Config, prog pulumi.RunFunc) *localenv.Stack {
	tb.Helper()
	if prog == nil {
		prog = program.Run
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := h.env.Stack(ctx, name, prog, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// up deploys a stack with cfg and fails on any error or mandatory policy violation.
func (h *harness) up(tb testing.TB, name string, cfg stacks.Config) localenv.Outcome {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	out, err := h.stack(tb, name, cfg, nil).Up(ctx)
	if err != nil {
		tb.Fatalf("%v\n(engine output: %s)", err, h.log.Name())
	}
	requireNoMandatoryViolations(tb, name, out)
	tb.Logf("pulumi up %s: %d resources, %d changed, %s", name, out.Resources(), len(out.Changed()), out.Duration.Round(100*time.Millisecond))
	return out
}

// preview previews a stack with cfg and fails on any error or mandatory violation.
func (h *harness) preview(tb testing.TB, name string, cfg stacks.Config) localenv.Outcome {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	out, err := h.stack(tb, name, cfg, nil).Preview(ctx)
	if err != nil {
		tb.Fatalf("%v\n(engine output: %s)", err, h.log.Name())
	}
	requireNoMandatoryViolations(tb, name, out)
	return out
}

// destroy removes a stack's resources and fails on any error.
func (h *harness) destroy(tb testing.TB, name string, cfg stacks.Config) localenv.Outcome {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	out, err := h.stack(tb, name, cfg, nil).Destroy(ctx)
	if err != nil {
		tb.Fatalf("%v\n(engine output: %s)", err, h.log.Name())
	}
	tb.Logf("pulumi destroy %s: %d resources, %s", name, out.Resources(), out.Duration.Round(100*time.Millisecond))
	return out
}

func requireNoMandatoryViolations(tb testing.TB, stack string, out localenv.Outcome) {
	tb.Helper()
	var msgs []string
	for _, v := range out.Violations {
		if v.Level == "mandatory" {
			msgs = append(msgs, fmt.Sprintf("%s/%s on %s: %s", v.Pack, v.Policy, v.URN, v.Message))
		}
	}
	if len(msgs) > 0 {
		tb.Fatalf("stack %s: the policy pack reported mandatory violations:\n  %s", stack, strings.Join(msgs, "\n  "))
	}
}

// poll calls f every interval until it returns true, an error, or ctx ends.
func poll(ctx context.Context, interval time.Duration, f func() (bool, error)) error {
	for {
		done, err := f()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// namespaceActive reports whether a namespace exists and is Active.
func (h *harness) namespaceActive(ctx context.Context, name string) (bool, error) {
	ns, err := h.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil && ns.Status.Phase == corev1.NamespaceActive, err
}

// underMocks is cfg for the program under mocks (internal/programtest), whose
// stand-in kubeconfig has contexts of its own: the context changes which cluster
// the provider talks to, never what the program declares or outputs.
func underMocks(cfg stacks.Config) stacks.Config {
	return programtest.With(cfg, "kubeContext", programtest.KubeContexts[0])
}
