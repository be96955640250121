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

// Run deploys the environment the current stack names.
func Run(ctx *pulumi.Context) error {
	env, err := stacks.Load(ctx.Stack(), readConfig(ctx))
	if err != nil {
		return err
	}
	platform, err := components.NewPlatform(ctx, "data-platform", &components.PlatformArgs{
		Env:         env,
		Credentials: readCredentials(ctx, env),
	})
	if err != nil {
		return err
	}
	ctx.Export("namespace", platform.Namespace)
	ctx.Export("frontendService", platform.FrontendService)
	ctx.Export("apiService", platform.APIService)
	ctx.Export("postgresService", platform.PostgresService)
	ctx.Export("hostname", platform.Hostname)
	ctx.Export("targetBucket", platform.TargetBucket)
	ctx.Export("readBuckets", platform.ReadBuckets)
	ctx.Export("s3Endpoints", platform.S3Endpoints)
	ctx.Export("images", platform.Images)
	return nil
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

func readCredentials(ctx *pulumi.Context, env stacks.Environment) components.Credentials {
	secret := func(key string) pulumi.StringInput {
		if _, ok := ctx.GetConfig(stacks.ConfigNamespace + ":" + key); !ok {
			return nil
		}
		return config.GetSecret(ctx, stacks.ConfigNamespace+":"+key)
	}
	return components.Credentials{
		MinioUser:        secret("minioUser"),
		MinioPassword:    secret("minioPassword"),
		RegistryUser:     secret("registryUser"),
		RegistryPassword: secret("registryPassword"),
	}
}
