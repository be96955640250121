package program

import (
	"maps"
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

type noResources struct{}

func (noResources) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name, args.Inputs, nil
}

func (noResources) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) { return nil, nil }

// TestStackConfigListsEveryKeyOfTheNamespace: the program sees every key the
// stack sets in its namespace, unknown ones included, and nothing of others.
func TestStackConfigListsEveryKeyOfTheNamespace(t *testing.T) {
	runConfig := map[string]string{
		"data-platform:kubeContext": "vx", "data-platform:apiReplica": "3", "data-platform:minioPasword": "hunter2",
		"kubernetes:context": "other", "data-platfor:ingress": "true",
	}
	var got stacks.Config
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		got, err = stackConfig(ctx)
		return err
	}, pulumi.WithMocks("data-platform", "public", noResources{}), func(info *pulumi.RunInfo) {
		info.Config = maps.Clone(runConfig)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := stacks.Config{"kubeContext": "vx", "apiReplica": "3", "minioPasword": "hunter2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stackConfig = %v, want %v", got, want)
	}
}
