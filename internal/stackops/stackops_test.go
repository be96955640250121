package stackops_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/virdx/vxplatform-infra/internal/stackops"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    map[string]string
		wantErr string
	}{
		{"known keys, others ignored", []string{"VX_CONFIG_apiTag=v1.2.3", "VX_CONFIG_minioPassword=s3cret", "HOME=/root", "VX_STACK=pr-1"},
			map[string]string{"apiTag": "v1.2.3", "minioPassword": "s3cret"}, ""},
		{"an empty value sets nothing", []string{"VX_CONFIG_frontendTag=", "VX_CONFIG_kubeContext=ctx"}, map[string]string{"kubeContext": "ctx"}, ""},
		{"a misspelled key is named", []string{"VX_CONFIG_apiReplica=3"}, nil, "VX_CONFIG_apiReplica: not config keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stackops.ConfigFromEnv(tc.environ)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "VX_CONFIG_apiReplicas") {
					t.Fatalf("err = %v, want %q and the allowed keys", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestOpenRefusesToRunWithoutThePolicyPack(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: data-platform\nruntime: go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notExecutable := filepath.Join(dir, "policy-pack")
	if err := os.WriteFile(notExecutable, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, pack := range []string{"", filepath.Join(dir, "missing"), notExecutable} {
		if _, err := stackops.Open(dir, "", pack, nil); err == nil || !strings.Contains(err.Error(), "policy pack") {
			t.Errorf("Open with policy pack %q: err = %v, want a refusal naming the policy pack", pack, err)
		}
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "Pulumi.yaml"), []byte("name: website\nruntime: go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := stackops.Open(other, "", notExecutable, nil); err == nil || !strings.Contains(err.Error(), `"website"`) {
		t.Errorf("Open of another project: err = %v, want it named", err)
	}
}

func TestMarkdownNamesThePreviewURLAndOutputs(t *testing.T) {
	r := stackops.Report{Stack: "pr-7", Operation: "up",
		Changes: []stackops.Step{{Op: "update", URN: "urn:pulumi:pr-7::data-platform::kubernetes:apps/v1:Deployment::pr-7-api", Type: "kubernetes:apps/v1:Deployment", Diffs: []string{"spec"}}},
		Outputs: auto.OutputMap{
			"hostname":    {Value: "pr-7.previews.data.virdx.dev"},
			"namespace":   {Value: "data-platform-previews"},
			"readBuckets": {Value: []any{"dataplatform-public"}},
			"dsn":         {Value: "postgres://u:p@h/db", Secret: true},
		}}
	md := stackops.Markdown(r, nil)
	for _, want := range []string{stackops.Marker("pr-7"), "Preview URL: https://pr-7.previews.data.virdx.dev",
		"| `namespace` | `data-platform-previews` |", "| `readBuckets` | `[\"dataplatform-public\"]` |",
		"| `dsn` | [secret] |", "| update | `kubernetes:apps/v1:Deployment` | `pr-7-api` | spec |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "u:p@h") {
		t.Errorf("markdown shows a secret output:\n%s", md)
	}
	r.Outputs["hostname"] = auto.OutputValue{Value: ""}
	if md := stackops.Markdown(r, errors.New("boom")); strings.Contains(md, "Preview URL") || !strings.Contains(md, "**failed**") {
		t.Errorf("no ingress: want no URL and the failure shown:\n%s", md)
	}
}
