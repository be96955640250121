// Command miniotest is a TEST DOUBLE for the Pulumi minio provider 0.17.1, whose
// real plugin (a bridge over an AGPL Terraform provider) cannot be obtained here.
// Unlike a stand-in it really applies every minio resource the program registers
// to a MinIO server: buckets, versioning, lifecycle rules and bucket policies
// through minio-go (Apache-2.0), users, policies, attachments and service
// accounts through the mc program run as a separate process (MinIO's admin Go
// library is AGPL and is never linked). Inputs, outputs, defaults, auto-names and
// replacements follow the provider's schema (the generated @pulumi/minio 0.17.1
// SDK), so the engine sees what it would see with the real plugin.
//
// It is for the end-to-end test and the local deployment only; nothing in the
// program depends on it. Install it with
//
//	pulumi plugin install resource minio 0.17.1 --file bin/vx-miniotest
//
// "miniotest -plugins" prints "minio 0.17.1" for installers. The plugin needs
// VX_MINIOTEST_MC (the mc binary, scripts/tools.sh mc) and VX_MINIOTEST_DIR (a
// directory for mc's configuration; no credential is written there: mc gets
// them from its environment); internal/localenv sets both.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	name = "minio"
	// version is what internal/minio registers its resources with.
	version = "0.17.1"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-plugins" {
		fmt.Println(name, version)
		return
	}
	mcBin, dir := os.Getenv("VX_MINIOTEST_MC"), os.Getenv("VX_MINIOTEST_DIR")
	if mcBin == "" || dir == "" {
		fmt.Fprintln(os.Stderr, "miniotest (the minio test double): VX_MINIOTEST_MC (the mc binary) and VX_MINIOTEST_DIR (mc's config directory) must be set; internal/localenv sets them")
		os.Exit(2)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "miniotest:", err)
		os.Exit(1)
	}
	err := provider.Main(name, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newServer(mcBin, dir), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "miniotest:", err)
		os.Exit(1)
	}
}
