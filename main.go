// Command data-platform is the Pulumi program of the data platform; see README.md.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/program"
)

func main() {
	pulumi.Run(program.Run)
}
