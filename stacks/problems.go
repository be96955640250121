package stacks

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a stack's config: which key, what value, and
// what would have been accepted.
type Problem struct {
	Key     string
	Value   string
	Allowed string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s%s = %q: allowed: %s", ConfigNamespace+":", p.Key, p.Value, p.Allowed)
}

// ConfigError carries every problem found in a stack's config, so that one run
// shows them all rather than the first one only.
type ConfigError struct {
	Stack    string
	Problems []Problem
}

func (e *ConfigError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("stack %q: %d config problem(s), nothing was deployed:", e.Stack, len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  - "+p.String())
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems while a config is read.
type problems []Problem

func (ps *problems) add(key, value, allowed string) {
	*ps = append(*ps, Problem{Key: key, Value: value, Allowed: allowed})
}
