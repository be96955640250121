package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

const passwordURN = "urn:pulumi:pr-1::data-platform::random:index/randomPassword:RandomPassword::db-password"

func marshal(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, keepAll)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unmarshal(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, keepAll)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRandomPasswordIsRealAndSecret(t *testing.T) {
	s := newServer(packages["random"])
	in := resource.PropertyMap{"length": resource.NewNumberProperty(32), "special": resource.NewBoolProperty(false)}
	first, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: passwordURN, Properties: marshal(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: passwordURN, Properties: marshal(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := unmarshal(t, first.Properties)["result"], unmarshal(t, second.Properties)["result"]
	if !a.IsSecret() {
		t.Fatalf("result is not a secret: %v", a)
	}
	pa, pb := a.SecretValue().Element.StringValue(), b.SecretValue().Element.StringValue()
	if len(pa) != 32 || strings.ContainsAny(pa, specialChars) {
		t.Errorf("result %q: want 32 characters without specials", pa)
	}
	if pa == pb {
		t.Errorf("two passwords are equal (%q): not random", pa)
	}
	if got := unmarshal(t, first.Properties)["length"]; got.NumberValue() != 32 {
		t.Errorf("input length not kept as output: %v", got)
	}
}

func TestPreviewCreateLeavesComputedUnknown(t *testing.T) {
	s := newServer(packages["random"])
	res, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: passwordURN, Preview: true,
		Properties: marshal(t, resource.PropertyMap{"length": resource.NewNumberProperty(8)})})
	if err != nil {
		t.Fatal(err)
	}
	if res.Id != "" || !unmarshal(t, res.Properties)["result"].IsComputed() {
		t.Errorf("preview create: id %q, result %v; want no id and an unknown result", res.Id, unmarshal(t, res.Properties)["result"])
	}
}

func TestDiff(t *testing.T) {
	cases := []struct {
		name, urn     string
		olds, news    resource.PropertyMap
		want          pulumirpc.DiffResponse_DiffChanges
		wantReplaces  []string
		wantChangeKey string
	}{
		{"same inputs", passwordURN,
			resource.PropertyMap{"length": resource.NewNumberProperty(8)}, resource.PropertyMap{"length": resource.NewNumberProperty(8)},
			pulumirpc.DiffResponse_DIFF_NONE, nil, ""},
		{"random input changed: replace", passwordURN,
			resource.PropertyMap{"length": resource.NewNumberProperty(8)}, resource.PropertyMap{"length": resource.NewNumberProperty(9)},
			pulumirpc.DiffResponse_DIFF_SOME, []string{"length"}, "length"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkgName := strings.SplitN(string(resource.URN(c.urn).Type()), ":", 2)[0]
			res, err := newServer(packages[pkgName]).Diff(context.Background(), &pulumirpc.DiffRequest{
				Urn: c.urn, OldInputs: marshal(t, c.olds), Olds: marshal(t, c.olds), News: marshal(t, c.news)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Changes != c.want || strings.Join(res.Replaces, ",") != strings.Join(c.wantReplaces, ",") {
				t.Errorf("got %v replaces %v, want %v replaces %v", res.Changes, res.Replaces, c.want, c.wantReplaces)
			}
			if c.wantChangeKey != "" && strings.Join(res.Diffs, ",") != c.wantChangeKey {
				t.Errorf("diffs %v, want [%s]", res.Diffs, c.wantChangeKey)
			}
		})
	}
}

func TestRegistryImageDigestIsDeterministic(t *testing.T) {
	s := newServer(packages["docker"])
	invoke := func(name string) resource.PropertyMap {
		res, err := s.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "docker:index/getRegistryImage:getRegistryImage",
			Args: marshal(t, resource.PropertyMap{"name": resource.NewStringProperty(name)})})
		if err != nil {
			t.Fatal(err)
		}
		return unmarshal(t, res.Return)
	}
	a, again, b := invoke("ghcr.io/virdx/vxplatform-api:v1"), invoke("ghcr.io/virdx/vxplatform-api:v1"), invoke("ghcr.io/virdx/vxplatform-api:v2")
	if a["sha256Digest"].StringValue() != again["sha256Digest"].StringValue() {
		t.Error("the same reference resolved to two digests")
	}
	if a["sha256Digest"].StringValue() == b["sha256Digest"].StringValue() {
		t.Error("two tags resolved to the same digest")
	}
	if d := a["sha256Digest"].StringValue(); !strings.HasPrefix(d, "sha256:") || len(d) != 71 {
		t.Errorf("digest %q is not sha256:<64 hex>", d)
	}
}

func TestUnimplementedIsAClearError(t *testing.T) {
	_, err := newServer(packages["docker"]).Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: "urn:pulumi:s::p::docker:index/container:Container::c", News: marshal(t, resource.PropertyMap{})})
	if err == nil || !strings.Contains(err.Error(), "test double") || !strings.Contains(err.Error(), "docker:index/container:Container") {
		t.Errorf("got %v, want an error naming the stand-in and the type", err)
	}
}

func TestPackageName(t *testing.T) {
	if got := packageName("/home/x/.pulumi/plugins/resource-random-v4.21.2/pulumi-resource-random", ""); got != "random" {
		t.Errorf("got %q", got)
	}
	if got := packageName("/tmp/standin", "docker"); got != "docker" {
		t.Errorf("got %q", got)
	}
}

// TestVersionsAreWhatTheProgramRequests: the engine looks a plugin up by the exact
// version the program's SDK requests; the stand-in must be installed under it.
func TestVersionsAreWhatTheProgramRequests(t *testing.T) {
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for name, source := range map[string]string{
		"random": requirement(string(gomod), "github.com/pulumi/pulumi-random/sdk/v4"),
		"docker": requirement(string(gomod), "github.com/pulumi/pulumi-docker/sdk/v4"),
	} {
		if got := packages[name].version; got != source {
			t.Errorf("stand-in %s has version %q; the program requests %q", name, got, source)
		}
	}
}

func requirement(gomod, module string) string {
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+v(\S+)`).FindStringSubmatch(gomod)
	if m == nil {
		return "(not in go.mod)"
	}
	return m[1]
}
