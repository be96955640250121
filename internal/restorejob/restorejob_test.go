package restorejob

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func cronJob(suspended bool) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "restore-from-production", Namespace: "data-platform-staging", UID: types.UID("cj-uid")},
		Spec: batchv1.CronJobSpec{Schedule: "0 0 31 2 *", Suspend: &suspended,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/instance": "staging"}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "restore", Image: "ghcr.io/virdx/vxplatform-backup:v1"}}}}}}},
	}
}

func TestRunRefuses(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1700000000, 0)
	t.Run("a CronJob that is not suspended", func(t *testing.T) {
		cs := fake.NewClientset(cronJob(false))
		_, err := Run(ctx, cs, "data-platform-staging", "restore-from-production", time.Second, now)
		if err == nil || !strings.Contains(err.Error(), "not suspended") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a restore still running", func(t *testing.T) {
		active := jobFrom(cronJob(true), now.Add(-time.Hour))
		cs := fake.NewClientset(cronJob(true), active)
		_, err := Run(ctx, cs, "data-platform-staging", "restore-from-production", time.Second, now)
		if err == nil || !strings.Contains(err.Error(), active.Name) {
			t.Fatalf("err = %v, want the running Job %s named", err, active.Name)
		}
		jobs, _ := cs.BatchV1().Jobs("data-platform-staging").List(ctx, metav1.ListOptions{})
		if len(jobs.Items) != 1 {
			t.Errorf("%d Jobs after a refusal, want only the running one", len(jobs.Items))
		}
	})
	t.Run("a missing CronJob", func(t *testing.T) {
		_, err := Run(ctx, fake.NewClientset(), "data-platform-staging", "restore-from-production", time.Second, now)
		if err == nil || !strings.Contains(err.Error(), "data-platform-staging/restore-from-production") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestJobFromCopiesTheTemplateAndIsOwnedByTheCronJob(t *testing.T) {
	cj := cronJob(true)
	j := jobFrom(cj, time.Unix(1700000000, 0))
	if j.Name != "restore-from-production-manual-1700000000" || j.Namespace != cj.Namespace {
		t.Errorf("Job %s/%s", j.Namespace, j.Name)
	}
	if len(j.OwnerReferences) != 1 || j.OwnerReferences[0].UID != cj.UID || j.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" {
		t.Errorf("owner %+v, annotations %v", j.OwnerReferences, j.Annotations)
	}
	if j.Spec.Template.Spec.Containers[0].Image != "ghcr.io/virdx/vxplatform-backup:v1" || j.Labels["app.kubernetes.io/instance"] != "staging" {
		t.Errorf("the template was not copied: %+v", j.Spec.Template.Spec)
	}
}

func TestWaitTimesOutLoudly(t *testing.T) {
	cs := fake.NewClientset(cronJob(true))
	start := time.Now()
	res, err := Run(context.Background(), cs, "data-platform-staging", "restore-from-production", 50*time.Millisecond, time.Unix(1700000000, 0))
	if err == nil || res.Succeeded || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("res %+v, err %v: want a timeout error", res, err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the timeout took %s", time.Since(start))
	}
}
