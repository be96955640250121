package program

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/virdx/vxplatform-infra/stacks"
)

// TestPulumiYAMLDeclaresEveryConfigKey: Pulumi.yaml, read and validated by the
// Pulumi SDK's own loader, declares exactly the keys stacks knows, with the same
// type, secrecy and description. Keys every stack must set are project config
// (typed; Pulumi requires them on every stack). The others are declared in the
// template's config: Pulumi 3.274 requires every project config key without a
// default on every stack (pulumi/pulumi#21797), and a default would be set on
// every stack, while most keys are for some kinds only and the previews stack
// must not set them.
func TestPulumiYAMLDeclaresEveryConfigKey(t *testing.T) {
	project, err := workspace.LoadProject("../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if project.Name.String() != stacks.ConfigNamespace {
		t.Fatalf("project name %q, want %q", project.Name, stacks.ConfigNamespace)
	}
	var templateConfig map[string]workspace.ProjectTemplateConfigValue
	if project.Template != nil {
		templateConfig = project.Template.Config
	}
	known := map[string]bool{}
	for _, key := range stacks.ConfigKeys {
		name := stacks.ConfigNamespace + ":" + key.Name
		known[name] = true
		declared, inConfig := project.Config[name]
		described, inTemplate := templateConfig[name]
		switch {
		case key.RequiredEverywhere() && !inConfig:
			t.Errorf("%s: every stack must set it; declare it under config:\n%s", name, wantConfigEntry(key))
		case key.RequiredEverywhere():
			if declared.TypeName() != key.Type || declared.Description != key.Description() || declared.Secret != key.Secret || declared.Default != nil || declared.Value != nil {
				t.Errorf("%s is declared %+v; want:\n%s", name, declared, wantConfigEntry(key))
			}
		case inConfig:
			t.Errorf("%s is project config, which Pulumi would require on every stack; declare it under template.config:\n%s", name, wantTemplateEntry(key))
		case !inTemplate:
			t.Errorf("%s is not declared; add under template.config:\n%s", name, wantTemplateEntry(key))
		case described.Description != key.Description() || described.Secret != key.Secret || described.Default != "":
			t.Errorf("%s is declared %+v; want:\n%s", name, described, wantTemplateEntry(key))
		}
		if inConfig && inTemplate {
			t.Errorf("%s is declared twice", name)
		}
	}
	for name := range project.Config {
		if !known[name] {
			t.Errorf("Pulumi.yaml declares %s under config, which the program does not know", name)
		}
	}
	for name := range templateConfig {
		if !known[name] {
			t.Errorf("Pulumi.yaml declares %s under template.config, which the program does not know", name)
		}
	}
}

func wantConfigEntry(key stacks.ConfigKey) string {
	entry := fmt.Sprintf("  %s:%s:\n    type: %s\n    description: %q\n", stacks.ConfigNamespace, key.Name, key.Type, key.Description())
	if key.Secret {
		entry += "    secret: true\n"
	}
	return entry
}

func wantTemplateEntry(key stacks.ConfigKey) string {
	entry := fmt.Sprintf("    %s:%s:\n      description: %q\n", stacks.ConfigNamespace, key.Name, key.Description())
	if key.Secret {
		entry += "      secret: true\n"
	}
	return strings.TrimRight(entry, "\n")
}
