package main

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

var analyzer struct {
	once sync.Once
	addr string
	err  error
}

// startAnalyzer serves the pack inside the test process exactly as the binary
// does, through policyx.Main and the same factory, and connects a client to it.
// policyx.Main announces its port on stdout, so stdout is borrowed until it has.
// The server lives as long as the test binary: policyx.Main has no way to stop.
func startAnalyzer(t *testing.T) pulumirpc.AnalyzerClient {
	t.Helper()
	analyzer.once.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			analyzer.err = err
			return
		}
		stdout := os.Stdout
		os.Stdout = w
		served := make(chan error, 1)
		go func() { served <- policyx.Main(newPack) }()
		lines := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(r).ReadString('\n')
			lines <- strings.TrimSpace(line)
		}()
		select {
		case port := <-lines:
			analyzer.addr = "127.0.0.1:" + port
		case err := <-served:
			analyzer.err = fmt.Errorf("policyx.Main returned before serving: %v", err)
		case <-time.After(30 * time.Second):
			analyzer.err = fmt.Errorf("policyx.Main printed no port within 30s")
		}
		os.Stdout = stdout
		w.Close()
	})
	if analyzer.err != nil {
		t.Fatal(analyzer.err)
	}
	conn, err := grpc.NewClient(analyzer.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pulumirpc.NewAnalyzerClient(conn)
}

func marshal(t *testing.T, props property.Map) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.ToResourcePropertyMap(props), plugin.MarshalOptions{
		KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func analyze(t *testing.T, client pulumirpc.AnalyzerClient, r analyzed) []*pulumirpc.AnalyzeDiagnostic {
	t.Helper()
	resp, err := client.Analyze(context.Background(), &pulumirpc.AnalyzeRequest{
		Type: r.Type, Urn: r.URN, Name: r.Name, Properties: marshal(t, r.Props),
	})
	if err != nil {
		t.Fatalf("Analyze %s: %v", r.URN, err)
	}
	return resp.GetDiagnostics()
}

func analyzeStack(t *testing.T, client pulumirpc.AnalyzerClient, resources []analyzed) []*pulumirpc.AnalyzeDiagnostic {
	t.Helper()
	req := &pulumirpc.AnalyzeStackRequest{}
	for _, r := range resources {
		req.Resources = append(req.Resources, &pulumirpc.AnalyzerResource{Type: r.Type, Urn: r.URN, Name: r.Name, Properties: marshal(t, r.Props)})
	}
	resp, err := client.AnalyzeStack(context.Background(), req)
	if err != nil {
		t.Fatalf("AnalyzeStack: %v", err)
	}
	return resp.GetDiagnostics()
}

func configureStack(t *testing.T, client pulumirpc.AnalyzerClient, stack string) {
	t.Helper()
	// The config and tags try to talk the pack out of treating the stack as
	// sensitive; only the name may count.
	_, err := client.ConfigureStack(context.Background(), &pulumirpc.AnalyzerStackConfigureRequest{
		Stack: stack, Project: "data-platform", Organization: "virdx", DryRun: true,
		Config: map[string]string{"data-platform:kubeContext": "vx-cluster", "data-platform:sensitive": "false"},
		Tags:   map[string]string{"sensitivity": "none"},
	})
	if err != nil {
		t.Fatalf("ConfigureStack %s: %v", stack, err)
	}
}

// diagnostic is the part of a diagnostic the test compares.
type diagnostic struct {
	policy, message, urn string
	level                pulumirpc.EnforcementLevel
}

func diagnostics(t *testing.T, ds []*pulumirpc.AnalyzeDiagnostic) []diagnostic {
	t.Helper()
	out := make([]diagnostic, len(ds))
	for i, d := range ds {
		if d.GetPolicyPackName() != packName || d.GetPolicyPackVersion() != packVersion.String() {
			t.Errorf("diagnostic from pack %s %s", d.GetPolicyPackName(), d.GetPolicyPackVersion())
		}
		out[i] = diagnostic{policy: d.GetPolicyName(), message: d.GetMessage(), urn: d.GetUrn(), level: d.GetEnforcementLevel()}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// engineMessage is what the engine shows: policyx puts the description first.
func engineMessage(t *testing.T, policy, message string) string {
	t.Helper()
	for _, r := range resourceRules {
		if r.name == policy {
			return r.description + "\n" + message
		}
	}
	for _, r := range stackRules {
		if r.name == policy {
			return r.description + "\n" + message
		}
	}
	t.Fatalf("no rule %s", policy)
	return ""
}

func withEdits(t *testing.T, resources []analyzed, typ, name string, edits ...edit) analyzed {
	t.Helper()
	changed, _ := applyChanges(t, resources, []resourceChange{change(typ, name, edits...)}, strings.NewReplacer())
	return changed[indexOf(changed, typ, name)]
}

// handshake opens a session with the analyzer, as the engine does first.
func handshake(t *testing.T, client pulumirpc.AnalyzerClient) {
	t.Helper()
	root := t.TempDir()
	if _, err := client.Handshake(context.Background(), &pulumirpc.AnalyzerHandshakeRequest{RootDirectory: &root, ProgramDirectory: &root}); err != nil {
		t.Fatalf("Handshake: %v", err)
	}
}

func TestAnalyzerOverGRPC(t *testing.T) {
	client := startAnalyzer(t)
	handshake(t, client)

	production, public := runProgram(t, "production", nil), runProgram(t, "public", []string{"pinImages", "true"})
	inputs, outputs := inputsOf(production), outputsOf(production)
	mandatory, advisory := pulumirpc.EnforcementLevel_MANDATORY, pulumirpc.EnforcementLevel_ADVISORY

	t.Run("production", func(t *testing.T) {
		loadBalancer, unknownImage, noLimits := misconfiguredForGRPC(t, inputs)
		configureStack(t, client, "production")
		checkAnalyzerInfo(t, client, "production")
		for _, r := range inputs {
			if ds := analyze(t, client, r); len(ds) > 0 {
				t.Errorf("real resource %s: %v", r.URN, diagnostics(t, ds))
			}
		}
		expectDiagnostics(t, analyze(t, client, loadBalancer),
			diagnostic{policy: "kubernetes-service-no-external-exposure", urn: loadBalancer.URN, level: mandatory,
				message: engineMessage(t, "kubernetes-service-no-external-exposure", "spec.type is LoadBalancer: it exposes the Service outside the cluster")})
		expectDiagnostics(t, analyze(t, client, unknownImage),
			diagnostic{policy: "kubernetes-container-image-digest", urn: unknownImage.URN, level: mandatory,
				message: engineMessage(t, "kubernetes-container-image-digest", previewPrefix+`container "api": image is not known yet`)},
			diagnostic{policy: "kubernetes-container-image-tagged", urn: unknownImage.URN, level: mandatory,
				message: engineMessage(t, "kubernetes-container-image-tagged", previewPrefix+`container "api": image is not known yet`)})
		expectDiagnostics(t, analyze(t, client, noLimits),
			diagnostic{policy: "kubernetes-container-resources", urn: noLimits.URN, level: mandatory,
				message: engineMessage(t, "kubernetes-container-resources", `container "api": has no resources.limits.cpu, resources.limits.memory`)})

		expectDiagnostics(t, analyzeStack(t, client, outputs))
		withoutDeny := slices.DeleteFunc(append([]analyzed(nil), outputs...), func(r analyzed) bool {
			return r.Type == netpolType && r.Name == "data-platform-namespace-default-deny"
		})
		expectDiagnostics(t, analyzeStack(t, client, withoutDeny),
			diagnostic{policy: "kubernetes-namespace-default-deny", urn: findURN(t, outputs, namespaceType+"::data-platform-namespace"), level: mandatory,
				message: engineMessage(t, "kubernetes-namespace-default-deny", `namespace "data-platform-production" has no default-deny NetworkPolicy for ingress and egress in this stack`)})
		denyUnknown := append([]analyzed(nil), outputs...)
		i := indexOf(denyUnknown, netpolType, "data-platform-namespace-default-deny")
		denyUnknown[i] = withEdits(t, denyUnknown, netpolType, "data-platform-namespace-default-deny", set("spec", computedValue()))
		expectDiagnostics(t, analyzeStack(t, client, denyUnknown),
			diagnostic{policy: "kubernetes-namespace-default-deny", urn: findURN(t, outputs, namespaceType+"::data-platform-namespace"), level: mandatory,
				message: engineMessage(t, "kubernetes-namespace-default-deny", previewPrefix+`whether namespace "data-platform-production" has a default-deny NetworkPolicy is not known yet`)})
	})

	t.Run("public", func(t *testing.T) {
		loadBalancer, unknownImage, noLimits := misconfiguredForGRPC(t, inputsOf(public))
		configureStack(t, client, "public")
		checkAnalyzerInfo(t, client, "public")
		for _, r := range inputsOf(public) {
			if ds := analyze(t, client, r); len(ds) > 0 {
				t.Errorf("real resource %s: %v", r.URN, diagnostics(t, ds))
			}
		}
		expectDiagnostics(t, analyzeStack(t, client, outputsOf(public)))
		expectDiagnostics(t, analyze(t, client, unknownImage))
		expectDiagnostics(t, analyze(t, client, loadBalancer),
			diagnostic{policy: "kubernetes-service-no-external-exposure", urn: loadBalancer.URN, level: mandatory,
				message: engineMessage(t, "kubernetes-service-no-external-exposure", "spec.type is LoadBalancer: it exposes the Service outside the cluster")})
		expectDiagnostics(t, analyze(t, client, noLimits),
			diagnostic{policy: "kubernetes-container-resources", urn: noLimits.URN, level: advisory,
				message: engineMessage(t, "kubernetes-container-resources", `container "api": has no resources.limits.cpu, resources.limits.memory`)})
	})
}

// misconfiguredForGRPC: a mandatory-everywhere violation, a value unknown during
// preview, and a sensitive-only violation.
func misconfiguredForGRPC(t *testing.T, inputs []analyzed) (loadBalancer, unknownImage, noLimits analyzed) {
	loadBalancer = withEdits(t, inputs, serviceType, "data-platform-frontend", set("spec.type", str("LoadBalancer")))
	unknownImage = withEdits(t, inputs, deploymentType, "data-platform-api", set(deploymentPod+".containers.0.image", computedValue()))
	noLimits = withEdits(t, inputs, deploymentType, "data-platform-api", del(deploymentPod+".containers.0.resources.limits"))
	return loadBalancer, unknownImage, noLimits
}

func checkAnalyzerInfo(t *testing.T, client pulumirpc.AnalyzerClient, stack string) {
	t.Helper()
	info, err := client.GetAnalyzerInfo(context.Background(), &emptypb.Empty{})
	if err != nil {
		t.Fatalf("GetAnalyzerInfo: %v", err)
	}
	if info.GetName() != packName || info.GetVersion() != packVersion.String() {
		t.Errorf("analyzer is %s %s", info.GetName(), info.GetVersion())
	}
	var names []string
	for _, p := range info.GetPolicies() {
		names = append(names, p.GetName())
		want := pulumirpc.EnforcementLevel_MANDATORY
		if designedScopes[p.GetName()] == advisoryEverywhere || (designedScopes[p.GetName()] == sensitiveOnly && !targetFor(stack).sensitive) {
			want = pulumirpc.EnforcementLevel_ADVISORY
		}
		if p.GetEnforcementLevel() != want {
			t.Errorf("%s: %s is %s over gRPC, want %s", stack, p.GetName(), p.GetEnforcementLevel(), want)
		}
	}
	sort.Strings(names)
	if want := slices.Sorted(maps.Keys(designedScopes)); !slices.Equal(names, want) {
		t.Errorf("policies served: %v\nwant: %v", names, want)
	}
	plugin, err := client.GetPluginInfo(context.Background(), &emptypb.Empty{})
	if err != nil || plugin.GetVersion() != packVersion.String() {
		t.Errorf("GetPluginInfo: %v, %v", plugin, err)
	}
}

func expectDiagnostics(t *testing.T, got []*pulumirpc.AnalyzeDiagnostic, want ...diagnostic) {
	t.Helper()
	sort.Slice(want, func(i, j int) bool { return fmt.Sprint(want[i]) < fmt.Sprint(want[j]) })
	if have := diagnostics(t, got); !slices.Equal(have, want) {
		t.Errorf("diagnostics:\n  %v\nwant:\n  %v", have, want)
	}
}

// evaluateOverGRPC runs the pack for stack the way the engine does, over the
// Analyzer protocol: ConfigureStack, Analyze for every resource, AnalyzeStack
// for all of them. Diagnostics come back as violations with the engine's
// description prefix removed, so that they compare with evaluate's.
func evaluateOverGRPC(t *testing.T, client pulumirpc.AnalyzerClient, stack string, inputs, outputs []analyzed) []violation {
	t.Helper()
	configureStack(t, client, stack)
	var out []violation
	collect := func(ds []*pulumirpc.AnalyzeDiagnostic) {
		for _, d := range ds {
			level := policyx.EnforcementLevelAdvisory
			if d.GetEnforcementLevel() == pulumirpc.EnforcementLevel_MANDATORY {
				level = policyx.EnforcementLevelMandatory
			}
			prefix := engineMessage(t, d.GetPolicyName(), "")
			out = append(out, violation{policy: d.GetPolicyName(), level: level, message: strings.TrimPrefix(d.GetMessage(), prefix), urn: d.GetUrn()})
		}
	}
	for _, r := range inputs {
		collect(analyze(t, client, r))
	}
	collect(analyzeStack(t, client, outputs))
	return out
}
