package sweep_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/internal/ghapi"
	"github.com/virdx/vxplatform-infra/internal/ghapi/ghapitest"
	"github.com/virdx/vxplatform-infra/internal/sweep"
)

const project = "data-platform"

func recorded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeGitHub has 130 open pull requests (1..130 but 7 and 9: more than one page
// of 100), closed ones, and #12 reopened (closed, then open again).
func fakeGitHub(t *testing.T) (*ghapitest.Fake, *ghapi.GitHub) {
	f := ghapitest.New(t, "virdx/vxplatform-infra", "tok")
	for n := 1; n <= 130; n++ {
		f.SetState(n, "open")
	}
	for _, n := range []int{7, 9, 131, 200} {
		f.SetState(n, "closed")
	}
	f.SetState(12, "closed")
	f.SetState(12, "open") // reopened
	f.SetState(150, "open")
	return f, &ghapi.GitHub{BaseURL: f.Server.URL, Repo: "virdx/vxplatform-infra", Token: "tok"}
}

func refs(cs []sweep.Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Stack)
	}
	return out
}

func TestFindOnRecordedStackLists(t *testing.T) {
	for _, tc := range []struct {
		file        string
		wantDestroy []string
		wantKeep    []string
		wantSkipped []string
	}{
		// pr-7's pull request is closed; pr-12's was reopened.
		{"stack-ls-file-backend.json", []string{"pr-7"}, []string{"pr-12"}, nil},
		// organization/other/pr-5 belongs to another project.
		{"stack-ls-file-backend-all.json", []string{"pr-7"}, []string{"pr-12"}, nil},
		{"stack-ls-file-backend-qualified.json", []string{"organization/data-platform/pr-7"}, []string{"organization/data-platform/pr-12"}, nil},
		// pr-9 printed fully qualified is closed; pr-12 is open but busy (kept, open
		// wins); pr-150 is on the second page; pr-200 is closed and was never
		// updated; virdx/website/pr-5 is another project; contractor/pr-31 is open.
		{"stack-ls-pulumi-cloud.json",
			[]string{"pr-7", "virdx/data-platform/pr-9", "pr-200"},
			[]string{"pr-12", "contractor/pr-31", "pr-150"}, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, gh := fakeGitHub(t)
			plan, err := sweep.Find(context.Background(), gh, recorded(t, tc.file), project, 10)
			if err != nil {
				t.Fatal(err)
			}
			if got := refs(plan.Destroy); !reflect.DeepEqual(got, tc.wantDestroy) {
				t.Errorf("destroy %v, want %v", got, tc.wantDestroy)
			}
			if got := refs(plan.Keep); !reflect.DeepEqual(got, tc.wantKeep) {
				t.Errorf("keep %v, want %v", got, tc.wantKeep)
			}
		})
	}
}

func TestABusyStackOfAClosedPullRequestIsSkipped(t *testing.T) {
	_, gh := fakeGitHub(t)
	gh2 := gh
	data := []byte(`[{"name":"pr-131","current":false,"updateInProgress":true},{"name":"pr-200","current":false,"updateInProgress":false,"lastUpdate":"2026-11-01T00:00:00.000Z"}]`)
	plan, err := sweep.Find(context.Background(), gh2, data, project, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(plan.Destroy); !reflect.DeepEqual(got, []string{"pr-200"}) {
		t.Errorf("destroy %v, want [pr-200]", got)
	}
	if len(plan.Skipped) != 1 || plan.Skipped[0].Stack != "pr-131" || !strings.Contains(plan.Skipped[0].Reason, "in progress") {
		t.Errorf("skipped %+v, want pr-131 (update in progress)", plan.Skipped)
	}
}

func TestFindRefusesMoreThanTheLimit(t *testing.T) {
	_, gh := fakeGitHub(t)
	_, err := sweep.Find(context.Background(), gh, recorded(t, "stack-ls-pulumi-cloud.json"), project, 2)
	if err == nil || !strings.Contains(err.Error(), "3 previews") || !strings.Contains(err.Error(), "-max 3") {
		t.Errorf("err = %v, want a refusal naming 3 previews and -max 3", err)
	}
}

func TestFindFailsWithoutDestroyingWhenGitHubFails(t *testing.T) {
	f, _ := fakeGitHub(t)
	bad := &ghapi.GitHub{BaseURL: f.Server.URL, Repo: "virdx/vxplatform-infra", Token: "revoked"}
	if _, err := sweep.Find(context.Background(), bad, recorded(t, "stack-ls-file-backend.json"), project, 10); err == nil {
		t.Error("Find succeeded with a failing GitHub API; it must fail the sweep")
	}
}

func TestParseStackListRejectsMalformedNames(t *testing.T) {
	for _, data := range []string{`[{"name":"a/b/c/d"}]`, `[{"name":"virdx//pr-1"}]`, `{"name":"pr-1"}`} {
		if _, err := sweep.ParseStackList([]byte(data)); err == nil {
			t.Errorf("ParseStackList(%s) succeeded, want an error", data)
		}
	}
}

type recordingDestroyer struct {
	destroyed []string
	fail      error
}

func (d *recordingDestroyer) DestroyAndRemove(_ context.Context, stack string) error {
	if d.fail != nil {
		return d.fail
	}
	d.destroyed = append(d.destroyed, stack)
	return nil
}

func TestSweepReadsThePullRequestAgainUnderTheGroup(t *testing.T) {
	for _, tc := range []struct {
		name        string
		reopen      bool
		dryRun      bool
		fail        error
		wantOutcome string
		wantCalls   []string
	}{
		{"closed: destroyed", false, false, nil, "destroyed", []string{"virdx/data-platform/pr-9"}},
		{"reopened since the plan: kept", true, false, nil, "kept", nil},
		{"dry run: nothing destroyed", false, true, nil, "would destroy", nil},
		{"destroy fails: reported", false, false, errors.New("pulumi destroy: exit status 255"), "failed", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, gh := fakeGitHub(t)
			plan, err := sweep.Find(context.Background(), gh, recorded(t, "stack-ls-pulumi-cloud.json"), project, 10)
			if err != nil {
				t.Fatal(err)
			}
			var c sweep.Candidate
			for _, cand := range plan.Destroy {
				if cand.Number == 9 {
					c = cand
				}
			}
			if tc.reopen {
				f.SetState(9, "open")
			}
			d := &recordingDestroyer{fail: tc.fail}
			r := sweep.Sweep(context.Background(), c, gh, d, tc.dryRun)
			if r.Outcome != tc.wantOutcome {
				t.Errorf("outcome %q (%s), want %q", r.Outcome, r.Detail, tc.wantOutcome)
			}
			if !reflect.DeepEqual(d.destroyed, tc.wantCalls) {
				t.Errorf("destroyed %v, want %v", d.destroyed, tc.wantCalls)
			}
			if sweep.Failed([]sweep.Result{r}) != (tc.wantOutcome == "failed") {
				t.Errorf("Failed() disagrees with outcome %q", r.Outcome)
			}
			summary := sweep.Summary(plan, []sweep.Result{r}, tc.dryRun)
			if !strings.Contains(summary, "`virdx/data-platform/pr-9` | #9 | "+tc.wantOutcome) {
				t.Errorf("summary does not report pr-9 as %q:\n%s", tc.wantOutcome, summary)
			}
		})
	}
}
