package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/program"
	"github.com/virdx/vxplatform-infra/stacks"
)

// realSteps builds with the project's scripts, starts the plane with
// scripts/control-plane.sh and deploys with localenv.
type realSteps struct {
	repo   string
	stdout io.Writer
	stderr io.Writer
	log    *progress
}

func newRealSteps(repo string, stdout, stderr io.Writer) *realSteps {
	return &realSteps{repo: repo, stdout: stdout, stderr: stderr, log: &progress{w: stderr, every: 10 * time.Second}}
}

// command runs a command in the clone; its stderr (the scripts' log) goes to ours,
// its stdout is returned.
func (r *realSteps) command(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = r.repo
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, r.stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return strings.TrimSpace(out.String()), nil
}

func (r *realSteps) build(ctx context.Context) error {
	builds := []struct {
		task task
		argv []string
	}{
		{task{what: "building the pinned tools", note: "pulumi, kubernetes-provider, control-plane: about 40 minutes on a cold machine, cached in $VX_CACHE"},
			[]string{"scripts/tools.sh", "pulumi", "kubernetes-provider", "control-plane", "minio", "mc"}},
		{task{what: "building the stand-in providers", note: "a test double for random, docker"}, localenv.StandinBuildCommand(r.repo)},
		{task{what: "building the minio test double", note: "applies the central buckets and identities to the local test MinIO"}, localenv.MinioTestBuildCommand(r.repo)},
		{task{what: "building the policy pack"}, []string{"scripts/build-policy-pack.sh"}},
	}
	for _, b := range builds {
		if err := r.log.step(b.task, func() error {
			_, err := r.command(ctx, b.argv...)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

func (r *realSteps) startPlane(ctx context.Context) (string, error) {
	var kubeconfig string
	err := r.log.step(task{what: "starting the control plane"}, func() error {
		var err error
		kubeconfig, err = r.command(ctx, "scripts/control-plane.sh", "start")
		return err
	})
	return kubeconfig, err
}

func (r *realSteps) apply(ctx context.Context, j job) error {
	cs, err := r.client(j.kubeconfig)
	if err != nil {
		return err
	}
	// The inline program runs in this process, and stacks.Load checks the stack's
	// kubeContext against the kubeconfig KUBECONFIG names: the plane's.
	if err := os.Setenv("KUBECONFIG", j.kubeconfig); err != nil {
		return err
	}
	if !j.destroy {
		if err := checkBaseOnPlane(ctx, cs, j.plan); err != nil {
			return err
		}
	}
	if err := r.startObjectStore(ctx, j); err != nil {
		return err
	}
	tools, err := localenv.FindTools(r.repo, true)
	if err != nil {
		return err
	}
	var env *localenv.Env
	if err := r.log.step(task{what: "preparing the Pulumi home", note: "installing the plugins in " + j.stateDir}, func() error {
		env, err = localenv.New(ctx, j.stateDir, tools, j.kubeconfig)
		return err
	}); err != nil {
		return err
	}
	// The MinIO this job started speaks plain HTTP unless VX_MINIO_TLS=1 is set
	// (previews and pr-1 do not require TLS); with TLS, the engine and the minio
	// test double trust its CA as their system roots, as the e2e's do.
	store, err := localenv.MinIOFromEnv()
	if err != nil {
		return err
	}
	env.TrustedCAFile = store.CAFile
	logPath := filepath.Join(j.stateDir, "engine.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	engine := &lastLine{w: logFile}
	env.Log = engine
	r.log.logf("the engine's own output goes to %s", logPath)

	if j.destroy {
		if err := r.destroy(ctx, env, engine, j); err != nil {
			return err
		}
		if _, err := r.recycle(ctx, cs); err != nil {
			return err
		}
		printWhenDone(r.stdout, j, nil)
		return nil
	}
	deployed, err := r.deploy(ctx, env, engine, cs, j)
	if err != nil {
		return fmt.Errorf("%w\n(engine output: %s)", err, logPath)
	}
	if err := describe(ctx, r.stdout, cs, deployed); err != nil {
		return err
	}
	printWhenDone(r.stdout, j, deployed)
	return nil
}

// client connects to the local plane, and only to it: the stand-ins fake the
// central MinIO and the registry.
func (r *realSteps) client(kubeconfig string) (kubernetes.Interface, error) {
	restConfig, err := localenv.RestConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(restConfig.Host); err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return nil, fmt.Errorf("%s points at %s: deploy-local only deploys to the local control plane on 127.0.0.1", kubeconfig, restConfig.Host)
	}
	cs, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		return nil, fmt.Errorf("the control plane does not answer (%v): scripts/control-plane.sh status", err)
	}
	return cs, nil
}

// checkBaseOnPlane: a pr-<N> deployed without previews in the plan needs the
// namespace previews made on this plane (the state may remember a plane that was
// since started fresh).
func checkBaseOnPlane(ctx context.Context, cs kubernetes.Interface, plan []string) error {
	for _, name := range plan {
		if name == previewsBase {
			return nil
		}
	}
	for _, name := range plan {
		if !isPreview(name) {
			continue
		}
		env, err := stacks.Load(name, localenv.Config(name))
		if err != nil {
			return err
		}
		_, err = cs.CoreV1().Namespaces().Get(ctx, env.Namespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: the state records the previews stack as deployed, but its namespace %s is not on this control plane "+
				"(it was started fresh since): deploy both with  -stacks previews,%s", errRefused, env.Namespace, name)
		}
		return err
	}
	return nil
}

func (r *realSteps) recycle(ctx context.Context, cs kubernetes.Interface) (int, error) {
	n, err := localenv.RecycleVolumes(ctx, cs)
	if n > 0 {
		r.log.logf("made %d Released volume(s) Available again", n)
	}
	return n, err
}

func (r *realSteps) destroy(ctx context.Context, env *localenv.Env, engine *lastLine, j job) error {
	for _, name := range j.plan {
		if j.recorded[name] == 0 {
			r.log.logf("%s: nothing deployed, skipped", name)
			continue
		}
		if err := r.log.step(task{what: "pulumi destroy " + name, detail: engine.Last}, func() error {
			st, err := env.Stack(ctx, name, program.Run, localenv.Config(name))
			if err != nil {
				return err
			}
			out, err := st.Destroy(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "destroyed %s: %d resources\n", name, out.Resources())
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// deployedStack is what the report needs of one deployed stack.
type deployedStack struct {
	name    string
	env     stacks.Environment
	outputs map[string]any
}

func (r *realSteps) deploy(ctx context.Context, env *localenv.Env, engine *lastLine, cs kubernetes.Interface, j job) ([]deployedStack, error) {
	if _, err := r.recycle(ctx, cs); err != nil {
		return nil, err
	}
	claims, err := localenv.Claims(j.plan...)
	if err != nil {
		return nil, err
	}
	if err := localenv.CheckVolumes(ctx, cs, claims); err != nil {
		return nil, err
	}
	if env.Tools.PolicyPack != "" {
		r.log.logf("policy pack: %s", env.Tools.PolicyPack)
	}
	var deployed []deployedStack
	for _, name := range j.plan {
		d, err := r.deployOne(ctx, env, engine, name)
		if err != nil {
			return nil, err
		}
		deployed = append(deployed, d)
	}
	return deployed, nil
}

func (r *realSteps) deployOne(ctx context.Context, env *localenv.Env, engine *lastLine, name string) (deployedStack, error) {
	cfg := localenv.Config(name)
	model, err := stacks.Load(name, cfg)
	if err != nil {
		return deployedStack{}, err
	}
	d := deployedStack{name: name, env: model, outputs: map[string]any{}}
	var out localenv.Outcome
	if err := r.log.step(task{what: "pulumi up " + name, note: "refresh first", detail: engine.Last}, func() error {
		st, err := env.Stack(ctx, name, program.Run, cfg)
		if err != nil {
			return err
		}
		out, err = st.Up(ctx, optup.Refresh())
		return err
	}); err != nil {
		return d, err
	}
	var mandatory []string
	advisory := map[string]int{}
	for _, v := range out.Violations {
		if v.Level == "mandatory" {
			fmt.Fprintf(r.stdout, "policy %s [mandatory] %s: %s\n", v.Policy, v.URN, v.Message)
			mandatory = append(mandatory, v.Policy)
		} else {
			advisory[v.Policy]++
		}
	}
	if len(mandatory) > 0 {
		return d, errors.New("mandatory policy violations: " + strings.Join(mandatory, ", "))
	}
	fmt.Fprintf(r.stdout, "\n== %s: %d resources, %d changed\n", name, out.Resources(), len(out.Changed()))
	for policy, n := range advisory {
		fmt.Fprintf(r.stdout, "policy pack: %d advisory finding(s) of %s (details in the engine output)\n", n, policy)
	}
	for k, v := range out.Outputs {
		if v.Secret {
			d.outputs[k] = secretValue{v.Value}
		} else {
			d.outputs[k] = v.Value
		}
	}
	printOutputs(r.stdout, d.outputs)
	return d, nil
}

// startObjectStore starts the local test MinIO (scripts/test-servers.sh, its state
// next to the plane's) that the minio test double applies the stacks' central
// buckets and identities to, and points localenv.Config at it through the
// variables the script prints. A no-op when it already runs.
func (r *realSteps) startObjectStore(ctx context.Context, j job) error {
	run := os.Getenv("VX_TEST_RUN")
	if run == "" {
		run = filepath.Join(j.plane.run, "test-servers")
		if err := os.Setenv("VX_TEST_RUN", run); err != nil {
			return err
		}
	}
	return r.log.step(task{what: "starting the local test MinIO", note: "scripts/test-servers.sh; stop it with VX_TEST_RUN=" + run + " scripts/test-servers.sh stop"}, func() error {
		out, err := r.command(ctx, "scripts/test-servers.sh", "start", string(localenv.MinIOServer))
		if err != nil {
			return err
		}
		vars, err := localenv.ParseScriptExports([]byte(out))
		if err != nil {
			return fmt.Errorf("scripts/test-servers.sh start: %w", err)
		}
		for name, value := range vars {
			if err := os.Setenv(name, value); err != nil {
				return err
			}
		}
		_, err = localenv.MinIOFromEnv()
		return err
	})
}
