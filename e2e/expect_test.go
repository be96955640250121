//go:build e2e

package e2e

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/virdx/vxplatform-infra/internal/programtest"
	"github.com/virdx/vxplatform-infra/stacks"
)

// declared is one Kubernetes object the program declares, as the program's own
// mock run registers it: the expected spec comes from the program, not from a copy
// of it in the test.
type declared struct {
	Token     string // Pulumi type, e.g. kubernetes:apps/v1:Deployment
	GVK       schema.GroupVersionKind
	Namespace string
	Name      string
	Fields    map[string]any // every declared input but apiVersion and kind
}

func (d declared) String() string {
	if d.Namespace == "" {
		return d.GVK.Kind + " " + d.Name
	}
	return fmt.Sprintf("%s %s/%s", d.GVK.Kind, d.Namespace, d.Name)
}

// declaredObjects runs the program under mocks (internal/programtest) with the
// same stack and config and returns every Kubernetes object it registers.
func declaredObjects(stack string, cfg stacks.Config) ([]declared, error) {
	run, err := programtest.RunProgram(stack, underMocks(cfg))
	if err != nil {
		return nil, fmt.Errorf("the program under mocks, stack %s: %w", stack, err)
	}
	var out []declared
	for _, r := range run.Resources {
		gvk, ok := gvkOf(r.Type)
		if !ok || !r.Custom {
			continue
		}
		fields, _ := plain(resource.NewObjectProperty(r.Inputs)).(map[string]any)
		delete(fields, "apiVersion")
		delete(fields, "kind")
		meta, _ := fields["metadata"].(map[string]any)
		d := declared{Token: r.Type, GVK: gvk, Fields: fields}
		d.Name, _ = meta["name"].(string)
		d.Namespace, _ = meta["namespace"].(string)
		if d.Name == "" {
			return nil, fmt.Errorf("%s %s has no metadata.name: the test cannot find an auto-named object", r.Type, r.Name)
		}
		out = append(out, d)
	}
	return out, nil
}

// gvkOf maps kubernetes:apps/v1:Deployment to apps/v1 Deployment.
func gvkOf(token string) (schema.GroupVersionKind, bool) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 || parts[0] != "kubernetes" {
		return schema.GroupVersionKind{}, false
	}
	gv := strings.SplitN(parts[1], "/", 2)
	if len(gv) != 2 {
		return schema.GroupVersionKind{}, false
	}
	group := gv[0]
	if group == "core" {
		group = ""
	}
	return schema.GroupVersionKind{Group: group, Version: gv[1], Kind: parts[2]}, true
}

// plain turns a property value into JSON-like Go values; secrets become their
// values (the test compares what the server holds).
func plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsOutput():
		return plain(v.OutputValue().Element)
	case v.IsComputed() || v.IsNull():
		return nil
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			if p := plain(e); p != nil {
				m[string(k)] = p
			}
		}
		return m
	case v.IsArray():
		var a []any
		for _, e := range v.ArrayValue() {
			a = append(a, plain(e))
		}
		return a
	}
	return v.V
}

// checkDeclared reports every declared object that is missing from the API server
// or whose live object lacks or contradicts a declared field.
func (h *harness) checkDeclared(ctx context.Context, objects []declared) []string {
	var problems []string
	for _, d := range objects {
		mapping, err := h.mapper.RESTMapping(d.GVK.GroupKind(), d.GVK.Version)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: the server has no resource for %s: %v", d, d.GVK, err))
			continue
		}
		live, err := h.dyn.Resource(mapping.Resource).Namespace(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d, err))
			continue
		}
		want := d.Fields
		if d.GVK.Kind == "Secret" {
			// stringData is write-only: the server holds it base64-encoded in data.
			// Generated values differ from the mock's, so only fixed ones are compared.
			want = withoutKey(want, "stringData")
			problems = append(problems, secretData(d, d.Fields["stringData"], live.Object["data"])...)
		}
		for _, m := range subset("", want, live.Object) {
			problems = append(problems, fmt.Sprintf("%s: %s", d, m))
		}
	}
	return problems
}

func withoutKey(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// secretData: every declared key is in data; values that do not come from a
// generated password (the mock's are "generated-…") are equal.
func secretData(d declared, declaredData, liveData any) []string {
	want, _ := declaredData.(map[string]any)
	got, _ := liveData.(map[string]any)
	var problems []string
	for k, v := range want {
		enc, ok := got[k].(string)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: data.%s is missing", d, k))
			continue
		}
		s, _ := v.(string)
		if strings.Contains(s, "generated-") {
			continue
		}
		dec, err := base64.StdEncoding.DecodeString(enc)
		if strings.HasPrefix(s, "-----BEGIN ") {
			// Certificates and keys derived from a generated seed: the same kind
			// of object for the same subject, not the same bytes.
			if why := samePEMShape(s, string(dec)); err != nil || why != "" {
				problems = append(problems, fmt.Sprintf("%s: data.%s is not what the program declares: %s", d, k, why))
			}
			continue
		}
		if err != nil || string(dec) != s {
			problems = append(problems, fmt.Sprintf("%s: data.%s differs from what the program declares", d, k))
		}
	}
	return problems
}

// subset lists where got lacks or contradicts want: maps by key, lists element by
// element, numbers numerically and Kubernetes quantities by value ("1" = "1000m").
func subset(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, the server has %v", orRoot(path), got)}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			gv, present := g[k]
			if !present {
				if isEmpty(w[k]) { // the server omits empty strings, lists and objects
					continue
				}
				out = append(out, fmt.Sprintf("%s.%s: missing on the server (declared %v)", path, k, w[k]))
				continue
			}
			out = append(out, subset(path+"."+k, w[k], gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: declared %v, the server has %v", path, w, got)}
		}
		var out []string
		for i := range w {
			out = append(out, subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	case float64:
		if n, ok := number(got); ok && n == w {
			return nil
		}
	case string:
		if g, ok := got.(string); ok && (g == w || sameQuantity(w, g)) {
			return nil
		}
	default:
		if fmt.Sprint(want) == fmt.Sprint(got) {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: declared %v, the server has %v", path, want, got)}
}

func orRoot(p string) string {
	if p == "" {
		return "(object)"
	}
	return p
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

func sameQuantity(a, b string) bool {
	qa, err1 := k8sresource.ParseQuantity(a)
	qb, err2 := k8sresource.ParseQuantity(b)
	return err1 == nil && err2 == nil && qa.Cmp(qb) == 0
}

// samePEMShape says how live differs from declared in kind, or for a
// certificate in subject, names, usages and CA flag; "" when it does not.
func samePEMShape(declared, live string) string {
	want, _ := pem.Decode([]byte(declared))
	got, _ := pem.Decode([]byte(live))
	switch {
	case got == nil:
		return "not PEM"
	case want.Type != got.Type:
		return fmt.Sprintf("a %s, declared a %s", got.Type, want.Type)
	case want.Type != "CERTIFICATE":
		return ""
	}
	w, err1 := x509.ParseCertificate(want.Bytes)
	g, err2 := x509.ParseCertificate(got.Bytes)
	switch {
	case err1 != nil || err2 != nil:
		return fmt.Sprintf("unparsable certificate: %v %v", err1, err2)
	case w.Subject.String() != g.Subject.String() || !slices.Equal(w.DNSNames, g.DNSNames) ||
		!slices.Equal(w.ExtKeyUsage, g.ExtKeyUsage) || w.IsCA != g.IsCA:
		return fmt.Sprintf("certificate for %s %v, declared %s %v", g.Subject, g.DNSNames, w.Subject, w.DNSNames)
	}
	return ""
}
