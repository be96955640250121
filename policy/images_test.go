package main

import "testing"

func TestImageReference(t *testing.T) {
	tests := []struct {
		image  string
		tag    string
		digest bool
	}{
		{"ghcr.io/virdx/vxplatform-api:v1.4.2", "v1.4.2", false},
		{"ghcr.io/virdx/vxplatform-api", "", false},
		{"localhost:5000/api", "", false},
		{"localhost:5000/api:latest", "latest", false},
		{"postgres", "", false},
		{"ghcr.io/virdx/api@sha256:abc", "", true},
		{"ghcr.io/virdx/api:v1@sha256:abc", "v1", true},
	}
	for _, tt := range tests {
		tag, digest := imageReference(tt.image)
		if tag != tt.tag || digest != tt.digest {
			t.Errorf("imageReference(%q) = %q, %v; want %q, %v", tt.image, tag, digest, tt.tag, tt.digest)
		}
	}
}

func TestCoversHost(t *testing.T) {
	tests := []struct {
		tls  []string
		host string
		want bool
	}{
		{[]string{"production.data.virdx.dev"}, "production.data.virdx.dev", true},
		{[]string{"*.data.virdx.dev"}, "production.data.virdx.dev", true},
		{[]string{"*.data.virdx.dev"}, "pr-1.previews.data.virdx.dev", false},
		{[]string{"*.data.virdx.dev"}, "data.virdx.dev", false},
		{[]string{"staging.data.virdx.dev"}, "production.data.virdx.dev", false},
		{nil, "production.data.virdx.dev", false},
	}
	for _, tt := range tests {
		if got := coversHost(tt.tls, tt.host); got != tt.want {
			t.Errorf("coversHost(%v, %s) = %v, want %v", tt.tls, tt.host, got, tt.want)
		}
	}
}
