package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/virdx/vxplatform-infra/internal/ghapi"
	"github.com/virdx/vxplatform-infra/internal/stackops"
	"github.com/virdx/vxplatform-infra/internal/sweep"
	"github.com/virdx/vxplatform-infra/stacks"
)

const sweepUsage = `usage:
  vxops sweep plan [-max N] [-workdir DIR]           print the previews to destroy as JSON ([{"stack":..,"number":..}])
  vxops sweep one -stack S -pr N [-dry-run]          read #N again, destroy S if it is still not open
  vxops sweep run [-max N] [-dry-run]                plan and sweep one by one (local use: no concurrency groups)`

func runSweep(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", sweepUsage)
	}
	fs := flag.NewFlagSet("vxops sweep "+args[0], flag.ContinueOnError)
	workdir := fs.String("workdir", ".", "directory with Pulumi.yaml (stack ls lists this project's stacks)")
	limit := fs.Int("max", 10, "refuse to destroy more previews than this in one run")
	dryRun := fs.Bool("dry-run", false, "report what would be destroyed, destroy nothing")
	stack := fs.String("stack", "", "the stack, as plan printed it")
	number := fs.Int("pr", 0, "its pull request")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	gh, err := ghapi.FromEnv()
	if err != nil {
		return err
	}
	switch args[0] {
	case "plan":
		plan, err := findStale(ctx, gh, *workdir, *limit)
		if err != nil {
			return err
		}
		if err := summarize(sweep.Summary(plan, nil, true)); err != nil {
			return err
		}
		if plan.Destroy == nil {
			plan.Destroy = []sweep.Candidate{}
		}
		b, err := json.Marshal(plan.Destroy)
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	case "one":
		if *stack == "" || *number <= 0 {
			return fmt.Errorf("-stack and -pr are required\n%s", sweepUsage)
		}
		w, err := stackops.Open(*workdir, os.Getenv("PULUMI"), os.Getenv("VX_POLICY_PACK"), os.Stderr)
		if err != nil {
			return err
		}
		r := sweep.Sweep(ctx, sweep.Candidate{Stack: *stack, Number: *number}, gh, w, *dryRun)
		return finish(sweep.Plan{Destroy: []sweep.Candidate{r.Candidate}}, []sweep.Result{r}, *dryRun)
	case "run":
		plan, err := findStale(ctx, gh, *workdir, *limit)
		if err != nil {
			return err
		}
		w, err := stackops.Open(*workdir, os.Getenv("PULUMI"), os.Getenv("VX_POLICY_PACK"), os.Stderr)
		if err != nil {
			return err
		}
		var results []sweep.Result
		for _, c := range plan.Destroy {
			results = append(results, sweep.Sweep(ctx, c, gh, w, *dryRun))
		}
		return finish(plan, results, *dryRun)
	}
	return fmt.Errorf("unknown sweep command %q\n%s", args[0], sweepUsage)
}

func finish(plan sweep.Plan, results []sweep.Result, dryRun bool) error {
	if err := summarize(sweep.Summary(plan, results, dryRun)); err != nil {
		return err
	}
	if sweep.Failed(results) {
		return fmt.Errorf("some previews could not be destroyed (see the summary above)")
	}
	return nil
}

// findStale lists this project's stacks with the CLI, exactly as an operator
// would see them, and plans the sweep.
func findStale(ctx context.Context, gh *ghapi.GitHub, workdir string, limit int) (sweep.Plan, error) {
	cli := os.Getenv("PULUMI")
	if cli == "" {
		cli = "pulumi"
	}
	abs, err := filepath.Abs(workdir)
	if err != nil {
		return sweep.Plan{}, err
	}
	cmd := exec.CommandContext(ctx, cli, "stack", "ls", "--json", "--non-interactive")
	cmd.Dir = abs
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return sweep.Plan{}, fmt.Errorf("%s stack ls --json (in %s): %w: %s", cli, abs, err, stderr.String())
	}
	return sweep.Find(ctx, gh, out, stacks.ConfigNamespace, limit)
}

func summarize(md string) error {
	fmt.Fprintln(os.Stderr, md)
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		return appendFile(path, md)
	}
	return nil
}
