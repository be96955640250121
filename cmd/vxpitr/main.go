// Command vxpitr is the point-in-time-recovery companion of pgBackRest in the
// database image: `check` fails when the newest backup or archived WAL segment
// is older than its bound (the monitoring CronJob), `restore` restores to a
// time into a fresh directory and verifies the copy. Configuration is the
// environment only (internal/pitr/README.md). Exit status: 0 success, 1 the
// check or restore failed, 2 usage or configuration error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/virdx/vxplatform-infra/internal/pitr"
)

const usage = `usage: vxpitr check|restore   (configuration: environment only, see internal/pitr/README.md)`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "check":
		err = pitr.CheckFromEnv(ctx, pitr.OSLookup, time.Now, stdout)
	case "restore":
		err = pitr.RestoreFromEnv(ctx, pitr.OSLookup, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "vxpitr: unknown verb %q\n%s\n", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "level=ERROR vxpitr %s: %v\n", args[0], err)
	var usageErr pitr.UsageError
	if errors.As(err, &usageErr) {
		return 2
	}
	return 1
}
