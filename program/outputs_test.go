package program_test

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/components"
	"github.com/virdx/vxplatform-infra/internal/programtest"
)

func TestStackOutputs(t *testing.T) {
	tests := []struct {
		stack   string
		cfg     map[string]string
		want    map[string]any
		pinned  bool
		images  int
		preview bool
	}{
		{stack: "production", pinned: true, images: 4, want: map[string]any{
			"namespace": "data-platform-production", "frontendService": "frontend", "apiService": "api", "postgresService": "postgres",
			"hostname": "", "targetBucket": "dataplatform-prod", "readBuckets": []string{},
		}},
		{stack: "staging", pinned: true, images: 4, want: map[string]any{
			"namespace": "data-platform-staging", "targetBucket": "dataplatform-dev", "readBuckets": []string{"dataplatform-prod"},
		}},
		{stack: "public", images: 4, cfg: map[string]string{"ingress": "true"}, want: map[string]any{
			"namespace": "data-platform-public", "hostname": "public.data.virdx.dev", "targetBucket": "dataplatform-public",
		}},
		{stack: "previews", want: map[string]any{"namespace": "data-platform-previews", "apiService": "", "images": map[string]string{}}},
		{stack: "pr-123", images: 6, preview: true, want: map[string]any{
			"namespace": "data-platform-previews", "frontendService": "pr-123-frontend", "apiService": "pr-123-api",
			"postgresService": "pr-123-postgres", "targetBucket": "preview-data", "readBuckets": []string{"dataplatform-public"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			cfg := programtest.ValidConfig(tt.stack)
			for k, v := range tt.cfg {
				cfg[k] = v
			}
			outputs, err := programtest.StackOutputs(tt.stack, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range tt.want {
				if got := outputs[key]; !reflect.DeepEqual(normalize(got), normalize(want)) {
					t.Errorf("output %s = %#v, want %#v", key, got, want)
				}
			}
			images, _ := outputs["images"].(map[string]string)
			if len(images) != tt.images {
				t.Errorf("images output %v: want %d entries", images, tt.images)
			}
			for part, ref := range images {
				if s := ref; strings.Contains(s, "@sha256:") != tt.pinned && part != "objectStore" && part != "objectTool" {
					t.Errorf("image %s = %q, pinned want %v", part, s, tt.pinned)
				}
			}
			endpoints, _ := outputs["s3Endpoints"].(map[string]string)
			if tt.stack != "previews" && endpoints["central"] != "192.168.10.101:10000" {
				t.Errorf("s3Endpoints %v", endpoints)
			}
			if _, hasPreview := endpoints["preview"]; hasPreview != tt.preview {
				t.Errorf("s3Endpoints %v: preview store want %v", endpoints, tt.preview)
			}
		})
	}
}

// normalize makes nil and empty lists compare equal.
func normalize(v any) any {
	if l, ok := v.([]string); ok && len(l) == 0 {
		return []string{}
	}
	return v
}

// TestEachImageResolvedOnce: a pinned stack asks the registry once per image.
func TestEachImageResolvedOnce(t *testing.T) {
	for stack, lookups := range map[string]int{"production": 4, "staging": 4, "public": 0, "pr-123": 0} {
		run := runStack(t, stack)
		if len(run.Invokes) != lookups {
			t.Errorf("%s: %d registry lookups %v, want %d", stack, len(run.Invokes), run.Invokes, lookups)
		}
	}
}

// TestStackOutputNames: every stack exports exactly the platform's outputs, the
// one list that tools printing outputs read.
func TestStackOutputNames(t *testing.T) {
	want := []string{"apiService", "frontendService", "hostname", "images", "namespace", "postgresService", "readBuckets", "s3Endpoints", "targetBucket"}
	if got := components.PlatformOutputNames(); !reflect.DeepEqual(got, want) {
		t.Fatalf("PlatformOutputNames() = %v, want %v", got, want)
	}
	for _, stack := range []string{"production", "previews", "pr-123"} {
		outputs, err := programtest.StackOutputs(stack, programtest.ValidConfig(stack))
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(outputs)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s exports %v, want %v", stack, got, want)
		}
	}
}
