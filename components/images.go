package components

import (
	"strings"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// imageReference is the reference a workload deploys: the tag as given, or, when
// pinning, the digest the registry resolves it to now, so that a re-pushed tag can
// never change what runs.
func imageReference(ctx *pulumi.Context, image string, pin bool, registry pulumi.ProviderResource, parent pulumi.Resource) pulumi.StringOutput {
	if !pin {
		return pulumi.String(image).ToStringOutput()
	}
	found := docker.LookupRegistryImageOutput(ctx, docker.LookupRegistryImageOutputArgs{Name: pulumi.String(image)},
		pulumi.Provider(registry), pulumi.Parent(parent))
	return found.Sha256Digest().ApplyT(func(digest string) string {
		return repository(image) + "@" + digest
	}).(pulumi.StringOutput)
}

// repository strips the tag from repository:tag (a registry port has no slash after it).
func repository(image string) string {
	slash := strings.LastIndex(image, "/")
	if colon := strings.LastIndex(image, ":"); colon > slash {
		return image[:colon]
	}
	return image
}
