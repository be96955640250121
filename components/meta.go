// Package components holds the data platform's Pulumi component resources, one per
// file. Each takes plain values decided by package stacks and never asks which kind
// of environment it is in (kind_test.go fails if one does).
package components

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// typePrefix namespaces every component type token of this program.
const typePrefix = "dataplatform:index:"

// Label keys beyond the recommended app.kubernetes.io set.
const (
	labelPullRequest = "virdx.dev/pull-request"
	labelKind        = "virdx.dev/environment-kind"
	labelSensitivity = "virdx.dev/sensitivity"
)

// selectorLabels pick one part of one environment; they never change after creation
// because Deployment selectors are immutable.
func selectorLabels(env stacks.Environment, part string) pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/name":     pulumi.String(part),
		"app.kubernetes.io/instance": pulumi.String(env.Instance()),
	}
}

// objectLabels are the full label set of an object belonging to one part.
func objectLabels(env stacks.Environment, part string) pulumi.StringMap {
	labels := selectorLabels(env, part)
	labels["app.kubernetes.io/component"] = pulumi.String(part)
	labels["app.kubernetes.io/part-of"] = pulumi.String("data-platform")
	labels["app.kubernetes.io/managed-by"] = pulumi.String("pulumi")
	if env.PullRequest != "" {
		labels[labelPullRequest] = pulumi.String(env.PullRequest)
	}
	return labels
}

// objectMeta names an object of one part in the environment's namespace.
func objectMeta(env stacks.Environment, name, part string) *metav1.ObjectMetaArgs {
	return &metav1.ObjectMetaArgs{
		Name:      pulumi.String(env.ResourceName(name)),
		Namespace: pulumi.String(env.Namespace),
		Labels:    objectLabels(env, part),
	}
}

// The parts of an environment; also the values of app.kubernetes.io/name.
const (
	partFrontend    = "frontend"
	partAPI         = "api"
	partPostgres    = "postgres"
	partBackup      = "backup"
	partRestore     = "restore"
	partObjectStore = "object-store"
	partBucketInit  = "object-store-init"
	// partArchive is every pgBackRest job: backups, verify, check, restore.
	partArchive = "pitr"
)
