// Package ghapitest is a fake of the GitHub REST API endpoints the pipeline uses,
// for tests (httptest): pull request lists paged as GitHub pages them (30 by
// default, at most 100, Link headers), single pull requests, and issue comments.
package ghapitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Fake is one repository's pull requests and comments.
type Fake struct {
	Server *httptest.Server
	Repo   string
	Token  string

	mu       sync.Mutex
	states   map[int]string
	comments map[int][]comment
	nextID   int64
	// Requests counts requests per path (without the query).
	Requests map[string]int
}

type comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
}

// New starts a fake for repo; the server is closed when the test ends.
func New(t testing.TB, repo, token string) *Fake {
	f := &Fake{Repo: repo, Token: token, states: map[int]string{}, comments: map[int][]comment{}, Requests: map[string]int{}, nextID: 1000}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Server.Close)
	return f
}

// SetState sets a pull request's state ("open" or "closed").
func (f *Fake) SetState(number int, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states[number] = state
}

// Comments are the bodies of a pull request's comments, oldest first.
func (f *Fake) Comments(number int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.comments[number] {
		out = append(out, c.Body)
	}
	return out
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Requests[r.URL.Path]++
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/repos/"+f.Repo+"/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "pulls":
		f.listPulls(w, r)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "pulls":
		n, _ := strconv.Atoi(parts[1])
		state, ok := f.states[n]
		if !ok {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, map[string]any{"number": n, "state": state})
	case len(parts) == 3 && parts[0] == "issues" && parts[2] == "comments":
		n, _ := strconv.Atoi(parts[1])
		if r.Method == http.MethodGet {
			f.page(w, r, len(f.comments[n]), func(i int) any { return f.comments[n][i] })
			return
		}
		var body comment
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f.nextID++
		body.ID = f.nextID
		f.comments[n] = append(f.comments[n], body)
		w.WriteHeader(http.StatusCreated)
		writeJSON(w, body)
	case r.Method == http.MethodPatch && len(parts) == 3 && parts[0] == "issues" && parts[1] == "comments":
		id, _ := strconv.ParseInt(parts[2], 10, 64)
		var body comment
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		for n, cs := range f.comments {
			for i := range cs {
				if cs[i].ID == id {
					f.comments[n][i].Body = body.Body
					writeJSON(w, f.comments[n][i])
					return
				}
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

// listPulls answers like GitHub: state filter (default open), newest first.
func (f *Fake) listPulls(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state == "" {
		state = "open"
	}
	var numbers []int
	for n, s := range f.states {
		if state == "all" || s == state {
			numbers = append(numbers, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(numbers)))
	f.page(w, r, len(numbers), func(i int) any { return map[string]any{"number": numbers[i], "state": f.states[numbers[i]]} })
}

// page writes items [from, to) of the requested page with GitHub's Link header.
func (f *Fake) page(w http.ResponseWriter, r *http.Request, total int, item func(int) any) {
	q := r.URL.Query()
	perPage, page := 30, 1
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	from, to := min((page-1)*perPage, total), min(page*perPage, total)
	items := make([]any, 0, to-from)
	for i := from; i < to; i++ {
		items = append(items, item(i))
	}
	last := max(1, (total+perPage-1)/perPage)
	link := func(p int, rel string) string {
		u := *r.URL
		v := u.Query()
		v.Set("page", strconv.Itoa(p))
		u.RawQuery = v.Encode()
		return fmt.Sprintf(`<%s%s>; rel="%s"`, f.Server.URL, u.RequestURI(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	writeJSON(w, items)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
