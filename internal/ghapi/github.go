// Package ghapi is the small part of GitHub's REST API the delivery pipeline
// uses: open pull requests (every page), one pull request's state, and the one
// comment per pull request that the preview jobs keep up to date.
package ghapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// GitHub talks to the REST API about one repository.
type GitHub struct {
	// BaseURL is the API root: https://api.github.com, or GITHUB_API_URL on
	// GitHub Enterprise and in tests.
	BaseURL string
	// Repo is owner/name.
	Repo  string
	Token string
	HTTP  *http.Client
}

// PullRequest is the part of the API's pull request object the sweeper uses.
type PullRequest struct {
	Number int    `json:"number"`
	State  string `json:"state"` // "open" or "closed"
}

// pageSize is the API's maximum; the default of 30 is how the old sweeper lost
// pull requests.
const pageSize = 100

// maxPages bounds a runaway pagination (a Link header pointing back at itself):
// 100 pages are 10,000 open pull requests.
const maxPages = 100

// OpenPullRequests returns the numbers of every open pull request, following the
// API's Link headers to the last page.
func (g *GitHub) OpenPullRequests(ctx context.Context) (map[int]bool, error) {
	next := fmt.Sprintf("%s/repos/%s/pulls?state=open&per_page=%d", strings.TrimRight(g.BaseURL, "/"), g.Repo, pageSize)
	open := map[int]bool{}
	for page := 1; next != ""; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("listing open pull requests of %s: more than %d pages; refusing to guess", g.Repo, maxPages)
		}
		var prs []PullRequest
		link, err := g.get(ctx, next, &prs)
		if err != nil {
			return nil, fmt.Errorf("listing open pull requests of %s (page %d): %w", g.Repo, page, err)
		}
		for _, pr := range prs {
			if pr.State != "open" {
				return nil, fmt.Errorf("listing open pull requests of %s: the API returned #%d in state %q", g.Repo, pr.Number, pr.State)
			}
			open[pr.Number] = true
		}
		next = nextLink(link)
	}
	return open, nil
}

// PullRequestState is the current state of one pull request ("open" or "closed").
func (g *GitHub) PullRequestState(ctx context.Context, number int) (string, error) {
	var pr PullRequest
	u := fmt.Sprintf("%s/repos/%s/pulls/%d", strings.TrimRight(g.BaseURL, "/"), g.Repo, number)
	if _, err := g.get(ctx, u, &pr); err != nil {
		return "", fmt.Errorf("reading pull request #%d of %s: %w", number, g.Repo, err)
	}
	if pr.Number != number || (pr.State != "open" && pr.State != "closed") {
		return "", fmt.Errorf("reading pull request #%d of %s: unexpected answer (number %d, state %q)", number, g.Repo, pr.Number, pr.State)
	}
	return pr.State, nil
}

// get fetches one URL into v and returns the response's Link header.
func (g *GitHub) get(ctx context.Context, rawURL string, v any) (string, error) {
	return g.do(ctx, http.MethodGet, rawURL, nil, v)
}

// do sends one request (body, if any, as JSON) and decodes a 2xx answer into v.
func (g *GitHub) do(ctx context.Context, method, rawURL string, body, v any) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var reqBody io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return "", err
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, reqBody)
	if err != nil {
		return "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	client := g.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("%s %s: %s: %s", method, redact(rawURL), resp.Status, strings.TrimSpace(string(answer[:min(len(answer), 300)])))
	}
	if err := json.Unmarshal(answer, v); err != nil {
		return "", fmt.Errorf("%s %s: decoding the answer: %w", method, redact(rawURL), err)
	}
	return resp.Header.Get("Link"), nil
}

var nextRel = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="next"`)

// nextLink is the rel="next" URL of a Link header, or "".
func nextLink(header string) string {
	if m := nextRel.FindStringSubmatch(header); m != nil {
		return m[1]
	}
	return ""
}

func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	return u.String()
}

// Comment is an issue comment (pull requests are issues for comments).
type Comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
}

// UpsertComment keeps one comment per pull request and marker: the first comment
// whose body contains marker is replaced, otherwise a new one is posted. Each
// push then updates the preview's comment instead of adding another.
func (g *GitHub) UpsertComment(ctx context.Context, number int, marker, body string) error {
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	base := strings.TrimRight(g.BaseURL, "/")
	next := fmt.Sprintf("%s/repos/%s/issues/%d/comments?per_page=%d", base, g.Repo, number, pageSize)
	for page := 1; next != ""; page++ {
		if page > maxPages {
			return fmt.Errorf("comments of #%d: more than %d pages", number, maxPages)
		}
		var comments []Comment
		link, err := g.get(ctx, next, &comments)
		if err != nil {
			return fmt.Errorf("listing comments of #%d: %w", number, err)
		}
		for _, c := range comments {
			if strings.Contains(c.Body, marker) {
				var updated Comment
				_, err := g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/repos/%s/issues/comments/%d", base, g.Repo, c.ID), map[string]string{"body": body}, &updated)
				return err
			}
		}
		next = nextLink(link)
	}
	var created Comment
	_, err := g.do(ctx, http.MethodPost, fmt.Sprintf("%s/repos/%s/issues/%d/comments", base, g.Repo, number), map[string]string{"body": body}, &created)
	return err
}

// FromEnv is the client of the repository a GitHub Actions job runs for:
// GITHUB_API_URL, GITHUB_REPOSITORY and GITHUB_TOKEN.
func FromEnv() (*GitHub, error) {
	g := &GitHub{BaseURL: os.Getenv("GITHUB_API_URL"), Repo: os.Getenv("GITHUB_REPOSITORY"), Token: os.Getenv("GITHUB_TOKEN")}
	if g.BaseURL == "" {
		g.BaseURL = "https://api.github.com"
	}
	if !strings.Contains(g.Repo, "/") {
		return nil, fmt.Errorf("GITHUB_REPOSITORY=%q: want owner/name", g.Repo)
	}
	if g.Token == "" {
		return nil, fmt.Errorf("GITHUB_TOKEN is not set: the job needs a token with pull-requests access")
	}
	return g, nil
}
