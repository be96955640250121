package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/virdx/vxplatform-infra/stacks"
)

// designedScopes is the decision the README's table documents, written down
// independently of the rule definitions.
var designedScopes = map[string]scope{
	"kubernetes-service-no-external-exposure":            everywhere,
	"kubernetes-ingress-internal-only":                   sensitiveOnly,
	"kubernetes-ingress-tls-no-wildcard-host":            everywhere,
	"kubernetes-ingress-own-hostname":                    everywhere,
	"kubernetes-pod-no-host-access":                      everywhere,
	"kubernetes-container-restricted-security-context":   everywhere,
	"kubernetes-networkpolicy-no-open-peers":             everywhere,
	"kubernetes-networkpolicy-no-all-namespaces-ingress": sensitiveOnly,
	"kubernetes-object-in-own-namespace":                 everywhere,
	"kubernetes-namespace-restricted-pod-security":       everywhere,
	"kubernetes-rbac-no-broad-grants":                    everywhere,
	"kubernetes-namespace-default-deny":                  everywhere,
	"minio-bucket-no-public-acl":                         everywhere,
	"minio-bucket-policy-no-anonymous-principal":         everywhere,
	"minio-iam-no-wildcard-admin":                        everywhere,
	"minio-iam-patient-data-write-owner-only":            everywhere,
	"minio-iam-preview-no-patient-data":                  everywhere,
	"minio-iam-attachments-own-environment":              everywhere,
	"kubernetes-container-no-literal-credentials":        everywhere,
	"kubernetes-container-image-tagged":                  everywhere,
	"kubernetes-container-image-digest":                  sensitiveOnly,
	"kubernetes-container-resources":                     sensitiveOnly,
	"kubernetes-no-opaque-objects":                       sensitiveOnly,
	"pack-decided-at-up":                                 advisoryEverywhere,
}

// declaredRuleNames finds, in the package's own source, the name of every rule
// value it declares (resourceRule{...} and stackRule{...} literals), so that a
// rule written but never added to the pack is caught.
func declaredRuleNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var names []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			typ, ok := lit.Type.(*ast.Ident)
			if !ok || (typ.Name != "resourceRule" && typ.Name != "stackRule") {
				return true
			}
			for _, elt := range lit.Elts {
				kv, ok := elt.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "name" {
					value, ok := kv.Value.(*ast.BasicLit)
					if !ok {
						t.Fatalf("%s: a rule's name must be a string literal", fset.Position(kv.Pos()))
					}
					name, err := strconv.Unquote(value.Value)
					if err != nil {
						t.Fatal(err)
					}
					names = append(names, name)
				}
			}
			return true
		})
	}
	sort.Strings(names)
	return names
}

func TestEveryPolicyIsRegistered(t *testing.T) {
	declared := declaredRuleNames(t)
	if len(declared) == 0 {
		t.Fatal("found no rule declarations: the source scan is broken")
	}
	pack, err := packFor(targetFor("production"))
	if err != nil {
		t.Fatal(err)
	}
	var registered []string
	for _, p := range pack.Policies() {
		registered = append(registered, p.Name())
	}
	sort.Strings(registered)
	if !slices.Equal(declared, registered) {
		t.Errorf("rules declared in the package:\n  %v\npolicies in the pack:\n  %v", declared, registered)
	}
	designed := slices.Sorted(maps.Keys(designedScopes))
	if !slices.Equal(designed, registered) {
		t.Errorf("rules in designedScopes (the README's table):\n  %v\npolicies in the pack:\n  %v", designed, registered)
	}
}

// TestEveryPolicyHasAnExplicitLevel checks each policy's level on every kind of
// stack against the design, including a stack name the platform does not know.
func TestEveryPolicyHasAnExplicitLevel(t *testing.T) {
	sensitive := map[string]bool{"production": true, "staging": true, "public": false, "previews": false, "pr-123": false, "dev": true}
	for stack, isSensitive := range sensitive {
		pack, err := packFor(targetFor(stack))
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		if pack.Name() != packName || !pack.Version().Equals(packVersion) {
			t.Errorf("%s: pack is %s %s", stack, pack.Name(), pack.Version())
		}
		for _, p := range pack.Policies() {
			want := policyx.EnforcementLevelMandatory
			if designedScopes[p.Name()] == advisoryEverywhere || (designedScopes[p.Name()] == sensitiveOnly && !isSensitive) {
				want = policyx.EnforcementLevelAdvisory
			}
			if p.EnforcementLevel() != want {
				t.Errorf("%s on %s is %s, designed %s", p.Name(), stack, levelName(p.EnforcementLevel()), levelName(want))
			}
			if strings.TrimSpace(p.Description()) == "" {
				t.Errorf("%s has no description", p.Name())
			}
		}
	}
}

func TestScopeOutsideTheDesignFailsClosed(t *testing.T) {
	if got := scope(0).level(targetFor("public")); got != policyx.EnforcementLevelMandatory {
		t.Errorf("the zero scope is %s on public, want mandatory", levelName(got))
	}
}

func TestSensitivityComesFromTheStackName(t *testing.T) {
	for stack, want := range map[string]bool{
		"production": true, "staging": true, "public": false, "previews": false, "pr-123": false,
		"prod": true, "Production": true, "": true, "pr-0": true,
	} {
		if got := targetFor(stack).sensitive; got != want {
			t.Errorf("targetFor(%q).sensitive = %v, want %v", stack, got, want)
		}
	}
}

// TestReadmeDocumentsEveryPolicy: the README's table is the decision record the
// main README links to; it must list every policy with its designed levels.
func TestReadmeDocumentsEveryPolicy(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if m := regexp.MustCompile("^\\| `([a-z0-9-]+)` \\|").FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	for name, s := range designedScopes {
		row, ok := rows[name]
		if !ok {
			t.Errorf("README.md has no table row for %s", name)
			continue
		}
		sensitiveLevel, other := "mandatory", "mandatory"
		switch s {
		case sensitiveOnly:
			other = "advisory"
		case advisoryEverywhere:
			sensitiveLevel, other = "advisory", "advisory"
		}
		if !strings.Contains(row, "| "+sensitiveLevel+" | "+other+" |") {
			t.Errorf("README.md row for %s does not say | %s | %s |:\n%s", name, sensitiveLevel, other, row)
		}
	}
	for name := range rows {
		if _, ok := designedScopes[name]; !ok {
			t.Errorf("README.md lists %s, which is not a policy of the pack", name)
		}
	}
}

func TestPolicyProjectVersionMatchesThePack(t *testing.T) {
	project, err := os.ReadFile("PulumiPolicy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(project)
	if !regexp.MustCompile(`(?m)^runtime: go$`).MatchString(text) {
		t.Errorf("PulumiPolicy.yaml does not say runtime: go:\n%s", text)
	}
	m := regexp.MustCompile(`(?m)^version: (\S+)$`).FindStringSubmatch(text)
	if m == nil || m[1] != packVersion.String() {
		t.Errorf("PulumiPolicy.yaml version %v, pack version %s", m, packVersion)
	}
}

func TestPatientDataOwnersCoverTheSensitiveBuckets(t *testing.T) {
	owned := slices.Sorted(maps.Keys(patientDataOwners))
	sensitive := append([]string(nil), stacks.SensitiveBuckets...)
	sort.Strings(sensitive)
	if !slices.Equal(owned, sensitive) {
		t.Errorf("patientDataOwners covers %v, stacks.SensitiveBuckets is %v", owned, sensitive)
	}
}
