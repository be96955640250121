package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/virdx/vxplatform-infra/internal/programtest"
	"github.com/virdx/vxplatform-infra/program"
	"github.com/virdx/vxplatform-infra/stacks"
)

// ingressConfig turns on the Ingress, which every stack has off by default, so
// that the ingress rules meet the real Ingress the program would deploy.
var ingressConfig = []string{"ingress", "true", "ingressAllowedSources", "10.0.0.0/8"}

// internalIngressConfig gives a non-sensitive stack the same Ingress shape as a
// sensitive one, so that a sensitive-only ingress rule starts from no advisory.
var internalIngressConfig = []string{"ingress", "true", "ingressAllowedSources", "10.0.0.0/8", "ingressClass", "internal"}

func TestRealStacksPassThePack(t *testing.T) {
	tests := []struct {
		name   string
		stack  string
		config []string
		// kinds the run must contain, so that the test cannot pass by seeing nothing.
		mustContain []string
	}{
		{name: "production", stack: "production", mustContain: []string{"kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:CronJob", "minio:index/iamPolicy:IamPolicy", "kubernetes:networking.k8s.io/v1:NetworkPolicy"}},
		{name: "staging", stack: "staging", mustContain: []string{"kubernetes:apps/v1:StatefulSet", "minio:index/iamPolicy:IamPolicy"}},
		{name: "public", stack: "public", mustContain: []string{"kubernetes:apps/v1:Deployment", "minio:index/s3Bucket:S3Bucket"}},
		{name: "previews", stack: "previews", mustContain: []string{"kubernetes:core/v1:Namespace", "kubernetes:networking.k8s.io/v1:NetworkPolicy"}},
		{name: "pr-123", stack: "pr-123", mustContain: []string{"kubernetes:batch/v1:Job", "kubernetes:core/v1:ConfigMap", "minio:index/iamPolicy:IamPolicy"}},
		{name: "production with ingress", stack: "production", config: ingressConfig, mustContain: []string{"kubernetes:networking.k8s.io/v1:Ingress"}},
		{name: "staging with ingress", stack: "staging", config: ingressConfig, mustContain: []string{"kubernetes:networking.k8s.io/v1:Ingress"}},
		{name: "public with ingress", stack: "public", config: []string{"ingress", "true"}, mustContain: []string{"kubernetes:networking.k8s.io/v1:Ingress"}},
		{name: "pr-123 with ingress", stack: "pr-123", config: []string{"ingress", "true"}, mustContain: []string{"kubernetes:networking.k8s.io/v1:Ingress"}},
		{name: "public with pinned images", stack: "public", config: []string{"pinImages", "true"}, mustContain: []string{"kubernetes:apps/v1:Deployment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runProgram(t, tt.stack, tt.config)
			counts := run.CountByType()
			for _, token := range tt.mustContain {
				if counts[token] == 0 {
					t.Fatalf("the run registered no %s; registered: %v", token, counts)
				}
			}
			violations := evaluate(t, tt.stack, inputsOf(run), outputsOf(run))
			var advisories []violation
			for _, v := range violations {
				switch {
				case v.level == policyx.EnforcementLevelMandatory:
					t.Errorf("mandatory violation: %s", v)
				case targetFor(tt.stack).sensitive:
					t.Errorf("a sensitive stack reported a non-mandatory violation: %s", v)
				default:
					advisories = append(advisories, v)
				}
			}
			t.Logf("%d resources checked, %d advisories:\n%s", len(run.Resources), len(advisories), listViolations(advisories))
		})
	}
}

// firstCreateMonitor answers like the engine during the preview of a stack that
// does not exist yet, at its harshest: nothing has been created, so every output
// is unknown (the SDK reads a missing output as unknown during a preview), and
// every input computed from another resource reaches the pack as unknown.
type firstCreateMonitor struct {
	mu        sync.Mutex
	resources []analyzed
}

func (m *firstCreateMonitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	outputs := resource.PropertyMap{}
	if feedsSecrets[args.TypeToken] {
		outputs = args.Inputs.Copy()
		outputs["result"] = resource.MakeSecret(resource.NewStringProperty("generated"))
	}
	m.mu.Lock()
	m.resources = append(m.resources, analyzed{
		Type: args.TypeToken, Name: args.Name,
		URN:   fmt.Sprintf("urn:pulumi:stack::%s::%s::%s", programtest.Project, args.TypeToken, args.Name),
		Props: resource.FromResourcePropertyMap(args.Inputs),
	})
	m.mu.Unlock()
	return "", outputs, nil
}

// feedsSecrets are the resources whose outputs the program puts into secrets.
// The SDK's mocks cannot carry an unknown value inside a secret (they fail with
// "malformed RPC secret"), so these keep known outputs; the values they feed are
// secrets, which the pack looks through but never needs to know.
var feedsSecrets = map[string]bool{
	"random:index/randomPassword:RandomPassword": true,
	"minio:index/iamUser:IamUser":                true,
}

// Call answers the program's one invoke, the registry lookup that pins images,
// which a real preview runs against the registry.
func (m *firstCreateMonitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token != "docker:index/getRegistryImage:getRegistryImage" {
		return nil, fmt.Errorf("first-create preview: unexpected invoke %s", args.Token)
	}
	digest := sha256.Sum256([]byte(args.Args["name"].StringValue()))
	return resource.PropertyMap{"sha256Digest": resource.NewStringProperty("sha256:" + hex.EncodeToString(digest[:]))}, nil
}

// previewFirstCreate runs the real program for a stack as the preview of its
// first update, and returns the resources as the pack receives them.
func previewFirstCreate(t *testing.T, stack string, config []string) []analyzed {
	t.Helper()
	m := &firstCreateMonitor{}
	cfg := map[string]string{}
	for k, v := range programtest.With(programtest.ValidConfig(stack), config...) {
		cfg[stacks.ConfigNamespace+":"+k] = v
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		// The kubeconfig the program sees under mocks, as programtest gives it.
		fixed := func() (program.Kubeconfig, error) {
			return program.Kubeconfig{Files: []string{"first-create-kubeconfig"}, Contexts: programtest.KubeContexts}, nil
		}
		_, err := program.Options{LoadKubeconfig: fixed}.Deploy(ctx)
		return err
	}, pulumi.WithMocks(programtest.Project, stack, m), func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.DryRun = true
	})
	if err != nil {
		t.Fatalf("preview of the first create of %s: %v", stack, err)
	}
	// The SDK's mocks leave unknown inputs out of what they report; the same
	// program with every value known shows where they were.
	known := inputsOf(runProgram(t, stack, config))
	for i, r := range m.resources {
		j := indexOf(known, r.Type, r.Name)
		if j < 0 {
			t.Fatalf("%s %s is in the preview but not in the update", r.Type, r.Name)
		}
		m.resources[i].Props = withUnknowns(property.New(known[j].Props), property.New(r.Props)).AsMap()
	}
	return m.resources
}

// withUnknowns is the previewed value with every part that the known value has
// and the preview lacks marked unknown.
func withUnknowns(known, previewed property.Value) property.Value {
	switch {
	case known.IsMap() && previewed.IsMap():
		out := previewed.AsMap()
		for key, value := range known.AsMap().All {
			if p, ok := previewed.AsMap().GetOk(key); ok {
				out = out.Set(key, withUnknowns(value, p))
			} else {
				out = out.Set(key, property.New(property.Computed))
			}
		}
		return property.New(out).WithSecret(previewed.Secret())
	case known.IsArray() && previewed.IsArray() && known.AsArray().Len() == previewed.AsArray().Len():
		items := make([]property.Value, previewed.AsArray().Len())
		for i := range items {
			items[i] = withUnknowns(known.AsArray().Get(i), previewed.AsArray().Get(i))
		}
		return property.New(items).WithSecret(previewed.Secret())
	}
	return previewed
}

// TestFirstCreatePreviewPasses: a preview of a stack's first create, where every
// value another resource computes is unknown, has no mandatory violation on any
// real stack. The test also proves that the preview does carry unknown values,
// so that it cannot pass by seeing none.
func TestFirstCreatePreviewPasses(t *testing.T) {
	for _, tt := range []struct {
		stack  string
		config []string
	}{
		{stack: "production"}, {stack: "staging"}, {stack: "public"}, {stack: "previews"}, {stack: "pr-123"},
		{stack: "production", config: ingressConfig}, {stack: "pr-123", config: []string{"ingress", "true"}},
	} {
		t.Run(fmt.Sprint(tt.stack, tt.config), func(t *testing.T) {
			resources := previewFirstCreate(t, tt.stack, tt.config)
			unknown := 0
			for _, r := range resources {
				if r.Props.HasComputed() {
					unknown++
				}
			}
			if unknown == 0 && tt.stack != "previews" {
				t.Fatalf("no resource of the %d carries an unknown value: this is not a first-create preview", len(resources))
			}
			var advisories []violation
			for _, v := range evaluate(t, tt.stack, resources, resources) {
				if v.level == policyx.EnforcementLevelMandatory {
					t.Errorf("mandatory violation: %s", v)
				} else {
					advisories = append(advisories, v)
				}
			}
			t.Logf("%d resources, %d with unknown values, %d advisories:\n%s", len(resources), unknown, len(advisories), listViolations(advisories))
		})
	}
}
