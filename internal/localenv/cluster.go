package localenv

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/virdx/vxplatform-infra/stacks"
)

// RestConfig is the client config of the local control plane's admin context.
func RestConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: KubeContext},
	).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s, context %s: %w", kubeconfig, KubeContext, err)
	}
	cfg.QPS, cfg.Burst = 50, 100 // checks list many objects; the local server can take it
	return cfg, nil
}

// pvLabel marks the PersistentVolumes scripts/control-plane.sh created.
const pvLabel = "vxplatform.local/pv=true"

// RecycleVolumes makes the control plane's Released hostPath volumes Available
// again (their claims were deleted with a destroyed environment), so that repeated
// deploys do not run out of volumes. Only volumes labelled by the script are touched.
func RecycleVolumes(ctx context.Context, cs kubernetes.Interface) (int, error) {
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: pvLabel})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pv := range pvs.Items {
		if pv.Status.Phase != corev1.VolumeReleased {
			continue
		}
		if _, err := cs.CoreV1().PersistentVolumes().Patch(ctx, pv.Name, types.MergePatchType,
			[]byte(`{"spec":{"claimRef":null}}`), metav1.PatchOptions{}); err != nil {
			return n, fmt.Errorf("recycling PersistentVolume %s: %w", pv.Name, err)
		}
		n++
	}
	return n, nil
}

// AvailableVolumes counts the script's volumes that a new claim can bind.
func AvailableVolumes(ctx context.Context, cs kubernetes.Interface) (int, error) {
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: pvLabel})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pv := range pvs.Items {
		if pv.Status.Phase == corev1.VolumeAvailable {
			n++
		}
	}
	return n, nil
}

// Describe writes what runs in a namespace, for people: workloads with their
// readiness and images, jobs, services, claims and pods. instance, if set, limits
// it to one environment (label app.kubernetes.io/instance).
func Describe(ctx context.Context, w io.Writer, cs kubernetes.Interface, namespace, instance string) error {
	opts := metav1.ListOptions{}
	if instance != "" {
		opts.LabelSelector = "app.kubernetes.io/instance=" + instance
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "KIND\tNAME\tSTATUS\tDETAIL\n")
	if instance == "" {
		if err := describeNamespace(ctx, tw, cs, namespace); err != nil {
			return err
		}
	}
	deps, err := cs.AppsV1().Deployments(namespace).List(ctx, opts)
	if err != nil {
		return err
	}
	for _, d := range deps.Items {
		fmt.Fprintf(tw, "Deployment\t%s\t%d/%d ready, %s\t%s\n", d.Name, d.Status.ReadyReplicas, deref(d.Spec.Replicas),
			condition(d.Status.Conditions), images(d.Spec.Template.Spec))
	}
	sets, err := cs.AppsV1().StatefulSets(namespace).List(ctx, opts)
	if err != nil {
		return err
	}
	for _, s := range sets.Items {
		fmt.Fprintf(tw, "StatefulSet\t%s\t%d/%d ready\t%s\n", s.Name, s.Status.ReadyReplicas, deref(s.Spec.Replicas), images(s.Spec.Template.Spec))
	}
	crons, err := cs.BatchV1().CronJobs(namespace).List(ctx, opts)
	if err != nil {
		return err
	}
	for _, c := range crons.Items {
		state := "schedule " + c.Spec.Schedule
		if c.Spec.Suspend != nil && *c.Spec.Suspend {
			state += " (suspended)"
		}
		fmt.Fprintf(tw, "CronJob\t%s\t%s\t%s\n", c.Name, state, images(c.Spec.JobTemplate.Spec.Template.Spec))
	}
	jobs, err := cs.BatchV1().Jobs(namespace).List(ctx, opts)
	if err != nil {
		return err
	}
	for _, j := range jobs.Items {
		fmt.Fprintf(tw, "Job\t%s\t%d succeeded, %d failed\t%s\n", j.Name, j.Status.Succeeded, j.Status.Failed, images(j.Spec.Template.Spec))
	}
	svcs, err := cs.CoreV1().Services(namespace).List(ctx, opts)
	if err != nil {
		return err
	}
	for _, s := range svcs.Items {
		var ports []string
		for _, p := range s.Spec.Ports {
			ports = append(ports, fmt.Sprintf("%d->%s", p.Port, p.TargetPort.String()))
		}
		fmt.Fprintf(tw, "Service\t%s\t%s %s\t%s\n", s.Name, s.Spec.Type, s.Spec.ClusterIP, strings.Join(ports, ","))
	}
	pvcs, err := cs.CoreV1().PersistentVolumeClaims(namespace).List(ctx, opts)
	if err != nil {
		return err
	}
	for _, c := range pvcs.Items {
		fmt.Fprintf(tw, "PVC\t%s\t%s\t%s on %s\n", c.Name, c.Status.Phase, c.Status.Capacity.Storage(), c.Spec.VolumeName)
	}
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, opts)
	if err != nil {
		return err
	}
	phases := map[string]int{}
	for _, p := range pods.Items {
		phases[string(p.Status.Phase)]++
	}
	var summary []string
	for ph, n := range phases {
		summary = append(summary, fmt.Sprintf("%d %s", n, ph))
	}
	sort.Strings(summary)
	fmt.Fprintf(tw, "Pods\t%d\t%s\t(fake kwok nodes: scheduled and Ready, no containers run)\n", len(pods.Items), strings.Join(summary, ", "))
	return tw.Flush()
}

// describeNamespace: the namespace-wide objects (quota with its usage, bounds,
// network policies).
func describeNamespace(ctx context.Context, w io.Writer, cs kubernetes.Interface, namespace string) error {
	ns, err := cs.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Namespace\t%s\t%s\tpod-security %s\n", ns.Name, ns.Status.Phase, ns.Labels["pod-security.kubernetes.io/enforce"])
	quotas, err := cs.CoreV1().ResourceQuotas(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, q := range quotas.Items {
		var used []string
		for _, r := range []corev1.ResourceName{"requests.cpu", "requests.memory", "pods", "persistentvolumeclaims", "requests.storage"} {
			hard := q.Status.Hard[r]
			u := q.Status.Used[r]
			used = append(used, fmt.Sprintf("%s %s/%s", r, u.String(), hard.String()))
		}
		fmt.Fprintf(w, "ResourceQuota\t%s\tused/hard\t%s\n", q.Name, strings.Join(used, ", "))
	}
	pols, err := cs.NetworkingV1().NetworkPolicies(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var names []string
	for _, p := range pols.Items {
		names = append(names, p.Name)
	}
	fmt.Fprintf(w, "NetworkPolicy\t%d\t\t%s\n", len(names), strings.Join(names, " "))
	return nil
}

func deref(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// condition is the Deployment's Available condition, as people read it.
func condition(conds []appsv1.DeploymentCondition) string {
	for _, c := range conds {
		if c.Type == appsv1.DeploymentAvailable {
			if c.Status == corev1.ConditionTrue {
				return "Available"
			}
			return "not Available (" + c.Reason + ")"
		}
	}
	return "no Available condition yet"
}

func images(spec corev1.PodSpec) string {
	var out []string
	for _, c := range spec.Containers {
		out = append(out, c.Image)
	}
	return strings.Join(out, " ")
}

// Claims are the sizes of the PersistentVolumeClaims the stacks create (database,
// and a preview's object store).
func Claims(names ...string) ([]string, error) {
	var sizes []string
	for _, name := range names {
		// Sizes do not depend on the object store: no MinIO, so that an HTTP test
		// MinIO (which production and staging refuse) cannot fail the count.
		env, err := stacks.Load(name, ConfigFor(name, MinIO{}))
		if err != nil {
			return nil, err
		}
		if env.Kind == stacks.KindPreviews {
			continue
		}
		sizes = append(sizes, env.Sizing.PostgresVolume.Size)
		if env.Storage.TargetIsPreviewStore {
			sizes = append(sizes, env.Sizing.ObjectStoreVolume.Size)
		}
	}
	return sizes, nil
}

// CheckVolumes fails unless every claim can bind an Available volume of the
// storage class: without a provisioner a claim that finds none stays Pending, and
// the engine would wait for the database until its await times out.
func CheckVolumes(ctx context.Context, cs kubernetes.Interface, claims []string) error {
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var free []k8sresource.Quantity
	for _, pv := range pvs.Items {
		if pv.Status.Phase == corev1.VolumeAvailable && pv.Spec.StorageClassName == StorageClass() {
			free = append(free, pv.Spec.Capacity[corev1.ResourceStorage])
		}
	}
	want := make([]k8sresource.Quantity, 0, len(claims))
	for _, c := range claims {
		q, err := k8sresource.ParseQuantity(c)
		if err != nil {
			return fmt.Errorf("claim size %q: %w", c, err)
		}
		want = append(want, q)
	}
	// Largest claims first, each taking the largest free volume: enough for
	// volumes that all have one size, as the control-plane script makes them.
	sort.Slice(want, func(i, j int) bool { return want[i].Cmp(want[j]) > 0 })
	sort.Slice(free, func(i, j int) bool { return free[i].Cmp(free[j]) > 0 })
	for i, q := range want {
		if i >= len(free) || free[i].Cmp(q) < 0 {
			return fmt.Errorf("the stacks claim %d volumes (%s) but the control plane has %d Available volumes of class %s (largest %s): "+
				"add volumes with  VX_PV_SIZE=64Gi scripts/control-plane.sh pv %d  (or start it with VX_PV_SIZE=64Gi VX_PV_COUNT=%d)",
				len(claims), strings.Join(claims, ", "), len(free), StorageClass(), largest(free), len(claims)+20, len(claims)+20)
		}
	}
	return nil
}

func largest(qs []k8sresource.Quantity) string {
	if len(qs) == 0 {
		return "none"
	}
	return qs[0].String()
}
