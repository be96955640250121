// Package program is the Pulumi program of the data platform: it reads the stack's
// config, builds the environment model, deploys the platform and exports outputs.
// It lives outside package main so that tests can run the real program.
package program

import (
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/virdx/vxplatform-infra/components"
	"github.com/virdx/vxplatform-infra/stacks"
)

// Options are what the program takes from outside the stack and its config.
type Options struct {
	// LoadKubeconfig reads the kubeconfig the Kubernetes provider will use;
	// LoadKubeconfig when nil. Tests give a fixed one.
	LoadKubeconfig func() (Kubeconfig, error)
}

// Run deploys the environment the current stack names and exports its outputs.
func Run(ctx *pulumi.Context) error {
	return Options{}.Run(ctx)
}

// Run deploys the environment the current stack names and exports its outputs.
func (o Options) Run(ctx *pulumi.Context) error {
	outputs, err := o.Deploy(ctx)
	if err != nil {
		return err
	}
	for name, value := range outputs {
		ctx.Export(name, value)
	}
	return nil
}

// Deploy deploys the environment and returns the stack outputs (the fields of
// components.Platform). Every config problem, including a kubeContext the
// kubeconfig lacks, is reported at once, before anything is registered.
func (o Options) Deploy(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg, err := stackConfig(ctx)
	if err != nil {
		return nil, err
	}
	env, err := stacks.Load(ctx.Stack(), cfg)
	if problem, found := o.checkKubeContext(ctx, cfg["kubeContext"]); found {
		err = withProblem(ctx.Stack(), err, problem)
	}
	if err != nil {
		return nil, err
	}
	platform, err := components.NewPlatform(ctx, "data-platform", &components.PlatformArgs{
		Env:                 env,
		ProviderCredentials: readProviderCredentials(ctx),
	})
	if err != nil {
		return nil, err
	}
	return platform.Outputs(), nil
}

// checkKubeContext checks the stack's kubeContext against the kubeconfig.
func (o Options) checkKubeContext(ctx *pulumi.Context, kubeContext string) (stacks.Problem, bool) {
	load := o.LoadKubeconfig
	if load == nil {
		load = LoadKubeconfig
	}
	kc, err := load()
	problem, found := kubeContextProblem(kc, err, kubeContext, ctx.DryRun())
	if !found && err == nil && len(kc.Files) == 0 && kubeContext != "" {
		_ = ctx.Log.Warn("kubeContext "+kubeContext+" not checked: "+noKubeconfig(kc)+"; the preview runs without a cluster", nil)
	}
	return problem, found
}

// withProblem adds a problem the program found to those stacks.Load reported,
// so that one run shows them all. A stack name error stays as it is: nothing
// else can be checked without the environment's kind.
func withProblem(stack string, loadErr error, problem stacks.Problem) error {
	var cfgErr *stacks.ConfigError
	switch {
	case loadErr == nil:
		return &stacks.ConfigError{Stack: stack, Problems: []stacks.Problem{problem}}
	case errors.As(loadErr, &cfgErr):
		return &stacks.ConfigError{Stack: cfgErr.Stack, Problems: append(append([]stacks.Problem(nil), cfgErr.Problems...), problem)}
	}
	return loadErr
}

func readProviderCredentials(ctx *pulumi.Context) components.ProviderCredentials {
	secret := func(key string) pulumi.StringInput {
		if _, ok := ctx.GetConfig(stacks.ConfigNamespace + ":" + key); !ok {
			return nil
		}
		return config.GetSecret(ctx, stacks.ConfigNamespace+":"+key)
	}
	return components.ProviderCredentials{
		MinioUser:        secret("minioUser"),
		MinioPassword:    secret("minioPassword"),
		RegistryUser:     secret("registryUser"),
		RegistryPassword: secret("registryPassword"),
	}
}
