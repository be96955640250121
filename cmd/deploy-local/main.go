// Command deploy-local deploys preview-shaped environments of the data platform into
// the local control plane (scripts/control-plane.sh) with the real program, the real
// Pulumi engine and Kubernetes provider, and prints the stack outputs and what runs.
// Use it through scripts/deploy-local.sh, which builds what is missing and starts
// the control plane first.
//
// The random, minio and docker providers are the stand-ins of e2e/standin (test
// doubles: no central MinIO or registry is contacted). The policy pack runs when
// its binary is built. State lives in -state (default
// $VX_CACHE/run/deploy-local), so a second run is an update; every up refreshes
// first, so a control plane restarted from scratch is simply deployed again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"k8s.io/client-go/kubernetes"

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/program"
	"github.com/virdx/vxplatform-infra/stacks"
)

func main() {
	stackList := flag.String("stacks", "previews,pr-1", "stacks to deploy, in order (previews owns the namespace of every pr-<N>)")
	stateDir := flag.String("state", defaultState(), "Pulumi home and file backend of the local deployments")
	destroy := flag.Bool("destroy", false, "destroy the stacks instead (in reverse order)")
	flag.Parse()
	if err := run(strings.Split(*stackList, ","), *stateDir, *destroy); err != nil {
		fmt.Fprintln(os.Stderr, "deploy-local:", err)
		os.Exit(1)
	}
}

func defaultState() string {
	cache := os.Getenv("VX_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "vxplatform")
	}
	return filepath.Join(cache, "run", "deploy-local")
}

func run(names []string, stateDir string, destroy bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	repo, err := localenv.RepoRoot()
	if err != nil {
		return err
	}
	tools, err := localenv.FindTools(repo, false)
	if err != nil {
		return fmt.Errorf("%w\n(scripts/deploy-local.sh builds them)", err)
	}
	kubeconfig := os.Getenv("KUBECONFIG")
	restConfig, err := localenv.RestConfig(kubeconfig)
	if err != nil {
		return err
	}
	// The stand-ins fake the central MinIO and the registry: never point this at a
	// real cluster.
	if u, err := url.Parse(restConfig.Host); err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return fmt.Errorf("KUBECONFIG=%s points at %s: deploy-local only deploys to the local control plane on 127.0.0.1", kubeconfig, restConfig.Host)
	}
	cs, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		return fmt.Errorf("the control plane does not answer (%v): start it with scripts/control-plane.sh start", err)
	}
	env, err := localenv.New(ctx, stateDir, tools, kubeconfig)
	if err != nil {
		return err
	}
	logPath := filepath.Join(stateDir, "engine.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	env.Log = logFile
	if tools.PolicyPack == "" {
		fmt.Println("policy pack: not built (scripts/build-policy-pack.sh): deploying without it")
	} else {
		fmt.Println("policy pack:", tools.PolicyPack)
	}
	fmt.Println("engine output:", logPath)

	if destroy {
		for i := len(names) - 1; i >= 0; i-- {
			st, err := env.Stack(ctx, names[i], program.Run, localenv.Config(names[i]))
			if err != nil {
				return err
			}
			out, err := st.Destroy(ctx)
			if err != nil {
				return err
			}
			fmt.Printf("destroyed %s: %d resources in %s\n", names[i], out.Resources(), out.Duration.Round(100*time.Millisecond))
		}
		_, err := localenv.RecycleVolumes(ctx, cs)
		return err
	}

	if _, err := localenv.RecycleVolumes(ctx, cs); err != nil {
		return err
	}
	claims, err := localenv.Claims(names...)
	if err != nil {
		return err
	}
	if err := localenv.CheckVolumes(ctx, cs, claims); err != nil {
		return err
	}
	for _, name := range names {
		if err := deploy(ctx, env, name); err != nil {
			return err
		}
	}
	return describe(ctx, names, cs)
}

func deploy(ctx context.Context, env *localenv.Env, name string) error {
	st, err := env.Stack(ctx, name, program.Run, localenv.Config(name))
	if err != nil {
		return err
	}
	fmt.Printf("\n== pulumi up %s (refresh first) ...\n", name)
	out, err := st.Up(ctx, optup.Refresh())
	if err != nil {
		return fmt.Errorf("%w\n(engine output: %s)", err, filepath.Join(env.Dir, "engine.log"))
	}
	var mandatory []string
	advisory := map[string]int{}
	for _, v := range out.Violations {
		if v.Level == "mandatory" {
			fmt.Printf("policy %s [mandatory] %s: %s\n", v.Policy, v.URN, v.Message)
			mandatory = append(mandatory, v.Policy)
		} else {
			advisory[v.Policy]++
		}
	}
	if len(mandatory) > 0 {
		return errors.New("mandatory policy violations: " + strings.Join(mandatory, ", "))
	}
	for policy, n := range advisory {
		fmt.Printf("policy pack: %d advisory finding(s) of %s (details in the engine output)\n", n, policy)
	}
	fmt.Printf("%s: %d resources, %d changed, in %s\n", name, out.Resources(), len(out.Changed()), out.Duration.Round(100*time.Millisecond))
	printOutputs(out.Outputs)
	return nil
}

func printOutputs(outputs auto.OutputMap) {
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println("outputs:")
	for _, k := range keys {
		v := outputs[k]
		if v.Secret {
			fmt.Printf("  %-16s [secret]\n", k)
			continue
		}
		if v.Value == "" {
			fmt.Printf("  %-16s (empty)\n", k)
			continue
		}
		fmt.Printf("  %-16s %v\n", k, v.Value)
	}
}

// describe shows everything in the namespaces the stacks deploy into.
func describe(ctx context.Context, names []string, cs kubernetes.Interface) error {
	seen := map[string]bool{}
	for _, name := range names {
		env, err := stacks.Load(name, localenv.Config(name))
		if err != nil {
			return err
		}
		if seen[env.Namespace] {
			continue
		}
		seen[env.Namespace] = true
		fmt.Printf("\n== running in namespace %s\n", env.Namespace)
		if err := localenv.Describe(ctx, os.Stdout, cs, env.Namespace, ""); err != nil {
			return err
		}
	}
	return nil
}
