package main

import "fmt"

// finding is one thing a rule found wrong with a resource or the stack.
type finding struct {
	message string
	// urn is the resource the finding is about; empty means the resource under
	// analysis (resource rules) and must be set by stack rules.
	urn string
	// undecided findings could not be judged because a value is not known yet.
	// They block sensitive stacks and are dropped elsewhere (see report).
	undecided bool
	// deferred findings are values not known during preview that can hide no
	// grant and no credential (a reference to a resource the pack judges on its
	// own). The rule does not block on them; the advisory pack-decided-at-up
	// policy shows them, and at up, when they are known, the rule decides.
	deferred bool
}

// previewPrefix starts the message of every undecided finding.
const previewPrefix = "cannot be verified during preview: "

// findings collects what one rule finds, with a context ("where") that prefixes
// messages, such as the container a message is about.
type findings struct {
	list  *[]finding
	where string
	urn   string
}

func newFindings() findings { return findings{list: new([]finding)} }

// in returns a collector for a part of the resource (a container, a document).
func (f findings) in(where string) findings {
	if f.where != "" {
		where = f.where + ": " + where
	}
	return findings{list: f.list, where: where, urn: f.urn}
}

// on returns a collector whose findings are about another resource (stack rules).
func (f findings) on(urn string) findings {
	return findings{list: f.list, where: f.where, urn: urn}
}

func (f findings) prefixed(message string) string {
	if f.where == "" {
		return message
	}
	return f.where + ": " + message
}

func (f findings) violation(format string, args ...any) {
	*f.list = append(*f.list, finding{message: f.prefixed(fmt.Sprintf(format, args...)), urn: f.urn})
}

// undecided records that path is not known yet, so the rule cannot decide.
func (f findings) undecided(path string) {
	*f.list = append(*f.list, finding{message: f.prefixed(path + " is not known yet"), urn: f.urn, undecided: true})
}

// deferred records that path is not known yet and is decided at up.
func (f findings) deferred(path string) {
	*f.list = append(*f.list, finding{message: f.prefixed(path + " is not known yet"), urn: f.urn, deferred: true})
}

func (f findings) all() []finding { return *f.list }

// judge returns a lookup's value when the rule can judge it. An unknown value is
// recorded as undecided, a value of the wrong type as a violation (fail closed: the
// pack cannot tell what the provider would make of it); an absent value is
// returned as not ok and left to the rule.
func judge[T any](f findings, l lookup[T]) (T, bool) {
	switch l.state {
	case unknown:
		f.undecided(l.path)
	case mistyped:
		f.violation("%s is not %s", l.path, l.want)
	case known:
		return l.value, true
	}
	var zero T
	return zero, false
}
