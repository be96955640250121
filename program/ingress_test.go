package program_test

import (
	"testing"

	"github.com/virdx/vxplatform-infra/internal/programtest"
)

func TestIngressWhenAskedFor(t *testing.T) {
	tests := []struct {
		stack, prefix, class, host, sources string
	}{
		{"production", "", "internal", "production.data.virdx.dev", "10.0.0.0/8"},
		{"staging", "", "internal", "staging.data.virdx.dev", "10.0.0.0/8,192.168.0.0/16"},
		{"public", "", "nginx", "public.data.virdx.dev", ""},
		{"pr-123", "pr-123-", "nginx", "pr-123.previews.data.virdx.dev", ""},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			cfg := programtest.With(programtest.ValidConfig(tt.stack), "ingress", "true")
			if tt.sources != "" {
				cfg["ingressAllowedSources"] = tt.sources
			}
			run, err := programtest.RunProgram(tt.stack, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ingresses := run.ByType(tIngress)
			if len(ingresses) != 1 {
				t.Fatalf("%d ingresses registered, want 1", len(ingresses))
			}
			ing := ingresses[0].Inputs
			if got := str(ing, "spec.ingressClassName"); got != tt.class {
				t.Errorf("class %q, want %q", got, tt.class)
			}
			if str(ing, "spec.rules.0.host") != tt.host || str(ing, "spec.tls.0.hosts.0") != tt.host || str(ing, "spec.tls.0.secretName") == "" {
				t.Errorf("host/TLS: %v", ing["spec"])
			}
			if got := annotation(ingresses[0], "nginx.ingress.kubernetes.io/whitelist-source-range"); got != tt.sources {
				t.Errorf("source allow-list %q, want %q", got, tt.sources)
			}
			frontendPolicy, ok := run.Find(tNetPol, tt.prefix+"allow-frontend")
			if !ok || len(list(frontendPolicy.Inputs, "spec.ingress")) != 1 {
				t.Errorf("the frontend's network policy does not admit the ingress controller")
			}
		})
	}
}
