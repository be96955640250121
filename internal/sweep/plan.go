package sweep

import (
	"fmt"
	"sort"
	"strings"
)

// Candidate is a preview stack whose pull request is not open.
type Candidate struct {
	Stack  string `json:"stack"`  // as printed by the backend: pass to --stack
	Number int    `json:"number"` // the pull request
}

// Skipped is a preview stack left alone this run, with why.
type Skipped struct {
	Stack  string
	Reason string
}

// Plan is what one sweep would do.
type Plan struct {
	Destroy []Candidate
	Keep    []Candidate // previews of open pull requests
	Skipped []Skipped
}

// MakePlan decides, for every preview stack of project, whether its pull request
// is open (keep), not open (destroy) or the stack is busy (skip this run).
func MakePlan(list []Stack, open map[int]bool, project string) Plan {
	var p Plan
	for _, s := range list {
		n, ok := s.PreviewNumber(project)
		if !ok {
			continue
		}
		c := Candidate{Stack: s.Ref, Number: n}
		switch {
		case open[n]:
			p.Keep = append(p.Keep, c)
		case s.UpdateInProgress:
			p.Skipped = append(p.Skipped, Skipped{s.Ref, fmt.Sprintf("pull request #%d is not open, but an update is in progress", n)})
		default:
			p.Destroy = append(p.Destroy, c)
		}
	}
	byNumber := func(cs []Candidate) {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Number < cs[j].Number })
	}
	byNumber(p.Destroy)
	byNumber(p.Keep)
	return p
}

// CheckLimit refuses a plan that destroys more than max previews: a wrong answer
// from an API must not empty the preview namespace.
func (p Plan) CheckLimit(max int) error {
	if len(p.Destroy) <= max {
		return nil
	}
	var names []string
	for _, c := range p.Destroy {
		names = append(names, c.Stack)
	}
	return fmt.Errorf("the sweep would destroy %d previews (%s), more than the limit of %d: check the pull requests by hand and rerun with -max %d",
		len(p.Destroy), strings.Join(names, ", "), max, len(p.Destroy))
}

// Result is what happened to one candidate.
type Result struct {
	Candidate
	Outcome string // destroyed, would destroy (dry run), kept (reopened), failed
	Detail  string
}

// Summary renders a sweep for people (GitHub's step summary is Markdown).
func Summary(p Plan, results []Result, dryRun bool) string {
	var b strings.Builder
	title := "Preview sweep"
	if dryRun {
		title += " (dry run: nothing destroyed)"
	}
	fmt.Fprintf(&b, "### %s\n\n", title)
	fmt.Fprintf(&b, "%d preview(s) of open pull requests kept, %d without an open pull request, %d skipped.\n\n",
		len(p.Keep), len(p.Destroy), len(p.Skipped))
	if len(results) > 0 {
		b.WriteString("| stack | pull request | outcome | detail |\n|---|---|---|---|\n")
		for _, r := range results {
			fmt.Fprintf(&b, "| `%s` | #%d | %s | %s |\n", r.Stack, r.Number, r.Outcome, oneLine(r.Detail))
		}
		b.WriteString("\n")
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(&b, "- skipped `%s`: %s\n", s.Stack, s.Reason)
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
