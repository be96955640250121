package program_test

import (
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/virdx/vxplatform-infra/internal/programtest"
)

// at walks a dotted path ("spec.template.spec.containers.0.image") through
// properties; secrets and known outputs are looked through. ok is false when any
// step is missing.
func at(props resource.PropertyMap, path string) (resource.PropertyValue, bool) {
	v := resource.NewObjectProperty(props)
	for _, step := range strings.Split(path, ".") {
		v = unwrap(v)
		switch {
		case v.IsObject():
			next, ok := v.ObjectValue()[resource.PropertyKey(step)]
			if !ok {
				return resource.PropertyValue{}, false
			}
			v = next
		case v.IsArray():
			i, err := strconv.Atoi(step)
			if err != nil || i >= len(v.ArrayValue()) {
				return resource.PropertyValue{}, false
			}
			v = v.ArrayValue()[i]
		default:
			return resource.PropertyValue{}, false
		}
	}
	return unwrap(v), true
}

func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput() && v.OutputValue().Known:
			v = v.OutputValue().Element
		default:
			return v
		}
	}
}

// str is the string at path, or "" when absent or not a string.
func str(props resource.PropertyMap, path string) string {
	v, ok := at(props, path)
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// num is the number at path, or -1 when absent.
func num(props resource.PropertyMap, path string) int {
	v, ok := at(props, path)
	if !ok || !v.IsNumber() {
		return -1
	}
	return int(v.NumberValue())
}

// flag is the bool at path; ok false when absent.
func flag(props resource.PropertyMap, path string) (bool, bool) {
	v, ok := at(props, path)
	if !ok || !v.IsBool() {
		return false, false
	}
	return v.BoolValue(), true
}

// list is the array at path, or nil.
func list(props resource.PropertyMap, path string) []resource.PropertyValue {
	v, ok := at(props, path)
	if !ok || !v.IsArray() {
		return nil
	}
	return v.ArrayValue()
}

// label and annotation read metadata maps of a Kubernetes object (their keys
// contain dots, so they cannot be a step of a path).
func label(res programtest.Resource, key string) string {
	return metadataEntry(res, "labels", key)
}

func annotation(res programtest.Resource, key string) string {
	return metadataEntry(res, "annotations", key)
}

func metadataEntry(res programtest.Resource, field, key string) string {
	entries, ok := at(res.Inputs, "metadata."+field)
	if !ok || !entries.IsObject() {
		return ""
	}
	v := unwrap(entries.ObjectValue()[resource.PropertyKey(key)])
	if !v.IsString() {
		return ""
	}
	return v.StringValue()
}

func resourceKey(s string) resource.PropertyKey { return resource.PropertyKey(s) }

// podTemplatePaths are where each workload kind keeps its pod spec.
var podTemplatePaths = map[string]string{
	"kubernetes:apps/v1:Deployment":  "spec.template.spec",
	"kubernetes:apps/v1:StatefulSet": "spec.template.spec",
	"kubernetes:batch/v1:Job":        "spec.template.spec",
	"kubernetes:batch/v1:CronJob":    "spec.jobTemplate.spec.template.spec",
}

// containers are the containers of a workload, as property maps.
func containers(res programtest.Resource) []resource.PropertyMap {
	path, ok := podTemplatePaths[res.Type]
	if !ok {
		return nil
	}
	var out []resource.PropertyMap
	for _, c := range list(res.Inputs, path+".containers") {
		out = append(out, unwrap(c).ObjectValue())
	}
	return out
}
