// Package program is the Pulumi program of the data platform: it reads the stack's
// config, builds the environment model, deploys the platform and exports outputs.
// It lives outside package main so that tests can run the real program.
package program

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/virdx/vxplatform-infra/components"
	"github.com/virdx/vxplatform-infra/stacks"
)

// Run deploys the environment the current stack names and exports its outputs.
func Run(ctx *pulumi.Context) error {
	outputs, err := Deploy(ctx)
	if err != nil {
		return err
	}
	for name, value := range outputs {
		ctx.Export(name, value)
	}
	return nil
}

// Deploy deploys the environment and returns the stack outputs: namespace, service
// names, hostname, buckets, S3 endpoints and the image references deployed.
func Deploy(ctx *pulumi.Context) (pulumi.Map, error) {
	env, err := stacks.Load(ctx.Stack(), readConfig(ctx))
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

// readConfig collects every known key that the stack sets, secret or not, for
// validation; secret values are read again below as secrets.
func readConfig(ctx *pulumi.Context) stacks.Config {
	cfg := stacks.Config{}
	for _, key := range stacks.ConfigKeys {
		if v, ok := ctx.GetConfig(stacks.ConfigNamespace + ":" + key.Name); ok {
			cfg[key.Name] = v
		}
	}
	return cfg
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
