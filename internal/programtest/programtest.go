// Package programtest runs the real Pulumi program under mocks and records every
// resource it registers. It is test support only: tests of the program and of
// the policy pack use it; nothing in the program imports it.
package programtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/virdx/vxplatform-infra/internal/testconfig"
	"github.com/virdx/vxplatform-infra/program"
	"github.com/virdx/vxplatform-infra/stacks"
)

// Project is the Pulumi project name.
const Project = stacks.ConfigNamespace

// Resource is one registered resource as the engine would have seen it.
type Resource struct {
	Type     string
	Name     string
	URN      string
	Parent   string
	Provider string
	Custom   bool
	Inputs   resource.PropertyMap
	Outputs  resource.PropertyMap
}

// Run is what one program run registered.
type Run struct {
	Resources []Resource
	// OutputsRegistered counts RegisterResourceOutputs calls (components and the stack).
	OutputsRegistered int
	// Invokes are the function tokens the program called.
	Invokes []string
	// Secrets are plaintexts the mocks handed out as secret values; none may appear
	// anywhere in plain form.
	Secrets []string
}

// ByType returns the registered resources of a type token, in registration order.
func (r *Run) ByType(token string) []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Type == token {
			out = append(out, res)
		}
	}
	return out
}

// Find returns the resource of a type whose Kubernetes or Pulumi name is name.
func (r *Run) Find(token, name string) (Resource, bool) {
	for _, res := range r.ByType(token) {
		if res.Name == name || KubernetesName(res) == name {
			return res, true
		}
	}
	return Resource{}, false
}

// CountByType counts registrations per type token.
func (r *Run) CountByType() map[string]int {
	counts := map[string]int{}
	for _, res := range r.Resources {
		counts[res.Type]++
	}
	return counts
}

// KubernetesName is metadata.name of a Kubernetes object, or "".
func KubernetesName(res Resource) string {
	meta, ok := res.Inputs["metadata"]
	if !ok || !meta.IsObject() {
		return ""
	}
	name, ok := meta.ObjectValue()["name"]
	if !ok || !name.IsString() {
		return ""
	}
	return name.StringValue()
}

// recorder is the mock engine: it echoes inputs as outputs, generates the values a
// real provider would compute, and records everything.
type recorder struct {
	mu  sync.Mutex
	run Run
}

func (m *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	outputs := args.Inputs.Copy()
	switch args.TypeToken {
	case "random:index/randomPassword:RandomPassword":
		secret := fmt.Sprintf("generated-%x", sha256.Sum256([]byte(args.Name)))[:40]
		m.addSecret(secret)
		outputs["result"] = resource.MakeSecret(resource.NewStringProperty(secret))
	case "minio:index/s3Bucket:S3Bucket":
		if b, ok := args.Inputs["bucket"]; ok && b.IsString() {
			outputs["arn"] = resource.NewStringProperty("arn:aws:s3:::" + b.StringValue())
		}
	}
	var parent string
	if args.RegisterRPC != nil {
		parent = args.RegisterRPC.GetParent()
	}
	m.mu.Lock()
	m.run.Resources = append(m.run.Resources, Resource{
		Type: args.TypeToken, Name: args.Name, Parent: parent, Provider: args.Provider,
		Custom: args.Custom, Inputs: args.Inputs, Outputs: outputs,
		URN: fmt.Sprintf("urn:pulumi:stack::%s::%s::%s", Project, args.TypeToken, args.Name),
	})
	m.mu.Unlock()
	return args.Name + "-id", outputs, nil
}

func (m *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.run.Invokes = append(m.run.Invokes, args.Token)
	m.mu.Unlock()
	if args.Token == "docker:index/getRegistryImage:getRegistryImage" {
		name := args.Args["name"].StringValue()
		digest := sha256.Sum256([]byte(name))
		return resource.PropertyMap{
			"name":         resource.NewStringProperty(name),
			"sha256Digest": resource.NewStringProperty("sha256:" + hex.EncodeToString(digest[:])),
		}, nil
	}
	return nil, fmt.Errorf("mock: unexpected invoke %s", args.Token)
}

func (m *recorder) RegisterResourceOutputs() (*emptypb.Empty, error) {
	m.mu.Lock()
	m.run.OutputsRegistered++
	m.mu.Unlock()
	return &emptypb.Empty{}, nil
}

func (m *recorder) addSecret(s string) {
	m.mu.Lock()
	m.run.Secrets = append(m.run.Secrets, s)
	m.mu.Unlock()
}

// KubeContexts are the contexts of the kubeconfig the program sees under mocks;
// ValidConfig names the first.
var KubeContexts = []string{testconfig.KubeContext, "vx-other"}

// kubeconfig stands for the machine's kubeconfig, so that runs under mocks do
// not depend on it.
func kubeconfig() (program.Kubeconfig, error) {
	return program.Kubeconfig{Files: []string{"programtest-kubeconfig"}, Searched: []string{"programtest-kubeconfig"}, Contexts: KubeContexts}, nil
}

// The config helpers live in internal/testconfig, which imports nothing of the
// program, so that packages the program imports can use them in their tests.
var (
	SecretConfigValue = testconfig.SecretValue
	ValidConfig       = testconfig.Valid
	With              = testconfig.With
	Without           = testconfig.Without
)

// RunProgram runs the real program for a stack under mocks. extra, if given, runs
// after the program in the same context (tests add deliberate misconfigurations).
func RunProgram(stack string, cfg stacks.Config, extra ...func(*pulumi.Context) error) (*Run, error) {
	run, _, err := run(stack, cfg, extra...)
	return run, err
}

// StackOutputs runs the real program under mocks and returns its stack outputs,
// resolved.
func StackOutputs(stack string, cfg stacks.Config) (map[string]any, error) {
	_, outputs, err := run(stack, cfg)
	return outputs, err
}

func run(stack string, cfg stacks.Config, extra ...func(*pulumi.Context) error) (*Run, map[string]any, error) {
	m := &recorder{}
	config := map[string]string{}
	var secretKeys []string
	for k, v := range cfg {
		full := stacks.ConfigNamespace + ":" + k
		config[full] = v
		if isSecretKey(k) {
			secretKeys = append(secretKeys, full)
			m.addSecret(v)
		}
	}
	sort.Strings(secretKeys)
	var resolved map[string]any
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		outputs, err := program.Options{LoadKubeconfig: kubeconfig}.Deploy(ctx)
		if err != nil {
			return err
		}
		for name, value := range outputs {
			ctx.Export(name, value)
		}
		for _, f := range extra {
			if err := f(ctx); err != nil {
				return err
			}
		}
		result, err := internals.UnsafeAwaitOutput(ctx.Context(), outputs.ToMapOutput())
		if err != nil {
			return err
		}
		resolved, _ = result.Value.(map[string]any)
		return nil
	}, pulumi.WithMocks(Project, stack, m), func(info *pulumi.RunInfo) {
		info.Config = config
		info.ConfigSecretKeys = secretKeys
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	run := m.run
	return &run, resolved, err
}

func isSecretKey(name string) bool {
	for _, k := range stacks.ConfigKeys {
		if k.Name == name {
			return k.Secret
		}
	}
	return false
}

// PlainStrings lists every string in a property value that is not under a secret,
// with its path, so that tests can look for leaked credentials.
func PlainStrings(path string, v resource.PropertyValue, visit func(path, s string)) {
	switch {
	case v.IsSecret():
		return
	case v.IsString():
		visit(path, v.StringValue())
	case v.IsArray():
		for i, item := range v.ArrayValue() {
			PlainStrings(fmt.Sprintf("%s[%d]", path, i), item, visit)
		}
	case v.IsObject():
		obj := v.ObjectValue()
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		for _, k := range keys {
			PlainStrings(path+"."+k, obj[resource.PropertyKey(k)], visit)
		}
	case v.IsOutput():
		if out := v.OutputValue(); out.Known && !out.Secret {
			PlainStrings(path, out.Element, visit)
		}
	}
}

// Contains reports whether any of the needles occurs in s.
func Contains(s string, needles []string) (string, bool) {
	for _, n := range needles {
		if n != "" && strings.Contains(s, n) {
			return n, true
		}
	}
	return "", false
}
