package minio

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// providerVersion is the minio plugin release whose schema the tokens and
// property names in this package were copied from. Without a pinned version
// the engine would use whichever minio plugin happens to be installed.
const providerVersion = "0.17.1"

// withPackageDefaults mirrors the generated SDK's PkgResourceDefaultOpts: the
// default comes first so that an explicit pulumi.Version from the caller wins.
func withPackageDefaults(opts []pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Version(providerVersion)}, opts...)
}
