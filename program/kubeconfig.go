package program

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/virdx/vxplatform-infra/stacks"
)

// Kubeconfig is what the program knows of the kubeconfig the Kubernetes
// provider will read.
type Kubeconfig struct {
	// Files are the kubeconfig files that exist, in precedence order; none when
	// there is no kubeconfig at all.
	Files []string
	// Searched are the files looked for, for messages.
	Searched []string
	// Contexts are the context names the files define, sorted.
	Contexts []string
}

// LoadKubeconfig reads the kubeconfig the Kubernetes provider uses when the
// program gives it none: the files KUBECONFIG lists, or ~/.kube/config, merged
// by client-go's loading rules, as the provider does.
func LoadKubeconfig() (Kubeconfig, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	// Reading must not write: the legacy ~/.kube/.kubeconfig migration copies files.
	rules.MigrationRules = nil
	return loadKubeconfig(rules)
}

// KubeconfigAt reads the given kubeconfig files, in precedence order, as
// Options.LoadKubeconfig: for a program run through the Automation API whose
// Kubernetes provider is given a KUBECONFIG (auto.EnvVars) other than the one of
// the process the program runs in.
func KubeconfigAt(files ...string) func() (Kubeconfig, error) {
	return func() (Kubeconfig, error) {
		return loadKubeconfig(&clientcmd.ClientConfigLoadingRules{Precedence: files})
	}
}

func loadKubeconfig(rules *clientcmd.ClientConfigLoadingRules) (Kubeconfig, error) {
	kc := Kubeconfig{Searched: rules.GetLoadingPrecedence()}
	for _, file := range kc.Searched {
		if info, err := os.Stat(file); err == nil && !info.IsDir() {
			kc.Files = append(kc.Files, file)
		}
	}
	config, err := rules.Load()
	if err != nil {
		return kc, fmt.Errorf("reading kubeconfig %s: %w", strings.Join(kc.Files, ", "), err)
	}
	kc.Contexts = slices.Sorted(maps.Keys(config.Contexts))
	return kc, nil
}

// kubeContextProblem checks the stack's kubeContext against the kubeconfig, so
// that a context the kubeconfig lacks stops the run before anything is created
// rather than half-way through an update.
//
// Without any kubeconfig file, a preview is not stopped: the Kubernetes provider
// previews without a cluster (a CI preview on a runner without cluster access,
// say), and the run says so in a warning. An update is stopped, since it could
// not reach the cluster.
func kubeContextProblem(kc Kubeconfig, loadErr error, context string, preview bool) (stacks.Problem, bool) {
	const key = "kubeContext"
	switch {
	case strings.TrimSpace(context) == "":
		return stacks.Problem{}, false // stacks reports a missing or blank kubeContext
	case loadErr != nil:
		return stacks.Problem{Key: key, Value: context, Allowed: "the name of a context in a readable kubeconfig; " + loadErr.Error()}, true
	case len(kc.Files) == 0 && preview:
		return stacks.Problem{}, false
	case len(kc.Files) == 0:
		return stacks.Problem{Key: key, Value: context, Allowed: "the name of a context in your kubeconfig; there is none: " + noKubeconfig(kc)}, true
	case !slices.Contains(kc.Contexts, context):
		allowed := fmt.Sprintf("one of the contexts in the kubeconfig (%s): %s", strings.Join(kc.Files, ", "), strings.Join(kc.Contexts, ", "))
		if len(kc.Contexts) == 0 {
			allowed = fmt.Sprintf("the name of a context in your kubeconfig; %s defines none", strings.Join(kc.Files, ", "))
		} else if closest := stacks.Closest(context, kc.Contexts); closest != "" {
			allowed += "; did you mean " + closest + "?"
		}
		return stacks.Problem{Key: key, Value: context, Allowed: allowed}, true
	}
	return stacks.Problem{}, false
}

// noKubeconfig says where a kubeconfig was looked for.
func noKubeconfig(kc Kubeconfig) string {
	return "no kubeconfig file found (looked for " + strings.Join(kc.Searched, ", ") + "; set KUBECONFIG or create ~/.kube/config)"
}
