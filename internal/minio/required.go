package minio

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// requiredInput pairs the Go field name a caller has to set with its value.
type requiredInput struct {
	field string
	value pulumi.Input
}

// checkRequired reports every missing required input at once, naming the
// resource type and the resource name, so a caller can fix them in one pass.
// The generated SDK stops at the first and does not say which resource failed.
func checkRequired(resourceType, name string, inputs ...requiredInput) error {
	var missing []string
	for _, input := range inputs {
		if isUnset(input.value) {
			missing = append(missing, input.field)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("minio.%s %q: missing required argument(s): %s",
		resourceType, name, strings.Join(missing, ", "))
}

// isUnset also treats a typed nil pointer as absent: stored in an interface
// field it is non-nil, yet it marshals to nothing and the provider would reject
// the resource only at deploy time.
func isUnset(value pulumi.Input) bool {
	if value == nil {
		return true
	}
	v := reflect.ValueOf(value)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
