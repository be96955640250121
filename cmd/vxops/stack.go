package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/virdx/vxplatform-infra/internal/ghapi"
	"github.com/virdx/vxplatform-infra/internal/stackops"
)

// stackFlags are the flags every stack command takes.
type stackFlags struct {
	fs        *flag.FlagSet
	stack     string
	workdir   string
	commentPR int
}

func newStackFlags(name string) *stackFlags {
	f := &stackFlags{fs: flag.NewFlagSet("vxops "+name, flag.ContinueOnError)}
	f.fs.StringVar(&f.stack, "stack", "", "stack, as the backend names it (production, pr-12, org/data-platform/pr-12)")
	f.fs.StringVar(&f.workdir, "workdir", ".", "directory with Pulumi.yaml and the stack files")
	return f
}

func (f *stackFlags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if f.stack == "" {
		return fmt.Errorf("-stack is required")
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", f.fs.Args())
	}
	return nil
}

func (f *stackFlags) workspace() (*stackops.Workspace, error) {
	return stackops.Open(f.workdir, os.Getenv("PULUMI"), os.Getenv("VX_POLICY_PACK"), os.Stderr)
}

// report writes a report to stdout, the job summary and, with -comment-pr, the
// pull request's comment for this stack.
func (f *stackFlags) report(ctx context.Context, r stackops.Report, failure error) error {
	md := stackops.Markdown(r, failure)
	fmt.Println(md)
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendFile(path, md); err != nil {
			return err
		}
	}
	if f.commentPR > 0 {
		gh, err := ghapi.FromEnv()
		if err != nil {
			return err
		}
		if err := gh.UpsertComment(ctx, f.commentPR, stackops.Marker(r.Stack), md); err != nil {
			return fmt.Errorf("commenting on #%d: %w", f.commentPR, err)
		}
	}
	return nil
}

func appendFile(path, text string) error {
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.WriteString(text + "\n"); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func runPreview(ctx context.Context, args []string) error {
	f := newStackFlags("preview")
	f.fs.IntVar(&f.commentPR, "comment-pr", 0, "pull request to comment on")
	return f.runReported(ctx, args, func(w *stackops.Workspace, cfg map[string]string) (stackops.Report, error) {
		return w.Preview(ctx, f.stack, stackops.PreviewOptions{Config: cfg})
	})
}

func runUp(ctx context.Context, args []string) error {
	f := newStackFlags("up")
	f.fs.IntVar(&f.commentPR, "comment-pr", 0, "pull request to comment on (its preview's URL and outputs)")
	create := f.fs.Bool("create", false, "create the stack if it does not exist (previews of pull requests)")
	return f.runReported(ctx, args, func(w *stackops.Workspace, cfg map[string]string) (stackops.Report, error) {
		return w.Up(ctx, f.stack, *create, cfg)
	})
}

// runReported parses the flags, reads VX_CONFIG_<key>, runs op and reports its
// result (also when it failed: the comment shows the failure).
func (f *stackFlags) runReported(ctx context.Context, args []string, op func(*stackops.Workspace, map[string]string) (stackops.Report, error)) error {
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := stackops.ConfigFromEnv(os.Environ())
	if err != nil {
		return err
	}
	w, err := f.workspace()
	if err != nil {
		return err
	}
	r, err := op(w, cfg)
	if rerr := f.report(ctx, r, err); rerr != nil && err == nil {
		return rerr
	}
	return err
}

func runDestroy(ctx context.Context, args []string) error {
	f := newStackFlags("destroy")
	if err := f.parse(args); err != nil {
		return err
	}
	w, err := f.workspace()
	if err != nil {
		return err
	}
	if err := w.DestroyAndRemove(ctx, f.stack); err != nil {
		return err
	}
	fmt.Printf("destroyed and removed stack %s\n", f.stack)
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		return appendFile(path, fmt.Sprintf("Destroyed and removed stack `%s`.", f.stack))
	}
	return nil
}

func runDrift(ctx context.Context, args []string) error {
	f := newStackFlags("drift")
	if err := f.parse(args); err != nil {
		return err
	}
	w, err := f.workspace()
	if err != nil {
		return err
	}
	r, err := w.Drift(ctx, f.stack)
	if rerr := f.report(ctx, r, err); rerr != nil {
		return rerr
	}
	if len(r.Changes) > 0 {
		fmt.Fprintf(os.Stderr, "DRIFT: stack %s differs from its program in %d resource(s):\n%s\n", f.stack, len(r.Changes), indent(stackops.Text(r)))
		if os.Getenv("GITHUB_ACTIONS") == "true" {
			// One annotation per resource: they show on the run's page and in its notification.
			for _, line := range strings.Split(stackops.Text(r), "\n") {
				fmt.Printf("::error title=drift in %s::%s\n", f.stack, line)
			}
		}
		return errDrift
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "no drift: stack %s matches its program\n", f.stack)
	return nil
}

func runOutputs(ctx context.Context, args []string) error {
	f := newStackFlags("outputs")
	if err := f.parse(args); err != nil {
		return err
	}
	w, err := f.workspace()
	if err != nil {
		return err
	}
	out, err := w.Outputs(ctx, f.stack)
	if err != nil {
		return err
	}
	plain := map[string]any{}
	for k, v := range out {
		if v.Secret {
			plain[k] = "[secret]"
		} else {
			plain[k] = v.Value
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(plain)
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
