package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// edit changes a copy of a resource's properties; the catalog's misconfigurations
// are lists of edits. Paths are dotted; a numeric step indexes a list and "+"
// appends to it. Keys that contain dots (annotations) are written in brackets:
// "metadata.annotations.[kubernetes.io/ingress.class]".
// Placeholders such as {bucket} in paths and replaced text are filled in per stack.
type edit func(t *testing.T, m property.Map, fill *strings.Replacer) property.Map

func set(path string, value property.Value) edit {
	return func(t *testing.T, m property.Map, fill *strings.Replacer) property.Map {
		return changeAt(t, m, fill.Replace(path), func(property.Value, bool) (property.Value, bool) { return value, true })
	}
}

func del(path string) edit {
	return func(t *testing.T, m property.Map, fill *strings.Replacer) property.Map {
		return changeAt(t, m, fill.Replace(path), func(_ property.Value, exists bool) (property.Value, bool) {
			if !exists {
				t.Fatalf("delete %s: nothing there", path)
			}
			return property.Value{}, false
		})
	}
}

// replaceText replaces text inside the string at path, which must contain it.
func replaceText(path, old, replacement string) edit {
	return func(t *testing.T, m property.Map, fill *strings.Replacer) property.Map {
		old, replacement := fill.Replace(old), fill.Replace(replacement)
		return changeAt(t, m, fill.Replace(path), func(v property.Value, exists bool) (property.Value, bool) {
			if !exists || !v.IsString() || !strings.Contains(v.AsString(), old) {
				t.Fatalf("replace in %s: no string containing %q there", path, old)
			}
			return property.New(strings.ReplaceAll(v.AsString(), old, replacement)).WithSecret(v.Secret()), true
		})
	}
}

func splitPath(path string) []string {
	var steps []string
	for path != "" {
		if rest, ok := strings.CutPrefix(path, "["); ok {
			key, after, _ := strings.Cut(rest, "]")
			steps = append(steps, key)
			path = strings.TrimPrefix(after, ".")
			continue
		}
		step, after, _ := strings.Cut(path, ".")
		steps = append(steps, step)
		path = after
	}
	return steps
}

func changeAt(t *testing.T, m property.Map, path string, fn func(old property.Value, exists bool) (property.Value, bool)) property.Map {
	t.Helper()
	out := changeValue(t, property.New(m), splitPath(path), path, fn)
	return out.AsMap()
}

func changeValue(t *testing.T, v property.Value, steps []string, path string, fn func(property.Value, bool) (property.Value, bool)) property.Value {
	t.Helper()
	step, last := steps[0], len(steps) == 1
	switch {
	case v.IsMap():
		m := v.AsMap()
		child, exists := m.GetOk(step)
		if !last {
			if !exists {
				child, exists = property.New(property.NewMap(nil)), true
			}
			return property.New(m.Set(step, changeValue(t, child, steps[1:], path, fn))).WithSecret(v.Secret())
		}
		if value, keep := fn(child, exists); keep {
			return property.New(m.Set(step, value)).WithSecret(v.Secret())
		}
		return property.New(m.Delete(step)).WithSecret(v.Secret())
	case v.IsArray():
		items := append([]property.Value(nil), v.AsArray().AsSlice()...)
		if step == "+" && last {
			value, _ := fn(property.Value{}, false)
			return property.New(append(items, value))
		}
		i, err := strconv.Atoi(step)
		if err != nil || i < 0 || i >= len(items) {
			t.Fatalf("%s: no element %q in a list of %d", path, step, len(items))
		}
		if !last {
			items[i] = changeValue(t, items[i], steps[1:], path, fn)
			return property.New(items)
		}
		if value, keep := fn(items[i], true); keep {
			items[i] = value
			return property.New(items)
		}
		return property.New(append(items[:i], items[i+1:]...))
	}
	t.Fatalf("%s: cannot step into %q of a value that is neither an object nor a list", path, step)
	return v
}

// Value constructors for edits.
func str(s string) property.Value  { return property.New(s) }
func num(n float64) property.Value { return property.New(n) }
func flag(b bool) property.Value   { return property.New(b) }
func list(items ...property.Value) property.Value {
	return property.New(append([]property.Value{}, items...))
}
func obj(fields map[string]property.Value) property.Value { return property.New(fields) }
func computedValue() property.Value                       { return property.New(property.Computed) }
