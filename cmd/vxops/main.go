// Command vxops is the delivery pipeline's one entry point for everything that
// touches a stack or the cluster: the GitHub workflows, the scripts under
// scripts/ci and the end-to-end test all run it, so what CI does is what is
// tested. Usage: vxops <command> [flags]; vxops help lists the commands.
//
// Environment: PULUMI (the CLI, .../bin/pulumi; default: pulumi on PATH),
// VX_POLICY_PACK (the built policy pack), PULUMI_BACKEND_URL, PULUMI_HOME,
// PULUMI_CONFIG_PASSPHRASE (or another secrets provider), PULUMI_ACCESS_TOKEN
// (Pulumi Cloud), KUBECONFIG, VX_CONFIG_<key> (stack config to set first),
// GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL (comments, sweeper) and
// GITHUB_STEP_SUMMARY (where job summaries go).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, usage string
	run         func(ctx context.Context, args []string) error
}

var commands = []command{
	{"preview", "preview -stack S [-comment-pr N]: pulumi preview through the policy pack; the result as a job summary and pull request comment", runPreview},
	{"up", "up -stack S [-create] [-comment-pr N]: pulumi up through the policy pack (config from VX_CONFIG_<key> first)", runUp},
	{"destroy", "destroy -stack S: pulumi destroy, then remove the stack and its Pulumi.<stack>.yaml", runDestroy},
	{"drift", "drift -stack S: pulumi preview --refresh --expect-no-changes through the policy pack; exit 2 and the drifted resources on drift", runDrift},
	{"outputs", "outputs -stack S: the stack outputs as JSON", runOutputs},
	{"sweep", "sweep plan|run|one ...: destroy previews whose pull request is not open (vxops sweep -h)", runSweep},
	{"restore-staging", "restore-staging [-namespace NS] [-cronjob NAME] [-context CTX] [-timeout D]: run the suspended restore CronJob once, wait, report", runRestore},
}

// errDrift is the one non-error failure: the check ran and found drift.
var errDrift = errors.New("drift")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" {
		usage()
		os.Exit(2)
	}
	for _, c := range commands {
		if c.name == os.Args[1] {
			err := c.run(ctx, os.Args[2:])
			switch {
			case errors.Is(err, errDrift):
				os.Exit(2)
			case err != nil:
				fmt.Fprintf(os.Stderr, "vxops %s: %v\n", c.name, err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "vxops: unknown command %q\n", os.Args[1])
	usage()
	os.Exit(2)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: vxops <command> [flags]")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %s\n", c.usage)
	}
}
