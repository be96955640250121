package program

import (
	"errors"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// stackConfig is every key the stack sets in the project's namespace, known to
// the program or not, without the namespace: stacks.Load rejects the unknown
// ones, so that a misspelt key is an error rather than silently ignored.
func stackConfig(ctx *pulumi.Context) (stacks.Config, error) {
	all, err := runConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg := stacks.Config{}
	for key, value := range all {
		if name, ours := strings.CutPrefix(key, stacks.ConfigNamespace+":"); ours {
			cfg[name] = value
		}
	}
	return cfg, nil
}

// errConfigUnlisted stops the program when the SDK no longer lets it list the
// run's config: without the list, misspelt keys would pass unnoticed.
var errConfigUnlisted = errors.New("cannot list the stack's config keys: the Pulumi Go SDK's Context changed " +
	"(program/config.go reads RunInfo.Config); update runConfig for this SDK version")

// runConfig is the whole config of the run, namespaced keys to values. The Go
// SDK answers for one key at a time (Context.GetConfig) but cannot list them;
// the Context holds the RunInfo the engine sent, and its Config is read here,
// read-only, by reflection. The same path works under the CLI, the Automation
// API and mocks. The result is checked against GetConfig both ways, so that a
// change in the SDK fails loudly instead of hiding keys.
func runConfig(ctx *pulumi.Context) (map[string]string, error) {
	state := reflect.ValueOf(ctx).Elem().FieldByName("state")
	if !state.IsValid() || state.Kind() != reflect.Pointer || state.IsNil() {
		return nil, errConfigUnlisted
	}
	info := state.Elem().FieldByName("info")
	if !info.IsValid() || info.Kind() != reflect.Struct {
		return nil, errConfigUnlisted
	}
	config := info.FieldByName("Config")
	if !config.IsValid() || config.Type() != reflect.TypeFor[map[string]string]() {
		return nil, errConfigUnlisted
	}
	all := make(map[string]string, config.Len())
	for entry := config.MapRange(); entry.Next(); {
		all[entry.Key().String()] = entry.Value().String()
	}
	for key, value := range all {
		if got, ok := ctx.GetConfig(key); !ok || got != value {
			return nil, errConfigUnlisted
		}
	}
	for _, key := range stacks.ConfigKeys {
		full := stacks.ConfigNamespace + ":" + key.Name
		if _, set := ctx.GetConfig(full); set {
			if _, listed := all[full]; !listed {
				return nil, errConfigUnlisted
			}
		}
	}
	return all, nil
}
