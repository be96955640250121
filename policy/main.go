// Command policy-pack is the data platform's Pulumi policy pack: it blocks every
// preview and update that would expose production or staging (patient data) to the
// internet or to public-facing processes. See README.md in this directory.
//
// Run through `--policy-pack`, the pack is a CI gate that whoever runs Pulumi can
// leave out; only an organisation policy group in Pulumi Cloud is unbypassable, and
// `pulumi policy publish` does not work for Go packs yet (pulumi/pulumi#24646).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const usage = `policy-pack: the vxplatform data platform's Pulumi policy pack (%s %s).

It is an analyzer plugin: the Pulumi engine starts it and talks to it over gRPC,
passing the engine's address as the only argument. Use it with

    pulumi preview --policy-pack %s
    pulumi up      --policy-pack %s

or, where the Go language plugin (pulumi-language-go) is installed, with the
source directory: pulumi preview --policy-pack policy/
`

func main() {
	os.Exit(run(os.Args, os.Stderr, func() error { return policyx.Main(newPack) }))
}

// run serves the pack when the engine started it, and explains itself otherwise:
// started by hand it would print a port and wait forever for an engine that never
// connects.
func run(args []string, stderr io.Writer, serve func() error) int {
	self := "policy-pack"
	if len(args) > 0 {
		self = args[0]
	}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		fmt.Fprintf(stderr, usage, packName, packVersion, self, self)
		return 2
	}
	if err := serve(); err != nil {
		fmt.Fprintf(stderr, "policy-pack: %v\n", err)
		return 1
	}
	return 0
}
