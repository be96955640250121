package main

import (
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// state is what a rule can learn about one property.
type state int

const (
	absent   state = iota // missing or null
	unknown               // computed: not known until the update runs (preview)
	mistyped              // present, but not of the type Kubernetes or MinIO expects
	known
)

// lookup is one property read defensively: its value only when it is known and
// of the expected type. Reading never panics, whatever the shape of the input;
// property.Value's As* accessors panic on a type mismatch (pulumi/pulumi#24654),
// so nothing outside this file calls them.
type lookup[T any] struct {
	value T
	state state
	path  string // dotted path, for messages
	want  string // the expected type, for messages
}

// walk follows path through nested maps. Secret values are looked through: a
// secret is still what the cluster or the store receives.
func walk(m property.Map, path []string) (property.Value, state) {
	v := property.New(m)
	for _, step := range path {
		switch {
		case v.IsComputed():
			return property.Value{}, unknown
		case v.IsNull():
			return property.Value{}, absent
		case !v.IsMap():
			return property.Value{}, mistyped
		}
		next, ok := v.AsMap().GetOk(step)
		if !ok {
			return property.Value{}, absent
		}
		v = next
	}
	switch {
	case v.IsComputed():
		return v, unknown
	case v.IsNull():
		return v, absent
	}
	return v, known
}

func typed[T any](v property.Value, st state, path, want string, is func(property.Value) bool, get func(property.Value) T) lookup[T] {
	l := lookup[T]{state: st, path: path, want: want}
	if st != known {
		return l
	}
	if v.IsComputed() {
		l.state = unknown
		return l
	}
	if v.IsNull() {
		l.state = absent
		return l
	}
	if !is(v) {
		l.state = mistyped
		return l
	}
	l.value = get(v)
	return l
}

func joinPath(path []string) string { return strings.Join(path, ".") }

func stringAt(m property.Map, path ...string) lookup[string] {
	v, st := walk(m, path)
	return asString(v, st, joinPath(path))
}

func boolAt(m property.Map, path ...string) lookup[bool] {
	v, st := walk(m, path)
	return typed(v, st, joinPath(path), "true or false", property.Value.IsBool, property.Value.AsBool)
}

func numberAt(m property.Map, path ...string) lookup[float64] {
	v, st := walk(m, path)
	return typed(v, st, joinPath(path), "a number", property.Value.IsNumber, property.Value.AsNumber)
}

func listAt(m property.Map, path ...string) lookup[[]property.Value] {
	v, st := walk(m, path)
	return asList(v, st, joinPath(path))
}

func mapAt(m property.Map, path ...string) lookup[property.Map] {
	v, st := walk(m, path)
	return asMap(v, st, joinPath(path))
}

// asString, asList and asMap type one value that was already found (st known)
// or not; they are how rules read array elements.
func asString(v property.Value, st state, path string) lookup[string] {
	return typed(v, st, path, "a string", property.Value.IsString, property.Value.AsString)
}

func asList(v property.Value, st state, path string) lookup[[]property.Value] {
	return typed(v, st, path, "a list", property.Value.IsArray, func(v property.Value) []property.Value { return v.AsArray().AsSlice() })
}

func asMap(v property.Value, st state, path string) lookup[property.Map] {
	return typed(v, st, path, "an object", property.Value.IsMap, property.Value.AsMap)
}

// elements pairs each element of a known list with its path.
func elements(values []property.Value, path string) []elementAt {
	out := make([]elementAt, 0, len(values))
	for i, v := range values {
		out = append(out, elementAt{value: v, path: path + "[" + strconv.Itoa(i) + "]"})
	}
	return out
}

// elementAt is one element of a list and its path.
type elementAt struct {
	value property.Value
	path  string
}

func (e elementAt) asMap() lookup[property.Map] { return asMap(e.value, known, e.path) }
func (e elementAt) asString() lookup[string]    { return asString(e.value, known, e.path) }

// stringsOf collects the known strings of a list and reports whether every
// element was a known string; rules that need all of them treat false as
// undecidable.
func stringsOf(values []property.Value) ([]string, bool) {
	out := make([]string, 0, len(values))
	complete := true
	for _, v := range values {
		if v.IsComputed() || !v.IsString() {
			complete = false
			continue
		}
		out = append(out, v.AsString())
	}
	return out, complete
}
