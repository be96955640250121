// Command standin is a TEST DOUBLE: a minimal Pulumi resource provider that stands
// in for the random and docker providers, whose real plugins cannot be obtained on
// these machines (the minio provider has a double of its own that really applies
// its resources to a MinIO: e2e/miniotest). It lets the end-to-end test and
// scripts/deploy-local.sh run the real program through the real engine; it never
// talks to a registry. Real users install the real plugins; nothing in the program
// depends on this binary.
//
// One binary serves both packages: the engine runs it as
// $PULUMI_HOME/plugins/resource-NAME-vX.Y.Z/pulumi-resource-NAME, so the package is
// taken from the executable's name (or from VX_STANDIN_PACKAGE). Install it with
//
//	pulumi plugin install resource random 4.21.2 --file BIN
//	pulumi plugin install resource docker 4.10.0 --file BIN
//
// "standin -plugins" prints one "NAME VERSION" line per package, for installers.
//
// What it does: inputs come back as outputs; RandomPassword gets a real random
// result (a secret); docker's getRegistryImage returns a deterministic fake digest
// (sha256 of the image name, the same as the project's mock engine). Check, Diff, Create, Read, Update and Delete are supported.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func main() {
	// "-plugins" lists what to install, so that installers never repeat the versions.
	if len(os.Args) == 2 && os.Args[1] == "-plugins" {
		for _, name := range knownPackages() {
			fmt.Println(name, packages[name].version)
		}
		return
	}
	name := packageName(os.Args[0], os.Getenv("VX_STANDIN_PACKAGE"))
	pkg, ok := packages[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "standin: unknown package %q (executable %s); known: %s\n",
			name, os.Args[0], strings.Join(knownPackages(), ", "))
		os.Exit(2)
	}
	err := provider.Main(name, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newServer(pkg), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "standin %s: %v\n", name, err)
		os.Exit(1)
	}
}

// packageName is the override if set, else NAME from pulumi-resource-NAME.
func packageName(executable, override string) string {
	if override != "" {
		return override
	}
	return strings.TrimPrefix(filepath.Base(executable), "pulumi-resource-")
}
