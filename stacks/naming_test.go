package stacks

import "testing"

func TestNamespaceOf(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{KindProduction, "data-platform-production"},
		{KindStaging, "data-platform-staging"},
		{KindPublic, "data-platform-public"},
		{KindPreviews, "data-platform-previews"},
		{KindPreview, "data-platform-previews"},
	}
	for _, tt := range tests {
		if got := NamespaceOf(tt.kind); got != tt.want {
			t.Errorf("NamespaceOf(%s) = %q, want %q", tt.kind, got, tt.want)
		}
	}
}

func TestIdentityNamesParseBack(t *testing.T) {
	for _, stack := range []string{"production", "staging", "public", "previews", "pr-1", "pr-123"} {
		want, err := ParseStackName(stack)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range Purposes() {
			name := IdentityName(stack, p)
			id, purpose, ok := ParseIdentityName(name)
			if !ok || id != want || purpose != p {
				t.Errorf("ParseIdentityName(%q) = %+v, %q, %v; want %+v, %q", name, id, purpose, ok, want, p)
			}
			if env, ok := IdentityEnvironment(name); !ok || env != want {
				t.Errorf("IdentityEnvironment(%q) = %+v, %v; want %+v", name, env, ok, want)
			}
		}
	}
}

func TestNamesThatAreNotIdentities(t *testing.T) {
	tests := []struct {
		name        string
		environment string // "" when no environment is claimed either
	}{
		{name: "dataplatform-prod"},
		{name: "readwrite"},
		{name: "dataplatform-pr-0-app"},
		{name: "dataplatform-pr-07-app"},
		{name: "dataplatform-qa-app"},
		{name: "dataplatform-production", environment: "production"},
		{name: "dataplatform-pr-7-uploader", environment: "pr-7"},
		{name: "DataPlatform-PR-7-Uploader", environment: "pr-7"},
		{name: "dataplatform-production-admin", environment: "production"},
	}
	for _, tt := range tests {
		if _, _, ok := ParseIdentityName(tt.name); ok {
			t.Errorf("ParseIdentityName(%q) accepted a name that is not an identity", tt.name)
		}
		env, ok := IdentityEnvironment(tt.name)
		if tt.environment == "" && ok {
			t.Errorf("IdentityEnvironment(%q) = %s, want none", tt.name, env.Stack)
		}
		if tt.environment != "" && (!ok || env.Stack != tt.environment) {
			t.Errorf("IdentityEnvironment(%q) = %+v, %v; want %s", tt.name, env, ok, tt.environment)
		}
	}
}

func TestHostnameEnvironment(t *testing.T) {
	tests := []struct {
		host, want string // want "" when no environment holds the host
	}{
		{host: "production.data.virdx.dev", want: "production"},
		{host: "API.Production.data.virdx.dev.", want: "production"},
		{host: "files.staging.data.virdx.dev", want: "staging"},
		{host: "pr-7.previews.data.virdx.dev", want: "pr-7"},
		{host: "x.pr-7.previews.data.virdx.dev", want: "pr-7"},
		{host: "previews.data.virdx.dev", want: "previews"},
		{host: "pr-07.previews.data.virdx.dev", want: "previews"},
		{host: "pr-7.data.virdx.dev"},
		{host: "data.virdx.dev"},
		{host: "qa.data.virdx.dev"},
		{host: "production.data.virdx.dev.evil.example"},
	}
	for _, tt := range tests {
		id, ok := HostnameEnvironment(tt.host)
		if (tt.want == "" && ok) || (tt.want != "" && (!ok || id.Stack != tt.want)) {
			t.Errorf("HostnameEnvironment(%q) = %+v, %v; want %q", tt.host, id, ok, tt.want)
		}
	}
	for _, stack := range []string{"production", "staging", "public", "previews", "pr-123"} {
		id, _ := ParseStackName(stack)
		if got, ok := HostnameEnvironment(DefaultHostname(id)); !ok || got != id {
			t.Errorf("the default hostname of %s is held by %+v, %v", stack, got, ok)
		}
	}
}
