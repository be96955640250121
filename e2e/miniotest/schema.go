package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// kind is the type of one input property, as in the provider's schema.
type kind int

const (
	kindString kind = iota
	kindBool
	kindNumber
	kindStringMap
	kindList
	kindObject
)

func (k kind) String() string {
	return [...]string{"a string", "a boolean", "a number", "a map of strings", "a list", "an object"}[k]
}

// input is one input property of a resource type.
type input struct {
	name     string
	kind     kind
	required bool
}

// resourceType is one minio resource: its schema (inputs, defaults, the inputs
// whose change replaces it, computed outputs) as in pulumi-minio 0.17.1, and how
// it is applied to a MinIO server.
type resourceType struct {
	token  string
	inputs []input
	// defaults are the schema defaults the real provider fills in on Check.
	defaults resource.PropertyMap
	// replaceOn are the inputs marked ForceNew upstream.
	replaceOn []string
	// autoName is the input that gets "<resource name>-<7 hex>" when unset;
	// autoNamePrefix, when set, replaces the resource name in it.
	autoName, autoNamePrefix string
	// computed are the output-only properties; secretOutputs those that are secret.
	computed      []string
	secretOutputs []string

	// create applies inputs and returns the id and the computed outputs.
	create func(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error)
	// read returns what the server holds, as outputs (state values where the
	// server cannot show them), or found=false when the object is gone.
	read func(ctx context.Context, c *conn, id string, state resource.PropertyMap) (out resource.PropertyMap, found bool, err error)
	// update applies the new inputs in place and returns the computed outputs.
	update func(ctx context.Context, c *conn, id string, state, news resource.PropertyMap) (resource.PropertyMap, error)
	delete func(ctx context.Context, c *conn, id string, state resource.PropertyMap) error
}

var resourceTypes = map[string]*resourceType{}

func register(t *resourceType) {
	resourceTypes[t.token] = t
}

func (t *resourceType) input(name string) (input, bool) {
	for _, in := range t.inputs {
		if in.name == name {
			return in, true
		}
	}
	return input{}, false
}

func (t *resourceType) inputNames() []string {
	var names []string
	for _, in := range t.inputs {
		names = append(names, in.name)
	}
	return names
}

// check validates inputs against the schema: unknown properties, wrong types
// and missing required inputs are each reported by name with what is allowed.
func (t *resourceType) check(news resource.PropertyMap) []string {
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(news)) {
		in, ok := t.input(string(key))
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: %q is not an input of %s; its inputs are %s",
				key, key, t.token, strings.Join(t.inputNames(), ", ")))
			continue
		}
		if v := plainValue(news[key]); !v.IsComputed() && !v.IsNull() && !hasKind(v, in.kind) {
			problems = append(problems, fmt.Sprintf("%s: %v is not %s", key, v.V, in.kind))
		}
	}
	for _, in := range t.inputs {
		if v, ok := news[resource.PropertyKey(in.name)]; in.required && (!ok || v.IsNull()) {
			problems = append(problems, fmt.Sprintf("%s: required by %s but not set", in.name, t.token))
		}
	}
	return problems
}

func hasKind(v resource.PropertyValue, k kind) bool {
	switch k {
	case kindString:
		return v.IsString()
	case kindBool:
		return v.IsBool()
	case kindNumber:
		return v.IsNumber()
	case kindStringMap:
		if !v.IsObject() {
			return false
		}
		for _, e := range v.ObjectValue() {
			if e = plainValue(e); !e.IsString() && !e.IsComputed() {
				return false
			}
		}
		return true
	case kindList:
		return v.IsArray()
	case kindObject:
		return v.IsObject()
	}
	return false
}

// plainValue is v without its secret or output wrapper.
func plainValue(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput():
			o := v.OutputValue()
			if !o.Known {
				return resource.MakeComputed(resource.NewStringProperty(""))
			}
			v = o.Element
		default:
			return v
		}
	}
}

// str is a string property, or "" when unset.
func str(m resource.PropertyMap, key string) string {
	v := plainValue(m[resource.PropertyKey(key)])
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// boolean is a bool property, or false when unset.
func boolean(m resource.PropertyMap, key string) bool {
	v := plainValue(m[resource.PropertyKey(key)])
	return v.IsBool() && v.BoolValue()
}

// number is a number property and whether it is set.
func number(m resource.PropertyMap, key string) (float64, bool) {
	v := plainValue(m[resource.PropertyKey(key)])
	if v.IsNumber() {
		return v.NumberValue(), true
	}
	return 0, false
}

func set(m resource.PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	return ok && !plainValue(v).IsNull()
}

func strProp(s string) resource.PropertyValue  { return resource.NewStringProperty(s) }
func boolProp(b bool) resource.PropertyValue   { return resource.NewBoolProperty(b) }
func numProp(n float64) resource.PropertyValue { return resource.NewNumberProperty(n) }

// sameValue compares two property values, ignoring secret and output markers.
func sameValue(a, b resource.PropertyValue) bool {
	return plainDeep(a).DeepEquals(plainDeep(b))
}

func plainDeep(v resource.PropertyValue) resource.PropertyValue {
	v = plainValue(v)
	switch {
	case v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			if e = plainDeep(e); !e.IsNull() {
				out[k] = e
			}
		}
		return resource.NewObjectProperty(out)
	case v.IsArray():
		var out []resource.PropertyValue
		for _, e := range v.ArrayValue() {
			out = append(out, plainDeep(e))
		}
		return resource.NewArrayProperty(out)
	}
	return v
}
