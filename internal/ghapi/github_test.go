package ghapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/internal/ghapi"
	"github.com/virdx/vxplatform-infra/internal/ghapi/ghapitest"
)

const repo, token = "virdx/vxplatform-infra", "test-token"

func client(f *ghapitest.Fake) *ghapi.GitHub {
	return &ghapi.GitHub{BaseURL: f.Server.URL, Repo: repo, Token: token}
}

func TestOpenPullRequestsReadsEveryPage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		open      int // open pull requests 1..open
		closed    []int
		wantPages int
	}{
		{"none", 0, nil, 1},
		{"one page", 99, []int{100, 101}, 1},
		{"exactly a page", 100, nil, 1},
		{"three pages", 250, []int{251, 252, 300}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ghapitest.New(t, repo, token)
			for n := 1; n <= tc.open; n++ {
				f.SetState(n, "open")
			}
			for _, n := range tc.closed {
				f.SetState(n, "closed")
			}
			open, err := client(f).OpenPullRequests(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(open) != tc.open {
				t.Errorf("got %d open pull requests, want %d", len(open), tc.open)
			}
			for n := 1; n <= tc.open; n++ {
				if !open[n] {
					t.Errorf("open pull request #%d missing", n)
				}
			}
			for _, n := range tc.closed {
				if open[n] {
					t.Errorf("closed pull request #%d listed as open", n)
				}
			}
			if got := f.Requests["/repos/"+repo+"/pulls"]; got != tc.wantPages {
				t.Errorf("%d list requests, want %d (pages of 100)", got, tc.wantPages)
			}
		})
	}
}

func TestErrorsNameWhatFailed(t *testing.T) {
	f := ghapitest.New(t, repo, token)
	f.SetState(1, "open")
	bad := &ghapi.GitHub{BaseURL: f.Server.URL, Repo: repo, Token: "wrong"}
	if _, err := bad.OpenPullRequests(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad token: err = %v, want the 401 named", err)
	}
	if _, err := client(f).PullRequestState(context.Background(), 77); err == nil || !strings.Contains(err.Error(), "#77") {
		t.Errorf("missing pull request: err = %v, want #77 named", err)
	}
	if state, err := client(f).PullRequestState(context.Background(), 1); err != nil || state != "open" {
		t.Errorf("PullRequestState(1) = %q, %v; want open", state, err)
	}
}

func TestUpsertCommentKeepsOneCommentPerMarker(t *testing.T) {
	f := ghapitest.New(t, repo, token)
	f.SetState(5, "open")
	ctx := context.Background()
	g := client(f)
	// Other comments, more than a page of them, come first.
	for i := 0; i < 120; i++ {
		if err := g.UpsertComment(ctx, 5, "<!-- other "+string(rune('a'+i%26))+string(rune('a'+i/26))+" -->", "noise"); err != nil {
			t.Fatal(err)
		}
	}
	const marker = "<!-- vxplatform preview pr-5 -->"
	for _, body := range []string{"first push", "second push"} {
		if err := g.UpsertComment(ctx, 5, marker, body); err != nil {
			t.Fatal(err)
		}
	}
	var ours []string
	for _, c := range f.Comments(5) {
		if strings.Contains(c, marker) {
			ours = append(ours, c)
		}
	}
	if len(ours) != 1 || !strings.Contains(ours[0], "second push") {
		t.Errorf("comments with the marker: %q; want exactly one, with the second body", ours)
	}
}
