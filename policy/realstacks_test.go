package main

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// ingressConfig turns on the Ingress, which every stack has off by default, so
// that the ingress rules meet the real Ingress the program would deploy.
var ingressConfig = []string{"ingress", "true", "ingressAllowedSources", "10.0.0.0/8"}

// internalIngressConfig gives a non-sensitive stack the same Ingress shape as a
// sensitive one, so that a sensitive-only ingress rule starts from no advisory.
var internalIngressConfig = []string{"ingress", "true", "ingressAllowedSources", "10.0.0.0/8", "ingressClass", "internal"}

func TestRealStacksPassThePack(t *testing.T) {
	tests := []struct {
		name   string
		stack  string
		config []string
		// kinds the run must contain, so that the test cannot pass by seeing nothing.
		mustContain []string
	}{
		{name: "production", stack: "production", mustContain: []string{"kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:CronJob", "minio:index/iamPolicy:IamPolicy", "kubernetes:networking.k8s.io/v1:NetworkPolicy"}},
		{name: "staging", stack: "staging", mustContain: []string{"kubernetes:apps/v1:StatefulSet", "minio:index/iamPolicy:IamPolicy"}},
		{name: "public", stack: "public", mustContain: []string{"kubernetes:apps/v1:Deployment", "minio:index/s3Bucket:S3Bucket"}},
		{name: "previews", stack: "previews", mustContain: []string{"kubernetes:core/v1:Namespace", "kubernetes:networking.k8s.io/v1:NetworkPolicy"}},
		{name: "pr-123", stack: "pr-123", mustContain: []string{"kubernetes:batch/v1:Job", "kubernetes:core/v1:ConfigMap", "minio:index/iamPolicy:IamPolicy"}},
		{name: "production with ingress", stack: "production", config: ingressConfig, mustContain: []string{"kubernetes:networking.k8s.io/v1:Ingress"}},
		{name: "staging with ingress", stack: "staging", config: ingressConfig, mustContain: []string{"kubernetes:networking.k8s.io/v1:Ingress"}},
		{name: "public with ingress", stack: "public", config: []string{"ingress", "true"}, mustContain: []string{"kubernetes:networking.k8s.io/v1:Ingress"}},
		{name: "pr-123 with ingress", stack: "pr-123", config: []string{"ingress", "true"}, mustContain: []string{"kubernetes:networking.k8s.io/v1:Ingress"}},
		{name: "public with pinned images", stack: "public", config: []string{"pinImages", "true"}, mustContain: []string{"kubernetes:apps/v1:Deployment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runProgram(t, tt.stack, tt.config)
			counts := run.CountByType()
			for _, token := range tt.mustContain {
				if counts[token] == 0 {
					t.Fatalf("the run registered no %s; registered: %v", token, counts)
				}
			}
			violations := evaluate(t, tt.stack, inputsOf(run), outputsOf(run))
			var advisories []violation
			for _, v := range violations {
				switch {
				case v.level == policyx.EnforcementLevelMandatory:
					t.Errorf("mandatory violation: %s", v)
				case targetFor(tt.stack).sensitive:
					t.Errorf("a sensitive stack reported a non-mandatory violation: %s", v)
				default:
					advisories = append(advisories, v)
				}
			}
			t.Logf("%d resources checked, %d advisories:\n%s", len(run.Resources), len(advisories), listViolations(advisories))
		})
	}
}
