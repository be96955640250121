//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// namespacedKinds are the kinds a platform environment consists of, plus those the
// controllers derive from them (ReplicaSets, Pods), so that "gone" and "untouched"
// cover everything in a namespace that matters.
var namespacedKinds = []schema.GroupVersionResource{
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "secrets"},
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "persistentvolumeclaims"},
	{Version: "v1", Resource: "resourcequotas"},
	{Version: "v1", Resource: "limitranges"},
	{Version: "v1", Resource: "pods"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "batch", Version: "v1", Resource: "jobs"},
	{Group: "batch", Version: "v1", Resource: "cronjobs"},
	{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
	{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
}

// identity is what "untouched" means for one object: the same object (UID), never
// replaced, with the same desired state. Pods and ReplicaSets are compared by UID
// only: kwok's heartbeats and the controllers update their status all the time.
type identity struct {
	UID    string
	Spec   string // hash of spec (or data for Secrets and ConfigMaps)
	Labels map[string]string
}

// snapshot maps "resource/name" to the identity of every object in a namespace.
func (h *harness) snapshot(ctx context.Context, namespace string) (map[string]identity, error) {
	out := map[string]identity{}
	for _, gvr := range namespacedKinds {
		list, err := h.dyn.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list %s in %s: %w", gvr.Resource, namespace, err)
		}
		for _, obj := range list.Items {
			id := identity{UID: string(obj.GetUID()), Labels: obj.GetLabels()}
			if gvr.Resource != "pods" && gvr.Resource != "replicasets" {
				id.Spec = specHash(obj)
			}
			out[gvr.Resource+"/"+obj.GetName()] = id
		}
	}
	return out, nil
}

func specHash(obj unstructured.Unstructured) string {
	var v any = obj.Object["spec"]
	if obj.GetKind() == "Secret" || obj.GetKind() == "ConfigMap" {
		v = obj.Object["data"]
	}
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x", sum[:8])
}

// belongsTo reports whether an object of snapshot key "resource/name" with these
// labels belongs to the environment instance (e.g. pr-123): by label, or by the
// name prefix every preview object carries.
func belongsTo(key string, labels map[string]string, instance string) bool {
	name := key[strings.Index(key, "/")+1:]
	return labels["app.kubernetes.io/instance"] == instance || strings.HasPrefix(name, instance+"-")
}

// objectsOf lists "resource/name" of every object of an instance in a namespace.
func (h *harness) objectsOf(ctx context.Context, namespace, instance string) ([]string, error) {
	var out []string
	for _, gvr := range namespacedKinds {
		list, err := h.dyn.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list %s in %s: %w", gvr.Resource, namespace, err)
		}
		for _, obj := range list.Items {
			key := gvr.Resource + "/" + obj.GetName()
			if belongsTo(key, obj.GetLabels(), instance) {
				out = append(out, key)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// deploymentsAvailable waits until every Deployment of an instance has rolled out
// completely and is Available; it returns the last state seen when it gives up.
func (h *harness) deploymentsAvailable(ctx context.Context, namespace, instance string, timeout time.Duration) ([]appsv1.Deployment, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last []appsv1.Deployment
	var waiting []string
	err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
		list, err := h.cs.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + instance})
		if err != nil {
			return false, err
		}
		last, waiting = list.Items, nil
		for _, d := range list.Items {
			if msg := rolloutProblem(d); msg != "" {
				waiting = append(waiting, d.Name+": "+msg)
			}
		}
		return len(list.Items) > 0 && len(waiting) == 0, nil
	})
	if err != nil {
		if len(last) == 0 {
			return nil, fmt.Errorf("no Deployments labelled app.kubernetes.io/instance=%s in %s: %w", instance, namespace, err)
		}
		return last, fmt.Errorf("Deployments in %s not Available after %s: %s", namespace, timeout, strings.Join(waiting, "; "))
	}
	return last, nil
}

// rolloutProblem is "" when a Deployment is fully rolled out and Available.
func rolloutProblem(d appsv1.Deployment) string {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	switch {
	case s.ObservedGeneration < d.Generation:
		return fmt.Sprintf("generation %d not observed yet (%d)", d.Generation, s.ObservedGeneration)
	case s.UpdatedReplicas != want || s.ReadyReplicas != want || s.AvailableReplicas != want:
		return fmt.Sprintf("%d updated, %d ready, %d available of %d", s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas, want)
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			if c.Status == corev1.ConditionTrue {
				return ""
			}
			return "Available=" + string(c.Status) + " (" + c.Reason + ")"
		}
	}
	return "no Available condition"
}
