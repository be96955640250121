package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// TestValuesThePackCannotRead: during a preview, values computed by other
// resources are unknown; secrets arrive marked; a misconfigured program may send
// a value of the wrong type or null. The pack must never fail on any of them, must
// say on a sensitive stack when it cannot decide, and must stay quiet about
// undecidable values elsewhere.
func TestValuesThePackCannotRead(t *testing.T) {
	const undecidedPodSpec = "cannot be verified during preview: pod: containers is not known yet"
	tests := []struct {
		name    string
		typ     string
		rname   string
		edits   []edit
		onProd  []expected // on production
		onOther []expected // on public, pinned so that it starts without advisories
	}{
		{
			name: "image computed", typ: deploymentType, rname: "data-platform-api",
			edits: []edit{set(deploymentPod+".containers.0.image", computedValue())},
			onProd: []expected{
				want("kubernetes-container-image-tagged", previewPrefix+`container "api": image is not known yet`),
				want("kubernetes-container-image-digest", previewPrefix+`container "api": image is not known yet`),
			},
		},
		{
			name: "image computed and secret", typ: deploymentType, rname: "data-platform-api",
			edits: []edit{set(deploymentPod+".containers.0.image", computedValue().WithSecret(true))},
			onProd: []expected{
				want("kubernetes-container-image-tagged", previewPrefix+`container "api": image is not known yet`),
				want("kubernetes-container-image-digest", previewPrefix+`container "api": image is not known yet`),
			},
		},
		{
			name: "Service type computed", typ: serviceType, rname: "data-platform-frontend",
			edits:  []edit{set("spec.type", computedValue())},
			onProd: []expected{want("kubernetes-service-no-external-exposure", previewPrefix+"spec.type is not known yet")},
		},
		{
			name: "IAM policy document computed", typ: "minio:index/iamPolicy:IamPolicy", rname: "data-platform-bucket-app",
			edits: []edit{set("policy", computedValue())},
			onProd: []expected{
				want("minio-iam-no-wildcard-admin", previewPrefix+"policy is not known yet"),
				want("minio-iam-patient-data-write-owner-only", previewPrefix+"policy is not known yet"),
				want("minio-iam-preview-no-patient-data", previewPrefix+"policy is not known yet"),
			},
		},
		{
			name: "container list computed", typ: statefulSetType, rname: "data-platform-postgres",
			edits: []edit{set(deploymentPod+".containers", computedValue())},
			onProd: []expected{
				want("kubernetes-pod-no-host-access", undecidedPodSpec),
				want("kubernetes-container-restricted-security-context", undecidedPodSpec),
				want("kubernetes-container-no-literal-credentials", undecidedPodSpec),
				want("kubernetes-container-image-tagged", undecidedPodSpec),
				want("kubernetes-container-image-digest", undecidedPodSpec),
				want("kubernetes-container-resources", undecidedPodSpec),
			},
		},
		{
			name: "whole pod spec computed", typ: cronJobType, rname: "data-platform-backup-backup",
			edits: []edit{set(cronJobPod, computedValue())},
			onProd: []expected{
				want("kubernetes-pod-no-host-access", previewPrefix+"spec.jobTemplate.spec.template.spec is not known yet"),
				want("kubernetes-container-restricted-security-context", previewPrefix+"spec.jobTemplate.spec.template.spec is not known yet"),
				want("kubernetes-container-no-literal-credentials", previewPrefix+"spec.jobTemplate.spec.template.spec is not known yet"),
				want("kubernetes-container-image-tagged", previewPrefix+"spec.jobTemplate.spec.template.spec is not known yet"),
				want("kubernetes-container-image-digest", previewPrefix+"spec.jobTemplate.spec.template.spec is not known yet"),
				want("kubernetes-container-resources", previewPrefix+"spec.jobTemplate.spec.template.spec is not known yet"),
			},
		},
		{
			name: "plain env value computed", typ: deploymentType, rname: "data-platform-api",
			edits:  []edit{set(deploymentPod+".containers.0.env.3.value", computedValue())},
			onProd: []expected{want("kubernetes-container-no-literal-credentials", previewPrefix+`container "api": env S3_ENDPOINT is not known yet`)},
		},
		{
			// A computed credential is still a literal in the pod spec: decidable.
			name: "credential env value computed", typ: deploymentType, rname: "data-platform-api",
			edits: []edit{set(deploymentPod+".containers.0.env.6", obj(map[string]property.Value{
				"name": str("S3_SECRET_ACCESS_KEY"), "value": computedValue().WithSecret(true)}))},
			onProd:  []expected{want("kubernetes-container-no-literal-credentials", `container "api": env S3_SECRET_ACCESS_KEY is a literal value`+credentialsHint)},
			onOther: []expected{want("kubernetes-container-no-literal-credentials", `container "api": env S3_SECRET_ACCESS_KEY is a literal value`+credentialsHint)},
		},
		{
			name: "default-deny spec computed", typ: netpolType, rname: "data-platform-namespace-default-deny",
			edits: []edit{set("spec", computedValue())},
			onProd: []expected{
				want("kubernetes-networkpolicy-no-open-peers", previewPrefix+"spec.ingress is not known yet"),
				want("kubernetes-networkpolicy-no-open-peers", previewPrefix+"spec.egress is not known yet"),
				want("kubernetes-networkpolicy-no-all-namespaces-ingress", previewPrefix+"spec.ingress is not known yet"),
				{policy: "kubernetes-namespace-default-deny", message: previewPrefix + `whether namespace "data-platform-production" has a default-deny NetworkPolicy is not known yet`, at: namespaceType + "::data-platform-namespace"},
			},
		},
		{
			name: "namespace of an object computed", typ: deploymentType, rname: "data-platform-api",
			edits:  []edit{set("metadata.namespace", computedValue())},
			onProd: []expected{want("kubernetes-object-in-own-namespace", previewPrefix+"metadata.namespace is not known yet")},
		},
		{
			name: "secret literal credential", typ: cronJobType, rname: "data-platform-backup-backup",
			edits: []edit{set(cronJobPod+".containers.0.env.6", obj(map[string]property.Value{
				"name": str("AWS_SECRET_ACCESS_KEY"), "value": str("s3cr3t-value-never-printed").WithSecret(true)}))},
			onProd:  []expected{want("kubernetes-container-no-literal-credentials", `container "backup": env AWS_SECRET_ACCESS_KEY is a literal value`+credentialsHint)},
			onOther: []expected{want("kubernetes-container-no-literal-credentials", `container "backup": env AWS_SECRET_ACCESS_KEY is a literal value`+credentialsHint)},
		},
		{
			// Secrets are looked through: a secret but good value passes.
			name: "secret image", typ: deploymentType, rname: "data-platform-frontend",
			edits: []edit{func(t *testing.T, m property.Map, fill *strings.Replacer) property.Map {
				return changeAt(t, m, deploymentPod+".containers.0.image", func(v property.Value, _ bool) (property.Value, bool) { return v.WithSecret(true), true })
			}},
		},
		{
			name: "Service type of the wrong type", typ: serviceType, rname: "data-platform-frontend",
			edits:   []edit{set("spec.type", num(1))},
			onProd:  []expected{want("kubernetes-service-no-external-exposure", "spec.type is not a string")},
			onOther: []expected{want("kubernetes-service-no-external-exposure", "spec.type is not a string")},
		},
		{
			name: "containers of the wrong type", typ: deploymentType, rname: "data-platform-frontend",
			edits: []edit{set(deploymentPod+".containers", str("frontend"))},
			onProd: []expected{
				want("kubernetes-pod-no-host-access", "pod: containers is not a list"),
				want("kubernetes-container-restricted-security-context", "pod: containers is not a list"),
				want("kubernetes-container-no-literal-credentials", "pod: containers is not a list"),
				want("kubernetes-container-image-tagged", "pod: containers is not a list"),
				want("kubernetes-container-image-digest", "pod: containers is not a list"),
				want("kubernetes-container-resources", "pod: containers is not a list"),
			},
			onOther: []expected{
				want("kubernetes-pod-no-host-access", "pod: containers is not a list"),
				want("kubernetes-container-restricted-security-context", "pod: containers is not a list"),
				want("kubernetes-container-no-literal-credentials", "pod: containers is not a list"),
				want("kubernetes-container-image-tagged", "pod: containers is not a list"),
				want("kubernetes-container-image-digest", "pod: containers is not a list"),
				want("kubernetes-container-resources", "pod: containers is not a list"),
			},
		},
		{
			// Null is absent: the container's security context falls back to the pod's
			// runAsNonRoot and seccomp profile, but allowPrivilegeEscalation and the
			// dropped capabilities have no pod-level default.
			name: "container securityContext null", typ: deploymentType, rname: "data-platform-api",
			edits: []edit{set(deploymentPod+".containers.0.securityContext", property.Value{})},
			onProd: []expected{
				want("kubernetes-container-restricted-security-context", `container "api": securityContext.allowPrivilegeEscalation is not set to false (Kubernetes allows escalation by default)`),
				want("kubernetes-container-restricted-security-context", `container "api": securityContext.capabilities.drop does not include ALL`)},
			onOther: []expected{
				want("kubernetes-container-restricted-security-context", `container "api": securityContext.allowPrivilegeEscalation is not set to false (Kubernetes allows escalation by default)`),
				want("kubernetes-container-restricted-security-context", `container "api": securityContext.capabilities.drop does not include ALL`)},
		},
		{
			name: "IAM policy that is not JSON", typ: "minio:index/iamPolicy:IamPolicy", rname: "data-platform-bucket-app",
			edits: []edit{set("policy", str("{not json"))},
			onProd: []expected{
				want("minio-iam-no-wildcard-admin", "policy cannot be read (invalid character 'n' looking for beginning of object key string), so it cannot be checked"),
				want("minio-iam-patient-data-write-owner-only", "policy cannot be read (invalid character 'n' looking for beginning of object key string), so it cannot be checked"),
				want("minio-iam-preview-no-patient-data", "policy cannot be read (invalid character 'n' looking for beginning of object key string), so it cannot be checked"),
			},
			onOther: []expected{
				want("minio-iam-no-wildcard-admin", "policy cannot be read (invalid character 'n' looking for beginning of object key string), so it cannot be checked"),
				want("minio-iam-patient-data-write-owner-only", "policy cannot be read (invalid character 'n' looking for beginning of object key string), so it cannot be checked"),
				want("minio-iam-preview-no-patient-data", "policy cannot be read (invalid character 'n' looking for beginning of object key string), so it cannot be checked"),
			},
		},
	}
	for _, tt := range tests {
		for stack, wants := range map[string][]expected{"production": tt.onProd, "public": tt.onOther} {
			t.Run(tt.name+"/"+stack, func(t *testing.T) {
				var config []string
				if stack == "public" {
					config = []string{"pinImages", "true"}
				}
				env := environment(t, stack, config)
				fill := strings.NewReplacer("{stack}", stack, "{namespace}", env.Namespace, "{bucket}", env.Storage.TargetBucket)
				baseline := inputsOf(runProgram(t, stack, config))
				changed, urn := applyChanges(t, baseline, []resourceChange{change(tt.typ, tt.rname, tt.edits...)}, fill)
				added, removed := diff(evaluate(t, stack, baseline, baseline), evaluate(t, stack, changed, changed))
				var wanted []violation
				for _, w := range wants {
					at := urn
					if w.at != "" {
						at = findURN(t, changed, w.at)
					}
					wanted = append(wanted, violation{policy: w.policy, level: ruleScope(t, w.policy).level(targetFor(stack)), message: w.message, urn: at})
				}
				missing, unexpected := diff(added, wanted)
				if len(missing) > 0 || len(unexpected) > 0 || len(removed) > 0 {
					t.Errorf("added:\n%s\nwanted:\n%s\nremoved:\n%s", listViolations(added), listViolations(wanted), listViolations(removed))
				}
				for _, v := range added {
					if strings.Contains(v.message, "s3cr3t") || strings.Contains(v.message, "hunter2") {
						t.Errorf("a message shows a credential: %s", v)
					}
				}
			})
		}
	}
}
