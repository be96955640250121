// Package policyjson compares IAM policy documents the way MinIO treats them,
// for the test doubles and tests under e2e/.
package policyjson

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Equal reports whether two JSON documents are the same policy: MinIO returns
// actions and resources in an order of its own and turns a single condition
// value into a list of one, so both are compared as sets.
func Equal(a, b string) bool {
	ca, errA := Canonical(a)
	cb, errB := Canonical(b)
	return errA == nil && errB == nil && ca == cb
}

// Canonical is a document in one form for all its equal variants.
func Canonical(doc string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(canonical(v, ""))
	return string(b), err
}

// setValued are the keys whose value is a set of strings, given as a list or as
// one string; condition keys (s3:prefix, aws:SourceIp, ...) contain a colon.
func setValued(key string) bool {
	return key == "Action" || key == "NotAction" || key == "Resource" || key == "NotResource" || strings.Contains(key, ":")
}

func canonical(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			out[k] = canonical(e, k)
		}
		return out
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			out = append(out, canonical(e, "")) // an element is never itself a set
		}
		if setValued(key) {
			sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
		}
		return out
	case string:
		if setValued(key) {
			return []any{t}
		}
	}
	return v
}
