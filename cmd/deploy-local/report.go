package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/virdx/vxplatform-infra/internal/localenv"
)

// secretValue is an output the engine marks secret: shown as [secret].
type secretValue struct{ value any }

// meaningful reports whether an output says something for its stack: the program
// exports the same outputs for every stack, and those a stack has no use for are
// empty (the previews stack runs no services and owns no buckets).
func meaningful(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case secretValue:
		return meaningful(v.value)
	case string:
		return v != ""
	case []any:
		return slices.ContainsFunc(v, meaningful)
	case map[string]any:
		for _, e := range v {
			if meaningful(e) {
				return true
			}
		}
		return false
	}
	return true
}

// printOutputs prints the stack's meaningful outputs, sorted by name.
func printOutputs(w io.Writer, outputs map[string]any) {
	var keys []string
	for k, v := range outputs {
		if meaningful(v) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	fmt.Fprintln(w, "outputs:")
	for _, k := range keys {
		fmt.Fprintf(w, "  %-16s %s\n", k, formatOutput(outputs[k]))
	}
}

func formatOutput(v any) string {
	switch v := v.(type) {
	case secretValue:
		return "[secret]"
	case string:
		return v
	}
	b, err := json.Marshal(v) // maps with sorted keys, lists in order
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// describe shows everything in the namespaces the stacks deployed into.
func describe(ctx context.Context, w io.Writer, cs kubernetes.Interface, deployed []deployedStack) error {
	seen := map[string]bool{}
	for _, d := range deployed {
		if seen[d.env.Namespace] {
			continue
		}
		seen[d.env.Namespace] = true
		fmt.Fprintf(w, "\n== running in namespace %s\n", d.env.Namespace)
		if err := localenv.Describe(ctx, w, cs, d.env.Namespace, ""); err != nil {
			return err
		}
	}
	return nil
}

// kubectl133 is the Google Cloud SDK's 1.33 client: on these machines plain
// kubectl is a dispatcher that picks a client too old for the 1.37 server.
const kubectl133 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"

func kubectl() string {
	if _, err := os.Stat(kubectl133); err == nil {
		return kubectl133
	}
	return "kubectl"
}

// envPrefix repeats the variables that select this plane and its tools, so the
// commands printed can be pasted as they are (a running plane keeps its ports).
// VX_CACHE is left out at its default (scripts/lib/common.sh exports it).
func envPrefix() string {
	var vars []string
	home, _ := os.UserHomeDir()
	if c := os.Getenv("VX_CACHE"); c != "" && c != filepath.Join(home, ".cache", "vxplatform") {
		vars = append(vars, "VX_CACHE="+c)
	}
	if r := os.Getenv("VX_RUN"); r != "" {
		vars = append(vars, "VX_RUN="+r)
	}
	if len(vars) == 0 {
		return ""
	}
	return strings.Join(vars, " ") + " "
}

// printWhenDone ends the job's output: how to reach what runs (deployed is nil
// after a destroy), and how to destroy it and stop the plane.
func printWhenDone(w io.Writer, j job, deployed []deployedStack) {
	prefix := envPrefix()
	stackFlags := " -stacks " + strings.Join(j.plan, ",")
	if j.stateFlag != "" {
		stackFlags += " -state " + j.stateFlag
	}
	if len(deployed) > 0 {
		fmt.Fprintf(w, "\n== how to reach it\n")
		fmt.Fprintf(w, "  export KUBECONFIG=%s\n", j.kubeconfig)
		for _, ns := range namespaces(deployed) {
			fmt.Fprintf(w, "  %s -n %s get all,pvc,networkpolicy,resourcequota\n", kubectl(), ns)
		}
		fmt.Fprintf(w, "  This plane has no kubelet: kwok marks pods Running and Ready, but no container runs,\n"+
			"  so there is nothing to port-forward to or curl. On a cluster with nodes the same services are\n"+
			"  reached with\n")
		localPort := 8080
		for _, d := range deployed {
			for _, svc := range []string{"frontendService", "apiService"} {
				if name, ok := d.outputs[svc].(string); ok && name != "" {
					fmt.Fprintf(w, "    kubectl -n %s port-forward svc/%s %d:80   # %s of %s\n", d.env.Namespace, name, localPort, strings.TrimSuffix(svc, "Service"), d.name)
					localPort++
				}
			}
		}
	}
	fmt.Fprintf(w, "\n== when done\n")
	if deployed != nil {
		fmt.Fprintf(w, "  destroy:         %sscripts/deploy-local.sh%s -destroy\n", prefix, stackFlags)
	}
	fmt.Fprintf(w, "  stop the plane:  %sscripts/control-plane.sh stop\n", prefix)
	if run := os.Getenv("VX_TEST_RUN"); run != "" {
		fmt.Fprintf(w, "  stop the MinIO:  VX_TEST_RUN=%s scripts/test-servers.sh stop\n", run)
	}
}

func namespaces(deployed []deployedStack) []string {
	var out []string
	for _, d := range deployed {
		if !slices.Contains(out, d.env.Namespace) {
			out = append(out, d.env.Namespace)
		}
	}
	return out
}
