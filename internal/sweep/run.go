package sweep

import (
	"context"
	"fmt"
)

// PullRequests answers what the sweeper asks GitHub (ghapi.GitHub in CI).
type PullRequests interface {
	OpenPullRequests(ctx context.Context) (map[int]bool, error)
	PullRequestState(ctx context.Context, number int) (string, error)
}

// Destroyer destroys one stack and removes it from the backend.
type Destroyer interface {
	DestroyAndRemove(ctx context.Context, stack string) error
}

// Find lists open pull requests and preview stacks and makes the plan. Listing
// fails the whole sweep: destroying on a partial list is how previews in use die.
func Find(ctx context.Context, prs PullRequests, stackList []byte, project string, max int) (Plan, error) {
	list, err := ParseStackList(stackList)
	if err != nil {
		return Plan{}, err
	}
	open, err := prs.OpenPullRequests(ctx)
	if err != nil {
		return Plan{}, err
	}
	p := MakePlan(list, open, project)
	return p, p.CheckLimit(max)
}

// Sweep destroys one candidate after reading its pull request's state again:
// the caller holds the preview's concurrency group by now, and a pull request
// reopened since the plan was made keeps its preview.
func Sweep(ctx context.Context, c Candidate, prs PullRequests, d Destroyer, dryRun bool) Result {
	state, err := prs.PullRequestState(ctx, c.Number)
	if err != nil {
		return Result{Candidate: c, Outcome: "failed", Detail: err.Error()}
	}
	if state == "open" {
		return Result{Candidate: c, Outcome: "kept", Detail: fmt.Sprintf("pull request #%d is open again", c.Number)}
	}
	if dryRun {
		return Result{Candidate: c, Outcome: "would destroy", Detail: fmt.Sprintf("pull request #%d is %s", c.Number, state)}
	}
	if err := d.DestroyAndRemove(ctx, c.Stack); err != nil {
		return Result{Candidate: c, Outcome: "failed", Detail: err.Error()}
	}
	return Result{Candidate: c, Outcome: "destroyed", Detail: fmt.Sprintf("pull request #%d is %s", c.Number, state)}
}

// Failed reports whether any result failed.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Outcome == "failed" {
			return true
		}
	}
	return false
}
